/**
 * Installs the native menu bar built by src/main/desktop/app-menu.ts.
 */
import type { Menu as MenuType, MenuItemConstructorOptions } from 'electron'
import { buildAppMenuTemplate, type AppMenuOptions } from '../desktop/app-menu'

type MenuStatic = Pick<typeof MenuType, 'buildFromTemplate' | 'setApplicationMenu'>

export function installAppMenu(Menu: MenuStatic, opts: AppMenuOptions): void {
  const template: MenuItemConstructorOptions[] = buildAppMenuTemplate(opts)
  Menu.setApplicationMenu(Menu.buildFromTemplate(template))
}
