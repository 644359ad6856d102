import { describe, expect, it, beforeAll } from 'vitest'
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { hasOnlyTokenCharacters, inspectAppToken, normaliseAppToken } from '../../../src/main/cf-access/app-token'

const AUD = '4f'.repeat(32)
const OTHER_AUD = '9e'.repeat(32)
const NOW_MS = Date.UTC(2026, 5, 1, 12, 0, 0)
const NOW = NOW_MS / 1000
const EMAIL = 'operator@example.com'

let key: CryptoKey

beforeAll(async () => {
  key = (await generateKeyPair('RS256')).privateKey
})

/** An Access-shaped app token (header kid, RS256), with claims overridable. */
async function appToken(claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({
    aud: [AUD],
    email: EMAIL,
    exp: NOW + 24 * 3600,
    iat: NOW - 60,
    nbf: NOW - 60,
    iss: 'https://example-team.cloudflareaccess.com',
    type: 'app',
    identity_nonce: 'n0nce',
    sub: '7335d417-61da-459d-899c-0a01c76a2bd3',
    country: 'DE',
    ...claims
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'ab'.repeat(32), typ: 'JWT' })
    .sign(key)
}

/** Assert the serialized error holds no part of the token and none of its claims. */
function expectNoTokenIn(error: unknown, token: string): void {
  const text = JSON.stringify(error)
  for (const part of token.split('.')) if (part.length > 8) expect(text).not.toContain(part)
  expect(text).not.toContain(EMAIL)
  expect(text).not.toContain('n0nce')
}

describe('inspectAppToken', () => {
  it('accepts a valid app token and reports claims and time left', async () => {
    const token = await appToken()
    const r = inspectAppToken(token, { expectedAud: AUD, nowMs: NOW_MS })
    expect(r).toEqual({
      ok: true,
      expiresInSec: 24 * 3600,
      claims: {
        email: EMAIL,
        type: 'app',
        aud: [AUD],
        iss: 'https://example-team.cloudflareaccess.com',
        exp: NOW + 24 * 3600,
        nbf: NOW - 60,
        iat: NOW - 60
      }
    })
  })

  it('accepts aud as a plain string', async () => {
    const r = inspectAppToken(await appToken({ aud: AUD }), { expectedAud: AUD, nowMs: NOW_MS })
    expect(r.ok && r.claims.aud).toEqual([AUD])
  })

  it('accepts an audience list containing the AUD among others', async () => {
    const r = inspectAppToken(await appToken({ aud: [OTHER_AUD, AUD] }), { expectedAud: AUD, nowMs: NOW_MS })
    expect(r.ok).toBe(true)
  })

  it('reads common_name from a service-token JWT', async () => {
    const r = inspectAppToken(await appToken({ email: undefined, sub: '', common_name: 'abc.access' }), { nowMs: NOW_MS })
    expect(r.ok && r.claims.commonName).toBe('abc.access')
    expect(r.ok && r.claims.email).toBeUndefined()
  })

  it.each([
    ['surrounding whitespace and newlines', (t: string) => `  \n${t}\t\n`],
    ['a CF_Authorization= prefix', (t: string) => `CF_Authorization=${t}`],
    ['prefix, spaces and cookie attributes', (t: string) => ` CF_Authorization = ${t}; Path=/; Secure; HttpOnly `],
    ['a whole Cookie header', (t: string) => `Cookie: CF_AppSession=xyz; CF_Authorization=${t}; CF_Binding=b`],
    ['double quotes', (t: string) => `"${t}"`]
  ])('accepts a token pasted with %s', async (_name, wrap) => {
    const token = await appToken()
    expect(normaliseAppToken(wrap(token))).toBe(token)
    expect(inspectAppToken(wrap(token), { expectedAud: AUD, nowMs: NOW_MS }).ok).toBe(true)
  })

  it('refuses the team-domain (org) token with check "type"', async () => {
    const token = await appToken({ type: 'org' })
    const r = inspectAppToken(token, { expectedAud: AUD, nowMs: NOW_MS })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.check).toBe('type')
    expect(r.error.code).toBe('ACCESS_APP_TOKEN_INVALID')
    expect(r.error.details.check).toBe('type')
    expect(r.error.message).toMatch(/team-domain/)
    expect(r.claims?.type).toBe('org')
    expectNoTokenIn(r.error, token)
  })

  it('refuses a JWT with no Access type', async () => {
    const r = inspectAppToken(await appToken({ type: undefined }), { nowMs: NOW_MS })
    expect(!r.ok && r.check).toBe('type')
  })

  it('refuses a token for another application with check "audience"', async () => {
    const token = await appToken({ aud: [OTHER_AUD] })
    const r = inspectAppToken(token, { expectedAud: AUD, nowMs: NOW_MS })
    expect(!r.ok && r.check).toBe('audience')
    expect(!r.ok && r.error.code).toBe('ACCESS_APP_TOKEN_INVALID')
    expect(!r.ok && r.error.details.accessAud).toBe(AUD)
    if (!r.ok) {
      expectNoTokenIn(r.error, token)
      expect(JSON.stringify(r.error)).not.toContain(OTHER_AUD)
    }
  })

  it('skips the audience check when no AUD is expected', async () => {
    expect(inspectAppToken(await appToken({ aud: [OTHER_AUD] }), { nowMs: NOW_MS }).ok).toBe(true)
  })

  it('reports an expired token with ACCESS_APP_TOKEN_EXPIRED', async () => {
    const token = await appToken({ exp: NOW - 3600, iat: NOW - 90000, nbf: NOW - 90000 })
    const r = inspectAppToken(token, { expectedAud: AUD, nowMs: NOW_MS })
    expect(!r.ok && r.check).toBe('expired')
    expect(!r.ok && r.error.code).toBe('ACCESS_APP_TOKEN_EXPIRED')
    expect(!r.ok && r.error.message).toMatch(/expired 60 minutes ago/)
    expect(!r.ok && r.error.nextSteps.map((s) => s.action)).toEqual(['sign-in-email', 'renew-app-token'])
    if (!r.ok) expectNoTokenIn(r.error, token)
  })

  it('reports a token expiring within the margin (plus skew) as "expiring"', async () => {
    const token = await appToken({ exp: NOW + 200 })
    const r = inspectAppToken(token, { nowMs: NOW_MS })
    expect(!r.ok && r.check).toBe('expiring')
    expect(!r.ok && r.error.code).toBe('ACCESS_APP_TOKEN_EXPIRED')
    // 330 s left: outside a 300 s margin, but inside margin + 60 s skew.
    expect(inspectAppToken(await appToken({ exp: NOW + 330 }), { nowMs: NOW_MS }).ok).toBe(false)
    expect(inspectAppToken(await appToken({ exp: NOW + 361 }), { nowMs: NOW_MS }).ok).toBe(true)
  })

  it('honours custom margin and skew', async () => {
    const token = await appToken({ exp: NOW + 30 })
    const r = inspectAppToken(token, { nowMs: NOW_MS, marginSec: 0, skewSec: 0 })
    expect(r.ok && r.expiresInSec).toBe(30)
    expect(inspectAppToken(token, { nowMs: NOW_MS, marginSec: 0, skewSec: 30 }).ok).toBe(false)
  })

  it('reports a token whose nbf is in the future beyond the skew as "not-yet-valid"', async () => {
    const token = await appToken({ nbf: NOW + 3600, iat: NOW + 3600 })
    const r = inspectAppToken(token, { nowMs: NOW_MS })
    expect(!r.ok && r.check).toBe('not-yet-valid')
    expect(!r.ok && r.error.code).toBe('ACCESS_APP_TOKEN_INVALID')
    expect(!r.ok && r.error.message).toMatch(/clock/)
  })

  it('tolerates nbf/iat slightly in the future (clock skew)', async () => {
    expect(inspectAppToken(await appToken({ nbf: NOW + 45, iat: NOW + 45 }), { nowMs: NOW_MS }).ok).toBe(true)
  })

  it('names the wrong kind of token before its expiry', async () => {
    const r = inspectAppToken(await appToken({ type: 'org', exp: NOW - 10 }), { nowMs: NOW_MS })
    expect(!r.ok && r.check).toBe('type')
  })

  const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

  it.each([
    ['empty', ''],
    ['whitespace only', '   \n'],
    ['CF_Authorization= with no value', 'CF_Authorization='],
    ['one word', 'notatoken'],
    ['two parts', 'abc.def'],
    ['bad base64', 'a$$.b%%.c'],
    ['junk JSON payload', `${b64({ alg: 'RS256' })}.${b64('{nope')}.c2ln`],
    ['JWE-like five parts', 'a.b.c.d.e'],
    ['unsigned alg none', `${b64({ alg: 'none' })}.${b64({ type: 'app', aud: ['x'], exp: 2e9 })}.`],
    ['no exp', `${b64({ alg: 'RS256' })}.${b64({ type: 'app', aud: ['x'] })}.c2ln`],
    ['no aud', `${b64({ alg: 'RS256' })}.${b64({ type: 'app', exp: 2e9 })}.c2ln`],
    ['aud of numbers', `${b64({ alg: 'RS256' })}.${b64({ type: 'app', aud: [1, 2], exp: 2e9 })}.c2ln`]
  ])('refuses a malformed token (%s) without throwing', (_name, token) => {
    const r = inspectAppToken(token, { expectedAud: AUD, nowMs: NOW_MS })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.check).toBe('malformed')
    expect(r.error.code).toBe('ACCESS_APP_TOKEN_INVALID')
    expect(r.error.category).toBe('access')
    expect(r.error.details.check).toBe('malformed')
    const text = JSON.stringify(r.error)
    for (const part of token.split('.')) if (part.length > 4) expect(text).not.toContain(part)
  })

  it('never puts the token in any error', async () => {
    const tokens = [
      await appToken({ type: 'org' }),
      await appToken({ aud: [OTHER_AUD] }),
      await appToken({ exp: NOW - 5 }),
      await appToken({ exp: NOW + 5 }),
      await appToken({ nbf: NOW + 9999 })
    ]
    for (const token of tokens) {
      const r = inspectAppToken(`CF_Authorization=${token}`, { expectedAud: AUD, nowMs: NOW_MS })
      expect(r.ok).toBe(false)
      if (!r.ok) expectNoTokenIn(r.error, token)
    }
  })
})

describe('hasOnlyTokenCharacters', () => {
  it('accepts base64url parts separated by dots', () => {
    expect(hasOnlyTokenCharacters('eyJhbGciOi.eyJzdWIi_-x.abc-DEF_123')).toBe(true)
  })
  it.each([
    ['a newline', 'aaa.bbb\n.ccc'],
    ['a tab', 'aaa.\tbbb.ccc'],
    ['a space', 'aaa.bbb ccc.ddd'],
    ['padding or other symbols', 'aaa.bbb=.ccc'],
    ['non-ASCII', 'aaa.bbé.ccc'],
    ['nothing', '']
  ])('refuses %s', (_what, value) => {
    expect(hasOnlyTokenCharacters(value)).toBe(false)
  })
})
