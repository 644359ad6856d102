/**
 * Step 6: the service-token probe matrix. The same request with the token as configured and in
 * the forms people get wrong: the Client ID with or without `.access`, forced HTTP/1.1, ID and
 * secret swapped, the single-header mode. Each is recorded with its status and
 * `service_token_status`, so the verdict can tell "never recognised" from "a format problem".
 */
import { DOCTOR_STEP_TITLES } from '../../../shared/doctor-report'
import type { AccessCredentials } from '../../cf-access/access-credentials'
import { sendProbe, type ProbeSpec } from '../access-probe'
import { facts, unreachable, type DoctorStepDefinition } from '../context'

/** Header name used for the single-header probe (the name Cloudflare's API documentation uses). */
export const SINGLE_HEADER_NAME = 'Authorization'

export function serviceTokenProbes(clientId: string, clientSecret: string): ProbeSpec[] {
  const token = (id: string, secret: string): AccessCredentials => ({ kind: 'service-token', clientId: id, clientSecret: secret })
  const hasSuffix = /\.access(\.|$)/i.test(clientId)
  const variantId = hasSuffix ? clientId.replace(/\.access(\..*)?$/i, '') : `${clientId}.access`
  return [
    { id: 'standard', label: 'CF-Access-Client-Id and CF-Access-Client-Secret, as configured', credential: token(clientId, clientSecret) },
    { id: 'http1', label: 'the same, forced HTTP/1.1', credential: token(clientId, clientSecret), http1Only: true },
    {
      id: hasSuffix ? 'without-access-suffix' : 'with-access-suffix',
      label: hasSuffix ? 'Client ID without its ".access" suffix' : 'Client ID with ".access" added',
      credential: token(variantId, clientSecret)
    },
    { id: 'swapped', label: 'Client ID and Client Secret swapped', credential: token(clientSecret, clientId) },
    {
      id: 'single-header',
      label: `single-header mode (${SINGLE_HEADER_NAME}: {"cf-access-client-id","cf-access-client-secret"})`,
      credential: token(clientId, clientSecret),
      headers: { [SINGLE_HEADER_NAME]: JSON.stringify({ 'cf-access-client-id': clientId, 'cf-access-client-secret': clientSecret }) }
    }
  ]
}

export const serviceTokenStep: DoctorStepDefinition = {
  id: 'service-token',
  title: DOCTOR_STEP_TITLES['service-token'],
  timeoutMs: 8_000,
  async run(ctx) {
    const access = ctx.input.access
    if (access.kind !== 'service-token') return { status: 'skip', summary: 'Not run: no service token is configured.', details: [] }
    const blocked = unreachable(ctx.findings)
    if (blocked) return { status: 'skip', summary: blocked, details: [] }
    const plain = ctx.findings.plain
    if (plain?.edgeBlock) return { status: 'skip', summary: 'Not run: Cloudflare stops every request before Access (see the previous step).', details: [] }
    if (plain && !plain.behindAccess) {
      return { status: 'warn', summary: 'A service token is configured, but no Cloudflare Access is in front of this address: it is not needed.', details: [] }
    }
    const results = await Promise.all(serviceTokenProbes(access.clientId, access.clientSecret).map((spec) => sendProbe(ctx, spec, ctx.timeoutMs)))
    const admitted = results.find((r) => r.probe.outcome === 'admitted')
    ctx.findings.serviceToken = { probes: results, ...(admitted ? { admitted } : {}) }
    const probes = results.map((r) => r.probe)
    const details = facts([['admitted by', admitted?.probe.label]])
    const standard = results[0]
    if (standard?.probe.outcome === 'admitted') {
      return { status: 'pass', summary: 'Cloudflare Access accepts the service token as configured.', details, probes }
    }
    if (admitted) {
      return {
        status: 'fail',
        summary: `Cloudflare Access refuses the service token as configured but accepts it as: ${admitted.probe.label}.`,
        details,
        probes,
        ...(standard?.error ? { code: standard.error.code } : {})
      }
    }
    const first = results.find((r) => r.error)?.error
    const silent = results.filter((r) => r.probe.httpStatus === null).length
    if (silent === results.length) {
      // No answer is no refusal: nothing is known about the token itself.
      return {
        status: 'fail',
        summary: `None of the ${results.length} requests with the service token got an answer${first ? ` (${first.title.toLowerCase()})` : ''}, so whether Access accepts the token is unknown.`,
        details,
        probes,
        ...(first ? { code: first.code } : {})
      }
    }
    // The token as configured travels in the two standard headers; a variant's refusal is about
    // another credential, so with those two silent there is still no word on the token.
    const standardSilent = results.filter((r) => r.probe.id === 'standard' || r.probe.id === 'http1').every((r) => r.probe.httpStatus === null)
    if (standardSilent) {
      const standardError = results.find((r) => (r.probe.id === 'standard' || r.probe.id === 'http1') && r.error)?.error
      return {
        status: 'fail',
        summary: `The requests with the service token in the standard headers got no answer${standardError ? ` (${standardError.title.toLowerCase()})` : ''}, so whether Access accepts the token is unknown; only other forms got an answer.`,
        details,
        probes,
        ...(standardError ? { code: standardError.code } : {})
      }
    }
    return {
      status: 'fail',
      summary:
        silent > 0
          ? `Cloudflare Access did not accept the service token in any of the forms that got an answer; ${silent} of ${results.length} got no answer.`
          : 'Cloudflare Access did not accept the service token in any of the forms tried.',
      details,
      probes,
      ...(first ? { code: first.code } : {})
    }
  }
}
