import type { AccessEmulatorClock } from './types'

/** Emulator time: a base source plus an offset, so tests can jump ahead while time keeps flowing. */
export function createClock(base: () => number = Date.now): AccessEmulatorClock {
  let offsetMs = 0
  return {
    now: () => base() + offsetMs,
    advance(ms: number) {
      offsetMs += ms
    },
    set(ms: number) {
      offsetMs = ms - base()
    }
  }
}

export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000)
}
