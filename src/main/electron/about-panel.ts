/**
 * The About panel: Electron's own on macOS and Linux, a message box on Windows (where
 * Electron has no about panel of its own).
 */
import type { App, BrowserWindow, Dialog } from 'electron'
import { aboutInfo, aboutPanelOptions, aboutText, type RuntimeVersions } from '../desktop/about-panel'

/** Set the panel's content now; returns what the menu's About item calls. */
export function installAboutPanel(
  app: Pick<App, 'setAboutPanelOptions' | 'showAboutPanel' | 'getName' | 'getVersion'>,
  dialog: Pick<Dialog, 'showMessageBox'>,
  opts: { versions: RuntimeVersions; platform: NodeJS.Platform; parentWindow?: () => BrowserWindow | undefined }
): () => void {
  const info = aboutInfo({ appName: app.getName(), appVersion: app.getVersion(), versions: opts.versions })
  app.setAboutPanelOptions(aboutPanelOptions(info))
  if (opts.platform !== 'win32') return () => app.showAboutPanel()
  return () => {
    const box = { type: 'info' as const, title: `About ${info.appName}`, message: `${info.appName} ${info.appVersion}`, detail: aboutText(info).split('\n').slice(2).join('\n'), buttons: ['OK'] }
    const parent = opts.parentWindow?.()
    void (parent ? dialog.showMessageBox(parent, box) : dialog.showMessageBox(box))
  }
}
