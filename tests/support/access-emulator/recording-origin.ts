import http, { type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export interface OriginRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  upgrade: boolean
}

export interface RecordingOrigin {
  /** `http://127.0.0.1:<port>`, for an app's `upstream`. */
  url: string
  port: number
  /** Every HTTP request and WebSocket handshake the origin received. */
  requests: OriginRequest[]
  /** Server-side ends of open WebSockets. */
  sockets: Set<WebSocket>
  /** Resolves when the next WebSocket closes on the origin side, with its close code. */
  nextClose(): Promise<number>
  close(): Promise<void>
}

/**
 * A minimal origin behind the emulator: HTTP answers `200 {"ok":true,"path":…}` as JSON; WebSockets echo
 * every message. It records what it received so tests can check what the edge forwarded.
 */
export async function startRecordingOrigin(): Promise<RecordingOrigin> {
  const requests: OriginRequest[] = []
  const sockets = new Set<WebSocket>()
  const closeWaiters: ((code: number) => void)[] = []
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, upgrade: false })
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', server: 'recording-origin' })
      res.end(JSON.stringify({ ok: true, path: req.url }))
    })
  })
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, upgrade: true })
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
      ws.on('close', (code) => {
        sockets.delete(ws)
        closeWaiters.shift()?.(code)
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    sockets,
    nextClose: () => new Promise<number>((resolve) => closeWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate()
        wss.close()
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
