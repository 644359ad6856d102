/**
 * Run the real CLI (`src/cli/main.ts` under tsx) as a child process, the way an operator runs
 * `npm run cli -- ...`, with the test host names mapped to the Access emulator.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { nodeOptionsWithTestHosts } from './hosts'

const REPO = join(__dirname, '../..')

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON lines (only lines that parse). */
  lines: Record<string, unknown>[]
  ms: number
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  /** Called with each JSON line as it arrives (for --json runs that need a reaction, e.g. approval). */
  onLine?: (line: Record<string, unknown>) => void
  timeoutMs?: number
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: nodeOptionsWithTestHosts(''), ...opts.env }
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k]
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    let pending = ''
    const lines: Record<string, unknown>[] = []
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      pending += chunk.toString()
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>
          lines.push(parsed)
          opts.onLine?.(parsed)
        } catch {
          // human output
        }
      }
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`CLI did not exit within ${opts.timeoutMs ?? 120_000} ms: ${args.join(' ')}\n${stderr}`))
    }, opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, lines, ms: Date.now() - t0 })
    })
  })
}
