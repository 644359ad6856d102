import type { OutgoingHttpHeaders } from 'node:http'
import { escapeHtml, type EdgeResponse } from './http-util'
import type { EdgeErrorStatus } from './types'

// Bodies the Cloudflare edge writes itself. Shapes follow public captures (doc §1); they are small on
// purpose but keep the markers clients key on (titles, "error code: 1010", `cf-mitigated`, json_data).

/** Headers every Access-generated auth answer carries (the observed 302 capture). */
export const ACCESS_NO_CACHE_HEADERS: OutgoingHttpHeaders = {
  'access-control-allow-credentials': 'true',
  expires: 'Thu, 01 Jan 1970 00:00:01 GMT',
  'cache-control': 'private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0'
}

export function nginxStylePage(status: number, reason: string): string {
  return `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`
}

const HTML = 'text/html'
const HTML_UTF8 = 'text/html; charset=UTF-8'

function cloudflareErrorPage(options: { code: number | string; title: string; host: string; rayId: string; explanation: string }): string {
  return `<!DOCTYPE html>
<html lang="en-US">
<head>
<title>${escapeHtml(options.host)} | ${options.code}: ${escapeHtml(options.title)}</title>
<meta charset="UTF-8" />
</head>
<body>
<div id="cf-wrapper">
  <div id="cf-error-details" class="cf-error-details-wrapper">
    <h1><span class="cf-error-type">Error</span> <span class="cf-error-code">${options.code}</span></h1>
    <h2 class="cf-subheadline">${escapeHtml(options.title)}</h2>
    <p>${escapeHtml(options.explanation)}</p>
  </div>
  <div class="cf-error-footer">
    <p>Cloudflare Ray ID: <strong class="font-semibold">${options.rayId}</strong></p>
    <p>Performance &amp; security by Cloudflare</p>
  </div>
</div>
</body>
</html>
`
}

const EDGE_ERRORS: Record<EdgeErrorStatus, { code: number | string; title: string; explanation: string }> = {
  530: { code: 1033, title: 'Argo Tunnel error', explanation: 'The host is configured as a Cloudflare Tunnel, and Cloudflare is currently unable to resolve it.' },
  502: { code: 502, title: 'Bad gateway', explanation: 'The web server reported a bad gateway error.' },
  503: { code: 503, title: 'Service Temporarily Unavailable', explanation: 'The server is temporarily unable to service your request.' },
  504: { code: 504, title: 'Gateway time-out', explanation: 'The web server reported a gateway time-out error.' }
}

export function edgeErrorResponse(status: EdgeErrorStatus, host: string, rayId: string): EdgeResponse {
  const page = EDGE_ERRORS[status]
  return {
    status,
    headers: { 'content-type': HTML_UTF8, 'cache-control': 'private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0', expires: 'Thu, 01 Jan 1970 00:00:01 GMT', 'referrer-policy': 'same-origin', 'x-frame-options': 'SAMEORIGIN' },
    body: cloudflareErrorPage({ ...page, host, rayId })
  }
}

export function unknownHostResponse(host: string, rayId: string): EdgeResponse {
  return {
    status: 530,
    headers: { 'content-type': HTML_UTF8 },
    body: cloudflareErrorPage({ code: 1001, title: 'DNS resolution error', host, rayId, explanation: 'The host is not configured on this emulated edge.' })
  }
}

export function wafChallengeResponse(rayId: string): EdgeResponse {
  return {
    status: 403,
    headers: { 'content-type': HTML_UTF8, 'cf-mitigated': 'challenge', 'cache-control': 'private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0', 'critical-ch': 'Sec-CH-UA-Bitness, Sec-CH-UA-Arch', 'cross-origin-embedder-policy': 'require-corp' },
    body: `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body><div class="main-wrapper" role="main"><div class="main-content"><noscript>Enable JavaScript and cookies to continue</noscript></div></div><script>window._cf_chl_opt={cRay:'${rayId}',cType:'managed'};</script></body></html>`
  }
}

export function wafBlock1010Response(): EdgeResponse {
  return { status: 403, headers: { 'content-type': 'text/plain; charset=UTF-8', 'referrer-policy': 'same-origin', 'x-frame-options': 'SAMEORIGIN' }, body: 'error code: 1010' }
}

/** Access "Forbidden" page for an identity the app policy denies; embeds `json_data` as observed. */
export function accessForbiddenResponse(aud: string, rayId: string, message: string): EdgeResponse {
  const jsonData = JSON.stringify({ message, status_code: 403, aud, ray_id: rayId })
  return {
    status: 403,
    headers: { 'content-type': HTML, ...ACCESS_NO_CACHE_HEADERS },
    body: `<!DOCTYPE html><html><head><title>Forbidden</title></head><body><h1>Forbidden</h1><p>${escapeHtml(message)}</p><script id="json_data" type="application/json">${escapeHtml(jsonData)}</script></body></html>`
  }
}

export function plainEdgeResponse(status: number, reason: string, extraHeaders: OutgoingHttpHeaders = {}): EdgeResponse {
  return { status, headers: { 'content-type': HTML, ...ACCESS_NO_CACHE_HEADERS, ...extraHeaders }, body: nginxStylePage(status, reason) }
}
