import { describe, expect, it } from 'vitest'
import { displayGatewayUrl, gatewayUrlSecrets, isLoopbackHost, parseGatewayUrl } from '../../../src/shared/gateway-url'

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
    ['wss://gw.example.com:99999', /port 99999 is out of range/],
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

  it('refuses host names no resolver can look up: a label over 63 characters, a name over 253', () => {
    for (const [input, message] of [
      [`wss://${'a'.repeat(5000)}.com`, /5004 characters long; a DNS name has at most 253/],
      [`wss://${'a'.repeat(64)}.example.com`, /64 characters long; DNS allows at most 63/],
      [`wss://${Array(64).fill('abc').join('.')}`, /255 characters long/]
    ] as const) {
      const r = parseGatewayUrl(input)
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.error.code).toBe('INVALID_URL')
        expect(r.error.message).toMatch(message)
      }
    }
    // At the limits, and with the trailing dot of a fully qualified name: accepted.
    expect(parseGatewayUrl(`wss://${'a'.repeat(63)}.example.com`).ok).toBe(true)
    const longest = `${Array(63).fill('abc').join('.')}.a`
    expect(longest).toHaveLength(253)
    expect(parseGatewayUrl(`wss://${longest}./`).ok).toBe(true)
    expect(parseGatewayUrl('ws://[::1]:18789').ok).toBe(true)
  })

  it('says what is wrong with an address the URL parser refuses, rather than "not valid"', () => {
    for (const [input, message] of [
      ['ws://::1:18789', /IPv6 address goes in square brackets.*ws:\/\/\[::1\]:18789/],
      ['ws://::1', /IPv6 address goes in square brackets/],
      ['wss://2001:db8::1', /square brackets.*wss:\/\/\[2001:db8::1\]:443/],
      ['ws://fe80::1%eth0:18789', /IPv6 zone .* cannot be used/],
      ['ws://[fe80::1%25eth0]:80', /IPv6 zone .* cannot be used/],
      ['ws://[::1:18789', /opening \[ but no closing \]/],
      ['ws://gateway.example.com:abc', /port "abc" is not a number/],
      ['ws://gateway.example.com:99999', /port 99999 is out of range.*1 to 65535/],
      ['ws://a..example.com', /empty part \(two dots in a row/],
      ['ws://.example.com', /empty part/],
      ['ws://a.example..', /empty part/],
      ['ws://.', /empty part/],
      [`ws://gateway.example.com:${'x'.repeat(300)}`, /^The port is not a number/],
      ['ws://1.2.3.4:5:6', /not a valid address/]
    ] as const) {
      const r = parseGatewayUrl(input)
      expect(r.ok, input).toBe(false)
      if (!r.ok) {
        expect(r.error.code).toBe('INVALID_URL')
        expect(r.error.message, input).toMatch(message)
      }
    }
    // Credentials are never echoed, also when the password holds / ? or # and a parser would
    // read part of it as the port.
    for (const input of ['ws://user:hunter2@::1', 'ws://admin:hunter2/x@host', 'ws://admin:hunter2#x@host:1', 'ws://admin:hunter2?@host']) {
      const r = parseGatewayUrl(input)
      expect(r.ok, input).toBe(false)
      if (!r.ok) {
        expect(r.error.message, input).not.toContain('hunter2')
        expect(r.error.message).toMatch(/user name or password/)
      }
      expect(displayGatewayUrl(input), input).not.toContain('hunter2')
      expect(gatewayUrlSecrets(input), input).toContain('hunter2')
    }
    // A password may start with digits and hold / \\ ? (then it parses as a port and a path):
    // any "@" is refused first, before scheme advice, and everything up to the last "@" is hidden.
    for (const input of ['ws://admin:2024/PWXq@127.0.0.1:1', 'ws://admin:2024\\PWXq@h', 'ws://admin:2024?PWXq@h', 'ws:///admin:2024/PWXq@h', 'wss://admin:2024/PWXq@h', 'ws:/admin:2024/PWXq@h', 'wss//admin:2024/PWXq@h', 'admin:2024/PWXq@h', 'ws://@host']) {
      const r = parseGatewayUrl(input)
      expect(!r.ok && r.error.message, input).toMatch(/Do not put a user name or password in the address \(it contains an "@"\)/)
      expect(displayGatewayUrl(input), input).not.toMatch(/2024|PWXq/)
      if (input !== 'ws://@host') expect(gatewayUrlSecrets(input), input).toEqual(expect.arrayContaining(['2024', 'PWXq']))
    }
    // Even an "@" that could be in a path is refused (a gateway address has none) and hidden.
    expect(parseGatewayUrl('wss://gw.example.com/@me').ok).toBe(false)
    expect(displayGatewayUrl('wss://gw.example.com/@me')).toBe('wss://me')
  })
})

describe('gateway URL display', () => {
  it('removes the user name and password, and replaces query values and the fragment', () => {
    expect(displayGatewayUrl('ws://user:s3cr3tpw@127.0.0.1:1')).toBe('ws://127.0.0.1:1')
    expect(displayGatewayUrl('wss://a@b:c@gw.example.com/x')).toBe('wss://gw.example.com/x')
    expect(displayGatewayUrl('user:pw@gw.example.com')).toBe('gw.example.com')
    expect(displayGatewayUrl('ws://127.0.0.1:1/?token=QUERYSECRET123&x&b=2')).toBe('ws://127.0.0.1:1/?token=[redacted]&[redacted]&b=[redacted]')
    expect(displayGatewayUrl('ws://127.0.0.1:1/#password=FRAGSECRET')).toBe('ws://127.0.0.1:1/#[redacted]')
    expect(displayGatewayUrl('wss://gw.example.com/path@x?')).toBe('wss://x?')
    expect(displayGatewayUrl('wss://gw.example.com/#')).toBe('wss://gw.example.com/')
  })
  it('is one line and at most 200 characters', () => {
    expect(displayGatewayUrl('wss://gw.example.com/\n\r\u001b[2Jfake line\u200b')).toBe('wss://gw.example.com/ [2Jfake line')
    const long = displayGatewayUrl(`wss://${'a'.repeat(5000)}.com`)
    expect(long).toHaveLength(200)
    expect(long.endsWith('\u2026')).toBe(true)
  })
  it('lists the parts that may be credentials, for the report\u2019s last-guard redactor', () => {
    expect(gatewayUrlSecrets('ws://user:s3cr3tpw@h/?token=QUERY%20SECRET#FRAGSECRET')).toEqual(
      expect.arrayContaining(['user:s3cr3tpw', 's3cr3tpw', 'QUERY%20SECRET', 'QUERY SECRET', 'FRAGSECRET'])
    )
    expect(gatewayUrlSecrets('wss://gw.example.com/')).toEqual([])
  })
  // What a person mistypes: the password must not survive a missing slash or a backslash.
  it.each([
    ['ws:/u:s3cr3tpw@127.0.0.1:1', 'ws:/127.0.0.1:1'],
    ['wss//u:s3cr3tpw@host', 'wss//host'],
    ['wss:/\\u:s3cr3tpw@host', 'wss:/\\host'],
    ['ws:/\\\\u:s3cr3tpw@host', 'ws:/\\\\host'],
    ['ws:u:s3cr3tpw@host', 'ws:host'],
    ['//u:s3cr3tpw@host', '//host']
  ])('removes the user info from the near miss %s', (url, shown) => {
    expect(displayGatewayUrl(url)).toBe(shown)
    expect(gatewayUrlSecrets(url)).toEqual(expect.arrayContaining(['u:s3cr3tpw', 's3cr3tpw']))
  })
})

describe('a scheme that is there but mistyped', () => {
  it.each([
    ['ws:/gw.example.com:1', /scheme ws: but not the two slashes/],
    ['wss:/\\gw.example.com', /scheme wss: but not the two slashes/],
    ['wss//gw.example.com', /missing the colon after wss/],
    ['https:gw.example.com', /scheme https: but not the two slashes/]
  ])('%s says what is missing, not that the scheme is', (url, message) => {
    const r = parseGatewayUrl(url)
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.message).toMatch(message)
      expect(r.error.message).not.toMatch(/needs a scheme/)
      expect(r.error.message).not.toMatch(/pw/)
    }
  })
  it('a host with a port is still told to add a scheme', () => {
    for (const url of ['localhost:18789', 'gw.example.com', 'ws:18789']) {
      const r = parseGatewayUrl(url)
      expect(!r.ok && r.error.message).toMatch(/needs a scheme/)
    }
  })
})
