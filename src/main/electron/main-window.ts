/**
 * The app window: sandboxed, its webContents trusted for IPC from before its first load, and
 * shown once it has painted.
 */
import { BrowserWindow } from 'electron'
import type { AppOrigin } from './app-origin'
import type { TrustedSenders } from './trusted-senders'
import { appWindowPreferences } from './web-preferences'

export function createMainWindow(opts: { preloadPath: string; appOrigin: AppOrigin; trusted: TrustedSenders }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    // Below this the session view cannot show the conversation and the composer together.
    minWidth: 900,
    minHeight: 640,
    show: false,
    title: 'Aether Remote',
    webPreferences: appWindowPreferences(opts.preloadPath)
  })
  // Trusted before the page loads, so the renderer's first request is not refused.
  opts.trusted.trust(win.webContents)
  win.once('ready-to-show', () => win.show())
  if (opts.appOrigin.kind === 'dev-server') void win.loadURL(opts.appOrigin.url)
  else void win.loadFile(opts.appOrigin.indexPath)
  return win
}

/** Bring an existing window to the front (a second launch of the app lands here). */
export function focusWindow(win: BrowserWindow): void {
  if (win.isMinimized()) win.restore()
  if (!win.isVisible()) win.show()
  win.focus()
}
