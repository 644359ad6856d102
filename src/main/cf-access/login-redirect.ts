/**
 * Recognise a Cloudflare Access login redirect and pull the diagnosis out of it.
 *
 * When Access wants a credential it answers any request (WebSocket upgrades included) with a 3xx
 * whose `Location` points at `/cdn-cgi/access/login/<app-host>?kid=<AUD>&redirect_url=…&meta=<JWT>`
 * on the team domain. The `meta` JWT says what Access saw (was a service token accepted? which
 * hostname did it match?), which is what turns "302" into an error message a person can act on.
 *
 * Pure: no I/O. The `meta` JWT is decoded WITHOUT verification: it is only used to explain a
 * failure, never to grant anything, and the client has no business holding the account keys.
 */
import { decodeJwt } from 'jose'
import type { AccessMetaClaims } from '../../shared/errors'

/** What a login redirect told us. Every string is short, printable and free of query strings. */
export interface AccessLoginRedirect {
  /** Host of the login page (the team domain: `<team>.cloudflareaccess.com`, a `fed` or custom domain). */
  teamDomain: string
  /** The protected application's host: the path segment after `/login/`, else `meta.hostname`, else the dialled host. */
  appHost: string
  /** Application AUD tag: the `kid` parameter (Access uses it as the AUD, not as a key id); `meta.aud` as a fallback. */
  aud?: string
  /** Path Access would return to after login (`redirect_url`), with any query string removed. */
  redirectPath?: string
  /** Decoded `meta` claims, when the parameter was present and decodable. */
  claims?: AccessMetaClaims
  /** Short remarks about what could not be read (e.g. an undecodable `meta`). Never holds the JWT. */
  notes: string[]
}

const LOGIN_PATH = '/cdn-cgi/access/login'
/** Longest string we copy out of the redirect; the values are unverified and end up in UI text. */
const MAX_TEXT = 200

/**
 * Parse a redirect `Location` and say whether it is an Access login redirect.
 *
 * Accepts absolute and relative `Location` values (resolved against `requestUrl`), any team
 * domain, and the parameters in any order (captures differ, so we parse instead of string
 * matching). Returns `null` when the target is not under `/cdn-cgi/access/login` or the value is
 * not a URL at all. Never throws.
 *
 * @param location the raw `Location` header value
 * @param requestUrl the URL that was requested (ws:// wss:// http:// or https://), for relative values
 */
export function parseAccessLoginRedirect(location: string, requestUrl: string): AccessLoginRedirect | null {
  if (typeof location !== 'string') return null
  const raw = location.trim()
  if (raw === '') return null

  let target: URL
  try {
    target = new URL(raw, requestUrl)
  } catch {
    // Junk Location, or a relative one with an unusable base: not something we can attribute to Access.
    return null
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(target.protocol)) return null
  if (target.hostname === '') return null

  const path = target.pathname
  const lower = path.toLowerCase()
  if (!(lower === LOGIN_PATH || lower.startsWith(LOGIN_PATH + '/'))) return null

  const notes: string[] = []
  const params = target.searchParams

  const claims = decodeMeta(params.get('meta'), notes)

  const kid = cleanText(params.get('kid'))
  const aud = kid ?? claims?.audience
  if (!kid) notes.push('The login redirect carried no kid (application AUD) parameter.')

  const redirectParam = params.get('redirect_url')
  const redirectPath = redirectParam !== null ? pathOnly(redirectParam) : claims?.redirectPath

  const appHost = hostFromLoginPath(path) ?? claims?.hostname ?? hostOf(requestUrl) ?? target.hostname

  const result: AccessLoginRedirect = { teamDomain: target.hostname.toLowerCase(), appHost, notes }
  if (aud) result.aud = aud
  if (redirectPath) result.redirectPath = redirectPath
  if (claims) result.claims = claims
  return result
}

/** The `<app-host>` segment of `/cdn-cgi/access/login/<app-host>`, if it looks like a host name. */
function hostFromLoginPath(path: string): string | undefined {
  const rest = path.slice(LOGIN_PATH.length + 1)
  const segment = rest.split('/')[0]
  if (!segment) return undefined
  let decoded: string
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    return undefined
  }
  return isHostLike(decoded) ? decoded.toLowerCase() : undefined
}

function hostOf(url: string): string | undefined {
  try {
    const host = new URL(url).hostname
    return host === '' ? undefined : host.toLowerCase()
  } catch {
    return undefined
  }
}

function isHostLike(value: string): boolean {
  // Names, IPv4 and bracketed IPv6, with an optional port. Anything else is not worth echoing.
  return value.length <= 253 && /^(\[[0-9a-f:.]+\]|[a-z0-9_-]+(\.[a-z0-9_-]+)*)(:\d{1,5})?$/i.test(value)
}

/**
 * Keep only the path of a `redirect_url` (relative, or absolute on some flows). The query is
 * dropped on purpose: it may carry app credentials (`?token=`), and details must never hold them.
 */
function pathOnly(value: string): string | undefined {
  let path: string
  try {
    path = new URL(value, 'https://placeholder.invalid').pathname
  } catch {
    return undefined
  }
  return cleanText(path)
}

/**
 * Decode the unverified `meta` JWT into our claim shape. A malformed value (not three parts, bad
 * base64, junk JSON) is normal input from a diagnosis point of view, so it becomes a note, not a throw.
 */
function decodeMeta(meta: string | null, notes: string[]): AccessMetaClaims | undefined {
  if (meta === null || meta.trim() === '') {
    notes.push('The login redirect carried no meta parameter, so Access did not say why it redirected.')
    return undefined
  }
  let payload: Record<string, unknown>
  try {
    payload = decodeJwt(meta.trim()) as Record<string, unknown>
  } catch {
    notes.push('The meta parameter of the login redirect could not be decoded (it is not a readable JWT).')
    return undefined
  }

  const claims: AccessMetaClaims = {}
  const type = cleanText(payload.type)
  if (type) claims.type = type
  const audience = firstString(payload.aud)
  if (audience) claims.audience = audience
  const hostname = cleanText(payload.hostname)
  if (hostname && isHostLike(hostname)) claims.hostname = hostname.toLowerCase()
  if (typeof payload.redirect_url === 'string') {
    const redirectPath = pathOnly(payload.redirect_url)
    if (redirectPath) claims.redirectPath = redirectPath
  }
  const authStatus = cleanText(payload.auth_status)
  if (authStatus) claims.authStatus = authStatus
  const serviceTokenStatus = asBoolean(payload.service_token_status)
  if (serviceTokenStatus !== undefined) claims.serviceTokenStatus = serviceTokenStatus
  const isWarp = asBoolean(payload.is_warp)
  if (isWarp !== undefined) claims.isWarp = isWarp
  const isGateway = asBoolean(payload.is_gateway)
  if (isGateway !== undefined) claims.isGateway = isGateway
  const country = cleanText(payload.real_country)
  if (country) claims.country = country
  const rayId = cleanText(payload.ray_id)
  if (rayId) claims.rayId = rayId
  if (typeof payload.iat === 'number' && Number.isFinite(payload.iat)) claims.issuedAt = payload.iat
  if (typeof payload.exp === 'number' && Number.isFinite(payload.exp)) claims.expiresAt = payload.exp
  return claims
}

function firstString(value: unknown): string | undefined {
  if (Array.isArray(value)) return cleanText(value.find((v) => typeof v === 'string'))
  return cleanText(value)
}

/** Booleans as Access writes them; tolerate the string forms a re-encoding proxy might produce. */
function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (value === 'true') return true
  if (value === 'false') return false
  return undefined
}

/** A printable, length-capped copy of an unverified string, or undefined when there is nothing useful. */
function cleanText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  // eslint-disable-next-line no-control-regex
  const text = value.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  if (text === '') return undefined
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text
}
