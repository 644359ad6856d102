/**
 * The doctor's ports over Node's own modules: dns/promises, net, tls, http, https and http2,
 * plus the gateway connector. Nothing here decides anything; the steps do.
 */
import dns from 'node:dns'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import { HttpTimeoutError } from '../cf-access/sign-in/transfer-login'
import { portSpeaksTls } from '../transport/tls-probe'
import { connectGateway, type ConnectorDeps } from '../gateway/gateway-connector'
import { trustedCertificates } from '../transport/trust-store'
import type {
  DnsPort,
  DoctorHttp,
  DoctorHttpRequest,
  DoctorHttpResponse,
  DoctorPorts,
  GatewayPort,
  PeerCertificateFacts,
  SocketPort,
  SocketProbeResult
} from './ports'

/** Only this much of a body is kept: enough to read a login page or an edge error page. */
/** How long a probe's body may take after the headers. */
const BODY_WAIT_MS = 3_000
const MAX_BODY_BYTES = 256 * 1024

export function nodeDnsPort(): DnsPort {
  return {
    async lookup(host) {
      const answers = await dns.promises.lookup(host, { all: true, verbatim: true })
      return answers.map((a) => ({ address: a.address, family: a.family }))
    },
    async resolveCname(host) {
      // A resolver of its own, so a slow DNS server costs one short try rather than the defaults.
      const resolver = new dns.promises.Resolver({ timeout: 2_000, tries: 1 })
      return resolver.resolveCname(host)
    }
  }
}

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' })
}

function peerFacts(socket: tls.TLSSocket): PeerCertificateFacts | undefined {
  const cert = socket.getPeerCertificate()
  if (!cert || !cert.subject) return undefined
  const name = (dn: unknown): string => {
    const record = (dn ?? {}) as Record<string, unknown>
    const cn = record.CN ?? record.O
    return typeof cn === 'string' ? cn : Array.isArray(cn) ? String(cn[0]) : JSON.stringify(record)
  }
  const facts: PeerCertificateFacts = { subject: name(cert.subject), issuer: name(cert.issuer) }
  if (cert.valid_from) facts.validFrom = cert.valid_from
  if (cert.valid_to) facts.validTo = cert.valid_to
  if (cert.subjectaltname) facts.altNames = cert.subjectaltname
  facts.selfSigned = JSON.stringify(cert.subject) === JSON.stringify(cert.issuer)
  return facts
}

export function nodeSocketPort(): SocketPort {
  return {
    speaksTls: (request) => portSpeaksTls(request),
    probe(request) {
      return new Promise<SocketProbeResult>((resolve, reject) => {
        let settled = false
        const servername = net.isIP(request.host) === 0 ? request.host : undefined
        const socket: net.Socket = request.tls
          ? tls.connect({
              host: request.host,
              port: request.port,
              ...(servername ? { servername } : {}),
              ...(request.ca ? { ca: request.ca } : {}),
              ALPNProtocols: ['h2', 'http/1.1'],
              // Not rejected here: the certificate is described and judged by the step.
              rejectUnauthorized: false
            })
          : net.connect({ host: request.host, port: request.port })
        const done = (error: Error | null, result?: SocketProbeResult) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          request.signal?.removeEventListener('abort', onAbort)
          socket.destroy()
          if (error) reject(error)
          else resolve(result ?? {})
        }
        const timer = setTimeout(
          () => done(Object.assign(new Error(`no answer within ${request.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
          request.timeoutMs
        )
        const onAbort = () => done(abortError())
        request.signal?.addEventListener('abort', onAbort, { once: true })
        socket.once('error', (e) => done(e))
        if (request.tls) {
          const t = socket as tls.TLSSocket
          t.once('secureConnect', () => {
            const result: SocketProbeResult = { authorized: t.authorized }
            if (t.remoteAddress) result.remoteAddress = t.remoteAddress
            if (!t.authorized && t.authorizationError) result.authorizationError = String(t.authorizationError)
            const version = t.getProtocol()
            if (version) result.tlsVersion = version
            if (t.alpnProtocol) result.alpn = t.alpnProtocol
            const peer = peerFacts(t)
            if (peer) result.peer = peer
            done(null, result)
          })
        } else {
          socket.once('connect', () => done(null, socket.remoteAddress ? { remoteAddress: socket.remoteAddress } : {}))
        }
      })
    }
  }
}

function lowerHeaders(raw: Record<string, string | string[] | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || name.startsWith(':')) continue
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return out
}

/** Collects a bounded body from a readable, then resolves. */
/**
 * The body, read until it ends, reaches MAX_BODY_BYTES, or BODY_WAIT_MS pass: the status and
 * headers are the answer, and a server that streams its body without end (or stalls in it) must
 * not turn an answer into a timeout.
 */
function collect(stream: NodeJS.ReadableStream & { destroy(): void }, onEnd: (body: string) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  let ended = false
  const end = () => {
    if (ended) return
    ended = true
    clearTimeout(timer)
    stream.removeAllListeners('data')
    // The answer first: destroying the stream may report an error, which must not win.
    onEnd(Buffer.concat(chunks).toString('utf8'))
    stream.destroy()
  }
  const timer = setTimeout(end, BODY_WAIT_MS)
  stream.on('data', (chunk: Buffer) => {
    if (size < MAX_BODY_BYTES) chunks.push(chunk.subarray(0, MAX_BODY_BYTES - size))
    size += chunk.length
    if (size >= MAX_BODY_BYTES) end()
  })
  stream.on('end', end)
}

const UPGRADE_HEADERS = {
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'ZG9jdG9yLXByb2JlLWtleQ=='
}

/**
 * HTTP client for the probes. `https:` negotiates ALPN itself (HTTP/2 when offered, unless
 * `http1Only`), so "standard" and "forced HTTP/1.1" really differ against an edge that speaks both.
 */
export function nodeDoctorHttp(): DoctorHttp {
  return (request: DoctorHttpRequest) =>
    new Promise<DoctorHttpResponse>((resolve, reject) => {
      const url = new URL(request.url)
      const secure = url.protocol === 'https:'
      const port = url.port ? Number(url.port) : secure ? 443 : 80
      let settled = false
      const cleanups: (() => void)[] = []
      const done = (error: Error | null, response?: DoctorHttpResponse) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        request.signal?.removeEventListener('abort', onAbort)
        for (const c of cleanups) c()
        if (error) reject(error)
        else resolve(response as DoctorHttpResponse)
      }
      const timer = setTimeout(() => done(new HttpTimeoutError(request.timeoutMs)), request.timeoutMs)
      const onAbort = () => done(abortError())
      request.signal?.addEventListener('abort', onAbort, { once: true })
      const headers = request.upgrade ? { ...request.headers, ...UPGRADE_HEADERS } : request.headers

      const viaHttp1 = (socket?: net.Socket) => {
        const options: http.RequestOptions = {
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port,
          path: `${url.pathname}${url.search}`,
          method: request.method,
          headers,
          // With a socket of our own (TLS already set up with the right roots), no agent at all.
          ...(socket ? { createConnection: () => socket } : { agent: false })
        }
        const req = (socket || !secure ? http : https).request(options, (res) => {
          collect(res, (body) =>
            done(null, { status: res.statusCode ?? 0, headers: lowerHeaders(res.headers), body, httpVersion: res.httpVersion })
          )
          res.on('error', (e) => done(e))
        })
        req.on('upgrade', (res, upgraded) => {
          upgraded.destroy()
          done(null, { status: res.statusCode ?? 101, headers: lowerHeaders(res.headers), body: '', httpVersion: res.httpVersion })
        })
        req.on('error', (e) => done(e))
        cleanups.push(() => req.destroy())
        req.end()
      }

      if (!secure) {
        viaHttp1()
        return
      }
      const servername = net.isIP(url.hostname) === 0 ? url.hostname : undefined
      const socket = tls.connect({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port,
        ...(servername ? { servername } : {}),
        ...(request.ca ? { ca: request.ca } : {}),
        ALPNProtocols: request.http1Only || request.upgrade ? ['http/1.1'] : ['h2', 'http/1.1']
      })
      cleanups.push(() => socket.destroy())
      socket.once('error', (e) => done(e))
      socket.once('secureConnect', () => {
        if (socket.alpnProtocol !== 'h2') {
          viaHttp1(socket)
          return
        }
        const session = http2.connect(url.origin, { createConnection: () => socket })
        cleanups.push(() => session.destroy())
        session.on('error', (e) => done(e))
        const h2Headers: http2.OutgoingHttpHeaders = { ':method': request.method, ':path': `${url.pathname}${url.search}` }
        for (const [name, value] of Object.entries(request.headers)) h2Headers[name.toLowerCase()] = value
        const stream = session.request(h2Headers, { endStream: true })
        stream.on('error', (e) => done(e))
        stream.on('response', (responseHeaders) => {
          const status = Number(responseHeaders[':status'] ?? 0)
          collect(stream, (body) => done(null, { status, headers: lowerHeaders(responseHeaders), body, httpVersion: '2' }))
        })
      })
    })
}

/** Upgrade and sign in with the real connector, no start-up retries, then close at once. */
export function connectorGatewayPort(deps: ConnectorDeps): GatewayPort {
  return {
    async probe(target, options) {
      const result = await connectGateway(target, deps, {
        startupRetryBudgetMs: 0,
        onSocketOpened: options.onSocketOpened,
        ...(options.signal ? { signal: options.signal } : {})
      })
      if (!result.ok) return result
      const { connection, warnings } = result.value
      connection.close()
      return { ok: true, value: { hello: connection.hello, warnings } }
    }
  }
}

/** All ports over Node, the keychain given in `deps` (the device identity signs the handshake). */
export function nodeDoctorPorts(deps: ConnectorDeps): DoctorPorts {
  return {
    dns: nodeDnsPort(),
    sockets: nodeSocketPort(),
    http: nodeDoctorHttp(),
    gateway: connectorGatewayPort(deps),
    clock: { now: deps.now ?? Date.now },
    trustedCertificates: (caFile) => trustedCertificates(caFile)
  }
}
