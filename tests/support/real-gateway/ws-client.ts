// A small, self-contained OpenClaw gateway WebSocket client for the test harness and for probing
// the real gateway in integration tests. It deliberately does not import from src/: the harness
// must keep working (and keep telling the truth about the gateway) while the product code changes.
//
// Frames (wire v4): req {type:'req',id,method,params}; res {type:'res',id,ok,payload|error};
// event {type:'event',event,payload,seq?}. The server speaks first with connect.challenge.
import WebSocket from 'ws'
import { randomUUID } from 'node:crypto'
import { signDevice, type DeviceIdentity, type SignatureVersion } from './device-identity'

export interface GatewayError {
  code: string
  message: string
  details?: Record<string, unknown>
  retryable?: boolean
  retryAfterMs?: number
}

export interface GatewayFrame {
  type: string
  id?: string
  ok?: boolean
  method?: string
  event?: string
  seq?: number
  payload?: unknown
  error?: GatewayError
  [key: string]: unknown
}

export interface CloseInfo {
  code: number
  reason: string
}

/** The WebSocket upgrade was answered with an HTTP status instead of 101. */
export class GatewayUpgradeError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Record<string, string | string[] | undefined>
  ) {
    super(`gateway refused the WebSocket upgrade: HTTP ${status} ${body}`)
    this.name = 'GatewayUpgradeError'
  }
}

/** A request was answered with ok:false. */
export class GatewayRequestError extends Error {
  constructor(
    readonly method: string,
    readonly error: GatewayError
  ) {
    super(`${method} failed: ${error.code} ${error.message}`)
    this.name = 'GatewayRequestError'
  }
}

export interface OpenOptions {
  /** Extra HTTP headers on the upgrade request (e.g. X-Forwarded-For). */
  headers?: Record<string, string>
  /** Sends an Origin header. */
  origin?: string
  /** Timeout for the upgrade in ms (default 10 s). */
  timeoutMs?: number
}

interface Waiter {
  pred: (frame: GatewayFrame) => boolean
  resolve: (frame: GatewayFrame) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/** One WebSocket to the gateway with frame buffering, waits and request/response matching. */
export class GatewaySocket {
  /** Every frame received, oldest first (never trimmed). */
  readonly frames: GatewayFrame[] = []
  closed: CloseInfo | null = null
  private readonly pending: GatewayFrame[] = []
  private readonly waiters: Waiter[] = []
  private readonly closeWaiters: Array<(info: CloseInfo) => void> = []
  private nextId = 0

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: WebSocket.RawData) => {
      let frame: GatewayFrame
      try {
        frame = JSON.parse(data.toString()) as GatewayFrame
      } catch {
        frame = { type: 'invalid-json', raw: data.toString() }
      }
      this.frames.push(frame)
      this.pending.push(frame)
      this.flush()
    })
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() }
      for (const w of this.closeWaiters.splice(0)) w(this.closed)
      this.flush()
    })
    ws.on('error', () => {
      // surfaced through close / open rejection
    })
  }

  /** Opens the socket; rejects with GatewayUpgradeError when the gateway answers with HTTP. */
  static open(url: string, options: OpenOptions = {}): Promise<GatewaySocket> {
    const headers: Record<string, string> = { ...options.headers }
    if (options.origin !== undefined) headers.Origin = options.origin
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: options.timeoutMs ?? 10_000 })
    // Attach the message handlers before 'open' so the challenge (sent right away) is not lost.
    const socket = new GatewaySocket(ws)
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket))
      ws.once('unexpected-response', (_req, res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => {
          reject(new GatewayUpgradeError(res.statusCode ?? 0, body, res.headers))
          ws.terminate()
        })
        res.on('error', () => reject(new GatewayUpgradeError(res.statusCode ?? 0, body, res.headers)))
      })
      ws.once('error', (err: Error) => reject(err))
    })
  }

  private flush(): void {
    for (const w of [...this.waiters]) {
      const idx = this.pending.findIndex(w.pred)
      if (idx >= 0) {
        const [frame] = this.pending.splice(idx, 1)
        this.removeWaiter(w)
        if (frame) w.resolve(frame)
      } else if (this.closed) {
        this.removeWaiter(w)
        w.reject(new Error(`gateway socket closed (${this.closed.code} ${this.closed.reason}) while waiting`))
      }
    }
  }

  private removeWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w)
    if (i >= 0) this.waiters.splice(i, 1)
    clearTimeout(w.timer)
  }

  /** Resolves with (and consumes) the first not-yet-consumed frame matching pred. */
  waitFor(pred: (frame: GatewayFrame) => boolean, timeoutMs = 15_000, what = 'frame'): Promise<GatewayFrame> {
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removeWaiter(w)
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
        }, timeoutMs)
      }
      this.waiters.push(w)
      this.flush()
    })
  }

  waitForEvent(event: string, timeoutMs = 15_000, pred?: (payload: unknown) => boolean): Promise<GatewayFrame> {
    return this.waitFor(
      (f) => f.type === 'event' && f.event === event && (pred ? pred(f.payload) : true),
      timeoutMs,
      `event ${event}`
    )
  }

  waitForClose(timeoutMs = 5_000): Promise<CloseInfo> {
    if (this.closed) return Promise.resolve(this.closed)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs)
      this.closeWaiters.push((info) => {
        clearTimeout(timer)
        resolve(info)
      })
    })
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame))
  }

  /** Sends a request and resolves with its res frame, whether ok or not. */
  request(method: string, params: unknown = {}, timeoutMs = 30_000): Promise<GatewayFrame> {
    const id = `${method}-${++this.nextId}-${randomUUID().slice(0, 8)}`
    this.send({ type: 'req', id, method, params })
    return this.waitFor((f) => f.type === 'res' && f.id === id, timeoutMs, `response to ${method}`)
  }

  /** Like request, but returns the payload and throws GatewayRequestError on ok:false. */
  async call<T = unknown>(method: string, params: unknown = {}, timeoutMs = 30_000): Promise<T> {
    const res = await this.request(method, params, timeoutMs)
    if (res.ok !== true) throw new GatewayRequestError(method, res.error ?? { code: 'UNKNOWN', message: 'no error body' })
    return res.payload as T
  }

  close(code = 1000, reason = 'done'): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason)
  }

  /** Closes and waits for the close to complete (bounded). */
  async closeAndWait(timeoutMs = 2_000): Promise<void> {
    this.close()
    await this.waitForClose(timeoutMs).catch(() => this.ws.terminate())
  }
}

export interface ClientInfo {
  id: string
  mode: string
  version?: string
  platform?: string
  deviceFamily?: string
  displayName?: string
}

export interface ConnectOptions extends OpenOptions {
  client?: ClientInfo
  role?: string
  scopes?: string[]
  minProtocol?: number
  maxProtocol?: number
  caps?: string[]
  /** Shared gateway token (or a device token sent in the token field). null/undefined: none. */
  token?: string | null
  deviceToken?: string
  /** Replaces the whole auth object when given. */
  auth?: Record<string, unknown>
  /** Signs the connect with this identity. */
  identity?: DeviceIdentity
  signatureVersion?: SignatureVersion
  /** Credential put into the signature; defaults to auth.token ?? auth.deviceToken ?? auth.bootstrapToken. */
  signatureToken?: string | null
  /** Last-minute changes to the connect params (after signing). */
  mutate?: (params: Record<string, unknown>, challenge: ConnectChallenge) => void
  /** Timeout for the challenge and for the connect response (default 20 s each). */
  handshakeTimeoutMs?: number
}

export interface ConnectChallenge {
  nonce: string
  ts: number
  [key: string]: unknown
}

export interface HelloAuth {
  method?: string
  role?: string
  scopes?: string[]
  deviceToken?: string
  issuedAtMs?: number
  [key: string]: unknown
}

export interface HelloOk {
  type: 'hello-ok'
  protocol: number
  server: Record<string, unknown>
  features: { methods: string[]; events: string[]; [key: string]: unknown }
  snapshot: Record<string, unknown>
  auth?: HelloAuth
  policy: Record<string, unknown>
  [key: string]: unknown
}

export interface ConnectResult {
  socket: GatewaySocket
  challenge: ConnectChallenge
  params: Record<string, unknown>
  response: GatewayFrame
  /** Set when the gateway answered hello-ok (the socket stays open). */
  hello?: HelloOk
  /** Set when the connect was refused (the gateway then closes the socket). */
  error?: GatewayError
  /** The close frame after a refusal (awaited briefly). */
  close?: CloseInfo
}

export const DEFAULT_OPERATOR_SCOPES = ['operator.read', 'operator.write']

/**
 * Opens a socket, waits for the challenge and sends one connect. Never throws for a refused
 * connect (inspect `error`/`close`); throws GatewayUpgradeError for an HTTP refusal and Error for
 * transport failures and timeouts.
 */
export async function connectGateway(url: string, options: ConnectOptions = {}): Promise<ConnectResult> {
  const timeout = options.handshakeTimeoutMs ?? 20_000
  const socket = await GatewaySocket.open(url, options)
  try {
    const challengeFrame = await socket.waitForEvent('connect.challenge', timeout)
    const challenge = challengeFrame.payload as ConnectChallenge
    const client: ClientInfo = options.client ?? { id: 'gateway-client', mode: 'ui', version: '0.0.0-test', platform: 'linux' }
    const clientParams: Record<string, unknown> = { version: '0.0.0-test', ...client }
    const role = options.role ?? 'operator'
    const scopes = options.scopes ?? DEFAULT_OPERATOR_SCOPES
    const params: Record<string, unknown> = {
      minProtocol: options.minProtocol ?? 4,
      maxProtocol: options.maxProtocol ?? 4,
      client: clientParams,
      role,
      scopes,
      caps: options.caps ?? []
    }
    let auth: Record<string, unknown> | undefined = options.auth
    if (!auth) {
      const a: Record<string, unknown> = {}
      if (options.token !== undefined && options.token !== null) a.token = options.token
      if (options.deviceToken !== undefined) a.deviceToken = options.deviceToken
      if (Object.keys(a).length > 0) auth = a
    }
    if (auth) params.auth = auth
    if (options.identity) {
      const pick = (k: string): string | undefined => (typeof auth?.[k] === 'string' ? (auth[k] as string) : undefined)
      const sigToken =
        options.signatureToken !== undefined ? options.signatureToken : (pick('token') ?? pick('deviceToken') ?? pick('bootstrapToken') ?? '')
      params.device = signDevice(
        options.identity,
        {
          clientId: client.id,
          clientMode: client.mode,
          role,
          scopes,
          signedAt: challenge.ts,
          token: sigToken,
          nonce: challenge.nonce,
          platform: client.platform,
          deviceFamily: client.deviceFamily
        },
        options.signatureVersion ?? 'v3'
      )
    }
    options.mutate?.(params, challenge)
    const response = await socket.request('connect', params, timeout)
    const result: ConnectResult = { socket, challenge, params, response }
    if (response.ok === true) {
      result.hello = response.payload as HelloOk
    } else {
      result.error = response.error ?? { code: 'UNKNOWN', message: 'connect refused without error body' }
      result.close = await socket.waitForClose(3_000).catch(() => undefined)
    }
    return result
  } catch (err) {
    socket.ws.terminate()
    throw err
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function isRetryableStartupFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE'
}

/**
 * connectGateway, retried while the gateway is still starting: UNAVAILABLE answers (close 1013,
 * "gateway starting; retry shortly", waits retryAfterMs) and refused TCP connections.
 */
export async function connectGatewayWithRetry(url: string, options: ConnectOptions = {}, deadlineMs = 30_000): Promise<ConnectResult> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    try {
      const result = await connectGateway(url, options)
      if (result.error?.code === 'UNAVAILABLE' && Date.now() < deadline) {
        await sleep(Math.min(Math.max(result.error.retryAfterMs ?? 500, 100), 2_000))
        continue
      }
      return result
    } catch (err) {
      if (isRetryableStartupFailure(err) && Date.now() < deadline) {
        await sleep(250)
        continue
      }
      throw err
    }
  }
}

export const ADMIN_CLIENT: ClientInfo = { id: 'cli', mode: 'cli', version: '0.0.0-aether-test-harness', platform: 'linux' }
export const ADMIN_SCOPES = ['operator.read', 'operator.pairing', 'operator.admin']

/**
 * An admin connection: client cli/cli with the shared token and no device. On direct loopback the
 * gateway keeps the requested scopes for this client, so it can approve pairings.
 */
export async function openAdminConnection(url: string, token: string, deadlineMs = 30_000): Promise<GatewaySocket> {
  const result = await connectGatewayWithRetry(
    url,
    { client: ADMIN_CLIENT, scopes: ADMIN_SCOPES, token, minProtocol: 3, maxProtocol: 4 },
    deadlineMs
  )
  if (!result.hello) {
    throw new Error(`admin connect refused: ${result.error?.code} ${result.error?.message} ${JSON.stringify(result.error?.details ?? {})}`)
  }
  return result.socket
}

export interface PendingPairing {
  requestId: string
  deviceId: string
  clientId?: string
  clientMode?: string
  role?: string
  scopes?: string[]
  [key: string]: unknown
}

export interface PairedDevice {
  deviceId: string
  clientId?: string
  clientMode?: string
  scopes?: string[]
  [key: string]: unknown
}

export interface PairingList {
  pending: PendingPairing[]
  paired: PairedDevice[]
}

async function withAdmin<T>(url: string, token: string, fn: (socket: GatewaySocket) => Promise<T>): Promise<T> {
  const socket = await openAdminConnection(url, token)
  try {
    return await fn(socket)
  } finally {
    await socket.closeAndWait()
  }
}

/** device.pair.list over a fresh admin connection. */
export function listPairings(url: string, token: string): Promise<PairingList> {
  return withAdmin(url, token, async (s) => {
    const payload = await s.call<Partial<PairingList>>('device.pair.list', {})
    return { pending: payload.pending ?? [], paired: payload.paired ?? [] }
  })
}

/** The pending pairing requests (device.pair.list → pending). */
export async function listPendingPairings(url: string, token: string): Promise<PendingPairing[]> {
  return (await listPairings(url, token)).pending
}

/** Approves a pending pairing request (device.pair.approve) over a fresh admin connection. */
export function approveDevice(url: string, token: string, requestId: string): Promise<unknown> {
  return withAdmin(url, token, (s) => s.call('device.pair.approve', { requestId }))
}
