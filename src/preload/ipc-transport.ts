/**
 * The ApiTransport the preload builds `window.api` on: `ipcRenderer.invoke` for requests,
 * `ipcRenderer.on`/`removeListener` for events, for contract channels only.
 *
 * Electron security checklist #20 ("do not expose Electron APIs to untrusted web content"):
 * nothing here is exposed itself. Only the domain-shaped api built on it is, and listeners get
 * the payload alone, never the IpcRendererEvent (which carries `sender`, the ipcRenderer).
 */
import type { IpcRendererEvent } from 'electron'
import { appError, fail } from '../shared/errors'
import { EVENT_CHANNELS, INVOKE_CHANNELS, type ApiTransport } from '../shared/ipc-contract'

/** The part of Electron's `ipcRenderer` used here. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown
  removeListener(channel: string, listener: (event: IpcRendererEvent, ...args: unknown[]) => void): unknown
}

const invokeChannels = new Set<string>(INVOKE_CHANNELS)
const eventChannels = new Set<string>(EVENT_CHANNELS)

export function createIpcTransport(ipc: IpcRendererLike): ApiTransport {
  return {
    invoke(channel, args) {
      // buildApi only uses contract channels; this keeps it so if the api ever grows by hand.
      if (!invokeChannels.has(channel)) {
        return Promise.resolve(
          fail(appError('INTERNAL', 'Unknown request', 'The app asked for something the main process does not offer.'))
        )
      }
      return ipc.invoke(channel, ...args)
    },
    subscribe(channel, listener) {
      if (!eventChannels.has(channel)) throw new TypeError(`${String(channel)} is not an event channel of the contract`)
      const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload)
      ipc.on(channel, forward)
      let subscribed = true
      return () => {
        if (!subscribed) return
        subscribed = false
        ipc.removeListener(channel, forward)
      }
    }
  }
}
