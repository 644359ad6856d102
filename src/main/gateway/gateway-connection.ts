/**
 * One live connection to a gateway: the handshake, then correlated requests and events.
 *
 * Handshake: the gateway speaks first with `connect.challenge {nonce, ts}`; we answer with one
 * signed `connect`; it answers `hello-ok` or an error and closes. After that:
 * - requests correlate by id only (answers can come out of order), each with its own timeout;
 * - the link is dead when no `tick` (protocol 3) or no frame at all (protocol 4) arrived for
 *   two tick intervals: we close with 4000 and report LINK_DEAD;
 * - junk frames are counted and ignored, never fatal.
 */
import { randomUUID } from 'node:crypto'
import type WebSocket from 'ws'
import { appError, fail, ok, type AppError, type Result } from '../../shared/errors'
import type { DialedSocket } from '../transport/dial-websocket'
import { classifyBareClose, classifyGatewayError, classifyStreamError, type CloseInfo } from './classify-gateway-error'
import type { DeviceIdentity } from './device-identity'
import { signDevice } from './device-identity'
import {
  buildConnectParams,
  challengePayload,
  closedParams,
  helloOkPayload,
  MAX_INBOUND_FRAME_BYTES,
  parseInboundFrame,
  type ClientInfo,
  type EventFrame,
  type GatewayErrorShape,
  type ProtocolVersion,
  type ResFrame
} from './protocol'

/** What a successful handshake told us (no secrets: the device token is kept apart). */
export interface HelloSummary {
  protocol: ProtocolVersion
  serverVersion?: string
  connId?: string
  mainSessionKey: string
  scopes: string[]
  authMethod?: string
  tickIntervalMs: number
  maxPayload?: number
  methods: string[]
  deviceTokenIssued: boolean
}

export interface HandshakeOptions {
  identity: DeviceIdentity
  client: ClientInfo
  /** What to put in auth.token: the gateway token or the stored device token. */
  token?: string
  tokenKind: 'gateway' | 'device' | 'none'
  knownProtocol?: ProtocolVersion
  /** Deadline for challenge + hello, from now. */
  timeoutMs: number
  requestTimeoutMs?: number
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
const DEFAULT_TICK_INTERVAL_MS = 30_000

interface Pending {
  method: string
  resolve: (r: Result<unknown>) => void
  timer: NodeJS.Timeout
}

type EventListener = (frame: EventFrame) => void
type CloseListener = (error: AppError) => void

/** The last error the socket reported; the close that follows an error says less than it. */
interface SocketErrors {
  last?: Error & { code?: string }
}

export class GatewayConnection {
  readonly hello: HelloSummary
  /** A device token issued by this hello-ok, for the caller to store; never logged. */
  readonly issuedDeviceToken: string | undefined
  private readonly ws: WebSocket
  private readonly pending = new Map<string, Pending>()
  private readonly eventListeners = new Set<EventListener>()
  private readonly closeListeners = new Set<CloseListener>()
  private readonly requestTimeoutMs: number
  private watchdog: NodeJS.Timeout | undefined
  private closedWith: AppError | undefined
  private junkFrames = 0
  private readonly socketErrors: SocketErrors

  /** Use `handshake()`; the constructor takes an already-accepted socket. */
  private constructor(
    ws: WebSocket,
    hello: HelloSummary,
    deviceToken: string | undefined,
    requestTimeoutMs: number,
    socketErrors: SocketErrors
  ) {
    this.ws = ws
    this.hello = hello
    this.issuedDeviceToken = deviceToken
    this.requestTimeoutMs = requestTimeoutMs
    this.socketErrors = socketErrors
  }

  /** Run the handshake on a freshly dialled socket. Closes the socket on failure. */
  static handshake(dialed: DialedSocket, opts: HandshakeOptions): Promise<Result<GatewayConnection>> {
    const { ws } = dialed
    return new Promise((resolve) => {
      let connectId: string | undefined
      let refusal: GatewayErrorShape | undefined
      let settled = false
      let conn: GatewayConnection | undefined
      const socketErrors: SocketErrors = {}

      const finish = (result: Result<GatewayConnection>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        ws.off('close', onClose)
        if (!result.ok) {
          ws.on('error', () => {})
          ws.terminate()
        }
        resolve(result)
      }
      const timer = setTimeout(() => {
        finish(
          fail(
            appError(
              'TIMEOUT',
              'The gateway did not answer in time',
              connectId
                ? `The gateway accepted the WebSocket but did not answer the sign-in within ${Math.round(opts.timeoutMs / 1000)} s.`
                : `The server accepted the WebSocket but sent no gateway challenge within ${Math.round(opts.timeoutMs / 1000)} s. Is this address an OpenClaw gateway?`,
              {
                details: { timeoutMs: opts.timeoutMs },
                retryable: true,
                nextSteps: [
                  { action: 'check-url', label: 'Check that the address points at the OpenClaw gateway.' },
                  { action: 'retry', label: 'Retry.' }
                ]
              }
            )
          )
        )
      }, opts.timeoutMs)

      const onClose = (code: number, reason: Buffer) => {
        const close: CloseInfo = { code, reason: reason.toString('utf8') }
        const broken = classifyStreamError(socketErrors.last, { close, phase: 'handshake', maxMessageBytes: MAX_INBOUND_FRAME_BYTES })
        if (refusal) {
          finish(fail(classifyGatewayError(refusal, { close, sentToken: opts.tokenKind, method: 'connect' })))
        } else if (broken) {
          finish(fail(broken))
        } else {
          finish(fail(classifyBareClose(close, 'handshake')))
        }
      }
      ws.on('close', onClose)
      ws.on('error', (err: Error & { code?: string }) => {
        // The close event that follows reports it; a framing error (WS_ERR_*) is what it means.
        socketErrors.last = err
      })

      dialed.takeMessages((text) => {
        if (conn) {
          conn.onText(text)
          return
        }
        const parsed = parseInboundFrame(text)
        if (parsed.kind === 'junk') return
        if (parsed.kind === 'event' && parsed.frame.event === 'connect.challenge' && !connectId) {
          const challenge = challengePayload.safeParse(parsed.frame.payload)
          if (!challenge.success) {
            finish(
              fail(
                appError(
                  'PROTOCOL_ERROR',
                  'The gateway sent an invalid challenge',
                  'The server\u2019s connect.challenge had no usable nonce or timestamp.'
                )
              )
            )
            return
          }
          connectId = randomUUID()
          const device = signDevice(opts.identity, challenge.data, {
            token: opts.token ?? '',
            platform: opts.client.platform,
            deviceFamily: opts.client.deviceFamily,
            ...(opts.knownProtocol ? { knownProtocol: opts.knownProtocol } : {})
          })
          const params = buildConnectParams({
            client: opts.client,
            auth: opts.token ? { token: opts.token } : {},
            device
          })
          ws.send(JSON.stringify({ type: 'req', id: connectId, method: 'connect', params }))
          return
        }
        if (parsed.kind === 'res' && parsed.frame.id === connectId) {
          if (!parsed.frame.ok) {
            // The close that follows tells us more (1002, 1008, 1013); wait for it briefly.
            refusal = parsed.frame.error ?? { code: 'UNKNOWN' }
            setTimeout(() => {
              if (refusal) finish(fail(classifyGatewayError(refusal, { sentToken: opts.tokenKind, method: 'connect' })))
            }, 1_000)
            return
          }
          const hello = helloOkPayload.safeParse(parsed.frame.payload)
          if (!hello.success || (hello.data.protocol !== 3 && hello.data.protocol !== 4)) {
            finish(
              fail(
                appError(
                  'PROTOCOL_MISMATCH',
                  'The gateway speaks another protocol version',
                  hello.success
                    ? `The gateway chose protocol ${hello.data.protocol}; this app speaks 3 and 4.`
                    : 'The gateway\u2019s hello was not understood.',
                  { nextSteps: [{ action: 'update-app', label: 'Update Aether Remote or the gateway.' }] }
                )
              )
            )
            return
          }
          const h = hello.data
          const summary: HelloSummary = {
            protocol: h.protocol as ProtocolVersion,
            mainSessionKey: h.snapshot?.sessionDefaults?.mainSessionKey ?? 'agent:main:main',
            scopes: h.auth?.scopes ?? [],
            tickIntervalMs: h.policy?.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS,
            methods: h.features?.methods ?? [],
            deviceTokenIssued: typeof h.auth?.deviceToken === 'string'
          }
          if (h.server?.version) summary.serverVersion = h.server.version
          if (h.server?.connId) summary.connId = h.server.connId
          if (h.auth?.method) summary.authMethod = h.auth.method
          if (h.policy?.maxPayload) summary.maxPayload = h.policy.maxPayload
          conn = new GatewayConnection(
            ws,
            summary,
            h.auth?.deviceToken,
            opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
            socketErrors
          )
          conn.attach()
          finish(ok(conn))
        }
      })
    })
  }

  /** Wire the socket's lifetime events once the handshake is through. */
  private attach(): void {
    this.armWatchdog()
    this.ws.on('close', (code: number, reason: Buffer) => {
      const close = { code, reason: reason.toString('utf8') }
      const broken = classifyStreamError(this.socketErrors.last, { close, phase: 'ready', maxMessageBytes: MAX_INBOUND_FRAME_BYTES })
      this.shutdown(this.closedWith ?? broken ?? classifyBareClose(close, 'ready'))
    })
  }

  private onText(text: string): void {
    const parsed = parseInboundFrame(text)
    if (parsed.kind === 'junk') {
      this.junkFrames++
      return
    }
    // Protocol 4 counts any frame as liveness; protocol 3 only ticks.
    if (this.hello.protocol === 4 || (parsed.kind === 'event' && parsed.frame.event === 'tick')) this.armWatchdog()
    if (parsed.kind === 'res') this.onResponse(parsed.frame)
    else for (const l of this.eventListeners) l(parsed.frame)
  }

  private onResponse(frame: ResFrame): void {
    const p = this.pending.get(frame.id)
    if (!p) return
    // Methods that first ack with status "accepted" send the final answer later under the same id.
    if (frame.ok && isAcceptedAck(frame.payload)) return
    this.pending.delete(frame.id)
    clearTimeout(p.timer)
    if (frame.ok) p.resolve(ok(frame.payload))
    else p.resolve(fail(classifyGatewayError(frame.error ?? { code: 'UNKNOWN' }, { method: p.method })))
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog)
    const limit = this.hello.tickIntervalMs * 2
    this.watchdog = setTimeout(() => {
      this.closedWith = appError(
        'LINK_DEAD',
        'The connection to the gateway went silent',
        `No keepalive arrived from the gateway for ${Math.round(limit / 1000)} s; the link is considered dead.`,
        { details: { timeoutMs: limit }, retryable: true, nextSteps: [{ action: 'retry', label: 'Reconnect.' }] }
      )
      this.ws.close(4000, 'tick timeout')
      // If the peer never completes the close handshake, do not wait for it.
      setTimeout(() => this.ws.terminate(), 2_000).unref()
    }, limit)
    this.watchdog.unref?.()
  }

  /** Number of frames that were not valid JSON protocol frames (ignored). */
  get ignoredFrames(): number {
    return this.junkFrames
  }

  get isOpen(): boolean {
    return this.closedWith === undefined && this.ws.readyState === this.ws.OPEN
  }

  /**
   * Send a request; resolves with its payload or an AppError (timeout, refusal, closed link).
   * `params` are checked against the negotiated protocol's closed schema.
   */
  request<T = unknown>(method: string, params: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<Result<T>> {
    if (!this.isOpen) {
      return Promise.resolve(
        fail(this.closedWith ?? appError('CONNECTION_CLOSED', 'Not connected', 'The connection to the gateway is closed.', { retryable: true }))
      )
    }
    const id = randomUUID()
    const body = closedParams(method, this.hello.protocol, params)
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve(
          fail(
            appError('REQUEST_TIMEOUT', `The gateway did not answer ${method}`, `No answer to ${method} within ${Math.round(timeoutMs / 1000)} s.`, {
              details: { timeoutMs },
              retryable: true,
              nextSteps: [{ action: 'retry', label: 'Retry.' }]
            })
          )
        )
      }, timeoutMs)
      this.pending.set(id, { method, resolve: resolve as (r: Result<unknown>) => void, timer })
      this.ws.send(JSON.stringify({ type: 'req', id, method, params: body }), (err) => {
        if (!err) return
        const p = this.pending.get(id)
        if (!p) return
        this.pending.delete(id)
        clearTimeout(p.timer)
        resolve(fail(appError('CONNECTION_CLOSED', 'Not connected', 'The request could not be sent: the connection closed.', { retryable: true })))
      })
    })
  }

  /** Subscribe to event frames; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener)
    return () => this.eventListeners.delete(listener)
  }

  /** Called once when the connection ends for any reason other than close(). */
  onClose(listener: CloseListener): () => void {
    this.closeListeners.add(listener)
    return () => this.closeListeners.delete(listener)
  }

  /** Close on purpose. Pending requests fail with CANCELLED; close listeners are not called. */
  close(): void {
    if (this.closedWith) return
    this.closedWith = appError('CANCELLED', 'Disconnected', 'The connection was closed.')
    this.closeListeners.clear()
    this.failPending(this.closedWith)
    clearTimeout(this.watchdog)
    try {
      this.ws.close(1000, 'client closing')
    } catch {
      // already closed
    }
    setTimeout(() => this.ws.terminate(), 1_000).unref()
  }

  private shutdown(error: AppError): void {
    clearTimeout(this.watchdog)
    const first = this.closedWith === undefined || this.closedWith.code === 'LINK_DEAD'
    this.closedWith ??= error
    this.failPending(this.closedWith)
    if (first) for (const l of [...this.closeListeners]) l(this.closedWith)
    this.closeListeners.clear()
  }

  private failPending(error: AppError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.resolve(fail(error))
      this.pending.delete(id)
    }
  }
}

function isAcceptedAck(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && (payload as { status?: unknown }).status === 'accepted'
}
