/**
 * Composition root of the desktop app: Electron's security switches, the keychain, the
 * services, IPC and the one window. Everything with logic lives in Electron-free modules (or in
 * the small, stand-in-tested modules next to this file); this only wires them together.
 */
import os from 'node:os'
import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, Menu, Notification, screen, session, shell, type Session } from 'electron'
import { createAppServices, type AppServices } from '../app-services'
import type { ClientInfo } from '../gateway/protocol'
import { defaultConfigDir } from '../profiles/config-dir'
import { openSystemSecretStore } from '../secrets/keytar-secret-store'
import { APP_VERSION } from '../../shared/app-info'
import type { ProfileView } from '../../shared/ipc-contract'
import { PRODUCT_WEBSITE } from '../desktop/about-panel'
import { installAboutPanel } from './about-panel'
import { installAppMenu } from './app-menu'
import { startAutoUpdate } from './auto-update'
import { withBackgroundNotifications } from './background-notifications'
import { installDeepLinks } from './deep-links'
import { rememberWindowState } from './window-state-store'
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
  // AETHER_CONFIG_DIR is the CLI's override too (config-dir.ts); honouring it keeps both on the
  // same profiles file, and keeps tests away from the real userData folder.
  const configDir = process.env.AETHER_CONFIG_DIR?.trim() ? defaultConfigDir(process.env) : app.getPath('userData')

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

  const showMainWindow = (): void => {
    if (mainWindow && !mainWindow.isDestroyed()) {
      focusWindow(mainWindow)
      return
    }
    const win = createMainWindow({ preloadPath: join(__dirname, '../preload/index.js'), appOrigin, trusted })
    mainWindow = win
    // Placed before it is first shown (it opens hidden until ready-to-show), so it never jumps.
    rememberWindowState(win, screen, { configDir })
    // Links wait in the inbox until the page can take them.
    win.webContents.once('did-finish-load', () => links.attach((request) => eventSink('app:open-gateway', request)))
    win.on('closed', () => links.detach())
  }

  // aether-remote:// links: registered before `ready`, since macOS sends a cold start's link as
  // `open-url` before it. A link only opens a prefilled, unsaved gateway; it never connects.
  const links = installDeepLinks(app, {
    argv: process.argv,
    defaultApp: Boolean(process.defaultApp),
    execPath: process.execPath,
    platform: process.platform,
    onAccepted: () => {
      if (app.isReady()) showMainWindow()
    },
    onRefused: (reason) => {
      void dialog.showMessageBox({ type: 'warning', message: 'This link was not opened', detail: reason })
    }
  })

  const windowSink = createEventSink(() => BrowserWindow.getAllWindows(), { trusted, isAppUrl: isOwnPage })
  const services = startServices(configDir, loginWindows)
  // Events go to the window; a dropped connection or a finished reply also notifies while the
  // window is in the background.
  const eventSink = withBackgroundNotifications(windowSink, {
    Notification,
    isWindowFocused: () => BrowserWindow.getFocusedWindow() !== null,
    listProfiles: async () => {
      const listed = await (await services).handlers['profiles:list']([])
      return listed.ok ? (listed.value as ProfileView[]) : []
    },
    onClick: () => showMainWindow()
  })
  services.then((s) => s.setEventSink(eventSink)).catch((err: unknown) => console.error('[app] the services did not start', err))
  registerIpc(
    ipcMain,
    deferHandlers(services.then((s) => s.handlers)),
    createSenderCheck(trusted, isOwnPage)
  )

  app.on('second-instance', () => {
    if (app.isReady()) showMainWindow()
  })
  void app.whenReady().then(() => {
    denyAllPermissions(session.defaultSession)
    const showAbout = installAboutPanel(app, dialog, { versions: process.versions, platform: process.platform, parentWindow: () => mainWindow })
    installAppMenu(Menu, {
      platform: process.platform,
      appName: app.getName(),
      isDev: !app.isPackaged,
      actions: { showAbout, openDocs: () => void openExternalSafely(shell, PRODUCT_WEBSITE) }
    })
    showMainWindow()
    // Off unless a release feed is configured; it asks before downloading and before installing.
    void startAutoUpdate({ app, dialog, env: process.env, resourcesPath: process.resourcesPath, parentWindow: () => mainWindow }).catch((err: unknown) =>
      console.warn('[update] the update check failed', err)
    )
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
async function startServices(configDir: string, accessLoginWindows: AccessLoginWindows): Promise<AppServices> {
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
    configDir,
    secrets: opened.store,
    secretStorage,
    openExternal: createServicesOpenExternal(shell),
    clientInfo,
    userAgent: `AetherRemote/${APP_VERSION} (${process.platform}; desktop)`,
    accessLoginWindows,
    ...transferServiceOverride(process.env)
  })
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
