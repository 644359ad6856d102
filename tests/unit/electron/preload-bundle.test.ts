/**
 * The preload as it really ships: built with the project's electron-vite config, then run the
 * way a sandboxed renderer runs it, where `require` knows only `electron` and a few Node
 * polyfills (electron-vite "Limitations of Sandboxing"; Electron's sandbox docs). A bundle that
 * requires anything else (a dependency left external, a Node built-in) throws there, and the page
 * ends up without `window.api`.
 */
import path from 'node:path'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from 'electron-vite'
import { build, type Rollup } from 'vite'

/** What `require` offers inside a sandboxed preload. */
const SANDBOX_MODULES = new Set(['electron', 'events', 'timers', 'url'])

async function buildPreload(): Promise<string> {
  const resolved = await resolveConfig({ root: path.resolve(__dirname, '../../..'), logLevel: 'silent' }, 'build', 'production')
  const preload = resolved.config?.preload
  if (!preload) throw new Error('electron.vite.config.ts has no preload build')
  const output = (await build({ ...preload, logLevel: 'silent', build: { ...preload.build, write: false } })) as
    | Rollup.RollupOutput
    | Rollup.RollupOutput[]
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => o.output)
  const entries = chunks.filter((c): c is Rollup.OutputChunk => c.type === 'chunk')
  expect(entries.map((c) => c.fileName)).toEqual(['index.js'])
  return entries[0]!.code
}

describe('preload bundle', () => {
  it('is one CJS file that runs with only the sandbox require and exposes window.api', { timeout: 60_000 }, async () => {
    const code = await buildPreload()
    const required: string[] = []
    const exposed = new Map<string, unknown>()
    const electronStandIn = {
      contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.set(key, value) },
      ipcRenderer: { invoke: async () => undefined, on: () => undefined, removeListener: () => undefined }
    }
    const sandboxRequire = (id: string): unknown => {
      required.push(id)
      if (!SANDBOX_MODULES.has(id)) throw new Error(`module not found: ${id}`)
      if (id === 'electron') return electronStandIn
      return {}
    }
    const module = { exports: {} }
    const wrapper = vm.runInNewContext(`(function (exports, require, module, __filename, __dirname) {\n${code}\n})`, {
      URL,
      console
    }) as (...args: unknown[]) => void
    expect(() => wrapper(module.exports, sandboxRequire, module, '/preload/index.js', '/preload')).not.toThrow()
    expect(required.filter((id) => !SANDBOX_MODULES.has(id))).toEqual([])
    expect([...exposed.keys()]).toEqual(['api'])
    expect(Object.keys(exposed.get('api') as object).sort()).toEqual(['access', 'app', 'connection', 'doctor', 'profiles', 'secrets', 'session', 'shell'])
  })
})
