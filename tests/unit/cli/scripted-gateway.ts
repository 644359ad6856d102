/**
 * A minimal gateway for CLI tests: challenge, any connect accepted with hello-ok, then each
 * request handed to the test's handler (which may never answer, like a stuck gateway).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export interface Request {
  id: string
  method: string
  params: Record<string, unknown>
}

export interface ScriptedGateway {
  url: string
  requests: Request[]
  /** Resolves with the first request of this method. */
  next(method: string): Promise<Request>
  close(): Promise<void>
}

export interface Peer {
  ws: WebSocket
  answer(req: Request, payload: unknown): void
  chat(payload: Record<string, unknown>): void
}

export async function startScriptedGateway(onRequest: (req: Request, peer: Peer) => void): Promise<ScriptedGateway> {
  const server: Server = createServer()
  const wss = new WebSocketServer({ server })
  const requests: Request[] = []
  const waiters: { method: string; resolve: (r: Request) => void }[] = []
  wss.on('connection', (ws) => {
    let seq = 0
    const peer: Peer = {
      ws,
      answer: (req, payload) => ws.send(JSON.stringify({ type: 'res', id: req.id, ok: true, payload })),
      chat: (payload) => ws.send(JSON.stringify({ type: 'event', event: 'chat', payload: { seq: ++seq, ...payload }, seq }))
    }
    ws.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n-1', ts: Date.now() } }))
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { id: string; method: string; params?: Record<string, unknown> }
      if (frame.method === 'connect') {
        ws.send(
          JSON.stringify({
            type: 'res',
            id: frame.id,
            ok: true,
            payload: {
              type: 'hello-ok',
              protocol: 4,
              server: { version: 'scripted' },
              snapshot: { sessionDefaults: { mainSessionKey: 'agent:main:main' } },
              auth: { scopes: ['operator.read', 'operator.write'], method: 'token' },
              policy: { tickIntervalMs: 30_000 }
            }
          })
        )
        return
      }
      const req: Request = { id: frame.id, method: frame.method, params: frame.params ?? {} }
      requests.push(req)
      for (const w of waiters.filter((x) => x.method === req.method)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(req)
      }
      onRequest(req, peer)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    next: (method) => {
      const seen = requests.find((r) => r.method === method)
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ method, resolve }))
    },
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.close(() => resolve())
      })
  }
}
