/**
 * The keytar backend against a REAL Secret Service (gnome-keyring on a private D-Bus session).
 *
 * Run it through scripts/with-keyring.sh, which starts a throw-away session bus and keyring
 * and exports AETHER_PRIVATE_KEYRING=1. Without that marker the file refuses to run (it fails,
 * it does not skip): writing test items into a developer's own login keyring is never OK.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  KeytarSecretStore,
  openSystemSecretStore,
  type KeytarModule
} from '../../src/main/secrets/keytar-secret-store'
import { secretKeys } from '../../src/main/secrets/secret-store'
import type { AppError } from '../../src/shared/errors'

/** Why this process must not touch the keychain, or null when it runs in the private session. */
function privateKeyringProblem(env: NodeJS.ProcessEnv): string | null {
  const howTo = 'Run it as: scripts/with-keyring.sh npx vitest run --project integration tests/integration/keychain.test.ts'
  if (env.AETHER_PRIVATE_KEYRING !== '1') {
    return `Refusing to run the keychain tests: AETHER_PRIVATE_KEYRING=1 is not set, so DBUS_SESSION_BUS_ADDRESS may be your own login session and the tests would write into your real keyring. ${howTo}`
  }
  const bus = env.DBUS_SESSION_BUS_ADDRESS
  if (!bus) return `Refusing to run the keychain tests: DBUS_SESSION_BUS_ADDRESS is not set, so there is no private session bus. ${howTo}`
  // systemd's per-user bus lives in /run/user/<uid>/bus; dbus-run-session never uses it.
  if (bus.includes('/run/user/')) {
    return `Refusing to run the keychain tests: DBUS_SESSION_BUS_ADDRESS (${bus}) is the login session's bus, not a private one. ${howTo}`
  }
  return null
}

const problem = privateKeyringProblem(process.env)
if (problem) throw new Error(problem)

const REPO_ROOT = path.resolve(__dirname, '../..')
const STORE_MODULE = path.join(REPO_ROOT, 'src/main/secrets/keytar-secret-store.ts')
/** Unique per run, so a leftover from a crashed run can never be mistaken for this run's data. */
const SERVICE = `Aether Remote test ${process.pid}-${randomUUID()}`

async function realKeytar(): Promise<KeytarModule & { findCredentials(service: string): Promise<Array<{ account: string }>> }> {
  type Full = KeytarModule & { findCredentials(service: string): Promise<Array<{ account: string }>> }
  const mod = (await import('keytar')) as Full & { default?: Full }
  return mod.default ?? mod
}

describe('KeytarSecretStore against the real Secret Service', () => {
  const store = new KeytarSecretStore({ service: SERVICE })
  const target = `profile-${randomUUID()}`

  afterAll(async () => {
    const keytar = await realKeytar()
    for (const { account } of await keytar.findCredentials(SERVICE)) await keytar.deletePassword(SERVICE, account)
  })

  it('sets, gets, overwrites and deletes', async () => {
    const key = secretKeys.gatewayToken(target)
    expect(await store.get(key)).toBeNull()
    await store.set(key, 'first-token-value')
    expect(await store.get(key)).toBe('first-token-value')
    await store.set(key, 'second-token-value')
    expect(await store.get(key)).toBe('second-token-value')
    expect(await store.delete(key)).toBe(true)
    expect(await store.get(key)).toBeNull()
    expect(await store.delete(key)).toBe(false)
  })

  it('stores the items under the test service with the key as account', async () => {
    const key = secretKeys.cfClientSecret(target)
    await store.set(key, 'cf-secret')
    const keytar = await realKeytar()
    expect(await keytar.getPassword(SERVICE, key)).toBe('cf-secret')
    expect((await keytar.findCredentials(SERVICE)).map((c) => c.account)).toContain(key)
    await store.delete(key)
  })

  it('keeps every key of a target separate', async () => {
    const keys = [
      secretKeys.gatewayToken(target),
      secretKeys.cfClientSecret(target),
      secretKeys.cfAppToken(target),
      secretKeys.cfBinding(target),
      secretKeys.deviceToken(target),
      secretKeys.deviceIdentity()
    ]
    for (const [i, key] of keys.entries()) await store.set(key, `value-${i}`)
    for (const [i, key] of keys.entries()) expect(await store.get(key)).toBe(`value-${i}`)
    for (const key of keys) expect(await store.delete(key)).toBe(true)
  })

  it('round-trips unicode values and unicode target ids exactly', async () => {
    const values = ['pässwörd', '密码-パスワード-비밀번호', 'emoji 🔑🗝️👩🏽‍💻', 'שלום-مرحبا', 'e\u0301 vs é', 'tab\tand\nnewline', ' leading and trailing ']
    const key = secretKeys.gatewayToken(`url:wss://bücher.example/🔑`)
    for (const value of values) {
      await store.set(key, value)
      expect(await store.get(key)).toBe(value)
    }
    expect(await store.delete(key)).toBe(true)
  })

  it('round-trips a 4 KB value', async () => {
    const key = secretKeys.cfAppToken(target)
    const ascii = Array.from({ length: 4096 }, (_, i) => String.fromCharCode(33 + (i % 94))).join('')
    await store.set(key, ascii)
    expect(await store.get(key)).toBe(ascii)
    const multibyte = 'ü🔑'.repeat(700) // 4200 UTF-8 bytes
    await store.set(key, multibyte)
    expect(await store.get(key)).toBe(multibyte)
    expect(await store.delete(key)).toBe(true)
  })

  it('does not see items of another service name', async () => {
    const other = new KeytarSecretStore({ service: `${SERVICE} (other)` })
    const key = secretKeys.deviceToken(target)
    await store.set(key, 'mine')
    expect(await other.get(key)).toBeNull()
    expect(await store.get(key)).toBe('mine')
    await store.delete(key)
  })

  it('refuses an empty value with INVALID_INPUT', async () => {
    await expect(store.set(secretKeys.gatewayToken(target), '')).rejects.toMatchObject({
      appError: { code: 'INVALID_INPUT' }
    })
  })

  it('openSystemSecretStore picks the keychain here and leaves no probe item behind', async () => {
    const opened = await openSystemSecretStore({ service: SERVICE })
    expect(opened.kind).toBe('keychain')
    const keytar = await realKeytar()
    expect((await keytar.findCredentials(SERVICE)).map((c) => c.account)).not.toContain('__aether_remote_probe__')
  })
})

/**
 * openSystemSecretStore in a separate Node process with the given environment.
 *
 * A child process is needed because keytar (libsecret) caches its D-Bus connection for the
 * life of the process, so this process cannot be "moved" to a broken bus.
 */
function openInChild(env: NodeJS.ProcessEnv, wrap: string[] = []): Promise<{ kind: string; warning?: AppError }> {
  const script = [
    `const ns = await import(${JSON.stringify(STORE_MODULE)});`,
    'const m = ns.openSystemSecretStore ? ns : ns.default;',
    `const r = await m.openSystemSecretStore({ service: ${JSON.stringify(SERVICE)}, probeTimeoutMs: 20000 });`,
    'process.stdout.write(JSON.stringify({ kind: r.kind, warning: r.warning }));'
  ].join('\n')
  const argv = [...wrap, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script]
  const [cmd, ...args] = argv as [string, ...string[]]
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: REPO_ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`child failed: ${err.message}\n${stderr}`))
      try {
        resolve(JSON.parse(stdout) as { kind: string; warning?: AppError })
      } catch {
        reject(new Error(`child printed no JSON:\n${stdout}\n${stderr}`))
      }
    })
  })
}

describe('openSystemSecretStore falls back to memory when there is no usable keychain', () => {
  let scratch: string
  /** The environment without any bus or keyring, with HOME and XDG dirs in a scratch folder. */
  let isolatedEnv: NodeJS.ProcessEnv

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'aether-keychain-child-'))
    isolatedEnv = { ...process.env }
    for (const name of ['DBUS_SESSION_BUS_ADDRESS', 'GNOME_KEYRING_CONTROL', 'DISPLAY', 'WAYLAND_DISPLAY', 'AETHER_PRIVATE_KEYRING']) {
      delete isolatedEnv[name]
    }
    // A keyring daemon auto-started by these children must not find any real keyring or daemon.
    Object.assign(isolatedEnv, {
      HOME: scratch,
      XDG_DATA_HOME: path.join(scratch, 'data'),
      XDG_RUNTIME_DIR: scratch,
      XDG_CONFIG_HOME: path.join(scratch, 'config')
    })
  })

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true })
  })

  it('with DBUS_SESSION_BUS_ADDRESS pointing at a socket that does not exist', async () => {
    const r = await openInChild({ ...isolatedEnv, DBUS_SESSION_BUS_ADDRESS: `unix:path=${path.join(scratch, 'no-such-bus')}` })
    expect(r.kind).toBe('memory')
    expect(r.warning?.code).toBe('KEYCHAIN_UNAVAILABLE')
    expect(r.warning?.details.check).toBe('no-session-bus')
    expect(r.warning?.message).toMatch(/D-Bus session bus/)
    expect(r.warning?.message).toMatch(/kept in memory/)
  })

  it('with no session bus at all', async () => {
    const r = await openInChild(isolatedEnv)
    expect(r.kind).toBe('memory')
    expect(r.warning?.details.check).toBe('no-session-bus')
  })

  it('with a session bus that has no Secret Service provider', async () => {
    // A bus configuration without service directories: nothing can provide org.freedesktop.secrets.
    // The policy is the stock session.conf one; without the eavesdrop rule replies are dropped.
    const config = path.join(scratch, 'no-services.conf')
    await writeFile(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=${scratch}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
    )
    const r = await openInChild(isolatedEnv, ['dbus-run-session', `--config-file=${config}`, '--'])
    expect(r.kind).toBe('memory')
    expect(r.warning?.details.check).toBe('no-secret-service')
    expect(r.warning?.message).toMatch(/^No Secret Service is running: install and unlock GNOME Keyring or KWallet/)
  })

  it('with gnome-keyring available but no unlocked login keyring (reads work, writes fail)', async () => {
    const r = await openInChild(isolatedEnv, ['dbus-run-session', '--'])
    expect(r.kind).toBe('memory')
    expect(r.warning?.details.check).toBe('locked')
    expect(r.warning?.message).toMatch(/locked/)
  })
})
