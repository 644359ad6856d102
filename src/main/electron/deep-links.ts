/**
 * `aether-remote://` links: the protocol registration and the three ways a link arrives —
 * `open-url` on macOS, the command line of the first launch, and `second-instance` (Windows
 * and Linux start a new process for the link, which hands its argv to the running one).
 * Parsing and the refusal of links with secrets are in src/main/desktop/deep-link.ts.
 */
import { resolve } from 'node:path'
import type { App } from 'electron'
import { DEEP_LINK_SCHEME, DeepLinkInbox, findDeepLinkInArgv } from '../desktop/deep-link'

export interface DeepLinkOptions {
  /** `process.argv` of this launch. */
  argv: readonly string[]
  /** `process.defaultApp`: true when run as `electron .` (development). */
  defaultApp: boolean
  execPath: string
  platform: NodeJS.Platform
  /** A link was accepted: show and focus the window (it is delivered once attached). */
  onAccepted(): void
  /** A link was refused (the reason names no secret value). */
  onRefused(reason: string): void
}

/**
 * Register the scheme and listen for links. Call before `app.whenReady()`: macOS sends the link
 * of a cold start as `open-url` before `ready`.
 *
 * Returns the inbox: `attach` it once the window has loaded, to deliver waiting and later links.
 */
export function installDeepLinks(app: Pick<App, 'setAsDefaultProtocolClient' | 'on'>, opts: DeepLinkOptions): DeepLinkInbox {
  const inbox = new DeepLinkInbox(opts.onRefused)
  const receive = (link: string | undefined): void => {
    if (link !== undefined && inbox.receive(link)) opts.onAccepted()
  }
  // In development Electron runs the app folder as its argument; the OS must pass it too.
  const registered =
    opts.defaultApp && opts.argv.length >= 2
      ? app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, opts.execPath, [resolve(opts.argv[1]!)])
      : app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME)
  if (!registered) console.warn(`[deep-links] could not register ${DEEP_LINK_SCHEME}:// links`)

  app.on('open-url', (event, url) => {
    event.preventDefault()
    receive(url)
  })
  app.on('second-instance', (_event, argv) => receive(findDeepLinkInArgv(argv)))
  if (opts.platform !== 'darwin') receive(findDeepLinkInArgv(opts.argv))
  return inbox
}
