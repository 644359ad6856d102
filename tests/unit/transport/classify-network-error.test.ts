import { describe, expect, it } from 'vitest'
import net from 'node:net'
import { classifyNetworkError } from '../../../src/main/transport/classify-network-error'
import { appError } from '../../../src/shared/errors'

const HOST = 'gateway.example.com'
const PORT = 443
const ctx = { host: HOST, port: PORT }

/** An Error shaped like the ones Node's net/tls/dns layers raise. */
function sysError(message: string, code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra })
}

describe('classifyNetworkError: DNS and TCP', () => {
  it.each([
    ['ENOTFOUND', false],
    ['EAI_NONAME', false],
    ['EAI_AGAIN', true]
  ])('%s → DNS_NOT_FOUND', (code, retryable) => {
    const e = classifyNetworkError(sysError(`getaddrinfo ${code} ${HOST}`, code, { syscall: 'getaddrinfo', hostname: HOST }), ctx)
    expect(e.code).toBe('DNS_NOT_FOUND')
    expect(e.category).toBe('network')
    expect(e.message).toContain(HOST)
    expect(e.details).toMatchObject({ systemCode: code, host: HOST, port: PORT })
    expect(e.retryable).toBe(retryable)
    expect(e.nextSteps.map((s) => s.action)).toEqual(['check-url', 'check-network'])
  })

  it('mentions Tailscale for a MagicDNS name', () => {
    const e = classifyNetworkError(sysError('getaddrinfo ENOTFOUND box.tail1234.ts.net', 'ENOTFOUND'), { host: 'box.tail1234.ts.net', port: 18789 })
    expect(e.likelyCauses?.join(' ')).toMatch(/Tailscale/)
  })

  it('ECONNREFUSED → CONNECTION_REFUSED asking whether the gateway runs', () => {
    const e = classifyNetworkError(sysError('connect ECONNREFUSED 10.0.0.5:18789', 'ECONNREFUSED'), { host: '10.0.0.5', port: 18789 })
    expect(e.code).toBe('CONNECTION_REFUSED')
    expect(e.message).toBe('Nothing is listening on 10.0.0.5:18789 — is the gateway running?')
    expect(e.likelyCauses?.join(' ')).toMatch(/--bind lan/)
    expect(e.retryable).toBe(true)
  })

  it('a real refused dial on loopback is CONNECTION_REFUSED', async () => {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const err = await new Promise<unknown>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.on('error', resolve)
      socket.on('connect', () => {
        socket.destroy()
        resolve(new Error('unexpectedly connected'))
      })
    })
    const e = classifyNetworkError(err, { host: '127.0.0.1', port })
    expect(e.code).toBe('CONNECTION_REFUSED')
    expect(e.details.systemCode).toBe('ECONNREFUSED')
    // Loopback: the "only listens on loopback" hint would be wrong here.
    expect(e.likelyCauses?.join(' ')).not.toMatch(/--bind lan/)
  })

  it('finds the code inside an AggregateError (several addresses tried)', () => {
    const agg = new AggregateError(
      [sysError('connect ECONNREFUSED ::1:18789', 'ECONNREFUSED'), sysError('connect ECONNREFUSED 127.0.0.1:18789', 'ECONNREFUSED')],
      ''
    )
    expect(classifyNetworkError(agg, { host: 'localhost', port: 18789 }).code).toBe('CONNECTION_REFUSED')
  })

  it('finds the code in a fetch-style cause', () => {
    const err = new TypeError('fetch failed', { cause: sysError('getaddrinfo ENOTFOUND x', 'ENOTFOUND') })
    expect(classifyNetworkError(err, ctx).code).toBe('DNS_NOT_FOUND')
  })

  it.each([
    ['ECONNRESET', 'read ECONNRESET'],
    ['EPIPE', 'write EPIPE']
  ])('%s → CONNECTION_RESET', (code, message) => {
    const e = classifyNetworkError(sysError(message, code), ctx)
    expect(e.code).toBe('CONNECTION_RESET')
    expect(e.retryable).toBe(true)
  })

  it('"socket hang up" without a code → CONNECTION_RESET', () => {
    expect(classifyNetworkError(new Error('socket hang up'), ctx).code).toBe('CONNECTION_RESET')
  })

  it('a reset during the TLS handshake stays CONNECTION_RESET, with TLS-specific causes', () => {
    const e = classifyNetworkError(sysError('Client network socket disconnected before secure TLS connection was established', 'ECONNRESET'), ctx)
    expect(e.code).toBe('CONNECTION_RESET')
    expect(e.likelyCauses?.[0]).toMatch(/TLS handshake/)
  })

  it.each(['ENETUNREACH', 'EHOSTUNREACH'])('%s → NETWORK_UNREACHABLE', (code) => {
    const e = classifyNetworkError(sysError(`connect ${code} 192.168.7.2:443`, code), ctx)
    expect(e.code).toBe('NETWORK_UNREACHABLE')
    expect(e.details.systemCode).toBe(code)
  })
})

describe('classifyNetworkError: timeouts', () => {
  it('ETIMEDOUT → TIMEOUT with the limit', () => {
    const e = classifyNetworkError(sysError('connect ETIMEDOUT 203.0.113.9:443', 'ETIMEDOUT'), { ...ctx, timeoutMs: 15_000 })
    expect(e.code).toBe('TIMEOUT')
    expect(e.category).toBe('timeout')
    expect(e.details.timeoutMs).toBe(15_000)
    expect(e.message).toContain('15 s')
    expect(e.retryable).toBe(true)
  })

  it('ws "Opening handshake has timed out" → TIMEOUT, worded for the upgrade', () => {
    const e = classifyNetworkError(new Error('Opening handshake has timed out'), { ...ctx, timeoutMs: 8000, phase: 'upgrade' })
    expect(e.code).toBe('TIMEOUT')
    expect(e.details.timeoutMs).toBe(8000)
    expect(e.message).toMatch(/upgrade/)
  })

  it('a TimeoutError (AbortSignal.timeout) → TIMEOUT; a plain AbortError → CANCELLED', () => {
    const timeoutErr = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' })
    expect(classifyNetworkError(timeoutErr, ctx).code).toBe('TIMEOUT')
    const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' })
    expect(classifyNetworkError(abort, ctx).code).toBe('CANCELLED')
  })
})

describe('classifyNetworkError: TLS', () => {
  const cert = { subject: HOST, issuer: 'R11', validTo: 'Jan  1 00:00:00 2026 GMT' }

  it('CERT_HAS_EXPIRED → TLS_EXPIRED with the certificate facts', () => {
    const e = classifyNetworkError(sysError('certificate has expired', 'CERT_HAS_EXPIRED'), { ...ctx, peer: cert })
    expect(e.code).toBe('TLS_EXPIRED')
    expect(e.details).toMatchObject({
      systemCode: 'CERT_HAS_EXPIRED',
      certificateSubject: HOST,
      certificateIssuer: 'R11',
      certificateValidTo: 'Jan 1 00:00:00 2026 GMT',
      host: HOST,
      port: PORT
    })
    expect(e.message).toMatch(/expired/)
  })

  it.each([
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
    ['UNABLE_TO_GET_ISSUER_CERT', 'unable to get issuer certificate'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate']
  ])('%s → TLS_UNTRUSTED with add-ca-file first and the inspecting-proxy case named', (code, message) => {
    const e = classifyNetworkError(sysError(message, code), { ...ctx, phase: 'tls' })
    expect(e.code).toBe('TLS_UNTRUSTED')
    expect(e.details.systemCode).toBe(code)
    expect(e.nextSteps[0]?.action).toBe('add-ca-file')
    const text = [...e.nextSteps.map((s) => s.label), ...(e.likelyCauses ?? [])].join(' ')
    expect(text).toMatch(/Cloudflare WARP with TLS decryption/)
    expect(text).toMatch(/corporate proxy/)
    expect(text).toMatch(/root certificate/)
  })

  it('puts the TLS-inspecting proxy first when it signed the certificate', () => {
    const e = classifyNetworkError(sysError('unable to get local issuer certificate', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'), {
      ...ctx,
      peer: { subject: HOST, issuer: 'Gateway CA - Cloudflare Managed G1 abcdef', validTo: 'Dec 31 2026' }
    })
    expect(e.likelyCauses?.[0]).toMatch(/TLS-inspecting proxy/)
    expect(e.details.certificateIssuer).toMatch(/Gateway CA/)
  })

  it('ERR_TLS_CERT_ALTNAME_INVALID → TLS_HOSTNAME_MISMATCH listing the certificate names', () => {
    const err = sysError(
      "Hostname/IP does not match certificate's altnames: Host: gateway.example.com. is not in the cert's altnames: DNS:other.example.net, DNS:*.other.example.net",
      'ERR_TLS_CERT_ALTNAME_INVALID',
      { reason: 'Host: gateway.example.com. is not in the cert', host: HOST }
    )
    const e = classifyNetworkError(err, ctx)
    expect(e.code).toBe('TLS_HOSTNAME_MISMATCH')
    expect(e.details.notes?.[0]).toBe('Certificate names: DNS:other.example.net, DNS:*.other.example.net')
  })

  it('"wrong version number" → TLS_ERROR saying the server does not speak TLS', () => {
    const err = sysError(
      'write EPROTO 40E8F7D1C27F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:355:\n',
      'EPROTO'
    )
    const e = classifyNetworkError(err, { host: HOST, port: 18789 })
    expect(e.code).toBe('TLS_ERROR')
    expect(e.message).toMatch(/does not speak TLS/)
    expect(e.details.systemCode).toBe('EPROTO')
  })

  it('other TLS failures → TLS_ERROR', () => {
    expect(classifyNetworkError(sysError('sslv3 alert handshake failure', 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), ctx).code).toBe('TLS_ERROR')
    expect(classifyNetworkError(sysError('certificate signature failure', 'CERT_SIGNATURE_FAILURE'), ctx).code).toBe('TLS_ERROR')
    expect(classifyNetworkError(new Error('weird'), { ...ctx, phase: 'tls' }).code).toBe('TLS_ERROR')
  })
})

describe('classifyNetworkError: everything else', () => {
  it('returns an AppError unchanged', () => {
    const original = appError('LINK_DEAD', 'Link dead', 'No pong.')
    expect(classifyNetworkError(original, ctx)).toBe(original)
  })

  it('ws handshake validation failures → PROTOCOL_ERROR', () => {
    expect(classifyNetworkError(new Error('Invalid Sec-WebSocket-Accept header'), ctx).code).toBe('PROTOCOL_ERROR')
  })

  it('unknown errors → CONNECTION_CLOSED with the system code, never a stack or a URL query', () => {
    const err = sysError('boom at wss://gateway.example.com/ws?token=query-secret-123 while dialling', 'EWEIRD')
    const e = classifyNetworkError(err, ctx)
    expect(e.code).toBe('CONNECTION_CLOSED')
    expect(e.details.systemCode).toBe('EWEIRD')
    const text = JSON.stringify(e)
    expect(text).not.toContain('query-secret-123')
    expect(text).not.toContain('at Object.')
    expect(text).not.toContain('.test.ts')
  })

  it.each([undefined, null, 42, 'a string', {}])('never throws on %j', (value) => {
    const e = classifyNetworkError(value, ctx)
    expect(e.code).toBe('CONNECTION_CLOSED')
    expect(e.details.host).toBe(HOST)
    expect(e.details.port).toBe(PORT)
  })
})

describe('classifyNetworkError: an answer that is not HTTP', () => {
  it.each(['HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION', 'HPE_CR_EXPECTED'])('%s → PROTOCOL_ERROR asking whether this is the gateway', (code) => {
    const e = classifyNetworkError(sysError('Parse Error: Expected HTTP/', code, { bytesParsed: 0, rawPacket: Buffer.from('SSH-2.0-OpenSSH_9.6\r\n') }), ctx)
    expect(e.code).toBe('PROTOCOL_ERROR')
    expect(e.message).toBe(`The server at ${HOST}:${PORT} did not answer with HTTP — is this the gateway's address and port?`)
    expect(JSON.stringify(e)).not.toMatch(/Parse Error|Expected HTTP|OpenSSH/)
    expect(e.details.systemCode).toBe(code)
  })
  it('HPE_HEADER_OVERFLOW → PROTOCOL_ERROR about oversized headers', () => {
    const e = classifyNetworkError(sysError('Parse Error: Header overflow', 'HPE_HEADER_OVERFLOW'), ctx)
    expect(e.code).toBe('PROTOCOL_ERROR')
    expect(e.message).toContain("the server's response headers were too large")
    expect(JSON.stringify(e)).not.toMatch(/Parse Error|Header overflow/)
  })
  it('a real non-HTTP server on the port (SSH-like banner) is classified so', async () => {
    const server = net.createServer((s) => s.end('SSH-2.0-OpenSSH_9.6\r\n'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as net.AddressInfo).port
    const { default: WebSocket } = await import('ws')
    const err = await new Promise<Error>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`)
      ws.on('error', resolve)
    })
    server.close()
    const e = classifyNetworkError(err, { host: '127.0.0.1', port })
    expect(e.code).toBe('PROTOCOL_ERROR')
    expect(e.message).toMatch(/did not answer with HTTP/)
  })
})

describe('classifyNetworkError: the TLS library’s own line', () => {
  it('keeps only its reason, without addresses, source paths or line numbers', () => {
    const err = Object.assign(
      new Error('write EPROTO 807C0354A97F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n'),
      { code: 'EPROTO' }
    )
    const e = classifyNetworkError(err, { host: 'gw.example.com', port: 443, phase: 'tls' })
    expect(e.details.notes).toEqual(['TLS library: wrong version number'])
    expect(JSON.stringify(e)).not.toMatch(/ssl3_record\.c|807C0354/)
  })
})

describe('classifyNetworkError: an IPv6 address in messages', () => {
  it('is written in brackets before the port, as in an address', () => {
    const e = classifyNetworkError(sysError('connect ECONNREFUSED ::1:1', 'ECONNREFUSED'), { host: '::1', port: 1 })
    expect(e.message).toContain('[::1]:1')
  })
})
