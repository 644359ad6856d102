/**
 * Where the app's own renderer is served from, and whether a URL belongs to it.
 *
 * Both the IPC sender check (Electron security checklist #17, "validate the sender of all IPC
 * messages") and the navigation guards (#13, "disable or limit navigation") ask the same
 * question, so it is answered in one place, with the URL parser and never with `startsWith`
 * (the checklist's own `example.com.attacker.com` example).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The renderer's location: the built `index.html` on disk (production, and `electron-vite
 * preview`), or the electron-vite dev server (development only).
 */
export type AppOrigin =
  | { kind: 'file'; indexPath: string }
  | { kind: 'dev-server'; url: string; origin: string }

/**
 * Pick the renderer location.
 *
 * The dev server is honoured only in an unpackaged app and only for an http(s) URL: a packaged
 * build must never be pointed at another origin through an environment variable.
 */
export function resolveAppOrigin(opts: {
  isPackaged: boolean
  devServerUrl: string | undefined
  rendererIndexPath: string
}): AppOrigin {
  if (!opts.isPackaged && opts.devServerUrl) {
    try {
      const url = new URL(opts.devServerUrl)
      if (url.protocol === 'http:' || url.protocol === 'https:') {
        return { kind: 'dev-server', url: url.toString(), origin: url.origin }
      }
    } catch {
      // Not a URL: fall through to the built renderer.
    }
  }
  return { kind: 'file', indexPath: path.resolve(opts.rendererIndexPath) }
}

/**
 * True when `url` is the app's own renderer document.
 *
 * - file: exactly the renderer's `index.html` (query and hash ignored). A `file://` URL's
 *   origin is the opaque "null", shared by every file on disk, so the path is compared instead;
 *   any other local file, and any `file://host/...` (UNC share) URL, is foreign.
 * - dev server: the same scheme, host and port as the dev server.
 */
export function isAppUrl(appOrigin: AppOrigin, url: string): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (appOrigin.kind === 'dev-server') return parsed.origin === appOrigin.origin
  if (parsed.protocol !== 'file:' || parsed.host !== '') return false
  let filePath: string
  try {
    // Decodes percent-escapes and refuses encoded separators, so `%2e%2e%2f` tricks cannot
    // make a path look like index.html.
    filePath = path.resolve(fileURLToPath(parsed))
  } catch {
    return false
  }
  return samePath(filePath, appOrigin.indexPath)
}

function samePath(a: string, b: string): boolean {
  // Windows and macOS default file systems are case-insensitive; Windows paths are compared
  // that way, macOS (and Linux) byte for byte, which only ever refuses, never admits, a path.
  return process.platform === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b
}
