/**
 * Step 7: the app token (`CF_Authorization`). Its claims checked locally (type, audience against
 * this application's AUD, issuer team, expiry), then the two ways of presenting it: the
 * `CF_Authorization` cookie and the `cf-access-token` header, each on its own.
 */
import { DOCTOR_STEP_TITLES } from '../../../shared/doctor-report'
import { inspectAppToken, normaliseAppToken } from '../../cf-access/app-token'
import { sendProbe, type ProbeSpec } from '../access-probe'
import { facts, unreachable, type DoctorStepDefinition } from '../context'

function issuerHost(iss: string | undefined): string | undefined {
  if (!iss) return undefined
  try {
    return new URL(iss).hostname.toLowerCase()
  } catch {
    return undefined
  }
}

function when(sec: number): string {
  return new Date(sec * 1000).toISOString()
}

export const appTokenStep: DoctorStepDefinition = {
  id: 'app-token',
  title: DOCTOR_STEP_TITLES['app-token'],
  timeoutMs: 6_000,
  async run(ctx) {
    const access = ctx.input.access
    if (access.kind !== 'app-token') return { status: 'skip', summary: 'Not run: no app token is configured.', details: [] }
    const plain = ctx.findings.plain
    const aud = plain?.aud ?? ctx.input.expectedAud?.toLowerCase()
    const check = inspectAppToken(access.token, { nowMs: ctx.ports.clock.now(), ...(aud ? { expectedAud: aud } : {}) })
    const claims = check.ok ? check.claims : check.claims
    const issuerTeam = issuerHost(claims?.iss)
    const issuerMatches = issuerTeam && plain?.teamDomain ? issuerTeam === plain.teamDomain : undefined
    ctx.findings.appToken = {
      check,
      probes: [],
      ...(aud ? { aud } : {}),
      ...(issuerTeam ? { issuerTeam } : {}),
      ...(issuerMatches !== undefined ? { issuerMatches } : {})
    }
    const details = facts([
      ['type', claims?.type],
      ['audience matches this application', aud && claims ? claims.aud.includes(aud) : undefined],
      ['issuer team', issuerTeam],
      ['issuer is this application\u2019s team', issuerMatches],
      ['expires', claims ? when(claims.exp) : undefined],
      ['signed in as', claims?.email ? 'an email identity' : claims?.commonName ? 'a service token' : undefined]
    ])

    const blocked = unreachable(ctx.findings)
    const canProbe = !blocked && plain?.behindAccess && !plain.edgeBlock && !(check.ok === false && check.check === 'malformed')
    if (canProbe) {
      const jwt = normaliseAppToken(access.token)
      const binding = access.binding ? `; CF_Binding=${access.binding}` : ''
      const specs: ProbeSpec[] = [
        { id: 'cookie', label: 'CF_Authorization cookie only', credential: access, headers: { Cookie: `CF_Authorization=${jwt}${binding}` } },
        { id: 'header', label: 'cf-access-token header only', credential: access, headers: { 'cf-access-token': jwt } }
      ]
      const results = await Promise.all(specs.map((spec) => sendProbe(ctx, spec, ctx.timeoutMs)))
      const admitted = results.find((r) => r.probe.outcome === 'admitted')
      ctx.findings.appToken.probes = results
      if (admitted) ctx.findings.appToken.admitted = admitted
    }
    const probes = ctx.findings.appToken.probes.map((r) => r.probe)
    const admitted = ctx.findings.appToken.admitted

    if (!check.ok) {
      const status = check.check === 'expiring' && admitted ? 'warn' : 'fail'
      return { status, summary: check.error.message, details, ...(probes.length > 0 ? { probes } : {}), code: check.error.code }
    }
    if (issuerMatches === false) {
      return {
        status: 'fail',
        summary: `The token was issued by team ${issuerTeam}, but this application belongs to ${plain?.teamDomain}.`,
        details,
        ...(probes.length > 0 ? { probes } : {}),
        code: 'ACCESS_APP_TOKEN_INVALID'
      }
    }
    if (probes.length === 0) {
      return { status: 'pass', summary: 'The app token\u2019s claims are in order (type app, not expired).', details }
    }
    if (!admitted && probes.every((p) => p.httpStatus === null)) {
      const first = ctx.findings.appToken.probes.find((r) => r.error)?.error
      return {
        status: 'fail',
        summary: `The claims look right, but neither request with the token got an answer${first ? ` (${first.title.toLowerCase()})` : ''}, so whether Access accepts it is unknown.`,
        details,
        probes,
        ...(first ? { code: first.code } : {})
      }
    }
    const silent = probes.filter((p) => p.httpStatus === null)
    if (!admitted && silent.length > 0) {
      // One form refused and the other silent: a revoked session would be refused both ways.
      const first = ctx.findings.appToken.probes.find((r) => r.probe.httpStatus === null && r.error)?.error
      return {
        status: 'fail',
        summary: `The claims look right, but the request with the token as the ${silent.map((p) => p.label.replace(/ only$/, '')).join(' and ')} got no answer${first ? ` (${first.title.toLowerCase()})` : ''}, so whether Access accepts it is unknown.`,
        details,
        probes,
        ...(first ? { code: first.code } : {})
      }
    }
    if (!admitted) {
      const code = ctx.findings.appToken.probes.find((r) => r.error)?.error?.code
      return {
        status: 'fail',
        summary: 'The claims look right, but Cloudflare Access refused the token as a cookie and as a header (the session may have been revoked or logged out).',
        details,
        probes,
        ...(code ? { code } : {})
      }
    }
    const both = probes.every((p) => p.outcome === 'admitted')
    return {
      status: both ? 'pass' : 'warn',
      summary: both
        ? 'Cloudflare Access accepts the app token, as a cookie and as a header.'
        : `Cloudflare Access accepts the app token only as: ${admitted.probe.label}.`,
      details,
      probes
    }
  }
}
