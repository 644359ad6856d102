/**
 * The embedded Cloudflare Access login window, as an adapter around injected Electron objects.
 *
 * It opens the gateway's `https://` origin in a child window on the profile's own persistent
 * partition (`persist:cf-access:<profileId>`), lets the user complete the Access login on the
 * team domain (email + code, or any identity provider the policy offers), and watches that
 * partition's cookie store until the application token appears on the gateway's host
 * (cookie-capture.ts). Then it closes the window and hands the token back. The token never
 * reaches any renderer: it is read from the native cookie store, in the main process.
 *
 * The window is locked down: no preload, sandboxed, context isolation, no Node, no webview, a
 * browser-like user agent (Access's Turnstile check fails bare web-view agents, doc §5), every
 * permission request denied, `window.open` denied (except an identity provider's https popup from
 * the login pages, which gets the same lock-down and guards), and navigation only over https.
 *
 * Silent mode (renewal, renewal.ts) runs the same flow in a hidden window: with a live
 * team-domain session in the partition Access goes straight back to the app (SSO, doc §5 step 2).
 * When a page stays up that needs the user, the window is shown (if allowed) or the attempt ends
 * with "needs the user".
 *
 * Nothing here imports Electron at run time: the Electron types are imported as types only, and
 * the window, its session and the clock are injected, so the adapter runs against stand-ins in
 * tests and against `BrowserWindow` / `session.fromPartition` in the app.
 */
import type {
  BrowserWindowConstructorOptions,
  ClearStorageDataOptions,
  Cookie,
  CookiesGetFilter,
  Event as ElectronEvent,
  HandlerDetails,
  LoadURLOptions,
  WebContentsWillFrameNavigateEventParams,
  WebContentsWillNavigateEventParams,
  WebContentsWillRedirectEventParams,
  WindowOpenHandlerResponse
} from 'electron'
import { appError, type AppError, type ErrorCode } from '../../shared/errors'
import { parseAccessLoginRedirect } from '../cf-access/login-redirect'
import { AppHostCookieJar, type CapturedAppToken, type CookieChangeCause } from '../cf-access/sign-in/cookie-capture'
import { gatewayOrigin } from '../cf-access/sign-in/gateway-origin'

// --- Ports: the parts of Electron the adapter uses ------------------------------------------

/** `session.cookies` (Electron's `Cookies`). */
export interface LoginCookiesPort {
  on(event: 'changed', listener: (event: ElectronEvent, cookie: Cookie, cause: CookieChangeCause, removed: boolean) => void): unknown
  removeListener(event: 'changed', listener: (event: ElectronEvent, cookie: Cookie, cause: CookieChangeCause, removed: boolean) => void): unknown
  get(filter: CookiesGetFilter): Promise<Cookie[]>
  remove(url: string, name: string): Promise<void>
}

/** The partition's `Session`. */
export interface LoginSessionPort {
  readonly cookies: LoginCookiesPort
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void
  setUserAgent(userAgent: string, acceptLanguages?: string): void
  clearStorageData(options?: ClearStorageDataOptions): Promise<void>
  /** `session.fetch`: Chromium's network stack with this partition's cookies. */
  fetch(input: string, init?: RequestInit): Promise<{ status: number }>
}

/** The window's `WebContents`. */
export interface LoginWebContentsPort {
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void
  on(event: 'will-navigate', listener: (details: ElectronEvent<WebContentsWillNavigateEventParams>) => void): unknown
  on(event: 'will-redirect', listener: (details: ElectronEvent<WebContentsWillRedirectEventParams>) => void): unknown
  on(event: 'will-frame-navigate', listener: (details: ElectronEvent<WebContentsWillFrameNavigateEventParams>) => void): unknown
  on(event: 'did-navigate', listener: (event: ElectronEvent, url: string, httpResponseCode: number, httpStatusText: string) => void): unknown
  on(
    event: 'did-fail-load',
    listener: (event: ElectronEvent, errorCode: number, errorDescription: string, validatedURL: string, isMainFrame: boolean) => void
  ): unknown
  on(event: 'will-attach-webview', listener: (event: ElectronEvent) => void): unknown
  /** A `window.open` the handler allowed (an identity provider's popup) opened this window. */
  on(event: 'did-create-window', listener: (window: LoginPopupPort) => void): unknown
  loadURL(url: string, options?: LoadURLOptions): Promise<void>
}

/** An identity provider's popup: the guards go on its webContents too, and it closes with the sign-in. */
export interface LoginPopupPort {
  readonly webContents: Pick<LoginWebContentsPort, 'setWindowOpenHandler' | 'on'>
  close(): void
  isDestroyed(): boolean
}

/** The `BrowserWindow`. */
export interface LoginWindowPort {
  readonly webContents: LoginWebContentsPort
  on(event: 'closed', listener: () => void): unknown
  show(): void
  close(): void
  isDestroyed(): boolean
}

/** What the adapter needs from the app. */
export interface LoginWindowDeps {
  /** `new BrowserWindow(options)`. */
  createWindow(options: BrowserWindowConstructorOptions): LoginWindowPort
  /** `session.fromPartition(partition)`: the same session the window's `partition` selects. */
  sessionForPartition(partition: string): LoginSessionPort
  /** The browser-like user agent (see {@link browserUserAgent}). */
  userAgent: string
  now?: () => number
  setTimeout?: (fn: () => void, ms: number) => unknown
  clearTimeout?: (handle: unknown) => void
}

// --- Pure helpers -----------------------------------------------------------------------------

/** Interactive sign-ins end after this long (the issue: 10 minutes). */
export const SIGN_IN_TIMEOUT_MS = 10 * 60_000
/** A hidden (silent) attempt that has not finished by then needs the user. */
export const SILENT_TIMEOUT_MS = 45_000
/** In silent mode a page must stay up this long before it counts as "needs the user" (auto-submitting IdP pages move on). */
export const NEEDS_USER_GRACE_MS = 2_000
/** After the token cookie appears, wait this long for its `CF_Binding` and the landing navigation. */
export const CAPTURE_SETTLE_MS = 1_000

/**
 * The persistent partition of a profile's login window: `persist:cf-access:<profileId>`.
 * Characters outside `[A-Za-z0-9._-]` are percent-encoded so the name is a safe directory name.
 */
export function loginPartition(profileId: string): string {
  const safe = profileId.replace(/[^A-Za-z0-9._-]/g, (c) => encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`))
  return `persist:cf-access:${safe}`
}

/**
 * A Chrome user agent for the Chromium version Electron embeds, without the `Electron/` and
 * app tokens Electron adds (Turnstile and bot rules reject those, doc §5). Uses Chrome's reduced
 * form (`Chrome/<major>.0.0.0`).
 */
export function browserUserAgent(chromeVersion: string | undefined, platform: string): string {
  const major = /^(\d+)/.exec((chromeVersion ?? '').trim())?.[1] ?? '140'
  const os = platform === 'darwin' ? 'Macintosh; Intel Mac OS X 10_15_7' : platform === 'win32' ? 'Windows NT 10.0; Win64; x64' : 'X11; Linux x86_64'
  return `Mozilla/5.0 (${os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Safari/537.36`
}

/** The login window's options: hidden or shown, no preload, sandboxed, isolated, no Node. */
export function loginWindowOptions(partition: string, opts: { show: boolean; parent?: BrowserWindowConstructorOptions['parent'] }): BrowserWindowConstructorOptions {
  const options: BrowserWindowConstructorOptions = {
    width: 520,
    height: 720,
    minWidth: 380,
    minHeight: 480,
    show: opts.show,
    title: 'Sign in with Cloudflare Access',
    autoHideMenuBar: true,
    webPreferences: {
      partition,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false
    }
  }
  if (opts.parent) options.parent = opts.parent
  return options
}

/** True for a URL the login window may navigate to: https, or a blank document in a subframe. */
export function isAllowedLoginNavigation(url: string, isMainFrame: boolean): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (parsed.protocol === 'https:') return parsed.hostname !== '' && parsed.username === '' && parsed.password === ''
  // Identity-provider pages and the Turnstile widget create blank iframes; never the main frame.
  return !isMainFrame && (url === 'about:blank' || url === 'about:srcdoc')
}


/**
 * May the login window open this popup? Only an identity provider's: an https page opened while
 * the window is on the login pages (the team domain or the provider), never from the gateway's
 * own pages, and never in a hidden (silent) attempt, where a popup would mean the user must act.
 */
export function isAllowedLoginPopup(url: string, openerUrl: string, appHost: string, silent: boolean): boolean {
  if (silent || !isAllowedLoginNavigation(url, true)) return false
  let openerHost: string
  try {
    openerHost = new URL(openerUrl).hostname.toLowerCase()
  } catch {
    return false
  }
  return openerHost !== '' && openerHost !== appHost.toLowerCase()
}

/** Chromium net error of a failed main-frame load → an AppError. */
export function classifyLoadFailure(errorCode: number, errorDescription: string, host: string): AppError {
  const name = errorDescription.replace(/^net::/, '') || `net error ${errorCode}`
  const details = { host, systemCode: name }
  const make = (code: ErrorCode, title: string, message: string, retryable = false): AppError =>
    appError(code, title, message, { details, retryable, nextSteps: [{ action: 'retry', label: 'Try signing in again.' }] })
  if (name === 'ERR_NAME_NOT_RESOLVED' || name === 'ERR_NAME_RESOLUTION_FAILED') {
    return make('DNS_NOT_FOUND', 'Host name not found', `The login window could not resolve ${host} or the Access login page.`)
  }
  if (name === 'ERR_CONNECTION_REFUSED') return make('CONNECTION_REFUSED', 'Connection refused', 'The login window could not connect: the connection was refused.', true)
  if (name === 'ERR_CONNECTION_RESET' || name === 'ERR_CONNECTION_CLOSED') return make('CONNECTION_RESET', 'Connection reset', 'The connection of the login window was reset.', true)
  if (name === 'ERR_TIMED_OUT' || name === 'ERR_CONNECTION_TIMED_OUT') return make('TIMEOUT', 'The login page did not answer', 'The login page took too long to answer.', true)
  if (name === 'ERR_INTERNET_DISCONNECTED' || name === 'ERR_ADDRESS_UNREACHABLE' || name === 'ERR_NETWORK_CHANGED') {
    return make('NETWORK_UNREACHABLE', 'No network', 'The login window could not reach the network.', true)
  }
  if (name === 'ERR_CERT_AUTHORITY_INVALID') return make('TLS_UNTRUSTED', 'Certificate not trusted', 'The login page presented a certificate this computer does not trust.')
  if (name === 'ERR_CERT_DATE_INVALID') return make('TLS_EXPIRED', 'Certificate expired', 'The login page presented an expired certificate, or this computer\'s clock is wrong.')
  if (name === 'ERR_CERT_COMMON_NAME_INVALID') return make('TLS_HOSTNAME_MISMATCH', 'Certificate for another host', 'The login page presented a certificate for another host name.')
  if (name.startsWith('ERR_CERT_') || name.startsWith('ERR_SSL_')) return make('TLS_ERROR', 'Secure connection failed', 'The secure connection of the login window failed.')
  if (name === 'ERR_TOO_MANY_REDIRECTS') {
    return appError('ACCESS_LOGIN_REQUIRED', 'Sign-in went round in circles', 'The login pages kept redirecting to each other; the Access cookie settings (SameSite=Strict) can cause this.', {
      details,
      nextSteps: [{ action: 'check-dashboard', label: 'Set the Access application\'s cookie SameSite attribute to None or Lax.' }]
    })
  }
  return make('NETWORK_UNREACHABLE', 'The login page did not load', `The login window could not load the page (${name}).`, true)
}

// --- The adapter ------------------------------------------------------------------------------

/** One sign-in. */
export interface SignInRequest {
  profileId: string
  /** The gateway URL (`wss://…` or `https://…`); the window opens its https origin. */
  gatewayUrl: string
  /** The application AUD, when known; the login redirect's `kid` is learnt and wins over it. */
  expectedAud?: string
  /** Run hidden, relying on the partition's team session. */
  silent?: boolean
  /** Silent mode: show the window when the login needs the user (else end with `needs-user`). */
  showIfNeeded?: boolean
  /** Called when a hidden attempt had to show the window. */
  onShown?: () => void
  /** Interactive time limit (default 10 minutes). */
  timeoutMs?: number
  /** Hidden time limit before it counts as needing the user (default 45 s). */
  silentTimeoutMs?: number
  /** Seconds of validity the captured token must still have (default 0). */
  minValiditySec?: number
  skewSec?: number
  parent?: BrowserWindowConstructorOptions['parent']
  signal?: AbortSignal
}

/** A completed sign-in. Holds secrets: store `token`/`binding` in the keychain and drop the object. */
export interface SignedIn extends CapturedAppToken {
  /** The AUD the token was checked against. */
  aud: string
  /** Origin of the team domain's login pages (`https://<team>.cloudflareaccess.com`), for sign-out. */
  teamOrigin?: string
  partition: string
  /** True when the user saw the window. */
  shown: boolean
}

/** Why a sign-in did not complete. */
export type SignInFailure = 'invalid-url' | 'cancelled' | 'timeout' | 'needs-user' | 'token-rejected' | 'forbidden' | 'load-failed' | 'not-behind-access'

export type SignInResult = { ok: true; value: SignedIn } | { ok: false; reason: SignInFailure; error: AppError }

/** One sign-out. */
export interface SignOutRequest {
  profileId: string
  gatewayUrl: string
  /** Also log out on the team domain (ends the SSO session) when known. */
  teamOrigin?: string
  timeoutMs?: number
}

export interface SignOutResult {
  appLogout: 'done' | 'failed' | 'skipped'
  teamLogout: 'done' | 'failed' | 'skipped'
  storageCleared: boolean
}

const APP_COOKIES = ['CF_Authorization', 'CF_Binding'] as const

/** The login-window adapter. */
export interface AccessLoginWindows {
  signIn(request: SignInRequest): Promise<SignInResult>
  signOut(request: SignOutRequest): Promise<SignOutResult>
}

/** Build the adapter over the injected Electron objects. */
export function createAccessLoginWindows(deps: LoginWindowDeps): AccessLoginWindows {
  const now = deps.now ?? Date.now
  const setTimer = deps.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms))
  const clearTimer = deps.clearTimeout ?? ((handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>))

  function prepareSession(partition: string): LoginSessionPort {
    const session = deps.sessionForPartition(partition)
    session.setUserAgent(deps.userAgent)
    session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false))
    session.setPermissionCheckHandler(() => false)
    return session
  }

  async function signIn(request: SignInRequest): Promise<SignInResult> {
    const target = gatewayOrigin(request.gatewayUrl)
    if (!target) {
      return {
        ok: false,
        reason: 'invalid-url',
        error: appError('INVALID_URL', 'Not an https gateway address', 'Cloudflare Access sign-in needs the gateway\'s https:// or wss:// address.', {
          nextSteps: [{ action: 'check-url', label: 'Use the gateway\'s wss:// or https:// address.' }]
        })
      }
    }
    if (request.signal?.aborted) return cancelled()
    const { origin: appOrigin, host: appHost } = target

    const partition = loginPartition(request.profileId)
    const session = prepareSession(partition)
    // Without the app host's own cookie the edge sends the window through the login redirect,
    // which names the AUD (kid) and mints a fresh token; the team-domain session stays for SSO.
    await Promise.all(APP_COOKIES.map((name) => session.cookies.remove(`${appOrigin}/`, name).catch(() => undefined)))

    const silent = request.silent ?? false
    const jar = new AppHostCookieJar(appHost)
    let aud = request.expectedAud?.trim() || undefined
    let teamOrigin: string | undefined
    let sawLoginRedirect = false
    let shown = !silent
    let settled = false
    let window: LoginWindowPort | undefined
    const popups: LoginPopupPort[] = []
    /** The main frame's current page, for the popup rule. */
    let currentUrl = ''
    let deadline: unknown
    let settleTimer: unknown
    let graceTimer: unknown

    let resolveResult!: (result: SignInResult) => void
    const result = new Promise<SignInResult>((resolve) => (resolveResult = resolve))

    const clearTimers = () => {
      for (const t of [deadline, settleTimer, graceTimer]) if (t !== undefined) clearTimer(t)
      deadline = settleTimer = graceTimer = undefined
    }

    const finish = (outcome: SignInResult) => {
      if (settled) return
      settled = true
      clearTimers()
      session.cookies.removeListener('changed', onCookieChanged)
      request.signal?.removeEventListener('abort', onAbort)
      for (const popup of popups) if (!popup.isDestroyed()) popup.close()
      if (window && !window.isDestroyed()) window.close()
      resolveResult(outcome)
    }
    const fail = (reason: SignInFailure, error: AppError) => finish({ ok: false, reason, error })

    const armDeadline = (ms: number, onExpire: () => void) => {
      if (deadline !== undefined) clearTimer(deadline)
      deadline = setTimer(onExpire, ms)
    }

    const learn = (url: string) => {
      const redirect = parseAccessLoginRedirect(url, `${appOrigin}/`)
      if (!redirect || redirect.appHost !== appHost) return
      sawLoginRedirect = true
      if (redirect.aud) aud = redirect.aud
      try {
        const origin = new URL(url).origin
        if (origin.startsWith('https://')) teamOrigin = origin
      } catch {
        // parseAccessLoginRedirect accepted it, so it parses; nothing to learn otherwise
      }
    }

    /** Read the store, check what it holds; true when the sign-in ended. */
    const settleFromStore = async (): Promise<boolean> => {
      if (settled) return true
      try {
        jar.absorb(await session.cookies.get({ domain: appHost }))
      } catch {
        // keep what the events told us
      }
      if (settled) return true
      if (!jar.hasToken) return false
      if (!aud) {
        fail(
          'token-rejected',
          appError('ACCESS_APP_TOKEN_INVALID', 'Unknown Access application', 'The gateway host holds a Cloudflare Access token, but no login redirect named the application (AUD) to check it against.', {
            details: { check: 'audience-unknown' },
            nextSteps: [{ action: 'retry', label: 'Sign in again.' }]
          })
        )
        return true
      }
      const outcome = jar.outcome(aud, { nowMs: now(), ...(request.minValiditySec !== undefined ? { minValiditySec: request.minValiditySec } : {}), ...(request.skewSec !== undefined ? { skewSec: request.skewSec } : {}) })
      if (outcome.status === 'captured') {
        const value: SignedIn = { ...outcome.capture, aud, partition, shown }
        if (teamOrigin) value.teamOrigin = teamOrigin
        finish({ ok: true, value })
        return true
      }
      if (outcome.status === 'rejected') {
        fail('token-rejected', outcome.error)
        return true
      }
      return false
    }

    const scheduleSettle = () => {
      if (settleTimer !== undefined) clearTimer(settleTimer)
      settleTimer = setTimer(() => {
        settleTimer = undefined
        void settleFromStore()
      }, CAPTURE_SETTLE_MS)
    }

    function onCookieChanged(_event: ElectronEvent, cookie: Cookie, cause: CookieChangeCause, removed: boolean): void {
      if (settled) return
      if (jar.observe(cookie, cause, removed) && jar.hasToken) scheduleSettle()
    }

    const needsUser = () => {
      if (settled || shown) return
      if (request.showIfNeeded && window && !window.isDestroyed()) {
        shown = true
        window.show()
        request.onShown?.()
        armDeadline(request.timeoutMs ?? SIGN_IN_TIMEOUT_MS, onInteractiveTimeout)
        return
      }
      fail(
        'needs-user',
        appError('ACCESS_LOGIN_REQUIRED', 'Sign in to Cloudflare Access again', 'Renewing the Cloudflare Access session needs you: Access is asking for the sign-in again.', {
          nextSteps: [{ action: 'sign-in-email', label: 'Click "Sign in with Cloudflare Access" and complete the login.' }]
        })
      )
    }

    function onInteractiveTimeout(): void {
      const timeoutMs = request.timeoutMs ?? SIGN_IN_TIMEOUT_MS
      fail(
        'timeout',
        appError('TIMEOUT', 'Sign-in took too long', `The Cloudflare Access sign-in was not completed within ${Math.round(timeoutMs / 60_000)} minutes, so the window was closed.`, {
          details: { timeoutMs, host: appHost },
          nextSteps: [
            { action: 'sign-in-email', label: 'Sign in with Cloudflare Access again.' },
            { action: 'sign-in-email', label: 'If the login page keeps failing its verification, sign in with your web browser instead.' }
          ],
          retryable: true
        })
      )
    }

    const onAbort = () => fail('cancelled', cancelledError())

    const guard = (details: ElectronEvent<{ url: string; isMainFrame: boolean }>) => {
      if (!isAllowedLoginNavigation(details.url, details.isMainFrame)) details.preventDefault()
    }

    const pageStarted = () => {
      if (graceTimer !== undefined) {
        clearTimer(graceTimer)
        graceTimer = undefined
      }
    }

    const win = deps.createWindow(loginWindowOptions(partition, { show: !silent, ...(request.parent ? { parent: request.parent } : {}) }))
    window = win
    const contents = win.webContents
    contents.setWindowOpenHandler(({ url }) =>
      isAllowedLoginPopup(url, currentUrl, appHost, silent && !shown)
        ? { action: 'allow', overrideBrowserWindowOptions: loginWindowOptions(partition, { show: true }) }
        : { action: 'deny' }
    )
    contents.on('did-create-window', (popup) => {
      popups.push(popup)
      // The popup is a login page like the window: https only, no popups of its own, no webview.
      popup.webContents.setWindowOpenHandler(() => ({ action: 'deny' }))
      popup.webContents.on('will-navigate', (details) => guard(details))
      popup.webContents.on('will-redirect', (details) => guard(details))
      popup.webContents.on('will-frame-navigate', (details) => guard(details))
      popup.webContents.on('will-attach-webview', (event) => event.preventDefault())
    })
    contents.on('will-attach-webview', (event) => event.preventDefault())
    contents.on('will-frame-navigate', (details) => guard(details))
    contents.on('will-navigate', (details) => {
      guard(details)
      if (!details.defaultPrevented) {
        pageStarted()
        learn(details.url)
      }
    })
    contents.on('will-redirect', (details) => {
      guard(details)
      if (!details.defaultPrevented && details.isMainFrame) {
        pageStarted()
        learn(details.url)
      }
    })
    contents.on('did-navigate', (_event, url, httpResponseCode) => {
      currentUrl = url
      if (settled) return
      pageStarted()
      learn(url)
      let host = ''
      try {
        host = new URL(url).hostname.toLowerCase()
      } catch {
        host = ''
      }
      if (host === appHost) {
        void settleFromStore().then((done) => {
          if (done || settled) return
          if (!sawLoginRedirect) {
            fail(
              'not-behind-access',
              appError('INVALID_INPUT', 'No Cloudflare Access sign-in here', 'The gateway\'s page opened without Cloudflare Access asking for a sign-in, so there is no Access token to capture.', {
                details: { host: appHost },
                nextSteps: [{ action: 'check-url', label: 'Check the gateway address, or set Cloudflare Access to none for this gateway.' }]
              })
            )
          } else if (!shown) {
            needsUser()
          }
        })
        return
      }
      if (!shown) {
        if (httpResponseCode === 403) {
          fail(
            'forbidden',
            appError('ACCESS_FORBIDDEN', 'Cloudflare Access refused the sign-in', 'Cloudflare Access knows who you are but its policy does not allow you into this gateway.', {
              details: { httpStatus: 403, host: appHost },
              nextSteps: [{ action: 'check-dashboard', label: 'Ask the Access administrator to allow your account for this application.' }]
            })
          )
          return
        }
        graceTimer = setTimer(() => {
          graceTimer = undefined
          needsUser()
        }, NEEDS_USER_GRACE_MS)
      }
    })
    contents.on('did-fail-load', (_event, errorCode, errorDescription, _validatedURL, isMainFrame) => {
      // -3 (ERR_ABORTED) is a navigation replaced by another one or stopped by the guards.
      if (!isMainFrame || errorCode === -3 || settled) return
      fail('load-failed', classifyLoadFailure(errorCode, errorDescription, appHost))
    })
    win.on('closed', () => {
      window = undefined
      fail('cancelled', cancelledError())
    })

    session.cookies.on('changed', onCookieChanged)
    request.signal?.addEventListener('abort', onAbort)
    if (silent) armDeadline(request.silentTimeoutMs ?? SILENT_TIMEOUT_MS, needsUser)
    else armDeadline(request.timeoutMs ?? SIGN_IN_TIMEOUT_MS, onInteractiveTimeout)

    // A redirect makes loadURL reject with ERR_ABORTED; real failures arrive as did-fail-load.
    contents.loadURL(`${appOrigin}/`, { userAgent: deps.userAgent }).catch(() => undefined)
    return result
  }

  async function signOut(request: SignOutRequest): Promise<SignOutResult> {
    const target = gatewayOrigin(request.gatewayUrl)
    const partition = loginPartition(request.profileId)
    const session = prepareSession(partition)
    const timeoutMs = request.timeoutMs ?? 10_000
    const logout = async (origin: string | undefined): Promise<'done' | 'failed' | 'skipped'> => {
      if (!origin) return 'skipped'
      try {
        const response = await session.fetch(`${origin}/cdn-cgi/access/logout`, { method: 'GET', credentials: 'include', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
        return response.status >= 500 ? 'failed' : 'done'
      } catch {
        return 'failed'
      }
    }
    const teamOrigin = request.teamOrigin && gatewayOrigin(request.teamOrigin)?.origin
    const appLogout = await logout(target?.origin)
    const teamLogout = await logout(teamOrigin || undefined)
    let storageCleared = true
    try {
      await session.clearStorageData()
    } catch {
      storageCleared = false
    }
    return { appLogout, teamLogout, storageCleared }
  }

  return { signIn, signOut }
}

function cancelledError(): AppError {
  return appError('CANCELLED', 'Sign-in cancelled', 'The Cloudflare Access sign-in window was closed before the sign-in finished.', {
    nextSteps: [
      { action: 'sign-in-email', label: 'Sign in with Cloudflare Access again when you are ready.' },
      { action: 'sign-in-email', label: 'If the login page keeps failing its verification, sign in with your web browser instead.' }
    ]
  })
}

function cancelled(): SignInResult {
  return { ok: false, reason: 'cancelled', error: cancelledError() }
}

export { gatewayOrigin }
