/**
 * The last guard on a report: every secret of the input, wherever a gateway, proxy or page
 * echoed it into a summary or detail, replaced through the shared redactor. The report is
 * plain JSON, so the whole document is redacted as text and read back.
 */
import { gatewayUrlSecrets } from '../../shared/gateway-url'
import { redactSecrets } from '../../shared/redact'
import { normaliseAppToken } from '../cf-access/app-token'
import type { DoctorInput } from './context'

export function reportSecrets(input: DoctorInput): string[] {
  // The address's own credential parts too: a step or a gateway may quote the address back.
  const out: (string | undefined)[] = [input.gatewayToken, ...gatewayUrlSecrets(input.url)]
  const a = input.access
  if (a.kind === 'service-token') out.push(a.clientSecret, a.clientId)
  if (a.kind === 'app-token') out.push(a.token, normaliseAppToken(a.token), a.binding)
  return out.filter((s): s is string => typeof s === 'string' && s.trim() !== '')
}

/** A deep copy of `value` with every secret replaced by `[redacted]`. */
export function redactReport<T>(value: T, secrets: readonly string[]): T {
  return JSON.parse(redactSecrets(JSON.stringify(value), secrets)) as T
}
