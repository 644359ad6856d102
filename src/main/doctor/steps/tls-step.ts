/**
 * Step 3: TCP and TLS. Reachable at all; for wss:// the certificate (subject, issuer, expiry)
 * and whether it chains to a trusted root, naming a TLS-inspecting proxy when one re-signed it.
 */
import { DOCTOR_STEP_TITLES } from '../../../shared/doctor-report'
import { classifyNetworkError } from '../../transport/classify-network-error'
import { facts, type DoctorStepDefinition } from '../context'

export const tlsStep: DoctorStepDefinition = {
  id: 'tls',
  title: DOCTOR_STEP_TITLES.tls,
  timeoutMs: 6_000,
  async run(ctx) {
    const url = ctx.findings.url
    if (!url || ctx.findings.dns?.error) {
      return { status: 'skip', summary: url ? 'Not run: the name could not be resolved.' : 'Not run: the address is not valid.', details: [] }
    }
    const started = ctx.ports.clock.now()
    if (url.secure) {
      const trusted = await ctx.ports.trustedCertificates(ctx.input.caFile)
      if (!trusted.ok) {
        ctx.findings.socket = { error: trusted.error }
        return { status: 'fail', summary: trusted.error.message, details: [], code: trusted.error.code }
      }
      ctx.findings.ca = trusted.value
    }
    const ctxInfo = { host: url.host, port: url.port, timeoutMs: ctx.timeoutMs, phase: 'tls' as const }
    let result
    try {
      result = await ctx.ports.sockets.probe({
        host: url.host,
        port: url.port,
        tls: url.secure,
        ...(ctx.findings.ca ? { ca: ctx.findings.ca } : {}),
        // Reading the system store may have taken part of the step's time.
        timeoutMs: Math.max(100, ctx.timeoutMs - (ctx.ports.clock.now() - started)),
        signal: ctx.signal
      })
    } catch (e) {
      // Cut off by the run (its limit or a cancel): the run has recorded why already.
      if (ctx.signal.aborted) throw e
      const error = classifyNetworkError(e, { ...ctxInfo, phase: url.secure ? 'tls' : 'connect' })
      ctx.findings.socket = { error }
      return { status: 'fail', summary: error.message, details: facts([['system error', error.details.systemCode]]), code: error.code }
    }
    const peer = result.peer
    const details = facts([
      ['connected to', result.remoteAddress ? `${result.remoteAddress}:${url.port}` : undefined],
      ['TLS version', result.tlsVersion],
      ['ALPN', result.alpn],
      ['certificate subject', peer?.subject],
      ['certificate issuer', peer?.issuer],
      ['valid from', peer?.validFrom],
      ['valid to', peer?.validTo],
      ['names', peer?.altNames],
      ['self-signed', peer?.selfSigned || undefined]
    ])
    if (!url.secure) {
      ctx.findings.socket = { result }
      return { status: 'pass', summary: `TCP connection to ${url.host}:${url.port} works (plain, no TLS).`, details }
    }
    if (!result.authorized) {
      const reason = result.authorizationError ?? 'CERT_UNTRUSTED'
      const error = classifyNetworkError(Object.assign(new Error(reason), { code: reason }), {
        ...ctxInfo,
        ...(peer ? { peer: { subject: peer.subject, issuer: peer.issuer, ...(peer.validTo ? { validTo: peer.validTo } : {}) } } : {})
      })
      ctx.findings.socket = { result, error }
      return { status: 'fail', summary: error.message, details: [...details, { label: 'verification', value: reason }], code: error.code }
    }
    ctx.findings.socket = { result }
    return {
      status: 'pass',
      summary: `TLS works: the certificate for ${peer?.subject ?? url.host}, issued by ${peer?.issuer ?? 'an unnamed issuer'}, is trusted and valid until ${peer?.validTo ?? 'an unknown date'}.`,
      details
    }
  }
}
