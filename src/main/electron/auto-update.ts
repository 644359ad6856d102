/**
 * Updates with electron-updater, on the terms of src/main/desktop/update-policy.ts: only with a
 * configured feed, one check at start, and a question before downloading and before installing.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserWindow, Dialog, MessageBoxOptions } from 'electron'
import type { AppUpdater } from 'electron-updater'
import { resolveUpdateFeed, UpdateFlow, type UpdateFeed, type UpdatePrompt, type UpdaterEvent } from '../desktop/update-policy'

type Updater = Pick<
  AppUpdater,
  'on' | 'checkForUpdates' | 'downloadUpdate' | 'quitAndInstall' | 'setFeedURL' | 'autoDownload' | 'autoInstallOnAppQuit' | 'allowDowngrade'
>

export interface AutoUpdateOptions {
  app: { isPackaged: boolean; getName(): string; getVersion(): string }
  dialog: Pick<Dialog, 'showMessageBox'>
  env: Record<string, string | undefined>
  /** `process.resourcesPath`: where electron-builder puts app-update.yml. */
  resourcesPath: string
  parentWindow?: () => BrowserWindow | undefined
  /** Loads electron-updater only when a feed is configured (it is not needed otherwise). */
  loadUpdater?: () => Promise<Updater>
}

/** Check for an update once, if a feed is configured. Resolves with what was decided. */
export async function startAutoUpdate(opts: AutoUpdateOptions): Promise<UpdateFeed> {
  const feed = resolveUpdateFeed({
    env: opts.env,
    isPackaged: opts.app.isPackaged,
    hasBuildFeed: existsSync(join(opts.resourcesPath, 'app-update.yml'))
  })
  if (!feed.enabled) {
    console.info(`[update] not checking for updates: ${feed.reason}`)
    return feed
  }
  const updater = await (opts.loadUpdater ?? (async () => (await import('electron-updater')).autoUpdater))()
  // Nothing happens without the person's say: no silent download, no install on quit.
  updater.autoDownload = false
  updater.autoInstallOnAppQuit = false
  updater.allowDowngrade = false
  if (feed.source === 'environment') updater.setFeedURL({ provider: 'generic', url: feed.url })

  const flow = new UpdateFlow(opts.app.getName(), opts.app.getVersion())
  const ask = async (prompt: UpdatePrompt): Promise<void> => {
    const box: MessageBoxOptions = {
      type: 'info',
      title: prompt.title,
      message: prompt.message,
      detail: prompt.detail,
      buttons: prompt.buttons,
      defaultId: 0,
      cancelId: 1,
      noLink: true
    }
    const parent = opts.parentWindow?.()
    const { response } = parent ? await opts.dialog.showMessageBox(parent, box) : await opts.dialog.showMessageBox(box)
    if (response !== 0) return
    if (prompt.step === 'download') await updater.downloadUpdate()
    else updater.quitAndInstall(false, true)
  }
  const handle = (event: UpdaterEvent): void => {
    const action = flow.next(event)
    if (action.type === 'ask') ask(action.prompt).catch((err: unknown) => console.warn('[update] the update failed', err))
    else if (action.type === 'log') console.warn(`[update] ${action.message}`)
  }
  updater.on('update-available', (info) => handle({ type: 'available', version: info.version }))
  updater.on('update-not-available', () => handle({ type: 'not-available' }))
  updater.on('update-downloaded', (info) => handle({ type: 'downloaded', version: info.version }))
  updater.on('error', (err) => handle({ type: 'error', message: err instanceof Error ? err.message : String(err) }))
  await updater.checkForUpdates().catch((err: unknown) => handle({ type: 'error', message: err instanceof Error ? err.message : String(err) }))
  return feed
}
