/**
 * Local checks on a Cloudflare Access application token (the `CF_Authorization` JWT).
 *
 * The client cannot verify the signature (that needs the team's keys and is the edge's job), but
 * it can catch the mistakes that would otherwise surface as a baffling 302 on the next connect:
 * a pasted team-domain token instead of the app token, a token for another application, one that
 * has expired or is about to. Pure: the clock comes in as `nowMs`.
 *
 * Errors never contain the token or any of its claims: a JWT pasted into a bug report is a
 * session, and its claims (email, audience) are the user's, not ours to echo.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { appError, type AppError, type NextStep } from '../../shared/errors'

/** The claims of an app token that matter to the client. */
export interface AppTokenClaims {
  /** Signed-in user's email; absent on service-token JWTs. */
  email?: string
  /** `"app"` for an application token (`"org"` would be the team-domain token, refused earlier). */
  type: string
  /** Audiences, always as an array (Access sometimes signs a plain string). */
  aud: string[]
  iss?: string
  /** Expiry, seconds since the epoch. */
  exp: number
  nbf?: number
  iat?: number
  /** Service-token JWTs: the Client ID that minted it (`common_name`). */
  commonName?: string
}

/** Which local check failed. */
export type AppTokenFailure = 'malformed' | 'type' | 'audience' | 'expired' | 'expiring' | 'not-yet-valid'

/** Result of {@link inspectAppToken}. */
export type AppTokenCheck =
  | { ok: true; claims: AppTokenClaims; expiresInSec: number }
  | {
      ok: false
      check: AppTokenFailure
      error: AppError
      /** The decoded claims when decoding got that far (for the caller; never copied into `error`). */
      claims?: AppTokenClaims
    }

/** Options for {@link inspectAppToken}. */
export interface InspectAppTokenOptions {
  /** The application's AUD tag; when given, `aud` must contain it. */
  expectedAud?: string
  /** Current time in ms since the epoch. */
  nowMs: number
  /** Treat the token as unusable when it expires within this many seconds (default 300). */
  marginSec?: number
  /** Allowed clock difference with the edge, in seconds (default 60). */
  skewSec?: number
}

const DEFAULT_MARGIN_SEC = 300
const DEFAULT_SKEW_SEC = 60

/**
 * Strip what people paste around a token: whitespace, a `CF_Authorization=` prefix copied from
 * DevTools' cookie view (or a whole `Cookie:` header), cookie attributes after `;`, and quotes.
 * Returns the bare JWT text (possibly empty). Exported so header building uses the same rule.
 */
export function normaliseAppToken(input: string): string {
  let value = input.trim()
  value = value.replace(/^cookie\s*:\s*/i, '')
  const named = /(?:^|;\s*)CF_Authorization\s*=\s*([^;]*)/i.exec(value)
  if (named) value = named[1] ?? ''
  else value = value.split(';')[0] ?? ''
  value = value.trim()
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).trim()
  return value
}

/**
 * True when `jwt` (already normalised) holds only characters a JWT can have: base64url and the
 * dots between its parts. A token with a newline, tab or space inside (a paste broken over lines,
 * two values run together) cannot be sent in a header at all, so it is refused before dialling.
 */
export function hasOnlyTokenCharacters(jwt: string): boolean {
  return /^[A-Za-z0-9_.-]+$/.test(jwt)
}

/**
 * Decode an app token without verifying it and check type, audience and validity window.
 *
 * Checks run in the order that names the real problem first: unreadable → wrong kind of token →
 * wrong application → not valid yet → expired → expiring within `marginSec`. The clock skew widens
 * every time check in the safe direction: a token issued up to `skewSec` in the future is fine,
 * and expiry is treated as approaching `skewSec` early (the edge's clock may be ahead of ours).
 *
 * @returns `{ ok: true, claims, expiresInSec }` or `{ ok: false, check, error }` with code
 *   ACCESS_APP_TOKEN_INVALID (malformed, type, audience, not-yet-valid) or
 *   ACCESS_APP_TOKEN_EXPIRED (expired, expiring).
 */
export function inspectAppToken(token: string, opts: InspectAppTokenOptions): AppTokenCheck {
  const marginSec = opts.marginSec ?? DEFAULT_MARGIN_SEC
  const skewSec = opts.skewSec ?? DEFAULT_SKEW_SEC
  const nowSec = Math.floor(opts.nowMs / 1000)
  const expectedAud = opts.expectedAud?.trim() || undefined
  const audDetails = expectedAud ? { accessAud: expectedAud } : {}

  const jwt = typeof token === 'string' ? normaliseAppToken(token) : ''
  if (jwt === '') return malformed('Nothing was given as the Cloudflare Access token.', audDetails)
  if (jwt.split('.').length !== 3) {
    return malformed('The value is not a Cloudflare Access token: a token is a JWT made of three dot-separated parts.', audDetails)
  }

  let header: Record<string, unknown>
  let payload: Record<string, unknown>
  try {
    header = decodeProtectedHeader(jwt) as Record<string, unknown>
    payload = decodeJwt(jwt) as Record<string, unknown>
  } catch {
    return malformed('The value looks like a JWT but its parts could not be decoded; it may have been cut off when copied.', audDetails)
  }
  // Access signs with RS256; an unsigned token ("alg":"none") is never something the edge issued.
  if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') {
    return malformed('The token is not signed, so it was not issued by Cloudflare Access.', audDetails)
  }

  const aud = audienceList(payload.aud)
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp) || aud === undefined) {
    return malformed('The token lacks the expiry or audience that every Cloudflare Access token carries.', audDetails)
  }

  const claims: AppTokenClaims = {
    type: typeof payload.type === 'string' ? payload.type : '',
    aud,
    exp: payload.exp
  }
  if (typeof payload.email === 'string' && payload.email !== '') claims.email = payload.email
  if (typeof payload.iss === 'string' && payload.iss !== '') claims.iss = payload.iss
  if (isNumber(payload.nbf)) claims.nbf = payload.nbf
  if (isNumber(payload.iat)) claims.iat = payload.iat
  if (typeof payload.common_name === 'string' && payload.common_name !== '') claims.commonName = payload.common_name

  const signIn: NextStep[] = [
    { action: 'sign-in-email', label: 'Sign in again so the app captures this application\'s own token.' },
    { action: 'renew-app-token', label: 'Or paste the CF_Authorization cookie of the gateway host itself (not the team domain).' }
  ]

  if (claims.type !== 'app') {
    const message =
      claims.type === 'org'
        ? 'This is the team-domain session token (type "org"), not the application token. Access only accepts the token set on the gateway host.'
        : 'This JWT is not a Cloudflare Access application token (its type is not "app").'
    return failure('type', 'ACCESS_APP_TOKEN_INVALID', 'Wrong kind of Cloudflare Access token', message, signIn, audDetails, claims)
  }

  if (expectedAud && !aud.includes(expectedAud)) {
    return failure(
      'audience',
      'ACCESS_APP_TOKEN_INVALID',
      'Token is for another Access application',
      'This Cloudflare Access token was issued for a different application than this gateway, so Access would refuse it.',
      signIn,
      audDetails,
      claims
    )
  }

  const notBefore = Math.max(claims.nbf ?? -Infinity, claims.iat ?? -Infinity)
  if (notBefore > nowSec + skewSec) {
    return failure(
      'not-yet-valid',
      'ACCESS_APP_TOKEN_INVALID',
      'Token is not valid yet',
      `This Cloudflare Access token only becomes valid in ${formatDuration(notBefore - nowSec)}. This computer's clock is probably wrong.`,
      signIn,
      audDetails,
      claims
    )
  }

  const expiresInSec = claims.exp - nowSec
  const renew: NextStep[] = [
    { action: 'sign-in-email', label: 'Sign in again to get a fresh token.' },
    { action: 'renew-app-token', label: 'Or paste a fresh CF_Authorization cookie from the gateway host.' }
  ]
  if (expiresInSec <= 0) {
    return failure(
      'expired',
      'ACCESS_APP_TOKEN_EXPIRED',
      'Cloudflare Access session expired',
      `The Cloudflare Access token expired ${formatDuration(-expiresInSec)} ago; Access will send the connection to the login page.`,
      renew,
      audDetails,
      claims
    )
  }
  if (expiresInSec <= marginSec + skewSec) {
    return failure(
      'expiring',
      'ACCESS_APP_TOKEN_EXPIRED',
      'Cloudflare Access session about to expire',
      `The Cloudflare Access token expires in ${formatDuration(expiresInSec)}; renew it now rather than lose the connection on the next reconnect.`,
      renew,
      audDetails,
      claims
    )
  }

  return { ok: true, claims, expiresInSec }
}

function malformed(message: string, details: { accessAud?: string }): AppTokenCheck {
  return failure(
    'malformed',
    'ACCESS_APP_TOKEN_INVALID',
    'Not a Cloudflare Access token',
    message,
    [
      { action: 'renew-app-token', label: 'Copy the whole value of the CF_Authorization cookie of the gateway host and paste it again.' },
      { action: 'sign-in-email', label: 'Or sign in with your email and let the app capture the token.' }
    ],
    details
  )
}

function failure(
  check: AppTokenFailure,
  code: 'ACCESS_APP_TOKEN_INVALID' | 'ACCESS_APP_TOKEN_EXPIRED',
  title: string,
  message: string,
  nextSteps: NextStep[],
  details: { accessAud?: string },
  claims?: AppTokenClaims
): AppTokenCheck {
  const error = appError(code, title, message, { nextSteps, details: { ...details, check } })
  return claims ? { ok: false, check, error, claims } : { ok: false, check, error }
}

/** `aud` as an array; Access signs an array, but some edge components sign a plain string. */
function audienceList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value === '' ? undefined : [value]
  if (Array.isArray(value)) {
    const list = value.filter((v): v is string => typeof v === 'string' && v !== '')
    return list.length > 0 ? list : undefined
  }
  return undefined
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

/** "45 seconds", "12 minutes", "3 hours", "2 days": coarse on purpose, exact times add nothing here. */
function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec))
  const unit = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
  if (s < 120) return unit(s, 'second')
  if (s < 2 * 3600) return unit(Math.round(s / 60), 'minute')
  if (s < 2 * 86400) return unit(Math.round(s / 3600), 'hour')
  return unit(Math.round(s / 86400), 'day')
}
