import type { BrowserWindow, Session } from 'electron'
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  browserUserAgent,
  CAPTURE_SETTLE_MS,
  classifyLoadFailure,
  createAccessLoginWindows,
  gatewayOrigin,
  isAllowedLoginNavigation,
  loginPartition,
  NEEDS_USER_GRACE_MS,
  SIGN_IN_TIMEOUT_MS,
  SILENT_TIMEOUT_MS,
  type LoginSessionPort,
  type LoginWindowPort,
  type SignInRequest,
  type SignInResult
} from '../../../../src/main/electron/access-login-window'
import { FakeSession, FakeWindow } from './electron-stand-ins'
import { accessToken, APP_HOST, AUD, electronCookie, EMAIL, NOW, NOW_MS, ORG_AUD, OTHER_AUD, TEAM_DOMAIN } from './tokens'

// The real Electron objects fit the ports (checked by `npm run typecheck`; never called).
export function electronFitsThePorts(win: BrowserWindow, session: Session): [LoginWindowPort, LoginSessionPort] {
  return [win, session]
}

const UA = browserUserAgent('140.0.7339.80', 'linux')
const GATEWAY = `wss://${APP_HOST}/ws`
const APP_ORIGIN = `https://${APP_HOST}`
const TEAM_ORIGIN = `https://${TEAM_DOMAIN}`
const LOGIN_URL = `${TEAM_ORIGIN}/cdn-cgi/access/login/${APP_HOST}?kid=${AUD}&redirect_url=%2F&meta=eyJhbGciOiJSUzI1NiJ9.eyJ0eXBlIjoibWV0YSJ9.c2ln`

interface Harness {
  session: FakeSession
  windows: FakeWindow[]
  win(): FakeWindow
  start(request?: Partial<SignInRequest>): Promise<SignInResult>
  /** Settled value of the last start(), or 'pending'. */
  state(): SignInResult | 'pending'
}

let harness: Harness
let offsetMs = 0

function makeHarness(): Harness {
  const session = new FakeSession()
  const windows: FakeWindow[] = []
  const partitions: string[] = []
  const logins = createAccessLoginWindows({
    createWindow: (options) => {
      const win = new FakeWindow(options)
      windows.push(win)
      return win
    },
    sessionForPartition: (partition) => {
      partitions.push(partition)
      return session
    },
    userAgent: UA,
    now: () => NOW_MS + offsetMs
  })
  let settled: SignInResult | 'pending' = 'pending'
  return {
    session,
    windows,
    win: () => {
      const last = windows.at(-1)
      if (!last) throw new Error('no window was created')
      return last
    },
    async start(request = {}) {
      settled = 'pending'
      const promise = logins.signIn({ profileId: 'home', gatewayUrl: GATEWAY, ...request })
      void promise.then((r) => (settled = r))
      await vi.advanceTimersByTimeAsync(0)
      return promise
    },
    state: () => settled
  }
}

/** `window.open` details as Electron passes them to the handler. */
function openDetails(url: string): never {
  return { url, frameName: '', features: '', disposition: 'new-window', referrer: { url: '', policy: 'default' } } as never
}

/** The edge's first answer: 302 to the team login page (which names the AUD in `kid`). */
function redirectToLogin(win: FakeWindow): void {
  win.webContents.willRedirect(LOGIN_URL)
}

/** What the browser sees at the end of a login: team cookie, app cookies on `authorized`, landing on the app. */
async function completeLogin(session: FakeSession, win: FakeWindow, appToken: string, opts: { binding?: string; landing?: boolean } = {}): Promise<void> {
  session.cookies.set(electronCookie('CF_Authorization', await accessToken({ type: 'org', aud: [ORG_AUD] }), { domain: TEAM_DOMAIN }) as never)
  win.webContents.willRedirect(`${APP_ORIGIN}/cdn-cgi/access/authorized?nonce=abc&state=xyz`)
  session.cookies.set(electronCookie('CF_Authorization', appToken) as never)
  if (opts.binding) session.cookies.set(electronCookie('CF_Binding', opts.binding) as never)
  if (opts.landing !== false) {
    win.webContents.willRedirect(`${APP_ORIGIN}/`)
    win.webContents.didNavigate(`${APP_ORIGIN}/`, 200)
  }
  await vi.advanceTimersByTimeAsync(0)
}

beforeEach(() => {
  vi.useFakeTimers()
  offsetMs = 0
  harness = makeHarness()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('login window set-up', () => {
  it('opens the gateway origin on the profile partition, locked down, with a browser user agent', async () => {
    void harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    expect(win.options.show).toBe(true)
    expect(win.options.webPreferences).toMatchObject({
      partition: 'persist:cf-access:home',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false
    })
    expect(win.options.webPreferences?.preload).toBeUndefined()
    expect(win.webContents.loads).toEqual([{ url: `${APP_ORIGIN}/`, options: { userAgent: UA } }])
    expect(harness.session.userAgent).toBe(UA)
    expect(UA).not.toMatch(/Electron|aether/i)
  })

  it('denies every permission request and check, window.open and webviews', async () => {
    void harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const granted = vi.fn()
    harness.session.permissionRequestHandler?.({}, 'media', granted)
    expect(granted).toHaveBeenCalledWith(false)
    expect(harness.session.permissionCheckHandler?.({}, 'clipboard-read')).toBe(false)
    const contents = harness.win().webContents
    // On the gateway's own page (before the login redirect) nothing may open a window.
    contents.didNavigate(`${APP_ORIGIN}/`, 200)
    expect(contents.windowOpenHandler?.(openDetails('https://idp.example/popup'))).toEqual({ action: 'deny' })
    expect(contents.willAttachWebview()).toBe(false)
  })

  it('allows an identity provider popup from the login pages only: https, locked down, guarded, closed with the sign-in', async () => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    const contents = win.webContents
    redirectToLogin(win)
    contents.didNavigate(LOGIN_URL, 200)
    expect(contents.windowOpenHandler?.(openDetails('http://idp.example/popup'))).toEqual({ action: 'deny' })
    expect(contents.windowOpenHandler?.(openDetails('javascript:alert(1)'))).toEqual({ action: 'deny' })
    const allowed = contents.windowOpenHandler?.(openDetails('https://accounts.idp.example/o/oauth2/auth?x=1'))
    expect(allowed).toMatchObject({ action: 'allow', overrideBrowserWindowOptions: { webPreferences: { partition: 'persist:cf-access:home', sandbox: true, nodeIntegration: false, contextIsolation: true } } })
    expect((allowed as { overrideBrowserWindowOptions?: { webPreferences?: { preload?: string } } }).overrideBrowserWindowOptions?.webPreferences?.preload).toBeUndefined()
    const popup = { webContents: new FakeWindow({}).webContents, closed: 0, close() { this.closed++ }, isDestroyed: () => false }
    contents.emit('did-create-window', popup)
    expect(popup.webContents.willNavigate('http://idp.example/callback')).toBe(false)
    expect(popup.webContents.willNavigate('https://accounts.idp.example/consent')).toBe(true)
    expect(popup.webContents.windowOpenHandler?.(openDetails('https://other.example/'))).toEqual({ action: 'deny' })
    expect(popup.webContents.willAttachWebview()).toBe(false)
    await completeLogin(harness.session, win, await accessToken())
    expect((await promise).ok).toBe(true)
    expect(popup.closed).toBe(1)
  })

  it('a hidden (silent) attempt never opens a popup', async () => {
    void harness.start({ silent: true })
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    win.webContents.didNavigate(LOGIN_URL, 200)
    expect(win.webContents.windowOpenHandler?.(openDetails('https://accounts.idp.example/o/oauth2/auth'))).toEqual({ action: 'deny' })
  })

  it('navigates only over https', async () => {
    void harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const contents = harness.win().webContents
    expect(contents.willNavigate(`${TEAM_ORIGIN}/cdn-cgi/access/otp/send`)).toBe(true)
    expect(contents.willNavigate('http://gateway.example.workers.dev/')).toBe(false)
    expect(contents.willNavigate('file:///etc/passwd')).toBe(false)
    expect(contents.willNavigate('javascript:alert(1)')).toBe(false)
    expect(contents.willNavigate('https://user:pw@idp.example/')).toBe(false)
    expect(contents.willRedirect('http://idp.example/callback')).toBe(false)
    expect(contents.willFrameNavigate('about:blank', false)).toBe(true)
    expect(contents.willFrameNavigate('about:blank', true)).toBe(false)
    expect(contents.willFrameNavigate('data:text/html,x', false)).toBe(false)
    expect(contents.willFrameNavigate('https://challenges.cloudflare.com/turnstile', false)).toBe(true)
  })

  it('drops the app host\'s old token before loading, keeping the team session for SSO', async () => {
    harness.session.cookies.store.push(
      electronCookie('CF_Authorization', 'old-app-token') as never,
      electronCookie('CF_Binding', 'old-binding') as never,
      electronCookie('CF_Authorization', 'team-session', { domain: TEAM_DOMAIN }) as never
    )
    void harness.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(harness.session.cookies.removed).toEqual([
      { url: `${APP_ORIGIN}/`, name: 'CF_Authorization' },
      { url: `${APP_ORIGIN}/`, name: 'CF_Binding' }
    ])
    expect(harness.session.cookies.store.map((c) => `${c.name}@${c.domain}`)).toEqual([`CF_Authorization@${TEAM_DOMAIN}`])
  })

  it('refuses a gateway that is not https/wss without opening a window', async () => {
    const result = await harness.start({ gatewayUrl: 'ws://127.0.0.1:18789' })
    expect(result).toMatchObject({ ok: false, reason: 'invalid-url', error: { code: 'INVALID_URL' } })
    expect(harness.windows).toHaveLength(0)
  })
})

describe('interactive sign-in', () => {
  it('captures the app-host token (not the team token), learns AUD and team origin from the redirect, closes the window', async () => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    win.webContents.didNavigate(LOGIN_URL, 200)
    expect(win.webContents.willNavigate(`${TEAM_ORIGIN}/cdn-cgi/access/otp/send`)).toBe(true)
    win.webContents.didNavigate(`${TEAM_ORIGIN}/cdn-cgi/access/otp/code?flow=1`, 200)
    const appToken = await accessToken()
    await completeLogin(harness.session, win, appToken, { binding: 'bind-1' })
    const result = await promise
    expect(result).toMatchObject({ ok: true, value: { token: appToken, binding: 'bind-1', email: EMAIL, aud: AUD, teamOrigin: TEAM_ORIGIN, partition: 'persist:cf-access:home', shown: true } })
    expect(win.destroyed).toBe(true)
    expect(harness.session.cookies.listenerCount('changed')).toBe(0)
  })

  it('does not finish on CF_AppSession, the team-domain org token or a parent-domain cookie', async () => {
    void harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    harness.session.cookies.set(electronCookie('CF_AppSession', 'csrf') as never)
    harness.session.cookies.set(electronCookie('CF_Authorization', await accessToken({ type: 'org', aud: [ORG_AUD] }), { domain: TEAM_DOMAIN }) as never)
    harness.session.cookies.set(electronCookie('CF_Authorization', await accessToken(), { domain: '.example.workers.dev' }) as never)
    await vi.advanceTimersByTimeAsync(CAPTURE_SETTLE_MS * 3)
    expect(harness.state()).toBe('pending')
    expect(win.destroyed).toBe(false)
  })

  it('picks up CF_Binding that arrives after the token, without waiting for the landing page', async () => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    const appToken = await accessToken()
    harness.session.cookies.set(electronCookie('CF_Authorization', appToken) as never)
    await vi.advanceTimersByTimeAsync(CAPTURE_SETTLE_MS / 2)
    harness.session.cookies.set(electronCookie('CF_Binding', 'late-binding') as never)
    await vi.advanceTimersByTimeAsync(CAPTURE_SETTLE_MS)
    expect(await promise).toMatchObject({ ok: true, value: { token: appToken, binding: 'late-binding' } })
  })

  it('reads the store on landing even when no cookie event was seen', async () => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    const appToken = await accessToken()
    harness.session.cookies.store.push(electronCookie('CF_Authorization', appToken) as never)
    win.webContents.didNavigate(`${APP_ORIGIN}/`, 200)
    expect(await promise).toMatchObject({ ok: true, value: { token: appToken } })
  })

  it('the redirect\'s kid wins over a stale expected AUD', async () => {
    const promise = harness.start({ expectedAud: OTHER_AUD })
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    await completeLogin(harness.session, win, await accessToken())
    expect(await promise).toMatchObject({ ok: true, value: { aud: AUD } })
  })

  it.each([
    ['another application', { aud: [OTHER_AUD] }, 'audience'],
    ['type org set on the app host', { type: 'org' }, 'type'],
    ['already expired', { exp: NOW - 5, iat: NOW - 3600, nbf: NOW - 3600 }, 'expired'],
    ['not yet valid', { nbf: NOW + 3600, iat: NOW + 3600 }, 'not-yet-valid']
  ])('refuses an app-host token for %s', async (_label, claims, check) => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    await completeLogin(harness.session, win, await accessToken(claims))
    const result = await promise
    expect(result).toMatchObject({ ok: false, reason: 'token-rejected', error: { details: { check } } })
    expect(win.destroyed).toBe(true)
  })

  it('closing the window cancels cleanly', async () => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    redirectToLogin(harness.win())
    harness.win().close()
    const result = await promise
    expect(result).toMatchObject({ ok: false, reason: 'cancelled', error: { code: 'CANCELLED', title: 'Sign-in cancelled' } })
    expect(harness.session.cookies.listenerCount('changed')).toBe(0)
    // Later events from a dying window change nothing.
    await completeLogin(harness.session, harness.win(), await accessToken())
    expect(harness.state()).toEqual(result)
  })

  it('times out after 10 minutes with a message and closes the window', async () => {
    void harness.start()
    await vi.advanceTimersByTimeAsync(0)
    redirectToLogin(harness.win())
    await vi.advanceTimersByTimeAsync(SIGN_IN_TIMEOUT_MS - 1)
    expect(harness.state()).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    expect(harness.state()).toMatchObject({ ok: false, reason: 'timeout', error: { code: 'TIMEOUT', details: { timeoutMs: SIGN_IN_TIMEOUT_MS } } })
    expect((harness.state() as { error: { message: string } }).error.message).toContain('10 minutes')
    expect(harness.win().destroyed).toBe(true)
  })

  it('an abort signal cancels', async () => {
    const controller = new AbortController()
    const promise = harness.start({ signal: controller.signal })
    await vi.advanceTimersByTimeAsync(0)
    controller.abort()
    expect(await promise).toMatchObject({ ok: false, reason: 'cancelled' })
    expect(harness.win().destroyed).toBe(true)
  })

  it('a failed main-frame load ends with the network error; aborted loads (redirects, blocked navigations) do not', async () => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const contents = harness.win().webContents
    contents.didFailLoad(-3, 'ERR_ABORTED', `${APP_ORIGIN}/`)
    contents.didFailLoad(-105, 'ERR_NAME_NOT_RESOLVED', 'https://ads.example/x', false)
    expect(harness.state()).toBe('pending')
    contents.didFailLoad(-105, 'ERR_NAME_NOT_RESOLVED', `${APP_ORIGIN}/`)
    expect(await promise).toMatchObject({ ok: false, reason: 'load-failed', error: { code: 'DNS_NOT_FOUND', details: { systemCode: 'ERR_NAME_NOT_RESOLVED' } } })
  })

  it('a gateway page that opens without any Access login is reported, not waited on', async () => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    harness.win().webContents.didNavigate(`${APP_ORIGIN}/`, 200)
    expect(await promise).toMatchObject({ ok: false, reason: 'not-behind-access', error: { code: 'INVALID_INPUT' } })
  })

  it('keeps waiting when the store cannot be read on landing (the cookie events still count)', async () => {
    const promise = harness.start()
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    harness.session.cookies.failGet = true
    const appToken = await accessToken()
    await completeLogin(harness.session, win, appToken)
    expect(await promise).toMatchObject({ ok: true, value: { token: appToken } })
  })
})

describe('silent sign-in (renewal)', () => {
  it('runs hidden and completes through the team session (SSO) without ever showing the window', async () => {
    const promise = harness.start({ silent: true, showIfNeeded: true })
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    expect(win.options.show).toBe(false)
    redirectToLogin(win)
    const appToken = await accessToken()
    await completeLogin(harness.session, win, appToken)
    expect(await promise).toMatchObject({ ok: true, value: { token: appToken, shown: false } })
    expect(win.showCalls).toBe(0)
  })

  it('a login page that stays up needs the user: shown when allowed, then completed by the user', async () => {
    const onShown = vi.fn()
    const promise = harness.start({ silent: true, showIfNeeded: true, onShown })
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    win.webContents.didNavigate(LOGIN_URL, 200)
    await vi.advanceTimersByTimeAsync(NEEDS_USER_GRACE_MS)
    expect(win.showCalls).toBe(1)
    expect(onShown).toHaveBeenCalledTimes(1)
    // Now on the interactive clock: the silent limit no longer applies.
    await vi.advanceTimersByTimeAsync(SILENT_TIMEOUT_MS * 2)
    expect(harness.state()).toBe('pending')
    const appToken = await accessToken()
    await completeLogin(harness.session, win, appToken)
    expect(await promise).toMatchObject({ ok: true, value: { token: appToken, shown: true } })
  })

  it('without permission to show, needing the user ends the attempt', async () => {
    const promise = harness.start({ silent: true })
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    win.webContents.didNavigate(LOGIN_URL, 200)
    await vi.advanceTimersByTimeAsync(NEEDS_USER_GRACE_MS)
    expect(await promise).toMatchObject({ ok: false, reason: 'needs-user', error: { code: 'ACCESS_LOGIN_REQUIRED' } })
    expect(win.showCalls).toBe(0)
    expect(win.destroyed).toBe(true)
  })

  it('an intermediate page that moves on by itself (auto-submitting IdP form) is not "needs the user"', async () => {
    const promise = harness.start({ silent: true })
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    win.webContents.didNavigate('https://idp.example/saml/post', 200)
    await vi.advanceTimersByTimeAsync(NEEDS_USER_GRACE_MS / 2)
    win.webContents.willNavigate(`${TEAM_ORIGIN}/cdn-cgi/access/callback`)
    await vi.advanceTimersByTimeAsync(NEEDS_USER_GRACE_MS)
    expect(harness.state()).toBe('pending')
    const appToken = await accessToken()
    await completeLogin(harness.session, win, appToken)
    expect(await promise).toMatchObject({ ok: true, value: { shown: false } })
  })

  it('a hidden attempt that hangs counts as needing the user', async () => {
    const promise = harness.start({ silent: true })
    await vi.advanceTimersByTimeAsync(0)
    redirectToLogin(harness.win())
    await vi.advanceTimersByTimeAsync(SILENT_TIMEOUT_MS)
    expect(await promise).toMatchObject({ ok: false, reason: 'needs-user' })
  })

  it('the 403 page of a denied identity fails the hidden attempt as forbidden', async () => {
    const promise = harness.start({ silent: true, showIfNeeded: true })
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    win.webContents.didNavigate(LOGIN_URL, 403, 'Forbidden')
    expect(await promise).toMatchObject({ ok: false, reason: 'forbidden', error: { code: 'ACCESS_FORBIDDEN' } })
    expect(win.showCalls).toBe(0)
  })

  it('minValiditySec keeps an old, nearly expired cookie from passing as renewed', async () => {
    const promise = harness.start({ silent: true, minValiditySec: 600 })
    await vi.advanceTimersByTimeAsync(0)
    const win = harness.win()
    redirectToLogin(win)
    await completeLogin(harness.session, win, await accessToken({ exp: NOW + 300 }))
    expect(await promise).toMatchObject({ ok: false, reason: 'token-rejected', error: { details: { check: 'expiring' } } })
  })
})

describe('sign-out', () => {
  it('calls the Access logout on the app host and the team domain, then clears the partition', async () => {
    vi.useRealTimers()
    const logins = createAccessLoginWindows({ createWindow: () => new FakeWindow({}), sessionForPartition: () => harness.session, userAgent: UA })
    harness.session.cookies.store.push(electronCookie('CF_Authorization', 'x') as never)
    const result = await logins.signOut({ profileId: 'home', gatewayUrl: GATEWAY, teamOrigin: TEAM_ORIGIN })
    expect(result).toEqual({ appLogout: 'done', teamLogout: 'done', storageCleared: true })
    expect(harness.session.fetched.map((f) => f.url)).toEqual([`${APP_ORIGIN}/cdn-cgi/access/logout`, `${TEAM_ORIGIN}/cdn-cgi/access/logout`])
    expect(harness.session.fetched[0]?.init).toMatchObject({ credentials: 'include', redirect: 'manual' })
    expect(harness.session.cleared).toBe(1)
    expect(harness.session.cookies.store).toHaveLength(0)
  })

  it('still clears storage when the logout cannot be reached, and says so', async () => {
    vi.useRealTimers()
    const logins = createAccessLoginWindows({ createWindow: () => new FakeWindow({}), sessionForPartition: () => harness.session, userAgent: UA })
    harness.session.fetchAnswer = async () => {
      throw new Error('net::ERR_NAME_NOT_RESOLVED')
    }
    expect(await logins.signOut({ profileId: 'home', gatewayUrl: GATEWAY })).toEqual({ appLogout: 'failed', teamLogout: 'skipped', storageCleared: true })
    harness.session.fetchAnswer = async () => ({ status: 502 })
    harness.session.failClear = true
    expect(await logins.signOut({ profileId: 'home', gatewayUrl: GATEWAY, teamOrigin: 'http://insecure.example' })).toEqual({ appLogout: 'failed', teamLogout: 'skipped', storageCleared: false })
  })
})

describe('helpers', () => {
  it('loginPartition keeps safe ids and encodes the rest', () => {
    expect(loginPartition('home')).toBe('persist:cf-access:home')
    expect(loginPartition('prod-gw_1.2')).toBe('persist:cf-access:prod-gw_1.2')
    expect(loginPartition('my gateway/été')).toBe('persist:cf-access:my%20gateway%2F%C3%A9t%C3%A9')
    expect(loginPartition("a'b")).toBe('persist:cf-access:a%27b')
  })

  it('browserUserAgent: a Chrome UA per platform, reduced version, no Electron token', () => {
    expect(browserUserAgent('140.0.7339.80', 'linux')).toBe('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36')
    expect(browserUserAgent('141.0.1', 'darwin')).toContain('(Macintosh; Intel Mac OS X 10_15_7)')
    expect(browserUserAgent('141.0.1', 'win32')).toContain('(Windows NT 10.0; Win64; x64)')
    expect(browserUserAgent('junk', 'linux')).toContain('Chrome/140.0.0.0')
  })

  it('gatewayOrigin and isAllowedLoginNavigation', () => {
    expect(gatewayOrigin('wss://Gateway.Example.Test:8443/ws?x=1')).toEqual({ origin: 'https://gateway.example.test:8443', host: 'gateway.example.test', port: 8443 })
    expect(gatewayOrigin('https://gw.test')).toEqual({ origin: 'https://gw.test', host: 'gw.test', port: 443 })
    expect(gatewayOrigin('http://gw.test')).toBeNull()
    expect(gatewayOrigin('not a url')).toBeNull()
    expect(isAllowedLoginNavigation('https://a.test/x', true)).toBe(true)
    expect(isAllowedLoginNavigation('about:srcdoc', false)).toBe(true)
    expect(isAllowedLoginNavigation('chrome://settings', true)).toBe(false)
  })

  it.each([
    [-105, 'ERR_NAME_NOT_RESOLVED', 'DNS_NOT_FOUND'],
    [-102, 'ERR_CONNECTION_REFUSED', 'CONNECTION_REFUSED'],
    [-101, 'ERR_CONNECTION_RESET', 'CONNECTION_RESET'],
    [-118, 'ERR_CONNECTION_TIMED_OUT', 'TIMEOUT'],
    [-106, 'ERR_INTERNET_DISCONNECTED', 'NETWORK_UNREACHABLE'],
    [-202, 'ERR_CERT_AUTHORITY_INVALID', 'TLS_UNTRUSTED'],
    [-201, 'ERR_CERT_DATE_INVALID', 'TLS_EXPIRED'],
    [-200, 'ERR_CERT_COMMON_NAME_INVALID', 'TLS_HOSTNAME_MISMATCH'],
    [-107, 'ERR_SSL_PROTOCOL_ERROR', 'TLS_ERROR'],
    [-310, 'ERR_TOO_MANY_REDIRECTS', 'ACCESS_LOGIN_REQUIRED'],
    [-324, 'ERR_EMPTY_RESPONSE', 'NETWORK_UNREACHABLE']
  ])('classifyLoadFailure(%i %s) → %s', (code, name, expected) => {
    expect(classifyLoadFailure(code, name, APP_HOST).code).toBe(expected)
  })

  it('the adapter imports Electron as types only', () => {
    const source = readFileSync(new URL('../../../../src/main/electron/access-login-window.ts', import.meta.url), 'utf8')
    const electronImports = source.split('\n').filter((line) => /from 'electron'/.test(line) || /^import .*electron/.test(line))
    expect(electronImports.length).toBeGreaterThan(0)
    expect(source).toMatch(/^import type \{[^}]+\} from 'electron'$/m)
    expect(source).not.toMatch(/^import (?!type )[^\n]*from 'electron'/m)
    expect(source).not.toMatch(/require\(['"]electron['"]\)/)
  })
})
