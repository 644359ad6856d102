/**
 * GatewayConnection against a scripted WebSocket server: refusals in unexpected shapes and
 * byte streams that are not valid WebSocket, during the handshake and after hello.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { connectGateway, type ConnectorDeps, type ConnectTarget } from '../../../src/main/gateway/gateway-connector'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { parseGatewayUrl } from '../../../src/shared/gateway-url'

type Script = (ws: WebSocket, socket: Duplex, frame: Record<string, unknown>) => void

let server: Server | undefined
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  server = undefined
})

/** A server that sends the challenge, then lets `onConnect` answer the connect request. */
async function scripted(onConnect: Script, afterHello?: Script): Promise<ConnectTarget> {
  server = createServer()
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws) => {
    const socket = (ws as unknown as { _socket: Duplex })._socket
    ws.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n-1', ts: Date.now() } }))
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Record<string, unknown>
      if (frame.method === 'connect') onConnect(ws, socket, frame)
      else afterHello?.(ws, socket, frame)
    })
  })
  server.on('close', () => {
    for (const c of wss.clients) c.terminate()
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  const url = parseGatewayUrl(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`)
  if (!url.ok) throw new Error('bad url')
  return { targetId: 't', url: url.value, gatewayToken: 'tok', access: { kind: 'none' }, connectTimeoutMs: 5_000 }
}

const deps = (): ConnectorDeps => ({
  secrets: new MemorySecretStore(),
  client: { version: '0.1.0', platform: 'linux', deviceFamily: 'desktop', displayName: 'test' },
  userAgent: 'test'
})

const helloOk = (id: unknown) =>
  JSON.stringify({ type: 'res', id, ok: true, payload: { type: 'hello-ok', protocol: 4, auth: { scopes: ['operator.read'] }, policy: { tickIntervalMs: 30_000 } } })

/** Raw bytes of one unmasked server frame. */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, payload.length])
  return Buffer.concat([head, payload])
}

describe('a refusal whose error is not in the documented shape', () => {
  it.each([
    ['a bare string', 'just a string'],
    ['an object without code', { message: 'no code here' }],
    ['a numeric code', { code: 7 }]
  ])('%s is GATEWAY_REJECTED at once, not a handshake timeout', async (_what, error) => {
    const target = await scripted((ws, _s, f) => {
      ws.send(JSON.stringify({ type: 'res', id: f.id, ok: false, error }))
      setTimeout(() => ws.close(1008, 'refused'), 5)
    })
    const t0 = Date.now()
    const r = await connectGateway(target, deps())
    expect(Date.now() - t0).toBeLessThan(2_000)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('GATEWAY_REJECTED')
      expect(r.error.details.gatewayCode).toBe('UNKNOWN')
      expect(r.error.details.closeCode).toBe(1008)
    }
  })
  it('also without a close after it (the 1 s grace)', async () => {
    const target = await scripted((ws, _s, f) => ws.send(JSON.stringify({ type: 'res', id: f.id, ok: false, error: 'nope' })))
    const t0 = Date.now()
    const r = await connectGateway(target, deps())
    expect(Date.now() - t0).toBeLessThan(2_500)
    expect(!r.ok && r.error.code).toBe('GATEWAY_REJECTED')
    expect(!r.ok && r.error.details.gatewayMessage).toBe('nope')
  })
})

describe('a byte stream that is not valid WebSocket', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['an unknown opcode', frame(0x3, Buffer.alloc(0)), /a frame of an unknown type/],
    ['bad UTF-8 in a text frame', frame(0x1, Buffer.from([0xff, 0xfe, 0xfd])), /not valid UTF-8/],
    // Header announcing a 64-bit length of 40 MB: over the 32 MB limit before any payload.
    ['a message over the size limit', Buffer.concat([Buffer.from([0x81, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(40n * 1024n * 1024n); return b })()]), /a message larger than 32 MB/]
  ]

  it.each(cases)('during the handshake: %s is PROTOCOL_ERROR', async (_what, bytes, words) => {
    const target = await scripted((_ws, socket) => socket.write(bytes))
    const r = await connectGateway(target, deps())
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('PROTOCOL_ERROR')
      expect(r.error.message).toMatch(/^The gateway sent data that is not valid WebSocket \(/)
      expect(r.error.message).toMatch(words)
      expect(r.error.details.systemCode).toMatch(/^WS_ERR_/)
    }
  })

  it.each(cases)('after hello: %s closes the connection with PROTOCOL_ERROR', async (_what, bytes, words) => {
    const target = await scripted(
      (ws, _s, f) => ws.send(helloOk(f.id)),
      (_ws, socket) => socket.write(bytes)
    )
    const r = await connectGateway(target, deps())
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const conn = r.value.connection
    const closed = new Promise<{ code: string; message: string }>((resolve) => conn.onClose(resolve))
    const answer = await conn.request('health', {})
    const error = await closed
    expect(error.code).toBe('PROTOCOL_ERROR')
    expect(error.message).toMatch(words)
    expect(!answer.ok && answer.error.code).toBe('PROTOCOL_ERROR')
  })

  it('a plain close after hello is still reported as a close', async () => {
    const target = await scripted(
      (ws, _s, f) => ws.send(helloOk(f.id)),
      (ws) => ws.close(1011, 'server going away')
    )
    const r = await connectGateway(target, deps())
    if (!r.ok) throw new Error(r.error.message)
    const closed = new Promise<{ code: string; details: { closeCode?: number } }>((resolve) => r.value.connection.onClose(resolve))
    void r.value.connection.request('health', {})
    const error = await closed
    expect(error.code).toBe('CONNECTION_CLOSED')
    expect(error.details.closeCode).toBe(1011)
  })
})
