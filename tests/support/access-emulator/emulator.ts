import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import tls, { type SecureContext } from 'node:tls'
import { evaluateAppRequest, type AccessOutcome } from './app-host'
import { TestPki } from './certificates'
import { createClock, epochSeconds } from './clock'
import { edgeErrorResponse, plainEdgeResponse, unknownHostResponse } from './edge-pages'
import { EdgeState, resolveApp } from './edge-state'
import { hostWithoutPort, newRayId, sendEdgeResponse, writeRawResponse, type EdgeResponse } from './http-util'
import { AccessSigningKeys, signJwt } from './signing-keys'
import { teamDomainEndpoint } from './team-domain'
import { attachTransferService, TransferService, type PendingTransferInfo, type TransferServiceOptions } from './transfer-service'
import type {
  AccessAppConfig,
  AccessEmulatorClock,
  AccessEmulatorConfig,
  EdgeRequestRecord,
  IssueAppTokenOptions,
  OutboxMessage,
  ResolvedAccessApp,
  ServiceTokenCredentials,
  UpstreamRequestRecord
} from './types'
import { proxyHttp, proxyUpgrade, type ForwardPlan } from './upstream-proxy'

export interface AccessEmulator {
  /** Port of the single HTTPS listener on 127.0.0.1 serving the team domain and every app host. */
  readonly port: number
  /** PEM file of the test CA (trust it with `ca:` or NODE_EXTRA_CA_CERTS). */
  readonly caFile: string
  readonly caCertPem: string
  /** `<team>.cloudflareaccess.com` */
  readonly teamDomain: string
  /** `https://<team>.cloudflareaccess.com:<port>` */
  readonly teamUrl: string
  /** `https` or `wss` URL of an app host including `:port`. */
  appUrl(host: string, path?: string, scheme?: 'https' | 'wss'): string
  /** Current configuration of an app, defaults applied (incl. the generated `aud`). */
  app(host: string): ResolvedAccessApp
  /** Changes app modes at run time (policies, tls, waf, edgeError, …). */
  update(host: string, changes: Partial<Omit<AccessAppConfig, 'host'>>): ResolvedAccessApp
  createServiceToken(options?: { name?: string; durationSec?: number }): ServiceTokenCredentials
  revokeServiceToken(clientId: string): void
  /** Signs an app token (or `type:"org"`) the way the edge does; every claim can be bent for negative tests. */
  issueAppToken(options: IssueAppTokenOptions): string
  /** `CF_Binding` value that accompanies a given `CF_Authorization` token on apps with `bindingCookie`. */
  bindingCookieFor(token: string): string
  /** Current key becomes previous (accepted 7 more days on the emulator clock), a new current key is made. */
  rotateKeys(): Promise<void>
  readonly signingKeyIds: { readonly current: string; readonly previous: string }
  readonly clock: AccessEmulatorClock
  /** OTP codes "mailed" to addresses an Allow policy permits. */
  readonly outbox: readonly OutboxMessage[]
  /** Every request the edge saw, with its decision. */
  readonly requests: readonly EdgeRequestRecord[]
  /** Every request the origin(s) received from the edge, with headers as sent. */
  readonly upstreamRequests: readonly UpstreamRequestRecord[]
  /** cloudflared's browser login (§6): the `/cdn-cgi/access/cli` page's transfers and the long-poll service. */
  readonly transfer: EmulatedTransferService
  /** Empties `requests`, `upstreamRequests` and `outbox`. */
  clearLogs(): void
  close(): Promise<void>
}

/** The emulated transfer service (see transfer-service.ts). */
export interface EmulatedTransferService {
  /** Host it answers on, e.g. `login-helper.aether.test`. */
  readonly host: string
  /** `https://<host>:<port>/`: the base URL a client polls `transfer/<public key>` under. */
  readonly baseUrl: string
  /** Transfers the `cli` page registered. */
  readonly pending: readonly PendingTransferInfo[]
  /** As if `email` signed in and approved the "Access requested" page: seals the tokens for the transfer's key. */
  approve(options: { email: string; publicKey?: string }): PendingTransferInfo
  /** How long a poll is held before the "not yet" 404. */
  holdMs: number
  /** Approve as soon as the user is signed in (app option "automatic cloudflared authentication"). */
  skipInterstitial: boolean
  /** When set, every poll gets this status at once (e.g. 503). */
  failStatus: number | null
}

const DAY_SEC = 86_400

/** Starts the emulated edge: test CA, one HTTPS listener (SNI per host), Access in front of each app's upstream. */
export async function startAccessEmulator(config: AccessEmulatorConfig & { transfer?: TransferServiceOptions }): Promise<AccessEmulator> {
  const clock = createClock(config.now)
  const teamDomain = `${config.team}.cloudflareaccess.com`.toLowerCase()
  const [pki, keys] = await Promise.all([TestPki.create(), AccessSigningKeys.create()])
  const edge = new EdgeState(
    {
      team: config.team,
      teamDomain,
      realCountry: config.realCountry ?? 'US',
      colo: config.colo ?? 'AMS',
      globalSessionDurationSec: config.globalSessionDurationSec ?? DAY_SEC,
      hostileLoginPage: config.hostileLoginPage ?? false
    },
    clock,
    keys
  )
  for (const appConfig of config.apps) {
    const app = resolveApp(appConfig)
    if (app.host === teamDomain) throw new Error('an app cannot use the team domain as its host')
    if (edge.apps.has(app.host)) throw new Error(`duplicate app host ${app.host}`)
    edge.apps.set(app.host, app)
  }
  const transfer = new TransferService(edge, config.transfer)
  if (transfer.host === teamDomain || edge.apps.has(transfer.host)) throw new Error('the transfer service needs a host of its own')
  attachTransferService(edge, transfer)

  const contexts = new Map<string, Promise<SecureContext>>()
  /** The app's current TLS mode decides the leaf; unknown names get the team-domain certificate. */
  const contextFor = (servername: string): Promise<SecureContext> => {
    const app = edge.appFor(servername)
    const mode = app ? app.tls : 'valid'
    const name = app ? app.host : servername.toLowerCase() === transfer.host ? transfer.host : teamDomain
    const cacheKey = `${mode}:${name}`
    let context = contexts.get(cacheKey)
    if (!context) {
      context = pki.leafFor(name, mode).then((material) => tls.createSecureContext({ key: material.keyPem, cert: material.certPem }))
      contexts.set(cacheKey, context)
    }
    return context
  }
  // Make the configured certificates now so the first handshake of a test does not pay for them.
  await Promise.all([contextFor(teamDomain), contextFor(transfer.host), ...[...edge.apps.values()].map((app) => contextFor(app.host))])

  const directory = await mkdtemp(join(tmpdir(), 'access-emulator-'))
  const caFile = join(directory, 'ca.pem')
  await writeFile(caFile, pki.caCertPem)

  const teamMaterial = await pki.leafFor(teamDomain, 'valid')
  const server = https.createServer({
    key: teamMaterial.keyPem,
    cert: teamMaterial.certPem,
    // The edge speaks HTTP/1.1 to this client; WebSocket over HTTP/2 is not offered (doc §1).
    ALPNProtocols: ['http/1.1'],
    SNICallback: (servername, callback) => {
      contextFor(servername).then(
        (context) => callback(null, context),
        (error: Error) => callback(error)
      )
    }
  })

  const liveSockets = new Set<Duplex>()
  const trackSocket = (socket: Duplex) => {
    liveSockets.add(socket)
    socket.on('close', () => liveSockets.delete(socket))
  }
  server.on('connection', (socket: Socket) => trackSocket(socket))
  server.on('secureConnection', (socket: tls.TLSSocket) => trackSocket(socket))

  const finish = (response: EdgeResponse, rayId: string): EdgeResponse => ({ ...response, headers: { ...response.headers, ...edge.edgeHeaders(rayId) } })

  /** Turns an Access outcome into either an edge answer or a forward plan (edge errors and token checks included). */
  const resolveOutcome = (req: IncomingMessage, host: string, app: ResolvedAccessApp, rayId: string, outcome: AccessOutcome): { response: EdgeResponse } | { plan: ForwardPlan } => {
    if (outcome.kind === 'respond') {
      edge.record(req, host, rayId, app, { decision: outcome.decision, status: outcome.response.status, reason: outcome.reason, principal: outcome.principal ?? null })
      return { response: finish(outcome.response, rayId) }
    }
    const query = new URL(req.url ?? '/', 'https://edge.invalid').searchParams
    if (outcome.principal && query.get('cloudflared_token_check') === 'true') {
      // Answered by the edge so a token check never waits on the origin (cloudflared PR #997).
      edge.record(req, host, rayId, app, { decision: 'token-check', status: 200, reason: outcome.reason, principal: outcome.principal })
      return { response: finish({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'OK' }, rayId) }
    }
    if (app.edgeError !== null) {
      // Access admitted the request; the failure is on the way to the origin (tunnel down, origin unreachable).
      edge.record(req, host, rayId, app, { decision: 'edge-error', status: app.edgeError, reason: `edge-error-${app.edgeError}`, principal: outcome.principal })
      return { response: finish(edgeErrorResponse(app.edgeError, host, rayId), rayId) }
    }
    const record = edge.record(req, host, rayId, app, { decision: outcome.decision, status: 0, reason: outcome.reason, principal: outcome.principal })
    return { plan: { app, rayId, assertion: outcome.assertion, email: outcome.email, setCookie: outcome.setCookie, record } }
  }

  const handleRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const rayId = newRayId()
    const host = hostWithoutPort(req.headers.host)
    try {
      if (host === teamDomain) {
        const outcome = await teamDomainEndpoint(edge, req, rayId)
        if (outcome.kind === 'respond') {
          edge.record(req, host, rayId, undefined, { decision: outcome.decision, status: outcome.response.status, reason: outcome.reason, principal: outcome.principal ?? null })
          sendEdgeResponse(req, res, finish(outcome.response, rayId))
        }
        return
      }
      if (host === transfer.host) {
        const answer = await transfer.poll(req, res)
        if (answer) {
          edge.record(req, host, rayId, undefined, { decision: 'edge-endpoint', status: answer.response.status, reason: answer.reason })
          if (!res.destroyed) sendEdgeResponse(req, res, finish(answer.response, rayId))
        }
        return
      }
      const app = edge.appFor(host)
      if (!app) {
        edge.record(req, host, rayId, undefined, { decision: 'unknown-host', status: 530 })
        sendEdgeResponse(req, res, finish(unknownHostResponse(host, rayId), rayId))
        return
      }
      const resolved = resolveOutcome(req, host, app, rayId, evaluateAppRequest(edge, req, app, host, rayId))
      if ('response' in resolved) sendEdgeResponse(req, res, resolved.response)
      else proxyHttp(edge, req, res, resolved.plan)
    } catch (error) {
      edge.record(req, host, rayId, undefined, { decision: 'edge-error', status: 500, reason: `emulator-error: ${(error as Error).message}` })
      if (!res.headersSent) sendEdgeResponse(req, res, finish(plainEdgeResponse(500, 'Internal Server Error'), rayId))
      else res.destroy()
    }
  }

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const rayId = newRayId()
    const host = hostWithoutPort(req.headers.host)
    if (host === teamDomain) {
      edge.record(req, host, rayId, undefined, { decision: 'edge-endpoint', status: 404, reason: 'upgrade-on-team-domain' })
      writeRawResponse(socket, finish(plainEdgeResponse(404, 'Not Found'), rayId))
      return
    }
    const app = edge.appFor(host)
    if (!app) {
      edge.record(req, host, rayId, undefined, { decision: 'unknown-host', status: 530 })
      writeRawResponse(socket, finish(unknownHostResponse(host, rayId), rayId))
      return
    }
    const resolved = resolveOutcome(req, host, app, rayId, evaluateAppRequest(edge, req, app, host, rayId))
    if ('response' in resolved) writeRawResponse(socket, resolved.response)
    else proxyUpgrade(edge, req, socket, head, resolved.plan, trackSocket)
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => void handleRequest(req, res))
  server.on('upgrade', handleUpgrade)
  server.on('tlsClientError', () => undefined)

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('emulator did not bind a TCP port')
  edge.port = address.port

  const requireApp = (host: string): ResolvedAccessApp => {
    const app = edge.appFor(host)
    if (!app) throw new Error(`no emulated app for host ${host}`)
    return app
  }

  let closed = false
  return {
    port: edge.port,
    caFile,
    caCertPem: pki.caCertPem,
    teamDomain,
    teamUrl: edge.teamOrigin,
    appUrl: (host, path = '/', scheme = 'https') => `${scheme}://${host}:${edge.port}${path.startsWith('/') ? path : `/${path}`}`,
    app: (host) => structuredClone(requireApp(host)),
    update(host, changes) {
      const app = requireApp(host)
      const next = resolveApp({ ...app, ...changes, host: app.host, aud: changes.aud ?? app.aud })
      Object.assign(app, next)
      return structuredClone(app)
    },
    createServiceToken(options = {}) {
      const clientId = `${randomBytes(16).toString('hex')}.access`
      const token = {
        name: options.name ?? clientId,
        clientId,
        clientSecret: randomBytes(32).toString('hex'),
        expiresAt: options.durationSec === undefined ? null : clock.now() + options.durationSec * 1000,
        revoked: false
      }
      edge.serviceTokens.set(clientId, token)
      return { name: token.name, clientId, clientSecret: token.clientSecret, expiresAt: token.expiresAt }
    },
    revokeServiceToken(clientId) {
      const token = edge.serviceTokens.get(clientId)
      if (!token) throw new Error(`unknown service token ${clientId}`)
      token.revoked = true
    },
    issueAppToken(options) {
      const app = requireApp(options.host)
      const type = options.type ?? 'app'
      const now = epochSeconds(clock.now())
      const lifetime = options.expiresInSec ?? (type === 'org' ? edge.settings.globalSessionDurationSec : app.sessionDurationSec)
      const aud = options.aud ?? [type === 'org' ? edge.orgAud : app.aud]
      const common = { exp: now + lifetime, iat: now, nbf: now + (options.notBeforeSec ?? 0), iss: edge.issuer, type }
      const payload =
        options.commonName !== undefined && options.email === undefined
          ? { aud, ...common, common_name: options.commonName, sub: '' }
          : (() => {
              const identity = edge.newIdentity(options.email ?? 'user@aether.test')
              return {
                aud,
                email: identity.email,
                ...common,
                identity_nonce: options.identityNonce ?? identity.identityNonce,
                sub: identity.sub,
                country: edge.settings.realCountry
              }
            })()
      const key = options.signWithUnknownKey || options.signWith === 'unknown' ? keys.unknown : options.signWith === 'previous' ? keys.previous : keys.current
      return signJwt(key, payload)
    },
    bindingCookieFor: (token) => edge.bindingFor(token),
    rotateKeys: () => keys.rotate(clock.now()),
    get signingKeyIds() {
      return { current: keys.current.kid, previous: keys.previous.kid }
    },
    clock,
    transfer: {
      host: transfer.host,
      get baseUrl() {
        return transfer.baseUrl
      },
      get pending() {
        return transfer.pending
      },
      approve: (options) => transfer.approve(options),
      get holdMs() {
        return transfer.holdMs
      },
      set holdMs(ms: number) {
        transfer.holdMs = ms
      },
      get skipInterstitial() {
        return transfer.skipInterstitial
      },
      set skipInterstitial(skip: boolean) {
        transfer.skipInterstitial = skip
      },
      get failStatus() {
        return transfer.failStatus
      },
      set failStatus(status: number | null) {
        transfer.failStatus = status
      }
    },
    outbox: edge.outbox,
    requests: edge.requests,
    upstreamRequests: edge.upstreamRequests,
    clearLogs() {
      edge.requests.length = 0
      edge.upstreamRequests.length = 0
      edge.outbox.length = 0
    },
    async close() {
      if (closed) return
      closed = true
      transfer.close()
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      for (const socket of liveSockets) socket.destroy()
      await stopped
      await rm(directory, { recursive: true, force: true })
    }
  }
}
