/**
 * Turn a failed dial (DNS, TCP, TLS, the upgrade's time limit) into a precise AppError.
 *
 * Node reports these as `Error`s with a `code` (ENOTFOUND, ECONNREFUSED, CERT_HAS_EXPIRED...),
 * sometimes wrapped (`cause` from fetch, `errors[]` from an AggregateError when several
 * addresses were tried), and `ws` adds a few message-only ones ("Opening handshake has timed
 * out"). The user needs to hear which of DNS, the gateway process, the network or the
 * certificate is at fault, and what to change. Pure: no I/O.
 */
import { appError, isAppError, type AppError, type ErrorCode, type ErrorDetails, type NextStep } from '../../shared/errors'
import { displayGatewayUrl, secureGatewayHref } from '../../shared/gateway-url'

/** What the caller knows about the certificate the server presented (from `getPeerCertificate`). */
export interface PeerCertificateSummary {
  subject?: string
  issuer?: string
  validTo?: string
}

/** Where the failure happened. */
export interface NetworkErrorContext {
  host: string
  port: number
  /** Time limit of the attempt, reported on TIMEOUT. */
  timeoutMs?: number
  phase?: 'dns' | 'connect' | 'tls' | 'upgrade' | 'handshake'
  /** The certificate the server presented, when the TLS handshake got that far. */
  peer?: PeerCertificateSummary
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_NODATA', 'EAI_FAIL'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET'])
const UNREACHABLE_CODES = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN'])
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ABORT_ERR_TIMEOUT'])
const UNTRUSTED_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_CHAIN_TOO_LONG'
])
const EXPIRED_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'])

/** Issuers of TLS-inspecting proxies: when one signed the certificate, the proxy is the cause, not the gateway. */
const INSPECTING_ISSUER = /gateway ca|cloudflare.*(gateway|warp|for teams)|zscaler|netskope|fortinet|fortigate|palo alto|blue ?coat|forcepoint|sophos|mcafee web gateway|websense|cisco umbrella|kaspersky|avast|eset|bitdefender/i

/**
 * Classify a dial failure. An AppError passed in is returned unchanged (so callers can funnel
 * everything through here); `ws`'s complaints about a non-WebSocket answer become
 * PROTOCOL_ERROR, an abort CANCELLED, and anything unrecognised CONNECTION_CLOSED with the
 * system code and a cleaned message (URLs removed), never a stack.
 */
export function classifyNetworkError(err: unknown, ctx: NetworkErrorContext): AppError {
  if (isAppError(err)) return err

  const code = systemCodeOf(err)
  const message = messageOf(err)
  const where = hostAndPort(ctx.host, ctx.port)
  const base: ErrorDetails = { host: ctx.host, port: ctx.port }
  if (code) base.systemCode = code

  if (code && DNS_CODES.has(code)) return dnsNotFound(ctx, code, base)
  if (code === 'ECONNREFUSED') return connectionRefused(ctx, where, base)
  if (code && UNREACHABLE_CODES.has(code)) return unreachable(ctx, where, base)
  if (isTimeout(err, code, message)) return timeout(ctx, where, base)
  if (code && EXPIRED_CODES.has(code)) return tlsExpired(ctx, code, withCert(base, ctx))
  if (code && UNTRUSTED_CODES.has(code)) return tlsUntrusted(ctx, withCert(base, ctx))
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return tlsHostnameMismatch(ctx, message, withCert(base, ctx))
  // Resets before the generic TLS test: Node words a reset during the handshake as "socket
  // disconnected before secure TLS connection was established", but the cause is the peer hanging up.
  if ((code && RESET_CODES.has(code)) || /socket hang up/i.test(message)) return connectionReset(ctx, where, message, base)
  if (isTls(code, message, ctx)) return tlsError(ctx, where, message, withCert(base, ctx))
  if (code?.startsWith('HPE_')) return notHttp(code, where, base)
  if (/sec-websocket-|subprotocol|invalid upgrade header|invalid websocket frame/i.test(message)) {
    return appError(
      'PROTOCOL_ERROR',
      'Not a WebSocket server',
      `The server at ${where} answered the upgrade, but not the way a WebSocket server does.`,
      {
        likelyCauses: [
          'A proxy in front of the gateway rewrites or drops the WebSocket upgrade headers.',
          'The address points at a service that is not the gateway.'
        ],
        nextSteps: [{ action: 'check-url', label: 'Check that the URL points at the gateway\'s WebSocket port.' }],
        details: withNotes(base, cleanMessage(message))
      }
    )
  }
  if (isAbort(err)) {
    return appError('CANCELLED', 'Connection cancelled', `The connection to ${where} was cancelled.`, { details: base })
  }

  return appError('CONNECTION_CLOSED', 'Could not connect', `The connection to ${where} failed${code ? ` (${code})` : ''}.`, {
    nextSteps: [
      { action: 'retry', label: 'Retry.' },
      { action: 'check-network', label: 'Check this computer\'s network connection.' }
    ],
    details: withNotes(base, cleanMessage(message)),
    retryable: true
  })
}

// ---------------------------------------------------------------------------------------------
// Reading the error

/** The first system code found on the error, its `cause`, or the first of an AggregateError's `errors`. */
function systemCodeOf(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 3) return undefined
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown }
  if (typeof e.code === 'string' && /^[A-Z0-9_]{2,64}$/.test(e.code)) return e.code
  const fromCause = systemCodeOf(e.cause, depth + 1)
  if (fromCause) return fromCause
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = systemCodeOf(inner, depth + 1)
      if (c) return c
    }
  }
  return undefined
}

function messageOf(err: unknown): string {
  if (typeof err === 'string') return err
  if (typeof err !== 'object' || err === null) return ''
  const parts: string[] = []
  let current: unknown = err
  for (let i = 0; i < 3 && typeof current === 'object' && current !== null; i++) {
    const m = (current as { message?: unknown }).message
    if (typeof m === 'string' && m !== '') parts.push(m)
    current = (current as { cause?: unknown }).cause
  }
  return parts.join(' — ')
}

function isTimeout(err: unknown, code: string | undefined, message: string): boolean {
  if (code && TIMEOUT_CODES.has(code)) return true
  if (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError') return true
  return /opening handshake has timed out|timed? ?out/i.test(message)
}

function isAbort(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { name?: unknown; code?: unknown }
  return e.name === 'AbortError' || e.code === 'ABORT_ERR'
}

function isTls(code: string | undefined, message: string, ctx: NetworkErrorContext): boolean {
  if (code && /^(ERR_TLS_|ERR_SSL_|CERT_|EPROTO$|ERR_OSSL_)/.test(code)) return true
  if (/\b(ssl|tls)\b|certificate|wrong version number/i.test(message)) return true
  // A reset in the middle of the TLS handshake is still a connection reset; only name TLS when
  // the error itself says so or no other code explains it.
  return ctx.phase === 'tls' && code === undefined
}

/** A system message, made safe to show: no URLs with queries, no control characters, short. */
/**
 * OpenSSL's own line ("write EPROTO 807C…:error:0A00010B:SSL routines:ssl3_get_record:wrong
 * version number:../deps/openssl/…:350:"): only its reason means anything to a person.
 */
const OPENSSL_LINE = /^(?:\w+ )?(?:EPROTO )?[0-9A-F]*:?error:[0-9A-F]+:[^:]*routines:[^:]*:([^:]+):/

/** `host:port`, with an IPv6 address in brackets as in an address ("[::1]:18789"). */
function hostAndPort(host: string, port: number): string {
  return host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]:${port}` : `${host}:${port}`
}

function cleanMessage(message: string): string | undefined {
  const openssl = OPENSSL_LINE.exec(message.trim())
  if (openssl?.[1]) return `TLS library: ${openssl[1].trim()}`
  const text = message
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>')
    .replace(/\s+/g, ' ')
    .trim()
  if (text === '') return undefined
  return text.length > 200 ? text.slice(0, 199) + '…' : text
}

function withNotes(details: ErrorDetails, note: string | undefined): ErrorDetails {
  return note ? { ...details, notes: [...(details.notes ?? []), note] } : details
}

function withCert(details: ErrorDetails, ctx: NetworkErrorContext): ErrorDetails {
  const cert = ctx.peer
  if (!cert) return details
  const out = { ...details }
  const subject = cleanMessage(cert.subject ?? '')
  const issuer = cleanMessage(cert.issuer ?? '')
  const validTo = cleanMessage(cert.validTo ?? '')
  if (subject) out.certificateSubject = subject
  if (issuer) out.certificateIssuer = issuer
  if (validTo) out.certificateValidTo = validTo
  return out
}

function isLoopback(host: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i.test(host)
}

// ---------------------------------------------------------------------------------------------
// Builders

function dnsNotFound(ctx: NetworkErrorContext, code: string, details: ErrorDetails): AppError {
  const temporary = code === 'EAI_AGAIN'
  const causes = temporary
    ? ['The DNS server did not answer in time (offline, captive portal or VPN starting).', 'The host name does not exist.']
    : ['The host name is misspelled or does not exist.', 'This computer is offline or its DNS server cannot resolve the name.']
  if (/\.ts\.net$/i.test(ctx.host)) causes.push('The name is a Tailscale MagicDNS name and Tailscale is not connected on this computer.')
  else if (/\.local$/i.test(ctx.host)) causes.push('The name is a local (mDNS) name that is not visible from this network.')
  else causes.push('A VPN or private DNS that knows this name is not connected.')
  return appError(
    'DNS_NOT_FOUND',
    'Gateway address not found',
    temporary
      ? `The name ${ctx.host} could not be looked up right now: the DNS server did not answer.`
      : `The name ${ctx.host} could not be found in DNS.`,
    {
      likelyCauses: causes,
      nextSteps: [
        { action: 'check-url', label: 'Check the host name in the gateway URL.' },
        { action: 'check-network', label: 'Check that this computer is online and any needed VPN is connected.' }
      ],
      details,
      retryable: temporary
    }
  )
}

function connectionRefused(ctx: NetworkErrorContext, where: string, details: ErrorDetails): AppError {
  const causes = ['The gateway is not running.', 'The port is wrong (the gateway listens on 18789 by default).']
  if (!isLoopback(ctx.host)) {
    causes.push('The gateway only listens on loopback (its default); start it with --bind lan or set gateway.bind to reach it from another machine.')
  }
  causes.push('A firewall on the gateway host rejects the connection.')
  return appError('CONNECTION_REFUSED', 'Connection refused', `Nothing is listening on ${where} — is the gateway running?`, {
    likelyCauses: causes,
    nextSteps: [
      { action: 'retry', label: 'Start the gateway, then retry.' },
      { action: 'check-url', label: 'Check the host and port in the gateway URL.' }
    ],
    details,
    retryable: true
  })
}

function unreachable(ctx: NetworkErrorContext, where: string, details: ErrorDetails): AppError {
  return appError('NETWORK_UNREACHABLE', 'Network unreachable', `This computer has no route to ${where}.`, {
    likelyCauses: [
      'This computer is offline or on a network that cannot reach the gateway.',
      'The gateway is on a private network (LAN, Tailscale, VPN) that is not connected.',
      'The address is IPv6 and this network has no IPv6.'
    ],
    nextSteps: [
      { action: 'check-network', label: 'Check the network connection and any VPN needed to reach the gateway.' },
      { action: 'retry', label: 'Retry.' }
    ],
    details,
    retryable: true
  })
}

function timeout(ctx: NetworkErrorContext, where: string, details: ErrorDetails): AppError {
  const out: ErrorDetails = { ...details }
  if (ctx.timeoutMs !== undefined) out.timeoutMs = ctx.timeoutMs
  const limit = ctx.timeoutMs !== undefined ? ` within ${formatMs(ctx.timeoutMs)}` : ''
  const what =
    ctx.phase === 'upgrade' || ctx.phase === 'handshake'
      ? `The WebSocket connection to ${where} was not set up${limit}: the server did not finish the upgrade.`
      : `There was no answer from ${where}${limit}.`
  return appError('TIMEOUT', 'Connection timed out', what, {
    likelyCauses: [
      'A firewall silently drops the connection, or the host is down.',
      'The network is slow or the gateway is overloaded.',
      'A proxy in front of the gateway holds WebSocket upgrades without forwarding them.'
    ],
    nextSteps: [
      { action: 'retry', label: 'Retry.' },
      { action: 'check-network', label: 'Check the network path to the gateway (firewall, VPN, proxy).' }
    ],
    details: out,
    retryable: true
  })
}

function connectionReset(ctx: NetworkErrorContext, where: string, message: string, details: ErrorDetails): AppError {
  const duringTls = ctx.phase === 'tls' || /secure TLS connection/i.test(message)
  return appError('CONNECTION_RESET', 'Connection dropped', `The connection to ${where} was closed by the other side before it was set up.`, {
    likelyCauses: duringTls
      ? [
          'A firewall or proxy cut the connection during the TLS handshake (for example by filtering on the host name).',
          'The server does not serve TLS on this port: use ws:// instead of wss://, or the right port.',
          'The gateway restarted.'
        ]
      : [
          'The URL uses ws:// but the port expects TLS (wss://).',
          'A proxy or firewall cut the connection.',
          'The gateway restarted.'
        ],
    nextSteps: [
      { action: 'retry', label: 'Retry.' },
      { action: 'check-url', label: 'Check ws:// versus wss:// and the port in the gateway URL.' }
    ],
    details,
    retryable: true
  })
}

/**
 * What a TLS port does to plain HTTP (classified error codes): hang up, or answer with bytes that
 * are not HTTP. After one of these, a TLS hello tells whether the address needs wss://.
 */
export const PLAIN_REFUSAL_CODES: ReadonlySet<ErrorCode> = new Set(['CONNECTION_RESET', 'CONNECTION_CLOSED', 'PROTOCOL_ERROR'])

/**
 * A plain ws:// address aimed at a port that speaks TLS: the server hangs up on the plain upgrade
 * (or a web server answers "plain HTTP request sent to HTTPS port"). Found by a TLS probe of the
 * same port, so it is said as a fact with the address to use, not as one guess among several.
 */
export function tlsRequired(host: string, port: number, plainHref: string): AppError {
  // Shown as every address is shown: query values stay hidden (the user's own address has them).
  const suggestedUrl = displayGatewayUrl(secureGatewayHref(plainHref))
  const where = hostAndPort(host, port)
  return appError(
    'TLS_REQUIRED',
    'This address needs wss://',
    `The server at ${where} speaks TLS, but the address starts with ws:// (plain). Use ${suggestedUrl} instead.`,
    {
      nextSteps: [{ action: 'check-url', label: `Change the gateway URL to ${suggestedUrl}.` }],
      details: { host, port },
      retryable: false
    }
  )
}

function tlsExpired(ctx: NetworkErrorContext, code: string, details: ErrorDetails): AppError {
  const notYet = code === 'CERT_NOT_YET_VALID'
  return appError(
    'TLS_EXPIRED',
    notYet ? 'Certificate not valid yet' : 'Certificate expired',
    notYet
      ? `The TLS certificate presented by ${ctx.host} is not valid yet; this computer's clock may be wrong.`
      : `The TLS certificate presented by ${ctx.host} has expired${details.certificateValidTo ? ` (valid until ${details.certificateValidTo})` : ''}.`,
    {
      likelyCauses: notYet
        ? ['This computer\'s clock is wrong.', 'The certificate was just issued with a start date in the future.']
        : ['The gateway\'s certificate was not renewed.', 'This computer\'s clock is wrong.'],
      nextSteps: [
        { action: 'retry', label: 'Renew the certificate on the gateway (or on the proxy in front of it), then retry.' },
        { action: 'check-network', label: 'Check that this computer\'s date and time are set automatically.' }
      ],
      details
    }
  )
}

function tlsUntrusted(ctx: NetworkErrorContext, details: ErrorDetails): AppError {
  const issuer = details.certificateIssuer ?? ''
  const inspected = INSPECTING_ISSUER.test(issuer)
  const proxyCause =
    'A TLS-inspecting proxy sits in between: Cloudflare WARP with TLS decryption, or a corporate proxy or antivirus that re-signs HTTPS.'
  const selfSigned = 'The gateway uses a self-signed certificate or one from a private CA (gateway.tls generates a self-signed one).'
  const chain = 'The server does not send its intermediate certificate.'
  const causes = inspected ? [proxyCause, selfSigned, chain] : [selfSigned, proxyCause, chain]
  const steps: NextStep[] = [
    { action: 'add-ca-file', label: 'Give this profile the CA certificate file (PEM) that signed the gateway\'s certificate.' },
    {
      action: 'check-network',
      label: 'If Cloudflare WARP with TLS decryption or a corporate proxy inspects your traffic, install its root certificate in the system certificate store, or give it as the CA file in this profile.'
    }
  ]
  return appError(
    'TLS_UNTRUSTED',
    'Certificate not trusted',
    `The TLS certificate presented by ${ctx.host} is not signed by an authority this computer trusts${issuer ? ` (issuer: ${issuer})` : ''}.`,
    { likelyCauses: causes, nextSteps: steps, details }
  )
}

function tlsHostnameMismatch(ctx: NetworkErrorContext, message: string, details: ErrorDetails): AppError {
  // Node's message lists the names the certificate is valid for; they are public facts worth showing.
  const names = /altnames:\s*((?:(?!altnames:).)*)$/i.exec(message)?.[1]
  const cleaned = names ? cleanMessage(names) : undefined
  const out = withNotes(details, cleaned ? `Certificate names: ${cleaned}` : undefined)
  return appError(
    'TLS_HOSTNAME_MISMATCH',
    'Certificate is for another name',
    `The TLS certificate presented by ${ctx.host} is not valid for that name.`,
    {
      likelyCauses: [
        'The URL uses an IP address or a different name than the certificate lists.',
        'The host name routes to a different server or proxy than the gateway.'
      ],
      nextSteps: [
        { action: 'check-url', label: 'Use the host name that the certificate is issued for.' },
        { action: 'add-ca-file', label: 'Or reissue the gateway\'s certificate for this name and give its CA file to the profile.' }
      ],
      details: out
    }
  )
}

function tlsError(ctx: NetworkErrorContext, where: string, message: string, details: ErrorDetails): AppError {
  const plain = /wrong version number|packet length too long|unknown protocol/i.test(message)
  const steps: NextStep[] = plain
    ? [{ action: 'check-url', label: 'The server answered without TLS: use ws:// for this port, or the port that serves TLS.' }]
    : [
        { action: 'check-url', label: 'Check ws:// versus wss:// and the port in the gateway URL.' },
        { action: 'retry', label: 'Retry.' }
      ]
  const said = cleanMessage(message)
  return appError(
    'TLS_ERROR',
    'Secure connection failed',
    plain
      ? `The secure (TLS) connection to ${where} failed: the server does not speak TLS on this port.`
      : `The secure (TLS) connection to ${where} failed.`,
    {
      nextSteps: steps,
      details: withNotes(details, said)
    }
  )
}

/**
 * Node's HTTP parser could not read the answer to the upgrade request. The parser's own text
 * ("Parse Error: Expected HTTP/") helps nobody, so it is not passed on.
 */
function notHttp(code: string, where: string, details: ErrorDetails): AppError {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return appError('PROTOCOL_ERROR', 'The server\'s answer was not usable', `The server at ${where} answered, but the server's response headers were too large.`, {
      likelyCauses: [
        'A proxy in front of the gateway adds very large headers (cookies, for one).',
        'The address points at a service that is not the gateway.'
      ],
      nextSteps: [{ action: 'check-url', label: 'Check that the URL points at the gateway, and what proxies sit in front of it.' }],
      details
    })
  }
  return appError('PROTOCOL_ERROR', 'Not an HTTP server', `The server at ${where} did not answer with HTTP — is this the gateway's address and port?`, {
    likelyCauses: [
      'The port belongs to another service (SSH, a database, a mail server...).',
      'The server speaks TLS on this port: use wss:// instead of ws://.'
    ],
    nextSteps: [{ action: 'check-url', label: 'Check the host and port in the gateway URL (the gateway listens on 18789 by default).' }],
    details
  })
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`
}

/** Codes this module can return, for callers that want to branch on "a dial failure". */
export const NETWORK_ERROR_CODES: readonly ErrorCode[] = [
  'DNS_NOT_FOUND',
  'CONNECTION_REFUSED',
  'CONNECTION_RESET',
  'NETWORK_UNREACHABLE',
  'TIMEOUT',
  'TLS_EXPIRED',
  'TLS_UNTRUSTED',
  'TLS_HOSTNAME_MISMATCH',
  'TLS_ERROR',
  'CONNECTION_CLOSED',
  'PROTOCOL_ERROR',
  'CANCELLED'
]
