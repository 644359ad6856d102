/**
 * The page side of the e2e test bridge, bundled by renderer-harness.ts (esbuild, IIFE) and
 * injected before any page script runs. It plays the preload's part: `window.api` is built by
 * the app's own `buildApi` over a transport that forwards every request to the real
 * main-process handlers in the test process, and receives pushed events from there.
 *
 * Payloads cross as JSON strings in both directions (what Electron's structured clone keeps of
 * them, minus `undefined`), so the renderer sees plain data only, as it would in Electron.
 */
import { buildApi, EVENT_CHANNELS, type ApiTransport, type EventChannel, type InvokeChannel } from '../../src/shared/ipc-contract'

interface BridgeGlobal {
  /** Exposed by the test process (context.exposeFunction): runs the handler, resolves with the Result as JSON. */
  __aetherInvoke(channel: string, argsJson: string): Promise<string>
  /** Called by the test process (page.evaluate) to push one event. */
  __aetherEmit(channel: string, payloadJson: string): number
  api: unknown
}

const g = globalThis as unknown as BridgeGlobal
const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>()
for (const channel of EVENT_CHANNELS) listeners.set(channel, new Set())

const transport: ApiTransport = {
  async invoke(channel: InvokeChannel, args: unknown[]) {
    const json = await g.__aetherInvoke(channel, JSON.stringify(args))
    return JSON.parse(json) as unknown
  },
  subscribe(channel, listener) {
    const set = listeners.get(channel)
    if (!set) return () => {}
    // A wrapper per subscription, as ipcRenderer.on does: subscribing the same function twice
    // gives two independent subscriptions.
    const wrapped = (payload: unknown) => listener(payload)
    set.add(wrapped)
    return () => {
      set.delete(wrapped)
    }
  }
}

Object.defineProperty(g, '__aetherEmit', {
  value(channel: string, payloadJson: string): number {
    const set = listeners.get(channel as EventChannel)
    if (!set) return 0
    const payload = JSON.parse(payloadJson) as unknown
    let delivered = 0
    for (const listener of [...set]) {
      try {
        listener(payload)
        delivered++
      } catch (e) {
        console.error('[e2e bridge] listener failed', e)
      }
    }
    return delivered
  },
  writable: false,
  configurable: false
})

// contextBridge hands the page a frozen copy; the page cannot replace or patch it.
const api = buildApi(transport)
for (const part of Object.values(api)) Object.freeze(part)
Object.defineProperty(g, 'api', { value: Object.freeze(api), writable: false, configurable: false, enumerable: true })
