/**
 * The main window's size and position, remembered between runs.
 *
 * Kept in `window-state.json` in the config folder (next to profiles.json): bounds and the
 * maximised / full-screen flags, nothing else. Saves are debounced, because a drag sends a
 * move event per frame. On restore the bounds are clamped to the displays attached now, so a
 * window last seen on an unplugged monitor comes back on a visible one.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export const WINDOW_STATE_FILE_NAME = 'window-state.json'
const SCHEMA_VERSION = 1

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

export interface WindowState {
  bounds: Rect
  maximized: boolean
  fullScreen: boolean
}

/** The size the window opens at without a saved state, and the smallest it may be. */
export interface WindowSizing {
  width: number
  height: number
  minWidth: number
  minHeight: number
}

/** Where to put the window: `x`/`y` are absent when the system should centre it. */
export interface InitialWindowPlacement {
  bounds: { x?: number; y?: number; width: number; height: number }
  maximized: boolean
  fullScreen: boolean
}

/** The window-state file, behind a port so tests need no disk. */
export interface WindowStateFile {
  /** The file's text, or null when there is none or it cannot be read. */
  read(): string | null
  write(text: string): Promise<void>
}

/** How much of the window's top strip (its title bar) must be on a display to be reachable. */
const MIN_VISIBLE = 48
const TITLE_BAR = 32

function isFiniteRect(r: unknown): r is Rect {
  if (typeof r !== 'object' || r === null) return false
  const o = r as Record<string, unknown>
  return ['x', 'y', 'width', 'height'].every((k) => typeof o[k] === 'number' && Number.isFinite(o[k]))
}

/** Read a saved state; anything malformed (or from a newer version) is ignored, never fatal. */
export function parseWindowState(text: string | null): WindowState | null {
  if (text === null) return null
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof raw !== 'object' || raw === null) return null
  const o = raw as Record<string, unknown>
  if (o.version !== SCHEMA_VERSION || !isFiniteRect(o.bounds)) return null
  if (o.bounds.width <= 0 || o.bounds.height <= 0) return null
  return {
    bounds: { x: Math.round(o.bounds.x), y: Math.round(o.bounds.y), width: Math.round(o.bounds.width), height: Math.round(o.bounds.height) },
    maximized: o.maximized === true,
    fullScreen: o.fullScreen === true
  }
}

export function serializeWindowState(state: WindowState): string {
  return `${JSON.stringify({ version: SCHEMA_VERSION, ...state }, null, 2)}\n`
}

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)
  return w > 0 && h > 0 ? w * h : 0
}

/**
 * Fit saved bounds to the displays' work areas (the screen minus task bars and docks).
 *
 * The window goes on the display it overlaps most, shrunk to that display's work area (never
 * below the minimum size), and moved inside it when its title bar would be off-screen. With no
 * display overlapping at all it is centred on the first (primary) display.
 */
export function clampToDisplays(bounds: Rect, workAreas: readonly Rect[], sizing: WindowSizing): InitialWindowPlacement['bounds'] {
  if (workAreas.length === 0) return { width: Math.max(bounds.width, sizing.minWidth), height: Math.max(bounds.height, sizing.minHeight) }
  let best = workAreas[0]!
  let bestOverlap = 0
  for (const area of workAreas) {
    const o = overlap(bounds, area)
    if (o > bestOverlap) {
      best = area
      bestOverlap = o
    }
  }
  const width = Math.max(sizing.minWidth, Math.min(bounds.width, best.width))
  const height = Math.max(sizing.minHeight, Math.min(bounds.height, best.height))
  if (bestOverlap === 0) {
    return { x: best.x + Math.round((best.width - width) / 2), y: best.y + Math.round((best.height - height) / 2), width, height }
  }
  const titleBar: Rect = { x: bounds.x, y: bounds.y, width, height: TITLE_BAR }
  const reachable = workAreas.some((a) => {
    const w = Math.min(titleBar.x + titleBar.width, a.x + a.width) - Math.max(titleBar.x, a.x)
    return w >= MIN_VISIBLE && bounds.y >= a.y && bounds.y + TITLE_BAR <= a.y + a.height
  })
  let { x, y } = bounds
  if (!reachable || width !== bounds.width || height !== bounds.height) {
    x = Math.min(Math.max(x, best.x), best.x + best.width - width)
    y = Math.min(Math.max(y, best.y), best.y + best.height - height)
  }
  return { x, y, width, height }
}

/** Where the window opens: the saved state fitted to today's displays, or the default size. */
export function initialPlacement(saved: WindowState | null, workAreas: readonly Rect[], sizing: WindowSizing): InitialWindowPlacement {
  if (!saved) return { bounds: { width: sizing.width, height: sizing.height }, maximized: false, fullScreen: false }
  return { bounds: clampToDisplays(saved.bounds, workAreas, sizing), maximized: saved.maximized, fullScreen: saved.fullScreen }
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout)
}

/**
 * Remembers the window's state: `update` on every move or resize, `flush` when it closes.
 *
 * Writes at most one file per `debounceMs`, only when something changed, and one at a time.
 */
export class WindowStateKeeper {
  private pending: WindowState | null = null
  private lastWritten: string | null = null
  private timer: unknown = null
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly file: WindowStateFile,
    private readonly opts: { debounceMs?: number; timers?: Timers; onError?: (err: unknown) => void } = {}
  ) {}

  /** The saved state, read once at start-up. */
  load(): WindowState | null {
    const text = this.file.read()
    const state = parseWindowState(text)
    if (state) this.lastWritten = serializeWindowState(state)
    return state
  }

  update(state: WindowState): void {
    this.pending = state
    const timers = this.opts.timers ?? realTimers
    if (this.timer !== null) timers.clearTimeout(this.timer)
    this.timer = timers.setTimeout(() => {
      this.timer = null
      void this.flush()
    }, this.opts.debounceMs ?? 500)
  }

  /** Write the latest state now (the window is closing); resolves once it is on disk. */
  flush(): Promise<void> {
    if (this.timer !== null) {
      ;(this.opts.timers ?? realTimers).clearTimeout(this.timer)
      this.timer = null
    }
    const state = this.pending
    this.pending = null
    if (state) {
      const text = serializeWindowState(state)
      if (text !== this.lastWritten) {
        this.lastWritten = text
        this.writing = this.writing
          .then(() => this.file.write(text))
          .catch((err: unknown) => this.opts.onError?.(err))
      }
    }
    return this.writing
  }
}

/** The window-state file in a config folder; writes go through a temporary file and a rename. */
export function windowStateFile(configDir: string): WindowStateFile {
  const path = join(configDir, WINDOW_STATE_FILE_NAME)
  return {
    read() {
      try {
        return readFileSync(path, 'utf8')
      } catch {
        return null
      }
    },
    async write(text) {
      mkdirSync(dirname(path), { recursive: true })
      const tmp = `${path}.${process.pid}.tmp`
      await writeFile(tmp, text, 'utf8')
      await rename(tmp, path)
    }
  }
}
