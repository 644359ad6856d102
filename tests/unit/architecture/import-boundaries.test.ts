import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

// The lint rules that keep process boundaries: the engine and shared code never import Electron,
// and shared code (imported by the renderer) imports no Node built-ins either.
const eslint = new ESLint({ cwd: process.cwd() })

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('import boundaries', () => {
  it.each(['src/main/gateway/x.ts', 'src/main/cf-access/x.ts', 'src/cli/x.ts', 'src/shared/x.ts'])('%s may not import electron', async (file) => {
    expect(await problems(file, "import { app } from 'electron'\nexport const a = app\n")).not.toHaveLength(0)
  })
  it('shared code may not import Node built-ins', async () => {
    expect(await problems('src/shared/x.ts', "import fs from 'node:fs'\nexport const a = fs\n")).not.toHaveLength(0)
  })
  it('the Electron glue may', async () => {
    expect(await problems('src/main/electron/x.ts', "import { app } from 'electron'\nexport const a = app\n")).toHaveLength(0)
  })
})
