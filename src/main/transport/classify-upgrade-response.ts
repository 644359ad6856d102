/**
 * Turn a refused WebSocket upgrade (any HTTP answer other than 101) into a precise AppError.
 *
 * Three parties can refuse an upgrade to a gateway behind Cloudflare, and each needs a different
 * fix: Cloudflare's WAF/bot rules (before Access), Cloudflare Access itself, and the origin (the
 * gateway or a proxy before it). This module tells them apart from the status, a few headers and
 * the first bytes of the body, following the client rule of the Access notes (§1.1): a 3xx to
 * `/cdn-cgi/access/login`, a 401 whose `WWW-Authenticate` names Cloudflare Access, an edge page
 * from Cloudflare; everything in JSON is the origin talking.
 *
 * Nothing from the response is copied verbatim into the error except short, cleaned facts: the
 * HTML body, the `Location` URL (it holds the `meta` JWT), cookies and query strings never are.
 * Pure: no I/O, no Electron.
 */
import { appError, type AppError, type AccessMetaClaims, type ErrorCode, type ErrorDetails, type NextStep } from '../../shared/errors'
import type { AccessCredentials } from '../cf-access/access-credentials'
import { parseAccessLoginRedirect, type AccessLoginRedirect } from '../cf-access/login-redirect'

/** What the transport saw when the upgrade was refused. */
export interface UpgradeResponseInput {
  status: number
  /** Response headers as Node gives them (any case; arrays for repeated headers). */
  headers: Record<string, string | string[] | undefined>
  /** The first few KB of the body (HTML, JSON, plain or empty). */
  body: string
  /** The URL that was dialled; only its host is ever reported. */
  requestUrl: string
  /** Which kind of Access credential was sent on the upgrade. */
  credentialsSent: AccessCredentials['kind']
  /** Header/cookie names that carried it (from `accessUpgradeHeaders().sentNames`). */
  sentNames: string[]
  /** Clock for an HTTP-date `Retry-After`; defaults to `Date.now()`. */
  nowMs?: number
}

/** The 400 pages of web servers that got plain HTTP on a TLS port (nginx and Cloudflare, Go's net/http as in Caddy and Traefik, Apache). */
const PLAIN_HTTP_ON_TLS_PORT = /plain HTTP request was sent to HTTPS port|sent an HTTP request to an HTTPS server|speaking plain HTTP to an SSL-enabled server port/i

/** Longest cleaned snippet of server text (deny message, gateway message) we keep. */
const MAX_SNIPPET = 200

/**
 * Classify a refused upgrade. Always returns an AppError (never throws), with a stable code, a
 * title, a plain message, ordered next steps and, when the evidence allows several, ordered
 * likely causes.
 */
export function classifyUpgradeResponse(input: UpgradeResponseInput): AppError {
  const r = readResponse(input)

  // A WAF/bot answer can wear any status; Cloudflare marks it, and it happens before Access runs.
  if (r.mitigated) return wafBlocked(r)
  // Error 1033 is Cloudflare's "tunnel not connected", whatever status the page came with.
  if (r.cfCode === 1033) return tunnelDown(r)

  const status = input.status
  if (status >= 300 && status < 400) return classifyRedirect(r)
  if (status === 401) return classifyUnauthorized(r)
  if (status === 403) return classifyForbidden(r)
  if (status === 404) return originNotFound(r)
  if (status === 426) return originUpgradeRequired(r)
  if (status === 429) return rateLimited(r)
  if (status === 530) return r.cfCode !== undefined ? cloudflareError(r) : tunnelDown(r)
  if (status >= 520 && status <= 527) return cloudflareError(r)
  if (status === 503) return r.cloudflarePage ? cloudflareError(r) : originUnavailable(r)
  if ((status === 502 || status === 504 || status === 500) && r.fromCloudflare && (r.cloudflarePage || r.bodyEmpty)) {
    return cloudflareError(r)
  }
  return unexpectedStatus(r)
}

// ---------------------------------------------------------------------------------------------
// Reading the response

interface ResponseFacts {
  input: UpgradeResponseInput
  status: number
  /** Host (with a non-default port) of the dialled URL, for messages. */
  host: string
  hostname?: string
  port?: number
  protocol?: string
  get: (name: string) => string | undefined
  cfRay?: string
  /** `server: cloudflare` or a `cf-ray`: the answer passed through (or came from) Cloudflare's edge. */
  fromCloudflare: boolean
  mitigated?: string
  bodyEmpty: boolean
  isHtml: boolean
  json?: unknown
  /** Body starts like JSON (may be cut off, so `json` can be undefined). */
  jsonish: boolean
  /** An edge page rendered by Cloudflare (HTML naming Cloudflare, or the plain "error code: N" form). */
  cloudflarePage: boolean
  cfCode?: number
  sentNames: string[]
  base: ErrorDetails
}

function readResponse(input: UpgradeResponseInput): ResponseFacts {
  const lowered = new Map<string, string>()
  for (const [key, value] of Object.entries(input.headers ?? {})) {
    if (value === undefined) continue
    lowered.set(key.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value))
  }
  const get = (name: string): string | undefined => lowered.get(name)

  let hostname: string | undefined
  let port: number | undefined
  let protocol: string | undefined
  let host = 'the gateway'
  try {
    const url = new URL(input.requestUrl)
    if (url.hostname !== '') {
      hostname = url.hostname
      host = url.host
      protocol = url.protocol
      port = url.port !== '' ? Number(url.port) : url.protocol === 'wss:' || url.protocol === 'https:' ? 443 : 80
    }
  } catch {
    // An unparseable request URL only costs us the host in the message.
  }

  const body = typeof input.body === 'string' ? input.body : ''
  const trimmed = body.trim()
  const isHtml = /<(!doctype|html|head|body|title)\b/i.test(trimmed)
  const jsonish = /^[[{]/.test(trimmed)
  let json: unknown
  if (jsonish) {
    try {
      json = JSON.parse(trimmed)
    } catch {
      json = undefined
    }
  }
  const plainCode = /^error code:\s*(\d{3,5})$/i.exec(trimmed)
  const cloudflarePage = plainCode !== null || (isHtml && /cloudflare/i.test(trimmed))
  const cfCode = cloudflareErrorNumber(trimmed, cloudflarePage)

  const server = get('server')
  const rawRay = get('cf-ray')
  const cfRay = rawRay && /^[0-9a-z-]{1,40}$/i.test(rawRay.trim()) ? rawRay.trim() : undefined
  const fromCloudflare = (server !== undefined && /cloudflare/i.test(server)) || rawRay !== undefined
  const mitigatedRaw = get('cf-mitigated')?.trim().toLowerCase()
  const mitigated = mitigatedRaw && /^[a-z_-]{1,32}$/.test(mitigatedRaw) ? mitigatedRaw : mitigatedRaw ? 'yes' : undefined

  const sentNames = (input.sentNames ?? []).filter((n) => typeof n === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(n))
  const base: ErrorDetails = { httpStatus: input.status }
  if (cfRay) base.cfRay = cfRay
  if (hostname) base.host = hostname
  if (port !== undefined && Number.isFinite(port)) base.port = port
  if (cfCode !== undefined) base.cloudflareErrorCode = cfCode
  base.credentialsSent = sentNames

  return {
    input,
    status: input.status,
    host,
    hostname,
    port,
    protocol,
    get,
    cfRay,
    fromCloudflare,
    mitigated,
    bodyEmpty: trimmed === '',
    isHtml,
    json,
    jsonish,
    cloudflarePage,
    cfCode,
    sentNames,
    base
  }
}

/**
 * The Cloudflare error number shown on an edge page ("error code: 1010", "Error 1033",
 * `<span class="cf-error-code">522</span>`). 1xxx numbers are Cloudflare's own, so they count
 * anywhere; 5xx numbers only on a page that is recognisably Cloudflare's, since any origin page
 * may say "Error 500".
 */
function cloudflareErrorNumber(body: string, cloudflarePage: boolean): number | undefined {
  const own = /\berror(?:\s+code)?\s*:?\s*(1\d{3})\b/i.exec(body) ?? /cf-error-code[^>]*>\s*(1\d{3})\s*</i.exec(body)
  if (own?.[1]) return Number(own[1])
  if (!cloudflarePage) return undefined
  const edge = /cf-error-code[^>]*>\s*(5\d{2})\s*</i.exec(body) ?? /\berror(?:\s+code)?\s*:?\s*(5\d{2})\b/i.exec(body)
  return edge?.[1] ? Number(edge[1]) : undefined
}

/** Printable, tag-free, query-free, length-capped text from an untrusted source. */
function snippet(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const text = value
    .replace(/<[^>]*>/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    // Keep a URL's scheme, host and path; drop its query and fragment (tokens live there).
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>?#]*)[?#][^\s"'<>]*/gi, '$1')
    .replace(/\s+/g, ' ')
    .trim()
  if (text === '') return undefined
  return text.length > MAX_SNIPPET ? text.slice(0, MAX_SNIPPET - 1) + '…' : text
}

/** The origin's own short message from a JSON error body (`error`, `error.message`, `message`). */
function originMessage(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined
  const o = json as Record<string, unknown>
  if (typeof o.error === 'string') return snippet(o.message) ? `${snippet(o.error)}: ${snippet(o.message)}` : snippet(o.error)
  if (typeof o.error === 'object' && o.error !== null) {
    const e = o.error as Record<string, unknown>
    return snippet(e.message) ?? snippet(e.type) ?? snippet(e.code)
  }
  return snippet(o.message)
}

function withNotes(details: ErrorDetails, notes: (string | undefined)[]): ErrorDetails {
  const list = [...(details.notes ?? []), ...notes.filter((n): n is string => typeof n === 'string' && n !== '')]
  return list.length > 0 ? { ...details, notes: list } : details
}

function build(
  code: ErrorCode,
  title: string,
  message: string,
  opts: { nextSteps: NextStep[]; likelyCauses?: string[]; details: ErrorDetails; retryable?: boolean }
): AppError {
  return appError(code, title, message, opts)
}

// ---------------------------------------------------------------------------------------------
// 3xx

function classifyRedirect(r: ResponseFacts): AppError {
  const location = r.get('location')
  const login = location !== undefined ? parseAccessLoginRedirect(location, r.input.requestUrl) : null
  if (!login) return unexpectedRedirect(r, location)

  const details: ErrorDetails = withNotes(
    {
      ...r.base,
      accessTeamDomain: login.teamDomain,
      ...(login.aud ? { accessAud: login.aud } : {}),
      ...(login.claims ? { accessClaims: login.claims } : {})
    },
    [...login.notes, hostnameMismatch(login.claims, r.hostname)]
  )
  const wwwAuth = cleanWwwAuthenticate(r.get('www-authenticate'))
  if (wwwAuth) details.wwwAuthenticate = wwwAuth

  const appHost = login.claims?.hostname ?? login.appHost
  const team = login.teamDomain

  switch (r.input.credentialsSent) {
    case 'service-token':
      return serviceTokenRedirect(r, login, details, appHost, team)
    case 'app-token':
      return build(
        'ACCESS_APP_TOKEN_REJECTED',
        'Cloudflare Access refused the sign-in token',
        `Cloudflare Access did not accept the saved sign-in token for ${appHost} and sent the connection to the ${team} login page.`,
        {
          likelyCauses: appTokenCauses(r.sentNames),
          nextSteps: [
            { action: 'sign-in-email', label: 'Sign in again in the Cloudflare Access login window.' },
            { action: 'renew-app-token', label: `Or paste a fresh CF_Authorization cookie of ${appHost}.` }
          ],
          details
        }
      )
    default:
      return build(
        'ACCESS_LOGIN_REQUIRED',
        'Cloudflare Access blocked the connection',
        `The gateway at ${appHost} is protected by Cloudflare Access, and this app sent no Access credentials, so Access redirected the connection to the ${team} login page.`,
        {
          nextSteps: [
            { action: 'add-service-token', label: 'Add a Cloudflare Access service token (Client ID and Client Secret) to this profile.' },
            { action: 'sign-in-email', label: 'Or sign in with your email in the Cloudflare Access login window.' }
          ],
          details
        }
      )
  }
}

/** The four causes of a refused service token, most likely first (the order is part of the contract). */
export const SERVICE_TOKEN_REJECTED_CAUSES: readonly string[] = [
  'There is no Service Auth policy on this Access application (an Allow policy does not admit service tokens).',
  'The service token is not included in that Service Auth policy.',
  'The service token expired or was revoked.',
  'The service token belongs to another Cloudflare account.'
]

/** Causes when Access says the token itself is valid (`service_token_status: true`) yet redirects. */
export const SERVICE_TOKEN_NOT_ADMITTED_CAUSES: readonly string[] = [
  'The service token is valid, but no Service Auth policy on this Access application admits it.',
  'The token is listed under an Allow policy instead of a Service Auth policy.',
  'Another Access application with a more specific hostname or path covers this URL.'
]

function serviceTokenRedirect(
  r: ResponseFacts,
  login: AccessLoginRedirect,
  details: ErrorDetails,
  appHost: string,
  team: string
): AppError {
  const valid = login.claims?.serviceTokenStatus === true
  const nextSteps: NextStep[] = [
    {
      action: 'check-dashboard',
      label: `In the Cloudflare Zero Trust dashboard open Access → Applications → ${appHost} → Policies and add a policy with action "Service Auth" that includes this service token.`
    },
    {
      action: 'check-service-token',
      label: 'Under Access → Service credentials → Service Tokens, check that this token exists in the same account, has not expired, and that its Client ID and Client Secret match this profile.'
    },
    { action: 'sign-in-email', label: 'Or switch this profile to email sign-in.' }
  ]
  const message = valid
    ? `Cloudflare Access accepted the service token as valid, but no policy of the application at ${appHost} lets it in, so Access redirected the connection to the ${team} login page.`
    : `Cloudflare Access did not recognise the service token this app sent to ${appHost} and redirected the connection to the ${team} login page.`
  const note = valid
    ? undefined
    : 'If the token and policy are right, check that no proxy between this computer and Cloudflare strips the CF-Access-Client-Id and CF-Access-Client-Secret headers.'
  return build('ACCESS_SERVICE_TOKEN_REJECTED', 'Cloudflare Access rejected the service token', message, {
    likelyCauses: [...(valid ? SERVICE_TOKEN_NOT_ADMITTED_CAUSES : SERVICE_TOKEN_REJECTED_CAUSES)],
    nextSteps,
    details: withNotes(details, [note])
  })
}

function appTokenCauses(sentNames: string[]): string[] {
  return [
    'The sign-in token expired.',
    'The session was ended by a logout or revoked by an administrator.',
    'The token was issued for another Access application.',
    sentNames.includes('CF_Binding')
      ? 'The CF_Binding cookie sent does not belong to this token.'
      : 'The application requires the CF_Binding cookie next to CF_Authorization, and it was not sent.'
  ]
}

function hostnameMismatch(claims: AccessMetaClaims | undefined, dialled: string | undefined): string | undefined {
  if (!claims?.hostname || !dialled) return undefined
  const matched = claims.hostname.replace(/:\d+$/, '').toLowerCase()
  if (matched === dialled.toLowerCase()) return undefined
  return `Access matched the application for ${matched}, but the app dialled ${dialled.toLowerCase()}: check the route or the application's hostname.`
}

function unexpectedRedirect(r: ResponseFacts, location: string | undefined): AppError {
  let target: URL | undefined
  try {
    target = location !== undefined && location.trim() !== '' ? new URL(location.trim(), r.input.requestUrl) : undefined
  } catch {
    target = undefined
  }
  const targetHost = target && target.host !== '' ? target.host : undefined
  const where = targetHost ? `to ${targetHost}` : location === undefined ? 'without saying where to' : 'to an unreadable location'

  const causes: string[] = []
  const sameHost = target !== undefined && r.hostname !== undefined && target.hostname === r.hostname
  if (sameHost && r.protocol === 'ws:' && target?.protocol === 'https:') {
    causes.push('The server redirects plain connections to HTTPS: use a wss:// URL.')
  }
  if (sameHost) causes.push('The path is not the gateway\'s (for example a missing or extra trailing slash, or a web page path).')
  causes.push('The address points at a site or login portal that sends visitors elsewhere, not at the gateway.')

  return build(
    'UNEXPECTED_REDIRECT',
    'The server redirected the connection',
    `The server answered the WebSocket upgrade with a redirect (HTTP ${r.status}) ${where} instead of opening the connection. WebSocket connections do not follow redirects.`,
    {
      likelyCauses: causes,
      nextSteps: [{ action: 'check-url', label: 'Check the gateway URL in this profile (scheme, host, port and path).' }],
      details: withNotes(r.base, [targetHost ? `Redirect target host: ${targetHost}` : undefined])
    }
  )
}

// ---------------------------------------------------------------------------------------------
// 401

/** `WWW-Authenticate` is a challenge, not a credential, but URLs in it may carry the request's query. */
function cleanWwwAuthenticate(value: string | undefined): string | undefined {
  return snippet(value)
}

function classifyUnauthorized(r: ResponseFacts): AppError {
  const wwwAuthRaw = r.get('www-authenticate')
  const wwwAuth = cleanWwwAuthenticate(wwwAuthRaw)
  const namesAccess = wwwAuthRaw !== undefined && /cloudflare-access/i.test(wwwAuthRaw)
  // §1.1: a Cloudflare-made 401 with no origin body is Access too (e.g. XMLHttpRequest-style 401s).
  const edgeMade = r.fromCloudflare && !r.jsonish && (r.bodyEmpty || r.cloudflarePage)
  if (!namesAccess && !edgeMade) return originUnauthorized(r, wwwAuth)

  const details: ErrorDetails = { ...r.base }
  if (wwwAuth) details.wwwAuthenticate = wwwAuth
  const oauth = wwwAuthRaw !== undefined && /resource_metadata|bearer/i.test(wwwAuthRaw)
  const oauthNote = oauth
    ? 'Access answered with an OAuth-style 401 (Managed OAuth or the "Return 401 response" setting), not a login redirect.'
    : undefined

  const accessAud = snippetHeader(r.get('cf-access-aud'))
  if (accessAud) details.accessAud = accessAud

  switch (r.input.credentialsSent) {
    case 'service-token':
      return build(
        'ACCESS_UNAUTHORIZED',
        'Cloudflare Access rejected the service token',
        `Cloudflare Access refused the service token for ${r.host} with HTTP 401: the organisation uses strict service-token authentication, or the application returns 401 for Service Auth policies, and this token cannot authenticate.`,
        {
          likelyCauses: [
            'The Client ID or Client Secret is wrong, or the two are swapped.',
            'The service token expired, was disabled, or its secret was rotated.',
            'The service token belongs to another Cloudflare account.',
            'No Service Auth policy on this application includes the token.',
            'Only one of the two headers reached Access, or the application expects the credentials in a single custom header.'
          ],
          nextSteps: [
            { action: 'check-service-token', label: 'Check the Client ID and Client Secret against Access → Service credentials → Service Tokens.' },
            {
              action: 'check-dashboard',
              label: `In the Zero Trust dashboard open Access → Applications → ${r.hostname ?? 'the application'} → Policies and make sure a "Service Auth" policy includes this token.`
            },
            { action: 'sign-in-email', label: 'Or switch this profile to email sign-in.' }
          ],
          details: withNotes(details, [oauthNote])
        }
      )
    case 'app-token':
      return build(
        'ACCESS_UNAUTHORIZED',
        'Cloudflare Access rejected the sign-in token',
        `Cloudflare Access refused the saved sign-in token for ${r.host} with HTTP 401.`,
        {
          likelyCauses: appTokenCauses(r.sentNames),
          nextSteps: [
            { action: 'sign-in-email', label: 'Sign in again in the Cloudflare Access login window.' },
            { action: 'renew-app-token', label: `Or paste a fresh CF_Authorization cookie of ${r.hostname ?? 'the gateway host'}.` }
          ],
          details: withNotes(details, [oauthNote])
        }
      )
    default:
      return build(
        'ACCESS_UNAUTHORIZED',
        'Cloudflare Access blocked the connection',
        `The gateway at ${r.host} is protected by Cloudflare Access, which asked for authentication (HTTP 401), and this app sent no Access credentials.`,
        {
          nextSteps: [
            { action: 'add-service-token', label: 'Add a Cloudflare Access service token (Client ID and Client Secret) to this profile.' },
            { action: 'sign-in-email', label: 'Or sign in with your email in the Cloudflare Access login window.' }
          ],
          details: withNotes(details, [oauthNote])
        }
      )
  }
}

function originUnauthorized(r: ResponseFacts, wwwAuth: string | undefined): AppError {
  const details: ErrorDetails = { ...r.base }
  if (wwwAuth) details.wwwAuthenticate = wwwAuth
  const said = originMessage(r.json)
  if (said) details.gatewayMessage = said
  const causes = [
    'The gateway (or a reverse proxy before it) requires its own authentication on the HTTP upgrade.',
    r.input.credentialsSent !== 'none'
      ? 'Cloudflare Access let the request through, but a Worker in front of the gateway (such as moltworker) could not validate the Access token: check its team domain and AUD settings.'
      : 'A Worker in front of the gateway (such as moltworker) expects a Cloudflare Access token that was not sent.',
    'The URL points at a different service that needs a login.'
  ]
  return build(
    'ORIGIN_UNAUTHORIZED',
    'The gateway refused the connection',
    `The server behind ${r.host} refused the WebSocket upgrade with HTTP 401 before the connection opened. This answer came from the gateway side, not from Cloudflare Access.`,
    {
      likelyCauses: causes,
      nextSteps: [
        { action: 'check-url', label: 'Check that the profile URL points at the gateway itself.' },
        { action: 'check-gateway-token', label: 'Check the gateway token and any proxy authentication in front of the gateway.' }
      ],
      details
    }
  )
}

// ---------------------------------------------------------------------------------------------
// 403

function classifyForbidden(r: ResponseFacts): AppError {
  if (r.cfCode !== undefined && r.cfCode >= 1000 && r.cfCode < 2000) return wafBlocked(r)
  if (isProxyAttribution(r)) return proxyAttribution(r)

  const body = r.input.body ?? ''
  const denyPage =
    r.isHtml &&
    (/json_data/i.test(body) ||
      /cloudflare\s*access|cloudflareaccess\.com|\/cdn-cgi\/access\//i.test(body) ||
      (r.fromCloudflare && /forbidden/i.test(body) && /cloudflare/i.test(body)))
  const accessHeaders = r.get('cf-access-aud') !== undefined || r.get('cf-access-domain') !== undefined
  // Strict service-token mode answers 403 when a valid token is not admitted; its exact body is
  // undocumented, so any non-JSON "forbidden" from the edge after sending a token counts.
  const strictDeny =
    r.input.credentialsSent === 'service-token' && r.fromCloudflare && !r.jsonish && !r.bodyEmpty && /forbidden|denied/i.test(body)
  if (denyPage || accessHeaders || strictDeny) return accessForbidden(r)

  if (r.bodyEmpty && r.fromCloudflare) return upgradeForbidden(r)
  return originForbidden(r)
}

function accessForbidden(r: ResponseFacts): AppError {
  const deny = readDenyPage(r.input.body ?? '')
  const details: ErrorDetails = { ...r.base }
  const aud = deny.aud ?? snippetHeader(r.get('cf-access-aud'))
  if (aud) details.accessAud = aud
  const domain = snippetHeader(r.get('cf-access-domain'))
  if (domain) details.accessTeamDomain = domain
  if (!details.cfRay && deny.rayId) details.cfRay = deny.rayId
  const notes = [deny.message ? `Access said: ${deny.message}` : undefined]

  if (r.input.credentialsSent === 'service-token') {
    return build(
      'ACCESS_FORBIDDEN',
      'Cloudflare Access denied the service token',
      `Cloudflare Access recognised the service token but its policy does not let it reach ${r.host} (HTTP 403).`,
      {
        likelyCauses: [
          'No Service Auth policy on this application includes this token (strict service-token mode answers 403).',
          'The token is listed under an Allow policy instead of a Service Auth policy.',
          'A more specific Access application covers this path and does not admit the token.'
        ],
        nextSteps: [
          {
            action: 'check-dashboard',
            label: `In the Zero Trust dashboard open Access → Applications → ${r.hostname ?? 'the application'} → Policies and add a policy with action "Service Auth" that includes this service token.`
          },
          { action: 'check-service-token', label: 'Check that the profile uses the service token that the policy lists.' }
        ],
        details: withNotes(details, notes)
      }
    )
  }
  return build(
    'ACCESS_FORBIDDEN',
    'Cloudflare Access denied access',
    `Cloudflare Access knows who you are but its policy does not allow you to reach ${r.host} (HTTP 403).`,
    {
      likelyCauses: [
        'Your email (or identity provider group) is not in the application\'s Allow policy.',
        'A policy requirement is not met (country, device posture, WARP).',
        'You signed in with a different account than the one the policy allows.'
      ],
      nextSteps: [
        { action: 'check-dashboard', label: 'Ask the Zero Trust administrator to add your email to the application\'s Allow policy.' },
        { action: 'sign-in-email', label: 'Or sign in again with an allowed email address.' }
      ],
      details: withNotes(details, notes)
    }
  )
}

/**
 * Facts from an Access deny page: it embeds a `json_data` blob with `message`, `aud`, `ray_id`.
 * The blob may sit in a script as JSON or HTML-escaped; only those three short values are read.
 */
function readDenyPage(body: string): { message?: string; aud?: string; rayId?: string } {
  const at = body.search(/json_data/i)
  if (at < 0) return {}
  const text = decodeEntities(body.slice(at, at + 8000)).replace(/\\"/g, '"')
  const field = (name: string): string | undefined => new RegExp(`"${name}"\\s*:\\s*"([^"]{0,400})"`).exec(text)?.[1]
  const out: { message?: string; aud?: string; rayId?: string } = {}
  const message = snippet(field('message'))
  if (message) out.message = message
  const aud = field('aud')
  if (aud && /^[0-9a-f]{16,128}$/i.test(aud)) out.aud = aud
  const ray = field('ray_id')
  if (ray && /^[0-9a-z-]{1,40}$/i.test(ray)) out.rayId = ray
  return out
}

/** Undo HTML escaping (the blob often sits escaped inside a script or attribute). */
function decodeEntities(text: string): string {
  const named: Record<string, string> = { quot: '"', apos: "'", amp: '&', lt: '<', gt: '>' }
  return text.replace(/&(#\d{1,6}|#x[0-9a-f]{1,5}|quot|apos|amp|lt|gt);/gi, (whole, entity: string) => {
    const e = entity.toLowerCase()
    if (e.startsWith('#x')) return safeChar(parseInt(e.slice(2), 16), whole)
    if (e.startsWith('#')) return safeChar(parseInt(e.slice(1), 10), whole)
    return named[e] ?? whole
  })
}

function safeChar(code: number, fallback: string): string {
  return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : fallback
}

function snippetHeader(value: string | undefined): string | undefined {
  const text = value?.trim()
  return text && /^[A-Za-z0-9.:_-]{1,253}$/.test(text) ? text : undefined
}

function upgradeForbidden(r: ResponseFacts): AppError {
  const causes = [
    'The Access application uses a Worker destination (the one-click "Enable Access" on a Worker), which refuses every WebSocket upgrade even with valid credentials while plain HTTPS requests work.'
  ]
  if (r.input.credentialsSent === 'service-token') {
    causes.push('Strict service-token mode: the token is valid but no Service Auth policy admits it.')
  }
  causes.push('A Cloudflare custom rule blocks the request without a page.')
  return build(
    'ACCESS_UPGRADE_FORBIDDEN',
    'Cloudflare refused the WebSocket upgrade',
    `Cloudflare answered the WebSocket upgrade to ${r.host} with an empty HTTP 403. Cloudflare Access does this for applications with a Worker destination: web requests to the same address work, but WebSocket upgrades are refused.`,
    {
      likelyCauses: causes,
      nextSteps: [
        {
          action: 'check-dashboard',
          label: `In the Zero Trust dashboard protect ${r.hostname ?? 'the gateway host'} with a self-hosted application on its hostname (Access → Applications → Add → Self-hosted) instead of a Worker destination, then reconnect.`
        },
        { action: 'retry', label: 'Retry after changing the application.' }
      ],
      details: r.base
    }
  )
}

function isProxyAttribution(r: ResponseFacts): boolean {
  if (typeof r.json === 'object' && r.json !== null) {
    const error = (r.json as Record<string, unknown>).error
    if (typeof error === 'object' && error !== null && (error as Record<string, unknown>).type === 'proxy_attribution_required') {
      return true
    }
    if (error === 'proxy_attribution_required') return true
  }
  return r.jsonish && /"proxy_attribution_required"/.test(r.input.body ?? '')
}

function proxyAttribution(r: ResponseFacts): AppError {
  return build(
    'ORIGIN_FORBIDDEN',
    'The gateway does not trust the proxy in front of it',
    `The gateway behind ${r.host} refused the connection (proxy_attribution_required): the request arrived through a proxy that is not in the gateway's trusted proxies, so the gateway cannot tell who the client is.`,
    {
      likelyCauses: [
        'The proxy in front of the gateway (cloudflared, nginx, Caddy...) is not listed in gateway.trustedProxies.',
        'A trusted proxy forwarded a loopback client address.'
      ],
      nextSteps: [
        {
          action: 'retry',
          label: 'On the gateway host, add the proxy\'s address (often 127.0.0.1 for cloudflared on the same machine) to gateway.trustedProxies, restart the gateway, then retry.'
        }
      ],
      details: withNotes(r.base, [
        'Set gateway.trustedProxies in the gateway configuration to the address the proxy connects from.',
        originMessage(r.json)
      ])
    }
  )
}

function originForbidden(r: ResponseFacts): AppError {
  const details: ErrorDetails = { ...r.base }
  const said = originMessage(r.json)
  if (said) details.gatewayMessage = said
  return build(
    'ORIGIN_FORBIDDEN',
    'The gateway refused the connection',
    `The server behind ${r.host} refused the WebSocket upgrade with HTTP 403. This answer came from the gateway side, not from Cloudflare Access.`,
    {
      likelyCauses: [
        'The gateway refused the connection at HTTP level (for example its origin or proxy checks).',
        'A reverse proxy in front of the gateway restricts who may connect.',
        'The URL points at a different service.'
      ],
      nextSteps: [
        { action: 'check-url', label: 'Check that the profile URL points at the gateway itself.' },
        { action: 'check-gateway-token', label: 'Check the gateway and proxy settings that restrict access.' }
      ],
      details
    }
  )
}

// ---------------------------------------------------------------------------------------------
// WAF, tunnel, Cloudflare edge errors

function wafBlocked(r: ResponseFacts): AppError {
  const code = r.cfCode
  const causes: string[] = []
  if (r.mitigated === 'challenge') causes.push('A bot or challenge rule (Bot Fight Mode, a managed challenge) asked for a browser check that an app cannot pass.')
  if (code === 1010) causes.push('Browser Integrity Check banned the request\'s signature (its User-Agent looks scripted).')
  if (code === 1020) causes.push('A custom WAF rule blocks this request.')
  if (code === 1006 || code === 1007 || code === 1008) causes.push('The site owner banned this IP address.')
  if (code === 1009) causes.push('The site owner blocks visitors from this country or region.')
  causes.push('A Cloudflare WAF, bot or IP rule on the zone blocks non-browser clients.')
  const what = code !== undefined ? ` (error ${code})` : r.mitigated ? ` (cf-mitigated: ${r.mitigated})` : ''
  return build(
    'CLOUDFLARE_WAF_BLOCKED',
    'Cloudflare\'s firewall blocked the connection',
    `A Cloudflare WAF or bot rule blocked the connection to ${r.host}${what} before it reached Cloudflare Access or the gateway.`,
    {
      likelyCauses: causes,
      nextSteps: [
        {
          action: 'check-dashboard',
          label: `In the Cloudflare dashboard open Security → Events for ${r.hostname ?? 'the zone'}, find this request${r.cfRay ? ` (Ray ID ${r.cfRay})` : ''}, and add an exception or skip rule for the gateway host, path or user agent.`
        },
        { action: 'check-network', label: 'If you connect through a VPN or proxy, try without it: IP reputation rules may block its address.' }
      ],
      details: r.base
    }
  )
}

function tunnelDown(r: ResponseFacts): AppError {
  return build(
    'CLOUDFLARE_TUNNEL_DOWN',
    'The Cloudflare Tunnel to the gateway is down',
    `Cloudflare could not reach the gateway behind ${r.host}: the Cloudflare Tunnel for this hostname has no running, connected cloudflared (error 1033).`,
    {
      likelyCauses: [
        'cloudflared is not running on the gateway host.',
        'cloudflared is running but cannot connect to Cloudflare (network or firewall on the gateway host).',
        'The hostname is routed to a tunnel that was deleted or replaced.'
      ],
      nextSteps: [
        { action: 'check-dashboard', label: 'Start cloudflared on the gateway host and check that the tunnel shows as Healthy in Zero Trust → Networks → Tunnels.' },
        { action: 'retry', label: 'Retry once the tunnel is connected.' }
      ],
      details: r.base,
      retryable: true
    }
  )
}

const EDGE_ERRORS: Record<number, { what: string; retryable: boolean }> = {
  520: { what: 'the origin returned an empty or unexpected response', retryable: true },
  521: { what: 'the origin refused the connection from Cloudflare (web server down)', retryable: true },
  522: { what: 'the connection from Cloudflare to the origin timed out', retryable: true },
  523: { what: 'the origin is unreachable from Cloudflare', retryable: true },
  524: { what: 'the origin took too long to answer', retryable: true },
  525: { what: 'the TLS handshake between Cloudflare and the origin failed', retryable: false },
  526: { what: 'the origin\'s TLS certificate is invalid for Cloudflare', retryable: false },
  527: { what: 'a Railgun connection error occurred', retryable: true },
  502: { what: 'the edge got a bad answer from the origin (bad gateway)', retryable: true },
  504: { what: 'the origin did not answer in time (gateway timeout)', retryable: true },
  1016: { what: 'the origin\'s DNS name could not be resolved (origin DNS error)', retryable: false }
}

function cloudflareError(r: ResponseFacts): AppError {
  const number = r.cfCode ?? r.status
  const known = EDGE_ERRORS[number] ?? EDGE_ERRORS[r.status]
  const shown = r.cfCode !== undefined ? `error ${r.cfCode}` : `HTTP ${r.status}`
  const causes: string[] = []
  if (r.status === 502 || number === 502) {
    causes.push('cloudflared is running but cannot reach the gateway\'s local address (wrong service URL in the tunnel ingress, or the gateway is stopped).')
  }
  if (number === 521 || number === 522 || number === 523) causes.push('The gateway or its host is down or unreachable from Cloudflare.')
  if (number === 525 || number === 526) causes.push('The origin\'s TLS settings do not match the zone\'s SSL mode.')
  causes.push('A temporary Cloudflare or origin problem.')
  return build(
    'CLOUDFLARE_ERROR',
    'Cloudflare could not reach the gateway',
    `Cloudflare answered for ${r.host} with ${shown}${known ? `: ${known.what}` : ''}.`,
    {
      likelyCauses: causes,
      nextSteps: [
        { action: 'retry', label: 'Retry in a moment.' },
        { action: 'check-dashboard', label: 'Check that the gateway and its tunnel or origin are running, and the zone\'s SSL settings.' }
      ],
      details: r.base,
      retryable: known?.retryable ?? true
    }
  )
}

// ---------------------------------------------------------------------------------------------
// Other origin answers

function originNotFound(r: ResponseFacts): AppError {
  return build(
    'ORIGIN_NOT_FOUND',
    'Nothing answered at this address',
    `The server behind ${r.host} answered the WebSocket upgrade with HTTP 404: the path is wrong or the route does not lead to the gateway.`,
    {
      likelyCauses: [
        'The path in the URL is wrong (the gateway accepts `/`).',
        'The tunnel ingress rule, Worker route or reverse proxy does not send this path to the gateway.',
        'The host serves a different site.'
      ],
      nextSteps: [{ action: 'check-url', label: 'Check the gateway URL in this profile; try the path `/`.' }],
      details: withNotes(r.base, [originMessage(r.json)])
    }
  )
}

function originUpgradeRequired(r: ResponseFacts): AppError {
  return build(
    'ORIGIN_UPGRADE_REQUIRED',
    'The server did not see a WebSocket upgrade',
    `The server behind ${r.host} answered HTTP 426 Upgrade Required: it received the request without the WebSocket upgrade.`,
    {
      likelyCauses: [
        'The URL points at an HTTP service that is not a WebSocket endpoint.',
        'A proxy in front of the gateway drops the Upgrade and Connection headers (for nginx: proxy_set_header Upgrade/Connection).'
      ],
      nextSteps: [
        { action: 'check-url', label: 'Check that the URL points at the gateway\'s WebSocket port.' },
        { action: 'retry', label: 'Enable WebSocket forwarding in the proxy in front of the gateway, then retry.' }
      ],
      details: r.base
    }
  )
}

function retryAfterMs(r: ResponseFacts): number | undefined {
  const value = r.get('retry-after')?.trim()
  if (!value) return undefined
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - (r.input.nowMs ?? Date.now()))
}

function rateLimited(r: ResponseFacts): AppError {
  const details: ErrorDetails = { ...r.base }
  const wait = retryAfterMs(r)
  if (wait !== undefined) details.retryAfterMs = wait
  const edge = r.cfCode === 1015 || (r.fromCloudflare && r.cloudflarePage)
  const after = wait !== undefined ? ` Try again in ${Math.ceil(wait / 1000)} s.` : ''
  return build(
    'ORIGIN_RATE_LIMITED',
    'Too many connection attempts',
    edge
      ? `A Cloudflare rate-limiting rule for ${r.host} refused the connection (HTTP 429).${after}`
      : `The gateway behind ${r.host} refused the connection because of too many attempts (HTTP 429).${after}`,
    {
      nextSteps: [{ action: 'wait', label: 'Wait before connecting again.' }],
      details: withNotes(details, [originMessage(r.json)]),
      retryable: true
    }
  )
}

function originUnavailable(r: ResponseFacts): AppError {
  const details: ErrorDetails = { ...r.base }
  const wait = retryAfterMs(r)
  if (wait !== undefined) details.retryAfterMs = wait
  const said = originMessage(r.json) ?? (!r.isHtml && !r.jsonish ? snippet(r.input.body) : undefined)
  if (said) details.gatewayMessage = said
  return build(
    'ORIGIN_UNAVAILABLE',
    'The gateway is not accepting connections yet',
    `The gateway behind ${r.host} answered HTTP 503: it is starting up or not admitting connections right now.`,
    {
      likelyCauses: ['The gateway is still starting.', 'The gateway is overloaded or shutting down.'],
      nextSteps: [
        { action: 'wait', label: 'Wait a few seconds; the app retries automatically.' },
        { action: 'retry', label: 'Retry now.' }
      ],
      details,
      retryable: true
    }
  )
}

function unexpectedStatus(r: ResponseFacts): AppError {
  const details: ErrorDetails = { ...r.base }
  const said = originMessage(r.json)
  if (said) details.gatewayMessage = said
  const causes: string[] = []
  if (r.status >= 200 && r.status < 300) {
    causes.push('The URL points at a web page, not at the gateway\'s WebSocket endpoint.')
    causes.push('A proxy in front of the gateway does not support WebSocket upgrades.')
  } else if (r.status === 400 && PLAIN_HTTP_ON_TLS_PORT.test(r.input.body ?? '')) {
    // The transport asks the port itself with a TLS hello; reaching here, the port did not
    // answer one, so the page came from further back: a proxy that sends plain HTTP onwards.
    causes.push('The server says plain HTTP reached its HTTPS port: a proxy in front of it forwards plain HTTP to a TLS upstream (point the proxy at the upstream\u2019s https:// address).')
    causes.push('The address should start with wss:// instead of ws://.')
  } else if (r.status === 400) {
    causes.push('A proxy in front of the gateway mangled the upgrade headers.')
    causes.push('The URL points at a service that is not the gateway.')
  } else if (r.status >= 500) {
    causes.push('The gateway or a proxy in front of it failed.')
  } else {
    causes.push('The URL points at a service that is not the gateway, or a proxy refused the request.')
  }
  return build(
    'UNEXPECTED_HTTP_STATUS',
    'Unexpected answer from the server',
    `The server behind ${r.host} answered the WebSocket upgrade with HTTP ${r.status} instead of opening the connection.`,
    {
      likelyCauses: causes,
      nextSteps: [
        { action: 'check-url', label: 'Check the gateway URL in this profile.' },
        { action: 'retry', label: 'Retry.' }
      ],
      details,
      retryable: r.status >= 500
    }
  )
}
