/**
 * Composition root of the desktop app: Electron's security switches, the keychain, the
 * services, IPC and the one window. Everything with logic lives in Electron-free modules (or in
 * the small, stand-in-tested modules next to this file); this only wires them together.
 */
import os from 'node:os'
import { join } from 'node:path'
import { app, BrowserWindow, ipcMain, session, shell, type Session } from 'electron'
import { createAppServices, type AppServices } from '../app-services'
import type { ClientInfo } from '../gateway/protocol'
import { defaultConfigDir } from '../profiles/config-dir'
import { openSystemSecretStore } from '../secrets/keytar-secret-store'
import { APP_VERSION } from '../../shared/app-info'
import { browserUserAgent, createAccessLoginWindows, type AccessLoginWindows } from './access-login-window'
import { isAppUrl, resolveAppOrigin } from './app-origin'
import { createServicesOpenExternal, openExternalSafely } from './external-links'
import { createEventSink, deferHandlers, registerIpc } from './ipc-main'
import { createMainWindow, focusWindow } from './main-window'
import { denyAllPermissions } from './permissions'
import { createSenderCheck, TrustedSenders } from './trusted-senders'
import { guardWebContents } from './web-contents-guards'

/** How long quitting waits for the services to close their sockets. */
const DISPOSE_TIMEOUT_MS = 5_000

export function startDesktopApp(): void {
  // Security checklist #4: sandbox every renderer, including any Electron creates on its own;
  // a per-window `sandbox: true` alone leaves such children unsandboxed.
  app.enableSandbox()
  // A second copy would open the same profiles file and keychain items; it hands over instead.
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }

  const appOrigin = resolveAppOrigin({
    isPackaged: app.isPackaged,
    devServerUrl: process.env.ELECTRON_RENDERER_URL,
    rendererIndexPath: join(__dirname, '../renderer/index.html')
  })
  const isOwnPage = (url: string): boolean => isAppUrl(appOrigin, url)
  const trusted = new TrustedSenders()
  let mainWindow: BrowserWindow | undefined

  // The Access login windows browse the team domain and identity providers, so the app-page
  // guard below would stop them at once; they get their own guards (https only, no popups, no
  // webview) from the adapter. They are told apart by their partition's session, which the
  // adapter asks for before it creates the window.
  const loginSessions = new WeakSet<Session>()
  const loginWindows = createAccessLoginWindows({
    createWindow: (options) => new BrowserWindow(mainWindow && !mainWindow.isDestroyed() ? { ...options, parent: mainWindow } : options),
    sessionForPartition: (partition) => {
      const loginSession = session.fromPartition(partition)
      loginSessions.add(loginSession)
      return loginSession
    },
    userAgent: browserUserAgent(process.versions.chrome, process.platform)
  })

  // Checklist #12-#15, on every webContents whatever created it.
  app.on('web-contents-created', (_event, contents) => {
    if (loginSessions.has(contents.session)) return
    guardWebContents(contents, { isAppUrl: isOwnPage, openExternal: (url) => openExternalSafely(shell, url) })
  })
  // Checklist #5 on every session, including partitions made later (the Access login window).
  app.on('session-created', denyAllPermissions)

  const services = startServices(() => BrowserWindow.getAllWindows(), { trusted, isAppUrl: isOwnPage }, loginWindows)
  services.catch((err: unknown) => console.error('[app] the services did not start', err))
  registerIpc(
    ipcMain,
    deferHandlers(services.then((s) => s.handlers)),
    createSenderCheck(trusted, isOwnPage)
  )

  const showMainWindow = (): void => {
    if (mainWindow && !mainWindow.isDestroyed()) focusWindow(mainWindow)
    else mainWindow = createMainWindow({ preloadPath: join(__dirname, '../preload/index.js'), appOrigin, trusted })
  }

  app.on('second-instance', () => {
    if (app.isReady()) showMainWindow()
  })
  void app.whenReady().then(() => {
    denyAllPermissions(session.defaultSession)
    showMainWindow()
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) showMainWindow()
    })
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  disposeOnQuit(services)
}

/**
 * Open the keychain (memory, with a warning, when there is none) and start the services.
 *
 * Not awaited by the caller: the window opens at once, and its requests wait for this.
 */
async function startServices(
  getWindows: Parameters<typeof createEventSink>[0],
  trust: Parameters<typeof createEventSink>[1],
  accessLoginWindows: AccessLoginWindows
): Promise<AppServices> {
  const opened = await openSystemSecretStore()
  const secretStorage: { kind: 'keychain' | 'memory'; warning?: string } =
    opened.kind === 'keychain'
      ? { kind: 'keychain' }
      : { kind: 'memory', warning: `${opened.warning.title}: ${opened.warning.message}` }
  const clientInfo: ClientInfo = {
    version: APP_VERSION,
    platform: process.platform,
    deviceFamily: 'desktop',
    displayName: `Aether Remote (${os.hostname()})`
  }
  const services = createAppServices({
    // AETHER_CONFIG_DIR is the CLI's override too (config-dir.ts); honouring it keeps both on
    // the same profiles file, and keeps tests away from the real userData folder.
    configDir: process.env.AETHER_CONFIG_DIR?.trim() ? defaultConfigDir(process.env) : app.getPath('userData'),
    secrets: opened.store,
    secretStorage,
    openExternal: createServicesOpenExternal(shell),
    clientInfo,
    userAgent: `AetherRemote/${APP_VERSION} (${process.platform}; desktop)`,
    accessLoginWindows,
    ...transferServiceOverride(process.env)
  })
  services.setEventSink(createEventSink(getWindows, trust))
  return services
}

/** Close every gateway socket before the process exits, waiting at most DISPOSE_TIMEOUT_MS. */
function disposeOnQuit(services: Promise<AppServices>): void {
  let state: 'running' | 'disposing' | 'disposed' = 'running'
  app.on('will-quit', (event) => {
    if (state === 'disposed') return
    event.preventDefault()
    if (state === 'disposing') return
    state = 'disposing'
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DISPOSE_TIMEOUT_MS)
    })
    void Promise.race([services.then((s) => s.dispose()), timeout])
      .catch((err: unknown) => console.error('[app] closing the services failed', err))
      .finally(() => {
        clearTimeout(timer)
        state = 'disposed'
        app.quit()
      })
  })
}

/**
 * AETHER_CF_TRANSFER_URL replaces the browser sign-in's token transfer service, as in the CLI
 * (self-hosted setups, tests). Only a plain https:// address is taken; anything else is ignored
 * with a warning, and the team domain's service is used.
 */
function transferServiceOverride(env: NodeJS.ProcessEnv): { transferBaseUrl?: string } {
  const raw = env.AETHER_CF_TRANSFER_URL?.trim()
  if (!raw) return {}
  try {
    const url = new URL(raw)
    if (url.protocol === 'https:' && !url.username && !url.password) return { transferBaseUrl: url.toString() }
  } catch {
    // reported below
  }
  console.warn('[app] AETHER_CF_TRANSFER_URL is not a plain https:// address; using the team domain\'s transfer service')
  return {}
}
