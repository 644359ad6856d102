// What the doctor says when its input or the edge misbehaves: credentials in the address, probes
// that get no answer, impossible host names, unusable credentials, and the ways-forward wording.
import { describe, expect, it } from 'vitest'
import { appError } from '../../../src/shared/errors'
import type { AccessCredentials } from '../../../src/main/cf-access/access-credentials'
import type { DoctorInput } from '../../../src/main/doctor/context'
import type { DoctorHttpRequest } from '../../../src/main/doctor/ports'
import { cell, renderDoctorMarkdown } from '../../../src/main/doctor/markdown'
import { runDoctor } from '../../../src/main/doctor/run-doctor'
import { answer, errno, fakePorts, type FakeOptions } from './fakes'

const AUD = 'a'.repeat(64)
const TEAM = 'acme.cloudflareaccess.com'
const ID = `${'1'.repeat(32)}.access`
const SECRET = 'f'.repeat(64)
const ST: AccessCredentials = { kind: 'service-token', clientId: ID, clientSecret: SECRET }

const b64 = (obj: unknown) => Buffer.from(JSON.stringify(obj)).toString('base64url')
const meta = `${b64({ alg: 'RS256' })}.${b64({ type: 'meta', aud: AUD, hostname: 'gw.example.com', service_token_status: false })}.sig`
const loginRedirect = () =>
  answer(302, { location: `https://${TEAM}/cdn-cgi/access/login/gw.example.com?kid=${AUD}&redirect_url=%2F&meta=${meta}`, server: 'cloudflare' })
const LOGIN_PAGE = '<html><h1>Sign in to Agent gateway</h1><form><input type="email" name="email"></form></html>'
const credentialed = (req: DoctorHttpRequest) => Object.keys(req.headers).some((k) => /^cf-access-|^authorization$|^cookie$/i.test(k))

function run(input: Partial<DoctorInput>, o: FakeOptions = {}, stepTimeoutsMs: Record<string, number> = {}) {
  return runDoctor(
    { url: 'wss://gw.example.com', access: { kind: 'none' }, targetId: 't', ...input },
    fakePorts({ lookup: async () => [{ address: '104.16.5.5', family: 4 }], ...o }),
    { userAgent: 'test', stepTimeoutsMs }
  )
}

const refused = async () => ({ ok: false as const, error: appError('ACCESS_LOGIN_REQUIRED', 'Blocked', 'x') })

describe('credentials in the address', () => {
  it.each([
    ['ws://user:s3cr3tpw@127.0.0.1:1', 's3cr3tpw'],
    ['ws://127.0.0.1:1/?token=QUERYSECRET123', 'QUERYSECRET123'],
    ['ws://127.0.0.1:1/?session=QUERYSECRET123', 'QUERYSECRET123'],
    ['ws://127.0.0.1:1/#password=FRAGSECRET', 'FRAGSECRET']
  ])('%s: the secret is in no part of the report', async (url, secret) => {
    const report = await run({ url }, { socket: async () => Promise.reject(errno('ECONNREFUSED')) })
    const md = renderDoctorMarkdown(report)
    expect(JSON.stringify(report)).not.toContain(secret)
    expect(md).not.toContain(secret)
    expect(report.url).not.toMatch(/@/)
  })

  it('keeps the names of query parameters, replacing only their values', async () => {
    const report = await run({ url: 'ws://127.0.0.1:1/?session=QUERYSECRET123' }, { socket: async () => Promise.reject(errno('ECONNREFUSED')) })
    expect(report.url).toBe('ws://127.0.0.1:1/?session=[redacted]')
    expect(report.steps[0]?.details).toContainEqual({ label: 'path', value: '/?session=[redacted]' })
  })
})

describe('probes that get no answer', () => {
  it('are not evidence that Access refused the token: the timeout is the first cause', async () => {
    const http: FakeOptions['http'] = (req) => {
      if (req.url.includes(TEAM)) return answer(200, {}, LOGIN_PAGE)
      if (credentialed(req)) return Promise.reject(errno('ETIMEDOUT'))
      return loginRedirect()
    }
    const report = await run({ access: ST }, { http, gateway: async () => ({ ok: false, error: appError('TIMEOUT', 'Connection timed out', 'no upgrade') }) })
    const step = report.steps.find((s) => s.id === 'service-token')
    expect(step?.probes?.every((p) => p.httpStatus === null)).toBe(true)
    expect(step?.summary).toMatch(/None of the 5 requests with the service token got an answer/)
    expect(step?.summary).not.toMatch(/did not accept/)
    expect(report.verdict.causes[0]).toMatchObject({ id: 'timeout', likelihood: 'high', code: 'TIMEOUT' })
    expect(report.verdict.causes[0]?.title).toMatch(/does not answer credentialed requests/)
    expect(report.verdict.causes.map((c) => c.id)).not.toContain('no-service-auth-policy')
    expect(JSON.stringify(report.verdict)).not.toMatch(/never recognised/)
    expect(report.verdict.code).toBe('TIMEOUT')
    expect(report.verdict.category).toBe('timeout')
    expect(report.verdict.waysForward[0]?.id).toBe('check-credentialed-requests')
  })

  it('some forms unanswered: the refusal is judged on the ones that answered, and says so', async () => {
    const http: FakeOptions['http'] = (req) => {
      if (req.url.includes(TEAM)) return answer(200, {}, LOGIN_PAGE)
      if (req.headers.Authorization) return Promise.reject(errno('ETIMEDOUT'))
      return loginRedirect()
    }
    const report = await run({ access: ST }, { http })
    expect(report.verdict.causes[0]?.id).toBe('no-service-auth-policy')
    expect(report.verdict.causes[0]?.evidence.join(' ')).toMatch(/every form that got an answer.*1 of the 5 forms got no answer/)
    expect(report.steps.find((s) => s.id === 'service-token')?.summary).toMatch(/1 of 5 got no answer/)
  })

  it('the standard headers unanswered: no verdict on the token, whatever the single-header form got', async () => {
    // Silent for the two standard headers (and the variants that send them), a 302 for the single header.
    const http: FakeOptions['http'] = (req) => {
      if (req.url.includes(TEAM)) return answer(200, {}, LOGIN_PAGE)
      if (Object.keys(req.headers).some((k) => /^cf-access-client-id$/i.test(k))) return Promise.reject(errno('ETIMEDOUT'))
      return loginRedirect()
    }
    const report = await run({ access: ST }, { http, gateway: refused })
    const step = report.steps.find((s) => s.id === 'service-token')
    expect(step?.probes?.find((p) => p.id === 'single-header')?.httpStatus).toBe(302)
    expect(step?.summary).toMatch(/standard headers got no answer/)
    expect(step?.summary).not.toMatch(/did not accept/)
    expect(report.verdict.causes[0]).toMatchObject({ id: 'timeout', likelihood: 'high', code: 'TIMEOUT' })
    const ids = report.verdict.causes.map((c) => c.id)
    expect(ids).not.toContain('no-service-auth-policy')
    expect(ids).not.toContain('token-expired-or-revoked')
    expect(ids).not.toContain('token-not-in-policy')
    const evidence = report.verdict.causes[0]?.evidence.join(' ') ?? ''
    expect(evidence).toMatch(/standard headers/)
    expect(evidence).toMatch(/single-header mode \(read_service_tokens_from_header\) is off/)
    expect(JSON.stringify(report.verdict)).not.toMatch(/never recognised/)
    expect(report.verdict.code).toBe('TIMEOUT')
  })

  it('an app token refused as a cookie but unanswered as a header is not called revoked', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = `${b64({ alg: 'RS256' })}.${b64({ type: 'app', aud: [AUD], iss: `https://${TEAM}`, exp: now + 3600, iat: now, email: 'a@example.com' })}.sig`
    const http: FakeOptions['http'] = (req) =>
      req.url.includes(TEAM) ? answer(200, {}, LOGIN_PAGE) : req.headers['cf-access-token'] ? Promise.reject(errno('ETIMEDOUT')) : loginRedirect()
    const report = await run({ access: { kind: 'app-token', token } }, { http, gateway: refused })
    const step = report.steps.find((s) => s.id === 'app-token')
    expect(step?.probes?.map((p) => p.httpStatus)).toEqual([302, null])
    expect(step?.summary).toMatch(/cf-access-token header got no answer/)
    expect(step?.summary).not.toMatch(/as a cookie and as a header/)
    expect(report.verdict.causes[0]).toMatchObject({ id: 'timeout', likelihood: 'high' })
    expect(report.verdict.causes.map((c) => c.id)).not.toContain('app-token-revoked')
    expect(JSON.stringify(report.verdict)).not.toMatch(/as a cookie and as a header/)
  })

  it('an app token whose requests get no answer is not called revoked', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = `${b64({ alg: 'RS256' })}.${b64({ type: 'app', aud: [AUD], iss: `https://${TEAM}`, exp: now + 3600, iat: now, email: 'a@example.com' })}.sig`
    const http: FakeOptions['http'] = (req) => (req.url.includes(TEAM) ? answer(200, {}, LOGIN_PAGE) : credentialed(req) ? Promise.reject(errno('ETIMEDOUT')) : loginRedirect())
    const report = await run({ access: { kind: 'app-token', token } }, { http, gateway: refused })
    expect(report.verdict.causes[0]?.id).toBe('timeout')
    expect(report.verdict.causes.map((c) => c.id)).not.toContain('app-token-revoked')
    expect(report.steps.find((s) => s.id === 'app-token')?.summary).toMatch(/neither request with the token got an answer/)
  })
})

describe('evidence', () => {
  it('holds the classified sentence, never the raw system message', async () => {
    const report = await run({}, { lookup: async () => Promise.reject(errno('EINVAL', 'getaddrinfo EINVAL some.host')) })
    const text = JSON.stringify(report.verdict)
    expect(text).not.toMatch(/getaddrinfo/)
    expect(report.verdict.causes[0]?.evidence[0]).toMatch(/failed \(EINVAL\)/)
  })

  it('an impossibly long host name is a bad address (step 1), not a DNS failure', async () => {
    const report = await run({ url: `wss://${'a'.repeat(5000)}.com` })
    expect(report.steps[0]).toMatchObject({ id: 'url', status: 'fail', code: 'INVALID_URL' })
    expect(report.steps.find((s) => s.id === 'dns')?.status).toBe('skip')
    expect(report.verdict.code).toBe('INVALID_URL')
    expect(report.url.length).toBeLessThanOrEqual(200)
  })
})

describe('credentials that could not be used', () => {
  const problem = appError('INVALID_INPUT', 'Half a service token', 'A service token needs both halves: AETHER_CF_CLIENT_SECRET is not set.')

  it('are the first cause, with the code of the problem, when the way to Access works', async () => {
    const http: FakeOptions['http'] = (req) => (req.url.includes(TEAM) ? answer(200, {}, LOGIN_PAGE) : loginRedirect())
    const report = await run({ credentialProblem: problem }, { http, gateway: refused })
    expect(report.verdict.causes[0]).toMatchObject({ id: 'access-credentials-unusable', likelihood: 'high', code: 'INVALID_INPUT' })
    expect(report.verdict.causes.map((c) => c.id)).not.toContain('no-access-credentials')
    expect(report.verdict.code).toBe('INVALID_INPUT')
    expect(report.verdict.headline).toBe('Half a service token')
    expect(report.verdict.waysForward[0]?.id).toBe('fix-access-credentials')
  })

  it('come right after what broke the way there, and keep a working gateway from counting as working', async () => {
    const dns = await run({ credentialProblem: problem }, { lookup: async () => Promise.reject(errno('ENOTFOUND')) })
    expect(dns.verdict.causes.slice(0, 2).map((c) => c.id)).toEqual(['dns-not-found', 'access-credentials-unusable'])
    expect(dns.verdict.code).toBe('DNS_NOT_FOUND')
    const works = await run({ credentialProblem: problem }, { http: () => answer(404) })
    expect(works.verdict.ok).toBe(false)
    expect(works.verdict.code).toBe('INVALID_INPUT')
  })
})

describe('the email sign-in way forward', () => {
  it('when the login page did not answer: offered only as "if the login page offers email codes"', async () => {
    const http: FakeOptions['http'] = (req) => (req.url.includes(TEAM) ? Promise.reject(errno('ETIMEDOUT')) : loginRedirect())
    for (const access of [{ kind: 'none' } as const, ST]) {
      const report = await run({ access }, { http, gateway: refused })
      expect(report.steps.find((s) => s.id === 'login-page')?.status).toBe('warn')
      const way = report.verdict.waysForward.find((w) => w.id === 'sign-in-email')
      expect(way?.title).toBe('If the login page offers email codes, sign in with email in the app')
      expect(way?.steps[0]).toMatch(/could not be read/)
    }
  })

  it('when the page offers the email PIN: plainly, with the command-line form as the command', async () => {
    const http: FakeOptions['http'] = (req) => (req.url.includes(TEAM) ? answer(200, {}, LOGIN_PAGE) : loginRedirect())
    const report = await run({}, { http, gateway: refused })
    const way = report.verdict.waysForward.find((w) => w.id === 'sign-in-email')
    expect(way?.title).toBe('Sign in with email in the app')
    expect(way?.command).toBe('npm run cli -- login --url wss://gw.example.com/')
    expect(way?.steps.join(' ')).toMatch(/On the command line: npm run cli -- login --url wss:\/\/gw\.example\.com\//)
  })
})

describe('the ways forward in Markdown', () => {
  it('a one-sentence way is not repeated as its own step', async () => {
    const md = renderDoctorMarkdown(await run({ url: 'wss://x' + 'a'.repeat(70) + '.com' }))
    expect(md).toContain('### Correct the gateway address.')
    expect(md).not.toMatch(/1\. Correct the gateway address\./)
  })

  it('an address given without a profile is not called "this profile"', async () => {
    const report = await run({}, {
      gateway: async () => ({ ok: false, error: appError('GATEWAY_REJECTED', 'Not found', 'x', { nextSteps: [{ action: 'check-url', label: 'Check the gateway URL in this profile; try the path `/`.' }] }) }),
      http: () => answer(404)
    })
    const md = renderDoctorMarkdown(report)
    expect(md).not.toMatch(/in this profile/)
    expect(md).toMatch(/Check the gateway address given \(--url\); try the path/)
    const withProfile = await run({ profileName: 'prod' }, {
      gateway: async () => ({ ok: false, error: appError('GATEWAY_REJECTED', 'Not found', 'x', { nextSteps: [{ action: 'check-url', label: 'Check the gateway URL in this profile.' }] }) }),
      http: () => answer(404)
    })
    expect(renderDoctorMarkdown(withProfile)).toMatch(/Check the gateway URL in this profile\./)
  })

  it('refers to no section by name, and gives the command line next to the app', async () => {
    const http: FakeOptions['http'] = (req) => (req.url.includes(TEAM) ? answer(200, {}, LOGIN_PAGE) : loginRedirect())
    const now = Math.floor(Date.now() / 1000)
    const expired = `${b64({ alg: 'RS256' })}.${b64({ type: 'app', aud: [AUD], iss: `https://${TEAM}`, exp: now - 600, iat: now - 7200 })}.sig`
    for (const access of [{ kind: 'none' } as const, ST, { kind: 'app-token', token: expired } as const]) {
      const md = renderDoctorMarkdown(await run({ access }, { http, gateway: refused }))
      expect(md).not.toMatch(/\(see "/)
      expect(md).not.toMatch(/In the gateway editor/)
      if (/### (If the login page offers email codes, s|S)ign in with email/.test(md)) expect(md).toMatch(/On the command line: `npm run cli -- login/)
    }
  })
})

describe('Markdown a terminal shows', () => {
  it('keeps commands and their placeholders literal, in code spans, with no HTML entities', async () => {
    const http: FakeOptions['http'] = (req) => (req.url.includes(TEAM) ? Promise.reject(errno('ETIMEDOUT')) : loginRedirect())
    const md = renderDoctorMarkdown(await run({ url: 'ws://gw.example.com:8080' }, { http, gateway: refused }))
    expect(md).not.toMatch(/&lt;|&gt;|&amp;/)
    expect(md).toContain('On the command line: `npm run cli -- login --url <the wss:// address of the gateway>`.')
    expect(md).toContain('`npm run cli -- profile add --name <name> --access none`')
  })

  it('escapes only what Markdown would read as HTML or a cell border', () => {
    expect(cell('a <script>x</script> | 1 < 2')).toBe('a \\<script>x\\</script> \\| 1 < 2')
    expect(cell('see `a <b> c` and npm run cli -- login --profile \'my gw\' (opens it).')).toBe(
      "see `a <b> c` and `npm run cli -- login --profile 'my gw'` (opens it)."
    )
    expect(cell('In the app (CLI: to update it, npm run cli -- profile add --name <that name> …): done')).toBe(
      'In the app (CLI: to update it, `npm run cli -- profile add --name <that name> …`): done'
    )
  })
})

describe('the login page to open', () => {
  const redirectFor = (host: string, port: number) => {
    const m = `${b64({ alg: 'RS256' })}.${b64({ type: 'meta', aud: AUD, hostname: host, service_token_status: false })}.sig`
    return answer(302, { location: `https://${TEAM}/cdn-cgi/access/login/${host}?kid=${AUD}&redirect_url=%2F&meta=${m}`, server: 'cloudflare', 'x-port': String(port) })
  }

  it('keeps the port, and offers no wss:// sign-in command for a plain address on this computer', async () => {
    const http: FakeOptions['http'] = (req) => (req.url.includes(TEAM) ? Promise.reject(errno('ETIMEDOUT')) : redirectFor('127.0.0.1', 18901))
    const report = await run({ url: 'ws://127.0.0.1:18901' }, { lookup: async () => [{ address: '127.0.0.1', family: 4 }], http, gateway: refused })
    const way = report.verdict.waysForward.find((w) => w.id === 'sign-in-email')
    const text = way?.steps.join(' ') ?? ''
    expect(text).toMatch(/open http:\/\/127\.0\.0\.1:18901 in a browser/)
    expect(text).not.toMatch(/https:\/\/127\.0\.0\.1(?!:18901)/)
    expect(text).not.toMatch(/login --url/)
    expect(renderDoctorMarkdown(report)).not.toMatch(/login --url/)
  })

  it('a remote address keeps its port too', async () => {
    const http: FakeOptions['http'] = (req) => (req.url.includes(TEAM) ? Promise.reject(errno('ETIMEDOUT')) : redirectFor('gw.example.com', 8443))
    const report = await run({ url: 'wss://gw.example.com:8443' }, { http, gateway: refused })
    const way = report.verdict.waysForward.find((w) => w.id === 'sign-in-email')
    expect(way?.steps.join(' ')).toMatch(/open https:\/\/gw\.example\.com:8443 in a browser/)
  })
})

describe('a plain address on a port that speaks TLS', () => {
  const hungUp = () => Promise.reject(errno('ECONNRESET'))

  it('the plain request is hung up on, the port answers a TLS hello: TLS_REQUIRED with the wss:// address, first cause and way forward', async () => {
    const asked: unknown[] = []
    const report = await run(
      { url: 'ws://gw.example.com:8443/gw' },
      {
        socket: async () => ({ remoteAddress: '104.16.5.5' }),
        http: hungUp,
        speaksTls: async () => (asked.push('hello'), true)
      }
    )
    expect(asked).toHaveLength(1)
    expect(report.steps.find((s) => s.id === 'tls')?.status).toBe('pass')
    const probe = report.steps.find((s) => s.id === 'https-probe')
    expect(probe?.status).toBe('fail')
    expect(probe?.code).toBe('TLS_REQUIRED')
    expect(probe?.summary).toContain('Use wss://gw.example.com:8443/gw instead')
    expect(report.verdict.causes[0]?.id).toBe('tls-required')
    expect(report.verdict.waysForward[0]?.title).toBe('Change the gateway URL to wss://gw.example.com:8443/gw.')
    expect(report.steps.find((s) => s.id === 'websocket')?.status).toBe('skip')
  })

  it('a 400 to the plain request from a port that answers a TLS hello is TLS_REQUIRED in that step; from one that does not, the step passes', async () => {
    const http: FakeOptions['http'] = () => answer(400, { 'content-type': 'text/plain' }, 'Client sent an HTTP request to an HTTPS server.')
    const tlsPort = await run({ url: 'ws://gw.example.com:8443' }, { socket: async () => ({ remoteAddress: '104.16.5.5' }), http, speaksTls: async () => true })
    expect(tlsPort.steps.find((s) => s.id === 'https-probe')).toMatchObject({ status: 'fail', code: 'TLS_REQUIRED' })
    expect(tlsPort.verdict.causes[0]?.id).toBe('tls-required')
    const plainPort = await run({ url: 'ws://gw.example.com:8080' }, { socket: async () => ({ remoteAddress: '104.16.5.5' }), http, speaksTls: async () => false, gateway: refused })
    expect(plainPort.steps.find((s) => s.id === 'https-probe')?.status).toBe('pass')
  })

  it('hung up on by a port that does not speak TLS either: the reset stays the finding', async () => {
    const report = await run({ url: 'ws://gw.example.com:8080' }, { socket: async () => ({ remoteAddress: '104.16.5.5' }), http: hungUp, speaksTls: async () => false })
    expect(report.steps.find((s) => s.id === 'https-probe')?.code).toBe('CONNECTION_RESET')
  })

  it('a plain gateway that answers is never sent a TLS hello, nor is a wss:// address', async () => {
    let asked = 0
    await run({ url: 'ws://gw.example.com:8080' }, { socket: async () => ({ remoteAddress: '104.16.5.5' }), speaksTls: async () => (asked++, true), gateway: refused })
    await run({}, { http: hungUp, speaksTls: async () => (asked++, true), gateway: refused })
    expect(asked).toBe(0)
  })
})
