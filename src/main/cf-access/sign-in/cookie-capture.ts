/**
 * Which cookie of an embedded login window is the Cloudflare Access application token, and when
 * the sign-in is complete.
 *
 * During an interactive Access login the window's cookie store sees many cookies: `CF_AppSession`
 * (the CSRF nonce of the round trip) on the app host, `CF_Session`, `CF_Device` and the team's own
 * `CF_Authorization` (a `type: "org"` global session) on the team domain, whatever the identity
 * provider sets, and finally the application token: `CF_Authorization` on the application's host,
 * with `CF_Binding` beside it when the app uses the binding cookie (doc §4.5, §5). Only that last
 * pair is a credential for the gateway.
 *
 * This module is pure and knows nothing of Electron: it takes cookies in the shape Electron's
 * `session.cookies` reports them (the `changed` event and `get()`), keeps the app host's two
 * cookies, and decides, with {@link inspectAppToken}, whether they are a usable token for the
 * expected application (AUD = the `kid` of the login redirect). The clock comes in as `nowMs`.
 */
import type { AppError } from '../../../shared/errors'
import { inspectAppToken, normaliseAppToken, type AppTokenClaims, type AppTokenFailure } from '../app-token'

/** Name of the application (and team-domain) token cookie. */
export const APP_TOKEN_COOKIE = 'CF_Authorization'
/** Name of the optional binding cookie that must accompany the app token. */
export const BINDING_COOKIE = 'CF_Binding'

/**
 * A cookie as Electron reports it (`Electron.Cookie`): only the fields used here, so the real
 * structure and test stand-ins both fit.
 */
export interface CookieLike {
  name: string
  value: string
  /** Host-only cookies carry the bare host; `Domain=` cookies a leading dot (`.example.com`). */
  domain?: string
  hostOnly?: boolean
  path?: string
  secure?: boolean
  httpOnly?: boolean
  /** Seconds since the epoch; absent on session cookies. */
  expirationDate?: number
  session?: boolean
  sameSite?: string
}

/** The `cause` argument of Electron's `session.cookies` `changed` event. */
export type CookieChangeCause =
  | 'inserted'
  | 'inserted-no-change-overwrite'
  | 'inserted-no-value-change-overwrite'
  | 'explicit'
  | 'overwrite'
  | 'expired'
  | 'evicted'
  | 'expired-overwrite'

/** Why a cookie was not taken. */
export type IgnoredCookieReason =
  /** Not `CF_Authorization` or `CF_Binding` (e.g. `CF_AppSession`, `CF_Session`, IdP cookies). */
  | 'other-name'
  /** Set on another host: the team domain (its `type: "org"` token), an IdP, a sibling host. */
  | 'other-host'
  /** A `Domain=` cookie of a parent domain (`.example.workers.dev`): not what Access sets for this app. */
  | 'parent-domain'
  /** Without the Secure attribute: Access always sets it, so the edge did not set this one. */
  | 'not-secure'
  /** No value (a cleared cookie). */
  | 'empty'

/** What a cookie is for this application. */
export type CookieRole = { role: 'app-token' } | { role: 'binding' } | { role: 'ignored'; reason: IgnoredCookieReason }

/** Lower case, no trailing dot, no port, no IPv6 brackets. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase().replace(/\.$/, '')
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    h = end > 0 ? h.slice(1, end) : h
  } else if (/^[^:]+:\d+$/.test(h)) {
    h = h.slice(0, h.lastIndexOf(':'))
  }
  return h
}

/**
 * Classify one cookie against the application host.
 *
 * A cookie belongs to the app when its domain, without the leading dot Chromium adds to
 * `Domain=` cookies, is exactly the app host: host-only (what Access sets) or `Domain=<app host>`.
 * A parent domain's cookie is refused even though the browser would send it to the app host:
 * Access never scopes the app token that way, so such a cookie is someone else's.
 */
export function classifyCookie(cookie: CookieLike, appHost: string): CookieRole {
  if (cookie.name !== APP_TOKEN_COOKIE && cookie.name !== BINDING_COOKIE) return { role: 'ignored', reason: 'other-name' }
  const host = normaliseHost(appHost)
  const rawDomain = (cookie.domain ?? '').trim().toLowerCase().replace(/\.$/, '')
  const domain = rawDomain.startsWith('.') ? rawDomain.slice(1) : rawDomain
  if (domain !== host) {
    if (domain !== '' && host.endsWith(`.${domain}`)) return { role: 'ignored', reason: 'parent-domain' }
    return { role: 'ignored', reason: 'other-host' }
  }
  if (cookie.secure === false) return { role: 'ignored', reason: 'not-secure' }
  if (cookie.value.trim() === '') return { role: 'ignored', reason: 'empty' }
  return cookie.name === APP_TOKEN_COOKIE ? { role: 'app-token' } : { role: 'binding' }
}

/** What the sign-in should capture: the gateway's host and its Access application AUD. */
export interface CaptureTarget {
  /** Host name of the gateway (the Access application host), without port. */
  appHost: string
  /** Application AUD: the `kid` parameter of the login redirect. */
  expectedAud: string
}

/** Options of the token check. */
export interface CaptureCheckOptions {
  nowMs: number
  /**
   * Seconds of validity the token must still have (default 0: "exp in the future"). The clock
   * skew is added on top, as {@link inspectAppToken} does.
   */
  minValiditySec?: number
  /** Allowed clock difference with the edge, in seconds (default 60). */
  skewSec?: number
}

/** A captured, checked application token. */
export interface CapturedAppToken {
  /** The JWT (the cookie value). A secret: store it in the keychain, never log or send it to the renderer. */
  token: string
  /** `CF_Binding` value, when the app uses the binding cookie. Also a secret. */
  binding?: string
  claims: AppTokenClaims
  /** Signed-in user's email (absent on service-token JWTs). */
  email?: string
  /** `exp` in ms since the epoch. */
  expiresAtMs: number
  /** Cookie path, when Access scoped the cookie to an app path ("cookie path attribute"). */
  cookiePath?: string
}

/** Result of checking the app host's cookies. */
export type CookieCaptureOutcome =
  /** No application token on the app host yet: keep watching. */
  | { status: 'waiting' }
  /** The sign-in is complete. */
  | { status: 'captured'; capture: CapturedAppToken }
  /** The app host holds a `CF_Authorization` that is not usable for this application. */
  | { status: 'rejected'; check: AppTokenFailure; error: AppError }

/**
 * Check an app-host token (and its binding cookie) for `target`.
 *
 * The token must be `type: "app"`, its `aud` (string or array) must contain the expected AUD and
 * it must be valid now: not before `nbf`/`iat`, and expiring later than `minValiditySec` (plus
 * the skew). Errors never contain the token or its claims.
 */
export function checkCapturedToken(
  cookies: { token?: CookieLike; binding?: CookieLike },
  target: CaptureTarget,
  opts: CaptureCheckOptions
): CookieCaptureOutcome {
  const tokenCookie = cookies.token
  if (!tokenCookie) return { status: 'waiting' }
  const token = normaliseAppToken(tokenCookie.value)
  const check = inspectAppToken(token, {
    expectedAud: target.expectedAud,
    nowMs: opts.nowMs,
    marginSec: opts.minValiditySec ?? 0,
    ...(opts.skewSec !== undefined ? { skewSec: opts.skewSec } : {})
  })
  if (!check.ok) return { status: 'rejected', check: check.check, error: check.error }
  const capture: CapturedAppToken = { token, claims: check.claims, expiresAtMs: check.claims.exp * 1000 }
  if (check.claims.email) capture.email = check.claims.email
  const binding = cookies.binding?.value.trim()
  if (binding) capture.binding = binding
  const path = tokenCookie.path
  if (path && path !== '/') capture.cookiePath = path
  return { status: 'captured', capture }
}

/**
 * The app host's `CF_Authorization` and `CF_Binding` as the window's cookie store holds them,
 * kept up to date from Electron's `changed` events (and `get()` snapshots).
 *
 * A removal (`removed: true`, whatever the cause: overwrite, expiry, explicit delete) forgets the
 * cookie; the insertion that follows an overwrite brings the new value back. Every other cookie
 * is ignored, so the team domain's `type: "org"` token and `CF_AppSession` never get in.
 */
export class AppHostCookieJar {
  private tokenCookie: CookieLike | undefined
  private bindingCookie: CookieLike | undefined
  private readonly host: string

  constructor(appHost: string) {
    this.host = normaliseHost(appHost)
  }

  /** The app host this jar watches (normalised). */
  get appHost(): string {
    return this.host
  }

  /**
   * Apply one `changed` event. Returns true when the event concerned the app token or the
   * binding cookie of the app host (so the caller knows to re-check).
   */
  observe(cookie: CookieLike, _cause: CookieChangeCause | string, removed: boolean): boolean {
    if (removed) {
      // A removed cookie may have had its value cleared already; match on name and host only.
      const role = classifyCookie({ ...cookie, value: cookie.value || 'x', secure: cookie.secure ?? true }, this.host)
      if (role.role === 'app-token' && this.tokenCookie && samePath(this.tokenCookie, cookie)) {
        this.tokenCookie = undefined
        return true
      }
      if (role.role === 'binding' && this.bindingCookie && samePath(this.bindingCookie, cookie)) {
        this.bindingCookie = undefined
        return true
      }
      return false
    }
    const role = classifyCookie(cookie, this.host)
    if (role.role === 'app-token') {
      this.tokenCookie = { ...cookie }
      return true
    }
    if (role.role === 'binding') {
      this.bindingCookie = { ...cookie }
      return true
    }
    return false
  }

  /**
   * Take what a `session.cookies.get({ url })` snapshot holds for the app host. A cookie the
   * snapshot lacks is forgotten (the store is the truth); a missed event is caught up this way.
   */
  absorb(snapshot: readonly CookieLike[]): void {
    let token: CookieLike | undefined
    let binding: CookieLike | undefined
    for (const cookie of snapshot) {
      const role = classifyCookie(cookie, this.host)
      // The most specific path wins, as a browser would send it first.
      if (role.role === 'app-token' && (!token || pathLength(cookie) > pathLength(token))) token = { ...cookie }
      if (role.role === 'binding' && (!binding || pathLength(cookie) > pathLength(binding))) binding = { ...cookie }
    }
    this.tokenCookie = token
    this.bindingCookie = binding
  }

  /** True once an app-host `CF_Authorization` is held (checked or not). */
  get hasToken(): boolean {
    return this.tokenCookie !== undefined
  }

  /** Check what is held against the expected application. */
  outcome(expectedAud: string, opts: CaptureCheckOptions): CookieCaptureOutcome {
    const cookies: { token?: CookieLike; binding?: CookieLike } = {}
    if (this.tokenCookie) cookies.token = this.tokenCookie
    if (this.bindingCookie) cookies.binding = this.bindingCookie
    return checkCapturedToken(cookies, { appHost: this.host, expectedAud }, opts)
  }
}

function pathLength(cookie: CookieLike): number {
  return (cookie.path ?? '/').length
}

function samePath(a: CookieLike, b: CookieLike): boolean {
  return (a.path ?? '/') === (b.path ?? '/')
}
