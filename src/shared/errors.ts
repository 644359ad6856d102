/**
 * The one error shape every layer of Aether Remote speaks.
 *
 * Errors are values, never thrown across a boundary (IPC, CLI output). Each carries a stable
 * `code` that callers branch on, a plain `title` and `message` for people, the `nextSteps` that
 * fix it, and structured `details` (decoded Access claims, gateway detail codes...). The
 * message never holds an HTML body, a raw redirect URL or a stack, and never a secret.
 *
 * This file imports nothing: it is shared by the main process, the CLI and the renderer.
 */

/** Every stable error code. Add new ones here; never rename one (the renderer and scripts match on them). */
export const ERROR_CODES = [
  // Bad input from the user or the command line.
  'INVALID_URL',
  'INVALID_INPUT',
  'PROFILE_NOT_FOUND',
  // Cloudflare Access (the edge in front of the gateway).
  'ACCESS_LOGIN_REQUIRED',
  'ACCESS_SERVICE_TOKEN_REJECTED',
  'ACCESS_APP_TOKEN_REJECTED',
  'ACCESS_APP_TOKEN_EXPIRED',
  'ACCESS_APP_TOKEN_INVALID',
  'ACCESS_UNAUTHORIZED',
  'ACCESS_FORBIDDEN',
  'ACCESS_UPGRADE_FORBIDDEN',
  'CLOUDFLARE_WAF_BLOCKED',
  'CLOUDFLARE_TUNNEL_DOWN',
  'CLOUDFLARE_ERROR',
  // HTTP answers from the origin (the gateway host itself or a proxy before it).
  'ORIGIN_UNAUTHORIZED',
  'ORIGIN_FORBIDDEN',
  'ORIGIN_NOT_FOUND',
  'ORIGIN_UPGRADE_REQUIRED',
  'ORIGIN_RATE_LIMITED',
  'ORIGIN_UNAVAILABLE',
  'UNEXPECTED_REDIRECT',
  'UNEXPECTED_HTTP_STATUS',
  // Network and TLS.
  'TLS_UNTRUSTED',
  'TLS_EXPIRED',
  'TLS_HOSTNAME_MISMATCH',
  'TLS_ERROR',
  'TLS_REQUIRED',
  'DNS_NOT_FOUND',
  'CONNECTION_REFUSED',
  'CONNECTION_RESET',
  'NETWORK_UNREACHABLE',
  'TIMEOUT',
  // The gateway's own answers.
  'GATEWAY_TOKEN_MISMATCH',
  'GATEWAY_TOKEN_MISSING',
  'GATEWAY_TOKEN_NOT_CONFIGURED',
  'GATEWAY_AUTH_RATE_LIMITED',
  'DEVICE_TOKEN_MISMATCH',
  'DEVICE_AUTH_FAILED',
  'DEVICE_IDENTITY_REQUIRED',
  'PAIRING_REQUIRED',
  'PROTOCOL_MISMATCH',
  'GATEWAY_ORIGIN_NOT_ALLOWED',
  'MISSING_SCOPE',
  'GATEWAY_UNAVAILABLE',
  'GATEWAY_REJECTED',
  'PROTOCOL_ERROR',
  'CONNECTION_CLOSED',
  'LINK_DEAD',
  'REQUEST_TIMEOUT',
  'REQUEST_FAILED',
  'CHAT_FAILED',
  // Local.
  'KEYCHAIN_UNAVAILABLE',
  'CANCELLED',
  'INTERNAL'
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** Broad families; the CLI maps them to exit codes and the UI to panel styles. */
export type ErrorCategory =
  | 'input'
  | 'access'
  | 'gateway-auth'
  | 'pairing'
  | 'gateway'
  | 'network'
  | 'timeout'
  | 'cancelled'
  | 'internal'

/** Something the user can do about an error; `action` lets a UI render a button for it. */
export interface NextStep {
  action:
    | 'add-service-token'
    | 'sign-in-email'
    | 'approve-pairing'
    | 'check-gateway-token'
    | 'check-service-token'
    | 'renew-app-token'
    | 'add-ca-file'
    | 'check-url'
    | 'check-network'
    | 'check-dashboard'
    | 'retry'
    | 'wait'
    | 'update-app'
  /** One sentence, imperative. */
  label: string
  /** A command to copy, when there is one (e.g. the pairing approval command). */
  command?: string
}

/** Claims decoded (unverified) from the `meta` JWT on an Access login redirect. */
export interface AccessMetaClaims {
  type?: string
  audience?: string
  hostname?: string
  redirectPath?: string
  authStatus?: string
  serviceTokenStatus?: boolean
  isWarp?: boolean
  isGateway?: boolean
  country?: string
  rayId?: string
  issuedAt?: number
  expiresAt?: number
}

/** Structured facts about an error. Free of secrets by construction: only what is listed here. */
export interface ErrorDetails {
  /** HTTP status of a refused upgrade. */
  httpStatus?: number
  /** The Access team domain taken from a login redirect (host only, never the full URL). */
  accessTeamDomain?: string
  /** The application AUD tag (the `kid` of the login redirect). */
  accessAud?: string
  /** Decoded `meta` claims of the login redirect. */
  accessClaims?: AccessMetaClaims
  /** Which Access credentials were sent on the refused request (names, never values). */
  credentialsSent?: string[]
  /** `cf-ray` response header, for Cloudflare support. */
  cfRay?: string
  /** Cloudflare error number from an edge page (1010, 1033...). */
  cloudflareErrorCode?: number
  /** `www-authenticate` header of a 401. */
  wwwAuthenticate?: string
  /** The gateway's `error.code` (INVALID_REQUEST, NOT_PAIRED...). */
  gatewayCode?: string
  /** The gateway's `error.details.code` (AUTH_TOKEN_MISMATCH, PAIRING_REQUIRED...). */
  gatewayDetailCode?: string
  /** The gateway's own message, for the record (never shown as the primary message). */
  gatewayMessage?: string
  /** WebSocket close code and reason. */
  closeCode?: number
  closeReason?: string
  /** Pairing: request id, device id, reason. */
  pairingRequestId?: string
  deviceId?: string
  pairingReason?: string
  /** Protocol negotiation. */
  expectedProtocol?: number
  /** Missing scope, for MISSING_SCOPE. */
  missingScope?: string
  /** Retry hints. */
  retryAfterMs?: number
  /** System error code (ENOTFOUND, ECONNREFUSED, CERT_HAS_EXPIRED...). */
  systemCode?: string
  /** Host and port that were dialled. */
  host?: string
  port?: number
  /** Time limit that ran out, in ms. */
  timeoutMs?: number
  /** Certificate facts for TLS errors. */
  certificateSubject?: string
  certificateIssuer?: string
  certificateValidTo?: string
  /** Which local check failed (app token: 'type' | 'audience' | 'expired' | 'malformed' | 'not-yet-valid'). */
  check?: string
  /** Anything else worth showing, as short strings. */
  notes?: string[]
}

/** The error value. */
export interface AppError {
  code: ErrorCode
  category: ErrorCategory
  /** Short headline, e.g. "Cloudflare Access blocked the connection". */
  title: string
  /** One or two plain sentences saying what happened and why. */
  message: string
  /** Ordered: the most likely fix first. */
  nextSteps: NextStep[]
  /** Ordered likely causes, when the evidence allows several (most likely first). */
  likelyCauses?: string[]
  details: ErrorDetails
  /** True when trying again unchanged may work (network blips, gateway starting). */
  retryable: boolean
}

/** Result type for operations that can fail with an AppError. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError }

export const ok = <T>(value: T): Result<T> => ({ ok: true, value })
export const fail = <T = never>(error: AppError): Result<T> => ({ ok: false, error })

const CATEGORY_BY_CODE: Record<ErrorCode, ErrorCategory> = {
  INVALID_URL: 'input',
  INVALID_INPUT: 'input',
  PROFILE_NOT_FOUND: 'input',
  ACCESS_LOGIN_REQUIRED: 'access',
  ACCESS_SERVICE_TOKEN_REJECTED: 'access',
  ACCESS_APP_TOKEN_REJECTED: 'access',
  ACCESS_APP_TOKEN_EXPIRED: 'access',
  ACCESS_APP_TOKEN_INVALID: 'access',
  ACCESS_UNAUTHORIZED: 'access',
  ACCESS_FORBIDDEN: 'access',
  ACCESS_UPGRADE_FORBIDDEN: 'access',
  CLOUDFLARE_WAF_BLOCKED: 'access',
  CLOUDFLARE_TUNNEL_DOWN: 'network',
  CLOUDFLARE_ERROR: 'network',
  ORIGIN_UNAUTHORIZED: 'gateway-auth',
  ORIGIN_FORBIDDEN: 'gateway',
  ORIGIN_NOT_FOUND: 'gateway',
  ORIGIN_UPGRADE_REQUIRED: 'gateway',
  ORIGIN_RATE_LIMITED: 'gateway',
  ORIGIN_UNAVAILABLE: 'gateway',
  UNEXPECTED_REDIRECT: 'gateway',
  UNEXPECTED_HTTP_STATUS: 'gateway',
  TLS_UNTRUSTED: 'network',
  TLS_EXPIRED: 'network',
  TLS_HOSTNAME_MISMATCH: 'network',
  TLS_ERROR: 'network',
  TLS_REQUIRED: 'network',
  DNS_NOT_FOUND: 'network',
  CONNECTION_REFUSED: 'network',
  CONNECTION_RESET: 'network',
  NETWORK_UNREACHABLE: 'network',
  TIMEOUT: 'timeout',
  GATEWAY_TOKEN_MISMATCH: 'gateway-auth',
  GATEWAY_TOKEN_MISSING: 'gateway-auth',
  GATEWAY_TOKEN_NOT_CONFIGURED: 'gateway-auth',
  GATEWAY_AUTH_RATE_LIMITED: 'gateway-auth',
  DEVICE_TOKEN_MISMATCH: 'gateway-auth',
  DEVICE_AUTH_FAILED: 'gateway-auth',
  DEVICE_IDENTITY_REQUIRED: 'gateway-auth',
  PAIRING_REQUIRED: 'pairing',
  PROTOCOL_MISMATCH: 'gateway',
  GATEWAY_ORIGIN_NOT_ALLOWED: 'gateway-auth',
  MISSING_SCOPE: 'gateway-auth',
  GATEWAY_UNAVAILABLE: 'gateway',
  GATEWAY_REJECTED: 'gateway',
  PROTOCOL_ERROR: 'gateway',
  CONNECTION_CLOSED: 'network',
  LINK_DEAD: 'network',
  REQUEST_TIMEOUT: 'timeout',
  REQUEST_FAILED: 'gateway',
  CHAT_FAILED: 'gateway',
  KEYCHAIN_UNAVAILABLE: 'internal',
  CANCELLED: 'cancelled',
  INTERNAL: 'internal'
}

/** The category a code belongs to. */
export function categoryOf(code: ErrorCode): ErrorCategory {
  return CATEGORY_BY_CODE[code]
}

/** Build an AppError; category is derived from the code so the two never disagree. */
export function appError(
  code: ErrorCode,
  title: string,
  message: string,
  opts: {
    nextSteps?: NextStep[]
    likelyCauses?: string[]
    details?: ErrorDetails
    retryable?: boolean
  } = {}
): AppError {
  const error: AppError = {
    code,
    category: categoryOf(code),
    title,
    message,
    nextSteps: opts.nextSteps ?? [],
    details: opts.details ?? {},
    retryable: opts.retryable ?? false
  }
  if (opts.likelyCauses && opts.likelyCauses.length > 0) error.likelyCauses = opts.likelyCauses
  return error
}

/** True when `value` has the AppError shape (used where errors cross a boundary as unknown). */
export function isAppError(value: unknown): value is AppError {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.code === 'string' &&
    (ERROR_CODES as readonly string[]).includes(v.code) &&
    typeof v.title === 'string' &&
    typeof v.message === 'string'
  )
}

/**
 * CLI exit codes (documented in the README):
 * 0 ok, 2 bad input, 3 Access needs credentials or refused them, 4 gateway refused the token or
 * device, 5 pairing required, 6 network or TLS, 7 timeout, 1 anything else.
 */
export function exitCodeFor(error: AppError): number {
  switch (error.category) {
    case 'input':
      return 2
    case 'access':
      return 3
    case 'gateway-auth':
      return 4
    case 'pairing':
      return 5
    case 'network':
      return 6
    case 'timeout':
      return 7
    default:
      return 1
  }
}
