import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import { decodeJwt } from 'jose'
import nacl from 'tweetnacl'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  generateTransferKeyPair,
  nodeHttpGet,
  runTransferLogin,
  transferPollUrl,
  buildCliLoginUrl,
  type HttpGet
} from '../../src/main/cf-access/sign-in/transfer-login'
import { CLI_PATH, DEFAULT_TRANSFER_HOST, OTP_SEND_PATH, OTP_VERIFY_PATH, startAccessEmulator, startRecordingOrigin, type AccessEmulator, type RecordingOrigin } from '../support/access-emulator'
import { installTestHosts } from '../support/hosts'

// cloudflared's browser login (doc §6) against the emulator: the `/cdn-cgi/access/cli` page, the
// transfer service's long poll, and the client (transfer-login.ts) running the whole path.

const GATEWAY = 'gateway.aether.test'
const OTHER = 'other.aether.test'
const ALICE = 'alice@aether.test'
const MALLORY = 'mallory@evil.test'
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36'

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
  url: string
}

let emu: AccessEmulator
let origin: RecordingOrigin
let uninstallHosts: () => void
let http: HttpGet

/** A tiny browser: a cookie jar per host, redirects followed, forms submitted. */
class MiniBrowser {
  private readonly jar = new Map<string, Map<string, string>>()

  constructor(private readonly emulator: AccessEmulator) {}

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name)
  }

  private send(url: string, form?: Record<string, string>): Promise<Reply> {
    const target = new URL(url)
    const body = form ? new URLSearchParams(form).toString() : undefined
    const headers: Record<string, string> = { 'user-agent': BROWSER_UA, accept: 'text/html' }
    const cookies = this.jar.get(target.hostname)
    if (cookies && cookies.size > 0) headers.cookie = [...cookies].map(([n, v]) => `${n}=${v}`).join('; ')
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded'
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method: body ? 'POST' : 'GET', headers, ca: this.emulator.caCertPem, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const [pair = ''] = line.split(';')
            const eq = pair.indexOf('=')
            const name = pair.slice(0, eq).trim()
            const value = pair.slice(eq + 1).trim()
            const store = this.jar.get(target.hostname) ?? new Map<string, string>()
            if (value === '' || /Max-Age=0/i.test(line)) store.delete(name)
            else store.set(name, value)
            this.jar.set(target.hostname, store)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), url })
        })
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  /** GET (or POST a form), following redirects like a browser (a 302 after a POST becomes a GET). */
  async go(url: string, form?: Record<string, string>): Promise<Reply> {
    let reply = await this.send(url, form)
    for (let hops = 0; reply.status >= 300 && reply.status < 400 && reply.headers.location; hops++) {
      if (hops > 10) throw new Error('too many redirects')
      reply = await this.send(new URL(reply.headers.location, reply.url).toString())
    }
    return reply
  }
}

function hiddenInputs(html: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[decodeHtml(match[1]!)] = decodeHtml(match[2]!)
  }
  return fields
}

function decodeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
}

/** The OTP login of §5 as a person does it in the browser, starting from any page that redirects to login. */
async function signInWithOtp(browser: MiniBrowser, emulator: AccessEmulator, startUrl: string, email: string): Promise<Reply> {
  const login = await browser.go(startUrl)
  expect(login.status).toBe(200)
  const flow = hiddenInputs(login.body).flow!
  const codePage = await browser.go(`${emulator.teamUrl}${OTP_SEND_PATH}`, { flow, email })
  expect(codePage.status).toBe(200)
  const code = emulator.outbox.filter((m) => m.to === email).at(-1)?.code
  if (!code) throw new Error(`no code mailed to ${email}`)
  return browser.go(`${emulator.teamUrl}${OTP_VERIFY_PATH}`, { flow, code })
}

/** The interstitial's Approve button. */
async function approveInterstitial(browser: MiniBrowser, emulator: AccessEmulator, page: Reply): Promise<Reply> {
  expect(page.body).toContain('Access requested')
  const query = new URLSearchParams(hiddenInputs(page.body)).toString()
  return browser.go(emulator.appUrl(GATEWAY, `${CLI_PATH}?${query}`))
}

function openSealed(body: string, servicePublicKey: string, secretKey: Uint8Array): Record<string, string> {
  const sealed = Buffer.from(body, 'base64')
  const opened = nacl.box.open(sealed.subarray(24), sealed.subarray(0, 24), Buffer.from(servicePublicKey.replace(/=+$/, ''), 'base64url'), secretKey)
  if (!opened) throw new Error('box did not open')
  return JSON.parse(Buffer.from(opened).toString('utf8')) as Record<string, string>
}

function cliUrl(keyText: string, extra: Record<string, string> = {}, aud = emu.app(GATEWAY).aud): string {
  const url = new URL(buildCliLoginUrl({ gatewayUrl: emu.appUrl(GATEWAY, '/ws', 'wss'), aud, publicKeyText: keyText })!)
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, value)
  return url.toString()
}

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  origin = await startRecordingOrigin()
  emu = await startAccessEmulator({
    team: 'aether-test',
    apps: [
      { host: GATEWAY, upstream: origin.url, policies: [{ decision: 'allow', emails: [ALICE] }] },
      { host: OTHER, upstream: origin.url, policies: [{ decision: 'allow', everyone: true }] }
    ],
    transfer: { holdMs: 200 }
  })
  http = nodeHttpGet({ ca: [emu.caCertPem] })
})

afterEach(() => {
  emu.transfer.holdMs = 200
  emu.transfer.failStatus = null
  emu.transfer.skipInterstitial = false
})

afterAll(async () => {
  await emu.close()
  await origin.close()
  uninstallHosts()
})

describe('emulated /cdn-cgi/access/cli and transfer service', () => {
  it('answers on its own host with a trusted certificate at a configurable base URL', async () => {
    expect(emu.transfer.host).toBe(DEFAULT_TRANSFER_HOST)
    expect(emu.transfer.baseUrl).toBe(`https://${DEFAULT_TRANSFER_HOST}:${emu.port}/`)
    const unknown = await http(`${emu.transfer.baseUrl}nope`, { method: 'GET', timeoutMs: 5_000 })
    expect(unknown.status).toBe(404)
    const badKey = await http(`${emu.transfer.baseUrl}transfer/short`, { method: 'GET', timeoutMs: 5_000 })
    expect(badKey.status).toBe(400)
  })

  it('sends a browser without a session through the login and registers the transfer', async () => {
    const keys = generateTransferKeyPair()
    const first = await http(cliUrl(keys.publicKeyText), { method: 'GET', headers: { 'user-agent': BROWSER_UA }, timeoutMs: 5_000 })
    expect(first.status).toBe(302)
    const location = new URL(first.headers.location!)
    expect(location.host).toBe(`${emu.teamDomain}:${emu.port}`)
    expect(location.pathname).toBe(`/cdn-cgi/access/login/${GATEWAY}`)
    expect(location.searchParams.get('kid')).toBe(emu.app(GATEWAY).aud)
    expect(location.searchParams.get('redirect_url')).toMatch(/^\/cdn-cgi\/access\/cli\?/)
    expect(first.headers['set-cookie']).toMatch(/^CF_AppSession=/)
    expect(emu.transfer.pending.find((t) => t.publicKey === keys.publicKeyText)).toMatchObject({ host: GATEWAY, state: 'pending', email: null, sendOrgToken: true, closeInterstitial: true })
  })

  it('refuses a bad key, another application\'s AUD and the legacy (non-edge) transfer', async () => {
    const keys = generateTransferKeyPair()
    const get = (url: string) => http(url, { method: 'GET', timeoutMs: 5_000 })
    expect((await get(cliUrl('not-a-key'))).status).toBe(400)
    expect((await get(cliUrl(keys.publicKeyText, {}, emu.app(OTHER).aud))).status).toBe(400)
    expect((await get(cliUrl(keys.publicKeyText, { edge_token_transfer: 'false' }))).status).toBe(400)
    expect(emu.transfer.pending.some((t) => t.publicKey === keys.publicKeyText)).toBe(false)
  })

  it('full browser path: login, interstitial, approve; the poll gets {app_token, org_token} sealed for the key, once', async () => {
    const keys = generateTransferKeyPair()
    const browser = new MiniBrowser(emu)
    const interstitial = await signInWithOtp(browser, emu, cliUrl(keys.publicKeyText), ALICE)
    expect(interstitial.status).toBe(200)
    expect(new URL(interstitial.url).pathname).toBe(CLI_PATH)
    expect(interstitial.body).toContain(ALICE)
    // Signed in, but nothing is handed over until the user approves.
    expect((await http(transferPollUrl(emu.transfer.baseUrl, keys.publicKeyText), { method: 'GET', timeoutMs: 5_000 })).status).toBe(404)

    const success = await approveInterstitial(browser, emu, interstitial)
    expect(success.body).toContain('Success')
    expect(success.body).toContain('window.close()')

    const delivered = await http(transferPollUrl(emu.transfer.baseUrl, keys.publicKeyText), { method: 'GET', timeoutMs: 5_000 })
    expect(delivered.status).toBe(200)
    const tokens = openSealed(delivered.body, delivered.headers['service-public-key']!, keys.secretKey)
    const app = decodeJwt(tokens.app_token!)
    const org = decodeJwt(tokens.org_token!)
    expect(app).toMatchObject({ type: 'app', aud: [emu.app(GATEWAY).aud], email: ALICE })
    expect(org).toMatchObject({ type: 'org', email: ALICE })
    expect(emu.transfer.pending.find((t) => t.publicKey === keys.publicKeyText)).toMatchObject({ state: 'delivered', email: ALICE })

    // Delivered once: the next poll waits and gets "not yet".
    expect((await http(transferPollUrl(emu.transfer.baseUrl, keys.publicKeyText), { method: 'GET', timeoutMs: 5_000 })).status).toBe(404)
    // The transferred app token is a credential for the gateway.
    const through = await http(emu.appUrl(GATEWAY, '/api/ping'), { method: 'GET', headers: { 'cf-access-token': tokens.app_token! }, timeoutMs: 5_000 })
    expect(through.status).toBe(200)
    expect(emu.requests.at(-1)).toMatchObject({ decision: 'forwarded', principal: { kind: 'identity', email: ALICE } })
  })

  it('a held poll is answered the moment the transfer is approved', async () => {
    emu.transfer.holdMs = 10_000
    const keys = generateTransferKeyPair()
    await http(cliUrl(keys.publicKeyText), { method: 'GET', timeoutMs: 5_000 })
    const started = Date.now()
    const poll = http(transferPollUrl(emu.transfer.baseUrl, keys.publicKeyText), { method: 'GET', timeoutMs: 15_000 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    emu.transfer.approve({ email: ALICE, publicKey: keys.publicKeyText })
    const answer = await poll
    expect(answer.status).toBe(200)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('skipInterstitial (automatic cloudflared authentication) approves as soon as the user is signed in', async () => {
    emu.transfer.skipInterstitial = true
    const keys = generateTransferKeyPair()
    const page = await signInWithOtp(new MiniBrowser(emu), emu, cliUrl(keys.publicKeyText, { close_interstitial: 'false' }), ALICE)
    expect(page.body).toContain('Success')
    expect(page.body).not.toContain('window.close()')
    expect(emu.transfer.pending.find((t) => t.publicKey === keys.publicKeyText)?.state).toBe('ready')
  })

  it('an identity the policy does not admit gets no code, and the helper refuses it too', async () => {
    const otherKeys = generateTransferKeyPair()
    const browser = new MiniBrowser(emu)
    const login = await browser.go(cliUrl(otherKeys.publicKeyText))
    const flow = hiddenInputs(login.body).flow!
    await browser.go(`${emu.teamUrl}${OTP_SEND_PATH}`, { flow, email: MALLORY })
    expect(emu.outbox.some((m) => m.to === MALLORY)).toBe(false)
    expect(() => emu.transfer.approve({ email: MALLORY, publicKey: otherKeys.publicKeyText })).toThrow(/not allowed/)
    expect(emu.transfer.pending.find((t) => t.publicKey === otherKeys.publicKeyText)?.state).toBe('pending')
  })

  it('the test helper needs a visited cli page', () => {
    expect(() => emu.transfer.approve({ email: ALICE, publicKey: generateTransferKeyPair().publicKeyText })).toThrow(/no transfer registered/)
  })

  it('failStatus makes every poll fail with that status', async () => {
    emu.transfer.failStatus = 503
    const answer = await http(transferPollUrl(emu.transfer.baseUrl, generateTransferKeyPair().publicKeyText), { method: 'GET', timeoutMs: 5_000 })
    expect(answer.status).toBe(503)
  })
})

describe('runTransferLogin against the emulator', () => {
  const gatewayUrl = () => emu.appUrl(GATEWAY, '/ws', 'wss')

  it('discovers the app, opens the browser, and gets a checked token once the user approves (test helper)', async () => {
    const opened: string[] = []
    const result = await runTransferLogin({
      gatewayUrl: gatewayUrl(),
      http,
      transferBaseUrl: emu.transfer.baseUrl,
      minPollIntervalMs: 10,
      openExternal: async (url) => {
        opened.push(url)
        // The browser loads the page (registers the transfer); the user signs in and approves.
        await http(url, { method: 'GET', headers: { 'user-agent': BROWSER_UA }, timeoutMs: 5_000 })
        setTimeout(() => emu.transfer.approve({ email: ALICE, publicKey: new URL(url).searchParams.get('token')! }), 300)
      }
    })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.value).toMatchObject({ aud: emu.app(GATEWAY).aud, email: ALICE, teamDomain: emu.teamDomain })
    expect(decodeJwt(result.value.orgToken!)).toMatchObject({ type: 'org' })
    expect(new URL(opened[0]!).pathname).toBe(CLI_PATH)
    // Multiple held polls came back "not yet" before the approval.
    expect(emu.requests.filter((r) => r.host === emu.transfer.host && r.reason === 'transfer-waiting').length).toBeGreaterThan(0)
    const through = await http(emu.appUrl(GATEWAY, '/'), { method: 'GET', headers: { 'cf-access-token': result.value.token }, timeoutMs: 5_000 })
    expect(through.status).toBe(200)
  })

  it('the whole path as a person does it in the browser: OTP login, Approve', async () => {
    const result = await runTransferLogin({
      gatewayUrl: gatewayUrl(),
      aud: emu.app(GATEWAY).aud,
      http,
      transferBaseUrl: emu.transfer.baseUrl,
      minPollIntervalMs: 10,
      openExternal: (url) => {
        // The browser runs on its own; the poll goes on meanwhile.
        void (async () => {
          const browser = new MiniBrowser(emu)
          const interstitial = await signInWithOtp(browser, emu, url, ALICE)
          await approveInterstitial(browser, emu, interstitial)
        })()
      }
    })
    expect(result).toMatchObject({ ok: true, value: { email: ALICE } })
  })

  it('times out when nobody signs in', async () => {
    emu.transfer.holdMs = 50
    const result = await runTransferLogin({ gatewayUrl: gatewayUrl(), aud: emu.app(GATEWAY).aud, http, transferBaseUrl: emu.transfer.baseUrl, maxPolls: 3, minPollIntervalMs: 10, openExternal: () => undefined })
    expect(result).toMatchObject({ ok: false, reason: 'timeout', error: { code: 'TIMEOUT' } })
  })

  it('reports a failing transfer service', async () => {
    emu.transfer.failStatus = 500
    const result = await runTransferLogin({ gatewayUrl: gatewayUrl(), aud: emu.app(GATEWAY).aud, http, transferBaseUrl: emu.transfer.baseUrl, openExternal: () => undefined })
    expect(result).toMatchObject({ ok: false, reason: 'transfer-error', error: { code: 'CLOUDFLARE_ERROR', details: { httpStatus: 500 } } })
  })

  it('a long poll cut short by the client time limit keeps waiting', async () => {
    emu.transfer.holdMs = 5_000
    const result = await runTransferLogin({
      gatewayUrl: gatewayUrl(),
      aud: emu.app(GATEWAY).aud,
      http,
      transferBaseUrl: emu.transfer.baseUrl,
      pollTimeoutMs: 150,
      minPollIntervalMs: 10,
      openExternal: async (url) => {
        await http(url, { method: 'GET', timeoutMs: 5_000 })
        setTimeout(() => emu.transfer.approve({ email: ALICE, publicKey: new URL(url).searchParams.get('token')! }), 400)
      }
    })
    expect(result.ok).toBe(true)
  })

  it('cancels promptly while a poll is held', async () => {
    emu.transfer.holdMs = 10_000
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const started = Date.now()
    const result = await runTransferLogin({ gatewayUrl: gatewayUrl(), aud: emu.app(GATEWAY).aud, http, transferBaseUrl: emu.transfer.baseUrl, openExternal: () => undefined, signal: controller.signal })
    expect(result).toMatchObject({ ok: false, reason: 'cancelled' })
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('an unreachable transfer service is a network error', async () => {
    const result = await runTransferLogin({ gatewayUrl: gatewayUrl(), aud: emu.app(GATEWAY).aud, http, transferBaseUrl: 'https://127.0.0.1:1/', openExternal: () => undefined })
    expect(result).toMatchObject({ ok: false, reason: 'network', error: { code: 'CONNECTION_REFUSED' } })
  })
})
