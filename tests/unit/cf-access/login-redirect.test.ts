import { describe, expect, it, beforeAll } from 'vitest'
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { parseAccessLoginRedirect } from '../../../src/main/cf-access/login-redirect'

const AUD = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'b'.repeat(8)
const APP = 'gateway.example.workers.dev'
const TEAM = 'example-team.cloudflareaccess.com'
const REQUEST = `wss://${APP}/ws`

let key: CryptoKey

beforeAll(async () => {
  key = (await generateKeyPair('RS256')).privateKey
})

/** A real RS256 `meta` JWT, as Access puts on the login redirect. */
async function signMeta(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'c'.repeat(64) }).sign(key)
}

async function defaultMeta(extra: Record<string, unknown> = {}): Promise<string> {
  return signMeta({
    type: 'meta',
    aud: AUD,
    hostname: APP,
    redirect_url: '/ws',
    auth_status: 'NONE',
    service_token_status: false,
    is_warp: false,
    is_gateway: false,
    real_country: 'DE',
    ray_id: '8f1e2d3c4b5a6978',
    iat: 1_760_000_000,
    exp: 1_760_000_600,
    app_session_hash: 'deadbeef',
    ...extra
  })
}

function loginUrl(params: [string, string][], host = TEAM, app = APP): string {
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
  return `https://${host}/cdn-cgi/access/login/${app}?${query}`
}

describe('parseAccessLoginRedirect', () => {
  it('reads team domain, app host, AUD, redirect path and every meta claim', async () => {
    const meta = await defaultMeta()
    const result = parseAccessLoginRedirect(
      loginUrl([
        ['kid', AUD],
        ['redirect_url', '/ws'],
        ['meta', meta]
      ]),
      REQUEST
    )
    expect(result).toEqual({
      teamDomain: TEAM,
      appHost: APP,
      aud: AUD,
      redirectPath: '/ws',
      notes: [],
      claims: {
        type: 'meta',
        audience: AUD,
        hostname: APP,
        redirectPath: '/ws',
        authStatus: 'NONE',
        serviceTokenStatus: false,
        isWarp: false,
        isGateway: false,
        country: 'DE',
        rayId: '8f1e2d3c4b5a6978',
        issuedAt: 1_760_000_000,
        expiresAt: 1_760_000_600
      }
    })
  })

  it('gives the same answer for every parameter order', async () => {
    const meta = await defaultMeta()
    const params: [string, string][] = [
      ['kid', AUD],
      ['redirect_url', '/ws'],
      ['meta', meta]
    ]
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0]
    ]
    const results = orders.map((order) =>
      parseAccessLoginRedirect(loginUrl(order.map((i) => params[i] as [string, string])), REQUEST)
    )
    for (const r of results) expect(r).toEqual(results[0])
    expect(results[0]?.aud).toBe(AUD)
    expect(results[0]?.claims?.serviceTokenStatus).toBe(false)
  })

  it('accepts fed and custom team domains', async () => {
    const meta = await defaultMeta()
    for (const team of ['example-team.fed.cloudflareaccess.com', 'login.corp.example.com']) {
      const r = parseAccessLoginRedirect(loginUrl([['kid', AUD], ['meta', meta]], team), REQUEST)
      expect(r?.teamDomain).toBe(team)
      expect(r?.appHost).toBe(APP)
    }
  })

  it('resolves a relative Location against the request URL', async () => {
    const meta = await defaultMeta()
    const r = parseAccessLoginRedirect(
      `/cdn-cgi/access/login/${APP}?meta=${meta}&kid=${AUD}&redirect_url=%2Fws`,
      'wss://gateway.example.workers.dev:8443/ws?x=1'
    )
    expect(r?.teamDomain).toBe(APP)
    expect(r?.appHost).toBe(APP)
    expect(r?.aud).toBe(AUD)
    expect(r?.redirectPath).toBe('/ws')
  })

  it('falls back to meta.hostname, then the dialled host, when the path has no app host', async () => {
    const meta = await defaultMeta({ hostname: 'other.example.com' })
    expect(parseAccessLoginRedirect(`https://${TEAM}/cdn-cgi/access/login?kid=${AUD}&meta=${meta}`, REQUEST)?.appHost).toBe(
      'other.example.com'
    )
    expect(parseAccessLoginRedirect(`https://${TEAM}/cdn-cgi/access/login?kid=${AUD}`, REQUEST)?.appHost).toBe(APP)
  })

  it('takes the AUD from meta when kid is missing, and notes it', async () => {
    const meta = await defaultMeta({ aud: [AUD, 'other'] })
    const r = parseAccessLoginRedirect(loginUrl([['meta', meta]]), REQUEST)
    expect(r?.aud).toBe(AUD)
    expect(r?.claims?.audience).toBe(AUD)
    expect(r?.notes.join(' ')).toMatch(/kid/)
  })

  it('drops the query of redirect_url (it may hold credentials)', async () => {
    const meta = await defaultMeta({ redirect_url: '/chat?token=hunter2' })
    const r = parseAccessLoginRedirect(loginUrl([['kid', AUD], ['redirect_url', '/chat?token=hunter2'], ['meta', meta]]), REQUEST)
    expect(r?.redirectPath).toBe('/chat')
    expect(r?.claims?.redirectPath).toBe('/chat')
    expect(JSON.stringify(r)).not.toContain('hunter2')
  })

  it.each([
    ['not a JWT', 'notajwt'],
    ['three parts, bad base64', 'a$$.b%%.c'],
    ['base64 of junk JSON', `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{not json').toString('base64url')}.sig`],
    ['payload is an array', `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('[1,2]').toString('base64url')}.sig`],
    ['five parts (JWE)', 'a.b.c.d.e']
  ])('survives a malformed meta: %s', (_name, meta) => {
    const r = parseAccessLoginRedirect(loginUrl([['kid', AUD], ['meta', meta]]), REQUEST)
    expect(r).not.toBeNull()
    expect(r?.claims).toBeUndefined()
    expect(r?.aud).toBe(AUD)
    expect(r?.notes.some((n) => /could not be decoded/.test(n))).toBe(true)
    expect(JSON.stringify(r)).not.toContain(meta)
  })

  it('notes a missing meta', () => {
    const r = parseAccessLoginRedirect(loginUrl([['kid', AUD]]), REQUEST)
    expect(r?.claims).toBeUndefined()
    expect(r?.notes.some((n) => /no meta/.test(n))).toBe(true)
  })

  it('accepts string booleans and ignores claims of the wrong type', async () => {
    const meta = await defaultMeta({ service_token_status: 'true', is_warp: 7, iat: 'yesterday', real_country: 42 })
    const claims = parseAccessLoginRedirect(loginUrl([['kid', AUD], ['meta', meta]]), REQUEST)?.claims
    expect(claims?.serviceTokenStatus).toBe(true)
    expect(claims?.isWarp).toBeUndefined()
    expect(claims?.issuedAt).toBeUndefined()
    expect(claims?.country).toBeUndefined()
  })

  it('caps long and strips control characters from unverified claim strings', async () => {
    const meta = await defaultMeta({ auth_status: 'X'.repeat(5000), ray_id: 'ab\u0007cd\n' })
    const claims = parseAccessLoginRedirect(loginUrl([['meta', meta]]), REQUEST)?.claims
    expect(claims?.authStatus?.length).toBeLessThanOrEqual(200)
    expect(claims?.rayId).toBe('abcd')
  })

  it('matches the login path case-insensitively', async () => {
    const r = parseAccessLoginRedirect(`https://${TEAM}/CDN-CGI/Access/Login/${APP}?kid=${AUD}`, REQUEST)
    expect(r?.appHost).toBe(APP)
  })

  it.each([
    '',
    '   ',
    'http://',
    '::::',
    'javascript:alert(1)',
    'mailto:someone@example.com',
    '/some/other/path',
    `https://${TEAM}/cdn-cgi/access/logout`,
    `https://${TEAM}/cdn-cgi/access/authorized?nonce=1`,
    `https://${TEAM}/cdn-cgi/access/loginx/${APP}`,
    'https://example.com/login?next=/cdn-cgi/access/login'
  ])('returns null for a Location that is not an Access login: %j', (location) => {
    expect(parseAccessLoginRedirect(location, REQUEST)).toBeNull()
  })

  it('returns null when a relative Location has no usable base', () => {
    expect(parseAccessLoginRedirect('/cdn-cgi/access/login/x', 'not a url')).toBeNull()
  })
})
