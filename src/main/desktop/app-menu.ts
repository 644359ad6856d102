/**
 * The native menu bar, as a template (the shape Electron's `Menu.buildFromTemplate` takes).
 *
 * macOS gets the app menu (About, Services, Hide, Quit) and a Window menu with "Bring All to
 * Front"; Windows and Linux get a File menu with Quit, and About under Help. Edit, View and
 * Window use Electron's roles, which bring the platform's own shortcuts. Reload and the
 * developer tools are only in development builds: in an installed app a reload would drop
 * every streaming reply on screen for nothing.
 */

/** The Electron menu roles this menu uses (a subset of Electron's `MenuItemConstructorOptions.role`). */
export type MenuRole =
  | 'about'
  | 'services'
  | 'hide'
  | 'hideOthers'
  | 'unhide'
  | 'quit'
  | 'close'
  | 'undo'
  | 'redo'
  | 'cut'
  | 'copy'
  | 'paste'
  | 'pasteAndMatchStyle'
  | 'delete'
  | 'selectAll'
  | 'startSpeaking'
  | 'stopSpeaking'
  | 'reload'
  | 'forceReload'
  | 'toggleDevTools'
  | 'resetZoom'
  | 'zoomIn'
  | 'zoomOut'
  | 'togglefullscreen'
  | 'minimize'
  | 'zoom'
  | 'front'
  | 'window'
  | 'help'
  | 'editMenu'
  | 'windowMenu'

export interface MenuItemSpec {
  label?: string
  role?: MenuRole
  type?: 'normal' | 'separator' | 'submenu'
  accelerator?: string
  id?: string
  submenu?: MenuItemSpec[]
  click?: () => void
}

export interface AppMenuOptions {
  platform: NodeJS.Platform
  appName: string
  /** Development build: adds Reload and the developer tools. */
  isDev: boolean
  actions: {
    showAbout(): void
    /** Open the product documentation in the browser. */
    openDocs(): void
  }
}

const separator: MenuItemSpec = { type: 'separator' }

export function buildAppMenuTemplate(opts: AppMenuOptions): MenuItemSpec[] {
  const mac = opts.platform === 'darwin'
  const about: MenuItemSpec = { id: 'about', label: `About ${opts.appName}`, click: opts.actions.showAbout }

  const first: MenuItemSpec = mac
    ? {
        label: opts.appName,
        submenu: [
          about,
          separator,
          { role: 'services' },
          separator,
          { role: 'hide', accelerator: 'Command+H' },
          { role: 'hideOthers', accelerator: 'Command+Alt+H' },
          { role: 'unhide' },
          separator,
          { role: 'quit', label: `Quit ${opts.appName}`, accelerator: 'Command+Q' }
        ]
      }
    : { label: '&File', submenu: [{ role: 'quit', label: 'E&xit', accelerator: 'Ctrl+Q' }] }

  const edit: MenuItemSpec = {
    label: mac ? 'Edit' : '&Edit',
    submenu: [
      { role: 'undo', accelerator: 'CmdOrCtrl+Z' },
      { role: 'redo', accelerator: mac ? 'Shift+Command+Z' : 'Ctrl+Y' },
      separator,
      { role: 'cut', accelerator: 'CmdOrCtrl+X' },
      { role: 'copy', accelerator: 'CmdOrCtrl+C' },
      { role: 'paste', accelerator: 'CmdOrCtrl+V' },
      ...(mac
        ? [
            { role: 'pasteAndMatchStyle', accelerator: 'Shift+Command+Alt+V' } satisfies MenuItemSpec,
            { role: 'delete' } satisfies MenuItemSpec,
            { role: 'selectAll', accelerator: 'Command+A' } satisfies MenuItemSpec,
            separator,
            { label: 'Speech', submenu: [{ role: 'startSpeaking' }, { role: 'stopSpeaking' }] } satisfies MenuItemSpec
          ]
        : [{ role: 'delete' } satisfies MenuItemSpec, separator, { role: 'selectAll', accelerator: 'Ctrl+A' } satisfies MenuItemSpec])
    ]
  }

  const view: MenuItemSpec = {
    label: mac ? 'View' : '&View',
    submenu: [
      ...(opts.isDev
        ? [
            { role: 'reload', accelerator: 'CmdOrCtrl+R' } satisfies MenuItemSpec,
            { role: 'forceReload', accelerator: 'Shift+CmdOrCtrl+R' } satisfies MenuItemSpec,
            { role: 'toggleDevTools', accelerator: mac ? 'Alt+Command+I' : 'Ctrl+Shift+I' } satisfies MenuItemSpec,
            separator
          ]
        : []),
      { role: 'resetZoom', accelerator: 'CmdOrCtrl+0' },
      { role: 'zoomIn', accelerator: 'CmdOrCtrl+=' },
      { role: 'zoomOut', accelerator: 'CmdOrCtrl+-' },
      separator,
      { role: 'togglefullscreen', accelerator: mac ? 'Ctrl+Command+F' : 'F11' }
    ]
  }

  const window: MenuItemSpec = {
    label: mac ? 'Window' : '&Window',
    role: 'window',
    submenu: mac
      ? [{ role: 'minimize', accelerator: 'Command+M' }, { role: 'zoom' }, separator, { role: 'front' }]
      : [{ role: 'minimize' }, { role: 'close', accelerator: 'Ctrl+W' }]
  }

  const help: MenuItemSpec = {
    label: mac ? 'Help' : '&Help',
    role: 'help',
    submenu: [
      { id: 'docs', label: 'OpenClaw Documentation', click: opts.actions.openDocs },
      ...(mac ? [] : [separator, about])
    ]
  }

  return [first, edit, view, window, help]
}
