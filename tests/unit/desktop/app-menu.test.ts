import { describe, expect, it, vi } from 'vitest'
import { buildAppMenuTemplate, type MenuItemSpec } from '../../../src/main/desktop/app-menu'

function flatten(items: MenuItemSpec[]): MenuItemSpec[] {
  return items.flatMap((i) => [i, ...flatten(i.submenu ?? [])])
}
const byRole = (items: MenuItemSpec[], role: string) => flatten(items).find((i) => i.role === role)

function template(platform: NodeJS.Platform, isDev = false) {
  const actions = { showAbout: vi.fn(), openDocs: vi.fn() }
  return { items: buildAppMenuTemplate({ platform, appName: 'Aether Remote', isDev, actions }), actions }
}

describe('app menu', () => {
  it('on macOS: the app menu, then Edit, View, Window and Help', () => {
    const { items } = template('darwin')
    expect(items.map((i) => i.label)).toEqual(['Aether Remote', 'Edit', 'View', 'Window', 'Help'])
    const appMenu = items[0]!.submenu!
    expect(appMenu[0]?.label).toBe('About Aether Remote')
    expect(appMenu.map((i) => i.role).filter(Boolean)).toEqual(['services', 'hide', 'hideOthers', 'unhide', 'quit'])
    expect(byRole(items, 'quit')?.accelerator).toBe('Command+Q')
    expect(byRole(items, 'front')).toBeDefined()
    expect(byRole(items, 'pasteAndMatchStyle')).toBeDefined()
    // About lives in the app menu on macOS, not under Help.
    expect(items[4]!.submenu!.some((i) => i.id === 'about')).toBe(false)
  })

  it.each(['win32', 'linux'] as const)('on %s: File with Exit, and About under Help', (platform) => {
    const { items } = template(platform)
    expect(items.map((i) => i.label)).toEqual(['&File', '&Edit', '&View', '&Window', '&Help'])
    expect(byRole(items, 'quit')?.accelerator).toBe('Ctrl+Q')
    expect(byRole(items, 'services')).toBeUndefined()
    expect(byRole(items, 'front')).toBeUndefined()
    expect(items[4]!.submenu!.some((i) => i.id === 'about')).toBe(true)
    expect(byRole(items, 'redo')?.accelerator).toBe('Ctrl+Y')
    expect(byRole(items, 'togglefullscreen')?.accelerator).toBe('F11')
  })

  it('has the usual editing roles and shortcuts everywhere', () => {
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      const { items } = template(platform)
      expect(byRole(items, 'undo')?.accelerator).toBe('CmdOrCtrl+Z')
      expect(byRole(items, 'cut')?.accelerator).toBe('CmdOrCtrl+X')
      expect(byRole(items, 'copy')?.accelerator).toBe('CmdOrCtrl+C')
      expect(byRole(items, 'paste')?.accelerator).toBe('CmdOrCtrl+V')
      expect(byRole(items, 'selectAll')).toBeDefined()
      expect(byRole(items, 'zoomIn')?.accelerator).toBe('CmdOrCtrl+=')
      expect(byRole(items, 'resetZoom')?.accelerator).toBe('CmdOrCtrl+0')
      expect(byRole(items, 'minimize')).toBeDefined()
    }
  })

  it('offers reload and developer tools only in development', () => {
    expect(byRole(template('linux').items, 'toggleDevTools')).toBeUndefined()
    expect(byRole(template('linux').items, 'reload')).toBeUndefined()
    const dev = template('linux', true).items
    expect(byRole(dev, 'toggleDevTools')?.accelerator).toBe('Ctrl+Shift+I')
    expect(byRole(dev, 'reload')).toBeDefined()
  })

  it('About and the documentation call the actions', () => {
    const { items, actions } = template('win32')
    const all = flatten(items)
    all.find((i) => i.id === 'about')?.click?.()
    all.find((i) => i.id === 'docs')?.click?.()
    expect(actions.showAbout).toHaveBeenCalledTimes(1)
    expect(actions.openDocs).toHaveBeenCalledTimes(1)
  })
})
