/**
 * `login`: the real CLI signs in through the Access emulator's `/cdn-cgi/access/cli` page and
 * transfer service (cloudflared's browser flow), stores the app token in the real keychain, and a
 * later `connect` gets through Access to the real OpenClaw gateway with it.
 *
 * No browser: once the CLI printed the sign-in URL, the test visits it (which registers the
 * transfer, as the browser's first request does) and approves it as the signed-in user with
 * `emu.transfer.approve({ email })`.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startAccessEmulator, startBlackHoleServer, type AccessEmulator } from '../support/access-emulator'
import { TestPki } from '../support/access-emulator/certificates'
import { installTestHosts, nodeOptionsWithTestHosts } from '../support/hosts'
import { approveDevice } from '../support/real-gateway'
import { runCli, type CliRun } from '../support/run-cli'
import { openSystemSecretStore } from '../../src/main/secrets/keytar-secret-store'
import { secretKeys, urlTargetId } from '../../src/main/secrets/secret-store'

const gatewayHttpUrl = inject('gatewayHttpUrl')
const gatewayUrl = inject('gatewayUrl')
const gatewayToken = inject('gatewayToken')
const reply = inject('mockModelReply')

const GW = 'gw-login.aether.test'
const EMAIL = 'operator@example.com'
const REPO = join(__dirname, '../..')

let emu: AccessEmulator
let uninstallHosts: () => void
const configDir = mkdtempSync(join(tmpdir(), 'aether-cli-login-'))
const keychain = `aether-login-${randomUUID()}`
const allOutput: string[] = []

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  emu = await startAccessEmulator({
    team: 'aether-login',
    apps: [{ host: GW, upstream: gatewayHttpUrl, policies: [{ decision: 'allow', emails: [EMAIL] }] }],
    transfer: { holdMs: 2_000 }
  })
})

afterAll(async () => {
  await emu?.close()
  uninstallHosts?.()
})

const gw = () => emu.appUrl(GW, '/', 'wss')

function env(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    AETHER_CONFIG_DIR: configDir,
    AETHER_KEYCHAIN_SERVICE: keychain,
    AETHER_CF_TRANSFER_URL: emu.transfer.baseUrl,
    AETHER_GATEWAY_TOKEN: undefined,
    AETHER_CF_CLIENT_ID: undefined,
    AETHER_CF_CLIENT_SECRET: undefined,
    AETHER_CF_APP_TOKEN: undefined,
    ...over
  }
}

async function cli(args: string[], opts: { env?: Record<string, string | undefined>; onLine?: (l: Record<string, unknown>) => void } = {}): Promise<CliRun> {
  const run = await runCli(args, { env: env(opts.env), ...(opts.onLine ? { onLine: opts.onLine } : {}) })
  allOutput.push(run.stdout, run.stderr)
  return run
}

/** What the browser's first request does: GET the sign-in page (the edge registers the transfer and redirects to the login). */
function visit(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: emu.caCertPem, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)', accept: 'text/html' } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      .on('error', reject)
  })
}

/** Visit the printed URL, then approve as `email`, as the signed-in user in the browser would. */
function approveWhenAsked(email = EMAIL) {
  const seen: string[] = []
  const onLine = (line: Record<string, unknown>) => {
    if (line.type !== 'login-url' || typeof line.url !== 'string') return
    seen.push(line.url)
    void visit(line.url).then(() => emu.transfer.approve({ email, publicKey: new URL(line.url as string).searchParams.get('token')! }))
  }
  return { onLine, seen }
}

/** The CLI as a child whose output can be awaited and which can be sent Ctrl-C. */
function startCli(args: string[], over: Record<string, string | undefined> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: nodeOptionsWithTestHosts(''), ...env(over) }
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k]
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], { cwd: REPO, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: { test: RegExp; resolve: () => void }[] = []
  const check = () => {
    for (const w of [...waiters]) {
      if (!w.test.test(stdout + stderr)) continue
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
  }
  child.stdout.on('data', (c: Buffer) => ((stdout += c.toString()), check()))
  child.stderr.on('data', (c: Buffer) => ((stderr += c.toString()), check()))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor: (test: RegExp, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(test)}\n${stdout}\n${stderr}`)), timeoutMs)
        waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) })
        check()
      })
  }
}

async function storedToken(targetId: string): Promise<string | null> {
  const opened = await openSystemSecretStore({ service: keychain })
  expect(opened.kind).toBe('keychain')
  return opened.store.get(secretKeys.cfAppToken(targetId))
}

const tokens: string[] = []

describe('login --url, then connect --url', () => {
  it('signs in through the transfer, stores the app token for the address, and says who and until when', async () => {
    const approval = approveWhenAsked()
    const run = await cli(['login', '--url', gw(), '--ca-file', emu.caFile, '--no-browser', '--json'], { onLine: approval.onLine })
    expect(run.code, run.stderr).toBe(0)
    expect(approval.seen).toHaveLength(1)
    expect(run.lines.map((l) => l.type)).toEqual(['access-app', 'login-url', 'waiting', 'signed-in'])
    expect(run.lines[0]).toMatchObject({ host: GW, aud: emu.app(GW).aud, teamDomain: emu.teamDomain, transferUrl: emu.transfer.baseUrl })
    expect(run.lines[1]).toMatchObject({ opened: false })
    const signedIn = run.lines[3]!
    expect(signedIn).toMatchObject({ type: 'signed-in', host: GW, email: EMAIL, aud: emu.app(GW).aud, stored: 'keychain' })
    expect(Date.parse(signedIn.expiresAt as string)).toBeGreaterThan(Date.now() + 60_000)
    expect(emu.transfer.pending.find((t) => t.publicKey === new URL(approval.seen[0]!).searchParams.get('token'))?.state).toBe('delivered')

    const token = await storedToken(urlTargetId(signedIn.url as string))
    expect(token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    tokens.push(token!)
  })

  let requestId = ''
  it('connect --url with no AETHER_CF_APP_TOKEN gets through Access with it: pairing required by the real gateway (exit 5)', async () => {
    const run = await cli(['connect', '--url', gw(), '--ca-file', emu.caFile, '--json'], { env: { AETHER_GATEWAY_TOKEN: gatewayToken } })
    expect(run.code, run.stderr).toBe(5)
    expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'PAIRING_REQUIRED' })
    requestId = String((run.lines.find((l) => l.type === 'error')!.details as { pairingRequestId?: string }).pairingRequestId ?? '')
    const upgrade = emu.requests.filter((r) => r.host === GW && r.upgrade).at(-1)
    expect(upgrade?.decision).not.toBe('redirect')
    expect(upgrade?.credentials).toEqual(expect.arrayContaining(['cf-access-token']))
  })

  it('approved on the gateway, connect --url chats with the stored sign-in', async () => {
    expect(requestId).not.toBe('')
    await approveDevice(gatewayUrl, gatewayToken, requestId)
    const human = await cli(['connect', '--url', gw(), '--ca-file', emu.caFile, '--message', 'hello'], { env: { AETHER_GATEWAY_TOKEN: gatewayToken } })
    expect(human.code, human.stderr).toBe(0)
    expect(human.stderr).toContain('Using the Cloudflare Access sign-in stored for this address')
    expect(human.stdout.trim()).toBe(reply)
  })
})

describe('login --profile (human output)', () => {
  it('creates the profile with access email-otp and the AUD; connect --profile uses the stored token', async () => {
    const cliRun = startCli(['login', '--url', gw(), '--profile', 'edge', '--ca-file', emu.caFile, '--no-browser'])
    await cliRun.waitFor(/Waiting for you to sign in in the browser…/)
    const url = /^ {2}(https:\/\/\S+)$/m.exec(cliRun.stderr())?.[1]
    expect(url).toBeDefined()
    expect(cliRun.stderr()).toContain('Open this URL in a browser to sign in')
    await visit(url!)
    emu.transfer.approve({ email: EMAIL, publicKey: new URL(url!).searchParams.get('token')! })
    const code = await cliRun.exited
    allOutput.push(cliRun.stdout(), cliRun.stderr())
    expect(code, cliRun.stderr()).toBe(0)
    expect(cliRun.stdout()).toMatch(new RegExp(`Signed in to ${GW.replace(/\./g, '\\.')} as ${EMAIL}\\. The sign-in expires at \\S+ \\(in \\d+ h`))
    expect(cliRun.stdout()).toContain('Stored in the keychain for profile "edge"; `npm run cli -- connect --profile edge` uses it.')

    const show = await cli(['profile', 'show', 'edge', '--json'])
    const shown = show.lines.find((l) => l.type === 'profile') as { profile: { id: string; access: unknown }; secrets: { cfAppToken: string } }
    expect(shown.profile.access).toEqual({ mode: 'email-otp', aud: emu.app(GW).aud })
    expect(shown.secrets.cfAppToken).toMatch(/^set/)
    tokens.push((await storedToken(shown.profile.id))!)

    const run = await cli(['connect', '--profile', 'edge', '--message', 'from the profile', '--json'], { env: { AETHER_GATEWAY_TOKEN: gatewayToken } })
    expect(run.code, run.stderr).toBe(0)
    expect(run.lines.find((l) => l.type === 'final')?.text).toBe(reply)
  })
})

describe('login failures', () => {
  it('nobody approves before --timeout: exit 7', async () => {
    const run = await cli(['login', '--url', gw(), '--ca-file', emu.caFile, '--no-browser', '--timeout', '3', '--json'])
    expect(run.code).toBe(7)
    expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'TIMEOUT', exitCode: 7 })
    expect(run.ms).toBeLessThan(15_000)
  })

  it('the transfer service fails with a 5xx: exit 6 with the status', async () => {
    emu.transfer.failStatus = 503
    try {
      const run = await cli(['login', '--url', gw(), '--ca-file', emu.caFile, '--no-browser', '--json'])
      expect(run.code).toBe(6)
      expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'CLOUDFLARE_ERROR', details: { httpStatus: 503 } })
    } finally {
      emu.transfer.failStatus = null
    }
  })

  it('Ctrl-C while waiting: "Sign-in cancelled", exit 130, at once', async () => {
    const run = startCli(['login', '--url', gw(), '--ca-file', emu.caFile, '--no-browser'])
    await run.waitFor(/Waiting for you to sign in in the browser/)
    const sent = Date.now()
    run.child.kill('SIGINT')
    const code = await run.exited
    allOutput.push(run.stdout(), run.stderr())
    expect(code).toBe(130)
    expect(run.stderr()).toContain('Sign-in cancelled.')
    expect(Date.now() - sent).toBeLessThan(3_000)
  })

  it('the edge not trusted (no --ca-file): a TLS error before any browser (exit 6)', async () => {
    const run = await cli(['login', '--url', gw(), '--no-browser', '--json'])
    expect(run.code).toBe(6)
    expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'TLS_UNTRUSTED' })
    expect(run.lines.some((l) => l.type === 'login-url')).toBe(false)
  })
})

describe('login: the edge and the transfer service misbehaving', () => {
  it('an edge that never answers: --timeout 5 is the whole limit, and the error says 5 s (exit 7)', async () => {
    const hole = await startBlackHoleServer()
    try {
      const run = await cli(['login', '--url', `wss://127.0.0.1:${hole.port}`, '--no-browser', '--timeout', '5', '--json'])
      expect(run.code, run.stderr).toBe(7)
      expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'TIMEOUT', details: { timeoutMs: 5_000 } })
      expect(String(run.lines.find((l) => l.type === 'error')?.message)).toContain('within 5 s')
      // tsx start-up included; the limit alone is 5 s.
      expect(run.ms).toBeLessThan(10_000)
    } finally {
      await hole.close()
    }
  }, 30_000)

  it('a server that answers GET but never HEAD: not behind Access (exit 2), not a timeout', async () => {
    const pki = await TestPki.create()
    const leaf = await pki.leafFor('localhost', 'valid')
    const caFile = join(mkdtempSync(join(tmpdir(), 'aether-login-ca-')), 'ca.pem')
    writeFileSync(caFile, pki.caCertPem)
    const server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
      if (req.method === 'HEAD') return // never answered
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html>gateway</html>')
    })
    await new Promise<void>((resolve) => server.listen(0, resolve))
    const port = (server.address() as net.AddressInfo).port
    try {
      const run = await cli(['login', '--url', `wss://localhost:${port}`, '--ca-file', caFile, '--no-browser', '--json'])
      expect(run.code, run.stderr).toBe(2)
      expect(run.lines.find((l) => l.type === 'error')).toMatchObject({ code: 'INVALID_INPUT', title: 'No Cloudflare Access application found', details: { httpStatus: 200 } })
      expect(run.ms).toBeLessThan(15_000)
    } finally {
      server.closeAllConnections()
      server.close()
    }
  }, 30_000)

  it('a transfer service that cannot be reached is named, with AETHER_CF_TRANSFER_URL, not the gateway address (exit 6)', async () => {
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    const run = await cli(['login', '--url', gw(), '--ca-file', emu.caFile, '--no-browser'], { env: { AETHER_CF_TRANSFER_URL: `https://127.0.0.1:${port}/` } })
    expect(run.code).toBe(6)
    expect(run.stderr).toContain('error: Token transfer service not reachable [CONNECTION_REFUSED]')
    expect(run.stderr).toContain(`token transfer service at 127.0.0.1:${port} (set by AETHER_CF_TRANSFER_URL)`)
    expect(run.stderr).toMatch(/network, proxy and firewall/)
    expect(run.stderr).not.toMatch(/gateway URL|is the gateway running/)
  })

  it('an http:// address is quoted as typed, and Access sign-in is said to need https:// or wss:// (exit 2)', async () => {
    const run = await cli(['login', '--url', 'http://x', '--no-browser'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('http://x is a plain http:// address. Cloudflare Access sign-in needs https:// or wss://')
    expect(run.stderr).not.toContain('ws://x/')
  })
})

describe('secrets', () => {
  it('the app tokens never appear in anything the CLI printed', () => {
    expect(tokens).toHaveLength(2)
    for (const text of allOutput) {
      for (const token of tokens) {
        expect(text).not.toContain(token)
        expect(text).not.toContain(token.split('.')[1])
      }
      expect(text).not.toContain(gatewayToken)
    }
  })
})
