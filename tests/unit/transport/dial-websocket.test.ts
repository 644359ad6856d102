import { createServer as createHttpServer } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { dialWebSocket } from '../../../src/main/transport/dial-websocket'
import { parseGatewayUrl, secureGatewayHref } from '../../../src/shared/gateway-url'
import { TestPki } from '../../support/access-emulator/certificates'

describe('dialWebSocket: a credential that cannot be put in a header', () => {
  it('is INVALID_INPUT (not an invalid address), and does not quote the value', async () => {
    const url = parseGatewayUrl('wss://127.0.0.1:9')
    if (!url.ok) throw new Error('bad url')
    const secret = 'abcdef0123456789\nsecond-line'
    const r = await dialWebSocket({
      url: url.value,
      access: { kind: 'service-token', clientId: 'abc.access', clientSecret: secret },
      timeoutMs: 2_000,
      userAgent: 'test'
    })
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('INVALID_INPUT')
      expect(r.error.message).toMatch(/cannot be sent in an HTTP header/)
      expect(JSON.stringify(r.error)).not.toContain('second-line')
    }
  })
})

describe('dialWebSocket: a plain ws:// address aimed at a port that speaks TLS', () => {
  const servers: { close(): unknown }[] = []
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => (s as Server).close(r))
  })

  async function listen(server: Server): Promise<number> {
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return (server.address() as AddressInfo).port
  }

  async function dial(href: string) {
    const url = parseGatewayUrl(href)
    if (!url.ok) throw new Error('bad url')
    return dialWebSocket({ url: url.value, access: { kind: 'none' }, timeoutMs: 5_000, userAgent: 'test' })
  }

  it('says the address needs wss://, with the address to use, after a TLS server hung up on the plain upgrade', async () => {
    const pki = await TestPki.create()
    const leaf = await pki.leafFor('127.0.0.1', 'self-signed')
    const port = await listen(createTlsServer({ cert: leaf.certPem, key: leaf.keyPem }))
    const r = await dial(`ws://127.0.0.1:${port}/gw?x=1`)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('TLS_REQUIRED')
    expect(r.error.title).toBe('This address needs wss://')
    expect(r.error.message).toContain(`Use wss://127.0.0.1:${port}/gw?x=[redacted] instead`)
    expect(r.error.nextSteps[0]).toMatchObject({ action: 'check-url' })
  })

  it('keeps the reset for a port that hangs up and does not speak TLS either', async () => {
    const port = await listen(createNetServer((socket) => socket.resetAndDestroy()))
    const r = await dial(`ws://127.0.0.1:${port}/`)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.code).toBe('CONNECTION_RESET')
  })

  it('a plain server relaying a TLS upstream’s "plain HTTP request was sent to HTTPS port" page: not TLS_REQUIRED (the port does not speak TLS), the proxy is named', async () => {
    const port = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(400, { 'content-type': 'text/html', server: 'nginx' })
        res.end('<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head><body></body></html>')
      })
    )
    const r = await dial(`ws://127.0.0.1:${port}`)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('UNEXPECTED_HTTP_STATUS')
    expect(r.error.likelyCauses?.[0]).toMatch(/proxy in front of it forwards plain HTTP to a TLS upstream/)
  })
})

describe('dialWebSocket: the TLS probe after a plain refusal', () => {
  const servers: Server[] = []
  const sockets = new Set<Socket>()
  afterEach(async () => {
    for (const socket of sockets) socket.destroy()
    sockets.clear()
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
  })
  async function listen(server: Server): Promise<number> {
    servers.push(server)
    server.on('connection', (socket: Socket) => sockets.add(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return (server.address() as AddressInfo).port
  }
  async function dial(href: string, timeoutMs = 5_000) {
    const url = parseGatewayUrl(href)
    if (!url.ok) throw new Error('bad url')
    return dialWebSocket({ url: url.value, access: { kind: 'none' }, timeoutMs, userAgent: 'test' })
  }

  it('a port that speaks TLS and answers plain HTTP with a 400 of its own words (as Go servers do) is TLS_REQUIRED', async () => {
    const pki = await TestPki.create()
    const leaf = await pki.leafFor('127.0.0.1', 'self-signed')
    const tlsServer = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem })
    tlsServer.on('tlsClientError', () => undefined)
    const port = await listen(
      createNetServer((socket) => {
        socket.once('data', (first) => {
          if (first[0] === 0x16) {
            // A TLS hello: hand the connection to a TLS server, as a server on one port for both does.
            socket.pause()
            socket.unshift(first)
            tlsServer.emit('connection', socket)
          } else {
            socket.end('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an unusual request.\n')
          }
        })
        socket.on('error', () => undefined)
      })
    )
    const r = await dial(`ws://127.0.0.1:${port}/`)
    expect(!r.ok && r.error.code).toBe('TLS_REQUIRED')
  })

  it('Go\u2019s, Apache\u2019s and nginx\u2019s words from a port that speaks TLS: TLS_REQUIRED; from a plain one: the proxy cause', async () => {
    const pki = await TestPki.create()
    const leaf = await pki.leafFor('127.0.0.1', 'self-signed')
    for (const body of ['Client sent an HTTP request to an HTTPS server.\n', "You're speaking plain HTTP to an SSL-enabled server port.", '400 The plain HTTP request was sent to HTTPS port']) {
      const tlsServer = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem })
      tlsServer.on('tlsClientError', () => undefined)
      const both = await listen(
        createNetServer((socket) => {
          socket.on('error', () => undefined)
          socket.once('data', (first) => {
            if (first[0] === 0x16) {
              socket.pause()
              socket.unshift(first)
              tlsServer.emit('connection', socket)
            } else socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
          })
        })
      )
      const r = await dial(`ws://127.0.0.1:${both}/`)
      expect(!r.ok && r.error.code, body).toBe('TLS_REQUIRED')
      const plain = await listen(
        createHttpServer((_req, res) => {
          res.writeHead(400, { 'content-type': 'text/plain' })
          res.end(body)
        })
      )
      const p = await dial(`ws://127.0.0.1:${plain}/`)
      expect(!p.ok && p.error.code, body).toBe('UNEXPECTED_HTTP_STATUS')
      expect(!p.ok && p.error.likelyCauses?.[0], body).toMatch(/forwards plain HTTP to a TLS upstream/)
    }
  })

  it('a plain 400 from a server that does not speak TLS stays an unexpected answer', async () => {
    const port = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(400)
        res.end('bad request')
      })
    )
    const r = await dial(`ws://127.0.0.1:${port}/`)
    expect(!r.ok && r.error.code).toBe('UNEXPECTED_HTTP_STATUS')
  })

  it('gets only the time the attempt has left: a reset with a hanging TLS hello is still a reset, within the limit', async () => {
    let connections = 0
    const port = await listen(
      createNetServer((socket) => {
        socket.on('error', () => undefined)
        // The upgrade is reset at once; the probe that follows is held without an answer.
        if (++connections === 1) socket.resetAndDestroy()
      })
    )
    const started = Date.now()
    const r = await dial(`ws://127.0.0.1:${port}/`, 1_000)
    expect(!r.ok && r.error.code).toBe('CONNECTION_RESET')
    expect(connections).toBe(2)
    // Ended by the probe's share of the limit, not by the attempt's own timer (limit + 250 ms).
    expect(Date.now() - started).toBeLessThan(1_250)
  })
})

describe('the secure variant of an address', () => {
  it('keeps the dialled port (ws://host is port 80) and drops :443', () => {
    expect(secureGatewayHref('ws://gw.example.com/')).toBe('wss://gw.example.com:80/')
    expect(secureGatewayHref('ws://gw.example.com:443/a?b=c')).toBe('wss://gw.example.com/a?b=c')
    expect(secureGatewayHref('ws://[::1]:18789/')).toBe('wss://[::1]:18789/')
  })
})
