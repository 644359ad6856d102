import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import nacl from 'tweetnacl'
import type { AccessOutcome } from './app-host'
import { ACCESS_NO_CACHE_HEADERS, plainEdgeResponse } from './edge-pages'
import type { EdgeState, LoginIdentity } from './edge-state'
import { escapeHtml, headerValue, parseCookies, type EdgeResponse } from './http-util'
import { admitsIdentity } from './policies'
import type { JwtPayload } from './signing-keys'
import type { ResolvedAccessApp } from './types'

// cloudflared's browser login (doc §6): the app-host page `/cdn-cgi/access/cli` and the transfer service.
//
//   GET https://<app>/cdn-cgi/access/cli?token=<box public key>&aud=<AUD>&redirect_url=…&send_org_token=true
//       &edge_token_transfer=true[&close_interstitial=true]
//       no app credential → the usual 302 to the team login (which comes back here afterwards);
//       signed in        → the "Access requested" interstitial (skipped with `skipInterstitial`);
//       `&approve=<nonce>` from the interstitial's form → seals {app_token, org_token} for the key.
//   GET https://<transfer host>/transfer/<public key>
//       long poll: held up to `holdMs`, then 404 (cloudflared keeps polling on any non-200 below 500);
//       200 once approved: body = base64(nonce(24) || box), header `service-public-key` = base64url
//       of the service's one-time key. Delivered once.
//
// The interstitial's internals are undocumented; this emulator approves with a GET form carrying a
// one-time nonce. Tests without a browser approve with `emu.transfer.approve({ email })`.

export const CLI_PATH = '/cdn-cgi/access/cli'
export const TRANSFER_PATH_PREFIX = '/transfer/'
/** Default host of the emulated transfer service (real: `login.cloudflareaccess.org`, which test hosts do not map). */
export const DEFAULT_TRANSFER_HOST = 'login-helper.aether.test'
const DEFAULT_HOLD_MS = 20_000

export interface TransferServiceOptions {
  /** Host name the transfer service answers on (same listener and port as the edge). */
  host?: string
  /** How long a poll is held before the "not yet" 404. */
  holdMs?: number
  /** App option "automatic cloudflared authentication": no interstitial, approve as soon as signed in. */
  skipInterstitial?: boolean
}

/** A transfer the `cli` page registered, as tests see it. */
export interface PendingTransferInfo {
  publicKey: string
  host: string
  aud: string
  createdAt: number
  state: 'pending' | 'ready' | 'delivered'
  /** Who approved it. */
  email: string | null
  sendOrgToken: boolean
  closeInterstitial: boolean
}

interface PendingTransfer extends PendingTransferInfo {
  approveNonce: string
}

interface SealedAnswer {
  body: string
  servicePublicKey: string
}

/** Decodes a box public key as cloudflared sends it (base64url, padded or not); null unless 32 bytes. */
export function decodeBoxPublicKey(text: string): Uint8Array | null {
  const trimmed = text.trim()
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(trimmed)) return null
  const bytes = Buffer.from(trimmed.replace(/=+$/, ''), 'base64url')
  return bytes.length === nacl.box.publicKeyLength ? new Uint8Array(bytes) : null
}

/** Seals `payload` for `recipientPublicKey` with a fresh service key: what the transfer service answers. */
export function sealTransferPayload(payload: unknown, recipientPublicKey: Uint8Array): SealedAnswer {
  const service = nacl.box.keyPair()
  const nonce = nacl.randomBytes(nacl.box.nonceLength)
  const box = nacl.box(new Uint8Array(Buffer.from(JSON.stringify(payload), 'utf8')), nonce, recipientPublicKey, service.secretKey)
  const sealed = Buffer.concat([Buffer.from(nonce), Buffer.from(box)])
  const servicePublicKey = Buffer.from(service.publicKey).toString('base64url')
  return { body: sealed.toString('base64'), servicePublicKey: servicePublicKey + '='.repeat((4 - (servicePublicKey.length % 4)) % 4) }
}

/** State of the emulated transfer service plus the `cli` page's bookkeeping. */
export class TransferService {
  readonly host: string
  holdMs: number
  skipInterstitial: boolean
  /** When set, every poll is answered with this status at once (e.g. 500 or 503). */
  failStatus: number | null = null
  private readonly transfers = new Map<string, PendingTransfer>()
  private readonly answers = new Map<string, SealedAnswer>()
  private readonly waiters = new Map<string, Set<() => void>>()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(
    private readonly edge: EdgeState,
    options: TransferServiceOptions = {}
  ) {
    this.host = (options.host ?? DEFAULT_TRANSFER_HOST).toLowerCase()
    this.holdMs = options.holdMs ?? DEFAULT_HOLD_MS
    this.skipInterstitial = options.skipInterstitial ?? false
  }

  get baseUrl(): string {
    return `${this.edge.originOf(this.host)}/`
  }

  get pending(): readonly PendingTransferInfo[] {
    return [...this.transfers.values()].map(({ approveNonce: _nonce, ...info }) => ({ ...info }))
  }

  /** Called by the `cli` page; idempotent per key (the page is visited again after the login). */
  register(publicKey: string, app: ResolvedAccessApp, options: { sendOrgToken: boolean; closeInterstitial: boolean }): PendingTransfer {
    const existing = this.transfers.get(publicKey)
    if (existing) return existing
    const transfer: PendingTransfer = {
      publicKey,
      host: app.host,
      aud: app.aud,
      createdAt: this.edge.clock.now(),
      state: 'pending',
      email: null,
      sendOrgToken: options.sendOrgToken,
      closeInterstitial: options.closeInterstitial,
      approveNonce: randomBytes(16).toString('hex')
    }
    this.transfers.set(publicKey, transfer)
    return transfer
  }

  /** Mints the identity's app (and org) token and seals them for the transfer's key. */
  approveFor(transfer: PendingTransfer, identity: LoginIdentity): void {
    if (transfer.state !== 'pending') throw new Error(`transfer ${transfer.publicKey} is already ${transfer.state}`)
    const app = this.edge.appFor(transfer.host)
    if (!app) throw new Error(`no emulated app for host ${transfer.host}`)
    const key = decodeBoxPublicKey(transfer.publicKey)
    if (!key) throw new Error('transfer key is not a box public key')
    const appToken = this.edge.sign(this.edge.identityTokenPayload(identity, app.aud, 'app', app.sessionDurationSec))
    const payload: Record<string, string> = { app_token: appToken }
    if (transfer.sendOrgToken) payload.org_token = this.edge.sign(this.edge.identityTokenPayload(identity, this.edge.orgAud, 'org', this.edge.settings.globalSessionDurationSec))
    this.answers.set(transfer.publicKey, sealTransferPayload(payload, key))
    transfer.state = 'ready'
    transfer.email = identity.email
    for (const wake of this.waiters.get(transfer.publicKey) ?? []) wake()
  }

  /**
   * Test helper: what the browser side does once `email` signed in and approved. Takes the
   * transfer of `publicKey`, else the most recent pending one. Throws when no app policy admits
   * the address (a real login would end on the 403 page, and the poll would just time out).
   */
  approve(options: { email: string; publicKey?: string }): PendingTransferInfo {
    const transfer = options.publicKey
      ? this.transfers.get(options.publicKey)
      : [...this.transfers.values()].filter((t) => t.state === 'pending').sort((a, b) => b.createdAt - a.createdAt)[0]
    if (!transfer) throw new Error(options.publicKey ? `no transfer registered for key ${options.publicKey}` : 'no pending transfer: the cli page was not visited')
    const app = this.edge.appFor(transfer.host)
    if (!app || !admitsIdentity(app.policies, CLI_PATH, options.email)) throw new Error(`${options.email} is not allowed to access ${transfer.host}`)
    this.approveFor(transfer, this.edge.newIdentity(options.email))
    const { approveNonce: _nonce, ...info } = transfer
    return { ...info }
  }

  /** Answer one request to the transfer host; resolves with null when the client went away while held. */
  async poll(req: IncomingMessage, res: ServerResponse): Promise<{ response: EdgeResponse; reason: string } | null> {
    const pathname = new URL(req.url ?? '/', 'https://edge.invalid').pathname
    if ((req.method ?? 'GET') !== 'GET' || !pathname.startsWith(TRANSFER_PATH_PREFIX)) return { response: plainEdgeResponse(404, 'Not Found'), reason: 'transfer-unknown-path' }
    let publicKey: string
    try {
      publicKey = decodeURIComponent(pathname.slice(TRANSFER_PATH_PREFIX.length))
    } catch {
      return { response: plainEdgeResponse(400, 'Bad Request'), reason: 'transfer-bad-key' }
    }
    if (this.failStatus !== null) return { response: plainEdgeResponse(this.failStatus, 'Transfer service failure'), reason: `transfer-failure-${this.failStatus}` }
    if (!decodeBoxPublicKey(publicKey)) return { response: plainEdgeResponse(400, 'Bad Request'), reason: 'transfer-bad-key' }
    if (!this.answers.has(publicKey)) {
      const outcome = await this.hold(publicKey, res)
      if (outcome === 'gone') return null
    }
    const answer = this.answers.get(publicKey)
    if (!answer) return { response: plainEdgeResponse(404, 'Not Found'), reason: 'transfer-waiting' }
    this.answers.delete(publicKey)
    const transfer = this.transfers.get(publicKey)
    if (transfer) transfer.state = 'delivered'
    return {
      response: { status: 200, headers: { 'content-type': 'text/plain', 'service-public-key': answer.servicePublicKey, ...ACCESS_NO_CACHE_HEADERS }, body: answer.body },
      reason: 'transfer-delivered'
    }
  }

  private hold(publicKey: string, res: ServerResponse): Promise<'ready' | 'timeout' | 'gone'> {
    return new Promise((resolve) => {
      let waiters = this.waiters.get(publicKey)
      if (!waiters) {
        waiters = new Set()
        this.waiters.set(publicKey, waiters)
      }
      const done = (outcome: 'ready' | 'timeout' | 'gone') => {
        clearTimeout(timer)
        this.timers.delete(timer)
        waiters.delete(wake)
        if (waiters.size === 0) this.waiters.delete(publicKey)
        res.removeListener('close', onClose)
        resolve(outcome)
      }
      const wake = () => done('ready')
      const onClose = () => done('gone')
      const timer = setTimeout(() => done('timeout'), this.holdMs)
      this.timers.add(timer)
      waiters.add(wake)
      res.on('close', onClose)
    })
  }

  /** Ends every held poll (emulator shutdown). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const waiters of this.waiters.values()) for (const wake of [...waiters]) wake()
    this.waiters.clear()
  }
}

const services = new WeakMap<EdgeState, TransferService>()

/** Registers the transfer service of an edge (emulator start-up). */
export function attachTransferService(edge: EdgeState, service: TransferService): void {
  services.set(edge, service)
}

export function transferServiceOf(edge: EdgeState): TransferService | undefined {
  return services.get(edge)
}

/** What the `cli` page borrows from app-host.ts (passed in to keep the modules free of an import cycle). */
export interface CliPageHelpers {
  checkAppToken(edge: EdgeState, app: ResolvedAccessApp, token: string, pathname: string): { kind: 'absent' } | { kind: 'invalid'; reason: string } | { kind: 'valid'; token: string; payload: JwtPayload }
  loginRedirect(edge: EdgeState, app: ResolvedAccessApp, host: string, pathAndQuery: string, rayId: string): EdgeResponse
  bindingMatches(edge: EdgeState, token: string, binding: string | undefined): boolean
}

const HTML = { 'content-type': 'text/html; charset=utf-8', ...ACCESS_NO_CACHE_HEADERS }

function page(title: string, inner: string): EdgeResponse {
  return { status: 200, headers: HTML, body: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main>${inner}</main></body></html>` }
}

function respond(response: EdgeResponse, reason: string, email: string | null = null, decision: 'edge-endpoint' | 'login-redirect' = 'edge-endpoint'): AccessOutcome {
  return { kind: 'respond', response, decision, reason, principal: email ? { kind: 'identity', email } : null }
}

/** The identity of a request's valid app credential (cookie + binding, or `cf-access-token`), or null. */
function signedInIdentity(edge: EdgeState, req: IncomingMessage, app: ResolvedAccessApp, helpers: CliPageHelpers): LoginIdentity | null {
  const cookies = parseCookies(headerValue(req.headers, 'cookie') ?? undefined)
  const candidates: { token: string; binding: string | undefined; fromCookie: boolean }[] = []
  const headerToken = headerValue(req.headers, 'cf-access-token')
  if (headerToken) candidates.push({ token: headerToken.trim(), binding: undefined, fromCookie: false })
  const cookieToken = cookies.get('CF_Authorization')
  if (cookieToken) candidates.push({ token: cookieToken, binding: cookies.get('CF_Binding'), fromCookie: true })
  for (const candidate of candidates) {
    const check = helpers.checkAppToken(edge, app, candidate.token, CLI_PATH)
    if (check.kind !== 'valid') continue
    if (candidate.fromCookie && app.bindingCookie && !helpers.bindingMatches(edge, candidate.token, candidate.binding)) continue
    const { email, sub, identity_nonce: identityNonce } = check.payload
    if (typeof email === 'string' && email !== '' && typeof sub === 'string' && typeof identityNonce === 'string') return { email, sub, identityNonce }
  }
  return null
}

/** `GET /cdn-cgi/access/cli` on an app host. */
export function cliEndpoint(edge: EdgeState, req: IncomingMessage, app: ResolvedAccessApp, host: string, rayId: string, url: URL, helpers: CliPageHelpers): AccessOutcome {
  const service = transferServiceOf(edge)
  if (!service) return respond(plainEdgeResponse(404, 'Not Found'), 'cli-no-transfer-service')
  if ((req.method ?? 'GET') !== 'GET' && req.method !== 'HEAD') return respond(plainEdgeResponse(405, 'Method Not Allowed'), 'cli-method')
  const params = url.searchParams
  const publicKey = params.get('token') ?? ''
  if (!decodeBoxPublicKey(publicKey)) return respond(plainEdgeResponse(400, 'Bad Request'), 'cli-bad-key')
  if (params.get('aud') !== app.aud) return respond(plainEdgeResponse(400, 'Bad Request'), 'cli-aud-mismatch')
  if (params.get('edge_token_transfer') !== 'true') return respond(plainEdgeResponse(400, 'Bad Request'), 'cli-legacy-transfer-unsupported')
  const transfer = service.register(publicKey, app, { sendOrgToken: params.get('send_org_token') === 'true', closeInterstitial: params.get('close_interstitial') === 'true' })

  const identity = signedInIdentity(edge, req, app, helpers)
  if (!identity) return respond(helpers.loginRedirect(edge, app, host, req.url ?? CLI_PATH, rayId), 'cli-login-required', null, 'login-redirect')

  if (transfer.state !== 'pending') return respond(successPage(transfer.closeInterstitial), 'cli-already-approved', identity.email)
  const approve = params.get('approve')
  if (service.skipInterstitial || (approve !== null && approve === transfer.approveNonce)) {
    service.approveFor(transfer, identity)
    return respond(successPage(transfer.closeInterstitial), 'cli-approved', identity.email)
  }
  const hidden = [...params.entries()]
    .filter(([name]) => name !== 'approve')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n')
  return respond(
    page(
      'Access requested ・ Cloudflare Access',
      `<h1>Access requested</h1>
<p>An application on your computer asks to sign in to ${escapeHtml(app.host)} as ${escapeHtml(identity.email)}.</p>
<form method="GET" action="${CLI_PATH}">
${hidden}
<input type="hidden" name="approve" value="${transfer.approveNonce}">
<button type="submit">Approve</button>
</form>`
    ),
    'cli-interstitial',
    identity.email
  )
}

function successPage(closeInterstitial: boolean): EdgeResponse {
  return page(
    'Success ・ Cloudflare Access',
    `<h1>Success</h1><p>The application on your computer is now signed in. You can close this window.</p>${closeInterstitial ? '<script>window.close()</script>' : ''}`
  )
}
