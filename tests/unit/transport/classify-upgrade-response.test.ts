import { describe, expect, it, beforeAll } from 'vitest'
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import {
  classifyUpgradeResponse,
  SERVICE_TOKEN_REJECTED_CAUSES,
  type UpgradeResponseInput
} from '../../../src/main/transport/classify-upgrade-response'
import { accessUpgradeHeaders } from '../../../src/main/cf-access/access-credentials'
import type { AppError } from '../../../src/shared/errors'

const APP = 'gateway.example.workers.dev'
const TEAM = 'example-team.cloudflareaccess.com'
const AUD = '5d'.repeat(32)
const RAY = '8f3c2a1b0d9e7f65-FRA'
/** The query of the dialled URL must never be echoed. */
const REQUEST_URL = `wss://${APP}/ws?session=agent-main&token=query-secret-123`
const CLIENT_ID = '0123456789abcdef0123456789abcdef.access'
const CLIENT_SECRET = 'e3'.repeat(32)
const APP_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJ0eXBlIjoiYXBwIiwiZW1haWwiOiJ4QHkueiJ9.YXBwLXRva2VuLXNpZ25hdHVyZQ'
const SESSION_COOKIE = 'CF_AppSession=opaque-session-cookie-value-42; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Path=/; Secure; HttpOnly'
const AUTH_COOKIE = `CF_Authorization=${APP_TOKEN}; Path=/; Secure; SameSite=none`

/** The tiny nginx-style page that comes with the Access 302. */
const REDIRECT_BODY = '<html>\r\n<head><title>302 Found</title></head>\r\n<body>\r\n<center><h1>302 Found</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n'

let key: CryptoKey
beforeAll(async () => {
  key = (await generateKeyPair('RS256')).privateKey
})

async function meta(claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({
    type: 'meta',
    aud: AUD,
    hostname: APP,
    redirect_url: '/ws',
    auth_status: 'NONE',
    service_token_status: false,
    is_warp: false,
    is_gateway: false,
    real_country: 'DE',
    app_session_hash: 'f'.repeat(64),
    ...claims
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'ab'.repeat(32) })
    .sign(key)
}

function loginLocation(metaJwt: string | undefined, order: 'kid-first' | 'meta-first' = 'kid-first', team = TEAM): string {
  const kid = `kid=${AUD}`
  const redirect = `redirect_url=${encodeURIComponent('/ws?session=agent-main&token=query-secret-123')}`
  const m = metaJwt !== undefined ? [`meta=${metaJwt}`] : []
  const params = order === 'kid-first' ? [kid, redirect, ...m] : [...m, redirect, kid]
  return `https://${team}/cdn-cgi/access/login/${APP}?${params.join('&')}`
}

type Kind = UpgradeResponseInput['credentialsSent']

function sent(kind: Kind): { credentialsSent: Kind; sentNames: string[] } {
  const creds =
    kind === 'service-token'
      ? ({ kind, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } as const)
      : kind === 'app-token'
        ? ({ kind, token: APP_TOKEN } as const)
        : ({ kind } as const)
  return { credentialsSent: kind, sentNames: accessUpgradeHeaders(creds).sentNames }
}

function response(
  status: number,
  headers: UpgradeResponseInput['headers'],
  body = '',
  kind: Kind = 'none'
): UpgradeResponseInput {
  return { status, headers, body, requestUrl: REQUEST_URL, ...sent(kind), nowMs: Date.UTC(2026, 0, 1) }
}

function cfHeaders(extra: UpgradeResponseInput['headers'] = {}): UpgradeResponseInput['headers'] {
  return { server: 'cloudflare', 'cf-ray': RAY, 'content-type': 'text/html', ...extra }
}

/** Nothing secret, no body markup, no full URL and no query may appear anywhere in the error. */
function expectClean(error: AppError, extraSecrets: string[] = []): void {
  const text = JSON.stringify(error)
  const forbidden = [
    'query-secret-123',
    'token=',
    'opaque-session-cookie-value-42',
    CLIENT_SECRET,
    APP_TOKEN,
    ...APP_TOKEN.split('.'),
    '<html',
    '<center',
    '<script',
    '</',
    'meta=',
    'kid=',
    ...extraSecrets
  ]
  for (const f of forbidden) expect(text, `leaked ${f}`).not.toContain(f)
  expect(text).not.toMatch(/https?:\/\/[^"\s]*\?/)
}

async function accessRedirect(kind: Kind, metaClaims: Record<string, unknown> | null = {}, status = 302): Promise<{ input: UpgradeResponseInput; jwt?: string }> {
  const jwt = metaClaims === null ? undefined : await meta(metaClaims)
  const input = response(
    status,
    cfHeaders({
      location: loginLocation(jwt),
      'www-authenticate': `Cloudflare-Access resource_metadata="https://${APP}/.well-known/cloudflare-access-protected-resource/ws?token=query-secret-123"`,
      'set-cookie': [SESSION_COOKIE],
      'cache-control': 'private, max-age=0, no-store'
    }),
    REDIRECT_BODY,
    kind
  )
  return { input, jwt }
}

describe('classifyUpgradeResponse: Access login redirects', () => {
  it('no credentials → ACCESS_LOGIN_REQUIRED naming team domain and app host', async () => {
    const { input, jwt } = await accessRedirect('none')
    const e = classifyUpgradeResponse(input)
    expect(e.code).toBe('ACCESS_LOGIN_REQUIRED')
    expect(e.category).toBe('access')
    expect(e.title).toBe('Cloudflare Access blocked the connection')
    expect(e.message).toContain('protected by Cloudflare Access')
    expect(e.message).toContain('sent no Access credentials')
    expect(e.message).toContain(TEAM)
    expect(e.message).toContain(APP)
    expect(e.nextSteps.map((s) => s.action)).toEqual(['add-service-token', 'sign-in-email'])
    expect(e.retryable).toBe(false)
    expect(e.details).toMatchObject({
      httpStatus: 302,
      cfRay: RAY,
      accessTeamDomain: TEAM,
      accessAud: AUD,
      credentialsSent: [],
      host: APP,
      port: 443,
      accessClaims: { type: 'meta', audience: AUD, hostname: APP, redirectPath: '/ws', serviceTokenStatus: false, authStatus: 'NONE' }
    })
    expect(e.details.wwwAuthenticate).toContain('cloudflare-access-protected-resource/ws')
    expectClean(e, [jwt ?? ''])
  })

  it.each([301, 303, 307, 308])('recognises the login redirect on HTTP %i', async (status) => {
    const { input } = await accessRedirect('none', {}, status)
    expect(classifyUpgradeResponse(input).code).toBe('ACCESS_LOGIN_REQUIRED')
  })

  it('recognises parameters in another order, a fed team domain and header name case', async () => {
    const jwt = await meta()
    const input = response(
      302,
      { Server: 'cloudflare', 'CF-RAY': RAY, Location: loginLocation(jwt, 'meta-first', 'example-team.fed.cloudflareaccess.com') },
      REDIRECT_BODY
    )
    const e = classifyUpgradeResponse(input)
    expect(e.code).toBe('ACCESS_LOGIN_REQUIRED')
    expect(e.details.accessTeamDomain).toBe('example-team.fed.cloudflareaccess.com')
    expect(e.details.accessAud).toBe(AUD)
    expect(e.details.cfRay).toBe(RAY)
    expectClean(e, [jwt])
  })

  it('recognises a relative Location to the login path', async () => {
    const jwt = await meta()
    const e = classifyUpgradeResponse(response(302, cfHeaders({ location: `/cdn-cgi/access/login/${APP}?meta=${jwt}&kid=${AUD}` })))
    expect(e.code).toBe('ACCESS_LOGIN_REQUIRED')
    expect(e.details.accessTeamDomain).toBe(APP)
    expectClean(e, [jwt])
  })

  it('service token, service_token_status false → ACCESS_SERVICE_TOKEN_REJECTED with the causes in order', async () => {
    const { input, jwt } = await accessRedirect('service-token', { service_token_status: false })
    const e = classifyUpgradeResponse(input)
    expect(e.code).toBe('ACCESS_SERVICE_TOKEN_REJECTED')
    expect(e.message).toContain('did not recognise the service token')
    expect(e.likelyCauses).toEqual([
      'There is no Service Auth policy on this Access application (an Allow policy does not admit service tokens).',
      'The service token is not included in that Service Auth policy.',
      'The service token expired or was revoked.',
      'The service token belongs to another Cloudflare account.'
    ])
    expect(e.likelyCauses).toEqual([...SERVICE_TOKEN_REJECTED_CAUSES])
    expect(e.nextSteps.map((s) => s.action)).toEqual(['check-dashboard', 'check-service-token', 'sign-in-email'])
    const dashboard = e.nextSteps[0]?.label ?? ''
    expect(dashboard).toContain('Zero Trust')
    expect(dashboard).toContain(`Access → Applications → ${APP} → Policies`)
    expect(dashboard).toContain('"Service Auth"')
    expect(e.details.credentialsSent).toEqual(['CF-Access-Client-Id', 'CF-Access-Client-Secret'])
    expect(e.details.accessClaims?.serviceTokenStatus).toBe(false)
    expectClean(e, [jwt ?? '', CLIENT_ID])
  })

  it('service token with no service_token_status claim or no meta at all → same causes', async () => {
    for (const claims of [{ service_token_status: undefined }, null]) {
      const { input } = await accessRedirect('service-token', claims)
      const e = classifyUpgradeResponse(input)
      expect(e.code).toBe('ACCESS_SERVICE_TOKEN_REJECTED')
      expect(e.likelyCauses).toEqual([...SERVICE_TOKEN_REJECTED_CAUSES])
    }
  })

  it('service token with service_token_status true → same code, "valid but no policy admits it" first', async () => {
    const { input } = await accessRedirect('service-token', { service_token_status: true })
    const e = classifyUpgradeResponse(input)
    expect(e.code).toBe('ACCESS_SERVICE_TOKEN_REJECTED')
    expect(e.likelyCauses?.[0]).toMatch(/valid, but no Service Auth policy/)
    expect(e.likelyCauses?.[0]).not.toBe(SERVICE_TOKEN_REJECTED_CAUSES[0])
    expect(e.nextSteps[0]?.action).toBe('check-dashboard')
  })

  it('app token → ACCESS_APP_TOKEN_REJECTED with sign-in and renew steps', async () => {
    const { input, jwt } = await accessRedirect('app-token', { auth_status: 'NONE' })
    const e = classifyUpgradeResponse(input)
    expect(e.code).toBe('ACCESS_APP_TOKEN_REJECTED')
    expect(e.nextSteps.map((s) => s.action)).toEqual(['sign-in-email', 'renew-app-token'])
    expect(e.likelyCauses?.join(' ')).toMatch(/expired/)
    expect(e.likelyCauses?.join(' ')).toMatch(/logout/)
    expect(e.likelyCauses?.join(' ')).toMatch(/another Access application/)
    expect(e.likelyCauses?.join(' ')).toMatch(/CF_Binding/)
    expect(e.details.credentialsSent).toEqual(['cf-access-token', 'CF_Authorization'])
    expectClean(e, [jwt ?? ''])
  })

  it('notes when Access matched a different hostname than the one dialled', async () => {
    const { input } = await accessRedirect('none', { hostname: 'other-app.example.com' })
    const e = classifyUpgradeResponse(input)
    expect(e.details.notes?.join(' ')).toMatch(/other-app\.example\.com/)
  })

  it('survives a junk meta and notes it', async () => {
    const input = response(302, cfHeaders({ location: loginLocation('junk.not.ajwt') }), REDIRECT_BODY)
    const e = classifyUpgradeResponse(input)
    expect(e.code).toBe('ACCESS_LOGIN_REQUIRED')
    expect(e.details.accessClaims).toBeUndefined()
    expect(e.details.notes?.join(' ')).toMatch(/could not be decoded/)
    expectClean(e, ['junk.not.ajwt'])
  })
})

describe('classifyUpgradeResponse: other redirects', () => {
  it('3xx elsewhere → UNEXPECTED_REDIRECT naming the target host only', () => {
    const e = classifyUpgradeResponse(
      response(302, { location: 'https://portal.example.net/login?next=%2Fws&sso_ticket=abcdef123456' }, '<html>Moved</html>')
    )
    expect(e.code).toBe('UNEXPECTED_REDIRECT')
    expect(e.message).toContain('portal.example.net')
    expect(e.message).not.toContain('/login')
    expectClean(e, ['abcdef123456', 'sso_ticket'])
  })

  it('suggests wss:// when a ws:// URL is redirected to https on the same host', () => {
    const input = { ...response(301, { location: `https://${APP}/ws` }), requestUrl: `ws://${APP}/ws` }
    const e = classifyUpgradeResponse(input)
    expect(e.code).toBe('UNEXPECTED_REDIRECT')
    expect(e.likelyCauses?.[0]).toMatch(/wss:\/\//)
    expect(e.details.port).toBe(80)
  })

  it('copes with a missing or junk Location', () => {
    expect(classifyUpgradeResponse(response(302, {})).code).toBe('UNEXPECTED_REDIRECT')
    const junk = classifyUpgradeResponse(response(307, { location: 'http://' }))
    expect(junk.code).toBe('UNEXPECTED_REDIRECT')
    expect(junk.message).toMatch(/unreadable/)
  })
})

describe('classifyUpgradeResponse: 401', () => {
  const oauthHeader = `Bearer realm="OAuth", error="invalid_token", resource_metadata="https://${APP}/.well-known/cloudflare-access-protected-resource/ws?token=query-secret-123"`
  const oauthBody = JSON.stringify({
    error: 'invalid_token',
    resource_metadata: `https://${APP}/.well-known/cloudflare-access-protected-resource/ws`
  })

  it('Managed OAuth 401 with no credentials → ACCESS_UNAUTHORIZED', () => {
    const e = classifyUpgradeResponse(response(401, cfHeaders({ 'www-authenticate': oauthHeader, 'content-type': 'application/json' }), oauthBody))
    expect(e.code).toBe('ACCESS_UNAUTHORIZED')
    expect(e.nextSteps.map((s) => s.action)).toEqual(['add-service-token', 'sign-in-email'])
    expect(e.details.wwwAuthenticate).toContain('cloudflare-access-protected-resource/ws')
    expect(e.details.notes?.join(' ')).toMatch(/OAuth/)
    expectClean(e)
  })

  it('401 naming Cloudflare-Access after a service token → strict-mode wording', () => {
    const e = classifyUpgradeResponse(
      response(401, cfHeaders({ 'www-authenticate': 'Cloudflare-Access realm="service-auth"' }), '', 'service-token')
    )
    expect(e.code).toBe('ACCESS_UNAUTHORIZED')
    expect(e.message).toMatch(/strict service-token authentication/)
    expect(e.message).toMatch(/cannot authenticate/)
    expect(e.nextSteps[0]?.action).toBe('check-service-token')
    expectClean(e, [CLIENT_ID])
  })

  it('401 naming Cloudflare-Access after an app token → sign in again', () => {
    const e = classifyUpgradeResponse(response(401, cfHeaders({ 'www-authenticate': 'Cloudflare-Access' }), '', 'app-token'))
    expect(e.code).toBe('ACCESS_UNAUTHORIZED')
    expect(e.nextSteps.map((s) => s.action)).toEqual(['sign-in-email', 'renew-app-token'])
  })

  it('messages differ between no credentials and a service token', () => {
    const headers = cfHeaders({ 'www-authenticate': 'Cloudflare-Access' })
    const none = classifyUpgradeResponse(response(401, headers, '', 'none'))
    const token = classifyUpgradeResponse(response(401, headers, '', 'service-token'))
    expect(none.message).not.toBe(token.message)
  })

  it('empty or nginx-style 401 made by Cloudflare → ACCESS_UNAUTHORIZED', () => {
    expect(classifyUpgradeResponse(response(401, cfHeaders())).code).toBe('ACCESS_UNAUTHORIZED')
    const page = '<html>\r\n<head><title>401 Unauthorized</title></head>\r\n<body>\r\n<center><h1>401 Unauthorized</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n'
    const e = classifyUpgradeResponse(response(401, cfHeaders(), page, 'service-token'))
    expect(e.code).toBe('ACCESS_UNAUTHORIZED')
    expect(e.message).toMatch(/strict service-token/)
    expectClean(e)
  })

  it('origin JSON 401 (through Cloudflare) → ORIGIN_UNAUTHORIZED with the origin message', () => {
    const body = JSON.stringify({ error: 'Unauthorized', message: 'Invalid or missing Cloudflare Access JWT' })
    const e = classifyUpgradeResponse(response(401, cfHeaders({ 'content-type': 'application/json' }), body, 'service-token'))
    expect(e.code).toBe('ORIGIN_UNAUTHORIZED')
    expect(e.category).toBe('gateway-auth')
    expect(e.details.gatewayMessage).toBe('Unauthorized: Invalid or missing Cloudflare Access JWT')
    expect(e.likelyCauses?.join(' ')).toMatch(/moltworker/)
  })

  it('plain 401 without Cloudflare markers → ORIGIN_UNAUTHORIZED', () => {
    const e = classifyUpgradeResponse(response(401, { 'www-authenticate': 'Basic realm="proxy"' }, 'Unauthorized'))
    expect(e.code).toBe('ORIGIN_UNAUTHORIZED')
    expect(e.details.wwwAuthenticate).toBe('Basic realm="proxy"')
  })
})

describe('classifyUpgradeResponse: 403', () => {
  const denyPage = `<!DOCTYPE html><html><head><title>Forbidden</title></head><body>
<div class="container"><h1>Forbidden</h1><p>You don't have permission to view this.</p></div>
<script>window.json_data = {"message":"You don't have permission to access this application.","status_code":403,"aud":"${AUD}","ray_id":"8f3c2a1b0d9e7f65"}</script>
<p>Powered by Cloudflare Access</p></body></html>`

  it('Access deny page → ACCESS_FORBIDDEN with the json_data message, not the HTML', () => {
    const e = classifyUpgradeResponse(response(403, cfHeaders(), denyPage, 'app-token'))
    expect(e.code).toBe('ACCESS_FORBIDDEN')
    expect(e.details.accessAud).toBe(AUD)
    expect(e.details.notes).toContain("Access said: You don't have permission to access this application.")
    expect(e.nextSteps[0]?.action).toBe('check-dashboard')
    expectClean(e, ['window.json_data', 'container', 'status_code'])
  })

  it('reads an HTML-escaped json_data blob', () => {
    const escaped = `<html><body><div data-json_data="{&quot;message&quot;:&quot;Denied by policy&quot;,&quot;ray_id&quot;:&quot;abc123&quot;}">Forbidden</div></body></html>`
    const e = classifyUpgradeResponse(response(403, { server: 'cloudflare' }, escaped))
    expect(e.code).toBe('ACCESS_FORBIDDEN')
    expect(e.details.notes).toContain('Access said: Denied by policy')
    expect(e.details.cfRay).toBe('abc123')
  })

  it('reads json_data escaped with numeric entities inside a JSON script tag', () => {
    const esc = (t: string): string => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
    const blob = JSON.stringify({ message: "operator@example.com isn't allowed", status_code: 403, aud: AUD, ray_id: '8f3c2a1b0d9e7f65' })
    const page = `<!DOCTYPE html><html><head><title>Forbidden</title></head><body><h1>Forbidden</h1><p>${esc("operator@example.com isn't allowed")}</p><script id="json_data" type="application/json">${esc(blob)}</script></body></html>`
    const e = classifyUpgradeResponse(response(403, cfHeaders(), page, 'service-token'))
    expect(e.code).toBe('ACCESS_FORBIDDEN')
    expect(e.message).toMatch(/service token/)
    expect(e.details.notes).toContain("Access said: operator@example.com isn't allowed")
    expect(e.details.accessAud).toBe(AUD)
    expectClean(e, ['&#34;', 'status_code'])
  })

  it('strict-mode 403 for a valid but not admitted service token → ACCESS_FORBIDDEN', () => {
    const e = classifyUpgradeResponse(response(403, cfHeaders({ 'content-type': 'text/plain' }), 'Forbidden', 'service-token'))
    expect(e.code).toBe('ACCESS_FORBIDDEN')
    expect(e.likelyCauses?.[0]).toMatch(/Service Auth/)
    expectClean(e, [CLIENT_ID])
  })

  it('legacy CF-Access-Aud / CF-Access-Domain headers mark an Access 403', () => {
    const e = classifyUpgradeResponse(response(403, cfHeaders({ 'cf-access-aud': AUD, 'cf-access-domain': APP }), 'nope'))
    expect(e.code).toBe('ACCESS_FORBIDDEN')
    expect(e.details.accessAud).toBe(AUD)
    expect(e.details.accessTeamDomain).toBe(APP)
  })

  it('empty 403 from Cloudflare on the upgrade → ACCESS_UPGRADE_FORBIDDEN (Worker destination)', () => {
    const e = classifyUpgradeResponse(response(403, cfHeaders({ 'content-length': '0' }), '', 'app-token'))
    expect(e.code).toBe('ACCESS_UPGRADE_FORBIDDEN')
    expect(e.message).toMatch(/Worker destination/)
    expect(e.nextSteps[0]?.label).toMatch(/self-hosted application/)
    expect(e.likelyCauses?.[0]).toMatch(/Worker destination/)
  })

  it('empty 403 after a service token also names strict mode', () => {
    const e = classifyUpgradeResponse(response(403, cfHeaders(), '  ', 'service-token'))
    expect(e.code).toBe('ACCESS_UPGRADE_FORBIDDEN')
    expect(e.likelyCauses?.join(' ')).toMatch(/Strict service-token mode/)
  })

  it('cf-mitigated: challenge → CLOUDFLARE_WAF_BLOCKED', () => {
    const challenge = '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray=8f3c"></script></body></html>'
    const e = classifyUpgradeResponse(response(403, cfHeaders({ 'cf-mitigated': 'challenge' }), challenge, 'service-token'))
    expect(e.code).toBe('CLOUDFLARE_WAF_BLOCKED')
    expect(e.message).toMatch(/before it reached Cloudflare Access/)
    expect(e.nextSteps[0]?.label).toMatch(/Security → Events/)
    expect(e.nextSteps[0]?.label).toMatch(/user agent/)
    expect(e.nextSteps[0]?.label).toContain(RAY)
    expectClean(e, ['Just a moment', 'challenge-platform'])
  })

  it('"error code: 1010" → CLOUDFLARE_WAF_BLOCKED with the number', () => {
    const e = classifyUpgradeResponse(response(403, cfHeaders({ 'content-type': 'text/plain' }), 'error code: 1010'))
    expect(e.code).toBe('CLOUDFLARE_WAF_BLOCKED')
    expect(e.details.cloudflareErrorCode).toBe(1010)
    expect(e.likelyCauses?.[0]).toMatch(/User-Agent/)
  })

  it('Cloudflare "Error 1020" HTML page → CLOUDFLARE_WAF_BLOCKED', () => {
    const page = `<!DOCTYPE html><html><head><title>Access denied | ${APP} used Cloudflare to restrict access</title></head>
<body><h1><span class="cf-error-type">Error</span> <span class="cf-error-code">1020</span></h1><p>Ray ID: 8f3c</p></body></html>`
    const e = classifyUpgradeResponse(response(403, cfHeaders(), page))
    expect(e.code).toBe('CLOUDFLARE_WAF_BLOCKED')
    expect(e.details.cloudflareErrorCode).toBe(1020)
    expectClean(e, ['cf-error-type', 'used Cloudflare to restrict'])
  })

  it('gateway 403 proxy_attribution_required → ORIGIN_FORBIDDEN with a trustedProxies note', () => {
    const body = JSON.stringify({ error: { type: 'proxy_attribution_required', message: 'proxy headers from untrusted address' } })
    const e = classifyUpgradeResponse(response(403, cfHeaders({ 'content-type': 'application/json' }), body, 'service-token'))
    expect(e.code).toBe('ORIGIN_FORBIDDEN')
    expect(e.message).toMatch(/proxy_attribution_required/)
    expect(e.details.notes?.join(' ')).toMatch(/gateway\.trustedProxies/)
    expect(e.nextSteps[0]?.label).toMatch(/gateway\.trustedProxies/)
  })

  it('origin nginx 403 through Cloudflare → ORIGIN_FORBIDDEN, not Access', () => {
    const page = '<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center><hr><center>nginx</center></body></html>'
    const e = classifyUpgradeResponse(response(403, cfHeaders(), page))
    expect(e.code).toBe('ORIGIN_FORBIDDEN')
    expectClean(e, ['nginx'])
  })

  it('origin JSON 403 and bare 403 without Cloudflare → ORIGIN_FORBIDDEN', () => {
    const json = classifyUpgradeResponse(response(403, { 'content-type': 'application/json' }, '{"error":"forbidden"}'))
    expect(json.code).toBe('ORIGIN_FORBIDDEN')
    expect(json.details.gatewayMessage).toBe('forbidden')
    expect(classifyUpgradeResponse(response(403, {})).code).toBe('ORIGIN_FORBIDDEN')
  })
})

describe('classifyUpgradeResponse: other statuses', () => {
  it('404 → ORIGIN_NOT_FOUND', () => {
    const e = classifyUpgradeResponse(response(404, { 'content-type': 'text/plain' }, 'Not Found'))
    expect(e.code).toBe('ORIGIN_NOT_FOUND')
    expect(e.nextSteps[0]?.action).toBe('check-url')
  })

  it('426 → ORIGIN_UPGRADE_REQUIRED', () => {
    const e = classifyUpgradeResponse(response(426, {}, 'Upgrade Required'))
    expect(e.code).toBe('ORIGIN_UPGRADE_REQUIRED')
    expect(e.likelyCauses?.join(' ')).toMatch(/Upgrade/)
  })

  it('429 with Retry-After seconds → ORIGIN_RATE_LIMITED with retryAfterMs', () => {
    const e = classifyUpgradeResponse(response(429, { 'retry-after': '12', 'content-type': 'application/json' }, '{"error":"rate_limited"}'))
    expect(e.code).toBe('ORIGIN_RATE_LIMITED')
    expect(e.details.retryAfterMs).toBe(12_000)
    expect(e.retryable).toBe(true)
    expect(e.nextSteps[0]?.action).toBe('wait')
  })

  it('429 with an HTTP-date Retry-After', () => {
    const input = response(429, { 'retry-after': new Date(Date.UTC(2026, 0, 1) + 30_000).toUTCString() })
    expect(classifyUpgradeResponse(input).details.retryAfterMs).toBe(30_000)
  })

  it('429 from a Cloudflare rate-limit rule (1015)', () => {
    const e = classifyUpgradeResponse(response(429, cfHeaders(), 'error code: 1015'))
    expect(e.code).toBe('ORIGIN_RATE_LIMITED')
    expect(e.details.cloudflareErrorCode).toBe(1015)
    expect(e.message).toMatch(/Cloudflare rate-limiting/)
  })

  it('503 from the gateway (JSON) → ORIGIN_UNAVAILABLE, retryable', () => {
    const e = classifyUpgradeResponse(
      response(503, cfHeaders({ 'content-type': 'application/json', 'retry-after': '2' }), '{"error":{"type":"unavailable","message":"gateway starting"}}')
    )
    expect(e.code).toBe('ORIGIN_UNAVAILABLE')
    expect(e.retryable).toBe(true)
    expect(e.details.retryAfterMs).toBe(2000)
    expect(e.details.gatewayMessage).toBe('gateway starting')
  })

  it('503 plain text → ORIGIN_UNAVAILABLE', () => {
    const e = classifyUpgradeResponse(response(503, {}, 'Service Unavailable'))
    expect(e.code).toBe('ORIGIN_UNAVAILABLE')
    expect(e.details.gatewayMessage).toBe('Service Unavailable')
  })

  it('503 Cloudflare page → CLOUDFLARE_ERROR', () => {
    const page = '<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>cloudflare</center></body></html>'
    expect(classifyUpgradeResponse(response(503, cfHeaders(), page)).code).toBe('CLOUDFLARE_ERROR')
  })

  it('530 with Error 1033 → CLOUDFLARE_TUNNEL_DOWN', () => {
    const page = `<!DOCTYPE html><html><head><title>Cloudflare Tunnel error | ${APP} | Cloudflare</title></head>
<body><h1><span class="cf-error-type">Error</span><span class="cf-error-code">1033</span></h1><h2>Cloudflare Tunnel error</h2></body></html>`
    const e = classifyUpgradeResponse(response(530, cfHeaders(), page))
    expect(e.code).toBe('CLOUDFLARE_TUNNEL_DOWN')
    expect(e.details.cloudflareErrorCode).toBe(1033)
    expect(e.message).toMatch(/cloudflared/)
    expect(e.retryable).toBe(true)
    expectClean(e, ['cf-error-type'])
  })

  it('"Error 1033" on another status and a bare 530 → CLOUDFLARE_TUNNEL_DOWN', () => {
    expect(classifyUpgradeResponse(response(502, cfHeaders(), 'Error 1033 Ray ID: x')).code).toBe('CLOUDFLARE_TUNNEL_DOWN')
    expect(classifyUpgradeResponse(response(530, cfHeaders())).code).toBe('CLOUDFLARE_TUNNEL_DOWN')
  })

  it('530 with a different Cloudflare error (1016) → CLOUDFLARE_ERROR with that number', () => {
    const e = classifyUpgradeResponse(response(530, cfHeaders(), '<html><body>Error 1016 Origin DNS error cloudflare</body></html>'))
    expect(e.code).toBe('CLOUDFLARE_ERROR')
    expect(e.details.cloudflareErrorCode).toBe(1016)
  })

  it.each([520, 521, 522, 523, 524, 525, 526])('Cloudflare %i page → CLOUDFLARE_ERROR with the number', (status) => {
    const page = `<!DOCTYPE html><html><head><title>${APP} | ${status}: Error | Cloudflare</title></head>
<body><h1><span class="cf-error-type">Error code</span> <span class="cf-error-code">${status}</span></h1><p>Visit cloudflare.com for more information.</p></body></html>`
    const e = classifyUpgradeResponse(response(status, cfHeaders(), page))
    expect(e.code).toBe('CLOUDFLARE_ERROR')
    expect(e.category).toBe('network')
    expect(e.details.cloudflareErrorCode).toBe(status)
    expect(e.message).toContain(`error ${status}`)
    expectClean(e, ['cf-error-type', 'Visit cloudflare.com'])
  })

  it('502/504 page from Cloudflare → CLOUDFLARE_ERROR; 502 from a plain origin → UNEXPECTED_HTTP_STATUS', () => {
    const page = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>'
    const e = classifyUpgradeResponse(response(502, cfHeaders(), page))
    expect(e.code).toBe('CLOUDFLARE_ERROR')
    expect(e.likelyCauses?.[0]).toMatch(/cloudflared/)
    expect(classifyUpgradeResponse(response(504, cfHeaders(), '')).code).toBe('CLOUDFLARE_ERROR')
    expect(classifyUpgradeResponse(response(502, {}, 'Bad Gateway')).code).toBe('UNEXPECTED_HTTP_STATUS')
  })

  it.each([200, 400, 405, 500])('HTTP %i → UNEXPECTED_HTTP_STATUS', (status) => {
    const e = classifyUpgradeResponse(response(status, { 'content-type': 'text/html' }, '<html><body><h1>Control UI</h1></body></html>'))
    expect(e.code).toBe('UNEXPECTED_HTTP_STATUS')
    expect(e.details.httpStatus).toBe(status)
    expect(e.retryable).toBe(status >= 500)
    expectClean(e, ['Control UI'])
  })
})

describe('classifyUpgradeResponse: nothing leaks', () => {
  it('no status case copies a body, a cookie, the Location or a query into the error', async () => {
    const { input: redirect, jwt } = await accessRedirect('service-token', { service_token_status: true })
    const leakyBody = `<html><body><script>var secret="${CLIENT_SECRET}"</script>cloudflare Forbidden json_data {"message":"x"}</body></html>`
    const noisy = { 'set-cookie': [SESSION_COOKIE, AUTH_COOKIE], 'x-debug-token': CLIENT_SECRET }
    const inputs: UpgradeResponseInput[] = [
      redirect,
      response(302, { ...cfHeaders(noisy), location: `https://elsewhere.example.org/a?token=query-secret-123` }),
      response(401, cfHeaders({ ...noisy, 'www-authenticate': 'Cloudflare-Access' }), leakyBody, 'app-token'),
      response(401, noisy, leakyBody),
      response(403, cfHeaders(noisy), leakyBody),
      response(403, cfHeaders(noisy), '', 'service-token'),
      response(403, cfHeaders({ ...noisy, 'cf-mitigated': 'challenge' }), leakyBody),
      response(404, noisy, leakyBody),
      response(426, noisy, leakyBody),
      response(429, { ...noisy, 'retry-after': '3' }, leakyBody),
      response(503, noisy, `{"error":"busy","message":"see https://x.example/status?key=query-secret-123"}`),
      response(530, cfHeaders(noisy), leakyBody),
      response(522, cfHeaders(noisy), leakyBody),
      response(418, noisy, leakyBody)
    ]
    for (const input of inputs) {
      const e = classifyUpgradeResponse(input)
      expectClean(e, [jwt ?? '', 'var secret', 'x-debug-token'])
      expect(e.title.length).toBeGreaterThan(0)
      expect(e.message.length).toBeGreaterThan(0)
      expect(e.nextSteps.length).toBeGreaterThan(0)
      expect(e.details.httpStatus).toBe(input.status)
    }
  })

  it('drops a cf-ray header that is not a ray id', () => {
    const e = classifyUpgradeResponse(response(404, { 'cf-ray': '<script>alert(1)</script>' }))
    expect(e.details.cfRay).toBeUndefined()
  })
})
