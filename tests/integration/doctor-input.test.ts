/**
 * The doctor on the command line with awkward input: credentials in the address, an impossible
 * host name, Access credentials that cannot be used, an edge that answers requests without
 * credentials but never those with them, and usage errors. Each through the real CLI.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../../src/shared/doctor-report'
import { runCli, type CliRun } from '../support/run-cli'

const configDir = mkdtempSync(join(tmpdir(), 'aether-doctor-input-'))
const CLIENT_ID = `${'0123456789abcdef'.repeat(2)}.access`
const CLIENT_SECRET = 'c0ffee'.repeat(10)
const AUD = 'a'.repeat(64)

/**
 * Looks like Cloudflare Access from outside: a login redirect (with `meta` claims) for a request
 * without credentials, its login page offering email codes, and silence for any request that
 * carries a credential (as an edge rule or a stuck origin behind Access would).
 */
let edge: http.Server
let port = 0
const held = new Set<http.ServerResponse>()
// Upgrade sockets leave the server's own bookkeeping, so they are closed by hand at the end.
const upgrades = new Set<Socket>()

beforeAll(async () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const meta = `${b64({ alg: 'RS256' })}.${b64({ type: 'meta', aud: AUD, hostname: '127.0.0.1', service_token_status: false, auth_status: 'NONE' })}.sig`
  edge = http.createServer((req, res) => {
    const h = req.headers
    if (req.url?.startsWith('/cdn-cgi/access/login')) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Sign in to Edge test</h1><form><input type="email" name="email"></form>')
      return
    }
    if (h['cf-access-client-id'] || h.authorization || h['cf-access-token'] || h.cookie) {
      held.add(res)
      return
    }
    res
      .writeHead(302, { location: `http://127.0.0.1:${port}/cdn-cgi/access/login/127.0.0.1?kid=${AUD}&redirect_url=%2F&meta=${meta}`, server: 'cloudflare', 'cf-ray': '8f00aa11bb22cc33-AMS' })
      .end()
  })
  edge.on('upgrade', (_req, socket: Socket) => {
    upgrades.add(socket)
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', resolve))
  port = (edge.address() as AddressInfo).port
})

afterAll(async () => {
  for (const res of held) res.destroy()
  for (const socket of upgrades) socket.destroy()
  edge.closeAllConnections()
  await new Promise((resolve) => edge.close(resolve))
})

function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return runCli(args, {
    env: {
      AETHER_CONFIG_DIR: configDir,
      AETHER_KEYCHAIN_SERVICE: `aether-doctor-input-${randomUUID()}`,
      AETHER_GATEWAY_TOKEN: undefined,
      AETHER_CF_CLIENT_ID: undefined,
      AETHER_CF_CLIENT_SECRET: undefined,
      AETHER_CF_APP_TOKEN: undefined,
      ...env
    },
    timeoutMs: 60_000
  })
}

function onlyDocument(run: CliRun): DoctorReport {
  const trimmed = run.stdout.trim()
  expect(trimmed.split('\n')).toHaveLength(1)
  const doc = JSON.parse(trimmed) as DoctorReport & { type?: string }
  expect(doc.type).toBeUndefined()
  expect(doc.version).toBe(1)
  return doc
}

describe('credentials in the address', () => {
  it.each([
    ['ws://user:s3cr3tpw@127.0.0.1:1', 's3cr3tpw'],
    ['ws://127.0.0.1:1/?token=QUERYSECRET123', 'QUERYSECRET123'],
    ['ws://127.0.0.1:1/#password=FRAGSECRET', 'FRAGSECRET']
  ])('%s: never printed, in the Markdown, the progress line or the JSON', async (url, secret) => {
    const human = await cli(['doctor', '--url', url])
    expect(human.stderr).toMatch(/Checking ws:\/\/127\.0\.0\.1:1/)
    expect(human.stdout).toMatch(/^# Connection doctor: ws:\/\/127\.0\.0\.1:1/)
    const json = await cli(['doctor', '--url', url, '--json'])
    const report = onlyDocument(json)
    expect(report.url).not.toContain('@')
    for (const run of [human, json]) {
      expect(run.stdout).not.toContain(secret)
      expect(run.stderr).not.toContain(secret)
    }
  })

  // Near misses of "ws://" are refused by step 1, but still shown back: without the password.
  it.each(['ws:/u:s3cr3tpw@127.0.0.1:1', 'wss//u:s3cr3tpw@host', 'wss:/\\u:s3cr3tpw@host', 'ws:/\\\\u:s3cr3tpw@host'])(
    '%s: a mistyped scheme does not let the password through',
    async (url) => {
      const human = await cli(['doctor', '--url', url])
      expect(human.code).toBe(2)
      expect(human.stderr).toMatch(/^Checking /m)
      expect(human.stdout).toMatch(/^# Connection doctor: /)
      const json = await cli(['doctor', '--url', url, '--json'])
      const report = onlyDocument(json)
      expect(report.url).not.toContain('@')
      expect(report.steps[0]).toMatchObject({ id: 'url', status: 'fail', code: 'INVALID_URL' })
      expect(report.steps[0]?.summary).not.toMatch(/needs a scheme/)
      for (const run of [human, json]) {
        expect(run.stdout).not.toContain('s3cr3tpw')
        expect(run.stderr).not.toContain('s3cr3tpw')
      }
    }
  )

  it('the progress line is one line and shortened', async () => {
    const run = await cli(['doctor', '--url', `wss://${'a'.repeat(300)}.com/\nFAKE LINE`])
    const checking = run.stderr.split('\n').filter((l) => l.startsWith('Checking'))
    expect(checking).toHaveLength(1)
    expect(run.stderr).not.toMatch(/^FAKE LINE/m)
    expect(checking[0]!.length).toBeLessThan(240)
  })
})

describe('an impossible host name', () => {
  it('is a bad address (exit 2), said plainly, with no system message', async () => {
    const run = await cli(['doctor', '--url', `wss://${'a'.repeat(5000)}.com`, '--json'])
    expect(run.code).toBe(2)
    const report = onlyDocument(run)
    expect(report.steps[0]).toMatchObject({ id: 'url', status: 'fail', code: 'INVALID_URL' })
    expect(report.steps[0]?.summary).toMatch(/at most 253/)
    expect(report.steps.find((s) => s.id === 'dns')?.status).toBe('skip')
    expect(run.stdout).not.toMatch(/getaddrinfo|EINVAL/)
  })

  it('still says which credentials were given, as hints: the gateway token is set', async () => {
    const run = await cli(['doctor', '--url', 'ws://::1:18789', '--json'], { AETHER_GATEWAY_TOKEN: 'doctor-input-token-4xyz' })
    expect(run.code).toBe(2)
    const report = onlyDocument(run)
    expect(report.steps[0]?.summary).toMatch(/square brackets/)
    expect(report.credentials).toContainEqual({ label: 'gateway token', value: 'set, ends in …4xyz' })
    expect(run.stdout + run.stderr).not.toContain('doctor-input-token')
  })
})

describe('credentials that cannot be used: still one report, checked without them', () => {
  it.each([
    ['half a service token', { AETHER_CF_CLIENT_ID: CLIENT_ID }, (): string => `ws://127.0.0.1:${port}`, /Half a service token/, 2, 'access-credentials-unusable'],
    [
      'a service token and an app token',
      { AETHER_CF_CLIENT_ID: CLIENT_ID, AETHER_CF_CLIENT_SECRET: CLIENT_SECRET, AETHER_CF_APP_TOKEN: 'e30.e30.sig-for-test' },
      (): string => `ws://127.0.0.1:${port}`,
      /Two kinds of Access credentials/,
      2,
      'access-credentials-unusable'
    ],
    [
      'a service token over plain ws:// to a name that does not resolve',
      { AETHER_CF_CLIENT_ID: CLIENT_ID, AETHER_CF_CLIENT_SECRET: CLIENT_SECRET },
      (): string => 'ws://doctor-input-no-such-host.invalid',
      /need wss:\/\//,
      6,
      'dns-not-found'
    ]
  ] as const)('%s', async (_name, env, url, note, exit, first) => {
    const run = await cli(['doctor', '--url', url(), '--json', '--timeout', '2'], env)
    expect(run.code).toBe(exit)
    const report = onlyDocument(run)
    expect(report.accessMode).toBe('none')
    expect(report.notes.some((n) => /credentials given were ignored/.test(n) && note.test(n))).toBe(true)
    expect(report.verdict.causes[0]?.id).toBe(first)
    expect(report.verdict.causes.map((c) => c.id)).toContain('access-credentials-unusable')
    expect(run.stdout).not.toContain(CLIENT_SECRET)
    expect(run.stderr).not.toContain(CLIENT_SECRET)
  })
})

describe('an edge that answers without credentials but never with them', () => {
  it('the probes timing out are no refusal: the timeout is the first cause (exit 7)', async () => {
    const run = await cli(['doctor', '--url', `ws://127.0.0.1:${port}`, '--timeout', '2', '--json'], {
      AETHER_CF_CLIENT_ID: CLIENT_ID,
      AETHER_CF_CLIENT_SECRET: CLIENT_SECRET
    })
    expect(run.code).toBe(7)
    const report = onlyDocument(run)
    const step = report.steps.find((s) => s.id === 'service-token')
    expect(step?.probes).toHaveLength(5)
    expect(step?.probes?.every((p) => p.httpStatus === null && p.code === 'TIMEOUT')).toBe(true)
    expect(step?.summary).toMatch(/got an answer/)
    expect(step?.summary).not.toMatch(/did not accept/)
    expect(report.verdict.causes[0]).toMatchObject({ id: 'timeout', likelihood: 'high', code: 'TIMEOUT' })
    expect(report.verdict.causes.map((c) => c.id)).not.toContain('no-service-auth-policy')
    expect(run.stdout).not.toContain(CLIENT_SECRET)
  })
})

describe('usage errors', () => {
  it('an out-of-range --timeout or an unknown option is an error document (exit 2)', async () => {
    for (const args of [['--timeout', '60'], ['--bogus']]) {
      const run = await cli(['doctor', '--url', 'ws://127.0.0.1:1', '--json', ...args])
      expect(run.code).toBe(2)
      expect(JSON.parse(run.stdout.trim())).toMatchObject({ type: 'error', code: 'INVALID_INPUT' })
    }
  })
})
