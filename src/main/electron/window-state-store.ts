/**
 * Remembers the main window's size and position (src/main/desktop/window-state.ts) across runs.
 */
import type { BrowserWindow, Screen } from 'electron'
import {
  initialPlacement,
  windowStateFile,
  WindowStateKeeper,
  type WindowSizing,
  type WindowState
} from '../desktop/window-state'

/** The main window's default and minimum size (as in main-window.ts). */
export const MAIN_WINDOW_SIZING: WindowSizing = { width: 1100, height: 760, minWidth: 900, minHeight: 640 }

type WindowLike = Pick<
  BrowserWindow,
  'on' | 'setBounds' | 'maximize' | 'setFullScreen' | 'getNormalBounds' | 'isMaximized' | 'isFullScreen' | 'isDestroyed'
>

/**
 * Put a new window where it was last time (clamped to the displays attached now), then keep
 * its state saved, debounced while it moves, at once when it closes.
 *
 * Call right after creating the window and before it is shown (`show: false` until
 * `ready-to-show`), so it never jumps.
 */
export function rememberWindowState(
  win: WindowLike,
  screen: Pick<Screen, 'getAllDisplays'>,
  opts: { configDir: string; sizing?: WindowSizing }
): { flush(): Promise<void> } {
  const keeper = new WindowStateKeeper(windowStateFile(opts.configDir), {
    onError: (err) => console.warn('[window-state] could not save the window position', err)
  })
  const placement = initialPlacement(
    keeper.load(),
    screen.getAllDisplays().map((d) => d.workArea),
    opts.sizing ?? MAIN_WINDOW_SIZING
  )
  const { x, y, width, height } = placement.bounds
  if (x !== undefined && y !== undefined) win.setBounds({ x, y, width, height })
  else win.setBounds({ width, height })
  if (placement.maximized) win.maximize()
  if (placement.fullScreen) win.setFullScreen(true)

  const capture = (): WindowState => ({ bounds: win.getNormalBounds(), maximized: win.isMaximized(), fullScreen: win.isFullScreen() })
  const changed = (): void => {
    if (!win.isDestroyed()) keeper.update(capture())
  }
  win.on('resize', changed)
  win.on('move', changed)
  win.on('maximize', changed)
  win.on('unmaximize', changed)
  win.on('enter-full-screen', changed)
  win.on('leave-full-screen', changed)
  win.on('close', () => {
    changed()
    void keeper.flush()
  })
  return { flush: () => keeper.flush() }
}
