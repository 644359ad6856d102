import { createHash, createHmac, randomBytes, randomInt } from 'node:crypto'
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { epochSeconds } from './clock'
import { headerCount, headerValue, parseCookies } from './http-util'
import type { AccessSigningKeys, JwtPayload } from './signing-keys'
import { signJwt } from './signing-keys'
import type {
  AccessAppConfig,
  AccessEmulatorClock,
  EdgeDecision,
  EdgeRequestRecord,
  OutboxMessage,
  ResolvedAccessApp,
  ServiceTokenCredentials,
  UpstreamRequestRecord
} from './types'

const DAY_SEC = 86_400
export const DEFAULT_FORWARDED_FOR = '203.0.113.10'

export interface StoredServiceToken extends ServiceTokenCredentials {
  revoked: boolean
}

/** Identity established by a login (OTP) and carried by every token minted from it. */
export interface LoginIdentity {
  email: string
  sub: string
  identityNonce: string
}

export interface LoginFlow {
  id: string
  host: string
  redirectUrl: string
  /** From the signed `meta`; null when the login URL carried none, then `authorized` cannot bind the round trip. */
  appSessionHash: string | null
  email: string | null
  /** Null for addresses no Allow policy permits: their code page accepts nothing. */
  code: string | null
  codeExpiresAt: number
}

/** One-time hand-over from the team domain to `https://<app>/cdn-cgi/access/authorized`. */
export interface AuthorizationGrant {
  nonce: string
  host: string
  redirectUrl: string
  identity: LoginIdentity
  appSessionHash: string | null
  sso: boolean
  expiresAt: number
}

export interface EdgeSettings {
  team: string
  teamDomain: string
  realCountry: string
  colo: string
  globalSessionDurationSec: number
  hostileLoginPage: boolean
}

export function resolveApp(config: AccessAppConfig): ResolvedAccessApp {
  const aud = config.aud ?? randomBytes(32).toString('hex')
  if (!/^[0-9a-f]{64}$/.test(aud)) throw new Error(`app ${config.host}: aud must be 64 lowercase hex characters`)
  return {
    host: config.host.toLowerCase(),
    aud,
    upstream: config.upstream ?? null,
    policies: config.policies ?? [],
    serviceAuth401: config.serviceAuth401 ?? false,
    strictServiceTokens: config.strictServiceTokens ?? false,
    managedOAuth: config.managedOAuth ?? false,
    destination: config.destination ?? 'public',
    waf: config.waf ?? 'none',
    edgeError: config.edgeError ?? null,
    tls: config.tls ?? 'valid',
    sessionDurationSec: config.sessionDurationSec ?? DAY_SEC,
    bindingCookie: config.bindingCookie ?? false,
    forwardedFor: config.forwardedFor === undefined ? DEFAULT_FORWARDED_FOR : config.forwardedFor,
    readServiceTokensFromHeader: config.readServiceTokensFromHeader ?? null,
    cookieSameSite: config.cookieSameSite ?? 'None',
    cookieHttpOnly: config.cookieHttpOnly ?? true,
    corsPreflight: config.corsPreflight ?? 'deny',
    matchedHostname: config.matchedHostname?.toLowerCase() ?? null,
    loginPage: config.loginPage ?? {}
  }
}

/** Everything the edge remembers; the request handlers are functions over this. */
export class EdgeState {
  port = 0
  readonly apps = new Map<string, ResolvedAccessApp>()
  readonly serviceTokens = new Map<string, StoredServiceToken>()
  /** CF_AppSession value → expiry. */
  readonly appSessions = new Map<string, { host: string; expiresAt: number }>()
  readonly loginFlows = new Map<string, LoginFlow>()
  readonly grants = new Map<string, AuthorizationGrant>()
  /** identity_nonce values whose session a logout ended. */
  readonly revokedSessions = new Set<string>()
  readonly outbox: OutboxMessage[] = []
  readonly requests: EdgeRequestRecord[] = []
  readonly upstreamRequests: UpstreamRequestRecord[] = []
  /** Audience of team-domain (`type:"org"`) tokens. */
  readonly orgAud: string
  private readonly bindingSecret = randomBytes(32)

  constructor(
    readonly settings: EdgeSettings,
    readonly clock: AccessEmulatorClock,
    readonly keys: AccessSigningKeys
  ) {
    this.orgAud = createHash('sha256').update(`org:${settings.teamDomain}`).digest('hex')
  }

  get issuer(): string {
    return `https://${this.settings.teamDomain}`
  }

  private get portSuffix(): string {
    return this.port === 443 ? '' : `:${this.port}`
  }

  /** Origin clients must dial: the emulator's port is part of every URL the edge sends a client to. */
  originOf(host: string): string {
    return `https://${host}${this.portSuffix}`
  }

  get teamOrigin(): string {
    return this.originOf(this.settings.teamDomain)
  }

  appFor(host: string): ResolvedAccessApp | undefined {
    return this.apps.get(host.toLowerCase())
  }

  appForAud(aud: string): ResolvedAccessApp | undefined {
    return [...this.apps.values()].find((app) => app.aud === aud)
  }

  nowSec(): number {
    return epochSeconds(this.clock.now())
  }

  edgeHeaders(rayId: string): OutgoingHttpHeaders {
    return { server: 'cloudflare', 'cf-ray': `${rayId}-${this.settings.colo}` }
  }

  /** `sub` is stable per email per org, like Access user UUIDs. */
  subjectFor(email: string): string {
    const hex = createHash('sha256').update(`${this.settings.team}:${email.toLowerCase()}`).digest('hex')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
  }

  newIdentity(email: string): LoginIdentity {
    return { email, sub: this.subjectFor(email), identityNonce: randomBytes(12).toString('base64url') }
  }

  sign(payload: JwtPayload): string {
    return signJwt(this.keys.current, payload)
  }

  identityTokenPayload(identity: LoginIdentity, aud: string, type: 'app' | 'org', lifetimeSec: number): JwtPayload {
    const now = this.nowSec()
    return {
      aud: [aud],
      email: identity.email,
      exp: now + lifetimeSec,
      iat: now,
      nbf: now,
      iss: this.issuer,
      type,
      identity_nonce: identity.identityNonce,
      sub: identity.sub,
      country: this.settings.realCountry
    }
  }

  /** The JWT the origin receives for a service-token request (and the cookie the edge hands back). */
  serviceTokenJwt(app: ResolvedAccessApp, clientId: string): { token: string; expiresAtMs: number } {
    const now = this.nowSec()
    const exp = now + app.sessionDurationSec
    const token = this.sign({ type: 'app', aud: [app.aud], exp, iat: now, iss: this.issuer, common_name: clientId, sub: '' })
    return { token, expiresAtMs: exp * 1000 }
  }

  /** CF_Binding value tied to one CF_Authorization token, so a token without its binding cookie is useless. */
  bindingFor(token: string): string {
    return createHmac('sha256', this.bindingSecret).update(token).digest('base64url')
  }

  newAppSession(host: string): string {
    const value = randomBytes(16).toString('hex')
    this.appSessions.set(value, { host, expiresAt: this.clock.now() + DAY_SEC * 1000 })
    return value
  }

  static appSessionHash(value: string): string {
    return createHash('sha256').update(value).digest('hex')
  }

  newOtpCode(): string {
    return String(randomInt(0, 1_000_000)).padStart(6, '0')
  }

  /** Names of credential-ish headers and cookies present on a request; never values. */
  credentialNames(req: IncomingMessage, app: ResolvedAccessApp | undefined): string[] {
    const names: string[] = []
    const headerNames = ['cf-access-client-id', 'cf-access-client-secret']
    if (app?.readServiceTokensFromHeader) headerNames.push(app.readServiceTokensFromHeader.toLowerCase())
    headerNames.push('cf-access-token', 'cf-access-jwt-assertion', 'authorization')
    for (const name of headerNames) if (headerCount(req, name) > 0) names.push(name)
    const cookies = parseCookies(headerValue(req.headers, 'cookie') ?? undefined)
    for (const name of ['CF_Authorization', 'CF_Binding', 'CF_AppSession']) if (cookies.has(name)) names.push(`cookie:${name}`)
    return names
  }

  record(req: IncomingMessage, host: string, rayId: string, app: ResolvedAccessApp | undefined, outcome: { decision: EdgeDecision; status: number; reason?: string | null; principal?: EdgeRequestRecord['principal'] }): EdgeRequestRecord {
    const entry: EdgeRequestRecord = {
      at: this.clock.now(),
      rayId,
      method: req.method ?? 'GET',
      host,
      path: req.url ?? '/',
      upgrade: req.headers.upgrade !== undefined,
      userAgent: headerValue(req.headers, 'user-agent'),
      credentials: this.credentialNames(req, app),
      decision: outcome.decision,
      status: outcome.status,
      reason: outcome.reason ?? null,
      principal: outcome.principal ?? null
    }
    this.requests.push(entry)
    return entry
  }
}
