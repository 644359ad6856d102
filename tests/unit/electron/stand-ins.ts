/**
 * Small stand-ins for the Electron objects the glue talks to. They implement only what the
 * modules under test declare they need, and record what was done to them.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { IpcSenderEvent } from '../../../src/main/electron/trusted-senders'
import type { Result } from '../../../src/shared/errors'

export const RENDERER_INDEX = path.resolve('/opt/aether/resources/app.asar/out/renderer/index.html')
export const RENDERER_URL = pathToFileURL(RENDERER_INDEX).href

type Listener = (...args: never[]) => unknown

/** A minimal EventEmitter: on/once/removeListener/emit. */
export class Emitter {
  private readonly listeners = new Map<string, { fn: Listener; once: boolean }[]>()

  on(event: string, fn: Listener): this {
    this.list(event).push({ fn, once: false })
    return this
  }

  once(event: string, fn: Listener): this {
    this.list(event).push({ fn, once: true })
    return this
  }

  removeListener(event: string, fn: Listener): this {
    this.listeners.set(
      event,
      this.list(event).filter((l) => l.fn !== fn)
    )
    return this
  }

  emit(event: string, ...args: unknown[]): void {
    const current = [...this.list(event)]
    this.listeners.set(
      event,
      this.list(event).filter((l) => !l.once)
    )
    for (const l of current) (l.fn as (...a: unknown[]) => unknown)(...args)
  }

  listenerCount(event: string): number {
    return this.list(event).length
  }

  private list(event: string): { fn: Listener; once: boolean }[] {
    let l = this.listeners.get(event)
    if (!l) {
      l = []
      this.listeners.set(event, l)
    }
    return l
  }
}

type InvokeListener = (event: IpcSenderEvent, ...args: unknown[]) => Promise<Result<unknown>>

/** ipcMain: like Electron, a second handler for the same channel is an error. */
export class FakeIpcMain {
  readonly handlers = new Map<string, InvokeListener>()
  handleCalls = 0

  handle(channel: string, listener: InvokeListener): void {
    this.handleCalls++
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
    this.handlers.set(channel, listener)
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }

  /** What the renderer's `ipcRenderer.invoke(channel, ...args)` would get. */
  invoke(channel: string, event: IpcSenderEvent, ...args: unknown[]): Promise<Result<unknown>> {
    const listener = this.handlers.get(channel)
    if (!listener) throw new Error(`No handler registered for '${channel}'`)
    return listener(event, ...args)
  }
}

/** A webContents with an id, a URL, a destroyed flag and a record of `send`. */
export class FakeWebContents extends Emitter {
  readonly sent: { channel: string; payload: unknown }[] = []
  destroyed = false
  url: string

  constructor(
    readonly id: number,
    url: string = RENDERER_URL
  ) {
    super()
    this.url = url
  }

  isDestroyed(): boolean {
    return this.destroyed
  }

  getURL(): string {
    return this.url
  }

  send(channel: string, payload: unknown): void {
    if (this.destroyed) throw new Error('Object has been destroyed')
    this.sent.push({ channel, payload })
  }

  destroy(): void {
    this.destroyed = true
    this.emit('destroyed')
  }
}

/** An IPC event as Electron builds it for `ipcMain.handle` listeners. */
export function ipcEvent(
  senderId: number,
  frame: { url?: string; parent?: unknown; detached?: boolean } | null = {}
): IpcSenderEvent {
  return {
    sender: { id: senderId },
    senderFrame: frame === null ? null : { url: frame.url ?? RENDERER_URL, parent: frame.parent ?? null, detached: frame.detached ?? false }
  }
}
