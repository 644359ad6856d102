import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import {
  ACCESS_NO_CACHE_HEADERS,
  accessForbiddenResponse,
  nginxStylePage,
  plainEdgeResponse,
  wafBlock1010Response,
  wafChallengeResponse
} from './edge-pages'
import { EdgeState, type StoredServiceToken } from './edge-state'
import { clearCookie, headerCount, headerValue, isWebSocketUpgrade, parseCookies, setCookie, type EdgeResponse } from './http-util'
import { admitsServiceToken, isBypassed } from './policies'
import type { JwtPayload } from './signing-keys'
import { CLI_PATH, cliEndpoint } from './transfer-service'
import type { EdgeDecision, EdgeRequestRecord, ResolvedAccessApp } from './types'

/** Result of running one app-host request through WAF + Access. */
export type AccessOutcome =
  | { kind: 'respond'; response: EdgeResponse; decision: EdgeDecision; reason: string | null; principal?: EdgeRequestRecord['principal'] }
  | {
      kind: 'forward'
      decision: 'forwarded' | 'bypassed'
      reason: string | null
      assertion: string | null
      email: string | null
      setCookie: string | null
      principal: EdgeRequestRecord['principal']
    }

const SCRIPTED_USER_AGENT = /^(curl|wget|python|go-http-client|java|okhttp|libwww-perl|node|undici|axios|node-fetch|aiohttp|httpie|ruby|php)\b/i

/** Browser Integrity Check rule of the emulated `block-1010` WAF: no User-Agent, or a well-known scripting client. */
export function isScriptedUserAgent(userAgent: string | null): boolean {
  return !userAgent || userAgent.trim() === '' || SCRIPTED_USER_AGENT.test(userAgent.trim())
}

// Managed OAuth's "non-browser" heuristic is undocumented; the emulator calls a request a browser's when it
// asks for HTML with a Mozilla-style UA (what a navigation sends). WebSocket upgrades and API calls are not.
function looksLikeBrowserNavigation(req: IncomingMessage): boolean {
  const accept = headerValue(req.headers, 'accept') ?? ''
  const userAgent = headerValue(req.headers, 'user-agent') ?? ''
  return accept.includes('text/html') && userAgent.startsWith('Mozilla/')
}

function pathnameOf(url: string): string {
  return new URL(url, 'https://edge.invalid').pathname
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

type ServiceTokenCheck =
  | { kind: 'absent' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'valid'; token: StoredServiceToken; admitted: boolean }

/** Reads service-token credentials from the header pair or the app's single JSON header and checks them. */
function checkServiceToken(edge: EdgeState, req: IncomingMessage, app: ResolvedAccessApp, pathname: string): ServiceTokenCheck {
  const idCount = headerCount(req, 'cf-access-client-id')
  const secretCount = headerCount(req, 'cf-access-client-secret')
  const singleHeader = app.readServiceTokensFromHeader?.toLowerCase() ?? null
  const singleCount = singleHeader ? headerCount(req, singleHeader) : 0
  if (idCount === 0 && secretCount === 0 && singleCount === 0) return { kind: 'absent' }
  if (singleCount > 0 && (idCount > 0 || secretCount > 0)) return { kind: 'invalid', reason: 'service-token-headers-and-single-header' }
  if (idCount > 1 || secretCount > 1 || singleCount > 1) return { kind: 'invalid', reason: 'service-token-duplicate-headers' }
  let clientId: string | null
  let clientSecret: string | null
  if (singleHeader && singleCount === 1) {
    try {
      const parsed: unknown = JSON.parse(headerValue(req.headers, singleHeader) ?? '')
      const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {}
      clientId = typeof record['cf-access-client-id'] === 'string' ? record['cf-access-client-id'] : null
      clientSecret = typeof record['cf-access-client-secret'] === 'string' ? record['cf-access-client-secret'] : null
    } catch {
      return { kind: 'invalid', reason: 'service-token-single-header-not-json' }
    }
  } else {
    clientId = headerValue(req.headers, 'cf-access-client-id')
    clientSecret = headerValue(req.headers, 'cf-access-client-secret')
  }
  if (!clientId || !clientSecret) return { kind: 'invalid', reason: 'service-token-partial' }
  const token = edge.serviceTokens.get(clientId.trim())
  if (!token) return { kind: 'invalid', reason: 'service-token-unknown' }
  if (!safeEqual(token.clientSecret, clientSecret.trim())) return { kind: 'invalid', reason: 'service-token-bad-secret' }
  if (token.revoked) return { kind: 'invalid', reason: 'service-token-revoked' }
  if (token.expiresAt !== null && edge.clock.now() >= token.expiresAt) return { kind: 'invalid', reason: 'service-token-expired' }
  return { kind: 'valid', token, admitted: admitsServiceToken(app.policies, pathname, token) }
}

type AppTokenCheck = { kind: 'absent' } | { kind: 'invalid'; reason: string } | { kind: 'valid'; token: string; payload: JwtPayload }

/** Validates an app token as the edge does: signature (current/previous key), iss, aud ∋ app AUD, exp/nbf, type app. */
export function checkAppToken(edge: EdgeState, app: ResolvedAccessApp, token: string, pathname: string): AppTokenCheck {
  const result = edge.keys.verify(token, { issuer: edge.issuer, audience: app.aud, type: 'app', nowMs: edge.clock.now() })
  if (!result.ok) return { kind: 'invalid', reason: `app-token-${result.failure}` }
  const { payload } = result
  if (typeof payload.identity_nonce === 'string' && edge.revokedSessions.has(payload.identity_nonce)) return { kind: 'invalid', reason: 'app-token-session-revoked' }
  // A service-token app token (common_name) is a non-identity selector: re-checked on every request (§7).
  if (typeof payload.common_name === 'string' && payload.common_name !== '') {
    const serviceToken = edge.serviceTokens.get(payload.common_name)
    if (!serviceToken || serviceToken.revoked) return { kind: 'invalid', reason: 'app-token-service-token-gone' }
    if (!admitsServiceToken(app.policies, pathname, serviceToken)) return { kind: 'invalid', reason: 'app-token-service-token-not-admitted' }
  }
  return { kind: 'valid', token, payload }
}

function forwardWithAppToken(check: Extract<AppTokenCheck, { kind: 'valid' }>, carrier: string): AccessOutcome {
  const email = typeof check.payload.email === 'string' ? check.payload.email : null
  const commonName = typeof check.payload.common_name === 'string' && check.payload.common_name !== '' ? check.payload.common_name : null
  return {
    kind: 'forward',
    decision: 'forwarded',
    reason: carrier,
    // The origin gets the very token the client presented, as with real Access.
    assertion: check.token,
    email,
    setCookie: null,
    principal: commonName ? { kind: 'service-token', clientId: commonName } : { kind: 'identity', email: email ?? '' }
  }
}

/** `https://<host>/.well-known/cloudflare-access-protected-resource<path>` as in the 302 capture. */
export function resourceMetadataUrl(edge: EdgeState, host: string, pathname: string): string {
  return `${edge.originOf(host)}/.well-known/cloudflare-access-protected-resource${pathname}`
}

/** The exact unauthenticated answer of §1: 302 to the team login URL with a signed `meta`. */
export function loginRedirect(edge: EdgeState, app: ResolvedAccessApp, host: string, pathAndQuery: string, rayId: string): EdgeResponse {
  const appSession = edge.newAppSession(app.host)
  const nowSec = edge.nowSec()
  const matched = app.matchedHostname ?? host
  const meta = edge.sign({
    type: 'meta',
    aud: app.aud,
    hostname: matched,
    redirect_url: pathAndQuery,
    auth_status: 'NONE',
    // A 302 means no service token was accepted; the emulator never answers a 302 with `true` (doc §2, [U]).
    service_token_status: false,
    is_warp: false,
    is_gateway: false,
    real_country: edge.settings.realCountry,
    app_session_hash: EdgeState.appSessionHash(appSession),
    iat: nowSec,
    exp: nowSec + 600,
    nonce: randomBytes(16).toString('hex'),
    ray_id: rayId
  })
  const location = `${edge.teamOrigin}/cdn-cgi/access/login/${matched}?kid=${app.aud}&redirect_url=${encodeURIComponent(pathAndQuery)}&meta=${meta}`
  return {
    status: 302,
    headers: {
      'content-type': 'text/html',
      location,
      'www-authenticate': `Cloudflare-Access resource_metadata="${resourceMetadataUrl(edge, host, pathnameOf(pathAndQuery))}"`,
      'set-cookie': [setCookie('CF_AppSession', appSession, { expiresMs: edge.clock.now() + 86_400_000, httpOnly: true, sameSite: 'None' })],
      ...ACCESS_NO_CACHE_HEADERS
    },
    body: nginxStylePage(302, 'Found')
  }
}

function unauthorized(reason: string): AccessOutcome {
  return { kind: 'respond', response: plainEdgeResponse(401, 'Unauthorized'), decision: 'unauthorized', reason }
}

function managedOAuthUnauthorized(edge: EdgeState, host: string, pathname: string, reason: string): AccessOutcome {
  const resourceMetadata = resourceMetadataUrl(edge, host, pathname)
  return {
    kind: 'respond',
    decision: 'managed-oauth-401',
    reason,
    response: {
      status: 401,
      headers: {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="OAuth", error="invalid_token", resource_metadata="${resourceMetadata}"`,
        ...ACCESS_NO_CACHE_HEADERS
      },
      body: JSON.stringify({ error: 'invalid_token', error_description: 'Missing or invalid access token', resource_metadata: resourceMetadata })
    }
  }
}

/** WAF in front of Access; null when the request passes. */
function applyWaf(app: ResolvedAccessApp, req: IncomingMessage, rayId: string): AccessOutcome | null {
  if (app.waf === 'challenge' && !parseCookies(headerValue(req.headers, 'cookie') ?? undefined).has('cf_clearance')) {
    return { kind: 'respond', response: wafChallengeResponse(rayId), decision: 'waf-challenge', reason: 'managed-challenge' }
  }
  if (app.waf === 'block-1010' && isScriptedUserAgent(headerValue(req.headers, 'user-agent'))) {
    return { kind: 'respond', response: wafBlock1010Response(), decision: 'waf-block', reason: 'browser-integrity-check' }
  }
  return null
}

/**
 * §1 evaluation for a protected path (the `/cdn-cgi/access/*` endpoints are answered before this).
 * Order: WAF, metadata HEAD, Worker-destination upgrade refusal, Bypass, CORS preflight, credentials, failure answer.
 */
export function evaluateAccess(edge: EdgeState, req: IncomingMessage, app: ResolvedAccessApp, host: string, rayId: string): AccessOutcome {
  const pathAndQuery = req.url ?? '/'
  const pathname = pathnameOf(pathAndQuery)
  const method = req.method ?? 'GET'

  if (method === 'HEAD' && (headerValue(req.headers, 'cf-access-metadata-request') ?? '').toLowerCase() === 'true') {
    const now = edge.nowSec()
    const metadata = edge.sign({ type: 'match', hostname: host, auth_domain: edge.settings.teamDomain, aud: app.aud, app_hostname: app.host, iat: now, exp: now + 300 })
    return { kind: 'respond', response: { status: 200, headers: { 'cf-access-metadata': metadata, ...ACCESS_NO_CACHE_HEADERS } }, decision: 'metadata', reason: null }
  }

  if (app.destination === 'worker' && isWebSocketUpgrade(req)) {
    return { kind: 'respond', response: { status: 403, headers: {} }, decision: 'worker-upgrade-403', reason: 'worker-destination-refuses-upgrade' }
  }

  if (isBypassed(app.policies, pathname)) {
    return { kind: 'forward', decision: 'bypassed', reason: 'bypass-policy', assertion: null, email: null, setCookie: null, principal: null }
  }

  if (method === 'OPTIONS' && headerValue(req.headers, 'origin') !== null && headerValue(req.headers, 'access-control-request-method') !== null) {
    if (app.corsPreflight === 'bypass') {
      return { kind: 'forward', decision: 'bypassed', reason: 'cors-preflight-bypass', assertion: null, email: null, setCookie: null, principal: null }
    }
    return { kind: 'respond', response: { status: 403, headers: { ...ACCESS_NO_CACHE_HEADERS } }, decision: 'preflight-403', reason: 'cors-preflight' }
  }

  const serviceToken = checkServiceToken(edge, req, app, pathname)
  if (serviceToken.kind === 'valid' && serviceToken.admitted) {
    const minted = edge.serviceTokenJwt(app, serviceToken.token.clientId)
    return {
      kind: 'forward',
      decision: 'forwarded',
      reason: 'service-token',
      assertion: minted.token,
      email: null,
      // Observed even on a 101; strict mode returns no cookie (§3).
      setCookie: app.strictServiceTokens ? null : setCookie('CF_Authorization', minted.token, { expiresMs: minted.expiresAtMs, sameSite: 'none' }),
      principal: { kind: 'service-token', clientId: serviceToken.token.clientId }
    }
  }
  if (app.strictServiceTokens && serviceToken.kind === 'invalid') return unauthorized(serviceToken.reason)
  if (app.strictServiceTokens && serviceToken.kind === 'valid') {
    return {
      kind: 'respond',
      response: accessForbiddenResponse(app.aud, rayId, 'The service token is not allowed by any Service Auth policy of this application.'),
      decision: 'forbidden',
      reason: 'service-token-not-admitted'
    }
  }

  const cookies = parseCookies(headerValue(req.headers, 'cookie') ?? undefined)
  const failures: string[] = []
  const headerToken = headerValue(req.headers, 'cf-access-token')
  if (headerToken) {
    const check = checkAppToken(edge, app, headerToken.trim(), pathname)
    if (check.kind === 'valid') return forwardWithAppToken(check, 'cf-access-token')
    if (check.kind === 'invalid') failures.push(check.reason)
  }
  const cookieToken = cookies.get('CF_Authorization')
  if (cookieToken) {
    const check = checkAppToken(edge, app, cookieToken, pathname)
    if (check.kind === 'valid') {
      const binding = cookies.get('CF_Binding')
      if (!app.bindingCookie || (binding !== undefined && safeEqual(binding, edge.bindingFor(cookieToken)))) return forwardWithAppToken(check, 'cookie')
      failures.push(binding === undefined ? 'binding-cookie-missing' : 'binding-cookie-mismatch')
    } else if (check.kind === 'invalid') failures.push(check.reason)
  }

  const serviceReason = serviceToken.kind === 'invalid' ? serviceToken.reason : serviceToken.kind === 'valid' ? 'service-token-not-admitted' : null
  const reason = [serviceReason, ...failures].filter((item): item is string => item !== null).join(',') || 'no-credential'
  if (serviceToken.kind !== 'absent' && app.serviceAuth401) return unauthorized(reason)
  if (app.managedOAuth && !looksLikeBrowserNavigation(req)) return managedOAuthUnauthorized(edge, host, pathname, reason)
  if (failures.length > 0 && (headerValue(req.headers, 'x-requested-with') ?? '').toLowerCase() === 'xmlhttprequest') return unauthorized(reason)
  return { kind: 'respond', response: loginRedirect(edge, app, host, pathAndQuery, rayId), decision: 'login-redirect', reason }
}

/** The WAF sits in front of everything on the host; then the edge's own endpoints; then Access proper. */
export function evaluateAppRequest(edge: EdgeState, req: IncomingMessage, app: ResolvedAccessApp, host: string, rayId: string): AccessOutcome {
  return applyWaf(app, req, rayId) ?? appHostEndpoint(edge, req, app, host, rayId) ?? evaluateAccess(edge, req, app, host, rayId)
}

/** The app-host `/cdn-cgi/access/*` and managed-OAuth `/.well-known/*` endpoints; null when the path is not one. */
export function appHostEndpoint(edge: EdgeState, req: IncomingMessage, app: ResolvedAccessApp, host: string, rayId: string): AccessOutcome | null {
  const url = new URL(req.url ?? '/', 'https://edge.invalid')
  const pathname = url.pathname
  if (app.managedOAuth && pathname.startsWith('/.well-known/cloudflare-access-protected-resource')) {
    const resourcePath = pathname.slice('/.well-known/cloudflare-access-protected-resource'.length) || '/'
    return jsonEndpoint({
      resource: `${edge.originOf(host)}${resourcePath}`,
      authorization_servers: [edge.originOf(host)],
      bearer_methods_supported: ['header'],
      resource_name: app.host
    })
  }
  if (app.managedOAuth && pathname === '/.well-known/oauth-authorization-server') {
    const origin = edge.originOf(host)
    return jsonEndpoint({
      issuer: origin,
      authorization_endpoint: `${origin}/cdn-cgi/access/oauth/authorization`,
      token_endpoint: `${origin}/cdn-cgi/access/oauth/token`,
      registration_endpoint: `${origin}/cdn-cgi/access/oauth/registration`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none']
    })
  }
  if (!pathname.startsWith('/cdn-cgi/access/')) return null
  switch (pathname) {
    case '/cdn-cgi/access/authorized':
      return authorizedEndpoint(edge, req, app, host, rayId, url)
    case '/cdn-cgi/access/logout':
      return logoutEndpoint(edge, app, req)
    case '/cdn-cgi/access/get-identity':
      return getIdentityEndpoint(edge, req, [app])
    case CLI_PATH:
      return cliEndpoint(edge, req, app, host, rayId, url, {
        checkAppToken,
        loginRedirect,
        bindingMatches: (state, token, binding) => binding !== undefined && safeEqual(binding, state.bindingFor(token))
      })
    default:
      return { kind: 'respond', response: plainEdgeResponse(404, 'Not Found'), decision: 'edge-endpoint', reason: 'unknown-access-endpoint' }
  }
}

function jsonEndpoint(body: unknown, status = 200): AccessOutcome {
  return { kind: 'respond', response: { status, headers: { 'content-type': 'application/json', ...ACCESS_NO_CACHE_HEADERS }, body: JSON.stringify(body) }, decision: 'edge-endpoint', reason: null }
}

/** Step 6 of §5: checks `CF_AppSession` against the grant, sets the app-host cookies, 302 to `redirect_url`. */
function authorizedEndpoint(edge: EdgeState, req: IncomingMessage, app: ResolvedAccessApp, host: string, rayId: string, url: URL): AccessOutcome {
  const grant = edge.grants.get(url.searchParams.get('nonce') ?? '')
  if (!grant || grant.host !== app.host || edge.clock.now() >= grant.expiresAt) {
    return { kind: 'respond', response: plainEdgeResponse(400, 'Bad Request'), decision: 'edge-endpoint', reason: 'authorized-unknown-nonce' }
  }
  const appSession = parseCookies(headerValue(req.headers, 'cookie') ?? undefined).get('CF_AppSession')
  if (grant.appSessionHash !== null && (!appSession || EdgeState.appSessionHash(appSession) !== grant.appSessionHash)) {
    // Without the CSRF cookie the edge restarts the login; a browser that never sends it loops (SameSite issues, §4.5).
    return { kind: 'respond', response: loginRedirect(edge, app, host, grant.redirectUrl, rayId), decision: 'login-redirect', reason: appSession ? 'app-session-mismatch' : 'app-session-missing' }
  }
  edge.grants.delete(grant.nonce)
  if (appSession) edge.appSessions.delete(appSession)
  const payload = edge.identityTokenPayload(grant.identity, app.aud, 'app', app.sessionDurationSec)
  const token = edge.sign(payload)
  const expiresMs = (payload.exp as number) * 1000
  const cookieOptions = { expiresMs, httpOnly: app.cookieHttpOnly, sameSite: app.cookieSameSite }
  const cookies = [setCookie('CF_Authorization', token, cookieOptions)]
  if (app.bindingCookie) cookies.push(setCookie('CF_Binding', edge.bindingFor(token), { ...cookieOptions, httpOnly: true }))
  return {
    kind: 'respond',
    decision: 'edge-endpoint',
    reason: 'authorized',
    principal: { kind: 'identity', email: grant.identity.email },
    response: { status: 302, headers: { location: `${edge.originOf(host)}${grant.redirectUrl}`, 'set-cookie': cookies, 'content-type': 'text/html', ...ACCESS_NO_CACHE_HEADERS }, body: nginxStylePage(302, 'Found') }
  }
}

/** Logout ends the identity session for every app (tokens sharing its identity_nonce) and clears cookies here. */
export function logoutEndpoint(edge: EdgeState, app: ResolvedAccessApp | null, req: IncomingMessage): AccessOutcome {
  const token = parseCookies(headerValue(req.headers, 'cookie') ?? undefined).get('CF_Authorization')
  if (token) {
    const result = app
      ? edge.keys.verify(token, { issuer: edge.issuer, audience: app.aud, type: 'app', nowMs: edge.clock.now() })
      : edge.keys.verify(token, { issuer: edge.issuer, audience: edge.orgAud, type: 'org', nowMs: edge.clock.now() })
    if (result.ok && typeof result.payload.identity_nonce === 'string') edge.revokedSessions.add(result.payload.identity_nonce)
  }
  const cookies = [clearCookie('CF_Authorization')]
  if (app?.bindingCookie) cookies.push(clearCookie('CF_Binding'))
  return {
    kind: 'respond',
    decision: 'edge-endpoint',
    reason: 'logout',
    response: { status: 200, headers: { 'content-type': 'text/html', 'set-cookie': cookies, ...ACCESS_NO_CACHE_HEADERS }, body: '<!DOCTYPE html><html><head><title>Logged out</title></head><body><h1>You have been logged out</h1></body></html>' }
  }
}

/** `get-identity`: full identity for a valid CF_Authorization cookie of one of `apps` (or the org token on the team domain). */
export function getIdentityEndpoint(edge: EdgeState, req: IncomingMessage, apps: ResolvedAccessApp[], acceptOrgToken = false): AccessOutcome {
  const token = parseCookies(headerValue(req.headers, 'cookie') ?? undefined).get('CF_Authorization') ?? headerValue(req.headers, 'cf-access-token')
  let payload: JwtPayload | null = null
  if (token) {
    for (const app of apps) {
      const check = checkAppToken(edge, app, token, '/')
      if (check.kind === 'valid') payload = check.payload
    }
    if (!payload && acceptOrgToken) {
      const result = edge.keys.verify(token, { issuer: edge.issuer, audience: edge.orgAud, type: 'org', nowMs: edge.clock.now() })
      if (result.ok && !(typeof result.payload.identity_nonce === 'string' && edge.revokedSessions.has(result.payload.identity_nonce))) payload = result.payload
    }
  }
  if (!payload) return jsonEndpoint({ err: 'missing or invalid CF_Authorization' }, 401)
  const commonName = typeof payload.common_name === 'string' ? payload.common_name : ''
  const serviceToken = commonName ? edge.serviceTokens.get(commonName) : undefined
  return jsonEndpoint({
    email: typeof payload.email === 'string' ? payload.email : '',
    idp: commonName ? { id: '', type: '' } : { id: 'onetimepin', type: 'onetimepin' },
    geo: { country: edge.settings.realCountry },
    user_uuid: typeof payload.sub === 'string' ? payload.sub : '',
    account_id: edge.orgAud.slice(0, 32),
    iat: payload.iat,
    ip: '203.0.113.10',
    auth_status: 'NONE',
    common_name: commonName,
    service_token_id: serviceToken ? serviceToken.clientId.replace(/\.access$/, '') : '',
    service_token_status: commonName !== '',
    is_warp: false,
    is_gateway: false,
    gateway_account_id: '',
    device_id: '',
    devicePosture: {},
    version: 2,
    device_sessions: {}
  })
}
