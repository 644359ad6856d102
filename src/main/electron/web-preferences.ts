/**
 * The only place webPreferences are made. The app window runs sandboxed with context
 * isolation and no Node; its only door to the main process is the preload's `window.api`.
 */
import type { WebPreferences } from 'electron'

export function appWindowPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    webviewTag: false,
    spellcheck: false
  }
}
