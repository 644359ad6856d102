/**
 * From the findings to the verdict: the likely causes ranked by the evidence, each with what
 * supports it, and the ways forward. Pure: no I/O, the findings are all it reads.
 *
 * The first problem on the path decides (a name that does not resolve makes every later check
 * moot); within Cloudflare Access the probe matrix decides between "never recognised", "valid
 * but not admitted", "cannot authenticate" and "a format problem".
 */
import { shellWord } from '../../shared/shell-word'
import { appError, categoryOf, type AppError, type ErrorCode } from '../../shared/errors'
import { displayGatewayUrl, isLoopbackHost } from '../../shared/gateway-url'
import type { DoctorCause, DoctorLikelihood, DoctorVerdict, DoctorWayForward } from '../../shared/doctor-report'
import type { Findings, DoctorInput, ProbeFinding } from './context'
import {
  addServiceAuthPolicy,
  createServiceToken,
  fixApplicationHostname,
  fixAccessCredentials,
  fromNextStep,
  selfHostedApplication,
  silentCredentialedRequests,
  signInWithEmail,
  turnOffAccess,
  wafException,
  type WayContext
} from './ways-forward'

/** A stable cause id from an error code: `DNS_NOT_FOUND` → `dns-not-found`. */
export function causeIdFor(code: ErrorCode): string {
  return code.toLowerCase().replace(/_/g, '-')
}

const RANK: Record<DoctorLikelihood, number> = { high: 0, medium: 1, low: 2 }

/** Most likely first; equal likelihood keeps the order the rules gave. Duplicate ids keep the first. */
export function rankCauses(causes: DoctorCause[]): DoctorCause[] {
  const seen = new Set<string>()
  const unique = causes.filter((c) => (seen.has(c.id) ? false : (seen.add(c.id), true)))
  return unique.map((c, i) => ({ c, i })).sort((a, b) => RANK[a.c.likelihood] - RANK[b.c.likelihood] || a.i - b.i).map(({ c }) => c)
}

/** Causes from a classified error: its likely causes in order (high, medium, then low). */
export function causesFromError(error: AppError, evidence: string[]): DoctorCause[] {
  const base = causeIdFor(error.code)
  const listed = error.likelyCauses ?? []
  if (listed.length === 0) return [{ id: base, title: error.title, likelihood: 'high', evidence, code: error.code }]
  return listed.map((title, i) => ({
    id: i === 0 ? base : `${base}-${i + 1}`,
    title,
    likelihood: i === 0 ? 'high' : i === 1 ? 'medium' : 'low',
    evidence: i === 0 ? evidence : [],
    code: error.code
  }))
}

function waysFromError(error: AppError, w: WayContext): DoctorWayForward[] {
  return error.nextSteps.map((step, i) => fromNextStep(step, i, w))
}

/**
 * Codes the network classifier gives. Their `details.notes` hold the system's own message
 * (getaddrinfo EINVAL, a TLS library's text): useful in a log, noise as evidence, so the
 * evidence keeps to the classified plain sentence.
 */
const SYSTEM_CLASSIFIED = new Set<ErrorCode>([
  'DNS_NOT_FOUND',
  'CONNECTION_REFUSED',
  'CONNECTION_RESET',
  'CONNECTION_CLOSED',
  'NETWORK_UNREACHABLE',
  'TIMEOUT',
  'TLS_UNTRUSTED',
  'TLS_EXPIRED',
  'TLS_HOSTNAME_MISMATCH',
  'TLS_ERROR',
  'PROTOCOL_ERROR',
  'CANCELLED'
])

/** Whether a probe got any HTTP answer (a timeout or a reset says nothing about the credential). */
function answered(p: ProbeFinding): boolean {
  return p.probe.httpStatus !== null
}

/**
 * Every request with the credential went unanswered while the one without credentials got an
 * answer: nothing is known about the credential, and what is known is that the edge or the
 * origin behind it does not answer credentialed requests. A refusal verdict here would send the
 * operator to the dashboard for a policy that may be fine.
 */
function noAnswerVerdict(probes: ProbeFinding[], f: Findings, w: WayContext, what: string, more: { which?: string; evidence?: string[] } = {}): Built {
  const error = probes.find((p) => p.error)?.error ?? appError('CONNECTION_CLOSED', 'No answer', `None of the requests with the ${what} got an answer.`)
  const timedOut = error.code === 'TIMEOUT' || error.code === 'REQUEST_TIMEOUT'
  const evidence = [
    `${probes.length === 1 ? 'The request' : `None of the ${probes.length} requests`} with the ${what}${more.which ? ` ${more.which}` : ''} ${probes.length === 1 ? 'got no answer' : 'got an answer'}: ${probes.map(statusText).join('; ')}.`,
    ...(f.plain ? [`The same address answered the request without credentials (HTTP ${f.plain.status}${f.plain.behindAccess ? ', from Cloudflare Access' : ''}), so the way there works.`] : []),
    ...(more.evidence ?? []),
    error.message
  ]
  const cause: DoctorCause = {
    id: causeIdFor(error.code),
    title: timedOut
      ? `Requests that carry the ${what} time out: the Cloudflare edge or the origin behind Access does not answer credentialed requests.`
      : `Requests that carry the ${what} get no answer (${error.title.toLowerCase()}): the Cloudflare edge or the origin behind Access drops credentialed requests.`,
    likelihood: 'high',
    evidence,
    code: error.code
  }
  // The classifier's other causes stay, below the one the evidence points at.
  const others = causesFromError(error, []).slice(1).map((c) => ({ ...c, likelihood: c.likelihood === 'high' ? ('medium' as const) : c.likelihood }))
  return { causes: [cause, ...others], ways: [silentCredentialedRequests(w, what), ...waysFromError(error, w)], error, code: error.code }
}

/** The probes that sent the token as configured in the two standard headers (over HTTP/2 or HTTP/1.1). */
function isStandardHeaders(p: ProbeFinding): boolean {
  return p.probe.id === 'standard' || p.probe.id === 'http1'
}

function statusText(p: ProbeFinding): string {
  const sts = p.probe.serviceTokenStatus
  return `${p.probe.label}: ${p.probe.httpStatus === null ? 'no answer' : `HTTP ${p.probe.httpStatus}`}${sts !== undefined ? `, service_token_status ${sts}` : ''} (${p.probe.outcome})`
}

interface Built {
  causes: DoctorCause[]
  ways: DoctorWayForward[]
  error?: AppError
  code?: ErrorCode
}

function serviceTokenVerdict(input: DoctorInput, f: Findings, w: WayContext): Built {
  const st = f.serviceToken
  const probes = st?.probes ?? []
  const standard = probes[0]
  const admitted = st?.admitted
  const causes: DoctorCause[] = []
  const code = standard?.error?.code

  if (admitted && admitted !== standard) {
    const evidence = [standard ? statusText(standard) : 'As configured: refused.', statusText(admitted)]
    const byVariant: Record<string, [string, string]> = {
      'with-access-suffix': ['client-id-suffix', 'The Client ID is missing its ".access" suffix: Access only knows the ID as issued.'],
      'without-access-suffix': ['client-id-suffix', 'The Client ID carries a suffix Access does not expect: send it exactly as issued.'],
      swapped: ['id-secret-swapped', 'The Client ID and the Client Secret are swapped.'],
      http1: ['http2-drops-headers', 'Over HTTP/2 the service-token headers do not reach Access (a proxy or client path drops them); over HTTP/1.1 they work.'],
      'single-header': ['single-header-mode', 'The application reads service tokens from a single header (read_service_tokens_from_header), not from the two standard headers.']
    }
    const [id, title] = byVariant[admitted.probe.id] ?? ['header-format', `Access accepts the token only as: ${admitted.probe.label}.`]
    causes.push({ id, title, likelihood: 'high', evidence, ...(code ? { code } : {}) })
    const fix: DoctorWayForward = {
      id: `fix-${id}`,
      title: 'Correct the service token in this gateway\u2019s settings',
      action: 'check-service-token',
      steps: [
        `In the app, edit the gateway: Cloudflare Access → Service token, and enter the credential in the form Access accepted (${admitted.probe.label}); on the command line, set AETHER_CF_CLIENT_ID and AETHER_CF_CLIENT_SECRET that way (or profile add --access service-token --client-id …).`,
        'Copy the Client ID and Client Secret from where the token was created: Zero Trust → Access → Service credentials → Service Tokens (the secret is shown only at creation; create a new token if it is lost).'
      ]
    }
    return { causes, ways: [fix], ...(standard?.error ? { error: standard.error } : {}), ...(code ? { code } : {}) }
  }

  if (probes.length > 0 && !probes.some(answered)) return noAnswerVerdict(probes, f, w, 'service token')
  // The token as configured is judged on the two standard headers alone (the variants are other
  // credentials to Access): when neither of those got an answer, nothing is known about it, and
  // a variant's refusal says only that Access does not read that form.
  const standardProbes = probes.filter(isStandardHeaders)
  if (standardProbes.length > 0 && !standardProbes.some(answered)) {
    const variants = probes.filter((p) => !isStandardHeaders(p) && answered(p))
    const single = variants.find((p) => p.probe.id === 'single-header' && p.probe.outcome === 'refused')
    return noAnswerVerdict(standardProbes, f, w, 'service token', {
      which: 'in the standard headers (CF-Access-Client-Id and CF-Access-Client-Secret)',
      evidence: [
        ...(variants.length > 0 ? [`Only other forms got an answer (${variants.map(statusText).join('; ')}); they are other credentials to Access and say nothing about the token as configured.`] : []),
        ...(single ? ['The single-header form got the login redirect: single-header mode (read_service_tokens_from_header) is off for this application, which is the usual setting.'] : [])
      ]
    })
  }
  const unanswered = probes.filter((p) => !answered(p)).length
  const thatAnswered = unanswered > 0 ? ' that got an answer' : ''

  const refusals = probes.filter((p) => p.probe.outcome === 'refused')
  const recognised = probes.some((p) => p.probe.serviceTokenStatus === true || (p.error?.code === 'ACCESS_FORBIDDEN' && p.probe.httpStatus === 403))
  // Judged on the probes that sent the two standard headers: the variants are other tokens to Access.
  const core = refusals.filter(isStandardHeaders)
  const cannotAuthenticate = core.length > 0 && core.every((p) => p.error?.code === 'ACCESS_UNAUTHORIZED' && p.probe.httpStatus === 401)
  const plainAud = f.plain?.aud
  const savedAud = input.expectedAud?.toLowerCase()
  const audMismatch = Boolean(savedAud && plainAud && savedAud !== plainAud)
  const page = f.loginPage
  const emailOnly = page?.fetched && page.otp && page.identityProviders.length === 0
  const tried = probes.map(statusText)

  const otherAccount = (likelihood: DoctorLikelihood): DoctorCause => ({
    id: 'token-other-account',
    title: 'The service token belongs to another Cloudflare account (or another application\u2019s setup).',
    likelihood,
    evidence: audMismatch
      ? [`This gateway was saved for the Access application with AUD ${savedAud}, but the application in front of it now has AUD ${plainAud}: the token was most likely made in that other setup.`]
      : ['Access does not know the token; a token from another account looks exactly like this.'],
    ...(code ? { code } : {})
  })
  if (audMismatch) causes.push(otherAccount('high'))

  if (recognised) {
    const how = probes.find((p) => p.probe.serviceTokenStatus === true)
      ? 'The login redirect says service_token_status true: Access knows the token.'
      : 'Access answered 403 (strict service-token mode): the token authenticates, but no policy admits it.'
    causes.push(
      { id: 'token-not-in-policy', title: 'The token is valid, but no Service Auth policy of this application includes it.', likelihood: 'high', evidence: [how, ...tried], ...(code ? { code } : {}) },
      { id: 'no-service-auth-policy', title: 'The application has no Service Auth policy at all (only Allow policies, which never admit a service token).', likelihood: 'medium', evidence: emailOnly ? ['The login page offers only email codes: the application is set up for people.'] : [] },
      { id: 'other-application-path', title: 'Another Access application with a more specific hostname or path covers this address and does not admit the token.', likelihood: 'low', evidence: [] }
    )
  } else if (cannotAuthenticate) {
    causes.push(
      { id: 'token-expired-or-revoked', title: 'The service token expired, was revoked or its secret was rotated.', likelihood: 'high', evidence: ['Access answered 401 to the token as configured, over HTTP/2 and HTTP/1.1 (strict service-token mode): the token cannot authenticate at all, whatever the policies say.', ...tried], ...(code ? { code } : {}) },
      { id: 'wrong-secret', title: 'The Client Secret does not belong to this Client ID.', likelihood: 'medium', evidence: [] },
      otherAccount('medium')
    )
  } else {
    causes.push(
      {
        id: 'no-service-auth-policy',
        title: 'There is no Service Auth policy on this application (an Allow policy does not admit service tokens).',
        likelihood: 'high',
        evidence: [
          probes.filter(answered).every((p) => p.probe.serviceTokenStatus === false)
            ? `Access never recognised the token: every form${thatAnswered} got the login redirect with service_token_status false.`
            : `Access did not admit the token in any form${thatAnswered}.`,
          ...(unanswered > 0 ? [`${unanswered} of the ${probes.length} forms got no answer, which says nothing about the token.`] : []),
          ...(emailOnly ? ['The login page offers only email codes: the application is set up for people, not for service tokens.'] : [])
        ],
        ...(code ? { code } : {})
      },
      { id: 'token-not-in-policy', title: 'The service token is not included in the application\u2019s Service Auth policy.', likelihood: 'high', evidence: [] },
      { id: 'token-expired-or-revoked', title: 'The service token expired or was revoked.', likelihood: 'medium', evidence: [] },
      otherAccount('medium'),
      { id: 'header-format', title: 'The headers are in a form Access does not read.', likelihood: 'low', evidence: [`Every format was tried${unanswered > 0 ? ` (${unanswered} got no answer)` : ''}: ${tried.join('; ')}.`] }
    )
  }
  const ways = [addServiceAuthPolicy(w), createServiceToken(w), ...emailSignInWays(f, w), turnOffAccess(w)]
  return { causes, ways, ...(standard?.error ? { error: standard.error } : {}), ...(code ? { code } : {}) }
}

/**
 * The email sign-in, offered only on the login page's word: as a plain way forward when the page
 * offers the email one-time PIN, worded "if the login page offers email codes" when the page
 * could not be read, and not at all when it was read and offers no email codes.
 */
function emailSignInWays(f: Findings, w: WayContext): DoctorWayForward[] {
  const page = f.loginPage
  if (page?.fetched) return page.otp ? [signInWithEmail(w, 'offered')] : []
  return [signInWithEmail(w, 'unknown')]
}

function appTokenVerdict(f: Findings, w: WayContext): Built | undefined {
  const at = f.appToken
  if (!at) return undefined
  const page = f.loginPage
  // A person signed in once, so the application has some sign-in for people; the page says which.
  const ways = [...(page?.fetched && !page.otp ? [] : [signInWithEmail(w, page?.fetched ? 'offered' : 'unknown')]), createServiceToken(w)]
  const check = at.check
  if (!check.ok) {
    const byCheck: Record<string, [string, string]> = {
      expired: ['app-token-expired', 'The app token (Access session) has expired.'],
      expiring: ['app-token-expiring', 'The app token expires within minutes.'],
      audience: ['app-token-other-app', 'The app token was issued for another Access application.'],
      type: ['app-token-wrong-type', 'This is not the application\u2019s token (for example the team-domain session token).'],
      'not-yet-valid': ['clock-wrong', 'This computer\u2019s clock is wrong: the token is not valid yet.'],
      malformed: ['app-token-malformed', 'The app token is not a readable Access token (cut off when copied?).']
    }
    const [id, title] = byCheck[check.check] ?? ['app-token-invalid', check.error.title]
    const evidence = [check.error.message]
    if (check.check === 'audience' && at.aud) evidence.push(`This application\u2019s AUD is ${at.aud}; the token\u2019s audience does not contain it.`)
    for (const p of at.probes) evidence.push(statusText(p))
    const likelihood: DoctorLikelihood = check.check === 'expiring' ? 'low' : 'high'
    return { causes: [{ id, title, likelihood, evidence, code: check.error.code }], ways, error: check.error, code: check.error.code }
  }
  if (at.issuerMatches === false) {
    return {
      causes: [{ id: 'app-token-other-team', title: 'The app token was issued by another Access team.', likelihood: 'high', evidence: [`Issuer team ${at.issuerTeam}; this application belongs to ${f.plain?.teamDomain}.`], code: 'ACCESS_APP_TOKEN_INVALID' }],
      ways,
      code: 'ACCESS_APP_TOKEN_INVALID'
    }
  }
  if (at.probes.length > 0 && !at.probes.some(answered)) return noAnswerVerdict(at.probes, f, w, 'app token')
  // A refusal in one form with no answer in the other is no verdict on the session: a revoked
  // session is refused both ways, and the silent form may be the one this application reads.
  const silent = at.probes.filter((p) => !answered(p))
  if (!at.admitted && silent.length > 0) {
    const spoke = at.probes.filter(answered)
    return noAnswerVerdict(silent, f, w, 'app token', {
      which: `as the ${silent.map((p) => p.probe.label.replace(/ only$/, '')).join(' and ')}`,
      evidence: [`The other form got an answer (${spoke.map(statusText).join('; ')}), but a refusal in one form alone does not say the session was ended or revoked.`]
    })
  }
  if (at.probes.length > 0 && !at.admitted) {
    const first = at.probes.find((p) => p.error)?.error
    const code: ErrorCode = first?.code ?? 'ACCESS_APP_TOKEN_REJECTED'
    return {
      causes: [
        { id: 'app-token-revoked', title: 'The Access session behind the token was ended (logout) or revoked by an administrator.', likelihood: 'high', evidence: ['The claims are in order, yet Access refused the token as a cookie and as a header.', ...at.probes.map(statusText)], code },
        { id: 'binding-cookie', title: 'The application requires the CF_Binding cookie next to CF_Authorization.', likelihood: 'medium', evidence: [] },
        { id: 'app-token-other-app-unchecked', title: 'The token is for another application with the same team.', likelihood: page ? 'low' : 'medium', evidence: [] }
      ],
      ways,
      ...(first ? { error: first } : {}),
      code
    }
  }
  return undefined
}

function clientIdHint(input: DoctorInput): string | undefined {
  if (input.access.kind !== 'service-token') return undefined
  const id = input.access.clientId
  return id.length >= 12 ? `starts with ${id.slice(0, 8)}…` : undefined
}

/** Build the verdict. */
export function buildVerdict(input: DoctorInput, f: Findings): DoctorVerdict {
  const url = f.url
  const dialledHost = url?.host ?? displayGatewayUrl(input.url)
  const matched = f.plain?.login?.claims?.hostname
  const w: WayContext = {
    appHost: matched ?? dialledHost,
    dialledHost,
    ...(f.plain?.teamDomain ? { teamDomain: f.plain.teamDomain } : {}),
    ...(f.plain?.aud ? { aud: f.plain.aud } : {}),
    ...(clientIdHint(input) ? { tokenHint: clientIdHint(input) } : {}),
    ...(input.profileName ? { profileName: input.profileName } : {}),
    // The dialled address's own web origin (its port kept), unless Access matched another host.
    ...(url && (!matched || matched.replace(/:\d+$/, '').toLowerCase() === url.host.toLowerCase()) ? { webAddress: url.webOrigin } : {}),
    ...(url && !url.secure && isLoopbackHost(url.host) ? { plainLoopback: true } : {}),
    ...(input.profileName
      ? { loginCommand: `npm run cli -- login --profile ${shellWord(input.profileName)}` }
      : url?.secure
        ? // Without the query: its values are not printed, and sign-in needs only the host.
          { loginCommand: `npm run cli -- login --url ${shellWord(url.href.split('?')[0] ?? url.href)}` }
        : {})
  }
  const built = withCredentialProblem(input, f, w, diagnose(input, f, w))
  const causes = rankCauses(built.causes)
  // The connection refuses to start with unusable credentials, so a gateway that answered
  // without them still does not "work" with this input.
  const ok = Boolean(f.handshake?.hello) && !input.credentialProblem
  const code = ok ? undefined : (built.code ?? built.error?.code ?? causes[0]?.code)
  const headline = ok
    ? causes.length > 0
      ? `The gateway works, with a warning: ${causes[0]?.title}`
      : `The gateway works: ${dialledHost} answered and the gateway accepted this device.`
    : (built.error?.title ?? causes[0]?.title ?? 'The gateway could not be reached.')
  return {
    ok,
    headline,
    causes,
    waysForward: dedupeWays(built.ways),
    ...(code ? { code, category: categoryOf(code) } : {})
  }
}

/** Problems on the way there (address, DNS, TCP/TLS, an edge block) outrank the credentials. */
function pathBroken(f: Findings): boolean {
  return Boolean(f.urlError || f.dns?.error || f.socket?.error || f.plain?.edgeBlock)
}

/**
 * The credentials given could not be used and the run went on without them: that is the first
 * cause (the connection would refuse to start), unless the way to the gateway is broken anyway,
 * in which case it comes right after what broke it.
 */
function withCredentialProblem(input: DoctorInput, f: Findings, w: WayContext, built: Built): Built {
  const problem = input.credentialProblem
  if (!problem) return built
  const cause: DoctorCause = {
    id: 'access-credentials-unusable',
    title: `The Cloudflare Access credentials given cannot be used: ${problem.message}`,
    likelihood: 'high',
    evidence: ['The connection refuses to start with them, so every check ran without Cloudflare Access credentials.'],
    code: problem.code
  }
  const way = fixAccessCredentials(w, problem)
  if (pathBroken(f)) return { ...built, causes: [...built.causes.slice(0, 1), cause, ...built.causes.slice(1)], ways: [...built.ways, way] }
  // The Access findings made without credentials ("no Access credential configured") restate it.
  const rest = built.causes.filter((c) => c.id !== 'no-access-credentials')
  return { causes: [cause, ...rest], ways: [way, ...built.ways], error: problem, code: problem.code }
}

function dedupeWays(ways: DoctorWayForward[]): DoctorWayForward[] {
  const seen = new Set<string>()
  return ways.filter((w) => (seen.has(w.id) ? false : (seen.add(w.id), true)))
}

function fromError(error: AppError, w: WayContext, extra: string[] = []): Built {
  const notes = SYSTEM_CLASSIFIED.has(error.code) ? [] : (error.details.notes ?? [])
  const evidence = [error.message, ...notes, ...extra]
  return { causes: causesFromError(error, evidence), ways: waysFromError(error, w), error, code: error.code }
}

function diagnose(input: DoctorInput, f: Findings, w: WayContext): Built {
  if (f.urlError) return fromError(f.urlError, w)
  if (f.dns?.error) return fromError(f.dns.error, w)
  if (f.socket?.error) {
    const peer = f.socket.result?.peer
    return fromError(f.socket.error, w, peer ? [`The server presented a certificate for ${peer.subject}, issued by ${peer.issuer}${peer.selfSigned ? ' (self-signed)' : ''}.`] : [])
  }
  const plain = f.plain
  if (plain?.edgeBlock) {
    const built = fromError(plain.edgeBlock, w)
    if (plain.edgeBlock.code === 'CLOUDFLARE_WAF_BLOCKED') built.ways.unshift(wafException(w, plain.edgeBlock.details.cfRay))
    return built
  }

  const prefix: Built = { causes: [], ways: [] }
  const matched = plain?.login?.claims?.hostname
  if (matched && matched.replace(/:\d+$/, '') !== w.dialledHost.toLowerCase()) {
    prefix.causes.push({
      id: 'access-hostname-mismatch',
      title: `The address reaches the Access application for ${matched}, not one for ${w.dialledHost}.`,
      likelihood: 'high',
      evidence: [`The login redirect's meta claims name hostname ${matched}, while the app dialled ${w.dialledHost}.`]
    })
    prefix.ways.push(fixApplicationHostname(w, matched))
  }
  const merge = (b: Built): Built => ({
    causes: [...prefix.causes, ...b.causes],
    ways: [...prefix.ways, ...b.ways],
    ...(b.error ? { error: b.error } : {}),
    ...(b.code ? { code: b.code } : {})
  })

  const access = input.access
  if (plain?.behindAccess) {
    if (access.kind === 'none') {
      const page = f.loginPage
      const evidence = [`Without credentials Access ${plain.login ? 'redirects to its login page' : `answers HTTP ${plain.status}`}${plain.teamDomain ? ` (team ${plain.teamDomain})` : ''}, and this gateway has no Access credential configured.`]
      if (page?.fetched) evidence.push(`The login page offers: ${[...(page.otp ? ['email codes'] : []), ...page.identityProviders].join(', ') || 'nothing readable'}.`)
      const error = f.upgrade?.error
      return merge({
        causes: [{ id: 'no-access-credentials', title: 'Cloudflare Access protects this address and no Access credential is configured.', likelihood: 'high', evidence, code: error?.code ?? 'ACCESS_LOGIN_REQUIRED' }],
        ways: [...emailSignInWays(f, w), createServiceToken(w), addServiceAuthPolicy(w), turnOffAccess(w)],
        ...(error ? { error } : {}),
        code: error?.code ?? 'ACCESS_LOGIN_REQUIRED'
      })
    }
    if (access.kind === 'service-token' && f.serviceToken && f.serviceToken.probes[0]?.probe.outcome !== 'admitted') {
      return merge(serviceTokenVerdict(input, f, w))
    }
    if (access.kind === 'app-token') {
      const app = appTokenVerdict(f, w)
      if (app && app.causes.every((c) => c.likelihood === 'low')) prefix.causes.push(...app.causes)
      else if (app) return merge(app)
    }
  } else if (plain && access.kind !== 'none' && !f.handshake?.error && !f.upgrade?.error) {
    prefix.causes.push({
      id: 'credentials-without-access',
      title: 'An Access credential is configured, but no Cloudflare Access is in front of this address.',
      likelihood: 'low',
      evidence: [`A request without credentials got HTTP ${plain.status} from the server itself.`]
    })
  }

  const upgradeError = f.upgrade?.error
  if (upgradeError) {
    const admittedProbe = f.serviceToken?.admitted ?? f.appToken?.admitted
    if (upgradeError.code === 'ACCESS_UPGRADE_FORBIDDEN') {
      const evidence = [
        admittedProbe
          ? `A plain HTTPS request with the same credential got through (${statusText(admittedProbe)}), but the WebSocket upgrade got an empty HTTP 403.`
          : 'The WebSocket upgrade got an empty HTTP 403 from Cloudflare.'
      ]
      return merge({
        causes: [
          { id: 'worker-destination', title: 'The Access application uses a Worker destination, which refuses every WebSocket upgrade.', likelihood: admittedProbe ? 'high' : 'medium', evidence, code: upgradeError.code },
          ...causesFromError(upgradeError, []).slice(1).map((c) => ({ ...c, likelihood: 'low' as const }))
        ],
        ways: [selfHostedApplication(w), ...waysFromError(upgradeError, w)],
        error: upgradeError,
        code: upgradeError.code
      })
    }
    return merge(fromError(upgradeError, w))
  }
  const handshakeError = f.handshake?.error
  if (handshakeError) return merge(fromError(handshakeError, w))
  return merge({ causes: [], ways: [] })
}
