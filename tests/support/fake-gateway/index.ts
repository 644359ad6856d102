/**
 * A fake OpenClaw gateway for unit tests: a real WebSocket server that replays frames recorded
 * from a real gateway (tests/fixtures/openclaw-real), verifying what the client sends the way
 * the real one does (closed connect schema per protocol, Ed25519 signature over the v2/v3
 * payload, token, nonce). Integration tests use the real gateway instead.
 */
import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'

const FIXTURES = join(__dirname, '../../fixtures/openclaw-real')

interface Line {
  dir: string
  t: number
  frame?: Record<string, unknown>
  code?: number
  reason?: string
}

export function loadTranscript(name: string): Line[] {
  return readFileSync(join(FIXTURES, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line)
}

export interface RecordedRefusal {
  name: string
  ok?: boolean
  error?: { code: string; message: string; details?: Record<string, unknown>; retryable?: boolean; retryAfterMs?: number }
  close?: { code: number; reason: string }
}

export function loadRecordedRefusals(): RecordedRefusal[] {
  return JSON.parse(readFileSync(join(FIXTURES, 'errors-summary.json'), 'utf8')) as RecordedRefusal[]
}

function recordedHello(): Record<string, unknown> {
  for (const line of loadTranscript('handshake.jsonl')) {
    const payload = line.frame?.payload as Record<string, unknown> | undefined
    if (line.dir === 'recv' && line.frame?.type === 'res' && payload?.type === 'hello-ok') return structuredClone(payload)
  }
  throw new Error('handshake.jsonl has no hello-ok')
}

/** The recorded chat events of one run, in order, with the time offset of each. */
function recordedChatRun(file: string): { t: number; payload: Record<string, unknown> }[] {
  const out: { t: number; payload: Record<string, unknown> }[] = []
  for (const line of loadTranscript(file)) {
    if (line.dir === 'recv' && line.frame?.type === 'event' && line.frame.event === 'chat') {
      out.push({ t: line.t, payload: line.frame.payload as Record<string, unknown> })
    }
  }
  return out
}

const V3_CONNECT_FIELDS = ['minProtocol', 'maxProtocol', 'client', 'role', 'scopes', 'caps', 'commands', 'permissions', 'pathEnv', 'auth', 'device', 'locale', 'userAgent']
const V3_CLIENT_FIELDS = ['id', 'displayName', 'version', 'platform', 'deviceFamily', 'modelIdentifier', 'mode', 'instanceId']
const V3_CLIENT_IDS = ['webchat-ui', 'openclaw-control-ui', 'webchat', 'cli', 'gateway-client', 'openclaw-macos', 'openclaw-ios', 'openclaw-android', 'node-host', 'test', 'fingerprint', 'openclaw-probe']
const V4_EXTRA_CLIENT_IDS = ['openclaw-browser-copilot', 'openclaw-tui', 'openclaw-linux', 'openclaw-watchos', 'openclaw-worker']

export interface FakeGatewayOptions {
  token?: string
  /** Which generation to imitate. */
  protocol?: 3 | 4
  tickIntervalMs?: number
  /** Send ticks every interval (default true); false simulates a silent, dead link. */
  sendTicks?: boolean
  /** 'auto' approves new devices silently (like direct loopback); 'required' answers PAIRING_REQUIRED until approve(). */
  pairing?: 'auto' | 'required'
  /** Answer this many connects with UNAVAILABLE/1013 first (start-up). */
  startupRefusals?: number
  /** Never send connect.challenge. */
  noChallenge?: boolean
  /** Send junk text frames before the challenge and between events. */
  junk?: boolean
  /** Speed-up factor for replayed chat timings (default 20x faster). */
  chatSpeed?: number
  /** Which recorded run chat.send replays. */
  chatScript?: 'stream' | 'error'
  /** Also emit a run of another session before ours. */
  foreignSessionEvents?: boolean
  /** Also emit a run on the same session started by another client (another run id). */
  otherClientRun?: boolean
}

export interface FakeGateway {
  url: string
  port: number
  /** Every connect params object received. */
  connects: Record<string, unknown>[]
  /** Every request frame received after hello. */
  requests: { method: string; params: unknown }[]
  pendingRequestIds(): string[]
  approve(requestId: string): void
  /** Close every client socket abruptly (no close frame). */
  dropAll(): void
  close(): Promise<void>
}

export async function startFakeGateway(opts: FakeGatewayOptions = {}): Promise<FakeGateway> {
  const protocol = opts.protocol ?? 4
  const token = opts.token ?? 'fake-gateway-token-0123456789'
  const tickIntervalMs = opts.tickIntervalMs ?? 30_000
  const speed = opts.chatSpeed ?? 20
  const hello = recordedHello()
  const approvedDevices = new Set<string>()
  const pendingByDevice = new Map<string, string>()
  const deviceTokens = new Map<string, string>()
  const connects: Record<string, unknown>[] = []
  const requests: { method: string; params: unknown }[] = []
  let refusalsLeft = opts.startupRefusals ?? 0
  const sockets = new Set<WebSocket>()

  const server: Server = createServer((_req, res) => {
    res.writeHead(426).end()
  })
  const wss = new WebSocketServer({ server })

  wss.on('connection', (ws: WebSocket, _req: IncomingMessage) => {
    sockets.add(ws)
    ws.on('close', () => sockets.delete(ws))
    const nonce = randomUUID()
    const ts = Date.now()
    let helloDone = false
    let eventSeq = 0
    let tick: NodeJS.Timeout | undefined
    const send = (frame: Record<string, unknown>) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
    }
    const event = (name: string, payload: unknown) => {
      eventSeq++
      send({ type: 'event', event: name, payload, ...(protocol === 4 ? { seq: eventSeq } : {}) })
    }
    const refuse = (id: string, error: Record<string, unknown>, code: number, reason: string) => {
      send({ type: 'res', id, ok: false, error })
      setTimeout(() => ws.close(code, reason), 5)
    }
    ws.on('close', () => clearInterval(tick))
    if (opts.junk) ws.send('this is not json')
    if (!opts.noChallenge) {
      send({ type: 'event', event: 'connect.challenge', payload: { nonce, ts, ...(protocol === 4 ? { capabilities: ['model-catalog-snapshot'] } : {}) } })
    }

    ws.on('message', (data) => {
      let frame: Record<string, unknown>
      try {
        frame = JSON.parse(data.toString()) as Record<string, unknown>
      } catch {
        if (!helloDone) ws.close(1000)
        return
      }
      const id = String(frame.id ?? 'invalid')
      if (!helloDone) {
        if (frame.type !== 'req') return ws.close(1008, 'invalid request frame')
        if (frame.method !== 'connect') {
          return refuse(id, { code: 'INVALID_REQUEST', message: 'invalid handshake: first request must be connect' }, 1008, 'invalid handshake')
        }
        const params = (frame.params ?? {}) as Record<string, unknown>
        connects.push(params)
        if (refusalsLeft > 0) {
          refusalsLeft--
          return refuse(id, { code: 'UNAVAILABLE', message: 'gateway starting; retry shortly', retryable: true, retryAfterMs: 50, details: { reason: 'startup-sidecars' } }, 1013, 'gateway starting')
        }
        const schemaProblem = checkConnectSchema(params, protocol)
        if (schemaProblem) return refuse(id, { code: 'INVALID_REQUEST', message: `invalid connect params: ${schemaProblem}` }, 1008, 'invalid connect params')
        const min = Number(params.minProtocol)
        const max = Number(params.maxProtocol)
        if (!(min <= protocol && protocol <= max)) {
          return refuse(id, { code: 'INVALID_REQUEST', message: 'protocol mismatch', details: { code: 'PROTOCOL_MISMATCH', clientMinProtocol: min, clientMaxProtocol: max, expectedProtocol: protocol } }, 1002, 'protocol mismatch')
        }
        const device = params.device as Record<string, unknown> | undefined
        const auth = (params.auth ?? {}) as Record<string, unknown>
        const sentToken = typeof auth.token === 'string' ? auth.token : ''
        if (device) {
          const problem = verifyDevice(device, params, { nonce, protocol, token: sentToken })
          if (problem) return refuse(id, { code: 'INVALID_REQUEST', message: problem.message, details: { code: problem.code } }, 1008, problem.message)
        }
        const deviceId = device ? String(device.id) : undefined
        const deviceTokenOk = deviceId !== undefined && deviceTokens.get(deviceId) === sentToken && sentToken !== ''
        if (sentToken === '') {
          return refuse(id, { code: 'INVALID_REQUEST', message: 'unauthorized: gateway token missing (provide gateway auth token)', details: { code: 'AUTH_TOKEN_MISSING' } }, 1008, 'unauthorized: gateway token missing')
        }
        if (sentToken !== token && !deviceTokenOk) {
          return refuse(
            id,
            { code: 'INVALID_REQUEST', message: 'unauthorized: gateway token mismatch (provide gateway auth token)', details: { code: 'AUTH_TOKEN_MISMATCH', canRetryWithDeviceToken: device !== undefined, recommendedNextStep: 'update_auth_credentials' } },
            1008,
            'unauthorized: gateway token mismatch'
          )
        }
        let scopes: string[] = []
        let issuedDeviceToken: string | undefined
        if (deviceId) {
          if (!approvedDevices.has(deviceId)) {
            if (opts.pairing === 'required') {
              const requestId = pendingByDevice.get(deviceId) ?? randomUUID()
              pendingByDevice.set(deviceId, requestId)
              return refuse(
                id,
                { code: 'NOT_PAIRED', message: 'pairing required: device is not approved yet', details: { code: 'PAIRING_REQUIRED', reason: 'not-paired', requestId, deviceId } },
                1008,
                `pairing required: device is not approved yet (requestId: ${requestId})`
              )
            }
            approvedDevices.add(deviceId)
          }
          scopes = (params.scopes as string[]) ?? []
          if (!deviceTokens.has(deviceId)) {
            issuedDeviceToken = `fake-device-token-${randomUUID()}`
            deviceTokens.set(deviceId, issuedDeviceToken)
          }
        }
        const payload = structuredClone(hello)
        payload.protocol = protocol
        payload.auth = { role: 'operator', scopes, method: deviceTokenOk ? 'device-token' : 'token', ...(issuedDeviceToken ? { deviceToken: issuedDeviceToken } : {}) }
        payload.policy = { ...(payload.policy as object), tickIntervalMs }
        helloDone = true
        send({ type: 'res', id, ok: true, payload })
        if (opts.sendTicks !== false) tick = setInterval(() => event('tick', { ts: Date.now() }), tickIntervalMs)
        return
      }
      const method = String(frame.method)
      requests.push({ method, params: frame.params })
      const params = (frame.params ?? {}) as Record<string, unknown>
      if (method === 'chat.send') {
        const runId = String(params.idempotencyKey)
        const sessionKey = String(params.sessionKey)
        send({ type: 'res', id, ok: true, payload: { runId, status: 'started' } })
        const script = recordedChatRun(opts.chatScript === 'error' ? 'chat-error-retry.jsonl' : 'chat-stream.jsonl')
        const t0 = script[0]?.t ?? 0
        if (opts.foreignSessionEvents) {
          event('chat', { runId: 'foreign-run', sessionKey: 'agent:main:telegram:dm:42', seq: 1, state: 'delta', deltaText: 'not yours', message: { role: 'assistant', content: [{ type: 'text', text: 'not yours' }] } })
        }
        if (opts.otherClientRun) {
          event('chat', { runId: 'other-client-run', sessionKey, seq: 1, state: 'delta', deltaText: 'From elsewhere', message: { role: 'assistant', content: [{ type: 'text', text: 'From elsewhere' }] } })
          event('chat', { runId: 'other-client-run', sessionKey, seq: 2, state: 'final', message: { role: 'assistant', content: [{ type: 'text', text: 'From elsewhere.' }] } })
        }
        for (const step of script) {
          setTimeout(() => {
            if (opts.junk) ws.send('{"type":"event"')
            event('chat', { ...step.payload, runId, sessionKey })
          }, Math.round((step.t - t0) / speed))
        }
        return
      }
      if (method === 'chat.abort') {
        send({ type: 'res', id, ok: true, payload: { ok: true, aborted: false, runIds: [] } })
        return
      }
      if (method === 'chat.history') {
        send({ type: 'res', id, ok: true, payload: { sessionKey: params.sessionKey, messages: [{ role: 'user', content: 'hi', timestamp: 1 }, { role: 'assistant', content: [{ type: 'text', text: 'hello' }], timestamp: 2 }] } })
        return
      }
      if (method === 'sessions.list') {
        send({ type: 'res', id, ok: true, payload: { sessions: [{ key: 'agent:main:main', kind: 'direct', updatedAt: Date.now() }] } })
        return
      }
      send({ type: 'res', id, ok: false, error: { code: 'FORBIDDEN', message: 'missing scope: operator.admin', details: { code: 'MISSING_SCOPE', missingScope: 'operator.admin' } } })
    })
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    connects,
    requests,
    pendingRequestIds: () => [...pendingByDevice.values()],
    approve(requestId) {
      for (const [deviceId, rid] of pendingByDevice) {
        if (rid === requestId) {
          approvedDevices.add(deviceId)
          pendingByDevice.delete(deviceId)
        }
      }
    },
    dropAll() {
      for (const s of sockets) s.terminate()
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.terminate()
        wss.close()
        server.close(() => resolve())
      })
  }
}

function checkConnectSchema(params: Record<string, unknown>, protocol: 3 | 4): string | null {
  for (const key of Object.keys(params)) {
    if (protocol === 3 && !V3_CONNECT_FIELDS.includes(key)) return `at root: unexpected property '${key}'`
  }
  const client = (params.client ?? {}) as Record<string, unknown>
  for (const key of Object.keys(client)) {
    if (protocol === 3 && !V3_CLIENT_FIELDS.includes(key)) return `at /client: unexpected property '${key}'`
  }
  const ids = protocol === 3 ? V3_CLIENT_IDS : [...V3_CLIENT_IDS, ...V4_EXTRA_CLIENT_IDS]
  if (!ids.includes(String(client.id))) return 'at /client/id: must be equal to one of the allowed values'
  const auth = (params.auth ?? {}) as Record<string, unknown>
  for (const key of Object.keys(auth)) {
    if (protocol === 3 && key !== 'token' && key !== 'password') return `at /auth: unexpected property '${key}'`
  }
  return null
}

function lowerAscii(v: unknown): string {
  return typeof v === 'string' ? v.trim().replace(/[A-Z]/g, (c) => c.toLowerCase()) : ''
}

function verifyDevice(
  device: Record<string, unknown>,
  params: Record<string, unknown>,
  ctx: { nonce: string; protocol: 3 | 4; token: string }
): { code: string; message: string } | null {
  const raw = Buffer.from(String(device.publicKey), 'base64url')
  if (createHash('sha256').update(raw).digest('hex') !== device.id) {
    return { code: 'DEVICE_AUTH_DEVICE_ID_MISMATCH', message: 'device identity mismatch' }
  }
  if (device.nonce !== ctx.nonce) return { code: 'DEVICE_AUTH_NONCE_MISMATCH', message: 'device nonce mismatch' }
  const signedAt = Number(device.signedAt)
  if (Math.abs(Date.now() - signedAt) > 120_000) return { code: 'DEVICE_AUTH_SIGNATURE_EXPIRED', message: 'device signature expired' }
  const client = (params.client ?? {}) as Record<string, unknown>
  const fields = [String(device.id), String(client.id), String(client.mode), String(params.role ?? 'operator'), ((params.scopes as string[]) ?? []).join(','), String(signedAt), ctx.token, ctx.nonce]
  const candidates = [['v2', ...fields].join('|')]
  if (ctx.protocol === 4) candidates.push(['v3', ...fields, lowerAscii(client.platform), lowerAscii(client.deviceFamily)].join('|'))
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: String(device.publicKey) }, format: 'jwk' })
  const sig = Buffer.from(String(device.signature), 'base64url')
  const okSig = candidates.some((payload) => verify(null, Buffer.from(payload, 'utf8'), key, sig))
  return okSig ? null : { code: 'DEVICE_AUTH_SIGNATURE_INVALID', message: 'device signature invalid' }
}
