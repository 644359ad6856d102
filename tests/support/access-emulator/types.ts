// Public configuration and record types of the Cloudflare Access emulator.
// Behaviour follows shared/docs/cloudflare-access-behavior.md (§1–§5, §9).

/** TLS certificate the edge presents for one host (chosen by SNI). */
export type TlsMode = 'valid' | 'expired' | 'self-signed' | 'wrong-host'

/**
 * A WAF/Bot rule in front of Access.
 * - `challenge`: managed challenge for every request without a `cf_clearance` cookie (403 + `cf-mitigated: challenge`).
 * - `block-1010`: Browser Integrity Check, 403 "error code: 1010" for scripted or missing User-Agents.
 */
export type WafMode = 'none' | 'challenge' | 'block-1010'

/** `worker` = Worker-destination app: every request carrying `Upgrade: websocket` gets an empty 403. */
export type AppDestination = 'public' | 'worker'

/** Cloudflare-generated error the edge answers instead of reaching the origin (530 = Error 1033 tunnel error). */
export type EdgeErrorStatus = 502 | 503 | 504 | 530

export type CookieSameSite = 'None' | 'Lax' | 'Strict'

/** Path scoping shared by all policies: prefixes such as `/health` (match `/health`, `/health/x`). Absent = whole app. */
interface PolicyScope {
  name?: string
  paths?: string[]
}

/** Identity selectors for Allow/Block policies (checked at login, §7). */
interface IdentitySelectors {
  everyone?: boolean
  /** Exact addresses, compared case-insensitively. */
  emails?: string[]
  /** Domains such as `aether.test` (matches `x@aether.test`). */
  emailDomains?: string[]
}

/** Service-token selectors: entries match a token's client id or its name. */
interface ServiceTokenSelectors {
  serviceTokens?: string[]
  anyValidServiceToken?: boolean
}

export type AccessPolicy =
  | (PolicyScope & { decision: 'bypass' })
  | (PolicyScope & ServiceTokenSelectors & { decision: 'non_identity' })
  // Listing a service token in an Allow policy is legal but never admits it: the client is sent to login (§3).
  | (PolicyScope & IdentitySelectors & ServiceTokenSelectors & { decision: 'allow' })
  | (PolicyScope & IdentitySelectors & { decision: 'deny' })

export interface AccessAppConfig {
  /** Host name clients dial, e.g. `gateway.aether.test`. */
  host: string
  /** Application audience tag (64 lowercase hex). Generated if absent. */
  aud?: string
  /** Origin base URL (http, https, ws or wss), e.g. `http://127.0.0.1:18789`. Absent = edge answers 502. */
  upstream?: string | null
  policies?: AccessPolicy[]
  /** `service_auth_401_redirect`: 401 instead of 302 when presented service-token headers are not accepted. */
  serviceAuth401?: boolean
  /** Org strict service-token mode: 401 for tokens that cannot authenticate, 403 when no policy admits a valid one. */
  strictServiceTokens?: boolean
  /** Managed OAuth: non-browser clients get 401 + `WWW-Authenticate: Bearer … resource_metadata=…`. */
  managedOAuth?: boolean
  destination?: AppDestination
  waf?: WafMode
  edgeError?: EdgeErrorStatus | null
  tls?: TlsMode
  /** App session duration (app tokens, cookie Expires). Default 24 h. */
  sessionDurationSec?: number
  /** `CF_Binding` cookie must accompany the `CF_Authorization` cookie. */
  bindingCookie?: boolean
  /**
   * Client IP the edge reports to the origin in `X-Forwarded-For` / `CF-Connecting-IP`.
   * Default `203.0.113.10` (a remote address, as real traffic through Cloudflare looks); null = add nothing.
   */
  forwardedFor?: string | null
  /** `read_service_tokens_from_header`: header carrying `{"cf-access-client-id":…,"cf-access-client-secret":…}`. */
  readServiceTokensFromHeader?: string | null
  cookieSameSite?: CookieSameSite
  cookieHttpOnly?: boolean
  /** CORS preflight `OPTIONS`: `deny` = 403 from the edge (Access default), `bypass` = forwarded to the origin. */
  corsPreflight?: 'deny' | 'bypass'
  /**
   * Host name the application is configured for, when it differs from the host clients dial (a
   * route or DNS record sends `host` to an application made for another name). The login
   * redirect names it (`meta.hostname`, the `/login/<host>` segment). Default: `host`.
   */
  matchedHostname?: string | null
  /** What the login page shows. Default: no application name, one-time PIN only. */
  loginPage?: LoginPageConfig
}

/** The login page's content: the application name and the sign-in methods offered. */
export interface LoginPageConfig {
  /** Application name shown in the heading (default: the host). */
  appName?: string
  /** Offer the one-time PIN (email) form. Default true. */
  otp?: boolean
  /** Identity providers shown as "Sign in with <name>" buttons (not functional). */
  identityProviders?: string[]
}

/** An app after defaults were applied; what `emu.app(host)` returns. */
export interface ResolvedAccessApp {
  host: string
  aud: string
  upstream: string | null
  policies: AccessPolicy[]
  serviceAuth401: boolean
  strictServiceTokens: boolean
  managedOAuth: boolean
  destination: AppDestination
  waf: WafMode
  edgeError: EdgeErrorStatus | null
  tls: TlsMode
  sessionDurationSec: number
  bindingCookie: boolean
  forwardedFor: string | null
  readServiceTokensFromHeader: string | null
  cookieSameSite: CookieSameSite
  cookieHttpOnly: boolean
  corsPreflight: 'deny' | 'bypass'
  matchedHostname: string | null
  loginPage: LoginPageConfig
}

export interface AccessEmulatorConfig {
  /** Team name: the team domain is `<team>.cloudflareaccess.com`. */
  team: string
  apps: AccessAppConfig[]
  /** `real_country` in `meta`, `country` in tokens, `CF-IPCountry` to the origin. Default `US`. */
  realCountry?: string
  /** Colo suffix of `cf-ray` ids. Default `AMS`. */
  colo?: string
  /** Global (team-domain, `type:"org"`) session. Default 24 h. */
  globalSessionDurationSec?: number
  /** Base time source in ms; `clock.advance()` adds on top. Default `Date.now`. */
  now?: () => number
  /** Login page "Turnstile" rejects user agents that are not browser-like (§9 hostile login page switch). */
  hostileLoginPage?: boolean
}

export interface AccessEmulatorClock {
  now(): number
  advance(ms: number): void
  /** Makes `now()` return `ms` from here on (time keeps flowing from there). */
  set(ms: number): void
}

export interface ServiceTokenCredentials {
  name: string
  clientId: string
  clientSecret: string
  /** Emulator-clock ms after which the token no longer authenticates; null = never. */
  expiresAt: number | null
}

export interface IssueAppTokenOptions {
  host: string
  /** Identity token when set (default `user@aether.test` unless `commonName` is set). */
  email?: string
  /** Service-token shaped token (`common_name`, `sub:""`) instead of an identity token. */
  commonName?: string
  expiresInSec?: number
  /** `nbf` relative to now, e.g. 60 for a token not valid for another minute. */
  notBeforeSec?: number
  type?: 'app' | 'org'
  /** Overrides the audience (default `[app aud]`); a string is sent as a plain string `aud`. */
  aud?: string | string[]
  /** Key to sign with: the current JWKS key (default), the previous one, or a key absent from the JWKS. */
  signWith?: 'current' | 'previous' | 'unknown'
  /** Shorthand for `signWith: 'unknown'`. */
  signWithUnknownKey?: boolean
  identityNonce?: string
}

export type EdgeDecision =
  | 'forwarded'
  | 'bypassed'
  | 'login-redirect'
  | 'unauthorized'
  | 'forbidden'
  | 'managed-oauth-401'
  | 'worker-upgrade-403'
  | 'preflight-403'
  | 'waf-challenge'
  | 'waf-block'
  | 'edge-error'
  | 'edge-endpoint'
  | 'metadata'
  | 'token-check'
  | 'unknown-host'
  | 'upstream-error'

/** What the edge saw and decided, one entry per request (team domain included). */
export interface EdgeRequestRecord {
  at: number
  rayId: string
  method: string
  host: string
  /** Path plus query as sent. */
  path: string
  upgrade: boolean
  userAgent: string | null
  /** Names only: `cf-access-client-id`, `cf-access-client-secret`, the single-header name, `cf-access-token`,
   *  `cf-access-jwt-assertion`, `authorization`, `cookie:CF_Authorization`, `cookie:CF_Binding`, `cookie:CF_AppSession`. */
  credentials: string[]
  decision: EdgeDecision
  status: number
  /** Why, for failures and for what admitted the request, e.g. `service-token-unknown`, `app-token-expired`. */
  reason: string | null
  /** Who was admitted when a credential was accepted. */
  principal: { kind: 'service-token'; clientId: string } | { kind: 'identity'; email: string } | null
}

/** What the origin received from the edge. */
export interface UpstreamRequestRecord {
  at: number
  rayId: string
  method: string
  path: string
  upgrade: boolean
  headers: Record<string, string | string[]>
}

export interface OutboxMessage {
  to: string
  code: string
  at: number
}
