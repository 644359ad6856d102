import { describe, expect, it } from 'vitest'
import { SecretStoreError, secretHint, secretKeys, urlTargetId } from '../../../src/main/secrets/secret-store'
import { appError } from '../../../src/shared/errors'

describe('secretKeys', () => {
  const id = '3f2a6c1e-0000-4000-8000-000000000001'

  it('builds one distinct key per secret kind', () => {
    const keys = [
      secretKeys.gatewayToken(id),
      secretKeys.cfClientSecret(id),
      secretKeys.cfAppToken(id),
      secretKeys.cfBinding(id),
      secretKeys.deviceToken(id),
      secretKeys.deviceIdentity()
    ]
    expect(keys).toEqual([
      `gateway:${id}:token`,
      `cf:${id}:client-secret`,
      `cf:${id}:app-token`,
      `cf:${id}:binding`,
      `device:${id}:token`,
      'device:identity'
    ])
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('keeps targets apart', () => {
    expect(secretKeys.gatewayToken('a')).not.toBe(secretKeys.gatewayToken('b'))
  })

  it('accepts url: targets for ad-hoc connections', () => {
    expect(secretKeys.gatewayToken('url:wss://gw.example.com')).toBe('gateway:url:wss://gw.example.com:token')
  })

  it('rejects empty, padded or control-character target ids', () => {
    expect(() => secretKeys.gatewayToken('')).toThrow(TypeError)
    expect(() => secretKeys.gatewayToken('   ')).toThrow(TypeError)
    expect(() => secretKeys.cfAppToken(' id')).toThrow(TypeError)
    expect(() => secretKeys.deviceToken('a\nb')).toThrow(TypeError)
  })

  it('has a single installation-wide device identity', () => {
    expect(secretKeys.deviceIdentity()).toBe(secretKeys.deviceIdentity())
  })
})

describe('urlTargetId', () => {
  it('normalizes case, default port and trailing slash so equivalent URLs share secrets', () => {
    expect(urlTargetId('wss://GW.Example.com/')).toBe('url:wss://gw.example.com')
    expect(urlTargetId('wss://gw.example.com:443')).toBe('url:wss://gw.example.com')
    expect(urlTargetId('  wss://gw.example.com  ')).toBe('url:wss://gw.example.com')
    expect(urlTargetId('ws://127.0.0.1:18789/ws/')).toBe('url:ws://127.0.0.1:18789/ws')
  })

  it('keeps non-default ports, paths and queries apart', () => {
    expect(urlTargetId('wss://gw.example.com:8443')).toBe('url:wss://gw.example.com:8443')
    expect(urlTargetId('wss://gw.example.com/a?x=1')).toBe('url:wss://gw.example.com/a?x=1')
  })

  it('drops user info and fragments, so a password in a URL never names a keychain item', () => {
    const id = urlTargetId('wss://alice:hunter2hunter2@gw.example.com/#frag')
    expect(id).toBe('url:wss://gw.example.com')
    expect(id).not.toContain('hunter2')
  })

  it('throws TypeError for a non-URL', () => {
    expect(() => urlTargetId('not a url')).toThrow(TypeError)
  })
})

describe('secretHint', () => {
  it('says "not set" for nothing', () => {
    expect(secretHint(null)).toBe('not set')
    expect(secretHint(undefined)).toBe('not set')
    expect(secretHint('')).toBe('not set')
  })

  it('gives no characters for values shorter than 12', () => {
    expect(secretHint('a')).toBe('set')
    expect(secretHint('abcdefghijk')).toBe('set') // 11
  })

  it('shows exactly the last four characters from 12 on', () => {
    expect(secretHint('abcdefghijkl')).toBe('set, ends in …ijkl')
    expect(secretHint('x'.repeat(200) + 'WXYZ')).toBe('set, ends in …WXYZ')
  })

  it('never shows more than four characters', () => {
    for (const len of [12, 13, 20, 64, 4096]) {
      const value = 'k'.repeat(len)
      const shown = secretHint(value).split('…')[1] ?? ''
      expect(Array.from(shown).length).toBeLessThanOrEqual(4)
    }
  })

  it('counts code points, so emoji are neither split nor over-counted', () => {
    expect(secretHint('🔑'.repeat(11))).toBe('set')
    const hint = secretHint('0123456789' + 'ab🔑c')
    expect(hint).toBe('set, ends in …ab🔑c')
  })
})

describe('SecretStoreError', () => {
  it('carries the AppError and uses its message', () => {
    const e = new SecretStoreError(appError('KEYCHAIN_UNAVAILABLE', 't', 'm'))
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('SecretStoreError')
    expect(e.message).toBe('m')
    expect(e.appError.code).toBe('KEYCHAIN_UNAVAILABLE')
  })
})
