import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { getIdentityEndpoint, logoutEndpoint, type AccessOutcome } from './app-host'
import { ACCESS_NO_CACHE_HEADERS, accessForbiddenResponse, plainEdgeResponse } from './edge-pages'
import type { EdgeState, LoginFlow, LoginIdentity } from './edge-state'
import type { LoginPageConfig } from './types'
import { escapeHtml, headerValue, parseCookies, readBody, setCookie, type EdgeResponse } from './http-util'
import { admitsIdentity } from './policies'

// Team-domain endpoints. The OTP pages are the emulator's own (Access's internal paths are undocumented,
// §5.3); everything stays on the team domain:
//   GET  /cdn-cgi/access/login/<host>?kid&redirect_url&meta   email form, or SSO short-circuit
//   POST /cdn-cgi/access/otp/send      (flow, email)           always 302 to the code page
//   GET  /cdn-cgi/access/otp/code?flow=<id>                    code form
//   POST /cdn-cgi/access/otp/verify    (flow, code)            302 to the app's /cdn-cgi/access/authorized
export const OTP_SEND_PATH = '/cdn-cgi/access/otp/send'
export const OTP_CODE_PATH = '/cdn-cgi/access/otp/code'
export const OTP_VERIFY_PATH = '/cdn-cgi/access/otp/verify'

const LOGIN_PATH_PREFIX = '/cdn-cgi/access/login/'
const OTP_CODE_LIFETIME_MS = 10 * 60_000
const GRANT_LIFETIME_MS = 5 * 60_000
const HTML = { 'content-type': 'text/html; charset=utf-8', ...ACCESS_NO_CACHE_HEADERS }

function respond(response: EdgeResponse, reason: string | null = null, principal: { kind: 'identity'; email: string } | null = null): AccessOutcome {
  return { kind: 'respond', response, decision: 'edge-endpoint', reason, principal }
}

function page(title: string, inner: string, status = 200, extraHeaders: Record<string, string | string[]> = {}): EdgeResponse {
  return {
    status,
    headers: { ...HTML, ...extraHeaders },
    body: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main>${inner}</main></body></html>`
  }
}

function redirect(location: string, cookies: string[] = []): EdgeResponse {
  return { status: 302, headers: { location, ...(cookies.length > 0 ? { 'set-cookie': cookies } : {}), ...ACCESS_NO_CACHE_HEADERS } }
}

// Turnstile on the real page fails in bare embedded web views; the hostile switch mimics that by UA (§9).
function looksLikeRealBrowser(userAgent: string | null): boolean {
  if (!userAgent || !userAgent.startsWith('Mozilla/5.0')) return false
  if (/\bElectron\//.test(userAgent)) return false
  return /\b(Chrome|Firefox|Safari)\//.test(userAgent)
}

function emailFormPage(flow: LoginFlow, error: string | null, content: LoginPageConfig = {}): EdgeResponse {
  const providers = (content.identityProviders ?? [])
    .map((name) => `<a class="idp" href="#">Sign in with ${escapeHtml(name)}</a>`)
    .join('\n')
  const form =
    content.otp === false
      ? ''
      : `<form method="POST" action="${OTP_SEND_PATH}">
<input type="hidden" name="flow" value="${flow.id}">
<label>Email <input type="email" name="email" autocomplete="email" required></label>
<button type="submit">Send me a code</button>
</form>`
  return page(
    'Sign in ・ Cloudflare Access',
    `<h1>Sign in to ${escapeHtml(content.appName ?? flow.host)}</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
${providers ? `${providers}\n` : ''}${form}`
  )
}

function codeFormPage(flow: LoginFlow, error: string | null): EdgeResponse {
  return page(
    'Enter code ・ Cloudflare Access',
    `<h1>Check your email</h1>
<p>If ${escapeHtml(flow.email ?? '')} is allowed, a code was sent to it.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="POST" action="${OTP_VERIFY_PATH}">
<input type="hidden" name="flow" value="${flow.id}">
<label>Code <input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
<button type="submit">Sign in</button>
</form>`
  )
}

/** Step 5–6 of §5: policy check for the identity, then a one-time grant handed to the app's `authorized` endpoint. */
function continueToApp(edge: EdgeState, flow: Pick<LoginFlow, 'host' | 'redirectUrl' | 'appSessionHash'>, identity: LoginIdentity, sso: boolean, rayId: string, cookies: string[] = []): EdgeResponse {
  const app = edge.appFor(flow.host)
  if (!app) return plainEdgeResponse(404, 'Not Found')
  const pathname = new URL(flow.redirectUrl, 'https://edge.invalid').pathname
  if (!admitsIdentity(app.policies, pathname, identity.email)) {
    const forbidden = accessForbiddenResponse(app.aud, rayId, `${identity.email} is not allowed to access ${app.host}.`)
    return cookies.length > 0 ? { ...forbidden, headers: { ...forbidden.headers, 'set-cookie': cookies } } : forbidden
  }
  const nonce = randomBytes(16).toString('hex')
  edge.grants.set(nonce, { nonce, host: app.host, redirectUrl: flow.redirectUrl, identity, appSessionHash: flow.appSessionHash, sso, expiresAt: edge.clock.now() + GRANT_LIFETIME_MS })
  const state = Buffer.from(JSON.stringify({ hostname: app.host, redirect_url: flow.redirectUrl, sso })).toString('base64url')
  return redirect(`${edge.originOf(app.host)}/cdn-cgi/access/authorized?nonce=${nonce}&state=${state}`, cookies)
}

function orgSession(edge: EdgeState, req: IncomingMessage): LoginIdentity | null {
  const token = parseCookies(headerValue(req.headers, 'cookie') ?? undefined).get('CF_Authorization')
  if (!token) return null
  const result = edge.keys.verify(token, { issuer: edge.issuer, audience: edge.orgAud, type: 'org', nowMs: edge.clock.now() })
  if (!result.ok) return null
  const { email, sub, identity_nonce: identityNonce } = result.payload
  if (typeof email !== 'string' || typeof sub !== 'string' || typeof identityNonce !== 'string') return null
  if (edge.revokedSessions.has(identityNonce)) return null
  return { email, sub, identityNonce }
}

function loginPage(edge: EdgeState, req: IncomingMessage, url: URL, rayId: string): AccessOutcome {
  const host = decodeURIComponent(url.pathname.slice(LOGIN_PATH_PREFIX.length)).toLowerCase()
  const app = edge.appFor(host) ?? [...edge.apps.values()].find((candidate) => candidate.matchedHostname === host)
  if (!app) return respond(plainEdgeResponse(404, 'Not Found'), 'login-unknown-app')
  const kid = url.searchParams.get('kid')
  if (kid !== null && kid !== app.aud) return respond(plainEdgeResponse(400, 'Bad Request'), 'login-kid-mismatch')
  const redirectUrl = url.searchParams.get('redirect_url') ?? '/'
  let appSessionHash: string | null = null
  const meta = url.searchParams.get('meta')
  if (meta) {
    const verified = edge.keys.verify(meta, { issuer: null, audience: app.aud, type: 'meta', nowMs: edge.clock.now() })
    if (!verified.ok) return respond(plainEdgeResponse(400, 'Bad Request'), `login-bad-meta-${verified.failure}`)
    const payload = verified.payload
    appSessionHash = typeof payload.app_session_hash === 'string' ? payload.app_session_hash : null
  }
  const flow = { host: app.host, redirectUrl: redirectUrl.startsWith('/') ? redirectUrl : '/', appSessionHash }
  const identity = orgSession(edge, req)
  if (identity) return respond(continueToApp(edge, flow, identity, true, rayId), 'login-sso', { kind: 'identity', email: identity.email })
  const loginFlow: LoginFlow = { id: randomBytes(16).toString('hex'), ...flow, email: null, code: null, codeExpiresAt: 0 }
  edge.loginFlows.set(loginFlow.id, loginFlow)
  const csrf = setCookie('CF_Session', randomBytes(16).toString('hex'), { expiresMs: edge.clock.now() + 4 * 3_600_000, httpOnly: true, sameSite: 'None' })
  const form = emailFormPage(loginFlow, null, app.loginPage)
  return respond({ ...form, headers: { ...form.headers, 'set-cookie': [csrf] } }, 'login-page')
}

async function formFields(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams((await readBody(req)).toString('utf8'))
}

async function otpSend(edge: EdgeState, req: IncomingMessage): Promise<AccessOutcome> {
  const fields = await formFields(req)
  const flow = edge.loginFlows.get(fields.get('flow') ?? '')
  if (!flow) return respond(page('Sign in ・ Cloudflare Access', '<h1>Your login session expired</h1><p>Go back to the application and try again.</p>', 400), 'otp-unknown-flow')
  if (edge.settings.hostileLoginPage && !looksLikeRealBrowser(headerValue(req.headers, 'user-agent'))) {
    return respond(emailFormPage(flow, 'Turnstile verification failed. Please try again in a supported browser.'), 'turnstile-failed')
  }
  const email = (fields.get('email') ?? '').trim()
  const app = edge.appFor(flow.host)
  const pathname = new URL(flow.redirectUrl, 'https://edge.invalid').pathname
  flow.email = email
  flow.code = null
  flow.codeExpiresAt = edge.clock.now() + OTP_CODE_LIFETIME_MS
  // Same answer for every address (no allow-list disclosure); only permitted ones get a code.
  if (app && email.includes('@') && admitsIdentity(app.policies, pathname, email)) {
    flow.code = edge.newOtpCode()
    edge.outbox.push({ to: email, code: flow.code, at: edge.clock.now() })
  }
  return respond(redirect(`${edge.teamOrigin}${OTP_CODE_PATH}?flow=${flow.id}`), 'otp-sent')
}

function otpCodePage(edge: EdgeState, url: URL): AccessOutcome {
  const flow = edge.loginFlows.get(url.searchParams.get('flow') ?? '')
  if (!flow || flow.email === null) return respond(page('Sign in ・ Cloudflare Access', '<h1>Your login session expired</h1>', 400), 'otp-unknown-flow')
  return respond(codeFormPage(flow, null), 'otp-code-page')
}

async function otpVerify(edge: EdgeState, req: IncomingMessage, rayId: string): Promise<AccessOutcome> {
  const fields = await formFields(req)
  const flow = edge.loginFlows.get(fields.get('flow') ?? '')
  if (!flow || flow.email === null) return respond(page('Sign in ・ Cloudflare Access', '<h1>Your login session expired</h1>', 400), 'otp-unknown-flow')
  const code = (fields.get('code') ?? '').trim()
  if (flow.code === null || code !== flow.code || edge.clock.now() >= flow.codeExpiresAt) {
    return respond(codeFormPage(flow, 'That code is invalid or has expired.'), 'otp-wrong-code')
  }
  edge.loginFlows.delete(flow.id)
  const identity = edge.newIdentity(flow.email)
  const orgPayload = edge.identityTokenPayload(identity, edge.orgAud, 'org', edge.settings.globalSessionDurationSec)
  const orgCookie = setCookie('CF_Authorization', edge.sign(orgPayload), { expiresMs: (orgPayload.exp as number) * 1000, httpOnly: true, sameSite: 'None' })
  return respond(continueToApp(edge, flow, identity, false, rayId, [orgCookie]), 'otp-verified', { kind: 'identity', email: identity.email })
}

export async function teamDomainEndpoint(edge: EdgeState, req: IncomingMessage, rayId: string): Promise<AccessOutcome> {
  const url = new URL(req.url ?? '/', 'https://edge.invalid')
  const method = req.method ?? 'GET'
  const pathname = url.pathname
  if (pathname === '/cdn-cgi/access/certs' && (method === 'GET' || method === 'HEAD')) {
    return respond({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(await edge.keys.jwks()) })
  }
  if (pathname.startsWith(LOGIN_PATH_PREFIX) && (method === 'GET' || method === 'HEAD')) return loginPage(edge, req, url, rayId)
  if (pathname === OTP_SEND_PATH && method === 'POST') return otpSend(edge, req)
  if (pathname === OTP_CODE_PATH && method === 'GET') return otpCodePage(edge, url)
  if (pathname === OTP_VERIFY_PATH && method === 'POST') return otpVerify(edge, req, rayId)
  if (pathname === '/cdn-cgi/access/get-identity') return getIdentityEndpoint(edge, req, [...edge.apps.values()], true)
  if (pathname === '/cdn-cgi/access/logout') return logoutEndpoint(edge, null, req)
  return respond(plainEdgeResponse(404, 'Not Found'), 'unknown-team-endpoint')
}
