import nacl from 'tweetnacl'
import { describe, expect, it, vi } from 'vitest'
import {
  buildCliLoginUrl,
  decodeBase64,
  DEFAULT_TRANSFER_BASE_URL,
  discoverAccessApp,
  encodeKey,
  FED_TRANSFER_BASE_URL,
  generateTransferKeyPair,
  HttpTimeoutError,
  openTransferPayload,
  runTransferLogin,
  transferBaseUrlFor,
  transferPollUrl,
  type HttpGet,
  type HttpResponse
} from '../../../../src/main/cf-access/sign-in/transfer-login'
import { accessToken, APP_HOST, AUD, EMAIL, NOW, NOW_MS, OTHER_AUD, secretsAbsent } from './tokens'

/** What the transfer service sends: base64(nonce || box), sealed with a one-time service key. */
function seal(payload: unknown, recipient: Uint8Array, service = nacl.box.keyPair()): { body: string; header: string } {
  const nonce = nacl.randomBytes(24)
  const box = nacl.box(new TextEncoder().encode(JSON.stringify(payload)), nonce, recipient, service.secretKey)
  return { body: Buffer.concat([nonce, box]).toString('base64'), header: encodeKey(service.publicKey) }
}

function reply(status: number, body = '', headers: Record<string, string> = {}): HttpResponse {
  return { status, body, headers }
}

describe('keys and URLs', () => {
  it('a key pair travels as padded base64url (Go URLEncoding), 44 characters', () => {
    const keys = generateTransferKeyPair()
    expect(keys.publicKey).toHaveLength(32)
    expect(keys.secretKey).toHaveLength(32)
    expect(keys.publicKeyText).toMatch(/^[A-Za-z0-9_-]{43}=$/)
    expect(decodeBase64(keys.publicKeyText)).toEqual(keys.publicKey)
    expect(generateTransferKeyPair().publicKeyText).not.toBe(keys.publicKeyText)
  })

  it('decodeBase64 takes both alphabets, padded or not, and refuses junk', () => {
    const bytes = new Uint8Array([251, 255, 191, 0])
    expect(decodeBase64(Buffer.from(bytes).toString('base64'))).toEqual(bytes)
    expect(decodeBase64(Buffer.from(bytes).toString('base64url'))).toEqual(bytes)
    expect(decodeBase64('not base64!')).toBeNull()
    expect(decodeBase64('')).toBeNull()
  })

  it('builds the /cdn-cgi/access/cli URL as cloudflared does', () => {
    const url = new URL(buildCliLoginUrl({ gatewayUrl: `wss://${APP_HOST}:8443/ws?x=1`, aud: AUD, publicKeyText: 'KEY_-=' })!)
    expect(url.origin).toBe(`https://${APP_HOST}:8443`)
    expect(url.pathname).toBe('/cdn-cgi/access/cli')
    const q = url.searchParams
    expect(q.get('token')).toBe('KEY_-=')
    expect(q.get('aud')).toBe(AUD)
    expect(q.get('send_org_token')).toBe('true')
    expect(q.get('edge_token_transfer')).toBe('true')
    expect(q.get('close_interstitial')).toBe('true')
    const redirect = new URL(q.get('redirect_url')!)
    expect(`${redirect.origin}${redirect.pathname}`).toBe(`https://${APP_HOST}:8443/`)
    expect(redirect.searchParams.get('token')).toBe('KEY_-=')
    expect(redirect.searchParams.get('aud')).toBe(AUD)
  })

  it('keeps the gateway path and query when asked, and can leave the interstitial open', () => {
    const url = new URL(buildCliLoginUrl({ gatewayUrl: `https://${APP_HOST}/ws?x=1`, aud: AUD, publicKeyText: 'K', hostOnly: false, closeInterstitial: false })!)
    const redirect = new URL(url.searchParams.get('redirect_url')!)
    expect(redirect.pathname).toBe('/ws')
    expect(redirect.searchParams.get('x')).toBe('1')
    expect(url.searchParams.get('x')).toBe('1')
    expect(url.searchParams.has('close_interstitial')).toBe(false)
  })

  it('refuses non-https gateways', () => {
    expect(buildCliLoginUrl({ gatewayUrl: 'http://gw.test', aud: AUD, publicKeyText: 'K' })).toBeNull()
    expect(buildCliLoginUrl({ gatewayUrl: 'ws://gw.test', aud: AUD, publicKeyText: 'K' })).toBeNull()
    expect(buildCliLoginUrl({ gatewayUrl: '::', aud: AUD, publicKeyText: 'K' })).toBeNull()
  })

  it('poll URL and the transfer service per team domain', () => {
    expect(transferPollUrl('https://login.cloudflareaccess.org/', 'abc=')).toBe('https://login.cloudflareaccess.org/transfer/abc=')
    expect(transferPollUrl('https://h.test:9/base', 'abc=')).toBe('https://h.test:9/base/transfer/abc=')
    expect(transferBaseUrlFor('team.cloudflareaccess.com')).toBe(DEFAULT_TRANSFER_BASE_URL)
    expect(transferBaseUrlFor(undefined)).toBe(DEFAULT_TRANSFER_BASE_URL)
    expect(transferBaseUrlFor('team.fed.cloudflareaccess.com')).toBe(FED_TRANSFER_BASE_URL)
  })
})

describe('openTransferPayload', () => {
  it('opens {app_token, org_token} sealed for our key', () => {
    const keys = generateTransferKeyPair()
    const sealed = seal({ app_token: 'a.b.c', org_token: 'o.r.g' }, keys.publicKey)
    expect(openTransferPayload(sealed.body, sealed.header, keys.secretKey)).toEqual({ ok: true, tokens: { appToken: 'a.b.c', orgToken: 'o.r.g' } })
  })

  it('accepts an unpadded or standard-base64 service key header and a url-safe body', () => {
    const keys = generateTransferKeyPair()
    const service = nacl.box.keyPair()
    const sealed = seal({ app_token: 'a.b.c' }, keys.publicKey, service)
    const body = Buffer.from(sealed.body, 'base64').toString('base64url')
    expect(openTransferPayload(body, Buffer.from(service.publicKey).toString('base64'), keys.secretKey)).toEqual({ ok: true, tokens: { appToken: 'a.b.c' } })
  })

  it.each([
    ['a body that is not base64', (s: { body: string; header: string }) => ({ ...s, body: '<html>' }), 'not-base64'],
    ['no service key header', (s: { body: string; header: string }) => ({ ...s, header: '' }), 'no-service-key'],
    ['a service key of the wrong size', (s: { body: string; header: string }) => ({ ...s, header: encodeKey(new Uint8Array(16)) }), 'no-service-key'],
    ['a truncated body', (s: { body: string; header: string }) => ({ ...s, body: Buffer.from(s.body, 'base64').subarray(0, 30).toString('base64') }), 'too-short'],
    ['a tampered box', (s: { body: string; header: string }) => {
      const bytes = Buffer.from(s.body, 'base64')
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1)
      return { ...s, body: bytes.toString('base64') }
    }, 'box-not-opened'],
    ['another service key', (s: { body: string; header: string }) => ({ ...s, header: encodeKey(nacl.box.keyPair().publicKey) }), 'box-not-opened']
  ])('refuses %s', (_label, mutate, failure) => {
    const keys = generateTransferKeyPair()
    const sealed = mutate(seal({ app_token: 'a.b.c' }, keys.publicKey))
    expect(openTransferPayload(sealed.body, sealed.header, keys.secretKey)).toEqual({ ok: false, failure })
  })

  it('refuses a box sealed for someone else, non-JSON content and a payload without app_token', () => {
    const keys = generateTransferKeyPair()
    const other = generateTransferKeyPair()
    const forOther = seal({ app_token: 'x' }, other.publicKey)
    expect(openTransferPayload(forOther.body, forOther.header, keys.secretKey)).toEqual({ ok: false, failure: 'box-not-opened' })
    const service = nacl.box.keyPair()
    const nonce = nacl.randomBytes(24)
    const junk = Buffer.concat([nonce, nacl.box(new TextEncoder().encode('not json'), nonce, keys.publicKey, service.secretKey)]).toString('base64')
    expect(openTransferPayload(junk, encodeKey(service.publicKey), keys.secretKey)).toEqual({ ok: false, failure: 'not-json' })
    const empty = seal({ org_token: 'o' }, keys.publicKey)
    expect(openTransferPayload(empty.body, empty.header, keys.secretKey)).toEqual({ ok: false, failure: 'no-app-token' })
  })
})

describe('runTransferLogin (stub transfer service)', () => {
  const gatewayUrl = `wss://${APP_HOST}/ws`

  /** A transfer service that says "not yet" `waits` times, then hands over `payload`. */
  function stubService(opts: { waits?: number; payload?: (recipient: Uint8Array) => HttpResponse; statusWhileWaiting?: number }) {
    let recipient: Uint8Array | undefined
    const polls: string[] = []
    let waits = opts.waits ?? 0
    const http: HttpGet = async (url) => {
      polls.push(url)
      if (waits > 0) {
        waits--
        return reply(opts.statusWhileWaiting ?? 404)
      }
      return opts.payload ? opts.payload(recipient!) : reply(404)
    }
    return {
      http,
      polls,
      openExternal: (url: string) => {
        recipient = decodeBase64(new URL(url).searchParams.get('token')!)!
      }
    }
  }

  const fast = { now: () => NOW_MS, sleep: async () => undefined, transferBaseUrl: 'https://transfer.test/' }

  it('polls until the sealed tokens arrive, then checks the app token', async () => {
    const appToken = await accessToken()
    const orgToken = await accessToken({ type: 'org' })
    const service = stubService({ waits: 3, payload: (r) => {
      const s = seal({ app_token: appToken, org_token: orgToken }, r)
      return reply(200, s.body, { 'service-public-key': s.header })
    } })
    const onLoginUrl = vi.fn()
    const result = await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http: service.http, openExternal: service.openExternal, onLoginUrl })
    expect(result).toMatchObject({ ok: true, value: { token: appToken, orgToken, email: EMAIL, aud: AUD, expiresAtMs: (NOW + 86_400) * 1000 } })
    expect(service.polls).toHaveLength(4)
    expect(service.polls[0]).toMatch(/^https:\/\/transfer\.test\/transfer\/[A-Za-z0-9_-]{43}=$/)
    expect(onLoginUrl).toHaveBeenCalledWith(expect.stringContaining(`https://${APP_HOST}/cdn-cgi/access/cli?`), true)
  })

  it('keeps waiting on any non-200 below 500, and on an empty 200', async () => {
    const appToken = await accessToken()
    let n = 0
    let recipient: Uint8Array | undefined
    const http: HttpGet = async () => {
      n++
      if (n === 1) return reply(401)
      if (n === 2) return reply(200, '')
      if (n === 3) return reply(408)
      const s = seal({ app_token: appToken }, recipient!)
      return reply(200, s.body, { 'service-public-key': s.header })
    }
    const result = await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http, openExternal: (url) => (recipient = decodeBase64(new URL(url).searchParams.get('token')!)!) })
    expect(result.ok).toBe(true)
  })

  it('a long poll that times out is a "not yet", not an error', async () => {
    const appToken = await accessToken()
    let n = 0
    let recipient: Uint8Array | undefined
    const http: HttpGet = async (_url, options) => {
      n++
      if (n < 3) throw new HttpTimeoutError(options.timeoutMs)
      const s = seal({ app_token: appToken }, recipient!)
      return reply(200, s.body, { 'service-public-key': s.header })
    }
    expect((await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http, openExternal: (url) => (recipient = decodeBase64(new URL(url).searchParams.get('token')!)!) })).ok).toBe(true)
  })

  it('a 5xx from the transfer service is an error at once', async () => {
    const service = stubService({ waits: 1, payload: () => reply(502, 'bad gateway') })
    const result = await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http: service.http, openExternal: service.openExternal })
    expect(result).toMatchObject({ ok: false, reason: 'transfer-error', error: { code: 'CLOUDFLARE_ERROR', details: { httpStatus: 502 } } })
  })

  it('gives up after maxPolls with a timeout', async () => {
    const service = stubService({ waits: 100 })
    const result = await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http: service.http, openExternal: service.openExternal, maxPolls: 10 })
    expect(result).toMatchObject({ ok: false, reason: 'timeout', error: { code: 'TIMEOUT' } })
    expect(service.polls).toHaveLength(10)
  })

  it('gives up at the deadline, and spaces polls that return at once', async () => {
    let clock = NOW_MS
    const sleeps: number[] = []
    const service = stubService({ waits: 1_000 })
    const result = await runTransferLogin({
      gatewayUrl,
      aud: AUD,
      http: service.http,
      openExternal: service.openExternal,
      transferBaseUrl: 'https://transfer.test/',
      maxPolls: 1_000,
      deadlineMs: 5_000,
      minPollIntervalMs: 1_000,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms)
        clock += ms
      }
    })
    expect(result).toMatchObject({ ok: false, reason: 'timeout' })
    expect(service.polls).toHaveLength(5)
    expect(sleeps.every((ms) => ms === 1_000)).toBe(true)
  })

  it('refuses an answer it cannot open', async () => {
    const service = stubService({ payload: () => {
      const s = seal({ app_token: 'x' }, generateTransferKeyPair().publicKey)
      return reply(200, s.body, { 'service-public-key': s.header })
    } })
    expect(await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http: service.http, openExternal: service.openExternal })).toMatchObject({
      ok: false,
      reason: 'undecryptable',
      error: { details: { check: 'transfer-box-not-opened' } }
    })
  })

  it.each([
    ['another application', { aud: [OTHER_AUD] }, 'audience'],
    ['the org token passed as app token', { type: 'org' }, 'type'],
    ['an expired token', { exp: NOW - 1, iat: NOW - 100, nbf: NOW - 100 }, 'expired']
  ])('checks the app token like a captured cookie: refuses %s', async (_label, claims, check) => {
    const token = await accessToken(claims)
    const service = stubService({ payload: (r) => {
      const s = seal({ app_token: token }, r)
      return reply(200, s.body, { 'service-public-key': s.header })
    } })
    const result = await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http: service.http, openExternal: service.openExternal })
    expect(result).toMatchObject({ ok: false, reason: 'token-rejected', error: { details: { check } } })
    if (!result.ok) expect(secretsAbsent(result.error, token)).toBe(true)
  })

  it('when the browser cannot be opened, the URL is still handed out and the poll goes on', async () => {
    const appToken = await accessToken()
    const keys = generateTransferKeyPair()
    const onLoginUrl = vi.fn()
    const http: HttpGet = async () => {
      const s = seal({ app_token: appToken }, keys.publicKey)
      return reply(200, s.body, { 'service-public-key': s.header })
    }
    const result = await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http, keyPair: keys, onLoginUrl, openExternal: () => Promise.reject(new Error('no browser')) })
    expect(result.ok).toBe(true)
    expect(onLoginUrl).toHaveBeenCalledWith(expect.stringContaining('/cdn-cgi/access/cli?'), false)
  })

  it('an abort cancels the wait', async () => {
    const controller = new AbortController()
    const http: HttpGet = async () => {
      controller.abort()
      return reply(404)
    }
    expect(await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http, openExternal: () => undefined, signal: controller.signal })).toMatchObject({ ok: false, reason: 'cancelled', error: { code: 'CANCELLED' } })
  })

  it('a network failure of the poll is classified', async () => {
    const http: HttpGet = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    }
    expect(await runTransferLogin({ ...fast, gatewayUrl, aud: AUD, http, openExternal: () => undefined })).toMatchObject({ ok: false, reason: 'network', error: { code: 'CONNECTION_REFUSED' } })
  })

  it('a transfer service that cannot be reached is named as such, not as the gateway address', async () => {
    const http: HttpGet = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND login.cloudflareaccess.org'), { code: 'ENOTFOUND' })
    }
    const result = await runTransferLogin({ ...fast, transferBaseUrl: DEFAULT_TRANSFER_BASE_URL, gatewayUrl, aud: AUD, http, openExternal: () => undefined })
    expect(result).toMatchObject({ ok: false, reason: 'network', error: { code: 'DNS_NOT_FOUND', title: 'Token transfer service not reachable', details: { host: 'login.cloudflareaccess.org', systemCode: 'ENOTFOUND' } } })
    if (result.ok) return
    expect(result.error.message).toContain('token transfer service at login.cloudflareaccess.org')
    expect(result.error.message).not.toMatch(/AETHER_CF_TRANSFER_URL/)
    const advice = [...(result.error.nextSteps ?? []).map((s) => s.label), ...(result.error.likelyCauses ?? [])].join('\n')
    expect(advice).toMatch(/proxy/)
    expect(advice).toMatch(/firewall/)
    expect(advice).not.toMatch(/gateway URL|gateway address|gateway running/i)
  })

  it('names the setting the transfer service came from when it cannot be reached', async () => {
    const http: HttpGet = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })
    }
    const result = await runTransferLogin({ ...fast, transferBaseUrl: 'https://127.0.0.1:9/', transferBaseUrlFrom: 'AETHER_CF_TRANSFER_URL', gatewayUrl, aud: AUD, http, openExternal: () => undefined })
    expect(result).toMatchObject({ ok: false, error: { code: 'CONNECTION_REFUSED', title: 'Token transfer service not reachable' } })
    if (result.ok) return
    expect(result.error.message).toContain('127.0.0.1:9 (set by AETHER_CF_TRANSFER_URL)')
    expect(result.error.message).not.toMatch(/gateway/i)
    expect(result.error.nextSteps?.map((s) => s.label).join('\n')).toContain('Check AETHER_CF_TRANSFER_URL, or unset it')
  })

  it('refuses a non-https gateway', async () => {
    expect(await runTransferLogin({ ...fast, gatewayUrl: 'ws://127.0.0.1:18789', http: async () => reply(404), openExternal: () => undefined })).toMatchObject({ ok: false, reason: 'invalid-url' })
  })
})

describe('discoverAccessApp (stub edge)', () => {
  const metadata = (claims: Record<string, unknown>) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`

  it('reads the signed metadata answer first', async () => {
    const http: HttpGet = async (_url, o) => (o.method === 'HEAD' ? reply(200, '', { 'cf-access-metadata': metadata({ type: 'match', hostname: APP_HOST, aud: AUD, auth_domain: 'team.cloudflareaccess.com' }) }) : reply(500))
    expect(await discoverAccessApp(`wss://${APP_HOST}/ws`, http)).toEqual({ ok: true, value: { aud: AUD, appHost: APP_HOST, teamDomain: 'team.cloudflareaccess.com', source: 'metadata' } })
  })

  it('falls back to the login redirect when the metadata is missing or for another host', async () => {
    for (const head of [reply(200), reply(200, '', { 'cf-access-metadata': metadata({ type: 'match', hostname: 'other.test', aud: AUD }) }), reply(405)]) {
      const http: HttpGet = async (_url, o) =>
        o.method === 'HEAD' ? head : reply(302, '', { location: `https://team.cloudflareaccess.com/cdn-cgi/access/login/${APP_HOST}?kid=${AUD}&redirect_url=%2F` })
      expect(await discoverAccessApp(`https://${APP_HOST}`, http)).toEqual({ ok: true, value: { aud: AUD, appHost: APP_HOST, teamDomain: 'team.cloudflareaccess.com', source: 'login-redirect' } })
    }
  })

  it('a gateway that answers without Access is not behind Access', async () => {
    const http: HttpGet = async () => reply(200, '<html>gateway</html>')
    expect(await discoverAccessApp(`https://${APP_HOST}`, http)).toMatchObject({ ok: false, reason: 'not-behind-access', error: { code: 'INVALID_INPUT', details: { httpStatus: 200 } } })
  })

  /** An edge that never answers: each request uses up its whole limit on the injected clock. */
  function silentEdge(clock: { ms: number }, answer?: (method: string) => HttpResponse | undefined) {
    const asked: { method: string; timeoutMs: number }[] = []
    const http: HttpGet = async (_url, o) => {
      asked.push({ method: o.method, timeoutMs: o.timeoutMs })
      const answered = answer?.(o.method)
      if (answered) return answered
      clock.ms += o.timeoutMs
      throw new HttpTimeoutError(o.timeoutMs)
    }
    return { http, asked }
  }

  it('HEAD and GET share one 15 s limit, and the timeout says 15 s', async () => {
    const clock = { ms: NOW_MS }
    const edge = silentEdge(clock)
    const result = await discoverAccessApp(`wss://${APP_HOST}`, edge.http, { now: () => clock.ms })
    expect(result).toMatchObject({ ok: false, reason: 'network', error: { code: 'TIMEOUT', details: { timeoutMs: 15_000 } } })
    if (!result.ok) expect(result.error.message).toContain('within 15 s')
    expect(edge.asked.map((a) => a.method)).toEqual(['HEAD', 'GET'])
    expect(clock.ms - NOW_MS).toBeLessThanOrEqual(15_000)
  })

  it('a shorter limit is kept as the whole limit, and named', async () => {
    const clock = { ms: NOW_MS }
    const edge = silentEdge(clock)
    const result = await discoverAccessApp(`wss://${APP_HOST}`, edge.http, { now: () => clock.ms, timeoutMs: 5_000 })
    expect(result).toMatchObject({ ok: false, error: { code: 'TIMEOUT', details: { timeoutMs: 5_000 } } })
    if (!result.ok) expect(result.error.message).toContain('within 5 s')
    expect(clock.ms - NOW_MS).toBeLessThanOrEqual(5_000)
  })

  it('a HEAD that is never answered falls through to the GET: not behind Access', async () => {
    const clock = { ms: NOW_MS }
    const edge = silentEdge(clock, (method) => (method === 'GET' ? reply(200, '<html>gateway</html>') : undefined))
    const result = await discoverAccessApp(`wss://${APP_HOST}`, edge.http, { now: () => clock.ms })
    expect(result).toMatchObject({ ok: false, reason: 'not-behind-access', error: { code: 'INVALID_INPUT', details: { httpStatus: 200 } } })
    expect(edge.asked).toEqual([{ method: 'HEAD', timeoutMs: 7_500 }, { method: 'GET', timeoutMs: 7_500 }])
  })

  it('a HEAD answered by a broken connection falls through to the GET; the login redirect still names the app', async () => {
    const http: HttpGet = async (_url, o) => {
      if (o.method === 'HEAD') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
      return reply(302, '', { location: `https://team.cloudflareaccess.com/cdn-cgi/access/login/${APP_HOST}?kid=${AUD}&redirect_url=%2F` })
    }
    expect(await discoverAccessApp(`https://${APP_HOST}`, http)).toMatchObject({ ok: true, value: { aud: AUD, source: 'login-redirect' } })
  })

  it('a HEAD that meets a connection-level failure ends discovery at once (no GET to repeat it)', async () => {
    const methods: string[] = []
    const http: HttpGet = async (_url, o) => {
      methods.push(o.method)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${APP_HOST}`), { code: 'ENOTFOUND' })
    }
    expect(await discoverAccessApp(`https://${APP_HOST}`, http)).toMatchObject({ ok: false, reason: 'network', error: { code: 'DNS_NOT_FOUND' } })
    expect(methods).toEqual(['HEAD'])
  })

  it('runTransferLogin: discovery counts against the sign-in limit', async () => {
    const clock = { ms: NOW_MS }
    const edge = silentEdge(clock)
    const openExternal = vi.fn()
    const result = await runTransferLogin({ gatewayUrl: `https://${APP_HOST}`, http: edge.http, openExternal, deadlineMs: 4_000, now: () => clock.ms, sleep: async () => undefined })
    expect(result).toMatchObject({ ok: false, reason: 'network', error: { code: 'TIMEOUT', details: { timeoutMs: 4_000 } } })
    expect(clock.ms - NOW_MS).toBeLessThanOrEqual(4_000)
    expect(openExternal).not.toHaveBeenCalled()
  })

  it('runTransferLogin discovers the AUD when none is given and fails clearly when it cannot', async () => {
    const http: HttpGet = async () => reply(200)
    const openExternal = vi.fn()
    expect(await runTransferLogin({ gatewayUrl: `https://${APP_HOST}`, http, openExternal })).toMatchObject({ ok: false, reason: 'not-behind-access' })
    expect(openExternal).not.toHaveBeenCalled()
  })
})
