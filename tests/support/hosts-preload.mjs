// Preload for Node child processes under test: `node --import=<file URL of this file>` (or in NODE_OPTIONS,
// see nodeOptionsWithTestHosts in hosts.ts). Maps the test host names to 127.0.0.1 exactly as
// installTestHosts() in hosts.ts does; it is plain JavaScript because a preload runs before any TS loader.
// AETHER_TEST_HOST_SUFFIXES (comma-separated) replaces the default suffix list.
import dns from 'node:dns'
import { syncBuiltinESMExports } from 'node:module'

const DEFAULT_SUFFIXES = ['.aether.test', '.cloudflareaccess.com']
const STATE_KEY = Symbol.for('aether-remote.test-hosts')

function configuredSuffixes() {
  const fromEnv = process.env.AETHER_TEST_HOST_SUFFIXES
  if (!fromEnv) return DEFAULT_SUFFIXES
  return fromEnv
    .split(',')
    .map((suffix) => suffix.trim())
    .filter((suffix) => suffix !== '')
}

function isTestHost(hostname, suffixes) {
  const name = String(hostname).toLowerCase().replace(/\.$/, '')
  for (const suffix of suffixes) {
    const normalized = suffix.toLowerCase()
    if (name.endsWith(normalized) || name === normalized.replace(/^\./, '')) return true
  }
  return false
}

function loopbackFor(family) {
  return family === 6 || family === 'IPv6' ? { address: '::ffff:127.0.0.1', family: 6 } : { address: '127.0.0.1', family: 4 }
}

// Kept on the dns module so installTestHosts() in hosts.ts sees it and does not wrap lookup again.
if (!dns[STATE_KEY]) {
  const state = {
    suffixes: new Set(configuredSuffixes()),
    originalLookup: dns.lookup,
    originalPromisesLookup: dns.promises.lookup
  }
  dns[STATE_KEY] = state

  dns.lookup = function lookup(hostname, optionsOrCallback, maybeCallback) {
    const callback = typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback
    const options =
      typeof optionsOrCallback === 'number' ? { family: optionsOrCallback } : typeof optionsOrCallback === 'object' && optionsOrCallback !== null ? optionsOrCallback : {}
    if (!isTestHost(hostname, state.suffixes)) return state.originalLookup.call(dns, hostname, options, callback)
    const answer = loopbackFor(options.family)
    process.nextTick(() => (options.all ? callback(null, [answer]) : callback(null, answer.address, answer.family)))
  }

  dns.promises.lookup = async function lookup(hostname, options = {}) {
    const normalized = typeof options === 'number' ? { family: options } : options
    if (!isTestHost(hostname, state.suffixes)) return state.originalPromisesLookup.call(dns.promises, hostname, normalized)
    const answer = loopbackFor(normalized.family)
    return normalized.all ? [answer] : answer
  }

  syncBuiltinESMExports()
}
