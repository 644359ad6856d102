/**
 * A tiny TCP proxy the e2e tests put between the Access emulator and the real gateway, so a
 * test can cut a live link (`dropAll()`) the way a network blip or a gateway restart does,
 * while every new connection still goes through Access and the gateway.
 *
 * `setDown(true)` also refuses new connections (closed at once, so the emulator answers its
 * own 502) until `setDown(false)`: the client stays in its retry loop long enough to be seen.
 */
import net, { type AddressInfo, type Socket } from 'node:net'

export interface DroppingProxy {
  /** http://127.0.0.1:<port> — use as the emulator app's upstream. */
  readonly url: string
  readonly port: number
  /** Connections accepted so far (forwarded or refused). */
  readonly accepted: number
  /** Pairs currently open. */
  readonly open: number
  /** Destroys every open connection (both sides). Returns how many pairs were cut. */
  dropAll(): number
  /** While down, new connections are closed immediately instead of forwarded. */
  setDown(down: boolean): void
  close(): Promise<void>
}

export async function startDroppingProxy(target: { host: string; port: number }): Promise<DroppingProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>()
  let down = false
  let accepted = 0

  const server = net.createServer((client) => {
    accepted++
    if (down) {
      client.destroy()
      return
    }
    const upstream = net.connect({ host: target.host, port: target.port })
    const pair = { client, upstream }
    pairs.add(pair)
    const closeBoth = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', closeBoth)
    upstream.on('error', closeBoth)
    client.on('close', closeBoth)
    upstream.on('close', closeBoth)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted
    },
    get open() {
      return pairs.size
    },
    dropAll() {
      const n = pairs.size
      for (const { client, upstream } of [...pairs]) {
        // resetAndDestroy sends a TCP RST where available: the closest thing to a dead link.
        if (typeof client.resetAndDestroy === 'function') client.resetAndDestroy()
        else client.destroy()
        upstream.destroy()
      }
      pairs.clear()
      return n
    },
    setDown(next) {
      down = next
    },
    async close() {
      for (const { client, upstream } of [...pairs]) {
        client.destroy()
        upstream.destroy()
      }
      pairs.clear()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
