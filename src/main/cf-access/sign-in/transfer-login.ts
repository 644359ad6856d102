/**
 * Sign-in through the system browser, the way cloudflared does it (doc §6, "transfer flow").
 *
 * For when the embedded window cannot finish (the login page's verification keeps failing) and
 * for the CLI, which has no window at all:
 *
 * 1. make an ephemeral NaCl box key pair (Curve25519 + XSalsa20-Poly1305);
 * 2. open `https://<app-host>/cdn-cgi/access/cli?token=<public key>&aud=<AUD>&redirect_url=…
 *    &send_org_token=true&edge_token_transfer=true` in the user's browser, where they sign in to
 *    Access as usual and approve the "Access requested" page;
 * 3. meanwhile long-poll `https://login.cloudflareaccess.org/transfer/<public key>`: non-200
 *    answers below 500 mean "not yet", 500 and up is an error, and a 200 carries, base64-encoded,
 *    `nonce(24) || box` of the JSON `{"app_token":…,"org_token":…}`, sealed by the service's key
 *    given in the `service-public-key` header;
 * 4. open the box, and check the app token exactly as a captured cookie is checked
 *    (cookie-capture.ts: type `app`, AUD, validity).
 *
 * The AUD comes from the caller (a login redirect seen earlier) or is discovered from the edge:
 * the signed `cf-access-metadata` answer to a metadata HEAD, else the `kid` of the login redirect.
 *
 * Nothing of the browser side is trusted: the box either opens with our one-time key or the
 * answer is refused. Keys live for one attempt and are never written anywhere.
 */
import { gatewayOrigin } from './gateway-origin'
import https from 'node:https'
import { decodeJwt } from 'jose'
import nacl from 'tweetnacl'
import { appError, type AppError, type NextStep } from '../../../shared/errors'
import { parseAccessLoginRedirect } from '../login-redirect'
import { classifyNetworkError } from '../../transport/classify-network-error'
import { checkCapturedToken, type CapturedAppToken } from './cookie-capture'

/** The transfer service cloudflared polls. */
export const DEFAULT_TRANSFER_BASE_URL = 'https://login.cloudflareaccess.org/'
/** The same for FedRAMP accounts (`*.fed.cloudflareaccess.com` team domains). */
export const FED_TRANSFER_BASE_URL = 'https://login.fed.cloudflareaccess.org/'
/** Path of the edge page that starts the transfer on the app host. */
export const CLI_LOGIN_PATH = '/cdn-cgi/access/cli'

/** Defaults of the long poll (cloudflared: 60 s per request, up to 10 requests). */
export const POLL_TIMEOUT_MS = 60_000
export const MAX_POLLS = 10
export const TRANSFER_DEADLINE_MS = 10 * 60_000
export const MIN_POLL_INTERVAL_MS = 1_000

// --- Keys and URLs ------------------------------------------------------------------------------

/** An ephemeral box key pair; `publicKeyText` is how it travels (base64url with padding, as cloudflared sends it). */
export interface TransferKeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
  publicKeyText: string
}

/** A fresh key pair for one transfer. */
export function generateTransferKeyPair(): TransferKeyPair {
  const keys = nacl.box.keyPair()
  return { publicKey: keys.publicKey, secretKey: keys.secretKey, publicKeyText: encodeKey(keys.publicKey) }
}

/** base64url WITH `=` padding (Go's `base64.URLEncoding`). */
export function encodeKey(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('base64url')
  return text + '='.repeat((4 - (text.length % 4)) % 4)
}

/** Decode standard or URL-safe base64, padded or not; null when it is not base64 at all. */
export function decodeBase64(text: string): Uint8Array | null {
  const trimmed = text.trim()
  if (trimmed === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return null
  return new Uint8Array(Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64'))
}

/** The transfer service for a team domain: the FedRAMP one for `*.fed.cloudflareaccess.com`. */
export function transferBaseUrlFor(teamDomain: string | undefined): string {
  return teamDomain && /\.fed\.cloudflareaccess\.com$/i.test(teamDomain) ? FED_TRANSFER_BASE_URL : DEFAULT_TRANSFER_BASE_URL
}

/** `<base>/transfer/<public key>`; the key is base64url text, safe in a path as it is. */
export function transferPollUrl(baseUrl: string, publicKeyText: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`
  return `${base}transfer/${publicKeyText}`
}

/** Parts of the `/cdn-cgi/access/cli` URL. */
export interface CliLoginUrlInput {
  /** The gateway (`https://` or `wss://`). */
  gatewayUrl: string
  aud: string
  publicKeyText: string
  /** Ask the success page to close itself (default true). */
  closeInterstitial?: boolean
  /** Return the browser to the gateway's root rather than the given path (default true, as `cloudflared access login`). */
  hostOnly?: boolean
}

/**
 * Build `https://<app-host>/cdn-cgi/access/cli?…` as cloudflared does: the app URL's own query,
 * plus `token` and `aud`, then `redirect_url` (that same app URL), `send_org_token`,
 * `edge_token_transfer` and, optionally, `close_interstitial`. Null for a non-https gateway.
 */
export function buildCliLoginUrl(input: CliLoginUrlInput): string | null {
  let app: URL
  try {
    app = new URL(input.gatewayUrl.trim())
  } catch {
    return null
  }
  if (app.protocol !== 'https:' && app.protocol !== 'wss:') return null
  if (app.hostname === '' || app.username !== '' || app.password !== '') return null
  const base = new URL(`https://${app.host}${input.hostOnly === false ? app.pathname : '/'}${input.hostOnly === false ? app.search : ''}`)
  base.searchParams.set('token', input.publicKeyText)
  base.searchParams.set('aud', input.aud)
  const redirectUrl = base.toString()
  const cli = new URL(base.toString())
  cli.pathname = CLI_LOGIN_PATH
  cli.searchParams.set('redirect_url', redirectUrl)
  cli.searchParams.set('send_org_token', 'true')
  cli.searchParams.set('edge_token_transfer', 'true')
  if (input.closeInterstitial ?? true) cli.searchParams.set('close_interstitial', 'true')
  return cli.toString()
}

/** What the transfer service handed over, once opened. Secrets. */
export interface TransferTokens {
  appToken: string
  orgToken?: string
}

/** Why a transfer answer was refused. */
export type TransferOpenFailure = 'not-base64' | 'no-service-key' | 'too-short' | 'box-not-opened' | 'not-json' | 'no-app-token'

/**
 * Open a transfer answer: `body` is base64 of `nonce(24) || box`, `servicePublicKey` the
 * `service-public-key` header (base64url). Never throws; the failure names what was wrong, never
 * any content.
 */
export function openTransferPayload(
  body: string,
  servicePublicKey: string | undefined,
  secretKey: Uint8Array
): { ok: true; tokens: TransferTokens } | { ok: false; failure: TransferOpenFailure } {
  const sealed = decodeBase64(body)
  if (!sealed) return { ok: false, failure: 'not-base64' }
  const senderKey = servicePublicKey ? decodeBase64(servicePublicKey) : null
  if (!senderKey || senderKey.length !== nacl.box.publicKeyLength) return { ok: false, failure: 'no-service-key' }
  if (sealed.length < nacl.box.nonceLength + nacl.box.overheadLength) return { ok: false, failure: 'too-short' }
  const opened = nacl.box.open(sealed.subarray(nacl.box.nonceLength), sealed.subarray(0, nacl.box.nonceLength), senderKey, secretKey)
  if (!opened) return { ok: false, failure: 'box-not-opened' }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(opened).toString('utf8'))
  } catch {
    return { ok: false, failure: 'not-json' }
  }
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {}
  const appToken = typeof record.app_token === 'string' ? record.app_token.trim() : ''
  if (appToken === '') return { ok: false, failure: 'no-app-token' }
  const tokens: TransferTokens = { appToken }
  if (typeof record.org_token === 'string' && record.org_token.trim() !== '') tokens.orgToken = record.org_token.trim()
  return { ok: true, tokens }
}

// --- HTTP port --------------------------------------------------------------------------------

export interface HttpRequestOptions {
  method: 'GET' | 'HEAD'
  headers?: Record<string, string>
  timeoutMs: number
  signal?: AbortSignal
}

/** A response; header names in lower case, duplicates joined with `, `. */
export interface HttpResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** One HTTPS request, redirects NOT followed. Rejects with {@link HttpTimeoutError} when `timeoutMs` passes. */
export type HttpGet = (url: string, options: HttpRequestOptions) => Promise<HttpResponse>

/** The request took longer than its time limit. */
export class HttpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT'
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`)
    this.name = 'HttpTimeoutError'
  }
}

const MAX_BODY_BYTES = 1_000_000

/**
 * {@link HttpGet} over `node:https`. `ca` replaces the default roots (pass the app's trust store:
 * Node's roots + the OS store + a profile's CA file); without it Node's roots are used.
 */
export function nodeHttpGet(opts: { ca?: string[] } = {}): HttpGet {
  return (url, options) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const req = https.request(url, { method: options.method, headers: options.headers ?? {}, ...(opts.ca ? { ca: opts.ca } : {}), agent: false }, (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_BODY_BYTES) {
            req.destroy(new Error('answer too large'))
            return
          }
          chunks.push(chunk)
        })
        res.on('end', () => {
          clearTimeout(timer)
          const headers: Record<string, string> = {}
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
          }
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') })
        })
        res.on('error', reject)
      })
      // A limit on the whole request, not on idle time (`req.setTimeout`): a server that trickles
      // bytes must not stretch a deadline the user was given.
      const timer = setTimeout(() => req.destroy(new HttpTimeoutError(options.timeoutMs)), options.timeoutMs)
      req.on('close', () => clearTimeout(timer))
      const onAbort = () => req.destroy(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' }))
      if (options.signal) {
        if (options.signal.aborted) onAbort()
        else options.signal.addEventListener('abort', onAbort, { once: true })
        req.on('close', () => options.signal?.removeEventListener('abort', onAbort))
      }
      req.on('error', reject)
      req.end()
    })
}

// --- Application discovery ----------------------------------------------------------------------

/** The Access application in front of a gateway. */
export interface AccessAppInfo {
  aud: string
  appHost: string
  /** Team domain host (no port), when the edge named it. */
  teamDomain?: string
  source: 'metadata' | 'login-redirect'
}

/** Time limit of the whole discovery (metadata HEAD and login-redirect GET together). */
export const DISCOVERY_TIMEOUT_MS = 15_000

/** Options of {@link discoverAccessApp}. */
export interface DiscoverOptions {
  userAgent?: string
  /** One limit for the whole discovery, both requests included (default {@link DISCOVERY_TIMEOUT_MS}). */
  timeoutMs?: number
  signal?: AbortSignal
  now?: () => number
}

/**
 * Failures of the metadata HEAD that the GET would meet the same way (no such host, nothing
 * listening, no route, a certificate not trusted): discovery stops at once rather than repeat them.
 */
const CONNECTION_LEVEL = new Set(['DNS_NOT_FOUND', 'CONNECTION_REFUSED', 'NETWORK_UNREACHABLE', 'TLS_UNTRUSTED', 'TLS_EXPIRED', 'TLS_HOSTNAME_MISMATCH', 'TLS_ERROR', 'CANCELLED'])

/**
 * Find the AUD of the Access application in front of `gatewayUrl`: first the metadata HEAD
 * (`cf-access-metadata-request: true` → `cf-access-metadata` JWT of `type: "match"` whose
 * `hostname` is the dialled host), then an unauthenticated GET whose 302 names it (`kid`).
 * The metadata JWT is decoded without verification: it only picks which AUD the token must
 * carry; the token itself comes sealed to our key.
 *
 * Both requests share one time limit. The HEAD gets half of it: some servers and proxies never
 * answer a HEAD, or break the connection on one, and the GET must still have time to show
 * whether Access is in front.
 */
export async function discoverAccessApp(gatewayUrl: string, http: HttpGet, opts: DiscoverOptions = {}): Promise<{ ok: true; value: AccessAppInfo } | { ok: false; reason: 'invalid-url' | 'not-behind-access' | 'network'; error: AppError }> {
  const target = gatewayOrigin(gatewayUrl)
  if (!target) return { ok: false, reason: 'invalid-url', error: invalidUrl() }
  const now = opts.now ?? Date.now
  const timeoutMs = Math.max(1, opts.timeoutMs ?? DISCOVERY_TIMEOUT_MS)
  const started = now()
  const headers = { 'user-agent': opts.userAgent ?? DEFAULT_USER_AGENT }
  const signal = opts.signal ? { signal: opts.signal } : {}
  // Reported on a timeout: the limit the user was promised, whichever request used it up.
  const networkError = (err: unknown) => ({ ok: false as const, reason: 'network' as const, error: classifyNetworkError(err, { host: target.host, port: target.port, timeoutMs }) })

  try {
    const head = await http(`${target.origin}/`, { ...signal, timeoutMs: Math.max(1, Math.floor(timeoutMs / 2)), method: 'HEAD', headers: { ...headers, 'cf-access-metadata-request': 'true' } })
    const metadata = head.headers['cf-access-metadata']
    if (head.status === 200 && metadata) {
      const info = readMetadata(metadata, target.host)
      if (info) return { ok: true, value: info }
    }
  } catch (err) {
    if (opts.signal?.aborted || CONNECTION_LEVEL.has(classifyNetworkError(err, { host: target.host, port: target.port }).code)) return networkError(err)
    // No answer to the HEAD, or a broken one: the login redirect of the GET still tells.
  }

  const remaining = timeoutMs - (now() - started)
  if (remaining <= 0) return networkError(new HttpTimeoutError(timeoutMs))
  let get: HttpResponse
  try {
    get = await http(`${target.origin}/`, { ...signal, timeoutMs: remaining, method: 'GET', headers: { ...headers, accept: 'text/html' } })
  } catch (err) {
    return networkError(err)
  }
  const location = get.headers.location
  const redirect = get.status >= 300 && get.status < 400 && location ? parseAccessLoginRedirect(location, `${target.origin}/`) : null
  if (redirect?.aud && /^[0-9a-f]{64}$/i.test(redirect.aud)) {
    return { ok: true, value: { aud: redirect.aud.toLowerCase(), appHost: target.host, teamDomain: redirect.teamDomain, source: 'login-redirect' } }
  }
  return {
    ok: false,
    reason: 'not-behind-access',
    error: appError('INVALID_INPUT', 'No Cloudflare Access application found', `The gateway at ${target.host} did not answer like an application behind Cloudflare Access (HTTP ${get.status} without a login redirect), so there is nothing to sign in to.`, {
      details: { httpStatus: get.status, host: target.host },
      nextSteps: [{ action: 'check-url', label: 'Check the gateway address, or set Cloudflare Access to none for this gateway.' }]
    })
  }
}

function readMetadata(jwt: string, host: string): AccessAppInfo | null {
  let claims: Record<string, unknown>
  try {
    claims = decodeJwt(jwt.trim()) as Record<string, unknown>
  } catch {
    return null
  }
  if (claims.type !== 'match' || typeof claims.aud !== 'string' || !/^[0-9a-f]{64}$/i.test(claims.aud)) return null
  if (typeof claims.hostname !== 'string' || claims.hostname.toLowerCase() !== host) return null
  const info: AccessAppInfo = { aud: claims.aud.toLowerCase(), appHost: host, source: 'metadata' }
  if (typeof claims.auth_domain === 'string' && /^[a-z0-9.-]+$/i.test(claims.auth_domain)) info.teamDomain = claims.auth_domain.toLowerCase()
  return info
}

// --- The flow ---------------------------------------------------------------------------------------

const DEFAULT_USER_AGENT = 'AetherRemote (access-transfer)'

/** Options of {@link runTransferLogin}. */
export interface TransferLoginOptions {
  /** The gateway (`wss://` or `https://`). */
  gatewayUrl: string
  /** The application AUD when known; discovered from the edge otherwise. */
  aud?: string
  /** Open a URL in the user's browser (Electron `shell.openExternal`, or the OS opener in the CLI). */
  openExternal(url: string): Promise<unknown> | unknown
  /** Told the login URL and whether it could be opened (the CLI prints it either way). */
  onLoginUrl?(url: string, opened: boolean): void
  /** HTTPS client (default {@link nodeHttpGet} with Node's roots). */
  http?: HttpGet
  /** Transfer service base URL (default per team domain: {@link transferBaseUrlFor}). */
  transferBaseUrl?: string
  /** Where `transferBaseUrl` came from when the user set it (e.g. `AETHER_CF_TRANSFER_URL`), named when it cannot be reached. */
  transferBaseUrlFrom?: string
  closeInterstitial?: boolean
  pollTimeoutMs?: number
  maxPolls?: number
  /** Limit of the whole sign-in, discovery included, counted from `startedAtMs`. */
  deadlineMs?: number
  /** When the caller's limit started (default: when this call starts), so time it spent before counts too. */
  startedAtMs?: number
  minPollIntervalMs?: number
  minValiditySec?: number
  skewSec?: number
  userAgent?: string
  signal?: AbortSignal
  now?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** For tests: a fixed key pair. */
  keyPair?: TransferKeyPair
}

/** A completed transfer sign-in. Holds secrets (`token`, `orgToken`): keychain only. */
export interface TransferSignedIn extends CapturedAppToken {
  aud: string
  /** The team-domain (`type: "org"`) session token, when the service sent one. */
  orgToken?: string
  teamDomain?: string
}

export type TransferFailure =
  | 'invalid-url'
  | 'not-behind-access'
  | 'network'
  | 'cancelled'
  | 'timeout'
  | 'transfer-error'
  | 'undecryptable'
  | 'token-rejected'

export type TransferLoginResult = { ok: true; value: TransferSignedIn } | { ok: false; reason: TransferFailure; error: AppError }

/** Run the whole system-browser sign-in: discover, open the browser, long-poll, open, check. */
export async function runTransferLogin(opts: TransferLoginOptions): Promise<TransferLoginResult> {
  const http = opts.http ?? nodeHttpGet()
  const now = opts.now ?? Date.now
  const sleep = opts.sleep ?? abortableSleep
  const userAgent = opts.userAgent ?? DEFAULT_USER_AGENT
  const signal = opts.signal
  const target = gatewayOrigin(opts.gatewayUrl)
  if (!target) return { ok: false, reason: 'invalid-url', error: invalidUrl() }
  if (signal?.aborted) return cancelled()
  const deadlineMs = opts.deadlineMs ?? TRANSFER_DEADLINE_MS
  const started = opts.startedAtMs ?? now()
  const timedOut = (): TransferLoginResult => ({
    ok: false,
    reason: 'timeout',
    error: appError('TIMEOUT', 'Browser sign-in not completed', `No sign-in arrived from the browser within ${describeWait(now() - started)}.`, {
      details: { timeoutMs: deadlineMs, host: target.host },
      nextSteps: [{ action: 'sign-in-email', label: 'Run the browser sign-in again and approve the "Access requested" page.' }],
      retryable: true
    })
  })

  let aud = opts.aud?.trim().toLowerCase() || undefined
  let teamDomain: string | undefined
  if (!aud) {
    const left = deadlineMs - (now() - started)
    const found = await discoverAccessApp(opts.gatewayUrl, http, { userAgent, now, timeoutMs: Math.min(DISCOVERY_TIMEOUT_MS, Math.max(1, left)), ...(signal ? { signal } : {}) })
    if (!found.ok) return signal?.aborted ? cancelled() : found
    aud = found.value.aud
    teamDomain = found.value.teamDomain
  }
  // Nothing left of the limit: better said now than after sending the user to a browser.
  if (deadlineMs - (now() - started) <= 0) return timedOut()

  const keys = opts.keyPair ?? generateTransferKeyPair()
  const loginUrl = buildCliLoginUrl({ gatewayUrl: opts.gatewayUrl, aud, publicKeyText: keys.publicKeyText, closeInterstitial: opts.closeInterstitial ?? true })
  if (!loginUrl) return { ok: false, reason: 'invalid-url', error: invalidUrl() }

  let opened = true
  try {
    await opts.openExternal(loginUrl)
  } catch {
    opened = false
  }
  opts.onLoginUrl?.(loginUrl, opened)

  const baseUrl = opts.transferBaseUrl ?? transferBaseUrlFor(teamDomain)
  const pollUrl = transferPollUrl(baseUrl, keys.publicKeyText)
  const pollHost = hostAndPort(pollUrl)
  const pollTimeoutMs = opts.pollTimeoutMs ?? POLL_TIMEOUT_MS
  const maxPolls = opts.maxPolls ?? MAX_POLLS
  const minInterval = opts.minPollIntervalMs ?? MIN_POLL_INTERVAL_MS

  for (let poll = 0; poll < maxPolls; poll++) {
    if (signal?.aborted) return cancelled()
    const remaining = deadlineMs - (now() - started)
    if (remaining <= 0) break
    const pollStarted = now()
    let response: HttpResponse | undefined
    try {
      response = await http(pollUrl, { method: 'GET', headers: { 'user-agent': userAgent }, timeoutMs: Math.min(pollTimeoutMs, remaining), ...(signal ? { signal } : {}) })
    } catch (err) {
      if (signal?.aborted) return cancelled()
      if (!(err instanceof HttpTimeoutError)) {
        return { ok: false, reason: 'network', error: transferServiceUnreachable(classifyNetworkError(err, { host: pollHost.host, port: pollHost.port, timeoutMs: pollTimeoutMs }), baseUrl, opts.transferBaseUrlFrom) }
      }
      // A long poll that ran out of time: the user has not finished yet.
    }
    if (response) {
      if (response.status >= 500) return { ok: false, reason: 'transfer-error', error: transferServiceError(response.status, pollHost.host) }
      if (response.status === 200 && response.body.trim() !== '') {
        const opened = openTransferPayload(response.body, response.headers['service-public-key'], keys.secretKey)
        if (!opened.ok) return { ok: false, reason: 'undecryptable', error: undecryptable(opened.failure) }
        const checked = checkCapturedToken(
          { token: { name: 'CF_Authorization', value: opened.tokens.appToken } },
          { appHost: target.host, expectedAud: aud },
          { nowMs: now(), ...(opts.minValiditySec !== undefined ? { minValiditySec: opts.minValiditySec } : {}), ...(opts.skewSec !== undefined ? { skewSec: opts.skewSec } : {}) }
        )
        if (checked.status !== 'captured') {
          const error = checked.status === 'rejected' ? checked.error : undecryptable('no-app-token')
          return { ok: false, reason: 'token-rejected', error }
        }
        const value: TransferSignedIn = { ...checked.capture, aud }
        if (opened.tokens.orgToken) value.orgToken = opened.tokens.orgToken
        if (teamDomain) value.teamDomain = teamDomain
        return { ok: true, value }
      }
    }
    const elapsed = now() - pollStarted
    if (elapsed < minInterval) {
      try {
        await sleep(minInterval - elapsed, signal)
      } catch {
        return cancelled()
      }
    }
  }
  if (signal?.aborted) return cancelled()
  return timedOut()
}

function describeWait(ms: number): string {
  const sec = Math.max(1, Math.round(ms / 1000))
  if (sec < 120) return `${sec} seconds`
  return `${Math.round(sec / 60)} minutes`
}


function hostAndPort(url: string): { host: string; port: number } {
  try {
    const parsed = new URL(url)
    return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : 443 }
  } catch {
    return { host: url, port: 443 }
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('aborted'))
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(new Error('aborted'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function invalidUrl(): AppError {
  return appError('INVALID_URL', 'Not an https gateway address', 'Cloudflare Access sign-in needs the gateway\'s https:// or wss:// address.', {
    nextSteps: [{ action: 'check-url', label: 'Use the gateway\'s wss:// or https:// address.' }]
  })
}

function cancelled(): TransferLoginResult {
  return { ok: false, reason: 'cancelled', error: appError('CANCELLED', 'Sign-in cancelled', 'The browser sign-in was cancelled before a token arrived.') }
}

function transferServiceError(status: number, host: string): AppError {
  return appError('CLOUDFLARE_ERROR', 'The Access transfer service failed', `The Cloudflare Access transfer service answered HTTP ${status} while waiting for the browser sign-in.`, {
    details: { httpStatus: status, host },
    nextSteps: [{ action: 'retry', label: 'Try the browser sign-in again in a minute.' }],
    retryable: true
  })
}

/**
 * The transfer service could not be reached. The classifier words its errors for the gateway
 * ("Check the host name in the gateway URL"), but the gateway already answered: what failed is
 * the path to the transfer service, so the error says that and keeps only the classified code
 * (for the exit code and the UI) and the system facts.
 */
function transferServiceUnreachable(classified: AppError, baseUrl: string, from: string | undefined): AppError {
  const service = hostAndPort(baseUrl)
  const where = service.port === 443 ? service.host : `${service.host}:${service.port}`
  const setBy = from ? ` (set by ${from})` : ''
  const tls = classified.code.startsWith('TLS_')
  // Worded here: the classifier's own sentences speak of "the gateway".
  const systemCode = classified.details?.systemCode
  const what =
    classified.code === 'DNS_NOT_FOUND' ? `the name ${service.host} could not be found in DNS`
    : classified.code === 'CONNECTION_REFUSED' ? `nothing is listening on ${service.host}:${service.port}`
    : classified.code === 'NETWORK_UNREACHABLE' ? `this computer has no route to ${service.host}:${service.port}`
    : classified.code === 'CONNECTION_RESET' ? 'the connection was closed before an answer'
    : classified.code === 'TIMEOUT' ? 'the connection was not set up in time'
    : tls ? `its certificate was not accepted (${lowerFirst(classified.title)})`
    : `the connection failed${systemCode ? ` (${systemCode})` : ''}`
  const likelyCauses = [
    ...(from ? [`${from} names a service that does not exist, is not running, or is misspelled.`] : []),
    tls
      ? `A proxy that inspects TLS sits between this computer and ${where}, and its certificate is not trusted.`
      : `This computer cannot reach ${where}: it is offline, or a proxy or firewall blocks that host.`,
    ...(from ? [] : ['A DNS filter or VPN blocks Cloudflare Access hosts.'])
  ]
  const nextSteps: NextStep[] = [
    { action: 'check-network', label: `Check that this computer can reach https://${where}/ through its network, proxy and firewall.` },
    ...(from ? [{ action: 'check-url' as const, label: `Check ${from}, or unset it to use Cloudflare's transfer service.` }] : []),
    ...(tls ? [{ action: 'add-ca-file' as const, label: 'If a proxy inspects TLS, add its CA certificate as the gateway\'s CA file.' }] : []),
    { action: 'retry', label: 'Run the browser sign-in again.' }
  ]
  return appError(classified.code, 'Token transfer service not reachable', `The browser sign-in could not reach the Cloudflare Access token transfer service at ${where}${setBy}, so it cannot receive the token: ${what}.`, {
    likelyCauses,
    nextSteps,
    details: { ...classified.details, host: service.host, port: service.port, check: 'transfer-service' },
    retryable: true
  })
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1)
}

function undecryptable(failure: TransferOpenFailure): AppError {
  return appError('CLOUDFLARE_ERROR', 'The browser sign-in could not be read', 'The answer of the Cloudflare Access transfer service could not be opened with this sign-in\'s key, so it was refused.', {
    details: { check: `transfer-${failure}` },
    nextSteps: [{ action: 'retry', label: 'Run the browser sign-in again.' }]
  })
}
