// The step logic and the verdict ranking, against a scripted fake edge (no network).
import { describe, expect, it } from 'vitest'
import { appError } from '../../../src/shared/errors'
import type { DoctorHttpRequest } from '../../../src/main/doctor/ports'
import { rankCauses } from '../../../src/main/doctor/verdict'
import { runDoctor } from '../../../src/main/doctor/run-doctor'
import { renderDoctorMarkdown } from '../../../src/main/doctor/markdown'
import { readLoginPage } from '../../../src/main/doctor/steps/login-page-step'
import type { AccessCredentials } from '../../../src/main/cf-access/access-credentials'
import { answer, fakePorts, gatewayRefusal, HELLO, type FakeOptions } from './fakes'

const AUD = 'a'.repeat(64)
const TEAM = 'acme.cloudflareaccess.com'
const ID = `${'1'.repeat(32)}.access`
const SECRET = 'f'.repeat(64)
const GATEWAY_TOKEN = 'gateway-token-secret-0123456789'

function b64(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url')
}

function meta(claims: Record<string, unknown>): string {
  return `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ type: 'meta', aud: AUD, hostname: 'gw.example.com', auth_status: 'NONE', service_token_status: false, ...claims })}.sig`
}

function loginRedirect(claims: Record<string, unknown> = {}) {
  return answer(302, {
    location: `https://${TEAM}/cdn-cgi/access/login/gw.example.com?kid=${AUD}&redirect_url=%2F&meta=${meta(claims)}`,
    server: 'cloudflare',
    'cf-ray': '8f00aa11bb22cc33-AMS'
  })
}

const LOGIN_PAGE = '<html><head><title>Sign in ・ Cloudflare Access</title></head><body><h1>Sign in to Agent gateway</h1><form><input type="email" name="email"></form></body></html>'

/** A fake edge: `admit` decides from the request headers; the team domain serves the login page. */
function edge(admit: (h: Record<string, string>, req: DoctorHttpRequest) => ReturnType<typeof answer> | undefined): FakeOptions['http'] {
  return (req) => {
    if (req.url.includes(TEAM)) return answer(200, { 'content-type': 'text/html' }, LOGIN_PAGE)
    const h = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]))
    return admit(h, req) ?? loginRedirect()
  }
}

async function run(access: AccessCredentials, o: FakeOptions, extra: { expectedAud?: string; profileName?: string } = {}) {
  return runDoctor(
    { url: 'wss://gw.example.com', access, gatewayToken: GATEWAY_TOKEN, targetId: 't', ...extra },
    fakePorts({ ...o, lookup: async () => [{ address: '104.16.5.5', family: 4 }] }),
    { userAgent: 'test' }
  )
}

const st = (clientId = ID, clientSecret = SECRET): AccessCredentials => ({ kind: 'service-token', clientId, clientSecret })
const ids = (r: Awaited<ReturnType<typeof run>>) => r.verdict.causes.map((c) => c.id)
const mark = (r: Awaited<ReturnType<typeof run>>, id: string) => r.steps.find((s) => s.id === id)?.status

describe('service-token verdicts', () => {
  it('never recognised, login page with email codes only: the order of the issue, with the evidence', async () => {
    const report = await run(st(), { http: edge(() => undefined), gateway: async () => ({ ok: false, error: appError('ACCESS_SERVICE_TOKEN_REJECTED', 'Rejected', 'x') }) })
    expect(report.verdict.causes.map((c) => [c.id, c.likelihood])).toEqual([
      ['no-service-auth-policy', 'high'],
      ['token-not-in-policy', 'high'],
      ['token-expired-or-revoked', 'medium'],
      ['token-other-account', 'medium'],
      ['header-format', 'low']
    ])
    expect(report.verdict.causes[0]?.evidence.join(' ')).toMatch(/only email codes/)
    expect(report.verdict.causes.at(-1)?.evidence[0]).toMatch(/Every format was tried/)
    expect(report.verdict.waysForward.map((w) => w.id)).toContain('sign-in-email')
    expect(report.verdict.code).toBe('ACCESS_SERVICE_TOKEN_REJECTED')
    expect(mark(report, 'service-token')).toBe('fail')
  })

  it('the sign-in command to copy quotes the profile name, so pasting it runs nothing else', async () => {
    const report = await run(
      st(),
      { http: edge(() => undefined), gateway: async () => ({ ok: false, error: appError('ACCESS_SERVICE_TOKEN_REJECTED', 'Rejected', 'x') }) },
      { profileName: "Edge (prod); $(touch /tmp/x) it's" }
    )
    const way = report.verdict.waysForward.find((w) => w.id === 'sign-in-email')
    expect(way?.command).toBe("npm run cli -- login --profile 'Edge (prod); $(touch /tmp/x) it'\\''s'")
  })

  it('without the email form on the login page, no email sign-in way forward and no "email codes" evidence', async () => {
    const http: FakeOptions['http'] = (req) =>
      req.url.includes(TEAM) ? answer(200, {}, '<h1>Sign in to X</h1><a href="#">Sign in with GitHub</a>') : loginRedirect()
    const report = await run(st(), { http, gateway: async () => ({ ok: false, error: appError('ACCESS_SERVICE_TOKEN_REJECTED', 'R', 'x') }) })
    expect(report.verdict.causes[0]?.evidence.join(' ')).not.toMatch(/email codes/)
    expect(report.verdict.waysForward.map((w) => w.id)).not.toContain('sign-in-email')
    expect(report.steps.find((s) => s.id === 'login-page')?.summary).toMatch(/GitHub/)
  })

  it('a Client ID without ".access": the variant that works is named first and used for the upgrade', async () => {
    let upgradeCredential: AccessCredentials | undefined
    const ports: FakeOptions = {
      http: edge((h) => (h['cf-access-client-id'] === ID && h['cf-access-client-secret'] === SECRET ? answer(200) : undefined)),
      gateway: async (opened) => (opened(), { ok: true, value: { hello: HELLO, warnings: [] } })
    }
    const report = await runDoctor(
      { url: 'wss://gw.example.com', access: st(ID.replace('.access', '')), targetId: 't' },
      (() => {
        const p = fakePorts(ports)
        const probe = p.gateway.probe
        p.gateway.probe = (target, options) => ((upgradeCredential = target.access), probe(target, options))
        return p
      })(),
      { userAgent: 'test' }
    )
    expect(ids(report)[0]).toBe('client-id-suffix')
    expect(upgradeCredential).toMatchObject({ kind: 'service-token', clientId: ID })
    expect(report.verdict.ok).toBe(true)
  })

  it('swapped halves, and headers lost over HTTP/2', async () => {
    const swapped = await run(st(SECRET, ID), { http: edge((h) => (h['cf-access-client-id'] === ID ? answer(200) : undefined)) })
    expect(ids(swapped)[0]).toBe('id-secret-swapped')
    const h2 = await run(st(), { http: edge((_h, req) => (req.http1Only && !req.headers.Authorization ? answer(200) : undefined)) })
    expect(ids(h2)[0]).toBe('http2-drops-headers')
  })

  it('valid but not admitted (meta service_token_status true) ranks "not in the policy" first', async () => {
    const report = await run(st(), { http: edge((h) => (h['cf-access-client-id'] === ID ? loginRedirect({ service_token_status: true }) : undefined)) })
    expect(report.verdict.causes.map((c) => [c.id, c.likelihood]).slice(0, 2)).toEqual([
      ['token-not-in-policy', 'high'],
      ['no-service-auth-policy', 'medium']
    ])
  })

  it('strict 401 to the token as configured: expired or revoked first; a saved AUD of another application: another account first', async () => {
    const strict = edge((h) => (h['cf-access-client-id'] ? answer(401, { server: 'cloudflare' }) : undefined))
    const revoked = await run(st(), { http: strict })
    expect(ids(revoked).slice(0, 3)).toEqual(['token-expired-or-revoked', 'wrong-secret', 'token-other-account'])
    const foreign = await run(st(), { http: strict }, { expectedAud: 'b'.repeat(64) })
    expect(revoked.verdict.causes[0]?.likelihood).toBe('high')
    expect(foreign.verdict.causes[0]).toMatchObject({ id: 'token-other-account', likelihood: 'high' })
    expect(foreign.verdict.causes[0]?.evidence[0]).toContain(AUD)
  })
})

describe('other verdicts', () => {
  it('no credential behind Access: sign in with email is the first way forward', async () => {
    const report = await run({ kind: 'none' }, { http: edge(() => undefined), gateway: async () => ({ ok: false, error: appError('ACCESS_LOGIN_REQUIRED', 'Blocked', 'x') }) })
    expect(ids(report)[0]).toBe('no-access-credentials')
    expect(report.verdict.waysForward[0]?.id).toBe('sign-in-email')
    expect(report.verdict.waysForward[0]?.command).toBe('npm run cli -- login --url wss://gw.example.com/')
  })

  it('the empty 403 on the upgrade while HTTPS works: a Worker destination', async () => {
    const report = await run(st(), {
      http: edge((h) => (h['cf-access-client-id'] === ID ? answer(200) : undefined)),
      gateway: async () => ({ ok: false, error: appError('ACCESS_UPGRADE_FORBIDDEN', 'Refused', 'empty 403', { likelyCauses: ['Worker', 'Strict', 'Rule'] }) })
    })
    expect(report.verdict.causes[0]).toMatchObject({ id: 'worker-destination', likelihood: 'high' })
    expect(mark(report, 'websocket')).toBe('fail')
    expect(mark(report, 'handshake')).toBe('skip')
  })

  it('the gateway refuses the token or wants pairing: the gateway\u2019s own cause, with its command', async () => {
    const pairing = appError('PAIRING_REQUIRED', 'Approve this device', 'Pairing required', {
      likelyCauses: ['This device is new to the gateway.'],
      nextSteps: [{ action: 'approve-pairing', label: 'Approve it', command: 'openclaw devices approve 1234' }]
    })
    const report = await run({ kind: 'none' }, { http: () => answer(404), gateway: gatewayRefusal(pairing) })
    expect(mark(report, 'handshake')).toBe('fail')
    expect(ids(report)[0]).toBe('pairing-required')
    expect(report.verdict.waysForward[0]?.command).toBe('openclaw devices approve 1234')
    expect(report.verdict.category).toBe('pairing')
  })

  it('a TLS-inspecting proxy is named first when it signed the certificate', async () => {
    const report = await run({ kind: 'none' }, {
      socket: async () => ({ authorized: false, authorizationError: 'SELF_SIGNED_CERT_IN_CHAIN', peer: { subject: 'gw.example.com', issuer: 'Gateway CA - Cloudflare Managed G1' } })
    })
    expect(mark(report, 'tls')).toBe('fail')
    expect(report.verdict.causes[0]).toMatchObject({ id: 'tls-untrusted', likelihood: 'high' })
    expect(report.verdict.causes[0]?.title).toMatch(/TLS-inspecting proxy/)
  })

  it('rankCauses: high before medium before low, stable within a rank, first of a duplicate id kept', () => {
    const c = (id: string, likelihood: 'high' | 'medium' | 'low') => ({ id, title: id, likelihood, evidence: [] })
    expect(rankCauses([c('a', 'low'), c('b', 'high'), c('c', 'medium'), c('d', 'high'), c('b', 'low')]).map((x) => x.id)).toEqual(['b', 'd', 'c', 'a'])
  })
})

describe('time limits', () => {
  it('a step that never finishes is cut at its limit, and the later steps that need it are skipped', async () => {
    const started = Date.now()
    const report = await runDoctor(
      { url: 'wss://gw.example.com', access: { kind: 'none' }, targetId: 't' },
      fakePorts({ socket: () => new Promise(() => undefined) }),
      { userAgent: 'test', stepTimeoutsMs: { tls: 300 } }
    )
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(report.steps.find((s) => s.id === 'tls')).toMatchObject({ status: 'fail', code: 'TIMEOUT' })
    expect(mark(report, 'websocket')).toBe('skip')
    expect(report.verdict.causes[0]?.id).toBe('timeout')
  })

  it('the whole run keeps to its budget', async () => {
    const slow = () => new Promise<never>(() => undefined)
    const started = Date.now()
    const report = await runDoctor(
      { url: 'wss://gw.example.com', access: { kind: 'none' }, targetId: 't' },
      fakePorts({ lookup: slow }),
      { userAgent: 'test', budgetMs: 1_500 }
    )
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(report.durationMs).toBeLessThanOrEqual(2_000)
    expect(mark(report, 'dns')).toBe('fail')
  })
})

describe('the report', () => {
  it('holds no secret, even one the gateway echoes back, in JSON or Markdown', async () => {
    const echo = appError('GATEWAY_REJECTED', `bad token ${GATEWAY_TOKEN}`, `The gateway said: ${GATEWAY_TOKEN} / ${SECRET}`)
    const report = await run(st(), { http: edge((h) => (h['cf-access-client-id'] === ID ? answer(200) : undefined)), gateway: gatewayRefusal(echo) })
    const json = JSON.stringify(report)
    const md = renderDoctorMarkdown(report)
    for (const text of [json, md]) {
      expect(text).not.toContain(GATEWAY_TOKEN)
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain(ID)
    }
    expect(json).toContain('[redacted]')
    expect(report.credentials).toEqual([
      { label: 'gateway token', value: 'set, ends in …6789' },
      { label: 'service token Client ID', value: 'set, ends in …cess' },
      { label: 'service token Client Secret', value: 'set, ends in …ffff' }
    ])
    // Plain JSON: survives a round trip unchanged.
    expect(JSON.parse(json)).toEqual(report)
  })

  it('renders a table with a mark per step, the causes and the ways forward', async () => {
    const report = await run(st(), { http: edge(() => undefined) })
    const md = renderDoctorMarkdown(report)
    expect(md).toMatch(/^# Connection doctor: wss:\/\/gw\.example\.com\//)
    expect(md).toContain('| 6 | Service token | ❌ fail |')
    expect(md).toContain('| 1 | Address | ✅ pass |')
    expect(md).toMatch(/## Likely causes, most likely first\n\n1\. \*\*There is no Service Auth policy/)
    expect(md).toMatch(/### Add a Service Auth policy/)
    expect(md).toMatch(/\| CF-Access-Client-Id and CF-Access-Client-Secret, as configured \| 302 \(HTTP\/1\.1\) \| false \| refused/)
  })
})

describe('the login page reader', () => {
  it('reads the application name, the team and the methods', () => {
    expect(readLoginPage(LOGIN_PAGE, TEAM)).toEqual({ appName: 'Agent gateway', teamName: 'acme', otp: true, identityProviders: [] })
    const idps = readLoginPage('<title>Gateway ・ Cloudflare Access</title><button>Sign in with Google</button><a>Continue with Okta</a>', 'x.fed.cloudflareaccess.com')
    expect(idps).toEqual({ appName: 'Gateway', teamName: 'x', otp: false, identityProviders: ['Google', 'Okta'] })
  })
})
