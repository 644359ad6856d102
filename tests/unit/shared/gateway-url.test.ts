import { describe, expect, it } from 'vitest'
import { isLoopbackHost, parseGatewayUrl } from '../../../src/shared/gateway-url'

describe('gateway URL parsing', () => {
  it('accepts ws and wss with ports, paths and IPv6', () => {
    const a = parseGatewayUrl('  wss://gateway.example.com/ws?x=1  ')
    expect(a.ok && a.value).toMatchObject({ href: 'wss://gateway.example.com/ws?x=1', secure: true, host: 'gateway.example.com', port: 443, path: '/ws?x=1', webOrigin: 'https://gateway.example.com' })
    const b = parseGatewayUrl('ws://127.0.0.1:18789')
    expect(b.ok && b.value).toMatchObject({ href: 'ws://127.0.0.1:18789/', secure: false, port: 18789, path: '/', webOrigin: 'http://127.0.0.1:18789' })
    const c = parseGatewayUrl('ws://[::1]:18789/')
    expect(c.ok && c.value).toMatchObject({ host: '::1', port: 18789 })
  })
  it('offers https:// as wss:// and http:// as ws:// with a note', () => {
    const r = parseGatewayUrl('https://gw.example.com:8443/')
    expect(r.ok && r.value.href).toBe('wss://gw.example.com:8443/')
    expect(r.ok && r.value.notes[0]).toMatch(/https:\/\/ was changed to wss:\/\//)
    const h = parseGatewayUrl('HTTP://localhost:18789')
    expect(h.ok && h.value.href).toBe('ws://localhost:18789/')
  })
  it.each([
    ['', /Enter the gateway address/],
    ['gateway.example.com', /needs a scheme/],
    ['127.0.0.1:18789', /needs a scheme/],
    ['ftp://x.example', /not supported/],
    ['wss://user:pw@gw.example.com', /user name or password/],
    ['wss://gw example.com', /spaces/],
    ['wss://gw.example.com:99999', /not a valid address/],
    ['wss://gw.example.com/?token=abc', /credential in its query \("token="\)/],
    ['wss://gw.example.com/?api_key=abc', /"api_key="/],
    ['wss://', /not a valid address|no host/],
    ['wss:///path', /no host name/],
    ['ws://localhost:0', /Port 0/],
    ['wss://gw.example.com\u200b/', /invisible characters/]
  ])('refuses %j clearly', (input, message) => {
    const r = parseGatewayUrl(input)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('INVALID_URL')
      expect(r.error.message).toMatch(message)
    }
  })
  it('drops a fragment', () => {
    const r = parseGatewayUrl('wss://gw.example.com/#x')
    expect(r.ok && r.value.href).toBe('wss://gw.example.com/')
  })
  it('knows loopback hosts', () => {
    expect(['localhost', '127.0.0.1', '127.10.0.2', '::1', 'app.localhost'].every(isLoopbackHost)).toBe(true)
    expect(['example.com', '10.0.0.1', '128.0.0.1'].some(isLoopbackHost)).toBe(false)
  })
})
