/**
 * The login-window ports (src/main/electron/access-login-window.ts) implemented with a real
 * Chromium driven by playwright-core, so the Access login adapter runs end to end without
 * Electron: real pages, real redirects, a real cookie store.
 *
 *   LoginWindowPort      → a Page in the partition's BrowserContext (visibility is recorded:
 *                          headless pages have none, so `show: false` means "hidden")
 *   LoginWebContentsPort → navigation events from the DevTools protocol's request interception
 *                          (Fetch domain, Document requests, every redirect hop) and the page's
 *                          `framenavigated` / `requestfailed` events
 *   LoginSessionPort     → one BrowserContext per partition name, alive as long as this object
 *                          (so a later hidden renewal finds the team-domain session cookies)
 *   LoginCookiesPort     → the context's cookie store; `changed` is synthesised by polling it
 *                          (every ~100 ms) and diffing, with Electron's `Cookie` shape
 *
 * Host names: Chromium ignores this process's resolver, so the browser is launched with
 * `--host-resolver-rules` from tests/support/hosts.ts. `session.fetch` runs in this process
 * (Playwright's HTTP client, sharing the context's cookies), so the test must also call
 * installTestHosts().
 *
 * TLS: the contexts use `ignoreHTTPSErrors`. The emulator presents each leaf alone (no chain)
 * and every leaf shares one key, so Chromium's SPKI allow-list (which only looks at presented
 * certificates) would have to name that shared leaf key, which would accept the emulator's
 * self-signed, expired and wrong-host certificates just the same: no stricter than ignoring
 * certificate errors, only more opaque.
 */
import { EventEmitter } from 'node:events'
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page, type Request } from 'playwright-core'
import type { BrowserWindowConstructorOptions, ClearStorageDataOptions, Cookie, CookiesGetFilter, HandlerDetails, LoadURLOptions, WindowOpenHandlerResponse } from 'electron'
import type { CookieChangeCause } from '../../src/main/cf-access/sign-in/cookie-capture'
import { loginPartition, type LoginCookiesPort, type LoginSessionPort, type LoginWindowDeps, type LoginWindowPort } from '../../src/main/electron/access-login-window'
import { chromiumHostResolverRules } from '../support/hosts'
import { CHROMIUM_PATH, chromiumArgs } from './chromium'

// --- Electron-shaped values -------------------------------------------------------------------

/** Electron's `Event<Params>`: the params plus `preventDefault()` and a read-only `defaultPrevented`. */
export type ElectronLikeEvent<P extends object> = P & { preventDefault(): void; readonly defaultPrevented: boolean }

export function electronLikeEvent<P extends object>(params: P): ElectronLikeEvent<P> {
  let prevented = false
  const event = { ...params }
  Object.defineProperty(event, 'preventDefault', { value: () => void (prevented = true), enumerable: false })
  Object.defineProperty(event, 'defaultPrevented', { get: () => prevented, enumerable: false })
  return event as ElectronLikeEvent<P>
}

/** Chromium's net error codes (net/base/net_error_list.h) for the names a navigation can fail with. */
const NET_ERROR_CODES: Record<string, number> = {
  ERR_FAILED: -2,
  ERR_ABORTED: -3,
  ERR_INVALID_ARGUMENT: -4,
  ERR_TIMED_OUT: -7,
  ERR_BLOCKED_BY_CLIENT: -20,
  ERR_NETWORK_CHANGED: -21,
  ERR_BLOCKED_BY_RESPONSE: -27,
  ERR_CONNECTION_CLOSED: -100,
  ERR_CONNECTION_RESET: -101,
  ERR_CONNECTION_REFUSED: -102,
  ERR_CONNECTION_ABORTED: -103,
  ERR_CONNECTION_FAILED: -104,
  ERR_NAME_NOT_RESOLVED: -105,
  ERR_INTERNET_DISCONNECTED: -106,
  ERR_SSL_PROTOCOL_ERROR: -107,
  ERR_ADDRESS_INVALID: -108,
  ERR_ADDRESS_UNREACHABLE: -109,
  ERR_CONNECTION_TIMED_OUT: -118,
  ERR_NAME_RESOLUTION_FAILED: -137,
  ERR_CERT_COMMON_NAME_INVALID: -200,
  ERR_CERT_DATE_INVALID: -201,
  ERR_CERT_AUTHORITY_INVALID: -202,
  ERR_CERT_INVALID: -207,
  ERR_INVALID_URL: -300,
  ERR_DISALLOWED_URL_SCHEME: -301,
  ERR_UNKNOWN_URL_SCHEME: -302,
  ERR_TOO_MANY_REDIRECTS: -310,
  ERR_UNSAFE_REDIRECT: -311,
  ERR_UNSAFE_PORT: -312,
  ERR_INVALID_RESPONSE: -320,
  ERR_EMPTY_RESPONSE: -324,
  ERR_HTTP2_PROTOCOL_ERROR: -337
}

/** Failure texts of Playwright's other engines, for completeness (Chromium already reports `net::ERR_*`). */
const OTHER_ENGINE_FAILURES: [RegExp, string][] = [
  [/NS_ERROR_UNKNOWN_HOST|could not be found|Could not resolve/i, 'ERR_NAME_NOT_RESOLVED'],
  [/NS_ERROR_CONNECTION_REFUSED|Could not connect|Connection refused/i, 'ERR_CONNECTION_REFUSED'],
  [/NS_ERROR_NET_RESET|connection was reset/i, 'ERR_CONNECTION_RESET'],
  [/NS_ERROR_NET_TIMEOUT|timed out/i, 'ERR_TIMED_OUT'],
  [/NS_BINDING_ABORTED|cancelled|canceled/i, 'ERR_ABORTED'],
  [/SSL_ERROR|certificate|SEC_ERROR/i, 'ERR_CERT_AUTHORITY_INVALID'],
  [/Too many redirects|NS_ERROR_REDIRECT_LOOP/i, 'ERR_TOO_MANY_REDIRECTS']
]

/** A Playwright request failure text → Chromium's error name (without `net::`) and code, as `did-fail-load` reports them. */
export function chromiumNetError(failureText: string): { name: string; code: number } {
  const match = /(?:net::)?(ERR_[A-Z0-9_]+)/.exec(failureText)
  const name = match?.[1] ?? OTHER_ENGINE_FAILURES.find(([pattern]) => pattern.test(failureText))?.[1] ?? 'ERR_FAILED'
  return { name, code: NET_ERROR_CODES[name] ?? -2 }
}

/** A cookie as the DevTools protocol reports it (Storage.getCookies). */
interface CdpCookie {
  name: string
  value: string
  domain: string
  path: string
  expires: number
  httpOnly: boolean
  secure: boolean
  session: boolean
  sameSite?: 'Strict' | 'Lax' | 'None'
}

/** DevTools cookie → Electron's `Cookie` (leading dot for domain cookies, `hostOnly`, `sameSite` in Electron's words). */
export function toElectronCookie(c: CdpCookie): Cookie {
  const cookie: Cookie = {
    name: c.name,
    value: c.value,
    domain: c.domain,
    hostOnly: !c.domain.startsWith('.'),
    path: c.path,
    secure: c.secure,
    httpOnly: c.httpOnly,
    session: c.session,
    sameSite: c.sameSite === 'Strict' ? 'strict' : c.sameSite === 'Lax' ? 'lax' : c.sameSite === 'None' ? 'no_restriction' : 'unspecified'
  }
  if (!c.session) cookie.expirationDate = c.expires
  return cookie
}

/** Would a browser send `cookie` to `url`? (domain, path, Secure) */
function cookieMatchesUrl(cookie: Cookie, url: URL): boolean {
  const host = url.hostname.toLowerCase()
  const domain = (cookie.domain ?? '').toLowerCase()
  const domainOk = cookie.hostOnly ? host === domain : host === domain.replace(/^\./, '') || host.endsWith(domain.startsWith('.') ? domain : `.${domain}`)
  if (!domainOk) return false
  const path = cookie.path ?? '/'
  const pathOk = url.pathname === path || url.pathname.startsWith(path.endsWith('/') ? path : `${path}/`)
  if (!pathOk) return false
  return !cookie.secure || url.protocol === 'https:' || url.protocol === 'wss:'
}

/** Electron's `cookies.get(filter)` semantics. */
function matchesFilter(cookie: Cookie, filter: CookiesGetFilter): boolean {
  if (filter.url !== undefined && filter.url !== '' && !cookieMatchesUrl(cookie, new URL(filter.url))) return false
  if (filter.name !== undefined && cookie.name !== filter.name) return false
  if (filter.domain !== undefined) {
    const domain = (cookie.domain ?? '').replace(/^\./, '').toLowerCase()
    const wanted = filter.domain.replace(/^\./, '').toLowerCase()
    if (domain !== wanted && !domain.endsWith(`.${wanted}`)) return false
  }
  if (filter.path !== undefined && cookie.path !== filter.path) return false
  if (filter.secure !== undefined && cookie.secure !== filter.secure) return false
  if (filter.session !== undefined && cookie.session !== filter.session) return false
  if (filter.httpOnly !== undefined && cookie.httpOnly !== filter.httpOnly) return false
  return true
}

const cookieKey = (c: Cookie) => `${c.name}\u0000${c.domain ?? ''}\u0000${c.path ?? '/'}`
const sameCookie = (a: Cookie, b: Cookie) =>
  a.value === b.value && a.expirationDate === b.expirationDate && a.httpOnly === b.httpOnly && a.secure === b.secure && a.sameSite === b.sameSite && a.session === b.session

const withoutHash = (url: string) => url.replace(/#.*$/, '')

// --- The session (one BrowserContext per partition) ------------------------------------------

type ChangedListener = (event: ElectronLikeEvent<object>, cookie: Cookie, cause: CookieChangeCause, removed: boolean) => void

class PartitionCookies implements LoginCookiesPort {
  private readonly listeners = new Set<ChangedListener>()
  /** The store as last seen, by name/domain/path. */
  private known = new Map<string, Cookie>()
  private chain: Promise<void> = Promise.resolve()
  /** Every change this object reported, in order (for diagnosis and assertions). */
  readonly changes: { cookie: Cookie; cause: CookieChangeCause; removed: boolean }[] = []

  constructor(private readonly partition: PartitionSession) {}

  on(event: 'changed', listener: ChangedListener): this {
    if (event === 'changed') this.listeners.add(listener)
    return this
  }

  removeListener(event: 'changed', listener: ChangedListener): this {
    if (event === 'changed') this.listeners.delete(listener)
    return this
  }

  get listenerCount(): number {
    return this.listeners.size
  }

  /** The store now, in Electron's shape. */
  async all(): Promise<Cookie[]> {
    const raw = await this.partition.rawCookies()
    return raw.map(toElectronCookie)
  }

  async get(filter: CookiesGetFilter): Promise<Cookie[]> {
    return (await this.all()).filter((c) => matchesFilter(c, filter))
  }

  async remove(url: string, name: string): Promise<void> {
    const target = new URL(url)
    const context = await this.partition.context()
    for (const cookie of (await this.all()).filter((c) => c.name === name && cookieMatchesUrl(c, target))) {
      await context.clearCookies({ name: cookie.name, domain: cookie.domain ?? '', path: cookie.path ?? '/' })
    }
    await this.sync('explicit')
  }

  /**
   * Diff the store against what was seen last and report the changes, one sync at a time.
   * Vanished cookies are `explicit` when this object removed them, `expired` when their
   * expiry has passed, and otherwise `expired-overwrite` (a server replaced them with an
   * expired cookie, which is how Access clears its cookies; Chromium reports that cause).
   */
  sync(vanishedCause?: CookieChangeCause): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.partition.closed) return
      let now: Cookie[]
      try {
        now = await this.all()
      } catch {
        return
      }
      const next = new Map(now.map((c) => [cookieKey(c), c]))
      const nowSec = Date.now() / 1000
      for (const [key, old] of this.known) {
        if (next.has(key)) continue
        const cause: CookieChangeCause = vanishedCause ?? (old.expirationDate !== undefined && old.expirationDate <= nowSec ? 'expired' : 'expired-overwrite')
        this.emit(old, cause, true)
      }
      for (const [key, cookie] of next) {
        const old = this.known.get(key)
        if (old && sameCookie(old, cookie)) continue
        if (old) this.emit(old, 'overwrite', true)
        this.emit(cookie, 'inserted', false)
      }
      this.known = next
    })
    this.chain = run.catch(() => undefined)
    return run
  }

  private emit(cookie: Cookie, cause: CookieChangeCause, removed: boolean): void {
    this.changes.push({ cookie, cause, removed })
    for (const listener of [...this.listeners]) {
      try {
        listener(electronLikeEvent({}), { ...cookie }, cause, removed)
      } catch {
        // a listener's failure is not the store's
      }
    }
  }
}

type PermissionRequestHandler = (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void
type PermissionCheckHandler = (webContents: unknown, permission: string) => boolean

class PartitionSession implements LoginSessionPort {
  readonly cookies: PartitionCookies
  userAgent: string | undefined
  acceptLanguages: string | undefined
  permissionRequestHandler: PermissionRequestHandler | undefined
  permissionCheckHandler: PermissionCheckHandler | undefined
  /** Every `session.fetch` (URL and status), in order. */
  readonly fetches: { url: string; method: string; status: number | 'failed' }[] = []
  /** Every clearStorageData call. */
  clearedStorage = 0
  /** Origins the partition's windows visited (clearStorageData clears their storage). */
  readonly origins = new Set<string>()
  closed = false
  private contextPromise: Promise<{ context: BrowserContext; browserContextId: string }> | undefined
  private poller: NodeJS.Timeout | undefined
  private browserSession: Promise<CDPSession> | undefined

  constructor(
    readonly name: string,
    private readonly browser: Browser,
    private readonly defaults: { userAgent: string; cookiePollMs: number; onContext: (context: BrowserContext) => void }
  ) {
    this.cookies = new PartitionCookies(this)
  }

  setUserAgent(userAgent: string, acceptLanguages?: string): void {
    if (this.contextPromise && userAgent !== this.userAgent) throw new Error(`partition ${this.name}: the user agent cannot change once its context exists`)
    this.userAgent = userAgent
    if (acceptLanguages !== undefined) this.acceptLanguages = acceptLanguages
  }

  setPermissionRequestHandler(handler: PermissionRequestHandler): void {
    this.permissionRequestHandler = handler
  }

  setPermissionCheckHandler(handler: PermissionCheckHandler): void {
    this.permissionCheckHandler = handler
  }

  /** The partition's context, made on first use with the user agent known by then. */
  async context(): Promise<BrowserContext> {
    return (await this.ensureContext()).context
  }

  private ensureContext(): Promise<{ context: BrowserContext; browserContextId: string }> {
    this.contextPromise ??= (async () => {
      const locale = this.acceptLanguages?.split(',')[0]?.trim()
      const context = await this.browser.newContext({
        userAgent: this.userAgent ?? this.defaults.userAgent,
        ignoreHTTPSErrors: true,
        viewport: null,
        ...(locale ? { locale } : {})
      })
      // The DevTools id of the context, to read its cookie store with every attribute
      // (Playwright's own cookies() reports an unspecified SameSite as Lax).
      const probe = await context.newPage()
      const session = await context.newCDPSession(probe)
      const { targetInfo } = (await session.send('Target.getTargetInfo')) as { targetInfo: { browserContextId?: string } }
      await session.detach().catch(() => undefined)
      await probe.close()
      if (!targetInfo.browserContextId) throw new Error('no browserContextId for the new context')
      this.defaults.onContext(context)
      this.poller = setInterval(() => void this.cookies.sync(), this.defaults.cookiePollMs)
      return { context, browserContextId: targetInfo.browserContextId }
    })()
    return this.contextPromise
  }

  async rawCookies(): Promise<CdpCookie[]> {
    const { browserContextId } = await this.ensureContext()
    this.browserSession ??= this.browser.newBrowserCDPSession()
    const session = await this.browserSession
    const { cookies } = (await session.send('Storage.getCookies', { browserContextId })) as { cookies: CdpCookie[] }
    return cookies
  }

  async clearStorageData(_options?: ClearStorageDataOptions): Promise<void> {
    this.clearedStorage++
    const context = await this.context()
    await context.clearCookies()
    if (this.origins.size > 0) {
      // Web storage of every origin the windows visited, through a page of this context.
      const page = await context.newPage()
      try {
        const cdp = await context.newCDPSession(page)
        for (const origin of this.origins) await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: 'all' })
        await cdp.detach().catch(() => undefined)
      } finally {
        await page.close()
      }
    }
    await this.cookies.sync('explicit')
  }

  async fetch(input: string, init?: RequestInit): Promise<{ status: number }> {
    const context = await this.context()
    const method = init?.method ?? 'GET'
    const headers = init?.headers ? Object.fromEntries(new Headers(init.headers).entries()) : undefined
    const signal = init?.signal ?? undefined
    try {
      signal?.throwIfAborted()
      const request = context.request.fetch(input, {
        method,
        ...(headers ? { headers } : {}),
        ...(typeof init?.body === 'string' ? { data: init.body } : {}),
        // Electron's `redirect: 'manual'`: the first answer is the answer.
        maxRedirects: init?.redirect === 'follow' ? 20 : 0,
        timeout: 30_000
      })
      const aborted = new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }))
      const response = await (signal ? Promise.race([request, aborted]) : request)
      const status = response.status()
      await response.dispose()
      this.fetches.push({ url: input, method, status })
      await this.cookies.sync()
      return { status }
    } catch (error) {
      this.fetches.push({ url: input, method, status: 'failed' })
      throw error
    }
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.poller) clearInterval(this.poller)
    const made = await this.contextPromise?.catch(() => undefined)
    await made?.context.close().catch(() => undefined)
  }
}

// --- The window, its webContents, and pop-ups ---------------------------------------------------

type WindowOpenHandler = (details: HandlerDetails) => WindowOpenHandlerResponse

class PlaywrightWebContents extends EventEmitter {
  windowOpenHandler: WindowOpenHandler | undefined
  /** Every loadURL call. */
  readonly loads: { url: string; options: LoadURLOptions | undefined }[] = []

  constructor(private readonly owner: PagePort) {
    super()
  }

  setWindowOpenHandler(handler: WindowOpenHandler): void {
    this.windowOpenHandler = handler
  }

  /** Electron's loadURL: a programmatic navigation (no will-navigate), resolves once loaded. */
  async loadURL(url: string, options?: LoadURLOptions): Promise<void> {
    this.loads.push({ url, options })
    const page = await this.owner.ready
    if (options?.userAgent && options.userAgent !== this.owner.session.userAgent && this.owner.cdp) {
      await this.owner.cdp.send('Network.setUserAgentOverride', { userAgent: options.userAgent })
    }
    this.owner.programmaticUrl = withoutHash(new URL(url).href)
    await page.goto(url, { waitUntil: 'load', timeout: 0 })
  }
}

/** How long page.close() gets before the close is re-issued, and how many times. */
const CLOSE_RETRY_MS = 1_000
const CLOSE_RETRIES = 5

/**
 * A Page with Electron's webContents events: `will-*` from the DevTools protocol's request
 * interception of Document requests (each redirect hop included; a prevented one is aborted),
 * `did-navigate` / `did-fail-load` from the page's events, and pop-ups through the window-open
 * handler (deny closes them; allow wraps them and emits `did-create-window`).
 */
abstract class PagePort extends EventEmitter {
  readonly webContents: PlaywrightWebContents
  page: Page | undefined
  cdp: CDPSession | undefined
  destroyed = false
  abstract readonly ready: Promise<Page>
  /** Pop-ups the page tried to open, and what the window-open handler said. */
  readonly popups: { url: string; action: 'deny' | 'allow' | 'no-handler'; port?: PlaywrightPopup }[] = []
  /** Navigations the ports reported: `will-*` (with whether a listener prevented them), `did-navigate`, `did-fail-load`. */
  readonly log: string[] = []
  /** URL of the navigation loadURL started (its request is not a `will-navigate`). */
  programmaticUrl: string | undefined
  private mainFrameId: string | undefined
  private lastMainResponse: { url: string; status: number; statusText: string } | undefined
  private readonly pendingWindowOpens: { url: string; frameName: string; features: string }[] = []

  constructor(
    readonly session: PartitionSession,
    protected readonly notify: () => void
  ) {
    super()
    this.webContents = new PlaywrightWebContents(this)
  }

  /** Attach the events to `page` (a new window's page, or a pop-up). */
  protected async wire(page: Page): Promise<void> {
    this.page = page
    const context = page.context()
    const cdp = await context.newCDPSession(page)
    this.cdp = cdp
    const { frameTree } = (await cdp.send('Page.getFrameTree')) as { frameTree: { frame: { id: string } } }
    this.mainFrameId = frameTree.frame.id
    cdp.on('Fetch.requestPaused', (event) => void this.onRequestPaused(event as unknown as FetchRequestPaused))
    cdp.on('Page.windowOpen', (event) => {
      const e = event as { url: string; windowName: string; windowFeatures: string[] }
      this.pendingWindowOpens.push({ url: e.url, frameName: e.windowName, features: e.windowFeatures.join(',') })
    })
    await cdp.send('Page.enable')
    await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*', resourceType: 'Document', requestStage: 'Request' }] })

    page.on('response', (response) => {
      const request = response.request()
      if (request.isNavigationRequest() && this.isMain(request)) {
        this.lastMainResponse = { url: withoutHash(response.url()), status: response.status(), statusText: response.statusText() }
      }
    })
    page.on('framenavigated', (frame) => {
      if (frame !== page.mainFrame()) return
      const url = frame.url()
      try {
        const origin = new URL(url).origin
        if (origin.startsWith('http')) this.session.origins.add(origin)
      } catch {
        // chrome-error:// and the like
      }
      // did-navigate is for cross-document navigations that got a response (not same-document
      // changes, not error pages).
      const response = this.lastMainResponse
      if (!response || response.url !== withoutHash(url)) return
      this.lastMainResponse = undefined
      this.log.push(`did-navigate ${response.status} ${url}`)
      this.webContents.emit('did-navigate', electronLikeEvent({}), url, response.status, response.statusText)
    })
    page.on('requestfailed', (request) => {
      if (!request.isNavigationRequest()) return
      const { name, code } = chromiumNetError(request.failure()?.errorText ?? '')
      const isMainFrame = this.isMain(request)
      this.log.push(`did-fail-load ${name} ${request.url()}`)
      this.webContents.emit('did-fail-load', electronLikeEvent({}), code, name, request.url(), isMainFrame, 0, 0)
    })
    page.on('close', () => {
      this.destroyed = true
      this.onClosed()
      this.notify()
    })
  }

  protected abstract onClosed(): void

  private isMain(request: Request): boolean {
    try {
      return request.frame() === this.page?.mainFrame()
    } catch {
      return false
    }
  }

  /** A pop-up this page opened (context `page` event): ask the window-open handler; deny closes it. */
  async onPopup(popup: Page): Promise<void> {
    const requested = this.pendingWindowOpens.shift()
    const url = requested?.url ?? popup.url()
    const handler = this.webContents.windowOpenHandler
    const verdict = handler?.({ url, frameName: requested?.frameName ?? '', features: requested?.features ?? '', disposition: 'new-window', referrer: { url: this.page?.url() ?? '', policy: 'strict-origin-when-cross-origin' } })
    const action = verdict ? verdict.action : 'no-handler'
    if (action === 'deny') {
      this.popups.push({ url, action })
      await popup.close().catch(() => undefined)
    } else {
      const options = verdict && verdict.action === 'allow' ? (verdict.overrideBrowserWindowOptions ?? {}) : {}
      const port = new PlaywrightPopup(this.session, popup, options, this.notify)
      this.popups.push({ url, action, port })
      await port.ready
      this.webContents.emit('did-create-window', port, { url, frameName: requested?.frameName ?? '', options, disposition: 'new-window', referrer: { url: '', policy: 'default' } })
    }
    this.notify()
  }

  private async onRequestPaused(event: FetchRequestPaused): Promise<void> {
    const cdp = this.cdp
    if (!cdp) return
    let prevented = false
    try {
      const url = event.request.url
      const isMainFrame = event.frameId === this.mainFrameId
      const params = { url, isSameDocument: false, isMainFrame, frame: null, initiator: null }
      const fire = (name: 'will-navigate' | 'will-redirect' | 'will-frame-navigate', positional: boolean) => {
        const e = electronLikeEvent(params)
        if (positional) this.webContents.emit(name, e, url, false, isMainFrame, 0, 0)
        else this.webContents.emit(name, e)
        this.log.push(`${name}${e.defaultPrevented ? ' (prevented)' : ''} ${url}`)
        if (e.defaultPrevented) prevented = true
      }
      if (event.redirectedRequestId !== undefined) {
        // A server redirect of a navigation in progress (also of loadURL's).
        fire('will-redirect', true)
      } else if (isMainFrame && this.programmaticUrl !== undefined && withoutHash(url) === this.programmaticUrl) {
        // loadURL's own request: Electron emits no will-navigate for it.
        this.programmaticUrl = undefined
      } else {
        fire('will-frame-navigate', false)
        if (isMainFrame && !prevented) fire('will-navigate', true)
      }
    } catch {
      // a listener threw: let the browser carry on as Electron would
    }
    if (prevented) await cdp.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'Aborted' }).catch(() => undefined)
    else await cdp.send('Fetch.continueRequest', { requestId: event.requestId }).catch(() => undefined)
  }

  /** Times the adapter asked this window or pop-up to close. */
  closeCalls = 0

  close(): void {
    if (this.destroyed) return
    this.closeCalls++
    const page = this.page
    if (!page) return
    void page.close().catch(() => undefined)
    // Electron's close() always ends in 'closed'. Chromium, though, can acknowledge the DevTools
    // close of a page whose cross-site navigation is committing without closing it
    // (crbug.com/536385539; Playwright's page.close() then waits forever): re-issue the close
    // through the browser until the page is gone, as Electron's own close does not race.
    void this.closeUntilGone(page)
  }

  private async closeUntilGone(page: Page): Promise<void> {
    for (let attempt = 1; attempt <= CLOSE_RETRIES; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, CLOSE_RETRY_MS).unref())
      if (this.destroyed) return
      try {
        const cdp = this.cdp ?? (await page.context().newCDPSession(page))
        const { targetInfo } = (await cdp.send('Target.getTargetInfo')) as { targetInfo: { targetId: string } }
        const browser = page.context().browser()
        if (!browser) return
        const session = await browser.newBrowserCDPSession()
        await session.send('Target.closeTarget', { targetId: targetInfo.targetId })
        await session.detach().catch(() => undefined)
        process.stderr.write(`[login windows] page.close() had not closed ${page.url()}; closed its target again (attempt ${attempt})\n`)
      } catch {
        // already gone
      }
    }
  }

  isDestroyed(): boolean {
    return this.destroyed
  }
}

/** A pop-up the window-open handler allowed (an identity provider's window): Electron's child BrowserWindow. */
export class PlaywrightPopup extends PagePort {
  readonly ready: Promise<Page>

  constructor(
    session: PartitionSession,
    page: Page,
    readonly options: BrowserWindowConstructorOptions,
    notify: () => void
  ) {
    super(session, notify)
    this.ready = this.wire(page).then(() => page)
    this.ready.catch(() => undefined)
  }

  protected onClosed(): void {
    this.emit('closed')
  }
}

/** One login window: a Page, hidden or shown. */
export class PlaywrightLoginWindow extends PagePort implements LoginWindowPort {
  readonly partition: string
  /** Shown now (headless pages have no visibility of their own: this is the window's state). */
  visible: boolean
  /** Shown at any time of its life. */
  everShown: boolean
  showCalls = 0
  readonly ready: Promise<Page>
  private closeRequested = false

  constructor(
    session: PartitionSession,
    readonly options: BrowserWindowConstructorOptions,
    notify: () => void
  ) {
    super(session, notify)
    this.partition = session.name
    this.visible = options.show !== false
    this.everShown = this.visible
    this.ready = this.open()
    // The adapter may never call loadURL (an invalid address): never leave a rejection unhandled.
    this.ready.catch(() => undefined)
  }

  private async open(): Promise<Page> {
    const context = await this.session.context()
    const page = await context.newPage()
    if (this.options.width && this.options.height) await page.setViewportSize({ width: this.options.width, height: this.options.height })
    await this.wire(page)
    this.notify()
    if (this.closeRequested) await page.close()
    return page
  }

  protected onClosed(): void {
    this.visible = false
    this.emit('closed')
  }

  show(): void {
    if (this.destroyed) return
    this.showCalls++
    this.visible = true
    this.everShown = true
    this.notify()
  }

  override close(): void {
    if (this.destroyed) return
    if (this.page) super.close()
    else {
      this.closeCalls++
      this.closeRequested = true
    }
  }
}

interface FetchRequestPaused {
  requestId: string
  request: { url: string; method: string }
  frameId: string
  resourceType: string
  redirectedRequestId?: string
}

// --- The deps ------------------------------------------------------------------------------------

export interface PlaywrightLoginWindowOptions {
  /** LoginWindowDeps.userAgent (the adapter hands it to setUserAgent and loadURL). */
  userAgent: string
  now?: () => number
  setTimeout?: (fn: () => void, ms: number) => unknown
  clearTimeout?: (handle: unknown) => void
  /** Cookie store polling interval (default 100 ms). */
  cookiePollMs?: number
  chromiumPath?: string
  extraArgs?: string[]
}

/** What a test sees of one window. */
export interface LoginWindowInfo {
  index: number
  partition: string
  visible: boolean
  everShown: boolean
  closed: boolean
  /** Times the adapter called close() on it. */
  closeCalls: number
  url: string | undefined
}

export interface PlaywrightLoginWindowDeps extends LoginWindowDeps {
  readonly browser: Browser
  /** Every window ever created, oldest first. */
  readonly windows: readonly PlaywrightLoginWindow[]
  listWindows(): LoginWindowInfo[]
  /** The partition's session port (made on first use), for assertions. */
  session(profileIdOrPartition: string): PartitionSessionView
  /** The newest open window of a profile (or partition), if any. */
  currentWindow(profileIdOrPartition: string): PlaywrightLoginWindow | undefined
  /**
   * Waits for a window of the profile whose index is at least `since` (default: any open one),
   * optionally until it is visible, and returns it with its page ready.
   */
  waitForWindow(profileIdOrPartition: string, options?: { since?: number; visible?: boolean; timeoutMs?: number }): Promise<PlaywrightLoginWindow & { page: Page }>
  /** The Page of the profile's current window (waits for it, see waitForWindow). */
  pageOf(profileIdOrPartition: string, options?: { since?: number; visible?: boolean; timeoutMs?: number }): Promise<Page>
  close(): Promise<void>
}

/** The session port plus what tests read from it. */
export type PartitionSessionView = LoginSessionPort & {
  readonly name: string
  readonly userAgent: string | undefined
  readonly fetches: readonly { url: string; method: string; status: number | 'failed' }[]
  readonly clearedStorage: number
  readonly cookies: LoginCookiesPort & { all(): Promise<Cookie[]>; readonly changes: readonly { cookie: Cookie; cause: CookieChangeCause; removed: boolean }[] }
  /** What the recorded permission handlers answer for a few permissions (request and check). */
  permissionVerdicts(permissions?: string[]): Promise<{ permission: string; requested: boolean | 'no-handler'; checked: boolean | 'no-handler' }[]>
}

function toPartition(profileIdOrPartition: string): string {
  return profileIdOrPartition.startsWith('persist:') ? profileIdOrPartition : loginPartition(profileIdOrPartition)
}

/** Launches a Chromium of its own and returns LoginWindowDeps backed by it (plus test helpers). */
export async function createPlaywrightLoginWindowDeps(options: PlaywrightLoginWindowOptions): Promise<PlaywrightLoginWindowDeps> {
  const browser = await chromium.launch({
    executablePath: options.chromiumPath ?? CHROMIUM_PATH,
    headless: true,
    args: [
      ...chromiumArgs(chromiumHostResolverRules()),
      ...(options.extraArgs ?? [])
    ]
  })
  const sessions = new Map<string, PartitionSession>()
  const windows: PlaywrightLoginWindow[] = []
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const check of [...waiters]) check()
  }
  const cookiePollMs = options.cookiePollMs ?? 100

  const sessionFor = (partition: string): PartitionSession => {
    let session = sessions.get(partition)
    if (!session) {
      // Pop-ups of this partition's windows go through their window-open handler.
      const onContext = (context: BrowserContext) =>
        context.on('page', (popup) => {
          void popup.opener().then((opener) => {
            if (!opener) return
            const owners: PagePort[] = windows.flatMap((w) => [w, ...w.popups.flatMap((p) => (p.port ? [p.port] : []))])
            const owner = owners.find((w) => w.page === opener)
            if (owner) void owner.onPopup(popup)
            else void popup.close().catch(() => undefined)
          })
        })
      session = new PartitionSession(partition, browser, { userAgent: options.userAgent, cookiePollMs, onContext })
      sessions.set(partition, session)
    }
    return session
  }

  const view = (session: PartitionSession): PartitionSessionView =>
    Object.assign(session, {
      async permissionVerdicts(permissions = ['geolocation', 'notifications', 'media', 'clipboard-read', 'openExternal']) {
        return Promise.all(
          permissions.map(async (permission) => {
            const requested = session.permissionRequestHandler
              ? await new Promise<boolean>((resolve) => session.permissionRequestHandler!(undefined, permission, resolve))
              : ('no-handler' as const)
            const checked = session.permissionCheckHandler ? session.permissionCheckHandler(undefined, permission) : ('no-handler' as const)
            return { permission, requested, checked }
          })
        )
      }
    }) as unknown as PartitionSessionView

  const currentWindow = (key: string) => {
    const partition = toPartition(key)
    return [...windows].reverse().find((w) => w.partition === partition && !w.destroyed)
  }

  const waitForWindow: PlaywrightLoginWindowDeps['waitForWindow'] = (key, opts = {}) => {
    const partition = toPartition(key)
    const timeoutMs = opts.timeoutMs ?? 15_000
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = windows.find((w, i) => i >= (opts.since ?? 0) && w.partition === partition && !w.destroyed && w.page && (!opts.visible || w.visible))
        if (!found) return
        cleanup()
        resolve(found as PlaywrightLoginWindow & { page: Page })
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no${opts.visible ? ' visible' : ''} login window for ${partition} within ${timeoutMs} ms; windows: ${JSON.stringify(listWindows())}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  }

  const listWindows = (): LoginWindowInfo[] =>
    windows.map((w, index) => ({ index, partition: w.partition, visible: w.visible, everShown: w.everShown, closed: w.destroyed, closeCalls: w.closeCalls, url: w.page && !w.destroyed ? w.page.url() : undefined }))

  const deps: PlaywrightLoginWindowDeps = {
    browser,
    windows,
    userAgent: options.userAgent,
    ...(options.now ? { now: options.now } : {}),
    ...(options.setTimeout ? { setTimeout: options.setTimeout } : {}),
    ...(options.clearTimeout ? { clearTimeout: options.clearTimeout } : {}),
    createWindow(windowOptions) {
      const partition = windowOptions.webPreferences?.partition
      if (!partition) throw new Error('a login window needs webPreferences.partition')
      const win = new PlaywrightLoginWindow(sessionFor(partition), windowOptions, notify)
      windows.push(win)
      notify()
      return win
    },
    sessionForPartition: (partition) => sessionFor(partition),
    listWindows,
    session: (key) => view(sessionFor(toPartition(key))),
    currentWindow,
    waitForWindow,
    async pageOf(key, opts) {
      return (await waitForWindow(key, opts)).page
    },
    async close() {
      for (const session of sessions.values()) await session.close()
      await browser.close().catch(() => undefined)
    }
  }
  return deps
}
