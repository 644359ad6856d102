import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startAccessEmulator, startRecordingOrigin, type AccessEmulator, type RecordingOrigin, type ServiceTokenCredentials } from '../support/access-emulator'
import { installTestHosts } from '../support/hosts'

// Exercises the emulator with plain https/ws clients only (no product code), against the doc's §1–§4.

const TEAM = 'aether-test'
const GATEWAY = 'gateway.aether.test'
const ALLOW_ONLY = 'allow-only.aether.test'
const NO_POLICY = 'no-policy.aether.test'
const SPARE = 'spare.aether.test'
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36'

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

let emu: AccessEmulator
let origin: RecordingOrigin
let ciToken: ServiceTokenCredentials
let uninstallHosts: () => void

function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; ca?: string | null } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: options.method ?? 'GET', headers: { 'user-agent': 'aether-test/1.0', ...options.headers }, ca: options.ca === null ? undefined : (options.ca ?? emu.caCertPem), agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

type WsResult = { kind: 'open'; ws: WebSocket; headers: IncomingHttpHeaders } | { kind: 'refused'; status: number; headers: IncomingHttpHeaders; body: string }

/** Opens a WebSocket through the edge; a non-101 answer is returned instead of thrown. */
function openWs(url: string, headers: Record<string, string> = {}): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ca: emu.caCertPem, headers: { 'user-agent': 'aether-test/1.0', ...headers }, followRedirects: false })
    let upgradeHeaders: IncomingHttpHeaders = {}
    ws.on('upgrade', (res) => {
      upgradeHeaders = res.headers
    })
    ws.on('open', () => resolve({ kind: 'open', ws, headers: upgradeHeaders }))
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ kind: 'refused', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    ws.on('error', reject)
  })
}

function serviceHeaders(token: ServiceTokenCredentials): Record<string, string> {
  return { 'CF-Access-Client-Id': token.clientId, 'CF-Access-Client-Secret': token.clientSecret }
}

function metaOf(location: string): Record<string, unknown> {
  const meta = new URL(location).searchParams.get('meta')
  expect(meta).toBeTruthy()
  return decodeJwt(meta ?? '') as Record<string, unknown>
}

async function teamJwks(): Promise<JSONWebKeySet> {
  const reply = await request(`${emu.teamUrl}/cdn-cgi/access/certs`)
  expect(reply.status).toBe(200)
  return JSON.parse(reply.body) as JSONWebKeySet
}

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  origin = await startRecordingOrigin()
  emu = await startAccessEmulator({
    team: TEAM,
    apps: [
      {
        host: GATEWAY,
        upstream: origin.url,
        policies: [
          { decision: 'bypass', paths: ['/health'] },
          { decision: 'non_identity', serviceTokens: ['ci'] },
          { decision: 'allow', emails: ['alice@aether.test'] }
        ]
      },
      { host: ALLOW_ONLY, upstream: origin.url, policies: [{ decision: 'allow', serviceTokens: ['ci'], emails: ['alice@aether.test'] }] },
      { host: NO_POLICY, upstream: origin.url },
      { host: SPARE, upstream: origin.url, policies: [{ decision: 'non_identity', anyValidServiceToken: true }] }
    ]
  })
  ciToken = emu.createServiceToken({ name: 'ci' })
})

afterAll(async () => {
  await emu.close()
  await origin.close()
  uninstallHosts()
})

beforeEach(() => {
  // Each test leaves SPARE as it found it; tests that bend it use update().
  emu.update(SPARE, { policies: [{ decision: 'non_identity', anyValidServiceToken: true }], serviceAuth401: false, strictServiceTokens: false, managedOAuth: false, destination: 'public', waf: 'none', edgeError: null, tls: 'valid', bindingCookie: false, readServiceTokensFromHeader: null, forwardedFor: '203.0.113.10' })
})

describe('unauthenticated answer (§1)', () => {
  it('GET without credential gets the exact Access 302 with a decodable meta', async () => {
    const reply = await request(emu.appUrl(GATEWAY, '/ws?session=main'))
    expect(reply.status).toBe(302)
    const location = reply.headers.location ?? ''
    const url = new URL(location)
    expect(url.protocol).toBe('https:')
    expect(url.hostname).toBe(`${TEAM}.cloudflareaccess.com`)
    expect(url.port).toBe(String(emu.port))
    expect(url.pathname).toBe(`/cdn-cgi/access/login/${GATEWAY}`)
    expect([...url.searchParams.keys()]).toEqual(['kid', 'redirect_url', 'meta'])
    expect(url.searchParams.get('kid')).toBe(emu.app(GATEWAY).aud)
    expect(location).toContain('redirect_url=%2Fws%3Fsession%3Dmain&')
    expect(reply.headers['www-authenticate']).toBe(`Cloudflare-Access resource_metadata="https://${GATEWAY}:${emu.port}/.well-known/cloudflare-access-protected-resource/ws"`)
    const cookies = reply.headers['set-cookie'] ?? []
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatch(/^CF_AppSession=[0-9a-f]+; Expires=[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT; Path=\/; Secure; HttpOnly; SameSite=None$/)
    expect(reply.headers['access-control-allow-credentials']).toBe('true')
    expect(reply.headers.expires).toBe('Thu, 01 Jan 1970 00:00:01 GMT')
    expect(reply.headers['cache-control']).toBe('private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0')
    expect(reply.headers.server).toBe('cloudflare')
    expect(reply.headers['cf-ray']).toMatch(/^[0-9a-f]{16}-[A-Z]{3}$/)
    expect(reply.body).toContain('<title>302 Found</title>')
    expect(reply.body).toContain('<center>cloudflare</center>')

    const meta = metaOf(location)
    expect(meta).toMatchObject({
      type: 'meta',
      aud: emu.app(GATEWAY).aud,
      hostname: GATEWAY,
      redirect_url: '/ws?session=main',
      auth_status: 'NONE',
      service_token_status: false,
      is_warp: false,
      is_gateway: false,
      real_country: 'US',
      ray_id: String(reply.headers['cf-ray']).split('-')[0]
    })
    expect(typeof meta.app_session_hash).toBe('string')
    expect(typeof meta.nonce).toBe('string')
    expect(meta.exp as number).toBeGreaterThan(meta.iat as number)
  })

  it('answers HEAD, POST and a WebSocket upgrade with the same 302', async () => {
    for (const method of ['HEAD', 'POST']) {
      const reply = await request(emu.appUrl(GATEWAY, '/api/x'), { method, body: method === 'POST' ? '{}' : undefined })
      expect(reply.status).toBe(302)
      expect(new URL(reply.headers.location ?? '').pathname).toBe(`/cdn-cgi/access/login/${GATEWAY}`)
      expect(reply.headers['set-cookie']?.[0]).toMatch(/^CF_AppSession=/)
    }
    const ws = await openWs(emu.appUrl(GATEWAY, '/ws', 'wss'))
    expect(ws.kind).toBe('refused')
    if (ws.kind !== 'refused') return
    expect(ws.status).toBe(302)
    expect(ws.headers.server).toBe('cloudflare')
    expect(ws.headers['www-authenticate']).toContain('cloudflare-access-protected-resource/ws')
    expect(metaOf(ws.headers.location ?? '').redirect_url).toBe('/ws')
    expect(ws.body).toContain('302 Found')
  })

  it('does not take a client-sent Cf-Access-Jwt-Assertion as a credential', async () => {
    const forged = emu.issueAppToken({ host: GATEWAY, email: 'alice@aether.test' })
    const reply = await request(emu.appUrl(GATEWAY, '/'), { headers: { 'Cf-Access-Jwt-Assertion': forged } })
    expect(reply.status).toBe(302)
  })

  it('lets a Bypass path through without credentials and without an assertion', async () => {
    const before = origin.requests.length
    const reply = await request(emu.appUrl(GATEWAY, '/health'))
    expect(reply.status).toBe(200)
    expect(reply.headers.server).toBe('cloudflare')
    expect(origin.requests[before]?.headers['cf-access-jwt-assertion']).toBeUndefined()
  })
})

describe('service tokens (§3)', () => {
  it('passes a WebSocket upgrade through to the origin with the Access headers, and echoes', async () => {
    const before = origin.requests.length
    const result = await openWs(emu.appUrl(GATEWAY, '/ws', 'wss'), serviceHeaders(ciToken))
    expect(result.kind).toBe('open')
    if (result.kind !== 'open') return
    expect(result.headers.server).toBe('cloudflare')
    expect(result.headers['cf-ray']).toBeTruthy()
    const cookie = (result.headers['set-cookie'] ?? [])[0] ?? ''
    expect(cookie).toMatch(/^CF_Authorization=[\w-]+\.[\w-]+\.[\w-]+; Expires=.+ GMT; Path=\/; Secure; SameSite=none$/)

    const echoed = new Promise<string>((resolve) => result.ws.once('message', (data) => resolve(String(data))))
    result.ws.send('ping through the edge')
    expect(await echoed).toBe('ping through the edge')

    const seen = origin.requests[before]
    expect(seen?.upgrade).toBe(true)
    expect(seen?.headers.host).toBe(`${GATEWAY}:${emu.port}`)
    expect(seen?.headers['x-forwarded-for']).toBe('203.0.113.10')
    expect(seen?.headers['cf-connecting-ip']).toBe('203.0.113.10')
    expect(seen?.headers['cf-access-client-secret']).toBeUndefined()
    expect(seen?.headers['cf-access-client-id']).toBe(ciToken.clientId)
    const assertion = String(seen?.headers['cf-access-jwt-assertion'])
    const verified = await jwtVerify(assertion, createLocalJWKSet(await teamJwks()), { issuer: `https://${TEAM}.cloudflareaccess.com`, audience: emu.app(GATEWAY).aud })
    expect(verified.payload).toMatchObject({ type: 'app', common_name: ciToken.clientId, sub: '' })
    expect(verified.protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: emu.signingKeyIds.current })

    // Closing the client side closes the origin side.
    const originClosed = origin.nextClose()
    result.ws.close(1000, 'bye')
    expect(await originClosed).toBe(1000)
    expect(emu.upstreamRequests.at(-1)?.headers['cf-access-jwt-assertion']).toBe(assertion)
  })

  it('closes the client when the origin closes the socket', async () => {
    const result = await openWs(emu.appUrl(GATEWAY, '/ws', 'wss'), serviceHeaders(ciToken))
    if (result.kind !== 'open') throw new Error('upgrade refused')
    const closed = new Promise<void>((resolve) => result.ws.once('close', () => resolve()))
    for (const socket of origin.sockets) socket.terminate()
    await closed
  })

  it('proxies plain HTTP with the same headers and strips the secret', async () => {
    const before = origin.requests.length
    const reply = await request(emu.appUrl(GATEWAY, '/api/status?x=1'), { headers: { ...serviceHeaders(ciToken), 'x-forwarded-for': '10.0.0.1' } })
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toEqual({ ok: true, path: '/api/status?x=1' })
    expect(reply.headers.server).toBe('cloudflare')
    const seen = origin.requests[before]
    expect(seen?.headers['cf-access-client-secret']).toBeUndefined()
    expect(seen?.headers['x-forwarded-for']).toBe('10.0.0.1, 203.0.113.10')
    expect(seen?.headers['cf-access-authenticated-user-email']).toBeUndefined()
  })

  it('accepts header names in any case and logs names only', async () => {
    const reply = await request(emu.appUrl(SPARE, '/'), { headers: { 'cf-access-client-id': ciToken.clientId, 'CF-ACCESS-CLIENT-SECRET': ciToken.clientSecret } })
    expect(reply.status).toBe(200)
    const entry = emu.requests.at(-1)
    expect(entry).toMatchObject({ host: SPARE, decision: 'forwarded', principal: { kind: 'service-token', clientId: ciToken.clientId } })
    expect(entry?.credentials).toEqual(['cf-access-client-id', 'cf-access-client-secret'])
    expect(JSON.stringify(emu.requests)).not.toContain(ciToken.clientSecret)
  })

  it('sends an Allow-only app (token listed in an Allow policy) to login with service_token_status false', async () => {
    const reply = await request(emu.appUrl(ALLOW_ONLY, '/ws'), { headers: serviceHeaders(ciToken) })
    expect(reply.status).toBe(302)
    expect(metaOf(reply.headers.location ?? '').service_token_status).toBe(false)
    expect(emu.requests.at(-1)?.reason).toBe('service-token-not-admitted')
  })

  it('sends a valid token to login when the app has no policy at all', async () => {
    const reply = await request(emu.appUrl(NO_POLICY, '/'), { headers: serviceHeaders(ciToken) })
    expect(reply.status).toBe(302)
    expect(metaOf(reply.headers.location ?? '').service_token_status).toBe(false)
  })

  it('sends unknown ids and bad secrets to login (legacy org)', async () => {
    const unknown = await request(emu.appUrl(SPARE, '/'), { headers: { 'CF-Access-Client-Id': 'a'.repeat(32) + '.access', 'CF-Access-Client-Secret': 'b'.repeat(64) } })
    expect(unknown.status).toBe(302)
    const wrongSecret = await request(emu.appUrl(SPARE, '/'), { headers: { 'CF-Access-Client-Id': ciToken.clientId, 'CF-Access-Client-Secret': 'c'.repeat(64) } })
    expect(wrongSecret.status).toBe(302)
    expect(emu.requests.at(-1)?.reason).toBe('service-token-bad-secret')
  })

  it('answers 401 instead of 302 with serviceAuth401', async () => {
    emu.update(SPARE, { serviceAuth401: true })
    const rejected = await request(emu.appUrl(SPARE, '/'), { headers: { 'CF-Access-Client-Id': ciToken.clientId, 'CF-Access-Client-Secret': 'c'.repeat(64) } })
    expect(rejected.status).toBe(401)
    expect(rejected.headers.server).toBe('cloudflare')
    expect(rejected.headers.location).toBeUndefined()
    const ws = await openWs(emu.appUrl(SPARE, '/ws', 'wss'), { 'CF-Access-Client-Id': ciToken.clientId, 'CF-Access-Client-Secret': 'nope' })
    expect(ws.kind === 'refused' && ws.status).toBe(401)
    // Without service-token headers it is the interactive flow as usual.
    expect((await request(emu.appUrl(SPARE, '/'))).status).toBe(302)
  })

  it('strict mode: 401 for tokens that cannot authenticate, 403 for a valid one no policy admits, no cookie on success', async () => {
    emu.update(SPARE, { strictServiceTokens: true })
    const expiring = emu.createServiceToken({ name: 'short', durationSec: 60 })
    const revoked = emu.createServiceToken({ name: 'revoked' })
    emu.revokeServiceToken(revoked.clientId)
    const url = emu.appUrl(SPARE, '/')
    expect((await request(url, { headers: { 'CF-Access-Client-Id': 'f'.repeat(32) + '.access', 'CF-Access-Client-Secret': 'f'.repeat(64) } })).status).toBe(401)
    expect((await request(url, { headers: { 'CF-Access-Client-Id': ciToken.clientId, 'CF-Access-Client-Secret': 'f'.repeat(64) } })).status).toBe(401)
    expect((await request(url, { headers: { 'CF-Access-Client-Id': ciToken.clientId } })).status).toBe(401)
    expect((await request(url, { headers: serviceHeaders(revoked) })).status).toBe(401)
    const ok = await request(url, { headers: serviceHeaders(expiring) })
    expect(ok.status).toBe(200)
    expect(ok.headers['set-cookie']).toBeUndefined()
    emu.clock.advance(61_000)
    expect((await request(url, { headers: serviceHeaders(expiring) })).status).toBe(401)
    expect(emu.requests.at(-1)?.reason).toBe('service-token-expired')
    emu.update(SPARE, { policies: [{ decision: 'allow', serviceTokens: ['ci'], everyone: true }] })
    const notAdmitted = await request(url, { headers: serviceHeaders(ciToken) })
    expect(notAdmitted.status).toBe(403)
    expect(notAdmitted.body).toContain('json_data')
  })

  it('reads the single JSON header when the app is configured for it', async () => {
    emu.update(SPARE, { readServiceTokensFromHeader: 'X-Aether-Access' })
    const before = origin.requests.length
    const value = JSON.stringify({ 'cf-access-client-id': ciToken.clientId, 'cf-access-client-secret': ciToken.clientSecret })
    const reply = await request(emu.appUrl(SPARE, '/'), { headers: { 'X-Aether-Access': value } })
    expect(reply.status).toBe(200)
    expect(origin.requests[before]?.headers['x-aether-access']).toBeUndefined()
    expect(emu.requests.at(-1)?.credentials).toEqual(['x-aether-access'])
  })

  it('omits forwarding headers when forwardedFor is null', async () => {
    emu.update(SPARE, { forwardedFor: null })
    const before = origin.requests.length
    await request(emu.appUrl(SPARE, '/'), { headers: serviceHeaders(ciToken) })
    expect(origin.requests[before]?.headers['x-forwarded-for']).toBeUndefined()
    expect(origin.requests[before]?.headers['cf-connecting-ip']).toBeUndefined()
  })

  it('accepts the CF_Authorization cookie the edge handed back for a service token', async () => {
    const first = await request(emu.appUrl(SPARE, '/'), { headers: serviceHeaders(ciToken) })
    const cookie = (first.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? ''
    expect(cookie).toMatch(/^CF_Authorization=/)
    expect((await request(emu.appUrl(SPARE, '/'), { headers: { cookie } })).status).toBe(200)
  })
})

describe('application tokens (§4)', () => {
  it('forwards a valid token sent as cf-access-token or as the CF_Authorization cookie', async () => {
    const token = emu.issueAppToken({ host: GATEWAY, email: 'alice@aether.test' })
    for (const headers of [{ 'cf-access-token': token }, { cookie: `CF_Authorization=${token}` }] as Record<string, string>[]) {
      const before = origin.requests.length
      const reply = await request(emu.appUrl(GATEWAY, '/api'), { headers })
      expect(reply.status).toBe(200)
      const seen = origin.requests[before]
      expect(seen?.headers['cf-access-jwt-assertion']).toBe(token)
      expect(seen?.headers['cf-access-authenticated-user-email']).toBe('alice@aether.test')
    }
    const ws = await openWs(emu.appUrl(GATEWAY, '/ws', 'wss'), { 'cf-access-token': token })
    expect(ws.kind).toBe('open')
    if (ws.kind === 'open') {
      expect(ws.headers['set-cookie']).toBeUndefined()
      ws.ws.close()
    }
  })

  it('rejects expired, not-yet-valid, other-app, org-type, plain-string-aud-of-other and unknown-key tokens', async () => {
    const url = emu.appUrl(GATEWAY, '/api')
    const cases: [string, string][] = [
      ['expired', emu.issueAppToken({ host: GATEWAY, expiresInSec: -10 })],
      ['not yet valid', emu.issueAppToken({ host: GATEWAY, notBeforeSec: 120 })],
      ['other app', emu.issueAppToken({ host: ALLOW_ONLY })],
      ['org type', emu.issueAppToken({ host: GATEWAY, type: 'org' })],
      ['org type with app aud', emu.issueAppToken({ host: GATEWAY, type: 'org', aud: [emu.app(GATEWAY).aud] })],
      ['unknown key', emu.issueAppToken({ host: GATEWAY, signWith: 'unknown' })],
      ['unknown key (shorthand)', emu.issueAppToken({ host: GATEWAY, signWithUnknownKey: true })]
    ]
    for (const [label, token] of cases) {
      const reply = await request(url, { headers: { 'cf-access-token': token } })
      expect(reply.status, label).toBe(302)
    }
    // The previous JWKS key still verifies; a plain-string aud for this app is fine (§4.1).
    expect((await request(url, { headers: { 'cf-access-token': emu.issueAppToken({ host: GATEWAY, signWith: 'previous' }) } })).status).toBe(200)
    expect((await request(url, { headers: { 'cf-access-token': emu.issueAppToken({ host: GATEWAY, aud: emu.app(GATEWAY).aud }) } })).status).toBe(200)
  })

  it('expires a token on the emulator clock', async () => {
    const token = emu.issueAppToken({ host: GATEWAY, expiresInSec: 300 })
    expect((await request(emu.appUrl(GATEWAY, '/'), { headers: { 'cf-access-token': token } })).status).toBe(200)
    emu.clock.advance(301_000)
    expect((await request(emu.appUrl(GATEWAY, '/'), { headers: { 'cf-access-token': token } })).status).toBe(302)
    expect(emu.requests.at(-1)?.reason).toBe('app-token-expired')
  })

  it('answers 401 to an XMLHttpRequest sub-request whose token expired', async () => {
    const token = emu.issueAppToken({ host: GATEWAY, expiresInSec: -1 })
    const reply = await request(emu.appUrl(GATEWAY, '/api'), { headers: { cookie: `CF_Authorization=${token}`, 'X-Requested-With': 'XMLHttpRequest' } })
    expect(reply.status).toBe(401)
  })

  it('keeps accepting the previous key after a rotation, until it is rotated out', async () => {
    const signedWithOld = emu.issueAppToken({ host: GATEWAY })
    const oldKid = emu.signingKeyIds.current
    await emu.rotateKeys()
    expect(emu.signingKeyIds.previous).toBe(oldKid)
    const jwks = await teamJwks()
    expect(jwks.keys.map((key) => key.kid)).toEqual([emu.signingKeyIds.current, oldKid])
    expect((await request(emu.appUrl(GATEWAY, '/'), { headers: { 'cf-access-token': signedWithOld } })).status).toBe(200)
    await emu.rotateKeys()
    expect((await request(emu.appUrl(GATEWAY, '/'), { headers: { 'cf-access-token': signedWithOld } })).status).toBe(302)
  })

  it('requires CF_Binding with the cookie when the binding cookie is on, and strips it before the origin', async () => {
    emu.update(SPARE, { bindingCookie: true, policies: [{ decision: 'allow', everyone: true }] })
    const token = emu.issueAppToken({ host: SPARE, email: 'bob@aether.test' })
    expect((await request(emu.appUrl(SPARE, '/'), { headers: { cookie: `CF_Authorization=${token}` } })).status).toBe(302)
    expect((await request(emu.appUrl(SPARE, '/'), { headers: { cookie: `CF_Authorization=${token}; CF_Binding=wrong` } })).status).toBe(302)
    const before = origin.requests.length
    const reply = await request(emu.appUrl(SPARE, '/'), { headers: { cookie: `CF_Authorization=${token}; other=1; CF_Binding=${emu.bindingCookieFor(token)}` } })
    expect(reply.status).toBe(200)
    expect(origin.requests[before]?.headers.cookie).toBe(`CF_Authorization=${token}; other=1`)
  })
})

describe('edge behaviours in front of Access', () => {
  it('worker destination: empty 403 to an upgrade even with a valid credential; plain GET works', async () => {
    emu.update(SPARE, { destination: 'worker' })
    const ws = await openWs(emu.appUrl(SPARE, '/ws', 'wss'), serviceHeaders(ciToken))
    expect(ws.kind).toBe('refused')
    if (ws.kind !== 'refused') return
    expect(ws.status).toBe(403)
    expect(ws.body).toBe('')
    expect(ws.headers['cf-mitigated']).toBeUndefined()
    expect(ws.headers.server).toBe('cloudflare')
    expect((await request(emu.appUrl(SPARE, '/ws'), { headers: serviceHeaders(ciToken) })).status).toBe(200)
  })

  it('WAF challenge: 403 with cf-mitigated: challenge unless cf_clearance is present', async () => {
    emu.update(SPARE, { waf: 'challenge' })
    const challenged = await request(emu.appUrl(SPARE, '/'), { headers: serviceHeaders(ciToken) })
    expect(challenged.status).toBe(403)
    expect(challenged.headers['cf-mitigated']).toBe('challenge')
    expect(challenged.body).toContain('Just a moment...')
    const ws = await openWs(emu.appUrl(SPARE, '/ws', 'wss'), serviceHeaders(ciToken))
    expect(ws.kind === 'refused' && ws.headers['cf-mitigated']).toBe('challenge')
    expect((await request(emu.appUrl(SPARE, '/'), { headers: { ...serviceHeaders(ciToken), cookie: 'cf_clearance=solved' } })).status).toBe(200)
  })

  it('WAF 1010: scripted or missing user agents are blocked before Access', async () => {
    emu.update(SPARE, { waf: 'block-1010' })
    for (const ua of ['', 'curl/8.5.0', 'python-requests/2.31', 'Go-http-client/1.1', 'node']) {
      const reply = await request(emu.appUrl(SPARE, '/'), { headers: { ...serviceHeaders(ciToken), 'user-agent': ua } })
      expect(reply.status, ua).toBe(403)
      expect(reply.body).toBe('error code: 1010')
    }
    expect((await request(emu.appUrl(SPARE, '/'), { headers: { ...serviceHeaders(ciToken), 'user-agent': 'AetherRemote/0.1 (linux)' } })).status).toBe(200)
    expect((await request(emu.appUrl(SPARE, '/'), { headers: { 'user-agent': BROWSER_UA } })).status).toBe(302)
  })

  it('edge error 530 (Error 1033) once Access admits the request; Access still answers first', async () => {
    emu.update(SPARE, { edgeError: 530 })
    const reply = await request(emu.appUrl(SPARE, '/'), { headers: serviceHeaders(ciToken) })
    expect(reply.status).toBe(530)
    expect(reply.body).toContain('Error')
    expect(reply.body).toContain('1033')
    expect(reply.body).toContain('Argo Tunnel error')
    expect(reply.headers.server).toBe('cloudflare')
    const ws = await openWs(emu.appUrl(SPARE, '/ws', 'wss'), serviceHeaders(ciToken))
    expect(ws.kind === 'refused' && ws.status).toBe(530)
    expect((await request(emu.appUrl(SPARE, '/'))).status).toBe(302)
    for (const status of [502, 503, 504] as const) {
      emu.update(SPARE, { edgeError: status })
      expect((await request(emu.appUrl(SPARE, '/'), { headers: serviceHeaders(ciToken) })).status).toBe(status)
    }
  })

  it('502 when the origin is down', async () => {
    emu.update(SPARE, { upstream: 'http://127.0.0.1:1' })
    const reply = await request(emu.appUrl(SPARE, '/'), { headers: serviceHeaders(ciToken) })
    expect(reply.status).toBe(502)
    expect(reply.body).toContain('Bad gateway')
    emu.update(SPARE, { upstream: origin.url })
  })

  it('managed OAuth: 401 with Bearer resource_metadata for non-browser clients, 302 for a browser navigation', async () => {
    emu.update(SPARE, { managedOAuth: true })
    const reply = await request(emu.appUrl(SPARE, '/ws'))
    expect(reply.status).toBe(401)
    const resourceMetadata = `https://${SPARE}:${emu.port}/.well-known/cloudflare-access-protected-resource/ws`
    expect(reply.headers['www-authenticate']).toBe(`Bearer realm="OAuth", error="invalid_token", resource_metadata="${resourceMetadata}"`)
    expect(JSON.parse(reply.body)).toMatchObject({ error: 'invalid_token', resource_metadata: resourceMetadata })
    const metadata = await request(resourceMetadata)
    expect(JSON.parse(metadata.body)).toMatchObject({ resource: `https://${SPARE}:${emu.port}/ws` })
    expect((await request(emu.appUrl(SPARE, '/'), { headers: { 'user-agent': BROWSER_UA, accept: 'text/html,*/*' } })).status).toBe(302)
  })

  it('rejects a CORS preflight with 403', async () => {
    const reply = await request(emu.appUrl(SPARE, '/api'), { method: 'OPTIONS', headers: { origin: 'https://app.aether.test', 'access-control-request-method': 'POST' } })
    expect(reply.status).toBe(403)
  })

  it('answers a metadata HEAD with a signed type:"match" JWT', async () => {
    const reply = await request(emu.appUrl(GATEWAY, '/'), { method: 'HEAD', headers: { 'cf-access-metadata-request': 'true' } })
    expect(reply.status).toBe(200)
    const verified = await jwtVerify(String(reply.headers['cf-access-metadata']), createLocalJWKSet(await teamJwks()))
    expect(verified.payload).toMatchObject({ type: 'match', hostname: GATEWAY, auth_domain: `${TEAM}.cloudflareaccess.com`, aud: emu.app(GATEWAY).aud, app_hostname: GATEWAY })
  })

  it('answers cloudflared_token_check at the edge', async () => {
    const before = origin.requests.length
    const token = emu.issueAppToken({ host: GATEWAY })
    const reply = await request(emu.appUrl(GATEWAY, '/?cloudflared_token_check=true'), { headers: { 'cf-access-token': token } })
    expect(reply.status).toBe(200)
    expect(origin.requests.length).toBe(before)
  })
})

describe('keys (§4.2)', () => {
  it('publishes two RSA keys and certificates; the meta verifies with jose', async () => {
    const jwks = (await teamJwks()) as JSONWebKeySet & { public_cert: { kid: string; cert: string }; public_certs: { kid: string; cert: string }[] }
    expect(jwks.keys).toHaveLength(2)
    for (const key of jwks.keys) expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' })
    expect(jwks.keys[0]?.kid).toMatch(/^[0-9a-f]{64}$/)
    expect(jwks.public_cert.kid).toBe(jwks.keys[0]?.kid)
    expect(jwks.public_cert.cert).toMatch(/^-----BEGIN CERTIFICATE-----/)
    expect(jwks.public_certs.map((entry) => entry.kid)).toEqual(jwks.keys.map((key) => key.kid))
    const reply = await request(emu.appUrl(GATEWAY, '/'))
    const meta = new URL(reply.headers.location ?? '').searchParams.get('meta') ?? ''
    const verified = await jwtVerify(meta, createLocalJWKSet(jwks))
    expect(verified.protectedHeader.kid).toBe(emu.signingKeyIds.current)
    expect(verified.payload.type).toBe('meta')
  })
})

describe('TLS (per-app modes)', () => {
  function handshakeError(url: string, ca: string | null = emu.caCertPem): Promise<string> {
    return request(url, { ca }).then(
      () => 'no error',
      (error: NodeJS.ErrnoException) => error.code ?? error.message
    )
  }

  it('valid leaf is trusted only with the test CA', async () => {
    expect(await handshakeError(emu.appUrl(SPARE, '/'))).toBe('no error')
    expect(await handshakeError(emu.appUrl(SPARE, '/'), null)).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  it('expired, self-signed and wrong-host leafs fail as a client would see them', async () => {
    emu.update(SPARE, { tls: 'expired' })
    expect(await handshakeError(emu.appUrl(SPARE, '/'))).toBe('CERT_HAS_EXPIRED')
    emu.update(SPARE, { tls: 'self-signed' })
    expect(await handshakeError(emu.appUrl(SPARE, '/'))).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
    emu.update(SPARE, { tls: 'wrong-host' })
    expect(await handshakeError(emu.appUrl(SPARE, '/'))).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    // The team domain and other apps are unaffected.
    expect(await handshakeError(`${emu.teamUrl}/cdn-cgi/access/certs`)).toBe('no error')
    expect(await handshakeError(emu.appUrl(GATEWAY, '/'))).toBe('no error')
  })

  it('offers HTTP/1.1 only via ALPN', async () => {
    const tls = await import('node:tls')
    const protocol = await new Promise<string | false | null>((resolve, reject) => {
      const socket = tls.connect({ host: GATEWAY, port: emu.port, servername: GATEWAY, ca: emu.caCertPem, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        resolve(socket.alpnProtocol)
        socket.end()
      })
      socket.on('error', reject)
    })
    expect(protocol).toBe('http/1.1')
  })
})
