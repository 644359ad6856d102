/**
 * The thin Electron glue for the desktop polish, against small stand-ins of the Electron
 * objects it is handed (it imports no Electron values, only types).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { installAppMenu } from '../../../src/main/electron/app-menu'
import { startAutoUpdate } from '../../../src/main/electron/auto-update'
import { withBackgroundNotifications, type NotificationClass } from '../../../src/main/electron/background-notifications'
import { installDeepLinks } from '../../../src/main/electron/deep-links'
import { rememberWindowState } from '../../../src/main/electron/window-state-store'
import type { ConnectionSnapshot } from '../../../src/shared/connection-state'
import { appError } from '../../../src/shared/errors'
import { Emitter } from '../electron/stand-ins'
import { useTempDirs } from './temp-dir'

const LINK = 'aether-remote://connect?url=wss%3A%2F%2Fg.example.com&name=G'
const flush = () => new Promise((r) => setTimeout(r, 0))

describe('deep links glue', () => {
  function fakeApp() {
    const app = new Emitter() as Emitter & { setAsDefaultProtocolClient: ReturnType<typeof vi.fn> }
    app.setAsDefaultProtocolClient = vi.fn(() => true)
    return app
  }
  const base = { defaultApp: false, execPath: '/opt/x', onAccepted: vi.fn(), onRefused: vi.fn() }

  it('registers the scheme, takes a link from the first launch\u2019s argv on Linux and Windows, and delivers it once attached', () => {
    const app = fakeApp()
    const onAccepted = vi.fn()
    const inbox = installDeepLinks(app as never, { ...base, onAccepted, argv: ['/opt/x', LINK], platform: 'linux' })
    expect(app.setAsDefaultProtocolClient).toHaveBeenCalledWith('aether-remote')
    expect(onAccepted).toHaveBeenCalledOnce()
    const deliver = vi.fn()
    inbox.attach(deliver)
    expect(deliver).toHaveBeenCalledWith({ url: 'wss://g.example.com/', name: 'G' })
  })

  it('in development passes the app folder to the registration', () => {
    const app = fakeApp()
    installDeepLinks(app as never, { ...base, defaultApp: true, argv: ['/usr/bin/electron', '.'], platform: 'linux' })
    expect(app.setAsDefaultProtocolClient).toHaveBeenCalledWith('aether-remote', '/opt/x', [expect.stringMatching(/^\//)])
  })

  it('handles open-url (macOS) and second-instance argv, refusing links with secrets', () => {
    const app = fakeApp()
    const onRefused = vi.fn()
    const inbox = installDeepLinks(app as never, { ...base, onRefused, argv: ['/Applications/x'], platform: 'darwin' })
    const deliver = vi.fn()
    inbox.attach(deliver)
    const event = { preventDefault: vi.fn() }
    app.emit('open-url', event, LINK)
    expect(event.preventDefault).toHaveBeenCalled()
    app.emit('second-instance', {}, ['/opt/x', '--flag', `${LINK}&token=abc`])
    app.emit('second-instance', {}, ['/opt/x'])
    expect(deliver).toHaveBeenCalledTimes(1)
    expect(onRefused).toHaveBeenCalledTimes(1)
  })
})

describe('app menu glue', () => {
  it('builds the template and sets it as the application menu', () => {
    const built = { menu: true }
    const Menu = { buildFromTemplate: vi.fn((_template: unknown) => built), setApplicationMenu: vi.fn() }
    installAppMenu(Menu as never, { platform: 'linux', appName: 'Aether Remote', isDev: false, actions: { showAbout: vi.fn(), openDocs: vi.fn() } })
    const template = Menu.buildFromTemplate.mock.calls[0]?.[0] as { label: string }[]
    expect(template.map((t) => t.label)).toEqual(['&File', '&Edit', '&View', '&Window', '&Help'])
    expect(Menu.setApplicationMenu).toHaveBeenCalledWith(built)
  })
})

describe('auto-update glue', () => {
  function fakeUpdater() {
    const u = new Emitter() as Emitter & Record<string, unknown>
    Object.assign(u, {
      autoDownload: true,
      autoInstallOnAppQuit: true,
      allowDowngrade: true,
      setFeedURL: vi.fn(),
      checkForUpdates: vi.fn(async () => null),
      downloadUpdate: vi.fn(async () => []),
      quitAndInstall: vi.fn()
    })
    return u
  }
  const app = { isPackaged: true, getName: () => 'Aether Remote', getVersion: () => '0.1.0' }

  it('does not load the updater without a feed', async () => {
    const loadUpdater = vi.fn()
    const feed = await startAutoUpdate({ app, dialog: { showMessageBox: vi.fn() } as never, env: {}, resourcesPath: '/nonexistent', loadUpdater })
    expect(feed.enabled).toBe(false)
    expect(loadUpdater).not.toHaveBeenCalled()
  })

  it('checks a configured feed, asks before downloading and before installing, and honours "Later"', async () => {
    const updater = fakeUpdater()
    const responses = [0, 1]
    const dialog = { showMessageBox: vi.fn(async () => ({ response: responses.shift() ?? 1, checkboxChecked: false })) }
    await startAutoUpdate({
      app,
      dialog: dialog as never,
      env: { AETHER_UPDATE_URL: 'https://updates.example.com/' },
      resourcesPath: '/nonexistent',
      loadUpdater: async () => updater as never
    })
    expect(updater.setFeedURL).toHaveBeenCalledWith({ provider: 'generic', url: 'https://updates.example.com/' })
    expect(updater.autoDownload).toBe(false)
    expect(updater.autoInstallOnAppQuit).toBe(false)
    expect(updater.checkForUpdates).toHaveBeenCalledOnce()
    expect(updater.downloadUpdate).not.toHaveBeenCalled()
    updater.emit('update-available', { version: '0.2.0' })
    await flush()
    expect(updater.downloadUpdate).toHaveBeenCalledOnce()
    updater.emit('update-downloaded', { version: '0.2.0' })
    await flush()
    expect(dialog.showMessageBox).toHaveBeenCalledTimes(2)
    expect(updater.quitAndInstall).not.toHaveBeenCalled()
  })
})

describe('background notifications glue', () => {
  it('forwards every event to the window and shows a notification for a drop in the background', async () => {
    const shown: { title: string; body: string }[] = []
    class FakeNotification extends Emitter {
      static isSupported = () => true
      constructor(readonly options: { title: string; body: string }) {
        super()
      }
      show() {
        shown.push(this.options)
      }
    }
    const inner = vi.fn()
    const onClick = vi.fn()
    const sink = withBackgroundNotifications(inner, {
      Notification: FakeNotification as unknown as NotificationClass,
      isWindowFocused: () => false,
      listProfiles: async () => [{ id: 'p1', name: 'Prod' }],
      onClick
    })
    await flush()
    const ready: ConnectionSnapshot = {
      profileId: 'p1',
      seq: 1,
      state: { kind: 'ready', info: { protocol: 3, scopes: [], mainSessionKey: 'm', connectedAt: 1, warnings: [] } }
    }
    const lost: ConnectionSnapshot = {
      profileId: 'p1',
      seq: 2,
      state: { kind: 'failed', error: appError('INVALID_URL', 'The gateway went away', 'x') }
    }
    sink('connection:state', ready)
    sink('connection:state', lost)
    expect(inner).toHaveBeenCalledTimes(2)
    expect(shown).toEqual([{ title: 'Prod: connection lost', body: 'The gateway went away', silent: false }])
  })
})

describe('window state glue', () => {
  const tempDir = useTempDirs('aether-glue-')

  it('applies the default size, then saves the bounds when the window closes', async () => {
    const dir = tempDir()
    const win = Object.assign(new Emitter(), {
      setBounds: vi.fn(),
      maximize: vi.fn(),
      setFullScreen: vi.fn(),
      getNormalBounds: () => ({ x: 10, y: 20, width: 1000, height: 700 }),
      isMaximized: () => true,
      isFullScreen: () => false,
      isDestroyed: () => false
    })
    const screen = { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1040 } }] }
    const kept = rememberWindowState(win as never, screen as never, { configDir: dir })
    expect(win.setBounds).toHaveBeenCalledWith({ width: 1100, height: 760 })
    win.emit('close')
    await kept.flush()
    const saved = JSON.parse(readFileSync(join(dir, 'window-state.json'), 'utf8'))
    expect(saved).toEqual({ version: 1, bounds: { x: 10, y: 20, width: 1000, height: 700 }, maximized: true, fullScreen: false })

    const again = Object.assign(new Emitter(), { ...win, setBounds: vi.fn(), maximize: vi.fn() })
    rememberWindowState(again as never, screen as never, { configDir: dir })
    expect(again.setBounds).toHaveBeenCalledWith({ x: 10, y: 20, width: 1000, height: 700 })
    expect(again.maximize).toHaveBeenCalled()
  })
})
