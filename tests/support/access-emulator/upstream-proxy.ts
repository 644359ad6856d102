import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import { edgeErrorResponse } from './edge-pages'
import type { EdgeState } from './edge-state'
import { headerValue, rawResponseHead, removeCookies, sendEdgeResponse, writeRawResponse } from './http-util'
import type { EdgeRequestRecord, ResolvedAccessApp } from './types'

/** What the Access decision adds to a request the edge lets through. */
export interface ForwardPlan {
  app: ResolvedAccessApp
  rayId: string
  /** `Cf-Access-Jwt-Assertion` value; null for bypassed requests. */
  assertion: string | null
  /** `Cf-Access-Authenticated-User-Email`; identity tokens only. */
  email: string | null
  /** Set-Cookie the edge adds to the origin's answer (service-token CF_Authorization). */
  setCookie: string | null
  record: EdgeRequestRecord
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']

// Client-sent values of headers only the edge may set; forwarding them would let a client forge identity.
const EDGE_OWNED = ['cf-access-jwt-assertion', 'cf-access-authenticated-user-email', 'cf-connecting-ip', 'cf-ray', 'cf-ipcountry', 'cf-visitor']

function upstreamTarget(app: ResolvedAccessApp, requestPath: string): { client: typeof http | typeof https; options: http.RequestOptions } | null {
  if (!app.upstream) return null
  const base = new URL(app.upstream)
  const secure = base.protocol === 'https:' || base.protocol === 'wss:'
  const basePath = base.pathname.replace(/\/$/, '')
  return {
    client: secure ? https : http,
    options: {
      host: base.hostname,
      port: base.port || (secure ? 443 : 80),
      path: basePath + requestPath,
      // Like cloudflared's noTLSVerify: test origins use throwaway certificates.
      ...(secure ? { rejectUnauthorized: false, servername: base.hostname } : {})
    }
  }
}

export function upstreamRequestHeaders(edge: EdgeState, req: IncomingMessage, plan: ForwardPlan, upgrade: boolean): OutgoingHttpHeaders {
  const { app } = plan
  const dropped = new Set([...EDGE_OWNED, 'cf-access-client-secret'])
  if (app.readServiceTokensFromHeader) dropped.add(app.readServiceTokensFromHeader.toLowerCase())
  if (!upgrade) for (const name of HOP_BY_HOP) dropped.add(name)
  else for (const name of HOP_BY_HOP.filter((name) => name !== 'connection' && name !== 'upgrade')) dropped.add(name)
  const headers: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || dropped.has(name)) continue
    headers[name] = value
  }
  const cookie = removeCookies(headerValue(req.headers, 'cookie') ?? undefined, ['CF_Binding'])
  if (cookie) headers.cookie = cookie
  else delete headers.cookie
  if (plan.assertion) headers['cf-access-jwt-assertion'] = plan.assertion
  if (plan.email) headers['cf-access-authenticated-user-email'] = plan.email
  if (app.forwardedFor !== null) {
    const previous = headerValue(req.headers, 'x-forwarded-for')
    headers['x-forwarded-for'] = previous ? `${previous}, ${app.forwardedFor}` : app.forwardedFor
    headers['cf-connecting-ip'] = app.forwardedFor
  }
  headers['x-forwarded-proto'] = 'https'
  headers['cf-ray'] = `${plan.rayId}-${edge.settings.colo}`
  headers['cf-ipcountry'] = edge.settings.realCountry
  headers['cf-visitor'] = '{"scheme":"https"}'
  return headers
}

function recordUpstream(edge: EdgeState, req: IncomingMessage, plan: ForwardPlan, path: string, headers: OutgoingHttpHeaders, upgrade: boolean): void {
  const copy: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) copy[name] = Array.isArray(value) ? [...value] : String(value)
  }
  edge.upstreamRequests.push({ at: edge.clock.now(), rayId: plan.rayId, method: req.method ?? 'GET', path, upgrade, headers: copy })
}

function responseHeadersFromOrigin(edge: EdgeState, origin: IncomingMessage, plan: ForwardPlan, keepUpgradeHeaders: boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(origin.headers)) {
    if (value === undefined) continue
    if (!keepUpgradeHeaders && HOP_BY_HOP.includes(name)) continue
    headers[name] = value
  }
  Object.assign(headers, edge.edgeHeaders(plan.rayId))
  if (plan.setCookie) {
    const existing = headers['set-cookie']
    headers['set-cookie'] = [...(Array.isArray(existing) ? existing : existing ? [String(existing)] : []), plan.setCookie]
  }
  return headers
}

function badGateway(edge: EdgeState, plan: ForwardPlan, reason: string) {
  plan.record.decision = 'upstream-error'
  plan.record.status = 502
  plan.record.reason = reason
  const response = edgeErrorResponse(502, plan.app.host, plan.rayId)
  return { ...response, headers: { ...response.headers, ...edge.edgeHeaders(plan.rayId) } }
}

export function proxyHttp(edge: EdgeState, req: IncomingMessage, res: ServerResponse, plan: ForwardPlan): void {
  const target = upstreamTarget(plan.app, req.url ?? '/')
  if (!target) {
    sendEdgeResponse(req, res, badGateway(edge, plan, 'no-upstream'))
    return
  }
  const headers = upstreamRequestHeaders(edge, req, plan, false)
  recordUpstream(edge, req, plan, req.url ?? '/', headers, false)
  const upstreamReq = target.client.request({ ...target.options, method: req.method, headers })
  upstreamReq.on('response', (originRes) => {
    plan.record.status = originRes.statusCode ?? 502
    res.writeHead(originRes.statusCode ?? 502, originRes.statusMessage, responseHeadersFromOrigin(edge, originRes, plan, false))
    originRes.pipe(res)
  })
  upstreamReq.on('error', (error) => {
    if (res.headersSent) res.destroy()
    else sendEdgeResponse(req, res, badGateway(edge, plan, `upstream: ${error.message}`))
  })
  res.on('close', () => upstreamReq.destroy())
  req.pipe(upstreamReq)
}

/** WebSocket (or any Upgrade) pass-through: relay the origin's 101, then splice the two sockets. */
export function proxyUpgrade(edge: EdgeState, req: IncomingMessage, clientSocket: Duplex, head: Buffer, plan: ForwardPlan, trackSocket: (socket: Duplex) => void): void {
  const target = upstreamTarget(plan.app, req.url ?? '/')
  if (!target) {
    writeRawResponse(clientSocket, badGateway(edge, plan, 'no-upstream'))
    return
  }
  const headers = upstreamRequestHeaders(edge, req, plan, true)
  recordUpstream(edge, req, plan, req.url ?? '/', headers, true)
  const upstreamReq = target.client.request({ ...target.options, method: req.method, headers })
  let settled = false
  clientSocket.on('close', () => {
    if (!settled) upstreamReq.destroy()
  })
  upstreamReq.on('upgrade', (originRes, originSocket, originHead) => {
    settled = true
    trackSocket(originSocket)
    plan.record.status = originRes.statusCode ?? 101
    if (clientSocket.destroyed) {
      originSocket.destroy()
      return
    }
    clientSocket.write(rawResponseHead(originRes.statusCode ?? 101, responseHeadersFromOrigin(edge, originRes, plan, true), originRes.statusMessage))
    if (originHead.length > 0) clientSocket.write(originHead)
    if (head.length > 0) originSocket.write(head)
    // Either side closing (cleanly or not) closes the other, as a proxy in the middle would.
    const closeBoth = () => {
      clientSocket.destroy()
      originSocket.destroy()
    }
    originSocket.on('error', closeBoth)
    clientSocket.on('error', closeBoth)
    originSocket.on('close', closeBoth)
    clientSocket.on('close', closeBoth)
    originSocket.pipe(clientSocket)
    clientSocket.pipe(originSocket)
  })
  upstreamReq.on('response', (originRes) => {
    // The origin refused the upgrade: relay its answer as a plain response and close.
    settled = true
    const chunks: Buffer[] = []
    originRes.on('data', (chunk: Buffer) => chunks.push(chunk))
    originRes.on('end', () => {
      plan.record.status = originRes.statusCode ?? 502
      const body = Buffer.concat(chunks)
      const responseHeaders = { ...responseHeadersFromOrigin(edge, originRes, plan, false), 'content-length': String(body.length), connection: 'close' }
      clientSocket.end(Buffer.concat([Buffer.from(rawResponseHead(originRes.statusCode ?? 502, responseHeaders, originRes.statusMessage)), body]))
    })
  })
  upstreamReq.on('error', (error) => {
    if (settled) return
    settled = true
    writeRawResponse(clientSocket, badGateway(edge, plan, `upstream: ${error.message}`))
  })
  upstreamReq.end()
}
