/**
 * Steps 8 and 9: the WebSocket upgrade with the best credential found, then the gateway
 * handshake (challenge, signed connect, the gateway's answer). One real connection attempt
 * through the same connector the app uses, closed as soon as the gateway said hello.
 */
import { DOCTOR_STEP_TITLES } from '../../../shared/doctor-report'
import type { AccessCredentials } from '../../cf-access/access-credentials'
import type { ConnectTarget } from '../../gateway/gateway-connector'
import { facts, unreachable, type DoctorStepDefinition, type Findings, type DoctorInput } from '../context'

/** The credential most likely to work: a probe variant Access admitted, else the configured one. */
export function bestCredential(input: DoctorInput, findings: Findings): { credential: AccessCredentials; variant?: string } {
  const admitted = input.access.kind === 'service-token' ? findings.serviceToken?.admitted : undefined
  if (admitted && admitted.probe.id !== 'standard' && admitted.probe.id !== 'single-header') {
    return { credential: admitted.credential, variant: admitted.probe.label }
  }
  return { credential: input.access }
}

export const websocketStep: DoctorStepDefinition = {
  id: 'websocket',
  title: DOCTOR_STEP_TITLES.websocket,
  timeoutMs: 10_000,
  async run(ctx) {
    const blocked = unreachable(ctx.findings)
    const url = ctx.findings.url
    if (blocked || !url) return { status: 'skip', summary: blocked ?? 'Not run.', details: [] }
    const { credential, variant } = bestCredential(ctx.input, ctx.findings)
    const aud = ctx.findings.plain?.aud ?? ctx.input.expectedAud
    const target: ConnectTarget = {
      targetId: ctx.input.targetId,
      url,
      ...(ctx.input.gatewayToken ? { gatewayToken: ctx.input.gatewayToken } : {}),
      access: credential,
      ...(aud && credential.kind === 'app-token' ? { expectedAud: aud } : {}),
      ...(ctx.input.caFile ? { caFile: ctx.input.caFile } : {}),
      connectTimeoutMs: ctx.timeoutMs
    }
    let opened = false
    const result = await ctx.ports.gateway.probe(target, { onSocketOpened: () => (opened = true), signal: ctx.signal })
    ctx.findings.upgrade = { opened, credential: credential.kind, ...(variant ? { variant } : {}) }
    ctx.findings.handshake = { warnings: result.ok ? result.value.warnings : [] }
    if (result.ok) ctx.findings.handshake.hello = result.value.hello
    else if (opened) ctx.findings.handshake.error = result.error
    else ctx.findings.upgrade.error = result.error

    const details = facts([
      ['credential sent', credential.kind === 'none' ? 'none' : credential.kind],
      ['credential form', variant],
      ['HTTP status', !opened ? result.ok ? undefined : result.error.details.httpStatus : 101]
    ])
    if (opened) {
      return { status: 'pass', summary: `The WebSocket upgrade to ${url.host} succeeded${variant ? ` (with ${variant})` : ''}.`, details }
    }
    const error = ctx.findings.upgrade.error
    return {
      status: 'fail',
      summary: error ? `${error.title}: ${error.message}` : 'The WebSocket upgrade failed.',
      details,
      ...(error ? { code: error.code } : {})
    }
  }
}

export const handshakeStep: DoctorStepDefinition = {
  id: 'handshake',
  title: DOCTOR_STEP_TITLES.handshake,
  timeoutMs: 1_000,
  async run(ctx) {
    const upgrade = ctx.findings.upgrade
    const hs = ctx.findings.handshake
    if (!upgrade?.opened || !hs) return { status: 'skip', summary: 'Not run: the WebSocket upgrade did not succeed.', details: [] }
    if (hs.hello) {
      const hello = hs.hello
      const details = facts([
        ['gateway version', hello.serverVersion],
        ['protocol', hello.protocol],
        ['signed in with', hello.authMethod],
        ['permissions', hello.scopes.join(', ') || 'none']
      ])
      for (const w of hs.warnings) details.push({ label: 'note', value: w })
      return {
        status: hello.scopes.length === 0 ? 'warn' : 'pass',
        summary: `The gateway${hello.serverVersion ? ` ${hello.serverVersion}` : ''} accepted the connection (protocol ${hello.protocol}).`,
        details
      }
    }
    const error = hs.error
    const d = error?.details
    return {
      status: 'fail',
      summary: error ? `${error.title}: ${error.message}` : 'The gateway handshake failed.',
      details: facts([
        ['gateway code', d?.gatewayCode],
        ['gateway detail', d?.gatewayDetailCode],
        ['pairing request', d?.pairingRequestId],
        ['close code', d?.closeCode]
      ]),
      ...(error ? { code: error.code } : {})
    }
  }
}
