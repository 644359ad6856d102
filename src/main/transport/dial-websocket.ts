/**
 * Opening the WebSocket to a gateway: one upgrade request, judged.
 *
 * Rules that come from Cloudflare Access in front of gateways:
 * - HTTP/1.1 only (ALPN `http/1.1`): the edge does not do WebSocket over HTTP/2;
 * - never follow a redirect: the 302 to the Access login page is the answer to explain, and
 *   following it lands on an HTML page that fails as "not a WebSocket";
 * - a time limit on the whole upgrade, so a server that accepts TCP and never answers ends in a
 *   clear timeout instead of a hang.
 * A refused upgrade becomes an AppError through classifyUpgradeResponse; socket errors through
 * classifyNetworkError.
 */
import type { ClientRequest, IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import WebSocket from 'ws'
import { appError, fail, ok, type AppError, type Result } from '../../shared/errors'
import type { GatewayUrl } from '../../shared/gateway-url'
import type { AccessCredentials } from '../cf-access/access-credentials'
import { accessUpgradeHeaders } from '../cf-access/access-credentials'
import { MAX_INBOUND_FRAME_BYTES } from '../gateway/protocol'
import { classifyNetworkError, PLAIN_REFUSAL_CODES, tlsRequired } from './classify-network-error'
import { classifyUpgradeResponse } from './classify-upgrade-response'
import { portSpeaksTls } from './tls-probe'

/** The body of a refused upgrade is read only this far: enough to spot a Cloudflare page. */
const MAX_REFUSAL_BODY_BYTES = 16 * 1024
const REFUSAL_BODY_WAIT_MS = 3_000

const TLS_PROBE_TIMEOUT_MS = 2_000
/** Below this much time left, the original error is reported without a probe. */
const MIN_TLS_PROBE_MS = 200

export interface DialOptions {
  url: GatewayUrl
  access: AccessCredentials
  /** CA certificates to trust (see trust-store.ts); undefined = Node's defaults. */
  ca?: string[]
  timeoutMs: number
  userAgent: string
  signal?: AbortSignal
}

/** An open socket plus the text frames that arrived before anyone listened. */
export interface DialedSocket {
  ws: WebSocket
  /** Call once with the real handler; queued frames are replayed into it first. */
  takeMessages(handler: (text: string) => void): void
}

export function dialWebSocket(opts: DialOptions): Promise<Result<DialedSocket>> {
  return new Promise((resolve) => {
    const { headers, sentNames } = accessUpgradeHeaders(opts.access)
    const host = opts.url.host
    const port = opts.url.port
    let settled = false
    let ws: WebSocket
    const queued: string[] = []
    let handler: ((text: string) => void) | undefined
    const startedAt = Date.now()
    /** Ends a TLS probe still running when the attempt ends. */
    const probeAbort = new AbortController()

    const finish = (result: Result<DialedSocket>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      probeAbort.abort()
      opts.signal?.removeEventListener('abort', onAbort)
      if (!result.ok) {
        ws.removeAllListeners('message')
        ws.on('error', () => {}) // a late error after we gave up must not crash the process
        try {
          ws.terminate()
        } catch {
          // already gone
        }
      }
      resolve(result)
    }

    const timeoutError = (): AppError =>
      classifyNetworkError(Object.assign(new Error('Opening handshake has timed out'), { code: 'ETIMEDOUT' }), {
        host,
        port,
        timeoutMs: opts.timeoutMs,
        phase: 'upgrade'
      })

    // Our own timer as well as ws's handshakeTimeout: DNS and TLS stalls count too.
    const timer = setTimeout(() => finish(fail(timeoutError())), opts.timeoutMs + 250)
    const onAbort = () =>
      finish(fail(appError('CANCELLED', 'Cancelled', 'The connection attempt was cancelled.')))
    if (opts.signal?.aborted) {
      clearTimeout(timer)
      resolve(fail(appError('CANCELLED', 'Cancelled', 'The connection attempt was cancelled.')))
      return
    }
    opts.signal?.addEventListener('abort', onAbort)

    /**
     * A plain upgrade hung up on or refused like plain HTTP on a TLS port: ask the port whether it
     * speaks TLS before blaming the network. The probe gets only the time the attempt has left
     * (the attempt's own limit stays the limit), and ends with the attempt.
     */
    const failMaybeTls = (error: AppError, worthProbing: boolean) => {
      const left = opts.timeoutMs - (Date.now() - startedAt)
      if (settled || opts.url.secure || !worthProbing || left < MIN_TLS_PROBE_MS) {
        finish(fail(error))
        return
      }
      // A cancel ends the attempt (onAbort → finish), and finish ends the probe.
      portSpeaksTls({ host, port, timeoutMs: Math.min(TLS_PROBE_TIMEOUT_MS, left), signal: probeAbort.signal }).then(
        (speaksTls) => finish(fail(speaksTls ? tlsRequired(host, port, opts.url.href) : error)),
        () => finish(fail(error))
      )
    }

    try {
      ws = new WebSocket(opts.url.href, {
        headers: { 'User-Agent': opts.userAgent, ...headers },
        followRedirects: false,
        handshakeTimeout: opts.timeoutMs,
        maxPayload: MAX_INBOUND_FRAME_BYTES,
        perMessageDeflate: false,
        ...(opts.url.secure ? { ALPNProtocols: ['http/1.1'], ...(opts.ca ? { ca: opts.ca } : {}) } : {})
      })
    } catch (e) {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      // Node refuses a header value with a line break or other control character in it
      // (ERR_INVALID_CHAR): that is a credential (a pasted Client ID or secret), not the address.
      const invalidHeader = (e as { code?: unknown }).code === 'ERR_INVALID_CHAR'
      resolve(
        fail(
          invalidHeader
            ? appError(
                'INVALID_INPUT',
                'A credential cannot be sent',
                'A Cloudflare Access credential contains characters that cannot be sent in an HTTP header (a line break or another control character inside it). Enter it again, on one line.',
                { nextSteps: [{ action: 'check-service-token', label: 'Copy the Access credentials again and enter them without line breaks.' }] }
              )
            : appError('INVALID_URL', 'The gateway address is not valid', (e as Error).message.slice(0, 200))
        )
      )
      return
    }

    ws.on('message', (data, isBinary) => {
      if (isBinary) return // not part of the protocol
      const text = data.toString()
      if (handler) handler(text)
      else queued.push(text)
    })

    ws.on('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      readBounded(res).then((body) => {
        req.destroy()
        const error = classifyUpgradeResponse({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          requestUrl: opts.url.href,
          credentialsSent: opts.access.kind,
          sentNames
        })
        // A bare 400 is what most web servers say to plain HTTP on their TLS port, in words of
        // their own (the known ones are recognised from the body already).
        failMaybeTls(error, res.statusCode === 400 && error.code === 'UNEXPECTED_HTTP_STATUS')
      })
    })

    ws.on('error', (err: Error & { code?: string }) => {
      const peer = peerCertificateSummary(ws)
      const error = /handshake has timed out/i.test(err.message)
        ? timeoutError()
        : classifyNetworkError(err, { host, port, timeoutMs: opts.timeoutMs, phase: 'connect', ...(peer ? { peer } : {}) })
      failMaybeTls(error, PLAIN_REFUSAL_CODES.has(error.code))
    })

    ws.on('open', () => {
      finish(
        ok({
          ws,
          takeMessages(h) {
            handler = h
            for (const text of queued.splice(0)) h(text)
          }
        })
      )
    })
  })
}

function readBounded(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = () => {
      clearTimeout(t)
      res.removeAllListeners('data')
      res.destroy()
      resolve(Buffer.concat(chunks).toString('utf8'))
    }
    const t = setTimeout(done, REFUSAL_BODY_WAIT_MS)
    res.on('data', (chunk: Buffer) => {
      if (size < MAX_REFUSAL_BODY_BYTES) chunks.push(chunk.subarray(0, MAX_REFUSAL_BODY_BYTES - size))
      size += chunk.length
      if (size >= MAX_REFUSAL_BODY_BYTES) done()
    })
    res.on('end', done)
    res.on('error', done)
  })
}

/** Subject/issuer/expiry of the server certificate, when a TLS socket got that far. */
function peerCertificateSummary(ws: WebSocket): { subject: string; issuer: string; validTo: string } | undefined {
  const socket = (ws as unknown as { _req?: { socket?: TLSSocket } })._req?.socket
  if (!socket || typeof socket.getPeerCertificate !== 'function') return undefined
  try {
    const cert = socket.getPeerCertificate()
    if (!cert || !cert.subject) return undefined
    return {
      subject: String(cert.subject.CN ?? JSON.stringify(cert.subject)),
      issuer: String(cert.issuer?.CN ?? JSON.stringify(cert.issuer ?? {})),
      validTo: cert.valid_to
    }
  } catch {
    return undefined
  }
}
