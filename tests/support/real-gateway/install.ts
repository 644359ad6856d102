// Locates (and on first use installs) the pinned OpenClaw gateway used by the integration tests.
// The install itself is scripts/install-test-gateway.sh; this module only computes the same cache
// paths, checks the completion markers the script writes, and runs the script when they are missing.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const OPENCLAW_VERSION = '2026.9.6'
export const OPENCLAW_NODE_VERSION = '24.22.3'

export interface GatewayInstall {
  cacheDir: string
  /** The Node 24 binary that runs the gateway. */
  nodeBin: string
  /** node_modules/openclaw/openclaw.mjs */
  openclawEntry: string
  version: string
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const INSTALL_SCRIPT = path.join(REPO_ROOT, 'scripts', 'install-test-gateway.sh')

function nodePackageName(): string {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64'
  const platform = process.platform === 'darwin' ? 'darwin' : 'linux'
  return `node-${platform}-${arch}`
}

/** The cache paths install-test-gateway.sh uses (whether or not anything is installed yet). */
export function gatewayCachePaths(): GatewayInstall {
  const root = process.env.AETHER_TEST_CACHE || path.join(os.homedir(), '.cache', 'aether-remote-test')
  const cacheDir = path.join(root, `openclaw-${OPENCLAW_VERSION}`)
  return {
    cacheDir,
    nodeBin: path.join(cacheDir, 'node', 'node_modules', nodePackageName(), 'bin', 'node'),
    openclawEntry: path.join(cacheDir, 'pkg', 'node_modules', 'openclaw', 'openclaw.mjs'),
    version: OPENCLAW_VERSION
  }
}

function isInstalled(p: GatewayInstall): boolean {
  try {
    fs.accessSync(p.nodeBin, fs.constants.X_OK)
    fs.accessSync(p.openclawEntry, fs.constants.R_OK)
    fs.accessSync(path.join(p.cacheDir, 'node', '.aether-installed'))
    const marker = fs.readFileSync(path.join(p.cacheDir, 'pkg', '.aether-installed'), 'utf8').trim()
    return marker === `openclaw@${OPENCLAW_VERSION}`
  } catch {
    return false
  }
}

function runInstallScript(timeoutMs: number): Promise<GatewayInstall> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [INSTALL_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      process.stderr.write(d)
    })
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`cannot run ${INSTALL_SCRIPT}: ${err.message}`))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) {
        reject(
          new Error(
            `${INSTALL_SCRIPT} failed (exit ${code ?? signal}). The integration tests need Node ${OPENCLAW_NODE_VERSION} and ` +
              `openclaw@${OPENCLAW_VERSION} from the npm registry.\n${stderr.split('\n').slice(-30).join('\n')}`
          )
        )
        return
      }
      const vars = new Map<string, string>()
      for (const line of stdout.split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line.trim())
        if (m?.[1] && m[2] !== undefined) vars.set(m[1], m[2])
      }
      const nodeBin = vars.get('OPENCLAW_NODE')
      const openclawEntry = vars.get('OPENCLAW_ENTRY')
      const cacheDir = vars.get('OPENCLAW_CACHE_DIR')
      if (!nodeBin || !openclawEntry || !cacheDir) {
        reject(new Error(`${INSTALL_SCRIPT} printed no paths:\n${stdout}`))
        return
      }
      resolve({ cacheDir, nodeBin, openclawEntry, version: OPENCLAW_VERSION })
    })
  })
}

let installing: Promise<GatewayInstall> | null = null

/**
 * Returns the installed gateway, running scripts/install-test-gateway.sh once per process when the
 * cache is incomplete (~35 s and ~850 MB on a cold machine). AETHER_OPENCLAW_NODE and
 * AETHER_OPENCLAW_ENTRY, when both set, point at an existing install instead.
 */
export function ensureGatewayInstalled(options: { timeoutMs?: number } = {}): Promise<GatewayInstall> {
  const nodeOverride = process.env.AETHER_OPENCLAW_NODE
  const entryOverride = process.env.AETHER_OPENCLAW_ENTRY
  if (nodeOverride && entryOverride) {
    return Promise.resolve({ cacheDir: path.dirname(entryOverride), nodeBin: nodeOverride, openclawEntry: entryOverride, version: 'custom' })
  }
  installing ??= (async () => {
    const paths = gatewayCachePaths()
    if (isInstalled(paths)) return paths
    return runInstallScript(options.timeoutMs ?? 10 * 60_000)
  })()
  installing.catch(() => {
    installing = null
  })
  return installing
}
