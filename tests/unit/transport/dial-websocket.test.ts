import { createServer as createHttpServer } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net'
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
    expect(r.error.message).toContain(`Use wss://127.0.0.1:${port}/gw?x=1 instead`)
    expect(r.error.nextSteps[0]).toMatchObject({ action: 'check-url' })
  })

  it('keeps the reset for a port that hangs up and does not speak TLS either', async () => {
    const port = await listen(createNetServer((socket) => socket.resetAndDestroy()))
    const r = await dial(`ws://127.0.0.1:${port}/`)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.code).toBe('CONNECTION_RESET')
  })

  it('reads the web server’s "plain HTTP request was sent to HTTPS port" page the same way', async () => {
    const port = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(400, { 'content-type': 'text/html', server: 'nginx' })
        res.end('<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head><body></body></html>')
      })
    )
    const r = await dial(`ws://127.0.0.1:${port}`)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('TLS_REQUIRED')
    expect(r.error.message).toContain(`Use wss://127.0.0.1:${port}/ instead`)
  })
})

describe('the secure variant of an address', () => {
  it('keeps the dialled port (ws://host is port 80) and drops :443', () => {
    expect(secureGatewayHref('ws://gw.example.com/')).toBe('wss://gw.example.com:80/')
    expect(secureGatewayHref('ws://gw.example.com:443/a?b=c')).toBe('wss://gw.example.com/a?b=c')
    expect(secureGatewayHref('ws://[::1]:18789/')).toBe('wss://[::1]:18789/')
  })
})
