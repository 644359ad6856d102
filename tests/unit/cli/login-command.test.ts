import { readFileSync } from 'node:fs'
import { EventEmitter } from 'node:events'
import nacl from 'tweetnacl'
import { describe, expect, it } from 'vitest'
import { parseCliArgs, USAGE, type LoginArgs } from '../../../src/cli/args'
import { withLoginCommand } from '../../../src/cli/commands/connect'
import { describeTimeLeft, runLogin, transferBaseUrl, type LoginDeps } from '../../../src/cli/commands/login'
import { formatError } from '../../../src/cli/output'
import { appError } from '../../../src/shared/errors'
import { openerCommand, openInBrowser, type SpawnLike } from '../../../src/cli/open-browser'
import { decodeBase64, encodeKey, HttpTimeoutError, type HttpGet, type HttpResponse } from '../../../src/main/cf-access/sign-in/transfer-login'
import { targetFromUrlWithStore } from '../../../src/main/gateway/connect-target'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { secretKeys, urlTargetId } from '../../../src/main/secrets/secret-store'
import { accessToken, APP_HOST, AUD, EMAIL, NOW_MS, OTHER_AUD, TEAM_DOMAIN } from '../cf-access/sign-in/tokens'
import { harness, profilesFile } from './helpers'

const GATEWAY = `wss://${APP_HOST}`
const TRANSFER = 'https://transfer.example.test/'
/** The address as the CLI normalises it (and as `connect --url` computes its target id). */
const HREF = `${GATEWAY}/`

const login = (over: Partial<LoginArgs> = {}): LoginArgs => ({ command: 'login', url: GATEWAY, json: true, noBrowser: true, ...over })

function reply(status: number, body = '', headers: Record<string, string> = {}): HttpResponse {
  return { status, body, headers }
}

/**
 * The edge and the transfer service: a 302 to the team login naming the AUD, then polls that
 * answer "not yet" `waits` times before `answer` (default: the sealed app token).
 */
function fakeEdge(opts: { token?: string; waits?: number; answer?: (recipient: Uint8Array) => HttpResponse; notBehindAccess?: boolean; clock?: { ms: number } } = {}) {
  const requests: { url: string; method: string }[] = []
  let waits = opts.waits ?? 0
  const http: HttpGet = async (url, options) => {
    requests.push({ url, method: options.method })
    if (opts.clock) opts.clock.ms += 1000
    if (url.startsWith(TRANSFER)) {
      if (options.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' })
      const key = decodeBase64(decodeURIComponent(url.slice(`${TRANSFER}transfer/`.length)))!
      if (waits > 0) {
        waits--
        return reply(404)
      }
      if (opts.answer) return opts.answer(key)
      const service = nacl.box.keyPair()
      const nonce = nacl.randomBytes(24)
      const box = nacl.box(new TextEncoder().encode(JSON.stringify({ app_token: opts.token })), nonce, key, service.secretKey)
      return reply(200, Buffer.concat([nonce, box]).toString('base64'), { 'service-public-key': encodeKey(service.publicKey) })
    }
    if (options.method === 'HEAD') return reply(200)
    if (opts.notBehindAccess) return reply(200, '<html>gateway</html>')
    return reply(302, '', { location: `https://${TEAM_DOMAIN}/cdn-cgi/access/login/${APP_HOST}?kid=${AUD}&redirect_url=%2F` })
  }
  return { http, requests }
}

function deps(http: HttpGet, over: LoginDeps = {}): LoginDeps {
  return { http, now: () => NOW_MS, minPollIntervalMs: 0, openUrl: async () => undefined, ...over }
}

const env = { AETHER_CF_TRANSFER_URL: TRANSFER }

describe('login arguments', () => {
  it('takes --url, --profile, --json, --no-browser, --timeout and --ca-file', () => {
    const r = parseCliArgs(['login', '--url', 'https://gw.example.com', '--profile', 'edge', '--json', '--no-browser', '--timeout', '90', '--ca-file', 'ca.pem'])
    expect(r.ok && r.value).toEqual({ command: 'login', url: 'https://gw.example.com', profile: 'edge', json: true, noBrowser: true, timeoutSec: 90, caFile: 'ca.pem' })
    expect(parseCliArgs(['login', '--profile', 'edge']).ok).toBe(true)
    expect(parseCliArgs(['login', '--url', 'wss://gw.example.com']).ok && parseCliArgs(['login', '--url', 'wss://gw.example.com'])).toMatchObject({
      value: { command: 'login', json: false, noBrowser: false }
    })
  })
  it.each([
    [['login'], /needs --url/],
    [['login', '--url', ''], /--url is empty/],
    [['login', '--url', 'wss://x', '--timeout', '0'], /--timeout takes a number of seconds from 1 to 3600/],
    [['login', '--url', 'wss://x', '--timeout', 'soon'], /--timeout/],
    [['login', '--url', 'wss://x', '--browser'], /Unknown option/],
    [['login', '--url', 'wss://x', 'extra'], /positional/i],
    [['login', '--url', 'wss://x', '--app-token', 'eyJ'], /AETHER_CF_APP_TOKEN/]
  ])('%j is refused (exit 2)', (argv, message) => {
    const r = parseCliArgs(argv)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('INVALID_INPUT')
      expect(r.error.message).toMatch(message)
    }
  })
  it('login -h shows the usage, which documents login and AETHER_CF_TRANSFER_URL', () => {
    expect(parseCliArgs(['login', '-h'])).toEqual({ ok: true, value: { command: 'help', topic: 'login' } })
    expect(USAGE).toMatch(/npm run cli -- login --url/)
    expect(USAGE).toMatch(/--no-browser/)
    expect(USAGE).toMatch(/AETHER_CF_TRANSFER_URL/)
  })
})

describe('small helpers', () => {
  it('time left reads naturally', () => {
    expect(describeTimeLeft(30_000)).toBe('in 30 s')
    expect(describeTimeLeft(4 * 60_000)).toBe('in 4 min')
    expect(describeTimeLeft(24 * 3600_000)).toBe('in 24 h')
    expect(describeTimeLeft(23 * 3600_000 + 59 * 60_000)).toBe('in 23 h 59 min')
    expect(describeTimeLeft(30 * 24 * 3600_000)).toBe('in 30 days')
  })
  it('the transfer service: per team domain, or AETHER_CF_TRANSFER_URL (https only)', () => {
    expect(transferBaseUrl({}, TEAM_DOMAIN)).toEqual({ ok: true, url: 'https://login.cloudflareaccess.org/', overridden: false })
    expect(transferBaseUrl({}, 'x.fed.cloudflareaccess.com')).toMatchObject({ url: 'https://login.fed.cloudflareaccess.org/' })
    expect(transferBaseUrl({ AETHER_CF_TRANSFER_URL: 'https://t.example:8443/' }, TEAM_DOMAIN)).toEqual({ ok: true, url: 'https://t.example:8443/', overridden: true })
    expect(transferBaseUrl({ AETHER_CF_TRANSFER_URL: 'http://t.example/' }, undefined)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } })
    expect(transferBaseUrl({ AETHER_CF_TRANSFER_URL: 'nonsense' }, undefined)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } })
  })
})

describe('login --url', () => {
  it('prints the URL, waits, stores the checked token under the address, and never prints it', async () => {
    const token = await accessToken()
    const edge = fakeEdge({ token, waits: 2 })
    const h = harness({ json: true, env })
    const code = await runLogin(login(), h.ctx, deps(edge.http))
    expect(code).toBe(0)
    const lines = h.lines()
    expect(lines.map((l) => l.type)).toEqual(['access-app', 'login-url', 'waiting', 'signed-in'])
    expect(lines[0]).toMatchObject({ host: APP_HOST, aud: AUD, teamDomain: TEAM_DOMAIN, transferUrl: TRANSFER })
    const url = new URL(lines[1]!.url as string)
    expect(`${url.origin}${url.pathname}`).toBe(`https://${APP_HOST}/cdn-cgi/access/cli`)
    expect(url.searchParams.get('aud')).toBe(AUD)
    expect(lines[1]).toMatchObject({ opened: false, reason: 'not asked to (--no-browser)' })
    expect(lines[3]).toEqual({ type: 'signed-in', host: APP_HOST, email: EMAIL, expiresAt: new Date(NOW_MS + 24 * 3600_000).toISOString(), aud: AUD, url: HREF, stored: 'keychain' })
    expect(await h.store.get(secretKeys.cfAppToken(urlTargetId(GATEWAY)))).toBe(token)
    expect(h.stdout() + h.stderr()).not.toContain(token.split('.')[1])
    expect(edge.requests.filter((r) => r.url.startsWith(TRANSFER))).toHaveLength(3)
  })

  it('human output: the browser was opened, the waiting line, who signed in and until when', async () => {
    const token = await accessToken()
    const opened: string[] = []
    const h = harness({ env })
    const code = await runLogin(login({ json: false, noBrowser: false }), h.ctx, deps(fakeEdge({ token }).http, { openUrl: async (u) => void opened.push(u) }))
    expect(code).toBe(0)
    expect(opened).toHaveLength(1)
    expect(h.stderr()).toContain('Opened the Cloudflare Access sign-in page in your browser')
    expect(h.stderr()).toContain(opened[0])
    expect(h.stderr()).toContain('Waiting for you to sign in in the browser\u2026')
    expect(h.stdout()).toContain(`Signed in to ${APP_HOST} as ${EMAIL}. The sign-in expires at 2026-06-02T12:00:00.000Z (in 24 h).`)
    expect(h.stdout()).toContain(`Stored in the keychain for ${HREF}; \`npm run cli -- connect --url ${HREF}\` uses it.`)
    expect(h.stdout() + h.stderr()).not.toContain(token)
  })

  it('a browser that cannot be opened: the URL is printed with the reason', async () => {
    const h = harness({ env })
    const code = await runLogin(
      login({ json: false, noBrowser: false }),
      h.ctx,
      deps(fakeEdge({ token: await accessToken() }).http, { openUrl: async () => Promise.reject(new Error('xdg-open is not installed')) })
    )
    expect(code).toBe(0)
    expect(h.stderr()).toMatch(/Could not open a browser \(xdg-open is not installed\)\. Open this URL in a browser to sign in:\n {2}https:\/\//)
  })

  it('without a keychain: says honestly that the sign-in is not kept', async () => {
    const h = harness({ env, keychain: false })
    expect(await runLogin(login({ json: false }), h.ctx, deps(fakeEdge({ token: await accessToken() }).http))).toBe(0)
    expect(h.stderr()).toContain('No keychain available')
    expect(h.stdout()).toMatch(/kept in memory only and is gone when this command ends/)
    expect(h.stdout()).not.toContain('Stored in the keychain')
    const json = harness({ env, keychain: false, json: true })
    await runLogin(login(), json.ctx, deps(fakeEdge({ token: await accessToken() }).http))
    expect(json.lines().find((l) => l.type === 'signed-in')).toMatchObject({ stored: 'memory' })
  })

  it('replaces a stale binding cookie of an earlier sign-in', async () => {
    const h = harness({ env })
    await h.store.set(secretKeys.cfBinding(urlTargetId(GATEWAY)), 'old-binding')
    expect(await runLogin(login(), h.ctx, deps(fakeEdge({ token: await accessToken() }).http))).toBe(0)
    expect(await h.store.get(secretKeys.cfBinding(urlTargetId(GATEWAY)))).toBeNull()
  })
})

describe('login failures', () => {
  it('no Access in front of the URL: a clear input error before any browser (exit 2)', async () => {
    const opened: string[] = []
    const h = harness({ env })
    const code = await runLogin(login({ json: false }), h.ctx, deps(fakeEdge({ notBehindAccess: true }).http, { openUrl: async (u) => void opened.push(u) }))
    expect(code).toBe(2)
    expect(h.stderr()).toContain('error: No Cloudflare Access application found [INVALID_INPUT]')
    expect(h.stderr()).toContain('HTTP 200 without a login redirect')
    expect(opened).toHaveLength(0)
  })

  it('plain ws:// is refused (exit 2); so is a bad transfer URL override', async () => {
    const h = harness({ json: true, env })
    expect(await runLogin(login({ url: 'ws://gw.example.com' }), h.ctx, deps(fakeEdge().http))).toBe(2)
    expect(h.lines()[0]).toMatchObject({ type: 'error', code: 'INVALID_INPUT', title: 'Cloudflare Access sign-in needs wss:// or https://' })
    const bad = harness({ json: true, env: { AETHER_CF_TRANSFER_URL: 'http://t.example/' } })
    expect(await runLogin(login(), bad.ctx, deps(fakeEdge().http))).toBe(2)
    expect(bad.lines()[0]).toMatchObject({ code: 'INVALID_INPUT', title: 'Invalid transfer service address' })
  })

  it('http:// is refused quoting what was typed, and says Access sign-in needs https:// or wss://', async () => {
    const h = harness({ json: true, env })
    expect(await runLogin(login({ url: 'http://gw.example.com' }), h.ctx, deps(fakeEdge().http))).toBe(2)
    const message = String(h.lines()[0]?.message)
    expect(message).toContain('http://gw.example.com is a plain http:// address')
    expect(message).toContain('needs https:// or wss://')
    expect(message).not.toContain('ws://gw.example.com/')
  })

  it('the refusal of a plain address shows no password, query value or fragment of it', async () => {
    for (const url of ['http://x/#password=FRAGSECRET', 'http://x/?q=QUERYSECRET123', 'ws://u:PWSECRET@x/']) {
      const h = harness({ json: true, env })
      expect(await runLogin(login({ url }), h.ctx, deps(fakeEdge().http))).toBe(2)
      expect(JSON.stringify(h.lines())).not.toMatch(/FRAGSECRET|QUERYSECRET123|PWSECRET/)
    }
  })

  it('an edge that never answers: --timeout bounds the discovery too, and the error names that limit (exit 7)', async () => {
    const clock = { ms: NOW_MS }
    const limits: number[] = []
    const http: HttpGet = async (_url, options) => {
      limits.push(options.timeoutMs)
      clock.ms += options.timeoutMs
      throw new HttpTimeoutError(options.timeoutMs)
    }
    const h = harness({ json: true, env })
    const code = await runLogin(login({ timeoutSec: 5 }), h.ctx, deps(http, { now: () => clock.ms }))
    expect(code).toBe(7)
    expect(h.lines().at(-1)).toMatchObject({ type: 'error', code: 'TIMEOUT', details: { timeoutMs: 5_000 } })
    expect(String(h.lines().at(-1)?.message)).toContain('within 5 s')
    expect(clock.ms - NOW_MS).toBeLessThanOrEqual(5_000)
    expect(limits).toHaveLength(2)
  })

  it('without --timeout, discovery still has one 15 s limit for HEAD and GET together', async () => {
    const clock = { ms: NOW_MS }
    const http: HttpGet = async (_url, options) => {
      clock.ms += options.timeoutMs
      throw new HttpTimeoutError(options.timeoutMs)
    }
    const h = harness({ json: true, env })
    expect(await runLogin(login(), h.ctx, deps(http, { now: () => clock.ms }))).toBe(7)
    expect(String(h.lines().at(-1)?.message)).toContain('within 15 s')
    expect(clock.ms - NOW_MS).toBeLessThanOrEqual(15_000)
  })

  it('a transfer service that cannot be reached is blamed, with AETHER_CF_TRANSFER_URL, not the gateway address (exit 6)', async () => {
    const inner = fakeEdge()
    const http: HttpGet = async (url, options) => {
      if (url.startsWith(TRANSFER)) throw Object.assign(new Error('getaddrinfo ENOTFOUND transfer.example.test'), { code: 'ENOTFOUND' })
      return inner.http(url, options)
    }
    const h = harness({ env })
    expect(await runLogin(login({ json: false }), h.ctx, deps(http))).toBe(6)
    const err = h.stderr()
    expect(err).toContain('error: Token transfer service not reachable [DNS_NOT_FOUND]')
    expect(err).toContain('transfer.example.test (set by AETHER_CF_TRANSFER_URL)')
    expect(err).toMatch(/network, proxy and firewall/)
    expect(err).not.toContain('Check the host name in the gateway URL')
    expect(err).not.toContain('Gateway address not found')
  })

  it('nobody signs in before --timeout: exit 7', async () => {
    const clock = { ms: NOW_MS }
    const edge = fakeEdge({ waits: 1000, clock })
    const h = harness({ json: true, env })
    const code = await runLogin(login({ timeoutSec: 5 }), h.ctx, deps(edge.http, { now: () => clock.ms }))
    expect(code).toBe(7)
    expect(h.lines().at(-1)).toMatchObject({ type: 'error', code: 'TIMEOUT', exitCode: 7, details: { timeoutMs: 5000 } })
  })

  it('a long poll that runs out of time is "not yet", not an error', async () => {
    const token = await accessToken()
    const inner = fakeEdge({ token })
    let timeouts = 2
    const http: HttpGet = async (url, options) => {
      if (url.startsWith(TRANSFER) && timeouts-- > 0) throw new HttpTimeoutError(options.timeoutMs)
      return inner.http(url, options)
    }
    const h = harness({ json: true, env })
    expect(await runLogin(login(), h.ctx, deps(http))).toBe(0)
  })

  it('a 5xx from the transfer service: exit 6 with the status', async () => {
    const h = harness({ json: true, env })
    const code = await runLogin(login(), h.ctx, deps(fakeEdge({ answer: () => reply(503) }).http))
    expect(code).toBe(6)
    expect(h.lines().at(-1)).toMatchObject({ code: 'CLOUDFLARE_ERROR', details: { httpStatus: 503 } })
  })

  it('a token for another application is refused and not stored (exit 3)', async () => {
    const h = harness({ json: true, env })
    const code = await runLogin(login(), h.ctx, deps(fakeEdge({ token: await accessToken({ aud: [OTHER_AUD] }) }).http))
    expect(code).toBe(3)
    expect(await h.store.get(secretKeys.cfAppToken(urlTargetId(GATEWAY)))).toBeNull()
  })

  it('Ctrl-C while waiting: "Sign-in cancelled", exit 130, nothing stored', async () => {
    const abort = new AbortController()
    const inner = fakeEdge({ waits: 1000 })
    let polls = 0
    const http: HttpGet = async (url, options) => {
      if (url.startsWith(TRANSFER) && ++polls === 3) abort.abort()
      return inner.http(url, options)
    }
    const h = harness({ env })
    const code = await runLogin(login({ json: false }), h.ctx, deps(http, { signal: abort.signal }))
    expect(code).toBe(130)
    expect(h.stderr()).toContain('Sign-in cancelled.')
    expect(await h.store.get(secretKeys.cfAppToken(urlTargetId(GATEWAY)))).toBeNull()
  })
})

describe('login --profile', () => {
  it('creates the profile with --url: access email-otp with the AUD, token under the profile id', async () => {
    const token = await accessToken()
    const h = harness({ env })
    expect(await runLogin(login({ profile: 'edge', json: false }), h.ctx, deps(fakeEdge({ token }).http))).toBe(0)
    const saved = (JSON.parse(readFileSync(profilesFile(h.configDir), 'utf8')) as { profiles: { id: string; name: string; url: string; access: unknown }[] }).profiles
    expect(saved).toHaveLength(1)
    expect(saved[0]).toMatchObject({ name: 'edge', url: HREF, access: { mode: 'email-otp', aud: AUD } })
    expect(await h.store.get(secretKeys.cfAppToken(saved[0]!.id))).toBe(token)
    expect(h.stdout()).toContain('Stored in the keychain for profile "edge"; `npm run cli -- connect --profile edge` uses it.')
  })

  it('updates a saved profile (keeping its session and options), and says when its access mode changed', async () => {
    const h = harness({ env })
    const first = await h.ctx.profiles().save({ name: 'edge', url: GATEWAY, sessionKey: 'agent:main:ops', access: { mode: 'service-token', clientId: 'abc.access' }, options: { connectTimeoutMs: 9000 } })
    expect(first.ok).toBe(true)
    expect(await runLogin(login({ url: undefined, profile: 'EDGE', json: false }), h.ctx, deps(fakeEdge({ token: await accessToken() }).http))).toBe(0)
    const p = (await h.ctx.profiles().load()).profiles[0]!
    expect(p).toMatchObject({ name: 'edge', sessionKey: 'agent:main:ops', access: { mode: 'email-otp', aud: AUD }, options: { connectTimeoutMs: 9000 } })
    expect(p.access.clientId).toBeUndefined()
    expect(h.stderr()).toContain('used Cloudflare Access "service-token"; it now signs in with this browser sign-in (email-otp)')
  })

  it('an unknown profile without --url, or a --url that is not the profile\u2019s, is refused', async () => {
    const h = harness({ json: true, env })
    expect(await runLogin(login({ url: undefined, profile: 'nope' }), h.ctx, deps(fakeEdge().http))).toBe(2)
    expect(h.lines()[0]).toMatchObject({ code: 'PROFILE_NOT_FOUND' })
    const m = harness({ json: true, env })
    await m.ctx.profiles().save({ name: 'edge', url: 'wss://other.example.com' })
    expect(await runLogin(login({ profile: 'edge' }), m.ctx, deps(fakeEdge().http))).toBe(2)
    expect(m.lines()[0]).toMatchObject({ code: 'INVALID_INPUT', title: 'The address does not match the profile' })
  })
})

describe('connect --url finds what login --url stored', () => {
  it('uses the stored app token (and binding) when the environment has no Access credential', async () => {
    const store = new MemorySecretStore()
    const id = urlTargetId('wss://gw.example.com')
    await store.set(secretKeys.cfAppToken(id), 'aaa.bbb.ccc')
    await store.set(secretKeys.cfBinding(id), 'bind')
    const r = await targetFromUrlWithStore('https://GW.example.com/', store, { gatewayToken: 'tok' })
    expect(r.ok && r.value.target.access).toEqual({ kind: 'app-token', token: 'aaa.bbb.ccc', binding: 'bind' })
    expect(r.ok && r.value.usedStoredSignIn).toBe(true)
    expect(r.ok && r.value.target.targetId).toBe(id)
  })
  it('the environment wins: AETHER_CF_APP_TOKEN or a service token, and the keychain is not even opened', async () => {
    const store = new MemorySecretStore()
    await store.set(secretKeys.cfAppToken(urlTargetId('wss://gw.example.com')), 'aaa.bbb.ccc')
    let opened = 0
    const open = async () => {
      opened++
      return store
    }
    const env = await targetFromUrlWithStore('wss://gw.example.com', open, { cfAppToken: 'xxx.yyy.zzz' })
    expect(env.ok && env.value.target.access).toEqual({ kind: 'app-token', token: 'xxx.yyy.zzz' })
    const st = await targetFromUrlWithStore('wss://gw.example.com', open, { cfClientId: '0123456789abcdef0123456789abcdef.access', cfClientSecret: 'a'.repeat(64) })
    expect(st.ok && st.value.target.access.kind).toBe('service-token')
    expect(st.ok && st.value.usedStoredSignIn).toBe(false)
    expect(opened).toBe(0)
  })
  it('nothing stored: no Access credential; a bad URL fails before the keychain is opened', async () => {
    const r = await targetFromUrlWithStore('wss://gw.example.com', new MemorySecretStore(), {})
    expect(r.ok && r.value.target.access).toEqual({ kind: 'none' })
    let opened = false
    const bad = await targetFromUrlWithStore('gw.example.com', async () => ((opened = true), new MemorySecretStore()), {})
    expect(bad.ok).toBe(false)
    expect(opened).toBe(false)
  })
  it('an unreadable keychain is a warning, not a failure', async () => {
    const broken = { get: async () => Promise.reject(new Error('locked')), set: async () => undefined, delete: async () => false }
    const r = await targetFromUrlWithStore('wss://gw.example.com', broken, { gatewayToken: 'tok' })
    expect(r.ok && r.value.warnings.join(' ')).toMatch(/could not be read/)
  })
})

describe('opening the browser', () => {
  it('the opener per platform, the URL as one argument', () => {
    const url = 'https://gw.example.com/cdn-cgi/access/cli?token=a&aud=b'
    expect(openerCommand(url, 'darwin', {})).toEqual({ command: 'open', args: [url] })
    expect(openerCommand(url, 'win32', {})).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] })
    expect(openerCommand(url, 'linux', { DISPLAY: ':0' })).toEqual({ command: 'xdg-open', args: [url] })
    expect(openerCommand(url, 'linux', { WAYLAND_DISPLAY: 'wayland-0' })).toEqual({ command: 'xdg-open', args: [url] })
    expect(openerCommand(url, 'linux', {})).toBeNull()
  })

  function fakeSpawn(behave: (child: EventEmitter) => void): { spawn: SpawnLike; calls: { command: string; args: readonly string[]; options: unknown }[] } {
    const calls: { command: string; args: readonly string[]; options: unknown }[] = []
    const spawn: SpawnLike = (command, args, options) => {
      calls.push({ command, args, options })
      const child = Object.assign(new EventEmitter(), { unref: () => undefined })
      setImmediate(() => behave(child))
      return child
    }
    return { spawn, calls }
  }

  it('detached, no shell, output ignored; a clean exit or a still-running opener counts as opened', async () => {
    const ok = fakeSpawn((c) => c.emit('exit', 0))
    await expect(openInBrowser('https://x.test/?a=1&b=2', { platform: 'linux', env: { DISPLAY: ':0' }, spawn: ok.spawn })).resolves.toBeUndefined()
    expect(ok.calls[0]).toMatchObject({ command: 'xdg-open', args: ['https://x.test/?a=1&b=2'], options: { detached: true, shell: false, stdio: 'ignore' } })
    const running = fakeSpawn(() => undefined)
    await expect(openInBrowser('https://x.test/', { platform: 'darwin', spawn: running.spawn, graceMs: 20 })).resolves.toBeUndefined()
  })

  it('a missing opener, a failing one, or no display: rejected with the reason', async () => {
    const missing = fakeSpawn((c) => c.emit('error', Object.assign(new Error('spawn xdg-open ENOENT'), { code: 'ENOENT' })))
    await expect(openInBrowser('https://x.test/', { platform: 'linux', env: { DISPLAY: ':0' }, spawn: missing.spawn })).rejects.toThrow('xdg-open is not installed')
    const failing = fakeSpawn((c) => c.emit('exit', 3))
    await expect(openInBrowser('https://x.test/', { platform: 'linux', env: { DISPLAY: ':0' }, spawn: failing.spawn })).rejects.toThrow('xdg-open exited with status 3')
    const never = fakeSpawn(() => undefined)
    await expect(openInBrowser('https://x.test/', { platform: 'linux', env: {}, spawn: never.spawn })).rejects.toThrow(/no graphical session/)
    expect(never.calls).toHaveLength(0)
  })
})

describe('connect points Access sign-in errors at login', () => {
  const needsLogin = appError('ACCESS_LOGIN_REQUIRED', 'Cloudflare Access blocked the connection', 'Sign in first.', {
    nextSteps: [
      { action: 'add-service-token', label: 'Use a service token.' },
      { action: 'sign-in-email', label: 'Sign in with Cloudflare Access.' }
    ]
  })
  it('adds the login command to the sign-in step, for --url and --profile', () => {
    expect(withLoginCommand(needsLogin, { url: 'wss://gw.example.com' }).nextSteps[1]).toEqual({ action: 'sign-in-email', label: 'Sign in with Cloudflare Access.', command: 'npm run cli -- login --url wss://gw.example.com' })
    expect(withLoginCommand(needsLogin, { profile: "o'brien edge" }).nextSteps[1]!.command).toBe(`npm run cli -- login --profile 'o'\\''brien edge'`)
    expect(withLoginCommand(needsLogin, { url: 'wss://gw.example.com' }).nextSteps[0]!.command).toBeUndefined()
  })
  it('leaves other errors and plain ws:// alone', () => {
    expect(withLoginCommand(needsLogin, { url: 'ws://127.0.0.1:18789' })).toBe(needsLogin)
    const other = appError('GATEWAY_TOKEN_MISMATCH', 'x', 'y')
    expect(withLoginCommand(other, { url: 'wss://gw.example.com' })).toBe(other)
  })
  it('human output shows the command under the step', () => {
    expect(formatError(withLoginCommand(needsLogin, { url: 'wss://gw.example.com' }))).toContain('    - Sign in with Cloudflare Access.\n        npm run cli -- login --url wss://gw.example.com')
  })
})
