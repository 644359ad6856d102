/**
 * Acceptance: the real CLI, through the Cloudflare Access emulator, to the real OpenClaw gateway.
 *
 * The emulator forwards like Cloudflare does (X-Forwarded-For with the client's public address),
 * and the gateway trusts loopback proxies, so to the gateway every device arrives from a remote
 * address and must be approved: the same situation as a real gateway behind a tunnel.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startAccessEmulator, startBlackHoleServer, type AccessEmulator, type TcpFixture } from '../support/access-emulator'
import { approveDevice } from '../support/real-gateway'
import { runCli, type CliRun } from '../support/run-cli'

const gatewayHttpUrl = inject('gatewayHttpUrl')
const gatewayUrl = inject('gatewayUrl')
const gatewayToken = inject('gatewayToken')
const reply = inject('mockModelReply')

const GW = 'gw.aether.test'
const ALLOW_ONLY = 'allow-only.aether.test'

let emu: AccessEmulator
let blackHole: TcpFixture
let serviceToken: { clientId: string; clientSecret: string }
const configDir = mkdtempSync(join(tmpdir(), 'aether-cli-config-'))
const allRuns: CliRun[] = []
const secretsSeen = new Set<string>()

beforeAll(async () => {
  emu = await startAccessEmulator({
    team: 'aether-team',
    apps: [
      {
        host: GW,
        upstream: gatewayHttpUrl,
        policies: [
          { decision: 'non_identity', serviceTokens: ['ci'] },
          { decision: 'allow', emails: ['operator@example.com'] }
        ]
      },
      // The token is listed, but in an Allow policy: Access still sends it to the login page.
      { host: ALLOW_ONLY, upstream: gatewayHttpUrl, policies: [{ decision: 'allow', serviceTokens: ['ci'] }] }
    ]
  })
  serviceToken = emu.createServiceToken({ name: 'ci' })
  blackHole = await startBlackHoleServer()
  secretsSeen.add(gatewayToken)
  secretsSeen.add(serviceToken.clientSecret)
})

afterAll(async () => {
  await emu?.close()
  await blackHole?.close()
})

/** Run the CLI with a keychain namespace of its own (one device identity per namespace). */
async function cli(
  args: string[],
  opts: { keychain: string; env?: Record<string, string | undefined>; onLine?: (l: Record<string, unknown>) => void }
): Promise<CliRun> {
  const run = await runCli(args, {
    env: {
      AETHER_CONFIG_DIR: configDir,
      AETHER_KEYCHAIN_SERVICE: `aether-acceptance-${opts.keychain}`,
      AETHER_GATEWAY_TOKEN: undefined,
      AETHER_CF_CLIENT_ID: undefined,
      AETHER_CF_CLIENT_SECRET: undefined,
      AETHER_CF_APP_TOKEN: undefined,
      ...opts.env
    },
    ...(opts.onLine ? { onLine: opts.onLine } : {})
  })
  allRuns.push(run)
  return run
}

const withServiceToken = (over: Record<string, string> = {}) => ({
  AETHER_GATEWAY_TOKEN: gatewayToken,
  AETHER_CF_CLIENT_ID: serviceToken.clientId,
  AETHER_CF_CLIENT_SECRET: serviceToken.clientSecret,
  ...over
})

function errorLine(run: CliRun): Record<string, unknown> {
  const line = run.lines.find((l) => l.type === 'error')
  if (!line) throw new Error(`no error line in: ${run.stdout}\n${run.stderr}`)
  return line
}

describe('a wss:// gateway behind Cloudflare Access', () => {
  const device = `main-${randomUUID()}`

  it('without Access credentials: Access blocked it, with the decoded claims and the two ways through (exit 3)', async () => {
    const human = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile], {
      keychain: device,
      env: { AETHER_GATEWAY_TOKEN: gatewayToken }
    })
    expect(human.code).toBe(3)
    expect(human.stderr).toContain('Cloudflare Access blocked the connection')
    expect(human.stderr).toContain(`application host: ${GW}`)
    expect(human.stderr).toContain(`team domain: ${emu.teamDomain}`)
    expect(human.stderr).toMatch(/service token/i)
    expect(human.stderr).toMatch(/sign in/i)
    // Never the raw redirect, its meta JWT or an HTML body.
    expect(human.stderr).not.toMatch(/cdn-cgi|meta=|kid=|<html|eyJ/i)

    const json = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--json'], {
      keychain: device,
      env: { AETHER_GATEWAY_TOKEN: gatewayToken }
    })
    expect(json.code).toBe(3)
    const err = errorLine(json)
    expect(err.code).toBe('ACCESS_LOGIN_REQUIRED')
    expect(err.exitCode).toBe(3)
    const details = err.details as { accessClaims: Record<string, unknown>; accessAud: string; accessTeamDomain: string }
    expect(details.accessClaims).toMatchObject({ hostname: GW, audience: emu.app(GW).aud, authStatus: 'NONE', serviceTokenStatus: false })
    expect(details.accessTeamDomain).toBe(emu.teamDomain)
    expect((err.nextSteps as { action: string }[]).map((s) => s.action).slice(0, 2)).toEqual(['add-service-token', 'sign-in-email'])
  })

  it('with a service token that no Service Auth policy admits: the service-token verdict and the causes in order (exit 3)', async () => {
    const run = await cli(['connect', '--url', emu.appUrl(ALLOW_ONLY, '/', 'wss'), '--ca-file', emu.caFile, '--json'], {
      keychain: device,
      env: withServiceToken()
    })
    expect(run.code).toBe(3)
    const err = errorLine(run)
    expect(err.code).toBe('ACCESS_SERVICE_TOKEN_REJECTED')
    const causes = err.likelyCauses as string[]
    expect(causes).toHaveLength(4)
    expect(causes[0]).toMatch(/Service Auth policy/i)
    expect(causes[1]).toMatch(/not included/i)
    expect(causes[2]).toMatch(/expired|revoked/i)
    expect(causes[3]).toMatch(/another.*account/i)
    expect((err.details as { credentialsSent: string[] }).credentialsSent).toEqual(expect.arrayContaining(['CF-Access-Client-Id', 'CF-Access-Client-Secret']))
  })

  let requestId = ''
  it('with a service token: pairing required first, with the request id and the approval command (exit 5)', async () => {
    const run = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile], { keychain: device, env: withServiceToken() })
    expect(run.code).toBe(5)
    const match = /openclaw devices approve ([0-9a-f-]{36})/.exec(run.stderr)
    expect(match).not.toBeNull()
    requestId = match![1]!
    // The upgrade went through Access with the service token.
    const seen = emu.requests.filter((r) => r.host === GW && r.upgrade).at(-1)
    expect(seen?.decision).not.toBe('redirect')
  })

  it('then approved, then connected: the hello summary (exit 0)', async () => {
    await approveDevice(gatewayUrl, gatewayToken, requestId)
    const run = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--json'], { keychain: device, env: withServiceToken() })
    expect(run.code).toBe(0)
    const hello = run.lines.find((l) => l.type === 'hello')
    expect(hello).toMatchObject({ type: 'hello', protocol: 4, sessionKey: 'agent:main:main', deviceTokenIssued: true })
    expect(hello!.scopes).toEqual(expect.arrayContaining(['operator.read', 'operator.write']))
  })

  it('chats: the mock model\u2019s reply arrives streamed and complete', async () => {
    const run = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--message', 'hello', '--json'], {
      keychain: device,
      env: withServiceToken()
    })
    expect(run.code).toBe(0)
    const deltas = run.lines.filter((l) => l.type === 'delta').map((l) => l.text as string)
    expect(deltas.length).toBeGreaterThan(1)
    const final = run.lines.find((l) => l.type === 'final')
    expect(final?.text).toBe(reply)
    expect(deltas.join('')).toBe(reply)

    const human = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--message', 'hello again'], {
      keychain: device,
      env: withServiceToken()
    })
    expect(human.code).toBe(0)
    expect(human.stdout.trim()).toBe(reply)
  })

  it('with a valid app token (email sign-in) it connects; an expired one is refused before dialling (exit 3)', async () => {
    const appToken = emu.issueAppToken({ host: GW, email: 'operator@example.com', expiresInSec: 3600 })
    secretsSeen.add(appToken)
    const good = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--json'], {
      keychain: device,
      env: { AETHER_GATEWAY_TOKEN: gatewayToken, AETHER_CF_APP_TOKEN: `CF_Authorization=${appToken}\n` }
    })
    expect(good.code).toBe(0)
    const edge = emu.requests.filter((r) => r.host === GW && r.upgrade).at(-1)
    expect(edge?.credentials).toEqual(expect.arrayContaining(['cf-access-token']))

    const expired = emu.issueAppToken({ host: GW, email: 'operator@example.com', expiresInSec: -60 })
    secretsSeen.add(expired)
    const before = emu.requests.length
    const run = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--json'], {
      keychain: device,
      env: { AETHER_GATEWAY_TOKEN: gatewayToken, AETHER_CF_APP_TOKEN: expired }
    })
    expect(run.code).toBe(3)
    expect(errorLine(run).code).toBe('ACCESS_APP_TOKEN_EXPIRED')
    expect(emu.requests.length).toBe(before)
  })

  it('an app token of another application is sent but refused by Access (exit 3)', async () => {
    const other = emu.issueAppToken({ host: GW, email: 'operator@example.com', expiresInSec: 3600, aud: 'f'.repeat(64) })
    secretsSeen.add(other)
    const run = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--json'], {
      keychain: device,
      env: { AETHER_GATEWAY_TOKEN: gatewayToken, AETHER_CF_APP_TOKEN: other }
    })
    expect(run.code).toBe(3)
    expect(errorLine(run).code).toBe('ACCESS_APP_TOKEN_REJECTED')
  })

  it('a saved profile connects with its keychain secrets', async () => {
    const add = await cli(['profile', 'add', '--name', 'edge', '--url', emu.appUrl(GW, '/', 'wss'), '--access', 'service-token', '--ca-file', emu.caFile], {
      keychain: device,
      env: withServiceToken()
    })
    expect(add.code).toBe(0)
    expect(add.stdout).toMatch(/Stored in the keychain: gateway token, Cloudflare client secret/)
    const run = await cli(['connect', '--profile', 'edge', '--message', 'from a profile', '--json'], { keychain: device })
    expect(run.code).toBe(0)
    expect(run.lines.find((l) => l.type === 'final')?.text).toBe(reply)
  })

  it('trusts the operating system store: the CA installed there works without --ca-file', async () => {
    const untrusted = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--json'], { keychain: device, env: withServiceToken() })
    expect(untrusted.code).toBe(6)
    expect(errorLine(untrusted).code).toBe('TLS_UNTRUSTED')
    const trusted = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--json'], {
      keychain: device,
      env: withServiceToken({ SSL_CERT_FILE: emu.caFile })
    })
    expect(trusted.code).toBe(0)
  })
})

describe('gateway and network refusals', () => {
  it('a wrong gateway token (exit 4)', async () => {
    const run = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--json'], {
      keychain: `wrong-${randomUUID()}`,
      env: withServiceToken({ AETHER_GATEWAY_TOKEN: 'this-is-not-the-gateway-token' })
    })
    expect(run.code).toBe(4)
    expect(errorLine(run)).toMatchObject({ code: 'GATEWAY_TOKEN_MISMATCH', details: { gatewayDetailCode: 'AUTH_TOKEN_MISMATCH' } })
  })

  it('--wait-pairing keeps retrying until the device is approved', async () => {
    const approved: string[] = []
    const run = await cli(['connect', '--url', emu.appUrl(GW, '/', 'wss'), '--ca-file', emu.caFile, '--wait-pairing', '--message', 'after approval', '--json'], {
      keychain: `wait-${randomUUID()}`,
      env: withServiceToken(),
      onLine: (line) => {
        if (line.type === 'pairing' && line.attempt === 0 && typeof line.requestId === 'string') {
          approved.push(line.requestId)
          void approveDevice(gatewayUrl, gatewayToken, line.requestId)
        }
      }
    })
    expect(approved).toHaveLength(1)
    expect(run.code).toBe(0)
    expect(run.lines.find((l) => l.type === 'final')?.text).toBe(reply)
  })

  it('gateway not running (exit 6)', async () => {
    const run = await cli(['connect', '--url', 'ws://127.0.0.1:9', '--json'], { keychain: 'norun', env: { AETHER_GATEWAY_TOKEN: gatewayToken } })
    expect(run.code).toBe(6)
    expect(errorLine(run).code).toBe('CONNECTION_REFUSED')
  })

  it('ws:// to the TLS edge: "this address needs wss://" with the address to use, from connect and from doctor (exit 6)', async () => {
    const secure = emu.appUrl(GW, '/', 'wss')
    const plain = secure.replace(/^wss:/, 'ws:')
    const edgeRequestsBefore = emu.requests.length
    const run = await cli(['connect', '--url', plain, '--json'], { keychain: 'plain-to-tls', env: { AETHER_GATEWAY_TOKEN: gatewayToken } })
    expect(run.code).toBe(6)
    expect(errorLine(run)).toMatchObject({ code: 'TLS_REQUIRED', title: 'This address needs wss://' })
    expect(String(errorLine(run).message)).toContain(`Use ${secure} instead`)
    const doctor = await cli(['doctor', '--url', plain, '--json'], { keychain: 'plain-to-tls', env: { AETHER_GATEWAY_TOKEN: gatewayToken } })
    expect(doctor.code).toBe(6)
    const report = JSON.parse(doctor.stdout) as { steps: { id: string; status: string; code?: string }[]; verdict: { causes: { id: string }[] } }
    expect(report.steps.find((s) => s.id === 'tls')).toMatchObject({ status: 'pass' })
    expect(report.steps.find((s) => s.id === 'https-probe')).toMatchObject({ status: 'fail', code: 'TLS_REQUIRED' })
    expect(report.verdict.causes[0]?.id).toBe('tls-required')
    // Only plain bytes and a TLS hello were sent: no HTTP request (and no credential) reached the edge.
    expect(emu.requests.length).toBe(edgeRequestsBefore)
  })

  it('a server that accepts TCP and never answers: exit 7 after the timeout, not a hang', async () => {
    const run = await cli(['connect', '--url', `ws://127.0.0.1:${blackHole.port}`, '--timeout', '2', '--json'], {
      keychain: 'blackhole',
      env: { AETHER_GATEWAY_TOKEN: gatewayToken }
    })
    expect(run.code).toBe(7)
    expect(errorLine(run)).toMatchObject({ code: 'TIMEOUT', details: { timeoutMs: 2000 } })
    expect(run.ms).toBeLessThan(10_000)
  })

  it('bad input is exit 2 with a clear message, and secrets are refused on the command line', async () => {
    const bad = await cli(['connect', '--url', 'gateway.example.com'], { keychain: 'bad' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/needs a scheme/)
    const argvSecret = await cli(['connect', '--url', 'wss://x.aether.test', '--token', 'abc'], { keychain: 'bad' })
    expect(argvSecret.code).toBe(2)
    expect(argvSecret.stderr).toMatch(/AETHER_GATEWAY_TOKEN/)
  })
})

describe('secrets', () => {
  it('never appear in anything the CLI printed', () => {
    expect(allRuns.length).toBeGreaterThan(10)
    for (const run of allRuns) {
      for (const secret of secretsSeen) {
        expect(run.stdout).not.toContain(secret)
        expect(run.stderr).not.toContain(secret)
      }
    }
  })
})
