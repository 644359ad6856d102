import { describe, expect, it } from 'vitest'
import { targetFromProfile, targetFromUrl } from '../../../src/main/gateway/connect-target'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { secretKeys } from '../../../src/main/secrets/secret-store'
import type { GatewayProfile } from '../../../src/shared/profile'

const ID = '0123456789abcdef0123456789abcdef.access'
const SECRET = 'a'.repeat(64)

const profile = (over: Partial<GatewayProfile> = {}): GatewayProfile => ({
  id: 'p-1',
  name: 'Edge',
  url: 'wss://gw.example.com',
  sessionKey: 'agent:main:desk',
  access: { mode: 'none' },
  options: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over
})

describe('ad-hoc targets', () => {
  it('trims pasted tokens and says so', () => {
    const r = targetFromUrl('https://gw.example.com', { gatewayToken: ' tok-123 \n', cfClientId: ` ${ID}`, cfClientSecret: `${SECRET}\n` })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value.target).toMatchObject({ gatewayToken: 'tok-123', access: { kind: 'service-token', clientId: ID, clientSecret: SECRET }, connectTimeoutMs: 15_000 })
    expect(r.value.target.url.href).toBe('wss://gw.example.com/')
    expect(r.value.target.targetId).toBe('url:wss://gw.example.com')
    expect(r.value.warnings.join(' ')).toMatch(/changed to wss|Whitespace|Removed spaces/)
    expect(r.value.sessionKey).toBe('agent:main:main')
  })
  it('warns about a gateway token with a space, line break or invisible character inside, and sends it as entered', () => {
    for (const [token, said] of [
      ['abc def', /space inside it/],
      ['abc\ndef', /line break inside it/],
      ['abc\u200bdef', /invisible character/],
      ['abc\u202fdef', /space inside it/],
      ['abc\u3000def', /space inside it/],
      ['abc\u2028def', /line break inside it/],
      ['abc\u0085def', /line break inside it/],
      ['abc\u2066def', /invisible character/],
      ['abc\ufe0fdef', /invisible character/],
      ['abc\u3164def', /invisible character/],
      ['abc\u009bdef', /invisible character/]
    ] as const) {
      const r = targetFromUrl('wss://gw.example.com', { gatewayToken: token })
      expect(r.ok).toBe(true)
      if (!r.ok) continue
      expect(r.value.target.gatewayToken).toBe(token)
      expect(r.value.warnings.join(' ')).toMatch(said)
      expect(r.value.warnings.join(' ')).not.toContain('def')
    }
    const plain = targetFromUrl('wss://gw.example.com', { gatewayToken: 'abcdef' })
    expect(plain.ok && plain.value.warnings).toEqual([])
  })

  it('flags a Client ID without .access but still tries it', () => {
    const r = targetFromUrl('wss://gw.example.com', { cfClientId: '0123456789abcdef0123456789abcdef', cfClientSecret: SECRET })
    expect(r.ok && r.value.warnings.join(' ')).toMatch(/\.access/)
  })
  it('refuses half a service token and two kinds of credentials', () => {
    const half = targetFromUrl('wss://gw.example.com', { cfClientId: ID })
    expect(!half.ok && half.error.message).toMatch(/AETHER_CF_CLIENT_SECRET is not set/)
    const both = targetFromUrl('wss://gw.example.com', { cfClientId: ID, cfClientSecret: SECRET, cfAppToken: 'x.y.z' })
    expect(!both.ok && both.error.code).toBe('INVALID_INPUT')
  })
  it('strips a pasted CF_Authorization= prefix from an app token', () => {
    const r = targetFromUrl('wss://gw.example.com', { cfAppToken: 'CF_Authorization=aaa.bbb.ccc; Path=/' })
    expect(r.ok && r.value.target.access).toEqual({ kind: 'app-token', token: 'aaa.bbb.ccc' })
  })
  it('refuses a bad URL before anything else', () => {
    const r = targetFromUrl('gw.example.com', {})
    expect(!r.ok && r.error.code).toBe('INVALID_URL')
  })
})

describe('profile targets', () => {
  it('reads the secrets from the store; environment values win', async () => {
    const store = new MemorySecretStore()
    await store.set(secretKeys.gatewayToken('p-1'), 'stored-token')
    await store.set(secretKeys.cfClientSecret('p-1'), SECRET)
    const p = profile({ access: { mode: 'service-token', clientId: ID } })
    const r = await targetFromProfile(p, store)
    expect(r.ok && r.value.target).toMatchObject({ targetId: 'p-1', gatewayToken: 'stored-token', access: { kind: 'service-token', clientSecret: SECRET } })
    expect(r.ok && r.value.sessionKey).toBe('agent:main:desk')
    const env = await targetFromProfile(p, store, { gatewayToken: 'env-token' })
    expect(env.ok && env.value.target.gatewayToken).toBe('env-token')
  })
  it('a service-token profile without its secret asks for it', async () => {
    const r = await targetFromProfile(profile({ access: { mode: 'service-token', clientId: ID } }), new MemorySecretStore())
    expect(!r.ok && r.error).toMatchObject({ code: 'ACCESS_LOGIN_REQUIRED', nextSteps: [{ action: 'add-service-token' }] })
  })
  it('an email sign-in profile without a current token asks to sign in', async () => {
    const r = await targetFromProfile(profile({ access: { mode: 'email-otp' } }), new MemorySecretStore())
    expect(!r.ok && r.error.nextSteps[0]!.action).toBe('sign-in-email')
  })
  it('an email sign-in profile sends its app token, the binding cookie, and pins the AUD', async () => {
    const store = new MemorySecretStore()
    await store.set(secretKeys.cfAppToken('p-1'), 'aaa.bbb.ccc')
    await store.set(secretKeys.cfBinding('p-1'), 'bind-value')
    const aud = 'b'.repeat(64)
    const r = await targetFromProfile(profile({ access: { mode: 'email-otp', aud }, options: { caFile: '/tmp/ca.pem', connectTimeoutMs: 5000 } }), store)
    expect(r.ok && r.value.target).toMatchObject({ access: { kind: 'app-token', token: 'aaa.bbb.ccc', binding: 'bind-value' }, expectedAud: aud, caFile: '/tmp/ca.pem', connectTimeoutMs: 5000 })
  })
})

describe('Access credentials are never sent in clear text', () => {
  it.each([
    ['a service token', { cfClientId: ID, cfClientSecret: SECRET }],
    ['an app token', { cfAppToken: 'aaa.bbb.ccc' }]
  ])('%s over ws:// to a remote host is refused before dialling (exit 2)', (_what, supplied) => {
    for (const url of ['ws://gw.example.com', 'http://gw.example.com:8080', 'ws://10.0.0.5:18789']) {
      const r = targetFromUrl(url, supplied)
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.error.code).toBe('INVALID_INPUT')
        expect(r.error.message).toMatch(/need wss:\/\//)
      }
    }
  })
  it('over ws:// to loopback, or over wss://, is fine', () => {
    for (const url of ['ws://127.0.0.1:18789', 'ws://localhost:18789', 'ws://[::1]:18789', 'wss://gw.example.com']) {
      expect(targetFromUrl(url, { cfClientId: ID, cfClientSecret: SECRET }).ok).toBe(true)
    }
  })
  it('ws:// to a remote host without Access credentials is still allowed (a LAN gateway)', () => {
    expect(targetFromUrl('ws://192.168.1.20:18789', { gatewayToken: 'tok' }).ok).toBe(true)
  })
  it('a profile with Access credentials on a ws:// address is refused too', async () => {
    const store = new MemorySecretStore()
    await store.set(secretKeys.cfClientSecret('p-1'), SECRET)
    await store.set(secretKeys.cfAppToken('p-1'), 'aaa.bbb.ccc')
    const st = await targetFromProfile(profile({ url: 'ws://gw.example.com', access: { mode: 'service-token', clientId: ID } }), store)
    expect(!st.ok && st.error.code).toBe('INVALID_INPUT')
    const app = await targetFromProfile(profile({ url: 'ws://gw.example.com', access: { mode: 'email-otp' } }), store)
    expect(!app.ok && app.error.message).toMatch(/Cloudflare Access app token .* need wss:\/\//)
    const none = await targetFromProfile(profile({ url: 'ws://gw.example.com' }), store)
    expect(none.ok).toBe(true)
  })
})

describe('app tokens with characters no token has', () => {
  it.each([
    ['a newline inside', 'aaa.bbb\nccc.ddd'],
    ['a tab inside', 'aaa.bbb\t.ccc'],
    ['a space inside', 'aaa.bbb ccc'],
    ['a non-JWT character', 'aaa.b{b}b.ccc']
  ])('%s is INVALID_INPUT before dialling', (_what, token) => {
    const r = targetFromUrl('wss://gw.example.com', { cfAppToken: token })
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('INVALID_INPUT')
      expect(r.error.message).toContain('contains characters a token cannot have')
      expect(r.error.message).not.toContain(token)
    }
  })
  it('the same check applies to a stored token', async () => {
    const store = new MemorySecretStore()
    await store.set(secretKeys.cfAppToken('p-1'), 'aaa.bbb\r\nccc')
    const r = await targetFromProfile(profile({ access: { mode: 'email-otp' } }), store)
    expect(!r.ok && r.error.code).toBe('INVALID_INPUT')
  })
  it('surrounding whitespace and the cookie prefix are still just trimmed', () => {
    const r = targetFromUrl('wss://gw.example.com', { cfAppToken: '  CF_Authorization=aaa.bbb.ccc\n' })
    expect(r.ok && r.value.target.access).toEqual({ kind: 'app-token', token: 'aaa.bbb.ccc' })
  })
})
