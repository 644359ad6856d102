import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  clampToDisplays,
  initialPlacement,
  parseWindowState,
  serializeWindowState,
  WINDOW_STATE_FILE_NAME,
  windowStateFile,
  WindowStateKeeper,
  type Timers,
  type WindowState,
  type WindowStateFile
} from '../../../src/main/desktop/window-state'
import { useTempDirs } from './temp-dir'

const sizing = { width: 1100, height: 760, minWidth: 900, minHeight: 640 }
const primary = { x: 0, y: 0, width: 1920, height: 1040 }
const right = { x: 1920, y: 0, width: 2560, height: 1400 }

class ManualTimers implements Timers {
  queue: { fn: () => void; ms: number; id: number }[] = []
  private next = 1
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++
    this.queue.push({ fn, ms, id })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((t) => t.id !== handle)
  }
  fireAll(): void {
    const due = this.queue
    this.queue = []
    for (const t of due) t.fn()
  }
}

function memoryFile(initial: string | null = null): WindowStateFile & { writes: string[] } {
  const writes: string[] = []
  return {
    writes,
    read: () => initial,
    write: async (text) => {
      writes.push(text)
    }
  }
}

const state = (x: number, y: number, width = 1200, height = 800, maximized = false): WindowState => ({
  bounds: { x, y, width, height },
  maximized,
  fullScreen: false
})

describe('window state file contents', () => {
  it('round-trips bounds and flags, and holds nothing else', () => {
    const text = serializeWindowState(state(10, 20, 1000, 700, true))
    expect(JSON.parse(text)).toEqual({ version: 1, bounds: { x: 10, y: 20, width: 1000, height: 700 }, maximized: true, fullScreen: false })
    expect(parseWindowState(text)).toEqual(state(10, 20, 1000, 700, true))
  })

  it.each([
    ['not JSON', '{'],
    ['no version', JSON.stringify({ bounds: { x: 0, y: 0, width: 10, height: 10 } })],
    ['a newer version', JSON.stringify({ version: 2, bounds: { x: 0, y: 0, width: 10, height: 10 } })],
    ['a string where a number belongs', JSON.stringify({ version: 1, bounds: { x: '0', y: 0, width: 10, height: 10 } })],
    ['a zero width', JSON.stringify({ version: 1, bounds: { x: 0, y: 0, width: 0, height: 10 } })],
    ['null', 'null']
  ])('ignores %s', (_what, text) => {
    expect(parseWindowState(text)).toBeNull()
  })
})

describe('clamping to the displays', () => {
  it('keeps a window that is fully on a display where it was', () => {
    expect(clampToDisplays({ x: 100, y: 80, width: 1200, height: 800 }, [primary, right], sizing)).toEqual({ x: 100, y: 80, width: 1200, height: 800 })
  })

  it('keeps a window on the second display', () => {
    expect(clampToDisplays({ x: 2200, y: 100, width: 1500, height: 900 }, [primary, right], sizing)).toEqual({ x: 2200, y: 100, width: 1500, height: 900 })
  })

  it('centres a window whose display was unplugged on the primary display', () => {
    const placed = clampToDisplays({ x: 2200, y: 100, width: 1200, height: 800 }, [primary], sizing)
    expect(placed).toEqual({ x: 360, y: 120, width: 1200, height: 800 })
  })

  it('shrinks a window larger than the display, never below the minimum size', () => {
    const small = { x: 0, y: 0, width: 1280, height: 700 }
    expect(clampToDisplays({ x: 0, y: 0, width: 2400, height: 1400 }, [small], sizing)).toEqual({ x: 0, y: 0, width: 1280, height: 700 })
    const tiny = { x: 0, y: 0, width: 800, height: 600 }
    const placed = clampToDisplays({ x: 0, y: 0, width: 2400, height: 1400 }, [tiny], sizing)
    expect(placed.width).toBe(900)
    expect(placed.height).toBe(640)
  })

  it('pulls back a window whose title bar is above the top of the screen', () => {
    expect(clampToDisplays({ x: 100, y: -300, width: 1200, height: 800 }, [primary], sizing)).toEqual({ x: 100, y: 0, width: 1200, height: 800 })
  })

  it('pulls back a window hanging off the left edge with only a sliver visible', () => {
    const placed = clampToDisplays({ x: -1180, y: 100, width: 1200, height: 800 }, [primary], sizing)
    expect(placed.x).toBe(0)
  })

  it('opens at the default size, centred by the system, without a saved state', () => {
    expect(initialPlacement(null, [primary], sizing)).toEqual({ bounds: { width: 1100, height: 760 }, maximized: false, fullScreen: false })
  })

  it('restores the maximised flag with the clamped normal bounds', () => {
    const placed = initialPlacement(state(5000, 5000, 1200, 800, true), [primary], sizing)
    expect(placed.maximized).toBe(true)
    expect(placed.bounds).toEqual({ x: 360, y: 120, width: 1200, height: 800 })
  })
})

describe('saving', () => {
  it('debounces: many moves write once, with the last position', async () => {
    const file = memoryFile()
    const timers = new ManualTimers()
    const keeper = new WindowStateKeeper(file, { timers, debounceMs: 400 })
    for (let x = 0; x < 50; x++) keeper.update(state(x, 0))
    expect(timers.queue).toHaveLength(1)
    expect(timers.queue[0]?.ms).toBe(400)
    expect(file.writes).toHaveLength(0)
    timers.fireAll()
    await keeper.flush()
    expect(file.writes).toHaveLength(1)
    expect(parseWindowState(file.writes[0]!)?.bounds.x).toBe(49)
  })

  it('does not write again when nothing changed since the last save or the load', async () => {
    const file = memoryFile(serializeWindowState(state(1, 2)))
    const keeper = new WindowStateKeeper(file, { timers: new ManualTimers() })
    expect(keeper.load()).toEqual(state(1, 2))
    keeper.update(state(1, 2))
    await keeper.flush()
    expect(file.writes).toHaveLength(0)
    keeper.update(state(3, 2))
    await keeper.flush()
    keeper.update(state(3, 2))
    await keeper.flush()
    expect(file.writes).toHaveLength(1)
  })

  it('flush on close writes at once and cancels the pending timer', async () => {
    const file = memoryFile()
    const timers = new ManualTimers()
    const keeper = new WindowStateKeeper(file, { timers })
    keeper.update(state(7, 7))
    await keeper.flush()
    expect(timers.queue).toHaveLength(0)
    expect(file.writes).toHaveLength(1)
  })

  it('reports a failed write and keeps going', async () => {
    const errors: unknown[] = []
    let fail = true
    const writes: string[] = []
    const keeper = new WindowStateKeeper(
      { read: () => null, write: async (t) => { if (fail) throw new Error('disk full'); writes.push(t) } },
      { timers: new ManualTimers(), onError: (e) => errors.push(e) }
    )
    keeper.update(state(1, 1))
    await keeper.flush()
    expect(errors).toHaveLength(1)
    fail = false
    keeper.update(state(2, 2))
    await keeper.flush()
    expect(writes).toHaveLength(1)
  })
})

describe('the file in the config folder', () => {
  const tempDir = useTempDirs('aether-window-state-')

  it('writes window-state.json (creating the folder) and reads it back', async () => {
    const dir = tempDir()
    const configDir = join(dir, 'Aether Remote')
    const file = windowStateFile(configDir)
    expect(file.read()).toBeNull()
    await file.write(serializeWindowState(state(4, 5)))
    expect(WINDOW_STATE_FILE_NAME).toBe('window-state.json')
    expect(parseWindowState(readFileSync(join(configDir, 'window-state.json'), 'utf8'))).toEqual(state(4, 5))
    writeFileSync(join(configDir, 'window-state.json'), 'garbage')
    expect(new WindowStateKeeper(file).load()).toBeNull()
  })
})
