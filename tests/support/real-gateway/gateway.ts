// Starts a REAL OpenClaw gateway (npm openclaw, run by Node 24) on loopback for integration tests.
// Each gateway gets a throw-away state directory with HOME, OPENCLAW_HOME, OPENCLAW_STATE_DIR,
// OPENCLAW_CONFIG_PATH and TMPDIR inside it, token auth, and a single model provider pointing at a
// local mock model (tests/support/mock-model). Nothing outside the state directory is written.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { ensureGatewayInstalled } from './install'
import { approveDevice, connectGatewayWithRetry, listPendingPairings, ADMIN_CLIENT, ADMIN_SCOPES, type PendingPairing } from './ws-client'

export interface RealGatewayOptions {
  /** The mock model's URL (origin or `/v1` base URL). */
  mockModelUrl: string
  /** Shared gateway token (default: random). */
  token?: string
  /** gateway.trustedProxies; e.g. ['127.0.0.1', '::1'] for a same-host reverse proxy. */
  trustedProxies?: string[]
  /** Provider API the gateway uses to talk to the mock (default openai-completions). */
  modelApi?: 'openai-completions' | 'openai-responses'
  /** Deep-merged over the generated config (objects merge, everything else replaces). */
  config?: Record<string, unknown>
  /** Fixed port (default: a free ephemeral port). */
  port?: number
  /** How long to wait for /readyz and the first successful connect (default 90 s). */
  readyTimeoutMs?: number
  /** Extra environment for the gateway process. */
  env?: Record<string, string>
  /** Keep the state directory on stop() (also: AETHER_KEEP_GATEWAY_STATE=1). */
  keepStateDir?: boolean
  /** Echo gateway output to this process's stderr (also: AETHER_GATEWAY_LOGS=1). */
  echoLogs?: boolean
}

export interface RealGateway {
  /** ws://127.0.0.1:<port> */
  url: string
  /** http://127.0.0.1:<port> */
  httpUrl: string
  port: number
  token: string
  stateDir: string
  configPath: string
  pid: number
  /** ms from spawn to /readyz answering ready. */
  readyMs: number
  /** ms from spawn to the first accepted admin connect (the gateway is usable). */
  startupMs: number
  stop(): Promise<void>
  approveDevice(requestId: string): Promise<unknown>
  listPendingPairings(): Promise<PendingPairing[]>
  /** The last lines the gateway wrote to stdout/stderr. */
  logs(): string
}

const LOG_LINES_KEPT = 2_000
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPES = /\x1b\[[0-9;]*[A-Za-z]/g
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A port free on both 127.0.0.1 and ::1 (the gateway listens on both). */
async function freeLoopbackPort(): Promise<number> {
  const listen = (port: number, host: string): Promise<net.Server> =>
    new Promise((resolve, reject) => {
      const s = net.createServer()
      s.once('error', reject)
      s.listen({ port, host, exclusive: true }, () => resolve(s))
    })
  const close = (s: net.Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()))
  for (let attempt = 0; attempt < 20; attempt++) {
    const v4 = await listen(0, '127.0.0.1')
    const port = (v4.address() as net.AddressInfo).port
    try {
      const v6 = await listen(port, '::1')
      await close(v6)
      await close(v4)
      return port
    } catch (err) {
      await close(v4)
      // No IPv6 loopback at all: the IPv4 port is good enough.
      if ((err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') return port
    }
  }
  throw new Error('no free loopback port found')
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) {
    const cur = out[k]
    out[k] = isPlainObject(cur) && isPlainObject(v) ? deepMerge(cur, v) : v
  }
  return out
}

function modelBaseUrl(mockModelUrl: string): string {
  const trimmed = mockModelUrl.replace(/\/+$/, '')
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`
}

/** The gateway config the harness writes (exported for tests and for documentation). */
export function buildGatewayConfig(params: {
  port: number
  token: string
  mockModelUrl: string
  logFile: string
  trustedProxies?: string[]
  modelApi?: 'openai-completions' | 'openai-responses'
}): Record<string, unknown> {
  const gateway: Record<string, unknown> = {
    mode: 'local',
    port: params.port,
    bind: 'loopback',
    auth: { mode: 'token', token: params.token }
  }
  if (params.trustedProxies) gateway.trustedProxies = params.trustedProxies
  return {
    gateway,
    update: { checkOnStart: false },
    discovery: { mdns: { mode: 'off' } },
    logging: { file: params.logFile },
    cron: { enabled: false },
    agents: { defaults: { model: { primary: 'mock/mock-model' }, heartbeat: { every: '0m' } } },
    models: {
      mode: 'replace',
      catalogRefresh: { enabled: false },
      providers: {
        mock: {
          baseUrl: modelBaseUrl(params.mockModelUrl),
          apiKey: 'sk-mock-local',
          api: params.modelApi ?? 'openai-completions',
          models: [
            {
              id: 'mock-model',
              name: 'Mock Model',
              reasoning: false,
              input: ['text'],
              cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
              contextWindow: 128000,
              maxTokens: 4096
            }
          ]
        }
      }
    }
  }
}

/**
 * The gateway's environment: ours minus anything that changes OpenClaw's behaviour (its code
 * checks VITEST (200+ places), NODE_ENV, CI and all OPENCLAW_* variables; NODE_OPTIONS may carry
 * a TS loader), plus the isolation directories and the switches that keep it offline and quiet.
 */
function gatewayEnv(dirs: { home: string; state: string; config: string; tmp: string }, nodeBin: string, token: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  // Also keep it off the test keyring session (scripts/with-keyring.sh) the keychain tests use.
  const drop =
    /^(OPENCLAW_|VITEST|NODE_OPTIONS$|NODE_ENV$|CI$|JEST_WORKER_ID$|TEST$|npm_|TSX_|ELECTRON_RUN_AS_NODE$|DBUS_SESSION_BUS_ADDRESS$|GNOME_KEYRING_CONTROL$|AETHER_KEYRING_)/
  for (const [k, v] of Object.entries(process.env)) if (!drop.test(k) && v !== undefined) env[k] = v
  return {
    ...env,
    PATH: `${path.dirname(nodeBin)}${path.delimiter}${env.PATH ?? '/usr/bin:/bin'}`,
    HOME: dirs.home,
    OPENCLAW_HOME: dirs.home,
    OPENCLAW_STATE_DIR: dirs.state,
    OPENCLAW_CONFIG_PATH: dirs.config,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: path.join(dirs.home, '.config'),
    XDG_CACHE_HOME: path.join(dirs.home, '.cache'),
    XDG_DATA_HOME: path.join(dirs.home, '.local', 'share'),
    OPENCLAW_GATEWAY_TOKEN: token,
    OPENCLAW_DISABLE_BONJOUR: '1',
    OPENCLAW_NO_AUTO_UPDATE: '1',
    OPENCLAW_OFFLINE: '1',
    OPENCLAW_NO_RESPAWN: '1',
    OPENCLAW_SKIP_CHANNELS: '1',
    ...extra
  }
}

function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

function processGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

/**
 * OpenClaw keeps 0-byte lifecycle lock files for each state database in the hard-coded
 * /tmp/openclaw-state-locks-<uid>/ (named <family>.<sha256(db path) first 8 hex>.lock.sqlite),
 * outside the state dir. Remove the ones that belong to this gateway's databases.
 */
function removeLifecycleLocks(stateDir: string): void {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  const lockDir = path.join('/tmp', uid === undefined ? 'openclaw-state-locks' : `openclaw-state-locks-${uid}`)
  let lockFiles: string[]
  try {
    lockFiles = fs.readdirSync(lockDir)
  } catch {
    return
  }
  const hashes = new Set<string>()
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith('.sqlite')) hashes.add(createHash('sha256').update(fs.realpathSync(full)).digest('hex').slice(0, 8))
    }
  }
  try {
    walk(stateDir)
  } catch {
    return
  }
  for (const name of lockFiles) {
    const hash = /\.([0-9a-f]{8})\.lock\.sqlite$/.exec(name)?.[1]
    if (hash && hashes.has(hash)) fs.rmSync(path.join(lockDir, name), { force: true })
  }
}

class StartupError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean
  ) {
    super(message)
  }
}

async function startOnce(options: RealGatewayOptions, port: number): Promise<RealGateway> {
  const install = await ensureGatewayInstalled()
  const token = options.token ?? randomBytes(24).toString('base64url')
  const readyTimeoutMs = options.readyTimeoutMs ?? 90_000
  const keepStateDir = options.keepStateDir ?? process.env.AETHER_KEEP_GATEWAY_STATE === '1'
  const echoLogs = options.echoLogs ?? process.env.AETHER_GATEWAY_LOGS === '1'

  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aether-openclaw-'))
  const dirs = {
    home: path.join(stateDir, 'home'),
    state: path.join(stateDir, 'state'),
    tmp: path.join(stateDir, 'tmp'),
    logs: path.join(stateDir, 'logs'),
    config: path.join(stateDir, 'state', 'openclaw.json')
  }
  for (const d of [dirs.home, dirs.state, dirs.tmp, dirs.logs]) fs.mkdirSync(d, { recursive: true, mode: 0o700 })
  let config = buildGatewayConfig({
    port,
    token,
    mockModelUrl: options.mockModelUrl,
    logFile: path.join(dirs.logs, 'openclaw.log'),
    trustedProxies: options.trustedProxies,
    modelApi: options.modelApi
  })
  if (options.config) config = deepMerge(config, options.config)
  fs.writeFileSync(dirs.config, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })

  const lines: string[] = []
  const pushOutput = (prefix: string): ((chunk: string) => void) => {
    let partial = ''
    return (chunk: string) => {
      const parts = (partial + chunk).split('\n')
      partial = parts.pop() ?? ''
      for (const raw of parts) {
        const l = raw.replace(ANSI_ESCAPES, '')
        lines.push(`${prefix}${l}`)
        if (echoLogs) process.stderr.write(`[openclaw:${port}] ${l}\n`)
      }
      if (lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT)
    }
  }
  const logs = (): string => lines.join('\n')
  const tail = (n = 60): string => lines.slice(-n).join('\n')

  const t0 = Date.now()
  const child: ChildProcess = spawn(
    install.nodeBin,
    [install.openclawEntry, 'gateway', 'run', '--port', String(port), '--bind', 'loopback', '--auth', 'token'],
    {
      cwd: stateDir,
      env: gatewayEnv(dirs, install.nodeBin, token, options.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so stop() can also reach the gateway's worker children.
      detached: true
    }
  )
  child.on('error', (err) => lines.push(`[harness] gateway process error: ${err.message}`))
  const pid = child.pid
  if (pid === undefined) {
    fs.rmSync(stateDir, { recursive: true, force: true })
    throw new Error(`could not spawn ${install.nodeBin}`)
  }
  child.stdout?.setEncoding('utf8').on('data', pushOutput(''))
  child.stderr?.setEncoding('utf8').on('data', pushOutput(''))
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal }
      resolve()
    })
  })
  // Never leave a gateway behind when the test process exits without calling stop().
  const onExit = (): void => {
    killGroup(pid, 'SIGKILL')
    if (!keepStateDir) fs.rmSync(stateDir, { recursive: true, force: true })
  }
  process.on('exit', onExit)

  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        killGroup(pid, 'SIGTERM')
        // The gateway logs "[shutdown] completed cleanly" within ~0.3 s, but when stopped soon
        // after startup the process then lingers for ~5 s (its exit margin). Once the clean
        // shutdown is logged there is nothing left to lose, so give it 1 s and then SIGKILL.
        const deadline = Date.now() + 10_000
        let cleanAt = 0
        while (!exited && Date.now() < deadline) {
          if (!cleanAt && lines.some((l) => l.includes('shutdown') && l.includes('completed cleanly'))) cleanAt = Date.now()
          if (cleanAt && Date.now() - cleanAt > 1_000) break
          await Promise.race([exitPromise, sleep(100)])
        }
        if (!exited) {
          killGroup(pid, 'SIGKILL')
          await Promise.race([exitPromise, sleep(5_000)])
        }
      }
      // Worker children exit with the gateway; make sure of it.
      for (let i = 0; i < 20 && processGroupAlive(pid); i++) await sleep(100)
      if (processGroupAlive(pid)) killGroup(pid, 'SIGKILL')
      process.off('exit', onExit)
      if (!keepStateDir) {
        removeLifecycleLocks(stateDir)
        fs.rmSync(stateDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
      }
    })()
    return stopping
  }

  const httpUrl = `http://127.0.0.1:${port}`
  const url = `ws://127.0.0.1:${port}`
  const fail = async (what: string): Promise<never> => {
    const died = exited as { code: number | null; signal: NodeJS.Signals | null } | null
    const output = logs()
    await stop()
    const portInUse = /EADDRINUSE|address already in use/i.test(output)
    throw new StartupError(
      `OpenClaw gateway ${what} (port ${port}${died ? `, exit ${died.code ?? died.signal}` : ''}, ` +
        `${install.nodeBin} ${install.openclawEntry}).\n--- last gateway output ---\n${tail()}`,
      portInUse
    )
  }

  // 1. /readyz answers {"ready":true} once startup is complete.
  const deadline = t0 + readyTimeoutMs
  let readyMs = -1
  while (readyMs < 0) {
    if (exited) return fail('exited during startup')
    if (Date.now() > deadline) return fail(`was not ready after ${readyTimeoutMs} ms`)
    try {
      const r = await httpGet(`${httpUrl}/readyz`, 2_000)
      if (r.status === 200 && /"ready"\s*:\s*true/.test(r.body)) readyMs = Date.now() - t0
    } catch {
      // not listening yet
    }
    if (readyMs < 0) await sleep(200)
  }
  // 2. The first connect may still answer UNAVAILABLE "gateway starting" for a moment.
  try {
    const probe = await connectGatewayWithRetry(
      url,
      { client: ADMIN_CLIENT, scopes: ADMIN_SCOPES, token, minProtocol: 3, maxProtocol: 4 },
      Math.max(deadline - Date.now(), 5_000)
    )
    await probe.socket.closeAndWait()
    if (!probe.hello) return fail(`refused the admin connect: ${probe.error?.code} ${probe.error?.message}`)
  } catch (err) {
    if (exited) return fail('exited during startup')
    return fail(`did not accept a WebSocket connect: ${(err as Error).message}`)
  }
  const startupMs = Date.now() - t0

  return {
    url,
    httpUrl,
    port,
    token,
    stateDir,
    configPath: dirs.config,
    pid,
    readyMs,
    startupMs,
    stop,
    approveDevice: (requestId: string) => approveDevice(url, token, requestId),
    listPendingPairings: () => listPendingPairings(url, token),
    logs
  }
}

/**
 * Starts a real gateway and resolves once it accepts connects (typically 10-20 s on 2 cores).
 * Rejects with the last gateway output if the process dies or is not ready in time.
 */
export async function startRealGateway(options: RealGatewayOptions): Promise<RealGateway> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort())
    try {
      return await startOnce(options, port)
    } catch (err) {
      // Another process grabbed the ephemeral port between probing and binding: try another.
      if (err instanceof StartupError && err.portInUse && options.port === undefined && attempt < 3) continue
      throw err
    }
  }
}
