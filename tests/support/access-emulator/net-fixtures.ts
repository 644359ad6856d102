import net from 'node:net'

export interface TcpFixture {
  host: '127.0.0.1'
  port: number
  /** Connections accepted so far. */
  readonly connections: number
  close(): Promise<void>
}

async function startTcpFixture(onConnection: (socket: net.Socket) => void): Promise<TcpFixture> {
  const sockets = new Set<net.Socket>()
  let connections = 0
  const server = net.createServer((socket) => {
    connections += 1
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    onConnection(socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('fixture did not bind a TCP port')
  return {
    host: '127.0.0.1',
    port: address.port,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      })
  }
}

/** Accepts TCP connections and never sends a byte (no TLS handshake either): for connect/handshake timeout tests. */
export function startBlackHoleServer(): Promise<TcpFixture> {
  return startTcpFixture((socket) => {
    // Read and discard so the client's writes never block; never answer.
    socket.resume()
  })
}

/** Accepts TCP connections and resets each at once (RST): for ECONNRESET handling. */
export function startResetServer(): Promise<TcpFixture> {
  return startTcpFixture((socket) => {
    socket.resetAndDestroy()
  })
}
