/** Running CLI commands in-process against a temporary config dir, with captured output. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { createCliContext, type CliContext, type OpenedStore } from '../../../src/cli/context'
import { createOutput } from '../../../src/cli/output'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { appError } from '../../../src/shared/errors'

export interface Harness {
  ctx: CliContext
  configDir: string
  store: MemorySecretStore
  stdout(): string
  stderr(): string
  lines(): Record<string, unknown>[]
}

/** A keychain-less machine, as openSystemSecretStore reports it on headless Linux. */
export const noKeychain = (store = new MemorySecretStore()): (() => Promise<OpenedStore>) => async () => ({
  kind: 'memory',
  store,
  warning: appError('KEYCHAIN_UNAVAILABLE', 'Secrets will not be saved', 'No D-Bus session bus was found (a very long explanation follows).', {
    details: { check: 'no-session-bus' }
  })
})

export function harness(opts: { json?: boolean; env?: NodeJS.ProcessEnv; keychain?: boolean; configDir?: string } = {}): Harness {
  const configDir = opts.configDir ?? mkdtempSync(join(tmpdir(), 'aether-cli-unit-'))
  const store = new MemorySecretStore()
  const out = new PassThrough()
  const err = new PassThrough()
  let stdout = ''
  let stderr = ''
  out.on('data', (c: Buffer) => (stdout += c.toString()))
  err.on('data', (c: Buffer) => (stderr += c.toString()))
  const env: NodeJS.ProcessEnv = { AETHER_CONFIG_DIR: configDir, ...opts.env }
  const output = createOutput({ json: opts.json ?? false, secrets: [env.AETHER_GATEWAY_TOKEN, env.AETHER_CF_CLIENT_SECRET, env.AETHER_CF_APP_TOKEN], stdout: out, stderr: err })
  const openStore: () => Promise<OpenedStore> = opts.keychain === false ? noKeychain(store) : async () => ({ kind: 'keychain', store })
  const ctx = createCliContext(output, env, { openStore })
  return {
    ctx,
    configDir,
    store,
    stdout: () => stdout,
    stderr: () => stderr,
    lines: () =>
      stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
  }
}

export function profilesFile(configDir: string): string {
  return join(configDir, 'profiles.json')
}
