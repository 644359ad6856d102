/**
 * One HTTPS request to the gateway's web address with (or without) an Access credential, read
 * the way the connection reads a refused upgrade: a login redirect with its `meta` claims, an
 * Access 401/403, a WAF block, or an answer from the origin behind Access.
 */
import { appError, type AppError } from '../../shared/errors'
import type { DoctorProbe } from '../../shared/doctor-report'
import { accessUpgradeHeaders, type AccessCredentials } from '../cf-access/access-credentials'
import { parseAccessLoginRedirect } from '../cf-access/login-redirect'
import { classifyNetworkError } from '../transport/classify-network-error'
import { classifyUpgradeResponse } from '../transport/classify-upgrade-response'
import type { ProbeFinding, StepContext } from './context'
import { webUrl } from './context'
import type { DoctorHttpRequest, DoctorHttpResponse } from './ports'

/** One GET (or HEAD) through the doctor's HTTP port with the run's trusted roots and cancel signal. */
export function stepRequest(
  ctx: StepContext,
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
  extra: Partial<Pick<DoctorHttpRequest, 'method' | 'http1Only' | 'upgrade'>> = {}
): Promise<DoctorHttpResponse> {
  return ctx.ports.http({
    url,
    method: extra.method ?? 'GET',
    headers,
    timeoutMs,
    ...(extra.http1Only ? { http1Only: true } : {}),
    ...(extra.upgrade ? { upgrade: true } : {}),
    ...(ctx.findings.ca ? { ca: ctx.findings.ca } : {}),
    signal: ctx.signal
  })
}

/** Error codes meaning "Access (or the WAF in front of it) turned the request away". */
export function isAccessRefusal(code: AppError['code'] | undefined): boolean {
  return code !== undefined && (code.startsWith('ACCESS_') || code === 'CLOUDFLARE_WAF_BLOCKED')
}

export interface ProbeSpec {
  id: string
  label: string
  credential: AccessCredentials
  /** Extra or replacing headers (the single-header mode sends its own). */
  headers?: Record<string, string>
  http1Only?: boolean
  upgrade?: boolean
}

/** Classify an HTTP answer; undefined for 2xx and 101 (the request got through). */
export function classifyAnswer(
  response: Pick<DoctorHttpResponse, 'status' | 'headers' | 'body'>,
  requestUrl: string,
  credential: AccessCredentials['kind'],
  sentNames: string[]
): AppError | undefined {
  if (response.status === 101 || (response.status >= 200 && response.status < 300)) return undefined
  return classifyUpgradeResponse({ status: response.status, headers: response.headers, body: response.body, requestUrl, credentialsSent: credential, sentNames })
}

/** Send one probe; never throws (a failed request is an `error` outcome). */
export async function sendProbe(ctx: StepContext, spec: ProbeSpec, timeoutMs: number): Promise<ProbeFinding> {
  const url = ctx.findings.url
  if (!url) throw new Error('probe without a parsed URL')
  const target = webUrl(url)
  const built = accessUpgradeHeaders(spec.credential)
  const headers: Record<string, string> = { 'User-Agent': ctx.userAgent, ...(spec.headers ?? built.headers) }
  const sentNames = spec.headers ? Object.keys(spec.headers) : built.sentNames
  const probe: DoctorProbe = { id: spec.id, label: spec.label, httpStatus: null, outcome: 'error' }
  try {
    const response = await stepRequest(ctx, target, headers, timeoutMs, {
      ...(spec.http1Only ? { http1Only: true } : {}),
      ...(spec.upgrade ? { upgrade: true } : {})
    })
    probe.httpStatus = response.status
    probe.httpVersion = response.httpVersion
    const error = classifyAnswer(response, target, spec.credential.kind, sentNames)
    const location = response.headers.location
    const login = location && response.status >= 300 && response.status < 400 ? parseAccessLoginRedirect(location, target) : null
    if (login?.claims?.serviceTokenStatus !== undefined) probe.serviceTokenStatus = login.claims.serviceTokenStatus
    probe.outcome = isAccessRefusal(error?.code) ? 'refused' : 'admitted'
    if (error) probe.code = error.code
    return { probe, credential: spec.credential, ...(login ? { login } : {}), ...(error ? { error } : {}) }
  } catch (e) {
    const error = classifyNetworkError(e, { host: url.host, port: url.port, timeoutMs, phase: 'connect' })
    probe.code = error.code
    return { probe, credential: spec.credential, error }
  }
}

/** The error to show when a step's requests got no answer at all. */
export function noAnswer(findings: ProbeFinding[]): AppError {
  return findings.find((f) => f.error)?.error ?? appError('CONNECTION_CLOSED', 'No answer', 'None of the requests got an answer.')
}
