import { beforeAll, describe, expect, it, vi } from 'vitest'
import { buildApi, EVENT_CHANNELS, INVOKE_CHANNELS, type AetherApi, type InvokeChannel } from '../../../src/shared/ipc-contract'
import { createIpcTransport, type IpcRendererLike } from '../../../src/preload/ipc-transport'
import { Emitter } from './stand-ins'

/** ipcRenderer stand-in: records invokes, delivers events through a real listener list. */
class FakeIpcRenderer extends Emitter {
  readonly invoke = vi.fn(async (channel: string, ...args: unknown[]) => ({ ok: true, value: { channel, args } }))
}

// The real 'electron' module must never load here (it would try to download the binary).
const electron = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  ipcRenderer: undefined as unknown
}))
vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, value: unknown) => {
      electron.exposed.set(key, value)
    }
  },
  get ipcRenderer() {
    return electron.ipcRenderer
  }
}))

/** Every AetherApi request method, its arguments and the channel it must use. */
const REQUESTS: [string, unknown[], InvokeChannel, unknown[]?][] = [
  ['app.info', [], 'app:info'],
  ['profiles.list', [], 'profiles:list'],
  ['profiles.save', [{ name: 'n', url: 'wss://g.example', access: { mode: 'none' } }], 'profiles:save'],
  ['profiles.remove', ['p1'], 'profiles:remove'],
  ['secrets.set', ['p1', 'gatewayToken', 'tok'], 'secrets:set'],
  ['secrets.clear', ['p1', 'cfClientSecret'], 'secrets:clear'],
  ['connection.connect', ['p1'], 'connection:connect'],
  ['connection.disconnect', ['p1'], 'connection:disconnect'],
  ['connection.snapshots', [], 'connection:snapshots'],
  ['session.history', ['p1', 'main'], 'session:history'],
  ['session.list', ['p1'], 'session:list'],
  ['session.send', ['p1', 'main', 'hello', 'c1'], 'session:send'],
  ['session.abort', ['p1', 'main', 'r1'], 'session:abort'],
  ['session.abort', ['p1', 'main'], 'session:abort', ['p1', 'main']],
  ['shell.openExternal', ['https://example.com/'], 'shell:open-external'],
  ['access.signIn', ['p1'], 'access:sign-in'],
  ['access.signInWithBrowser', ['p1'], 'access:sign-in-browser'],
  ['access.cancel', ['p1'], 'access:cancel'],
  ['access.signOut', ['p1'], 'access:sign-out'],
  ['access.statuses', [], 'access:status'],
  ['doctor.run', ['p1'], 'doctor:run'],
  ['doctor.cancel', ['p1'], 'doctor:cancel']
]

function method(api: unknown, dotted: string): (...args: unknown[]) => unknown {
  const [group, name] = dotted.split('.') as [string, string]
  return (api as Record<string, Record<string, (...args: unknown[]) => unknown>>)[group]![name]!
}

/** The api's shape: group → sorted method names, with the type of each member. */
function shapeOf(api: object): Record<string, Record<string, string>> {
  const shape: Record<string, Record<string, string>> = {}
  for (const [group, members] of Object.entries(api)) {
    shape[group] = Object.fromEntries(Object.entries(members as object).map(([k, v]) => [k, typeof v]))
  }
  return shape
}

describe('preload entry', () => {
  let ipc: FakeIpcRenderer
  let api: AetherApi

  beforeAll(async () => {
    ipc = new FakeIpcRenderer()
    electron.ipcRenderer = ipc
    await import('../../../src/preload/index')
    api = electron.exposed.get('api') as AetherApi
  })

  it('exposes exactly one key, api', () => {
    expect([...electron.exposed.keys()]).toEqual(['api'])
  })

  it('exposes the AetherApi shape: methods only, no ipcRenderer or generic invoke/on', () => {
    const reference = buildApi({ invoke: async () => undefined, subscribe: () => () => undefined })
    expect(shapeOf(api)).toEqual(shapeOf(reference))
    for (const members of Object.values(shapeOf(api))) {
      for (const type of Object.values(members)) expect(type).toBe('function')
    }
    expect(Object.keys(api).sort()).toEqual(['access', 'app', 'connection', 'doctor', 'profiles', 'secrets', 'session', 'shell'])
    for (const banned of ['ipcRenderer', 'invoke', 'send', 'on', 'sendSync', 'electron', 'process', 'require']) {
      expect(api).not.toHaveProperty(banned)
    }
  })

  it('forwards every request on its contract channel with its arguments', async () => {
    expect(new Set(REQUESTS.map(([, , channel]) => channel))).toEqual(new Set(INVOKE_CHANNELS))
    for (const [name, args, channel, expectedArgs] of REQUESTS) {
      ipc.invoke.mockClear()
      const result = await method(api, name)(...args)
      expect(ipc.invoke).toHaveBeenCalledTimes(1)
      expect(ipc.invoke).toHaveBeenCalledWith(channel, ...(expectedArgs ?? args))
      expect(result).toEqual({ ok: true, value: { channel, args: expectedArgs ?? args } })
    }
  })

  it.each([
    ['connection.onState', 'connection:state'],
    ['session.onEvent', 'session:event'],
    ['access.onStatus', 'access:status'],
    ['app.onOpenGateway', 'app:open-gateway'],
    ['doctor.onProgress', 'doctor:progress']
  ])('%s delivers the payload only, and its unsubscribe works', (name, channel) => {
    const listener = vi.fn()
    const unsubscribe = method(api, name)(listener) as () => void
    expect(ipc.listenerCount(channel)).toBe(1)
    const payload = { profileId: 'p1' }
    ipc.emit(channel, { sender: ipc, senderId: 0 }, payload)
    expect(listener).toHaveBeenCalledTimes(1)
    // The IpcRendererEvent (which holds `sender`, the ipcRenderer itself) never reaches the page.
    expect(listener.mock.calls[0]).toEqual([payload])
    unsubscribe()
    expect(ipc.listenerCount(channel)).toBe(0)
    ipc.emit(channel, {}, payload)
    expect(listener).toHaveBeenCalledTimes(1)
    unsubscribe()
  })

  it('keeps each subscription separate', () => {
    const a = vi.fn()
    const b = vi.fn()
    const offA = api.connection.onState(a)
    const offB = api.connection.onState(b)
    offA()
    ipc.emit('connection:state', {}, { n: 1 })
    expect(a).not.toHaveBeenCalled()
    expect(b).toHaveBeenCalledWith({ n: 1 })
    offB()
  })
})

describe('createIpcTransport', () => {
  it('refuses request channels outside the contract without touching ipcRenderer', async () => {
    const ipc = new FakeIpcRenderer()
    const transport = createIpcTransport(ipc as unknown as IpcRendererLike)
    const result = (await transport.invoke('evil:channel' as InvokeChannel, [])) as { ok: boolean; error?: { code: string } }
    expect(result.ok).toBe(false)
    expect(result.error?.code).toBe('INTERNAL')
    expect(ipc.invoke).not.toHaveBeenCalled()
  })

  it('refuses event channels outside the contract', () => {
    const ipc = new FakeIpcRenderer()
    const transport = createIpcTransport(ipc as unknown as IpcRendererLike)
    expect(() => transport.subscribe('evil:event' as (typeof EVENT_CHANNELS)[number], () => undefined)).toThrow(TypeError)
    expect(ipc.listenerCount('evil:event')).toBe(0)
  })
})
