/**
 * The composition root against a stand-in Electron: the order of the security switches, the
 * single-instance hand-over, IPC and the window wiring, and disposal on quit.
 */
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ok } from '../../../src/shared/errors'
import { INVOKE_CHANNELS, type InvokeHandlers } from '../../../src/shared/ipc-contract'
import { Emitter, FakeIpcMain, FakeWebContents, ipcEvent } from './stand-ins'

const h = vi.hoisted(() => ({ current: undefined as unknown as ReturnType<typeof makeElectron> }))

vi.mock('electron', () => ({
  get app() {
    return h.current.app
  },
  get BrowserWindow() {
    return h.current.BrowserWindow
  },
  get ipcMain() {
    return h.current.ipcMain
  },
  get session() {
    return h.current.session
  },
  get shell() {
    return h.current.shell
  },
  get dialog() {
    return h.current.dialog
  },
  get Menu() {
    return h.current.Menu
  },
  get Notification() {
    return h.current.Notification
  },
  get screen() {
    return h.current.screen
  }
}))

const services = vi.hoisted(() => ({
  createAppServices: undefined as unknown as import('vitest').Mock,
  dispose: undefined as unknown as import('vitest').Mock,
  setEventSink: undefined as unknown as import('vitest').Mock
}))
vi.mock('../../../src/main/app-services', () => ({
  createAppServices: (...args: unknown[]) => services.createAppServices(...args)
}))
vi.mock('../../../src/main/secrets/keytar-secret-store', () => ({
  openSystemSecretStore: async () => ({
    kind: 'memory',
    store: { get: async () => null, set: async () => undefined, delete: async () => false },
    warning: { title: 'Secrets will not be saved', message: 'No Secret Service is running.' }
  })
}))

function makeElectron(opts: { gotLock?: boolean } = {}) {
  const calls: string[] = []
  let nextId = 1
  let readyResolve!: () => void
  const ready = new Promise<void>((resolve) => (readyResolve = resolve))
  const windows: FakeWindow[] = []

  class FakeWindow extends Emitter {
    readonly webContents: FakeWebContents
    destroyed = false
    minimized = false
    focused = 0
    loaded: { file?: string; url?: string } = {}
    bounds: { x?: number; y?: number; width: number; height: number } = { width: 0, height: 0 }
    constructor(readonly options: { webPreferences?: Record<string, unknown> }) {
      super()
      this.webContents = new FakeWebContents(nextId++, '')
      windows.push(this)
      calls.push('new BrowserWindow')
    }
    static getAllWindows = () => windows.filter((w) => !w.destroyed)
    isDestroyed = () => this.destroyed
    isMinimized = () => this.minimized
    isVisible = () => true
    restore = () => (this.minimized = false)
    setBounds = (b: { x?: number; y?: number; width: number; height: number }) => (this.bounds = b)
    getNormalBounds = () => ({ x: 0, y: 0, ...this.bounds })
    maximize = () => undefined
    setFullScreen = () => undefined
    isMaximized = () => false
    isFullScreen = () => false
    show = () => undefined
    focus = () => this.focused++
    loadFile = async (file: string) => {
      this.loaded.file = file
      this.webContents.url = pathToFileURL(file).href
    }
    loadURL = async (url: string) => {
      this.loaded.url = url
      this.webContents.url = url
    }
  }

  const app = Object.assign(new Emitter(), {
    isPackaged: true,
    enableSandbox: vi.fn(() => calls.push('enableSandbox')),
    requestSingleInstanceLock: vi.fn(() => {
      calls.push('requestSingleInstanceLock')
      return opts.gotLock ?? true
    }),
    quit: vi.fn(() => calls.push('quit')),
    whenReady: () => ready,
    isReady: () => true,
    isDefaultProtocolClient: () => false,
    setAsDefaultProtocolClient: vi.fn((scheme: string) => {
      calls.push(`setAsDefaultProtocolClient ${scheme}`)
      return true
    }),
    getName: () => 'Aether Remote',
    getVersion: () => '0.1.0',
    setAboutPanelOptions: vi.fn(),
    showAboutPanel: vi.fn(),
    getPath: (name: string) => `/home/u/.config/Aether Remote${name === 'userData' ? '' : `/${name}`}`
  })
  type RequestHandler = (wc: unknown, p: string, cb: (granted: boolean) => void) => void
  type CheckHandler = (wc: unknown, p: string) => boolean
  const defaultSession = {
    request: undefined as RequestHandler | undefined,
    check: undefined as CheckHandler | undefined,
    setPermissionRequestHandler(fn: RequestHandler) {
      defaultSession.request = fn
    },
    setPermissionCheckHandler(fn: CheckHandler) {
      defaultSession.check = fn
    }
  }
  const partitions = new Map<string, Record<string, unknown>>()
  const fromPartition = (name: string) => {
    let s = partitions.get(name)
    if (!s) {
      s = {
        partition: name,
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
        setUserAgent: vi.fn(),
        fetch: vi.fn(async () => ({ status: 200 })),
        clearStorageData: vi.fn(async () => undefined),
        cookies: { on: vi.fn(), removeListener: vi.fn(), get: vi.fn(async () => []), remove: vi.fn(async () => undefined) }
      }
      partitions.set(name, s)
    }
    return s
  }
  return {
    app,
    BrowserWindow: FakeWindow,
    ipcMain: new FakeIpcMain(),
    session: { defaultSession, fromPartition },
    shell: { openExternal: vi.fn(async () => undefined) },
    dialog: { showMessageBox: vi.fn(async () => ({ response: 0, checkboxChecked: false })) },
    Menu: {
      buildFromTemplate: vi.fn((template: unknown[]) => ({ template })),
      setApplicationMenu: vi.fn((menu: unknown) => calls.push(`setApplicationMenu ${menu ? 'menu' : 'none'}`))
    },
    Notification: Object.assign(
      class {
        show() {}
        on() {
          return this
        }
      },
      { isSupported: () => false }
    ),
    screen: { getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }] },
    windows,
    calls,
    becomeReady: async () => {
      readyResolve()
      await new Promise((r) => setTimeout(r, 0))
    }
  }
}

async function start(opts: { gotLock?: boolean } = {}) {
  h.current = makeElectron(opts)
  // Electron sets this; the update check looks for app-update.yml there (and finds none).
  Object.assign(process, { resourcesPath: '/opt/aether/resources' })
  vi.resetModules()
  const { startDesktopApp } = await import('../../../src/main/electron/app')
  startDesktopApp()
  return h.current
}

const flush = () => new Promise((r) => setTimeout(r, 0))

beforeEach(() => {
  vi.stubEnv('AETHER_CONFIG_DIR', '')
  vi.stubEnv('ELECTRON_RENDERER_URL', '')
  services.dispose = vi.fn(async () => undefined)
  services.setEventSink = vi.fn()
  services.createAppServices = vi.fn(() => {
    const handlers = {} as InvokeHandlers
    for (const channel of INVOKE_CHANNELS) handlers[channel] = async (args) => ok({ channel, args })
    return { handlers, setEventSink: services.setEventSink, dispose: services.dispose }
  })
})
afterEach(() => vi.unstubAllEnvs())

describe('startDesktopApp', () => {
  it('turns the sandbox on first, then takes the single-instance lock', async () => {
    const e = await start()
    expect(e.calls.slice(0, 2)).toEqual(['enableSandbox', 'requestSingleInstanceLock'])
  })

  it('quits without a window or IPC when another instance holds the lock', async () => {
    const e = await start({ gotLock: false })
    await e.becomeReady()
    expect(e.app.quit).toHaveBeenCalled()
    expect(e.windows).toHaveLength(0)
    expect(e.ipcMain.handlers.size).toBe(0)
  })

  it('registers every contract channel before the window exists', async () => {
    const e = await start()
    expect([...e.ipcMain.handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort())
    expect(e.windows).toHaveLength(0)
  })

  it('denies permissions on the default session and on every later session', async () => {
    const e = await start()
    await e.becomeReady()
    const cb = vi.fn()
    e.session.defaultSession.request?.({}, 'media', cb)
    expect(cb).toHaveBeenCalledWith(false)
    expect(e.session.defaultSession.check?.({}, 'notifications')).toBe(false)
    const later = { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() }
    e.app.emit('session-created', later)
    expect(later.setPermissionRequestHandler).toHaveBeenCalled()
    expect(later.setPermissionCheckHandler).toHaveBeenCalled()
  })

  it('guards every webContents that gets created', async () => {
    const e = await start()
    let openHandler: ((d: { url: string }) => { action: string }) | undefined
    const events: string[] = []
    const contents = {
      setWindowOpenHandler: (fn: typeof openHandler) => (openHandler = fn),
      on: (event: string) => {
        events.push(event)
        return contents
      }
    }
    e.app.emit('web-contents-created', {}, contents)
    expect(openHandler?.({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' })
    expect(openHandler?.({ url: 'https://docs.example.com/' })).toEqual({ action: 'deny' })
    await flush()
    expect(e.shell.openExternal.mock.calls).toEqual([['https://docs.example.com/']])
    expect(events.sort()).toEqual(['will-attach-webview', 'will-frame-navigate', 'will-navigate', 'will-redirect'])
  })

  it('leaves the Access login windows to their own guards, and hands the login windows to the services', async () => {
    const e = await start()
    const opts = services.createAppServices.mock.calls[0]?.[0] as { accessLoginWindows?: import('../../../src/main/electron/access-login-window').AccessLoginWindows }
    expect(opts.accessLoginWindows).toBeDefined()
    const events: string[] = []
    const contentsOn = (session: unknown) => ({
      session,
      setWindowOpenHandler: () => events.push('setWindowOpenHandler'),
      on: (event: string) => events.push(event)
    })
    const partition = 'persist:cf-access:p1'
    // Until the adapter asks for it, a partition's session is an ordinary one: the app guard applies.
    e.app.emit('web-contents-created', {}, contentsOn(e.session.fromPartition(partition)))
    expect(events).toContain('will-navigate')
    events.length = 0
    // The adapter takes the partition's session before it opens a window on it (here: sign-out).
    await opts.accessLoginWindows!.signOut({ profileId: 'p1', gatewayUrl: 'wss://gw.example.com/ws' })
    const loginSession = e.session.fromPartition(partition)
    expect(loginSession.setUserAgent).toHaveBeenCalledWith(expect.stringMatching(/^Mozilla\/5\.0 .* Chrome\/\d+\.0\.0\.0 Safari\/537\.36$/))
    e.app.emit('web-contents-created', {}, contentsOn(loginSession))
    expect(events).toEqual([])
    // Every other webContents is still guarded.
    e.app.emit('web-contents-created', {}, contentsOn(e.session.defaultSession))
    expect(events).toContain('will-navigate')
  })

  it('opens one sandboxed window on the built renderer and trusts only it', async () => {
    const e = await start()
    await e.becomeReady()
    expect(e.windows).toHaveLength(1)
    const win = e.windows[0]!
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webviewTag: false })
    expect(String(win.options.webPreferences?.preload)).toMatch(/preload[/\\]index\.js$/)
    expect(win.loaded.file).toMatch(/renderer[/\\]index\.html$/)

    const fromWindow = await e.ipcMain.invoke('profiles:remove', ipcEvent(win.webContents.id, { url: win.webContents.url }), 'p1')
    expect(fromWindow).toEqual({ ok: true, value: { channel: 'profiles:remove', args: ['p1'] } })
    const fromElsewhere = await e.ipcMain.invoke('profiles:remove', ipcEvent(win.webContents.id + 100, { url: win.webContents.url }), 'p1')
    expect(fromElsewhere.ok).toBe(false)
    const fromEvil = await e.ipcMain.invoke('profiles:remove', ipcEvent(win.webContents.id, { url: 'https://evil.example/' }), 'p1')
    expect(fromEvil.ok).toBe(false)
  })

  it('starts the services on userData with the memory-store warning and a safe openExternal', async () => {
    const e = await start()
    await e.becomeReady()
    await flush()
    expect(services.createAppServices).toHaveBeenCalledTimes(1)
    const opts = services.createAppServices.mock.calls[0]![0] as {
      configDir: string
      secretStorage: { kind: string; warning?: string }
      openExternal(url: string): Promise<void>
      clientInfo: { deviceFamily: string; platform: string }
    }
    expect(opts.configDir).toBe('/home/u/.config/Aether Remote')
    expect(opts.secretStorage).toEqual({ kind: 'memory', warning: 'Secrets will not be saved: No Secret Service is running.' })
    expect(opts.clientInfo).toMatchObject({ deviceFamily: 'desktop', platform: process.platform })
    await expect(opts.openExternal('file:///etc/passwd')).rejects.toThrow()
    expect(e.shell.openExternal).not.toHaveBeenCalled()
    expect(services.setEventSink).toHaveBeenCalledTimes(1)

    // Events reach the trusted window through the sink the services were given.
    const sink = services.setEventSink.mock.calls[0]![0] as (channel: string, payload: unknown) => void
    sink('connection:state', { profileId: 'p1' })
    expect(e.windows[0]!.webContents.sent).toEqual([{ channel: 'connection:state', payload: { profileId: 'p1' } }])
  })

  it('honours AETHER_CONFIG_DIR, like the CLI, so both read the same profiles', async () => {
    vi.stubEnv('AETHER_CONFIG_DIR', '/tmp/aether-test-config')
    const e = await start()
    await e.becomeReady()
    await flush()
    expect((services.createAppServices.mock.calls[0]![0] as { configDir: string }).configDir).toBe('/tmp/aether-test-config')
  })

  it('focuses the existing window when the app is launched again', async () => {
    const e = await start()
    await e.becomeReady()
    const win = e.windows[0]!
    win.minimized = true
    e.app.emit('second-instance', {}, ['/opt/aether/aether-remote'], '/home/u')
    expect(e.windows).toHaveLength(1)
    expect(win.minimized).toBe(false)
    expect(win.focused).toBe(1)
  })

  it('hands an aether-remote link from a second launch to the window, and refuses one with a secret', async () => {
    const e = await start()
    await e.becomeReady()
    await flush()
    expect(e.app.setAsDefaultProtocolClient).toHaveBeenCalledWith('aether-remote')
    const win = e.windows[0]!
    win.webContents.emit('did-finish-load')
    const link = `aether-remote://connect?url=${encodeURIComponent('wss://gw.example.com/ws')}&name=Prod`
    e.app.emit('second-instance', {}, ['/opt/aether/aether-remote', link], '/home/u')
    await flush()
    expect(win.webContents.sent.filter((m) => m.channel === 'app:open-gateway')).toEqual([
      { channel: 'app:open-gateway', payload: { url: 'wss://gw.example.com/ws', name: 'Prod' } }
    ])
    const withSecret = `aether-remote://connect?url=${encodeURIComponent('wss://gw.example.com/ws')}&token=abc123`
    e.app.emit('second-instance', {}, ['/opt/aether/aether-remote', withSecret], '/home/u')
    await flush()
    expect(win.webContents.sent.filter((m) => m.channel === 'app:open-gateway')).toHaveLength(1)
    expect(e.dialog.showMessageBox).toHaveBeenCalledTimes(1)
    expect(JSON.stringify(e.dialog.showMessageBox.mock.calls)).not.toContain('abc123')
  })

  it('installs the menu and remembers the window placement', async () => {
    const e = await start()
    await e.becomeReady()
    expect(e.Menu.setApplicationMenu).toHaveBeenCalledTimes(1)
    const template = e.Menu.buildFromTemplate.mock.calls[0]![0] as { label?: string; role?: string }[]
    expect(template.map((m) => (m.label ?? m.role ?? '').replace('&', ''))).toEqual(expect.arrayContaining(['Edit', 'View', 'Window', 'Help']))
    expect(e.windows[0]!.bounds).toMatchObject({ width: 1100, height: 760 })
  })

  it('closes the services before the process quits', async () => {
    const e = await start()
    await e.becomeReady()
    await flush()
    const event = { preventDefault: vi.fn() }
    e.app.emit('will-quit', event)
    expect(event.preventDefault).toHaveBeenCalled()
    await flush()
    expect(services.dispose).toHaveBeenCalledTimes(1)
    expect(e.app.quit).toHaveBeenCalledTimes(1)
    // The second will-quit (from that quit) goes through.
    const again = { preventDefault: vi.fn() }
    e.app.emit('will-quit', again)
    expect(again.preventDefault).not.toHaveBeenCalled()
    expect(services.dispose).toHaveBeenCalledTimes(1)
  })
})
