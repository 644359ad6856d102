/**
 * The connection doctor against the Cloudflare Access emulator and the real OpenClaw gateway:
 * each scenario asserts the marks of the steps and the verdict's first cause. Some run in this
 * process through the engine, some through the real CLI (`doctor ... --json`, one document).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport, DoctorStepId, DoctorStepStatus } from '../../src/shared/doctor-report'
import type { AccessCredentials } from '../../src/main/cf-access/access-credentials'
import { runDoctor, type DoctorOptions } from '../../src/main/doctor/run-doctor'
import { nodeDoctorPorts } from '../../src/main/doctor/node-ports'
import { renderDoctorMarkdown } from '../../src/main/doctor/markdown'
import { MemorySecretStore } from '../../src/main/secrets/memory-secret-store'
import { urlTargetId } from '../../src/main/secrets/secret-store'
import { startAccessEmulator, startBlackHoleServer, type AccessEmulator, type TcpFixture } from '../support/access-emulator'
import { installTestHosts } from '../support/hosts'
import { approveDevice } from '../support/real-gateway'
import { runCli, type CliRun } from '../support/run-cli'
import { NO_ACCESS_MARKS } from '../e2e/doctor-marks'
import { sharedGateway } from '../e2e/shared-gateway'

const { gatewayHttpUrl, gatewayUrl, gatewayToken } = sharedGateway()

const GW = 'doc-gw.aether.test'
const NO_SA = 'doc-nosa.aether.test'
const STRICT = 'doc-strict.aether.test'
const WORKER = 'doc-worker.aether.test'
const WAF = 'doc-waf.aether.test'
const ALIAS = 'doc-alias.aether.test'
const SELF = 'doc-self.aether.test'

const CLIENT = { version: '0.1.0', platform: process.platform, deviceFamily: 'desktop', displayName: 'Doctor test' }
const USER_AGENT = 'AetherRemote/0.1.0 (doctor test)'

let emu: AccessEmulator
let blackHole: TcpFixture
let uninstallHosts: () => void
let ci: { clientId: string; clientSecret: string }
let other: { clientId: string; clientSecret: string }
let retired: { clientId: string; clientSecret: string }
const configDir = mkdtempSync(join(tmpdir(), 'aether-doctor-config-'))
const secrets = new Set<string>()
const reports: DoctorReport[] = []
const cliRuns: CliRun[] = []

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  const people = { decision: 'allow' as const, emails: ['operator@example.com'] }
  emu = await startAccessEmulator({
    team: 'doctor-team',
    apps: [
      { host: GW, upstream: gatewayHttpUrl, policies: [{ decision: 'non_identity', serviceTokens: ['ci'] }, people] },
      { host: NO_SA, upstream: gatewayHttpUrl, policies: [people], loginPage: { appName: 'Agent gateway' } },
      { host: STRICT, upstream: gatewayHttpUrl, strictServiceTokens: true, policies: [{ decision: 'non_identity', serviceTokens: ['ci', 'retired'] }, people] },
      { host: WORKER, upstream: gatewayHttpUrl, destination: 'worker', policies: [{ decision: 'non_identity', serviceTokens: ['ci'] }] },
      { host: WAF, upstream: gatewayHttpUrl, waf: 'challenge', policies: [{ decision: 'non_identity', serviceTokens: ['ci'] }] },
      { host: ALIAS, upstream: gatewayHttpUrl, matchedHostname: 'gateway.aether.test', policies: [people] },
      { host: SELF, upstream: gatewayHttpUrl, tls: 'self-signed', policies: [people] }
    ]
  })
  ci = emu.createServiceToken({ name: 'ci' })
  other = emu.createServiceToken({ name: 'other' })
  retired = emu.createServiceToken({ name: 'retired' })
  emu.revokeServiceToken(retired.clientId)
  blackHole = await startBlackHoleServer()
  for (const s of [gatewayToken, ci.clientSecret, other.clientSecret, retired.clientSecret]) secrets.add(s)
})

afterAll(async () => {
  await emu?.close()
  await blackHole?.close()
  uninstallHosts?.()
})

interface Scenario {
  url: string
  access?: AccessCredentials
  gatewayToken?: string
  store?: MemorySecretStore
  options?: Partial<DoctorOptions>
}

async function doctor(s: Scenario): Promise<DoctorReport> {
  const access = s.access ?? { kind: 'none' }
  if (access.kind === 'service-token') secrets.add(access.clientSecret)
  if (access.kind === 'app-token') secrets.add(access.token)
  const store = s.store ?? new MemorySecretStore()
  const report = await runDoctor(
    {
      url: s.url,
      access,
      ...(s.gatewayToken ? { gatewayToken: s.gatewayToken } : {}),
      caFile: emu.caFile,
      targetId: urlTargetId(s.url)
    },
    nodeDoctorPorts({ secrets: store, client: CLIENT, userAgent: USER_AGENT }),
    { userAgent: USER_AGENT, ...s.options }
  )
  reports.push(report)
  return report
}

function marks(report: DoctorReport): Partial<Record<DoctorStepId, DoctorStepStatus>> {
  return Object.fromEntries(report.steps.map((s) => [s.id, s.status]))
}

const wss = (host: string) => emu.appUrl(host, '/', 'wss')
const token = (t: { clientId: string; clientSecret: string }): AccessCredentials => ({ kind: 'service-token', clientId: t.clientId, clientSecret: t.clientSecret })

async function cli(args: string[], env: Record<string, string | undefined> = {}, keychain = randomUUID()): Promise<CliRun> {
  const run = await runCli(args, {
    env: {
      AETHER_CONFIG_DIR: configDir,
      AETHER_KEYCHAIN_SERVICE: `aether-doctor-${keychain}`,
      AETHER_GATEWAY_TOKEN: undefined,
      AETHER_CF_CLIENT_ID: undefined,
      AETHER_CF_CLIENT_SECRET: undefined,
      AETHER_CF_APP_TOKEN: undefined,
      ...env
    }
  })
  cliRuns.push(run)
  return run
}

function onlyDocument(run: CliRun): DoctorReport {
  const trimmed = run.stdout.trim()
  expect(trimmed.split('\n')).toHaveLength(1)
  return JSON.parse(trimmed) as DoctorReport
}

describe('without Cloudflare Access', () => {
  it('no Access at all: every check passes up to the gateway, the Access steps are skipped', async () => {
    const report = await doctor({ url: gatewayUrl, gatewayToken })
    expect(marks(report)).toMatchObject(NO_ACCESS_MARKS)
    expect(report.steps.find((s) => s.id === 'https-probe')?.summary).toMatch(/No Cloudflare Access/)
    // A device from loopback is paired at once, or the gateway asks for approval: both are the gateway talking.
    if (report.verdict.ok) {
      expect(marks(report).handshake).toBe('pass')
      expect(report.verdict.causes).toEqual([])
    } else {
      expect(report.verdict.causes[0]?.id).toBe('pairing-required')
    }
  })
})

describe('Cloudflare Access and service tokens', () => {
  it('no Service Auth policy and a valid-looking token: the ranked causes of the issue, via the CLI with --json (exit 3)', async () => {
    const fake = { clientId: `${randomBytes(16).toString('hex')}.access`, clientSecret: randomBytes(32).toString('hex') }
    secrets.add(fake.clientSecret)
    const run = await cli(['doctor', '--url', wss(NO_SA), '--ca-file', emu.caFile, '--json'], {
      AETHER_GATEWAY_TOKEN: gatewayToken,
      AETHER_CF_CLIENT_ID: fake.clientId,
      AETHER_CF_CLIENT_SECRET: fake.clientSecret
    })
    expect(run.code).toBe(3)
    const report = onlyDocument(run)
    expect(marks(report)).toMatchObject({ 'https-probe': 'pass', 'login-page': 'pass', 'service-token': 'fail', websocket: 'fail', handshake: 'skip' })
    const causes = report.verdict.causes
    expect(causes.map((c) => [c.id, c.likelihood])).toEqual([
      ['no-service-auth-policy', 'high'],
      ['token-not-in-policy', 'high'],
      ['token-expired-or-revoked', 'medium'],
      ['token-other-account', 'medium'],
      ['header-format', 'low']
    ])
    expect(causes[0]?.evidence.join(' ')).toMatch(/only email codes/)
    const st = report.steps.find((s) => s.id === 'service-token')
    expect(st?.probes?.map((p) => p.id)).toEqual(['standard', 'http1', 'without-access-suffix', 'swapped', 'single-header'])
    expect(st?.probes?.every((p) => p.outcome === 'refused' && p.httpStatus === 302 && p.serviceTokenStatus === false)).toBe(true)
    const login = report.steps.find((s) => s.id === 'login-page')
    expect(login?.summary).toMatch(/Agent gateway.*team doctor-team.*one-time PIN by email \(email codes only\)/)
    expect(report.verdict.waysForward.map((w) => w.id)).toEqual(['add-service-auth-policy', 'create-service-token', 'sign-in-email', 'turn-off-access'])
    expect(report.verdict.waysForward[0]?.steps.join(' ')).toMatch(/Access → Applications.*Service Auth/)
  })

  it('a Service Auth policy without this token (strict mode): valid but not admitted', async () => {
    const report = await doctor({ url: wss(STRICT), access: token(other), gatewayToken })
    expect(marks(report)).toMatchObject({ 'service-token': 'fail', websocket: 'fail' })
    expect(report.verdict.causes[0]?.id).toBe('token-not-in-policy')
    expect(report.steps.find((s) => s.id === 'service-token')?.probes?.[0]).toMatchObject({ httpStatus: 403, outcome: 'refused' })
  })

  it('a revoked token (strict mode): 401 to every form, expired or revoked first', async () => {
    const report = await doctor({ url: wss(STRICT), access: token(retired), gatewayToken })
    expect(marks(report)['service-token']).toBe('fail')
    expect(report.verdict.causes[0]?.id).toBe('token-expired-or-revoked')
    expect(report.verdict.code).toBe('ACCESS_UNAUTHORIZED')
  })

  it('a token of another account: the saved profile names another application (via the CLI profile and keychain)', async () => {
    const stranger = { clientId: `${randomBytes(16).toString('hex')}.access`, clientSecret: randomBytes(32).toString('hex') }
    secrets.add(stranger.clientSecret)
    const keychain = randomUUID()
    const add = await cli(
      ['profile', 'add', '--name', 'elsewhere', '--url', wss(GW), '--access', 'service-token', '--client-id', stranger.clientId, '--aud', 'e'.repeat(64), '--ca-file', emu.caFile],
      { AETHER_GATEWAY_TOKEN: gatewayToken, AETHER_CF_CLIENT_SECRET: stranger.clientSecret },
      keychain
    )
    expect(add.code).toBe(0)
    const run = await cli(['doctor', '--profile', 'elsewhere', '--json'], {}, keychain)
    expect(run.code).toBe(3)
    const report = onlyDocument(run)
    expect(report.profileName).toBe('elsewhere')
    expect(marks(report)['service-token']).toBe('fail')
    expect(report.verdict.causes[0]).toMatchObject({ id: 'token-other-account', likelihood: 'high' })
    expect(report.verdict.causes[0]?.evidence.join(' ')).toContain(emu.app(GW).aud)
  })

  it('a Client ID without ".access": the probe with the suffix gets through, and the upgrade uses it', async () => {
    const report = await doctor({ url: wss(GW), access: { kind: 'service-token', clientId: ci.clientId.replace(/\.access$/, ''), clientSecret: ci.clientSecret }, gatewayToken })
    expect(marks(report)).toMatchObject({ 'service-token': 'fail', websocket: 'pass' })
    expect(report.verdict.causes[0]?.id).toBe('client-id-suffix')
    const probes = report.steps.find((s) => s.id === 'service-token')?.probes ?? []
    expect(probes.find((p) => p.id === 'with-access-suffix')?.outcome).toBe('admitted')
    expect(probes.find((p) => p.id === 'standard')?.outcome).toBe('refused')
  })

  it('the empty 403 on upgrade (Worker destination): HTTPS gets through, the upgrade does not', async () => {
    const report = await doctor({ url: wss(WORKER), access: token(ci), gatewayToken })
    expect(marks(report)).toMatchObject({ 'service-token': 'pass', websocket: 'fail', handshake: 'skip' })
    expect(report.verdict.causes[0]).toMatchObject({ id: 'worker-destination', likelihood: 'high' })
    expect(report.verdict.waysForward[0]?.id).toBe('self-hosted-application')
  })

  it('a WAF block in front of Access', async () => {
    const report = await doctor({ url: wss(WAF), access: token(ci), gatewayToken })
    expect(marks(report)).toMatchObject({ 'https-probe': 'fail', 'service-token': 'skip' })
    expect(report.verdict.causes[0]?.id).toBe('cloudflare-waf-blocked')
    expect(report.verdict.waysForward[0]?.id).toBe('waf-skip-rule')
  })

  it('the wrong Host: Access matched the application of another host name', async () => {
    const report = await doctor({ url: wss(ALIAS), gatewayToken })
    expect(marks(report)['https-probe']).toBe('warn')
    expect(report.verdict.causes[0]?.id).toBe('access-hostname-mismatch')
    expect(report.verdict.causes[0]?.evidence.join(' ')).toContain('gateway.aether.test')
  })
})

describe('Cloudflare Access and app tokens', () => {
  it('an expired app token', async () => {
    const expired = emu.issueAppToken({ host: GW, email: 'operator@example.com', expiresInSec: -120 })
    const report = await doctor({ url: wss(GW), access: { kind: 'app-token', token: expired }, gatewayToken })
    expect(marks(report)).toMatchObject({ 'app-token': 'fail', 'service-token': 'skip' })
    expect(report.verdict.causes[0]?.id).toBe('app-token-expired')
    expect(report.verdict.code).toBe('ACCESS_APP_TOKEN_EXPIRED')
  })

  it('an app token for another application: refused by Access as cookie and header', async () => {
    const foreign = emu.issueAppToken({ host: GW, email: 'operator@example.com', expiresInSec: 3600, aud: 'f'.repeat(64) })
    const report = await doctor({ url: wss(GW), access: { kind: 'app-token', token: foreign }, gatewayToken })
    expect(marks(report)['app-token']).toBe('fail')
    expect(report.verdict.causes[0]?.id).toBe('app-token-other-app')
    const probes = report.steps.find((s) => s.id === 'app-token')?.probes ?? []
    expect(probes.map((p) => [p.id, p.outcome])).toEqual([
      ['cookie', 'refused'],
      ['header', 'refused']
    ])
  })
})

describe('the gateway behind Access', () => {
  const store = new MemorySecretStore()

  it('a wrong gateway token: Access lets the upgrade through, the gateway refuses the token', async () => {
    const report = await doctor({ url: wss(GW), access: token(ci), gatewayToken: 'not-the-gateway-token-123', store: new MemorySecretStore() })
    expect(marks(report)).toMatchObject({ 'service-token': 'pass', websocket: 'pass', handshake: 'fail' })
    expect(report.verdict.causes[0]?.id).toBe('gateway-token-mismatch')
    expect(report.verdict.category).toBe('gateway-auth')
  })

  it('pairing required, then approved: the doctor says it works', async () => {
    const report = await doctor({ url: wss(GW), access: token(ci), gatewayToken, store })
    expect(marks(report)).toMatchObject({ 'https-probe': 'pass', 'login-page': 'pass', 'service-token': 'pass', websocket: 'pass', handshake: 'fail' })
    expect(report.verdict.causes[0]?.id).toBe('pairing-required')
    const approve = report.verdict.waysForward.find((w) => w.command?.startsWith('openclaw devices approve'))
    const requestId = /approve ([0-9a-f-]{36})/.exec(approve?.command ?? '')?.[1]
    expect(requestId).toBeDefined()
    await approveDevice(gatewayUrl, gatewayToken, requestId as string)

    const again = await doctor({ url: wss(GW), access: token(ci), gatewayToken, store })
    expect(again.verdict.ok).toBe(true)
    expect(marks(again).handshake).toBe('pass')
    expect(again.verdict.causes).toEqual([])
  })
})

describe('network and TLS', () => {
  it('a self-signed certificate', async () => {
    const report = await doctor({ url: wss(SELF), gatewayToken })
    expect(marks(report)).toMatchObject({ dns: 'pass', tls: 'fail', 'https-probe': 'skip', websocket: 'skip' })
    expect(report.verdict.causes[0]?.id).toBe('tls-untrusted')
    expect(report.verdict.causes[0]?.title).toMatch(/self-signed/)
    expect(report.steps.find((s) => s.id === 'tls')?.details).toEqual(expect.arrayContaining([{ label: 'self-signed', value: 'yes' }]))
  })

  it('a DNS failure, via the CLI with --json (exit 6)', async () => {
    const run = await cli(['doctor', '--url', 'wss://doctor-no-such-host.invalid', '--json'], { AETHER_GATEWAY_TOKEN: gatewayToken })
    expect(run.code).toBe(6)
    const report = onlyDocument(run)
    expect(marks(report)).toMatchObject({ url: 'pass', dns: 'fail', tls: 'skip', websocket: 'skip' })
    expect(report.verdict.causes[0]?.id).toBe('dns-not-found')
  })

  it('refused, via the CLI in human form: the Markdown report (exit 6)', async () => {
    const run = await cli(['doctor', '--url', 'ws://127.0.0.1:9'], { AETHER_GATEWAY_TOKEN: gatewayToken })
    expect(run.code).toBe(6)
    expect(run.stdout).toContain('# Connection doctor: ws://127.0.0.1:9/')
    expect(run.stdout).toMatch(/\| 3 \| TCP and TLS \| ❌ fail \|/)
    expect(run.stdout).toMatch(/## Likely causes/)
    expect(run.stdout).toMatch(/gateway is not running/i)
  })

  it('refused, in process: the first cause', async () => {
    const report = await doctor({ url: 'ws://127.0.0.1:9', gatewayToken })
    expect(marks(report).tls).toBe('fail')
    expect(report.verdict.causes[0]?.id).toBe('connection-refused')
  })

  it('a server that never answers: each step its own limit, the whole run well within 30 s', async () => {
    const plain = await doctor({ url: `ws://127.0.0.1:${blackHole.port}`, gatewayToken, options: { stepTimeoutsMs: { 'https-probe': 1_500 } } })
    expect(marks(plain)).toMatchObject({ tls: 'pass', 'https-probe': 'fail', websocket: 'skip' })
    expect(plain.verdict.causes[0]?.id).toBe('timeout')
    expect(plain.durationMs).toBeLessThan(10_000)

    const secure = await doctor({ url: `wss://127.0.0.1:${blackHole.port}`, gatewayToken, options: { stepTimeoutsMs: { tls: 1_500 } } })
    expect(marks(secure)).toMatchObject({ tls: 'fail', 'https-probe': 'skip' })
    expect(secure.verdict.causes[0]?.id).toBe('timeout')
    expect(secure.durationMs).toBeLessThan(10_000)
  })
})

describe('secrets', () => {
  it('appear in no report, as JSON or as Markdown, and in nothing the CLI printed', () => {
    expect(reports.length).toBeGreaterThan(10)
    expect(cliRuns.length).toBeGreaterThan(3)
    for (const report of reports) {
      const json = JSON.stringify(report)
      const markdown = renderDoctorMarkdown(report)
      for (const secret of secrets) {
        expect(json).not.toContain(secret)
        expect(markdown).not.toContain(secret)
      }
    }
    for (const run of cliRuns) {
      for (const secret of secrets) {
        expect(run.stdout).not.toContain(secret)
        expect(run.stderr).not.toContain(secret)
      }
    }
  })
})
