// Fake ports for the doctor's unit tests: a scripted resolver, socket dialer, HTTP server and gateway.
import { fail, ok, type AppError, type Result } from '../../../src/shared/errors'
import type { DoctorHttpRequest, DoctorHttpResponse, DoctorPorts, ResolvedAddress, SocketProbeResult } from '../../../src/main/doctor/ports'
import type { HelloSummary } from '../../../src/main/gateway/gateway-connection'

export const HELLO: HelloSummary = {
  protocol: 4,
  serverVersion: '2026.9.6',
  mainSessionKey: 'agent:main:main',
  scopes: ['operator.read', 'operator.write'],
  tickIntervalMs: 30_000,
  methods: [],
  deviceTokenIssued: false
}

export interface FakeOptions {
  lookup?: (host: string) => Promise<ResolvedAddress[]>
  cname?: (host: string) => Promise<string[]>
  socket?: () => Promise<SocketProbeResult>
  /** Whether the port answers a TLS hello (asked for plain ws:// addresses); default: it does not. */
  speaksTls?: () => Promise<boolean>
  http?: (req: DoctorHttpRequest) => Promise<DoctorHttpResponse> | DoctorHttpResponse
  gateway?: (opened: () => void) => Promise<Result<{ hello: HelloSummary; warnings: string[] }>>
}

export function errno(code: string, message = code): Error {
  return Object.assign(new Error(message), { code })
}

export function answer(status: number, headers: Record<string, string> = {}, body = ''): DoctorHttpResponse {
  return { status, headers, body, httpVersion: '1.1' }
}

export function fakePorts(o: FakeOptions = {}): DoctorPorts & { requests: DoctorHttpRequest[] } {
  const requests: DoctorHttpRequest[] = []
  return {
    requests,
    dns: {
      lookup: o.lookup ?? (async () => [{ address: '203.0.113.7', family: 4 }]),
      resolveCname: o.cname ?? (async () => Promise.reject(errno('ENODATA')))
    } as DoctorPorts['dns'],
    sockets: {
      speaksTls: o.speaksTls ?? (async () => false),
      probe: o.socket ?? (async () => ({ authorized: true, remoteAddress: '203.0.113.7', peer: { subject: 'gw.example.com', issuer: 'Example CA', validTo: 'Jan 1 00:00:00 2030 GMT' } }))
    },
    http: async (req) => {
      requests.push(req)
      return o.http ? o.http(req) : answer(200, {}, 'ok')
    },
    gateway: {
      probe: async (_target, options) =>
        o.gateway
          ? o.gateway(options.onSocketOpened)
          : (options.onSocketOpened(), ok({ hello: HELLO, warnings: [] }))
    },
    clock: { now: Date.now },
    trustedCertificates: async () => ok(['fake-root'])
  }
}

export function gatewayRefusal(error: AppError): FakeOptions['gateway'] {
  return async (opened) => {
    opened()
    return fail(error)
  }
}
