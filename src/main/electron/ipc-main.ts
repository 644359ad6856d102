/**
 * The main-process end of the IPC contract: one `ipcMain.handle` per contract channel, and the
 * event sink that pushes contract events to the app's windows.
 *
 * Every request passes the sender check first (Electron security checklist #17) and always
 * resolves with a Result: Electron keeps only the `message` of an error thrown from a handler
 * (electron/electron#24427), so nothing is thrown across; a stack goes to the log only.
 * Arguments are passed through untouched: the handlers validate them with the contract's zod
 * schemas themselves.
 *
 * Only the shapes used here are declared (and Electron's objects satisfy them), so this module
 * is tested with small stand-ins and never loads Electron.
 */
import {
  EVENT_CHANNELS,
  INVOKE_CHANNELS,
  type EventChannel,
  type EventPayloads,
  type EventSink,
  type InvokeChannel,
  type InvokeHandler,
  type InvokeHandlers
} from '../../shared/ipc-contract'
import { appError, fail, type Result } from '../../shared/errors'
import type { IpcSenderEvent, TrustedSenders } from './trusted-senders'

/** Where the IPC layer reports what it refused or what broke; never given argument values. */
export type IpcLog = (message: string, error?: unknown) => void

const consoleLog: IpcLog = (message, error) => {
  if (error === undefined) console.warn(message)
  else console.error(message, error)
}

/** The part of Electron's `ipcMain` used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcSenderEvent, ...args: unknown[]) => Promise<Result<unknown>>): void
  removeHandler(channel: string): void
}

/** The error value an untrusted sender gets. */
export function untrustedSenderError(): Result<never> {
  return fail(
    appError('INTERNAL', 'Request refused', 'This request did not come from the Aether Remote window, so it was refused.', {
      details: { check: 'untrusted-sender' }
    })
  )
}

/** The error value a request gets when its handler threw or answered with something that is not a Result. */
export function unexpectedFailureError(): Result<never> {
  return fail(
    appError(
      'INTERNAL',
      'Something went wrong',
      'Aether Remote hit an unexpected problem while handling this request. Try again; if it keeps happening, restart Aether Remote.',
      { nextSteps: [{ action: 'retry', label: 'Try again.' }], details: { check: 'handler-failed' } }
    )
  )
}

function isResult(value: unknown): value is Result<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean'
}

/**
 * Register a handler for every contract channel; returns a function that removes them again.
 *
 * Channel names come only from the contract, so the renderer can reach nothing else.
 */
export function registerIpc(
  ipcMain: IpcMainLike,
  handlers: InvokeHandlers,
  isTrustedSender: (event: IpcSenderEvent) => boolean,
  log: IpcLog = consoleLog
): () => void {
  for (const channel of INVOKE_CHANNELS) {
    const handler: InvokeHandler | undefined = handlers[channel]
    ipcMain.handle(channel, async (event, ...args) => {
      let trusted = false
      try {
        trusted = isTrustedSender(event)
      } catch (err) {
        log(`[ipc] sender check failed on ${channel}`, err)
      }
      if (!trusted) {
        log(`[ipc] refused ${channel} from an untrusted sender (webContents ${String(event.sender?.id)})`)
        return untrustedSenderError()
      }
      try {
        if (typeof handler !== 'function') throw new Error(`no handler for ${channel}`)
        const result = await handler(args)
        if (isResult(result)) return result
        throw new Error(`the ${channel} handler answered with something that is not a Result`)
      } catch (err) {
        log(`[ipc] ${channel} failed`, err)
        return unexpectedFailureError()
      }
    })
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel)
  }
}

/**
 * Handlers that wait for the real ones.
 *
 * IPC is registered before the first window loads (an invoke on a channel with no handler
 * rejects in the renderer), while the services wait for the keychain probe, which can sit behind
 * an unlock prompt; requests made meanwhile simply wait. If the services never start, the
 * rejection becomes an error Result in `registerIpc`.
 */
export function deferHandlers(ready: Promise<InvokeHandlers>): InvokeHandlers {
  // Nobody may await `ready` before the first request; don't let its failure go unhandled.
  ready.catch(() => undefined)
  const deferred = {} as Record<InvokeChannel, InvokeHandler>
  for (const channel of INVOKE_CHANNELS) {
    deferred[channel] = async (args) => (await ready)[channel](args)
  }
  return deferred
}

/** The part of a webContents the event sink uses. */
export interface EventWebContents {
  readonly id: number
  isDestroyed(): boolean
  getURL(): string
  send(channel: string, payload: unknown): void
}

/** The part of a BrowserWindow the event sink uses. */
export interface EventWindow {
  isDestroyed(): boolean
  readonly webContents: EventWebContents
}

/**
 * The EventSink the services push through: each contract event goes to every live window that
 * is trusted and still shows the app, and nowhere else.
 */
export function createEventSink(
  getWindows: () => readonly EventWindow[],
  trust: { trusted: Pick<TrustedSenders, 'has'>; isAppUrl(url: string): boolean },
  log: IpcLog = consoleLog
): EventSink {
  const allowed = new Set<string>(EVENT_CHANNELS)
  return <C extends EventChannel>(channel: C, payload: EventPayloads[C]): void => {
    if (!allowed.has(channel)) {
      log(`[ipc] dropped an event on ${String(channel)}, which is not in the contract`)
      return
    }
    for (const win of getWindows()) {
      try {
        if (win.isDestroyed()) continue
        const contents = win.webContents
        if (contents.isDestroyed() || !trust.trusted.has(contents.id) || !trust.isAppUrl(contents.getURL())) continue
        contents.send(channel, payload)
      } catch (err) {
        // A window closing mid-loop must not stop the others from getting the event.
        log(`[ipc] could not send ${channel} to a window`, err)
      }
    }
  }
}
