/**
 * The desktop app without Electron: the built renderer in real Chromium, wired to the REAL
 * main-process handlers (createAppServices) running in the test process.
 *
 * - builds the renderer (`electron-vite build`) unless out/renderer is newer than every source
 *   it comes from, and serves out/renderer on 127.0.0.1:<random> (Chromium blocks the module
 *   script of a file:// page);
 * - launches Debian Chromium through playwright-core with a throw-away profile;
 * - injects the test bridge before any page script: `window.api` is built by the app's own
 *   `buildApi` (src/shared/ipc-contract.ts), over a transport whose `invoke` calls an exposed
 *   function that runs `services.handlers[channel](args)` here and returns the Result as JSON,
 *   and whose `subscribe` listens for events this process pushes through the EventSink;
 * - records every payload that reaches the renderer (invoke results and pushed events) and
 *   every openExternal call (nothing is ever opened).
 *
 * Chromium itself never dials a gateway: the handlers do, in this process (so the test calls
 * installTestHosts() here). Its resolver maps every name to nothing, and every request the page
 * makes outside the loopback server is recorded in `foreignRequests`.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { buildSync } from 'esbuild'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { APP_VERSION } from '../../src/shared/app-info'
import type { EventChannel, InvokeChannel } from '../../src/shared/ipc-contract'
import { createAppServices, type AppServices, type AppServicesOptions } from '../../src/main/app-services'
import { MemorySecretStore } from '../../src/main/secrets/memory-secret-store'
import type { SecretStore } from '../../src/main/secrets/secret-store'
import { CHROMIUM_PATH, chromiumArgs } from './chromium'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const RENDERER_OUT = join(REPO_ROOT, 'out', 'renderer')
const BRIDGE_ENTRY = fileURLToPath(new URL('./bridge-entry.ts', import.meta.url))
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'screenshots')

export const CHROMIUM_ARGS = [
  '--headless',
  // The page may only talk to the loopback server; any other name resolves to nothing.
  ...chromiumArgs('MAP * ~NOTFOUND, EXCLUDE 127.0.0.1')
]

/** One payload that crossed to the renderer. */
export interface RecordedPayload {
  kind: 'invoke-result' | 'event'
  channel: InvokeChannel | EventChannel | string
  /** Exactly the JSON text the page received. */
  json: string
  at: number
}

export interface RendererHarnessOptions {
  /** Defaults to a fresh MemorySecretStore. */
  secrets?: SecretStore
  /** Defaults to a fresh mkdtemp directory (removed on close). */
  configDir?: string
  /** The name that fresh directory starts with (its test file's, say). */
  configDirPrefix?: string
  /** Overrides for createAppServices (clientInfo, defaultProfile...). */
  services?: Partial<Omit<AppServicesOptions, 'configDir' | 'secrets' | 'openExternal'>>
  viewport?: { width: number; height: number }
  /** Called with every URL the app asks to open in the system browser (after it is recorded), e.g. to play the browser. */
  onOpenExternal?: (url: string) => void
}

export interface RendererHarness {
  page: Page
  context: BrowserContext
  services: AppServices
  secrets: SecretStore
  configDir: string
  /** http://127.0.0.1:<port>/index.html */
  appUrl: string
  /** Every payload sent to the renderer, in order. */
  recorded: RecordedPayload[]
  /** Every URL the app asked to open in the system browser (never opened). */
  opened: string[]
  /** Console errors/warnings and uncaught page errors (for diagnosis; not asserted by the harness). */
  consoleMessages: string[]
  pageErrors: string[]
  /** Requests the page made anywhere but the loopback server. */
  foreignRequests: string[]
  /** Resolves once every event pushed so far has been delivered (or dropped by a navigation); rejects if one failed otherwise. */
  eventsDelivered(): Promise<void>
  /** Events pushed while the page was navigating, which no page received. */
  readonly droppedEvents: number
  /** Saves test-output/screenshots/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>
  close(): Promise<void>
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8'
}

/** Newest modification time under `path` (files and directories, so a deletion counts too). */
function newestMtime(path: string): number {
  let st
  try {
    st = statSync(path)
  } catch {
    return 0
  }
  let newest = st.mtimeMs
  if (st.isDirectory()) {
    for (const entry of readdirSync(path)) {
      if (entry === 'node_modules') continue
      newest = Math.max(newest, newestMtime(join(path, entry)))
    }
  }
  return newest
}

/** Every input of the renderer bundle. */
const RENDERER_INPUTS = ['src/renderer', 'src/shared', 'src/preload', 'electron.vite.config.ts', 'package.json', 'package-lock.json', 'tsconfig.web.json']

function rendererIsFresh(): boolean {
  const built = (() => {
    try {
      return statSync(join(RENDERER_OUT, 'index.html')).mtimeMs
    } catch {
      return 0
    }
  })()
  if (built === 0) return false
  const newestInput = Math.max(...RENDERER_INPUTS.map((p) => newestMtime(join(REPO_ROOT, p))))
  return built > newestInput
}

let buildOnce: Promise<void> | undefined

/**
 * `npx electron-vite build` once per test process, skipped when out/renderer is newer than
 * every renderer input. Set E2E_REBUILD=1 to always build.
 */
export function ensureRendererBuilt(): Promise<void> {
  buildOnce ??= (async () => {
    if (process.env.E2E_REBUILD !== '1' && rendererIsFresh()) return
    const t0 = Date.now()
    try {
      await promisify(execFile)('npx', ['electron-vite', 'build'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
        timeout: 180_000,
        maxBuffer: 16 * 1024 * 1024
      })
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string }
      buildOnce = undefined
      throw new Error(`electron-vite build failed: ${err.message}\n${(err.stderr ?? '').slice(-4000)}\n${(err.stdout ?? '').slice(-2000)}`)
    }
    process.stderr.write(`[e2e] renderer built in ${Date.now() - t0} ms\n`)
  })()
  return buildOnce
}

/** Serves `root` on 127.0.0.1:<random>; anything outside it or missing is a 404. */
export async function serveStatic(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  const base = resolve(root)
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname)
        const file = resolve(base, `.${pathname === '/' ? '/index.html' : pathname}`)
        if (!file.startsWith(base + sep)) throw new Error('outside the root')
        const body = await readFile(file)
        res.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
          'content-length': body.length,
          'cache-control': 'no-store'
        })
        res.end(req.method === 'HEAD' ? undefined : body)
      } catch {
        if (!res.headersSent) res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        res.end('not found')
      }
    })()
  })
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolveListen())
  })
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections()
        server.close(() => resolveClose())
      })
  }
}

let bridgeScript: string | undefined

/** The page side of the bridge, bundled once (IIFE, so it runs as a classic init script). */
export function bridgeBundle(): string {
  if (bridgeScript) return bridgeScript
  const out = buildSync({
    entryPoints: [BRIDGE_ENTRY],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent'
  })
  const file = out.outputFiles[0]
  if (!file) throw new Error('esbuild produced no bridge bundle')
  bridgeScript = file.text
  return bridgeScript
}

export function defaultClientInfo(): AppServicesOptions['clientInfo'] {
  return { version: APP_VERSION, platform: process.platform, deviceFamily: 'desktop', displayName: 'Aether Remote (e2e)' }
}

/** Start the app: services in this process, the renderer in Chromium, the bridge between them. */
export async function startRenderer(options: RendererHarnessOptions = {}): Promise<RendererHarness> {
  await ensureRendererBuilt()
  const secrets = options.secrets ?? new MemorySecretStore()
  const ownConfigDir = options.configDir === undefined
  const configDir = options.configDir ?? mkdtempSync(join(tmpdir(), options.configDirPrefix ?? 'aether-e2e-config-'))
  const recorded: RecordedPayload[] = []
  const opened: string[] = []
  const consoleMessages: string[] = []
  const pageErrors: string[] = []
  const foreignRequests: string[] = []
  const emitErrors: string[] = []
  const droppedEvents = { count: 0 }

  const services = createAppServices({
    configDir,
    secrets,
    secretStorage: { kind: 'memory', warning: 'this end-to-end test has no keychain' },
    openExternal: async (url) => {
      opened.push(url)
      options.onOpenExternal?.(url)
    },
    clientInfo: defaultClientInfo(),
    userAgent: `AetherRemote/${APP_VERSION} (${process.platform}; desktop)`,
    defaultProfile: null,
    ...options.services
  })

  const server = await serveStatic(RENDERER_OUT)
  const userDataDir = mkdtempSync(join(tmpdir(), 'aether-e2e-chromium-'))
  let context: BrowserContext | undefined
  let closed = false
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1100, height: 760 }
    })

    // Request side: the renderer calls window.api.* → buildApi → transport.invoke → here.
    await context.exposeFunction('__aetherInvoke', async (channel: string, argsJson: string): Promise<string> => {
      const handler = (services.handlers as Record<string, ((args: unknown[]) => Promise<unknown>) | undefined>)[channel]
      // ipcRenderer.invoke on a channel without a handler rejects; so does this.
      if (!handler) throw new Error(`No handler registered for '${channel}'`)
      const args = JSON.parse(argsJson) as unknown
      const result = await handler(Array.isArray(args) ? args : [])
      const json = JSON.stringify(result)
      recorded.push({ kind: 'invoke-result', channel, json, at: Date.now() })
      return json
    })
    await context.addInitScript({ content: bridgeBundle() })

    const page = context.pages()[0] ?? (await context.newPage())

    // Event side: the main process's EventSink → page.evaluate → the page's listeners, in order.
    let emitChain: Promise<void> = Promise.resolve()
    services.setEventSink((channel, payload) => {
      const json = JSON.stringify(payload)
      recorded.push({ kind: 'event', channel, json, at: Date.now() })
      const expression = `globalThis.__aetherEmit(${JSON.stringify(channel)}, ${JSON.stringify(json)})`
      emitChain = emitChain
        .then(() => page.evaluate(expression))
        .then(
          () => undefined,
          (e: unknown) => {
            if (closed) return
            // Pushed while the page navigates (a reload): Electron drops these too.
            if (/Execution context was destroyed|navigat/i.test(String(e))) droppedEvents.count++
            else emitErrors.push(String(e))
          }
        )
    })

    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') consoleMessages.push(`${msg.type()}: ${msg.text()}`)
    })
    page.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message))
    context.on('request', (req) => {
      if (!req.url().startsWith(`${server.origin}/`)) foreignRequests.push(req.url())
    })

    const appUrl = `${server.origin}/index.html`
    await page.goto(appUrl, { waitUntil: 'load' })

    const ctx = context
    return {
      page,
      context: ctx,
      services,
      secrets,
      configDir,
      appUrl,
      recorded,
      opened,
      consoleMessages,
      pageErrors,
      foreignRequests,
      get droppedEvents() {
        return droppedEvents.count
      },
      eventsDelivered: async () => {
        await emitChain
        if (emitErrors.length > 0) throw new Error(`events not delivered: ${emitErrors.join('; ')}`)
      },
      async screenshot(name) {
        mkdirSync(SCREENSHOT_DIR, { recursive: true })
        const path = join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9._-]+/gi, '-')}.png`)
        await page.screenshot({ path, fullPage: true })
        return path
      },
      async close() {
        if (closed) return
        closed = true
        await services.dispose().catch(() => undefined)
        await ctx.close().catch(() => undefined)
        await server.close()
        await rm(userDataDir, { recursive: true, force: true })
        if (ownConfigDir) await rm(configDir, { recursive: true, force: true })
      }
    }
  } catch (e) {
    closed = true
    await services.dispose().catch(() => undefined)
    await context?.close().catch(() => undefined)
    await server.close()
    await rm(userDataDir, { recursive: true, force: true })
    throw e
  }
}
