// Test host names (`gateway.aether.test`, `<team>.cloudflareaccess.com`) resolve to 127.0.0.1, where the
// Access emulator listens, so product code dials real names and sends the real SNI/Host.
// In this process: installTestHosts(). In a Node child process: NODE_OPTIONS from nodeOptionsWithTestHosts()
// (loads hosts-preload.mjs, which does the same patch). In Chromium/Electron: chromiumHostResolverRules().
import dns, { type LookupAddress, type LookupOptions } from 'node:dns'
import { syncBuiltinESMExports } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const TEST_HOST_SUFFIXES: readonly string[] = ['.aether.test', '.cloudflareaccess.com']

/** Absolute path of the `--import` preload doing the same mapping in child processes. */
export const HOSTS_PRELOAD_PATH = fileURLToPath(new URL('./hosts-preload.mjs', import.meta.url))

/** Kept on the dns module (shared by every context of the process) and shared with hosts-preload.mjs, so lookup is never wrapped twice. */
const STATE_KEY = Symbol.for('aether-remote.test-hosts')

interface TestHostsState {
  suffixes: Set<string>
  originalLookup: typeof dns.lookup
  originalPromisesLookup: typeof dns.promises.lookup
}

type DnsWithState = typeof dns & { [STATE_KEY]?: TestHostsState }

export function isTestHost(hostname: string, suffixes: Iterable<string> = TEST_HOST_SUFFIXES): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  for (const suffix of suffixes) {
    const normalized = suffix.toLowerCase()
    if (name.endsWith(normalized) || name === normalized.replace(/^\./, '')) return true
  }
  return false
}

function loopbackFor(family: unknown): LookupAddress {
  // The emulator listens on IPv4 loopback; an IPv6-only caller gets the v4-mapped form of the same address.
  return family === 6 || family === 'IPv6' ? { address: '::ffff:127.0.0.1', family: 6 } : { address: '127.0.0.1', family: 4 }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * Patches dns.lookup and dns.promises.lookup (what net, tls, http, https, ws and fetch use) so test host
 * names resolve to loopback; other names go to the real resolver. Returns an uninstall function.
 */
export function installTestHosts(options: { suffixes?: readonly string[] } = {}): () => void {
  const holder = dns as DnsWithState
  const existing = holder[STATE_KEY]
  if (existing) {
    for (const suffix of options.suffixes ?? TEST_HOST_SUFFIXES) existing.suffixes.add(suffix)
    return () => undefined
  }
  const state: TestHostsState = {
    suffixes: new Set(options.suffixes ?? TEST_HOST_SUFFIXES),
    originalLookup: dns.lookup,
    originalPromisesLookup: dns.promises.lookup
  }
  holder[STATE_KEY] = state

  function lookup(hostname: string, optionsOrCallback: unknown, maybeCallback?: unknown): void {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as LookupCallback
    const lookupOptions: LookupOptions =
      typeof optionsOrCallback === 'number' ? { family: optionsOrCallback } : typeof optionsOrCallback === 'object' && optionsOrCallback !== null ? (optionsOrCallback as LookupOptions) : {}
    if (!isTestHost(hostname, state.suffixes)) {
      ;(state.originalLookup as (...args: unknown[]) => void).call(dns, hostname, lookupOptions, callback)
      return
    }
    const answer = loopbackFor(lookupOptions.family)
    process.nextTick(() => (lookupOptions.all ? callback(null, [answer]) : callback(null, answer.address, answer.family)))
  }

  async function promisesLookup(hostname: string, lookupOptions: LookupOptions | number = {}): Promise<LookupAddress | LookupAddress[]> {
    const normalized: LookupOptions = typeof lookupOptions === 'number' ? { family: lookupOptions } : lookupOptions
    if (!isTestHost(hostname, state.suffixes)) {
      const original = state.originalPromisesLookup as (hostname: string, options: LookupOptions) => Promise<LookupAddress | LookupAddress[]>
      return original.call(dns.promises, hostname, normalized)
    }
    const answer = loopbackFor(normalized.family)
    return normalized.all ? [answer] : answer
  }

  dns.lookup = lookup as typeof dns.lookup
  dns.promises.lookup = promisesLookup as typeof dns.promises.lookup
  // Keeps `import { lookup } from 'node:dns'` bindings in step with the patched CommonJS export.
  syncBuiltinESMExports()

  return () => {
    if (holder[STATE_KEY] !== state) return
    dns.lookup = state.originalLookup
    dns.promises.lookup = state.originalPromisesLookup
    syncBuiltinESMExports()
    delete holder[STATE_KEY]
  }
}

/** NODE_OPTIONS for a Node child process (e.g. the CLI) so it maps the same names. */
export function nodeOptionsWithTestHosts(existing: string | undefined = process.env.NODE_OPTIONS): string {
  const flag = `--import=${pathToFileURL(HOSTS_PRELOAD_PATH).href}`
  return existing && existing.trim() !== '' ? `${existing} ${flag}` : flag
}

/** Value for Chromium's `--host-resolver-rules` (Electron: app.commandLine.appendSwitch), which ignores Node's dns. */
export function chromiumHostResolverRules(suffixes: readonly string[] = TEST_HOST_SUFFIXES): string {
  return [...suffixes.map((suffix) => `MAP *${suffix} 127.0.0.1`), 'EXCLUDE localhost'].join(', ')
}
