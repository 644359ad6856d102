import { describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_KEYCHAIN_SERVICE,
  KeytarSecretStore,
  describeKeychainFailure,
  openSystemSecretStore,
  type KeytarModule
} from '../../../src/main/secrets/keytar-secret-store'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { SecretStoreError, secretKeys } from '../../../src/main/secrets/secret-store'

/** A keytar stand-in backed by a Map, recording calls; `failWith` makes every call reject. */
function fakeKeytar(failWith?: string) {
  const items = new Map<string, string>()
  const calls: string[] = []
  const maybeFail = () => {
    if (failWith !== undefined) throw new Error(failWith)
  }
  const mod: KeytarModule = {
    getPassword: vi.fn(async (service: string, account: string) => {
      calls.push(`get ${service} ${account}`)
      maybeFail()
      return items.get(`${service}\n${account}`) ?? null
    }),
    setPassword: vi.fn(async (service: string, account: string, password: string) => {
      calls.push(`set ${service} ${account}`)
      maybeFail()
      items.set(`${service}\n${account}`, password)
    }),
    deletePassword: vi.fn(async (service: string, account: string) => {
      calls.push(`delete ${service} ${account}`)
      maybeFail()
      return items.delete(`${service}\n${account}`)
    })
  }
  return { mod, items, calls }
}

const key = secretKeys.gatewayToken('p1')
const SECRET = 'super-secret-gateway-token-0123456789'

async function thrown(p: Promise<unknown>): Promise<SecretStoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(SecretStoreError)
  return err as SecretStoreError
}

describe('KeytarSecretStore', () => {
  it('does not load keytar until a secret is used', async () => {
    const { mod } = fakeKeytar()
    const load = vi.fn(async () => mod)
    const store = new KeytarSecretStore({ loadKeytar: load })
    expect(load).not.toHaveBeenCalled()
    await store.get(key)
    await store.get(key)
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('uses the service name "Aether Remote" and the key as the account', async () => {
    const { mod, calls } = fakeKeytar()
    const store = new KeytarSecretStore({ loadKeytar: async () => mod })
    expect(store.service).toBe(DEFAULT_KEYCHAIN_SERVICE)
    await store.set(key, SECRET)
    expect(calls).toEqual([`set Aether Remote ${key}`])
  })

  it('round-trips through keytar under a custom service name', async () => {
    const { mod, items } = fakeKeytar()
    const store = new KeytarSecretStore({ service: 'test-service', loadKeytar: async () => mod })
    await store.set(key, SECRET)
    expect(items.get(`test-service\n${key}`)).toBe(SECRET)
    expect(await store.get(key)).toBe(SECRET)
    expect(await store.delete(key)).toBe(true)
    expect(await store.get(key)).toBeNull()
  })

  it('refuses an empty value before calling keytar', async () => {
    const { mod, calls } = fakeKeytar()
    const err = await thrown(new KeytarSecretStore({ loadKeytar: async () => mod }).set(key, ''))
    expect(err.appError.code).toBe('INVALID_INPUT')
    expect(calls).toEqual([])
  })

  it('refuses values over the Windows Credential Manager limit with a clear message', async () => {
    const { mod, calls } = fakeKeytar()
    const store = new KeytarSecretStore({ platform: 'win32', loadKeytar: async () => mod })
    const err = await thrown(store.set(key, 'x'.repeat(2561)))
    expect(err.appError.code).toBe('KEYCHAIN_UNAVAILABLE')
    expect(err.appError.message).toMatch(/2560 bytes/)
    expect(calls).toEqual([])
    await store.set(key, 'x'.repeat(2560))
  })

  it('turns a module that cannot load into KEYCHAIN_UNAVAILABLE naming libsecret', async () => {
    const loadErr = Object.assign(new Error('libsecret-1.so.0: cannot open shared object file: No such file or directory'), {
      code: 'ERR_DLOPEN_FAILED'
    })
    const store = new KeytarSecretStore({ platform: 'linux', loadKeytar: async () => Promise.reject(loadErr) })
    const err = await thrown(store.get(key))
    expect(err.appError.code).toBe('KEYCHAIN_UNAVAILABLE')
    expect(err.appError.details.check).toBe('native-module')
    expect(err.appError.message).toMatch(/libsecret/)
  })

  it('never puts the secret value into the error, even if the backend echoes it', async () => {
    const { mod } = fakeKeytar(`Secret Service exploded while storing ${SECRET}`)
    const err = await thrown(new KeytarSecretStore({ platform: 'linux', loadKeytar: async () => mod }).set(key, SECRET))
    expect(JSON.stringify(err.appError)).not.toContain(SECRET)
    expect(err.message).not.toContain(SECRET)
    expect(String(err.stack)).not.toContain(SECRET)
    expect(err.appError.details.notes?.[0]).toContain('[HIDDEN]')
  })
})

describe('describeKeychainFailure', () => {
  // The Linux texts are the exact ones measured with keytar 7.9.0 (docs/toolchain.md).
  const cases: Array<[NodeJS.Platform, string, string, RegExp]> = [
    ['linux', 'Cannot autolaunch D-Bus without X11 $DISPLAY', 'no-session-bus', /D-Bus session bus/],
    ['linux', 'Could not connect: No such file or directory', 'no-session-bus', /DBUS_SESSION_BUS_ADDRESS/],
    [
      'linux',
      'The name org.freedesktop.secrets was not provided by any .service files',
      'no-secret-service',
      /^No Secret Service is running: install and unlock GNOME Keyring or KWallet/
    ],
    ['linux', 'Object does not exist at path “/org/freedesktop/secrets/collection/login”', 'locked', /locked/],
    ['linux', 'Cannot create an item in a locked collection', 'locked', /unlock/],
    ['darwin', 'User interaction is not allowed.', 'locked', /security unlock-keychain/],
    ['darwin', 'The user name or passphrase you entered is not correct.', 'access-denied', /Allow/],
    ['darwin', 'A default keychain could not be found.', 'no-default-keychain', /default keychain/],
    ['win32', 'Stub received bad data.', 'value-too-large', /2560 bytes/],
    ['win32', 'Something odd', 'unknown', /Windows Credential Manager failed \(Something odd\)/],
    ['linux', 'Something odd', 'unknown', /system keychain failed \(Something odd\)/]
  ]

  it.each(cases)('%s: %s → %s', (platform, text, cause, message) => {
    const e = describeKeychainFailure(new Error(text), { platform })
    expect(e.code).toBe('KEYCHAIN_UNAVAILABLE')
    expect(e.category).toBe('internal')
    expect(e.details.check).toBe(cause)
    expect(e.message).toMatch(message)
    expect(e.nextSteps.length).toBeGreaterThan(0)
    expect(e.details.notes).toEqual([`keychain said: ${text}`])
  })

  it('copes with non-Error values and shortens long messages', () => {
    expect(describeKeychainFailure('boom', { platform: 'linux' }).details.notes).toEqual(['keychain said: boom'])
    expect(describeKeychainFailure(undefined, { platform: 'linux' }).details.check).toBe('unknown')
    const long = describeKeychainFailure(new Error('y'.repeat(1000)), { platform: 'linux' })
    expect(long.details.notes?.[0]?.length).toBeLessThan(300)
  })
})

describe('openSystemSecretStore', () => {
  it('returns the keychain when the probe round trip works, and leaves no probe item', async () => {
    const { mod, items, calls } = fakeKeytar()
    const result = await openSystemSecretStore({ service: 's', loadKeytar: async () => mod })
    expect(result.kind).toBe('keychain')
    expect(result.store).toBeInstanceOf(KeytarSecretStore)
    expect(items.size).toBe(0)
    // A write is part of the probe: reads alone succeed on a keyring without a login collection.
    expect(calls.some((c) => c.startsWith('set s '))).toBe(true)
  })

  it('falls back to memory with a KEYCHAIN_UNAVAILABLE warning when the keychain fails', async () => {
    const { mod } = fakeKeytar('The name org.freedesktop.secrets was not provided by any .service files')
    const result = await openSystemSecretStore({ platform: 'linux', loadKeytar: async () => mod })
    expect(result.kind).toBe('memory')
    if (result.kind !== 'memory') return
    expect(result.store).toBeInstanceOf(MemorySecretStore)
    expect(result.warning.code).toBe('KEYCHAIN_UNAVAILABLE')
    expect(result.warning.message).toMatch(/^No Secret Service is running/)
    expect(result.warning.message).toMatch(/kept in memory/)
    await result.store.set(key, 'works')
    expect(await result.store.get(key)).toBe('works')
  })

  it('falls back when only writes fail (locked keyring answers reads with "not found")', async () => {
    const { mod } = fakeKeytar()
    mod.setPassword = async () => {
      throw new Error('Object does not exist at path “/org/freedesktop/secrets/collection/login”')
    }
    const result = await openSystemSecretStore({ platform: 'linux', loadKeytar: async () => mod })
    expect(result.kind).toBe('memory')
    if (result.kind === 'memory') expect(result.warning.details.check).toBe('locked')
  })

  it('falls back when keytar cannot be loaded at all', async () => {
    const result = await openSystemSecretStore({
      platform: 'linux',
      loadKeytar: async () => Promise.reject(new Error("Cannot find module 'keytar'"))
    })
    expect(result.kind).toBe('memory')
    if (result.kind === 'memory') expect(result.warning.details.check).toBe('native-module')
  })

  it('falls back after the probe timeout when the keychain never answers', async () => {
    const { mod } = fakeKeytar()
    mod.setPassword = () => new Promise<void>(() => undefined)
    const started = Date.now()
    const result = await openSystemSecretStore({ loadKeytar: async () => mod, probeTimeoutMs: 50 })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(result.kind).toBe('memory')
    if (result.kind !== 'memory') return
    expect(result.warning.details.check).toBe('timeout')
    expect(result.warning.retryable).toBe(true)
  })

  it('falls back when the probe reads back something else', async () => {
    const { mod } = fakeKeytar()
    mod.getPassword = async () => 'not-what-was-written'
    const result = await openSystemSecretStore({ loadKeytar: async () => mod })
    expect(result.kind).toBe('memory')
  })
})
