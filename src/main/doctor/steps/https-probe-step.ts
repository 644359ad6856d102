/**
 * Step 4: a plain request without credentials to the gateway's web address. What stands in
 * front: Cloudflare Access (its login redirect and the decoded `meta` claims, or its 401), the
 * WAF, a tunnel or edge error, or the gateway itself.
 */
import { DOCTOR_STEP_TITLES } from '../../../shared/doctor-report'
import { discoverAccessApp, type HttpGet } from '../../cf-access/sign-in/transfer-login'
import { parseAccessLoginRedirect } from '../../cf-access/login-redirect'
import type { AppError } from '../../../shared/errors'
import type { GatewayUrl } from '../../../shared/gateway-url'
import { classifyNetworkError, PLAIN_REFUSAL_CODES, tlsRequired } from '../../transport/classify-network-error'
import { classifyAnswer, stepRequest } from '../access-probe'
import { facts, unreachable, webUrl, type DoctorStepDefinition, type StepContext } from '../context'

const EDGE_BLOCKS = new Set(['CLOUDFLARE_WAF_BLOCKED', 'CLOUDFLARE_TUNNEL_DOWN', 'CLOUDFLARE_ERROR'])

/** How long a plain address's port gets to answer a TLS hello. */
const TLS_HELLO_MS = 1_500
const TLS_HELLO_ANSWERED = 'this port answers a TLS hello'

/** The doctor's HTTP port as the sign-in module's HttpGet (for the Access application lookup). */
export function asHttpGet(ctx: StepContext): HttpGet {
  return (url, options) => stepRequest(ctx, url, options.headers ?? {}, options.timeoutMs, { method: options.method })
}

function hostOf(location: string, base: string): string | undefined {
  try {
    return new URL(location, base).host
  } catch {
    return undefined
  }
}

/**
 * For a plain address whose port refused plain HTTP: TLS_REQUIRED when the port answers a TLS
 * hello (within what the step has left), else nothing. Asked only after such a refusal, so a
 * working plain gateway never sees a stray hello.
 */
async function tlsRequiredFinding(ctx: StepContext, url: GatewayUrl, started: number): Promise<AppError | undefined> {
  if (url.secure) return undefined
  const left = ctx.timeoutMs - (ctx.ports.clock.now() - started)
  const speaksTls = await ctx.ports.sockets
    .speaksTls({ host: url.host, port: url.port, timeoutMs: Math.max(100, Math.min(TLS_HELLO_MS, left)), signal: ctx.signal })
    .catch(() => false)
  return speaksTls ? tlsRequired(url.host, url.port, url.href) : undefined
}

export const httpsProbeStep: DoctorStepDefinition = {
  id: 'https-probe',
  title: DOCTOR_STEP_TITLES['https-probe'],
  timeoutMs: 6_000,
  async run(ctx) {
    const blocked = unreachable(ctx.findings)
    const url = ctx.findings.url
    if (blocked || !url) return { status: 'skip', summary: blocked ?? 'Not run.', details: [] }
    const target = webUrl(url)
    const started = ctx.ports.clock.now()
    let response
    try {
      response = await stepRequest(ctx, target, { 'User-Agent': ctx.userAgent, Accept: 'text/html,application/json;q=0.9,*/*;q=0.8' }, ctx.timeoutMs)
    } catch (e) {
      if (ctx.signal.aborted) throw e
      const refused = classifyNetworkError(e, { host: url.host, port: url.port, timeoutMs: ctx.timeoutMs, phase: 'connect' })
      // A plain address on a port that speaks TLS is hung up on.
      const needsTls = PLAIN_REFUSAL_CODES.has(refused.code) ? await tlsRequiredFinding(ctx, url, started) : undefined
      const error = needsTls ?? refused
      ctx.findings.socket = { ...ctx.findings.socket, error }
      return { status: 'fail', summary: error.message, details: needsTls ? facts([['TLS', TLS_HELLO_ANSWERED]]) : [], code: error.code }
    }
    // Most web servers answer plain HTTP on their TLS port with a 400 of their own words.
    const needsTls = response.status === 400 ? await tlsRequiredFinding(ctx, url, started) : undefined
    if (needsTls) {
      ctx.findings.socket = { ...ctx.findings.socket, error: needsTls }
      return { status: 'fail', summary: needsTls.message, details: facts([['HTTP status', '400'], ['TLS', TLS_HELLO_ANSWERED]]), code: needsTls.code }
    }
    const h = response.headers
    const classification = classifyAnswer(response, target, 'none', [])
    const location = h.location
    const login = location && response.status >= 300 && response.status < 400 ? parseAccessLoginRedirect(location, target) : null
    const fromCloudflare = /cloudflare/i.test(h.server ?? '') || h['cf-ray'] !== undefined
    const accessCode = classification?.code === 'ACCESS_LOGIN_REQUIRED' || classification?.code === 'ACCESS_UNAUTHORIZED'
    const plain: NonNullable<typeof ctx.findings.plain> = {
      status: response.status,
      httpVersion: response.httpVersion,
      fromCloudflare,
      behindAccess: Boolean(login) || accessCode,
      ...(classification ? { classification } : {}),
      ...(login ? { login, loginLocation: location } : {})
    }
    if (login?.aud) plain.aud = login.aud.toLowerCase()
    if (login) plain.teamDomain = login.teamDomain
    if (classification && EDGE_BLOCKS.has(classification.code)) plain.edgeBlock = classification
    if (plain.behindAccess && !plain.aud) {
      // An Access 401 names no application; the signed metadata answer does.
      const found = await discoverAccessApp(target, asHttpGet(ctx), { userAgent: ctx.userAgent, timeoutMs: Math.min(ctx.timeoutMs, 4_000), signal: ctx.signal })
      if (found.ok) {
        plain.aud = found.value.aud
        if (found.value.teamDomain) plain.teamDomain = found.value.teamDomain
      }
    }
    ctx.findings.plain = plain

    const claims = login?.claims
    const details = facts([
      ['HTTP status', response.status],
      ['HTTP version', response.httpVersion],
      ['server', h.server?.slice(0, 60)],
      ['cf-ray', h['cf-ray']?.slice(0, 40)],
      ['redirect to', location ? hostOf(location, target) : undefined],
      ['www-authenticate', classification?.details.wwwAuthenticate],
      ['cf-mitigated', h['cf-mitigated']?.slice(0, 30)],
      ['Cloudflare error', classification?.details.cloudflareErrorCode],
      ['team domain', plain.teamDomain],
      ['application AUD', plain.aud],
      ['meta: type', claims?.type],
      ['meta: hostname', claims?.hostname],
      ['meta: auth_status', claims?.authStatus],
      ['meta: service_token_status', claims?.serviceTokenStatus],
      ['meta: is_warp', claims?.isWarp],
      ['meta: is_gateway', claims?.isGateway],
      ['meta: country', claims?.country],
      ['meta: ray_id', claims?.rayId]
    ])
    for (const note of classification?.details.notes ?? []) details.push({ label: 'note', value: note })

    if (plain.edgeBlock) {
      return { status: 'fail', summary: plain.edgeBlock.message, details, code: plain.edgeBlock.code }
    }
    if (plain.behindAccess) {
      const team = plain.teamDomain ? ` of team ${plain.teamDomain}` : ''
      const how = login ? `redirects to the Access login page${team}` : `answers HTTP ${response.status} asking for Access credentials`
      const mismatch = classification?.details.notes?.find((n) => n.startsWith('Access matched the application for'))
      return {
        status: mismatch ? 'warn' : 'pass',
        summary: `Cloudflare Access protects this address: without credentials it ${how}.${mismatch ? ` ${mismatch}` : ''}`,
        details
      }
    }
    const who = fromCloudflare ? 'The origin behind Cloudflare' : 'The server'
    return {
      status: 'pass',
      summary: `No Cloudflare Access in front: ${who.toLowerCase()} answered HTTP ${response.status} to a request without credentials.`,
      details
    }
  }
}
