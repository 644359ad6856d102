/**
 * Opening links in the user's browser or mail client.
 *
 * Electron security checklist #15 ("do not use shell.openExternal with untrusted content"):
 * `openExternal` hands the URL to the OS, where `file:`, `smb:` or an app's custom scheme can
 * launch programs. Only `https:` and `mailto:` pass, and what is opened is the URL as the parser
 * understood it, re-serialised, never the raw text the renderer or page supplied.
 */

const EXTERNAL_PROTOCOLS = new Set(['https:', 'mailto:'])

/** Longer than any link worth opening; also the contract's limit for `shell:open-external`. */
const MAX_EXTERNAL_URL_LENGTH = 4096

/**
 * The URL to hand to `shell.openExternal`, or null when it must not be opened.
 *
 * Refused: anything unparsable, any scheme but https and mailto (`javascript:`, `file:`,
 * `http:`, custom schemes) and URLs carrying a user name or password (`https://bank@evil/`
 * reads as a trusted host to people).
 */
export function externalUrlToOpen(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_EXTERNAL_URL_LENGTH) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (!EXTERNAL_PROTOCOLS.has(url.protocol)) return null
  if (url.username !== '' || url.password !== '') return null
  if (url.protocol === 'https:' && url.hostname === '') return null
  return url.toString()
}

/** The part of Electron's `shell` used here. */
export interface ShellLike {
  openExternal(url: string): Promise<void>
}

/**
 * Open `raw` externally if it is allowed; true when it was handed to the OS.
 *
 * Never throws: a refused URL or an OS failure is `false`, so window-open and navigation
 * guards can call it fire-and-forget.
 */
export async function openExternalSafely(shell: ShellLike, raw: unknown): Promise<boolean> {
  const url = externalUrlToOpen(raw)
  if (url === null) return false
  try {
    await shell.openExternal(url)
    return true
  } catch {
    return false
  }
}

/**
 * The `openExternal` the services get for `shell:open-external`: same rules, but a refusal or
 * failure rejects, so the handler can answer `{ opened: false }` or an error value.
 */
export function createServicesOpenExternal(shell: ShellLike): (url: string) => Promise<void> {
  return async (raw) => {
    const url = externalUrlToOpen(raw)
    if (url === null) throw new Error('Only https and mailto links are opened outside Aether Remote.')
    await shell.openExternal(url)
  }
}
