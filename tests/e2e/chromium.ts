/**
 * The Chromium the end-to-end tests launch (Debian's, through playwright-core), and the flags
 * every launch of it shares: no sandbox or GPU (containers), no QUIC, and nothing fetched in
 * the background (first-run pages, component updates, sync), so the only traffic is the test's.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/** The shared flags, with the `--host-resolver-rules` of this launch (Chromium ignores Node's resolver). */
export function chromiumArgs(hostResolverRules: string): string[] {
  return [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--host-resolver-rules=${hostResolverRules}`
  ]
}
