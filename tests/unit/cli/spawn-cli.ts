/**
 * The real CLI as a child process (`node --import tsx src/cli/main.ts ...`), with the child at
 * hand so a test can send it signals or close its pipes. No keychain: the session bus points
 * nowhere, so the CLI runs on its memory store like on a headless machine.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const REPO = join(__dirname, '../../..')

export interface Spawned {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves once stdout or stderr contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>
}

export function spawnCli(args: string[], opts: { env?: Record<string, string>; stdio?: StdioOptions } = {}): Spawned {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AETHER_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'aether-cli-spawn-')),
    AETHER_KEYCHAIN_SERVICE: `aether-unit-${randomUUID()}`,
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/aether-unit-bus',
    AETHER_GATEWAY_TOKEN: '',
    AETHER_CF_CLIENT_ID: '',
    AETHER_CF_CLIENT_SECRET: '',
    AETHER_CF_APP_TOKEN: '',
    ...opts.env
  }
  for (const k of Object.keys(env)) if (env[k] === '') delete env[k]
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], {
    cwd: REPO,
    env,
    stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  const waiters: { test: string | RegExp; resolve: () => void }[] = []
  const check = () => {
    for (const w of [...waiters]) {
      const all = out + err
      if (typeof w.test === 'string' ? all.includes(w.test) : w.test.test(all)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString()
    check()
  })
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString()
    check()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() }))
  )
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(test, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(test)}\nstdout: ${out}\nstderr: ${err}`)), timeoutMs)
        waiters.push({
          test,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          }
        })
        check()
      })
    },
    exited
  }
}
