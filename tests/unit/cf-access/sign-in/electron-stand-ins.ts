/**
 * Stand-ins for the Electron objects the login window adapter drives: a BrowserWindow, its
 * webContents, and the partition's session with its cookie store. They emit events with the
 * argument lists Electron 45 uses (the `Event<Params>` object first, then the deprecated
 * positional arguments) and record what the adapter did to them.
 */
import type { BrowserWindowConstructorOptions, Cookie, CookiesGetFilter, HandlerDetails, LoadURLOptions, WindowOpenHandlerResponse } from 'electron'
import type { CookieChangeCause } from '../../../../src/main/cf-access/sign-in/cookie-capture'
import type { LoginSessionPort, LoginWindowPort } from '../../../../src/main/electron/access-login-window'

type Listener = (...args: never[]) => unknown

class Emitter {
  private readonly listeners = new Map<string, Listener[]>()

  on(event: string, fn: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn])
    return this
  }

  removeListener(event: string, fn: Listener): this {
    this.listeners.set(
      event,
      (this.listeners.get(event) ?? []).filter((l) => l !== fn)
    )
    return this
  }

  emit(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) (fn as (...a: unknown[]) => unknown)(...args)
  }

  listenerCount(event: string): number {
    return (this.listeners.get(event) ?? []).length
  }
}

/** Electron's `Event<Params>`: `preventDefault()` and a read-only `defaultPrevented`, plus the params. */
export function electronEvent<P extends object>(params: P): P & { preventDefault(): void; readonly defaultPrevented: boolean } {
  let prevented = false
  const event = Object.assign({}, params)
  Object.defineProperty(event, 'preventDefault', { value: () => (prevented = true), enumerable: false })
  Object.defineProperty(event, 'defaultPrevented', { get: () => prevented, enumerable: false })
  return event as P & { preventDefault(): void; readonly defaultPrevented: boolean }
}

function cookieDomainMatches(cookie: Cookie, host: string): boolean {
  const domain = (cookie.domain ?? '').replace(/^\./, '')
  return host === domain || (!cookie.hostOnly && host.endsWith(`.${domain}`))
}

/** `session.cookies`: a store that emits `changed` (event, cookie, cause, removed) as Chromium does. */
export class FakeCookies extends Emitter {
  readonly store: Cookie[] = []
  readonly removed: { url: string; name: string }[] = []
  failGet = false

  /** A Set-Cookie landing in the store: an existing cookie of the same name/domain/path is overwritten. */
  set(cookie: Cookie): void {
    const index = this.store.findIndex((c) => c.name === cookie.name && c.domain === cookie.domain && (c.path ?? '/') === (cookie.path ?? '/'))
    if (index >= 0) {
      const [old] = this.store.splice(index, 1)
      this.emit('changed', electronEvent({}), old, 'overwrite' satisfies CookieChangeCause, true)
    }
    this.store.push(cookie)
    this.emit('changed', electronEvent({}), cookie, 'inserted' satisfies CookieChangeCause, false)
  }

  async get(filter: CookiesGetFilter): Promise<Cookie[]> {
    if (this.failGet) throw new Error('cookie store unavailable')
    return this.store.filter((c) => {
      if (filter.name !== undefined && c.name !== filter.name) return false
      if (filter.domain !== undefined) {
        const domain = (c.domain ?? '').replace(/^\./, '')
        if (domain !== filter.domain && !domain.endsWith(`.${filter.domain}`)) return false
      }
      if (filter.url !== undefined && !cookieDomainMatches(c, new URL(filter.url).hostname)) return false
      return true
    })
  }

  async remove(url: string, name: string): Promise<void> {
    this.removed.push({ url, name })
    const host = new URL(url).hostname
    for (let i = this.store.length - 1; i >= 0; i--) {
      const cookie = this.store[i]!
      if (cookie.name === name && cookieDomainMatches(cookie, host)) {
        this.store.splice(i, 1)
        this.emit('changed', electronEvent({}), cookie, 'explicit' satisfies CookieChangeCause, true)
      }
    }
  }
}

/** The partition's session. */
export class FakeSession implements LoginSessionPort {
  readonly cookies = new FakeCookies()
  userAgent: string | undefined
  permissionRequestHandler: ((webContents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined
  permissionCheckHandler: ((webContents: unknown, permission: string) => boolean) | undefined
  readonly fetched: { url: string; init: RequestInit | undefined }[] = []
  fetchAnswer: (url: string) => Promise<{ status: number }> = async () => ({ status: 200 })
  cleared = 0
  failClear = false

  setUserAgent(userAgent: string): void {
    this.userAgent = userAgent
  }

  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void {
    this.permissionRequestHandler = handler
  }

  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void {
    this.permissionCheckHandler = handler
  }

  async clearStorageData(): Promise<void> {
    if (this.failClear) throw new Error('busy')
    this.cleared++
    this.cookies.store.length = 0
  }

  fetch(url: string, init?: RequestInit): Promise<{ status: number }> {
    this.fetched.push({ url, init })
    return this.fetchAnswer(url)
  }
}

/** The window's webContents, with helpers that play the browser's navigation events. */
export class FakeWebContents extends Emitter {
  windowOpenHandler: ((details: HandlerDetails) => WindowOpenHandlerResponse) | undefined
  readonly loads: { url: string; options: LoadURLOptions | undefined }[] = []
  loadResult: Promise<void> = Promise.resolve()

  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler
  }

  loadURL(url: string, options?: LoadURLOptions): Promise<void> {
    this.loads.push({ url, options })
    return this.loadResult
  }

  /** `will-navigate` (a link, a form, `location=`); true when the adapter let it happen. */
  willNavigate(url: string, isMainFrame = true): boolean {
    const event = electronEvent({ url, isSameDocument: false, isMainFrame, frame: null, initiator: null })
    this.emit('will-navigate', event, url, false, isMainFrame, 1, 1)
    return !event.defaultPrevented
  }

  /** `will-redirect` (a 30x of a navigation in progress). */
  willRedirect(url: string, isMainFrame = true): boolean {
    const event = electronEvent({ url, isSameDocument: false, isMainFrame, frame: null, initiator: null })
    this.emit('will-redirect', event, url, false, isMainFrame, 1, 1)
    return !event.defaultPrevented
  }

  /** `will-frame-navigate` (any frame). */
  willFrameNavigate(url: string, isMainFrame: boolean): boolean {
    const event = electronEvent({ url, isSameDocument: false, isMainFrame, frame: null, initiator: null })
    this.emit('will-frame-navigate', event)
    return !event.defaultPrevented
  }

  /** `did-navigate`: the main frame committed `url` with this HTTP status. */
  didNavigate(url: string, httpResponseCode = 200, httpStatusText = 'OK'): void {
    this.emit('did-navigate', electronEvent({}), url, httpResponseCode, httpStatusText)
  }

  didFailLoad(errorCode: number, errorDescription: string, validatedURL: string, isMainFrame = true): void {
    this.emit('did-fail-load', electronEvent({}), errorCode, errorDescription, validatedURL, isMainFrame, 1, 1)
  }

  willAttachWebview(): boolean {
    const event = electronEvent({})
    this.emit('will-attach-webview', event, {}, {})
    return !event.defaultPrevented
  }
}

/** The BrowserWindow. */
export class FakeWindow extends Emitter implements LoginWindowPort {
  readonly webContents = new FakeWebContents()
  shown: boolean
  destroyed = false
  showCalls = 0

  constructor(readonly options: BrowserWindowConstructorOptions) {
    super()
    this.shown = options.show !== false
  }

  show(): void {
    this.showCalls++
    this.shown = true
  }

  close(): void {
    if (this.destroyed) return
    this.destroyed = true
    this.emit('closed')
  }

  isDestroyed(): boolean {
    return this.destroyed
  }
}
