import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OTP_SEND_PATH, OTP_VERIFY_PATH, startAccessEmulator, startRecordingOrigin, type AccessEmulator, type RecordingOrigin } from '../support/access-emulator'
import { installTestHosts } from '../support/hosts'

// The interactive one-time-PIN login of §5, driven step by step with plain https requests (a browser's view).

const GATEWAY = 'gateway.aether.test'
const ALICE = 'alice@aether.test'
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36'

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

let emu: AccessEmulator
let origin: RecordingOrigin
let uninstallHosts: () => void

function request(emulator: AccessEmulator, url: string, options: { method?: string; cookies?: string[]; form?: Record<string, string>; userAgent?: string } = {}): Promise<Reply> {
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined
  const headers: Record<string, string> = { 'user-agent': options.userAgent ?? BROWSER_UA, accept: 'text/html' }
  if (options.cookies && options.cookies.length > 0) headers.cookie = options.cookies.join('; ')
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded'
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: options.method ?? (body ? 'POST' : 'GET'), headers, ca: emulator.caCertPem, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** `name=value` of a Set-Cookie from the reply, or undefined. */
function cookieFrom(reply: Reply, name: string): { pair: string; value: string; header: string } | undefined {
  const header = (reply.headers['set-cookie'] ?? []).find((cookie) => cookie.startsWith(`${name}=`))
  if (!header) return undefined
  const pair = header.split(';')[0] ?? ''
  return { pair, value: pair.slice(name.length + 1), header }
}

function hiddenFlow(html: string): string {
  const match = /name="flow" value="([0-9a-f]+)"/.exec(html)
  if (!match?.[1]) throw new Error('no flow id in page')
  return match[1]
}

function teamPath(emulator: AccessEmulator, path: string): string {
  return `${emulator.teamUrl}${path}`
}

/** Steps 1–2: the app's 302, then the team login page; returns the flow id and the CF_AppSession pair. */
async function startLogin(emulator: AccessEmulator, path: string, teamCookies: string[] = []) {
  const first = await request(emulator, emulator.appUrl(GATEWAY, path))
  expect(first.status).toBe(302)
  const appSession = cookieFrom(first, 'CF_AppSession')?.pair ?? ''
  const login = await request(emulator, first.headers.location ?? '', { cookies: teamCookies })
  return { appSession, login }
}

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  origin = await startRecordingOrigin()
  emu = await startAccessEmulator({
    team: 'aether-test',
    apps: [{ host: GATEWAY, upstream: origin.url, bindingCookie: true, policies: [{ decision: 'allow', emails: [ALICE] }] }]
  })
})

afterAll(async () => {
  await emu.close()
  await origin.close()
  uninstallHosts()
})

describe('one-time PIN login (§5)', () => {
  let teamCookie = ''
  let appCookies: string[] = []

  it('walks app 302 → login form → code → team cookie → authorized → app cookie → origin', async () => {
    const { appSession, login } = await startLogin(emu, '/dashboard?tab=1')
    expect(login.status).toBe(200)
    expect(login.body).toContain(`action="${OTP_SEND_PATH}"`)
    const flow = hiddenFlow(login.body)

    const sent = await request(emu, teamPath(emu, OTP_SEND_PATH), { form: { flow, email: ALICE } })
    expect(sent.status).toBe(302)
    const codePageUrl = sent.headers.location ?? ''
    expect(new URL(codePageUrl).hostname).toBe(emu.teamDomain)
    const mail = emu.outbox.at(-1)
    expect(mail?.to).toBe(ALICE)
    expect(mail?.code).toMatch(/^\d{6}$/)
    const codePage = await request(emu, codePageUrl)
    expect(codePage.status).toBe(200)
    expect(codePage.body).toContain(`action="${OTP_VERIFY_PATH}"`)

    const wrong = await request(emu, teamPath(emu, OTP_VERIFY_PATH), { form: { flow, code: mail?.code === '000000' ? '111111' : '000000' } })
    expect(wrong.status).toBe(200)
    expect(wrong.body).toContain('invalid or has expired')

    const verified = await request(emu, teamPath(emu, OTP_VERIFY_PATH), { form: { flow, code: mail?.code ?? '' } })
    expect(verified.status).toBe(302)
    const team = cookieFrom(verified, 'CF_Authorization')
    expect(team?.header).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=None$/)
    expect(decodeJwt(team?.value ?? '')).toMatchObject({ type: 'org', email: ALICE, iss: 'https://aether-test.cloudflareaccess.com' })
    teamCookie = team?.pair ?? ''
    const authorizedUrl = new URL(verified.headers.location ?? '')
    expect(authorizedUrl.hostname).toBe(GATEWAY)
    expect(authorizedUrl.pathname).toBe('/cdn-cgi/access/authorized')
    expect(authorizedUrl.searchParams.get('nonce')).toBeTruthy()
    expect(JSON.parse(Buffer.from(authorizedUrl.searchParams.get('state') ?? '', 'base64url').toString())).toEqual({ hostname: GATEWAY, redirect_url: '/dashboard?tab=1', sso: false })

    // Without the CF_AppSession cookie the edge restarts the login instead of setting the cookie.
    const noSession = await request(emu, authorizedUrl.href)
    expect(noSession.status).toBe(302)
    expect(new URL(noSession.headers.location ?? '').pathname).toBe(`/cdn-cgi/access/login/${GATEWAY}`)

    const authorized = await request(emu, authorizedUrl.href, { cookies: [appSession] })
    expect(authorized.status).toBe(302)
    expect(authorized.headers.location).toBe(emu.appUrl(GATEWAY, '/dashboard?tab=1'))
    const app = cookieFrom(authorized, 'CF_Authorization')
    const binding = cookieFrom(authorized, 'CF_Binding')
    expect(app?.header).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=None$/)
    expect(binding?.header).toContain('HttpOnly')
    const claims = decodeJwt(app?.value ?? '')
    expect(claims).toMatchObject({ type: 'app', email: ALICE, aud: [emu.app(GATEWAY).aud] })
    expect(app?.header).toContain(`Expires=${new Date((claims.exp ?? 0) * 1000).toUTCString()}`)
    appCookies = [app?.pair ?? '', binding?.pair ?? '']

    const before = origin.requests.length
    const landed = await request(emu, emu.appUrl(GATEWAY, '/dashboard?tab=1'), { cookies: appCookies })
    expect(landed.status).toBe(200)
    expect(origin.requests[before]?.headers['cf-access-authenticated-user-email']).toBe(ALICE)
    expect(origin.requests[before]?.headers.cookie).not.toContain('CF_Binding')
  })

  it('answers every address with the code page but mails only permitted ones', async () => {
    const { login } = await startLogin(emu, '/')
    const flow = hiddenFlow(login.body)
    const mailed = emu.outbox.length
    const sent = await request(emu, teamPath(emu, OTP_SEND_PATH), { form: { flow, email: 'mallory@evil.test' } })
    expect(sent.status).toBe(302)
    expect(new URL(sent.headers.location ?? '').pathname).toBe('/cdn-cgi/access/otp/code')
    expect(emu.outbox.length).toBe(mailed)
    const guess = await request(emu, teamPath(emu, OTP_VERIFY_PATH), { form: { flow, code: '123456' } })
    expect(guess.status).toBe(200)
    expect(guess.body).toContain('invalid or has expired')
  })

  it('short-circuits the login page with a valid team session (SSO)', async () => {
    const { appSession, login } = await startLogin(emu, '/again', [teamCookie])
    expect(login.status).toBe(302)
    const authorizedUrl = new URL(login.headers.location ?? '')
    expect(authorizedUrl.pathname).toBe('/cdn-cgi/access/authorized')
    expect(JSON.parse(Buffer.from(authorizedUrl.searchParams.get('state') ?? '', 'base64url').toString()).sso).toBe(true)
    const authorized = await request(emu, authorizedUrl.href, { cookies: [appSession] })
    expect(authorized.status).toBe(302)
    expect(cookieFrom(authorized, 'CF_Authorization')).toBeDefined()
  })

  it('shows the Forbidden page when the team identity is not allowed on the app', async () => {
    const mallory = emu.issueAppToken({ host: GATEWAY, type: 'org', email: 'mallory@evil.test' })
    const { login } = await startLogin(emu, '/', [`CF_Authorization=${mallory}`])
    expect(login.status).toBe(403)
    expect(login.body).toContain('json_data')
    expect(login.body).toContain(emu.app(GATEWAY).aud)
  })

  it('returns the identity from get-identity on the team domain and the app host', async () => {
    for (const url of [teamPath(emu, '/cdn-cgi/access/get-identity'), emu.appUrl(GATEWAY, '/cdn-cgi/access/get-identity')]) {
      const reply = await request(emu, url, { cookies: appCookies })
      expect(reply.status).toBe(200)
      expect(JSON.parse(reply.body)).toMatchObject({ email: ALICE, service_token_status: false, is_warp: false, geo: { country: 'US' } })
    }
  })

  it('logout ends the session for the app token and the team session', async () => {
    const logout = await request(emu, emu.appUrl(GATEWAY, '/cdn-cgi/access/logout'), { cookies: appCookies })
    expect(logout.status).toBe(200)
    expect(cookieFrom(logout, 'CF_Authorization')?.header).toContain('Expires=Thu, 01 Jan 1970 00:00:01 GMT')
    expect((await request(emu, emu.appUrl(GATEWAY, '/'), { cookies: appCookies })).status).toBe(302)
    // The team session that minted it was the same identity session: no more SSO.
    const { login } = await startLogin(emu, '/', [teamCookie])
    expect(login.status).toBe(200)
  })
})

describe('hostile login page switch', () => {
  it('fails the email step for user agents that are not browser-like', async () => {
    const hostile = await startAccessEmulator({ team: 'hostile', hostileLoginPage: true, apps: [{ host: GATEWAY, policies: [{ decision: 'allow', emails: [ALICE] }] }] })
    try {
      for (const [userAgent, expected] of [
        ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko)', 200],
        ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) AetherRemote/0.1 Chrome/140.0.0.0 Electron/45.5.0 Safari/537.36', 200],
        [BROWSER_UA, 302]
      ] as const) {
        const first = await request(hostile, hostile.appUrl(GATEWAY, '/'))
        const login = await request(hostile, first.headers.location ?? '')
        const sent = await request(hostile, `${hostile.teamUrl}${OTP_SEND_PATH}`, { form: { flow: hiddenFlow(login.body), email: ALICE }, userAgent })
        expect(sent.status, userAgent).toBe(expected)
        if (expected === 200) expect(sent.body).toContain('Turnstile verification failed')
      }
    } finally {
      await hostile.close()
    }
  })
})
