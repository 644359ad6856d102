/**
 * What the doctor needs from the outside world, as small interfaces: a resolver, a socket/TLS
 * dialer, an HTTP client, the gateway connector and a clock. The real implementations are in
 * node-ports.ts; tests pass fakes.
 *
 * Every port rejects (or returns an error result) the way Node does, with `code`s such as
 * ENOTFOUND, ECONNREFUSED or ETIMEDOUT, so the steps can classify failures with the same
 * classifier the connection itself uses.
 */
import type { Result } from '../../shared/errors'
import type { HttpResponse } from '../cf-access/sign-in/transfer-login'
import type { ConnectTarget } from '../gateway/gateway-connector'
import type { HelloSummary } from '../gateway/gateway-connection'

export interface ResolvedAddress {
  address: string
  family: number
}

export interface DnsPort {
  /** What connections use (the system resolver, hosts file included): every address of `host`. */
  lookup(host: string): Promise<ResolvedAddress[]>
  /** CNAME records of `host` from DNS itself; rejects (ENODATA...) when there are none. */
  resolveCname(host: string): Promise<string[]>
}

/** The server certificate, as far as the handshake got. */
export interface PeerCertificateFacts {
  subject: string
  issuer: string
  validFrom?: string
  validTo?: string
  /** `DNS:a.example, DNS:b.example` as Node gives it. */
  altNames?: string
  /** True when the certificate is its own issuer. */
  selfSigned?: boolean
}

export interface SocketProbeRequest {
  host: string
  port: number
  tls: boolean
  /** Trusted roots for the TLS check (undefined = Node's defaults). */
  ca?: string[]
  timeoutMs: number
  signal?: AbortSignal
}

export interface SocketProbeResult {
  remoteAddress?: string
  /** TLS only: whether the chain and the name checked out. */
  authorized?: boolean
  /** TLS only: Node's reason when not authorized (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID...). */
  authorizationError?: string
  tlsVersion?: string
  alpn?: string
  peer?: PeerCertificateFacts
}

/** Opens TCP (and TLS, without rejecting an untrusted certificate, so it can be described), then closes. */
export interface SocketPort {
  probe(request: SocketProbeRequest): Promise<SocketProbeResult>
  /** Whether the port answers a TLS hello (asked for a plain ws:// address: it may need wss://). */
  speaksTls(request: Omit<SocketProbeRequest, 'tls' | 'ca'>): Promise<boolean>
}

export interface DoctorHttpRequest {
  url: string
  method: 'GET' | 'HEAD'
  headers: Record<string, string>
  timeoutMs: number
  /** Offer only HTTP/1.1 in ALPN (otherwise HTTP/2 is used when the server offers it). */
  http1Only?: boolean
  /** Send the request as a WebSocket upgrade (HTTP/1.1); the answer's status is what counts. */
  upgrade?: boolean
  ca?: string[]
  signal?: AbortSignal
}

export interface DoctorHttpResponse extends HttpResponse {
  /** `1.1` or `2`. */
  httpVersion: string
}

/** One request, redirects never followed; rejects with a Node-style error when no answer came. */
export type DoctorHttp = (request: DoctorHttpRequest) => Promise<DoctorHttpResponse>

export interface GatewayProbeOptions {
  /** Called once the WebSocket upgrade succeeded and the gateway handshake begins. */
  onSocketOpened(): void
  signal?: AbortSignal
}

/** Upgrade and sign in, then close at once. */
export interface GatewayPort {
  probe(target: ConnectTarget, options: GatewayProbeOptions): Promise<Result<{ hello: HelloSummary; warnings: string[] }>>
}

export interface ClockPort {
  now(): number
}

export interface DoctorPorts {
  dns: DnsPort
  sockets: SocketPort
  http: DoctorHttp
  gateway: GatewayPort
  clock: ClockPort
  /** Trusted roots for `wss://` (Node's, the OS store, the CA file); undefined = Node's defaults. */
  trustedCertificates(caFile: string | undefined): Promise<Result<string[]>>
}
