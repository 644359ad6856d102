import { describe, expect, it, vi } from 'vitest'
import { isAppUrl, resolveAppOrigin } from '../../../src/main/electron/app-origin'
import { createEventSink, deferHandlers, registerIpc, type EventWindow } from '../../../src/main/electron/ipc-main'
import { createSenderCheck, TrustedSenders } from '../../../src/main/electron/trusted-senders'
import { ok, type Result } from '../../../src/shared/errors'
import { INVOKE_CHANNELS, type InvokeChannel, type InvokeHandlers } from '../../../src/shared/ipc-contract'
import { FakeIpcMain, FakeWebContents, RENDERER_INDEX, RENDERER_URL, ipcEvent } from './stand-ins'

const appOrigin = resolveAppOrigin({ isPackaged: true, devServerUrl: undefined, rendererIndexPath: RENDERER_INDEX })
const isOwnPage = (url: string) => isAppUrl(appOrigin, url)

/** Handlers that answer `ok({ channel, args })` and record their calls. */
function recordingHandlers() {
  const calls: { channel: InvokeChannel; args: unknown[] }[] = []
  const handlers = {} as InvokeHandlers
  for (const channel of INVOKE_CHANNELS) {
    handlers[channel] = vi.fn(async (args: unknown[]) => {
      calls.push({ channel, args })
      return ok({ channel, args })
    })
  }
  return { handlers, calls }
}

/** ipcMain wired to a trusted window (webContents 1) showing the app. */
function setup(handlers: InvokeHandlers = recordingHandlers().handlers) {
  const ipcMain = new FakeIpcMain()
  const trusted = new TrustedSenders()
  const mainContents = new FakeWebContents(1)
  trusted.trust(mainContents)
  const log = vi.fn()
  const unregister = registerIpc(ipcMain, handlers, createSenderCheck(trusted, isOwnPage), log)
  return { ipcMain, trusted, mainContents, log, unregister }
}

function expectError(result: Result<unknown>, code: string) {
  expect(result.ok).toBe(false)
  if (!result.ok) expect(result.error.code).toBe(code)
}

describe('registerIpc', () => {
  it('registers every contract channel exactly once, and nothing else', () => {
    const { ipcMain } = setup()
    expect(ipcMain.handleCalls).toBe(INVOKE_CHANNELS.length)
    expect([...ipcMain.handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort())
  })

  it('removes its handlers again', () => {
    const { ipcMain, unregister } = setup()
    unregister()
    expect(ipcMain.handlers.size).toBe(0)
  })

  it('passes the argument list to the handler and returns its Result', async () => {
    const { handlers, calls } = recordingHandlers()
    const { ipcMain } = setup(handlers)
    const result = await ipcMain.invoke('secrets:set', ipcEvent(1), 'p1', 'gatewayToken', 'value')
    expect(calls).toEqual([{ channel: 'secrets:set', args: ['p1', 'gatewayToken', 'value'] }])
    expect(result).toEqual({ ok: true, value: { channel: 'secrets:set', args: ['p1', 'gatewayToken', 'value'] } })
  })

  it('passes error Results through unchanged', async () => {
    const { handlers } = recordingHandlers()
    const refusal: Result<never> = {
      ok: false,
      error: { code: 'INVALID_INPUT', category: 'input', title: 't', message: 'm', nextSteps: [], details: {}, retryable: false }
    }
    handlers['profiles:remove'] = async () => refusal
    const { ipcMain } = setup(handlers)
    expect(await ipcMain.invoke('profiles:remove', ipcEvent(1), 'x')).toEqual(refusal)
  })

  it.each([
    ['another webContents', ipcEvent(2)],
    ['a subframe', ipcEvent(1, { parent: { url: RENDERER_URL } })],
    ['a frame that is gone', ipcEvent(1, null)],
    ['a detached frame', ipcEvent(1, { detached: true })],
    ['a foreign origin', ipcEvent(1, { url: 'https://evil.example/' })],
    ['a file outside the app', ipcEvent(1, { url: 'file:///tmp/evil/index.html' })],
    ['another file next to the renderer', ipcEvent(1, { url: RENDERER_URL.replace('index.html', 'other.html') })]
  ])('refuses %s with an error Result, without calling the handler', async (_what, event) => {
    const { handlers, calls } = recordingHandlers()
    const { ipcMain, log } = setup(handlers)
    for (const channel of INVOKE_CHANNELS) {
      const result = await ipcMain.invoke(channel, event, 'p1')
      expectError(result, 'INTERNAL')
      if (!result.ok) expect(result.error.details.check).toBe('untrusted-sender')
    }
    expect(calls).toEqual([])
    expect(log).toHaveBeenCalled()
  })

  it('stops trusting a webContents once it is destroyed', async () => {
    const { handlers, calls } = recordingHandlers()
    const { ipcMain, mainContents } = setup(handlers)
    expect((await ipcMain.invoke('app:info', ipcEvent(1))).ok).toBe(true)
    mainContents.destroy()
    expectError(await ipcMain.invoke('app:info', ipcEvent(1)), 'INTERNAL')
    expect(calls).toHaveLength(1)
  })

  it('turns a throwing handler into a generic error Result; the stack goes only to the log', async () => {
    const { handlers } = recordingHandlers()
    const boom = new Error('secret-bearing message sk-live-123456')
    handlers['profiles:save'] = async () => {
      throw boom
    }
    const { ipcMain, log } = setup(handlers)
    const result = await ipcMain.invoke('profiles:save', ipcEvent(1), {})
    expectError(result, 'INTERNAL')
    const wire = JSON.stringify(result)
    expect(wire).not.toContain('sk-live-123456')
    expect(wire).not.toContain('secret-bearing')
    expect(wire).not.toMatch(/\bat .*\(|ipc-main|\.ts:\d+/)
    expect(log).toHaveBeenCalledWith(expect.stringContaining('profiles:save'), boom)
  })

  it('turns a synchronous throw and a non-Result answer into error Results too', async () => {
    const { handlers } = recordingHandlers()
    handlers['app:info'] = (() => {
      throw new TypeError('sync')
    }) as unknown as InvokeHandlers['app:info']
    handlers['profiles:list'] = (async () => 'not a result') as unknown as InvokeHandlers['profiles:list']
    const { ipcMain } = setup(handlers)
    expectError(await ipcMain.invoke('app:info', ipcEvent(1)), 'INTERNAL')
    expectError(await ipcMain.invoke('profiles:list', ipcEvent(1)), 'INTERNAL')
  })

  it('treats a sender check that throws as a refusal', async () => {
    const { handlers, calls } = recordingHandlers()
    const ipcMain = new FakeIpcMain()
    registerIpc(
      ipcMain,
      handlers,
      () => {
        throw new Error('frame gone')
      },
      () => undefined
    )
    expectError(await ipcMain.invoke('app:info', ipcEvent(1)), 'INTERNAL')
    expect(calls).toEqual([])
  })
})

describe('deferHandlers', () => {
  it('holds requests until the services are ready', async () => {
    const { handlers, calls } = recordingHandlers()
    let resolveReady!: (h: InvokeHandlers) => void
    const ready = new Promise<InvokeHandlers>((resolve) => (resolveReady = resolve))
    const { ipcMain } = setup(deferHandlers(ready))
    const pending = ipcMain.invoke('profiles:list', ipcEvent(1))
    await new Promise((r) => setTimeout(r, 5))
    expect(calls).toEqual([])
    resolveReady(handlers)
    expect((await pending).ok).toBe(true)
    expect(calls).toEqual([{ channel: 'profiles:list', args: [] }])
  })

  it('answers with an error Result when the services never start', async () => {
    const { ipcMain } = setup(deferHandlers(Promise.reject(new Error('keychain exploded'))))
    const result = await ipcMain.invoke('app:info', ipcEvent(1))
    expectError(result, 'INTERNAL')
    expect(JSON.stringify(result)).not.toContain('keychain exploded')
  })
})

describe('createEventSink', () => {
  function fakeWindow(contents: FakeWebContents, destroyed = false): EventWindow {
    return { isDestroyed: () => destroyed, webContents: contents }
  }

  it('sends contract events only to trusted, live windows that show the app', () => {
    const trusted = new TrustedSenders()
    const good = new FakeWebContents(1)
    const alsoGood = new FakeWebContents(2)
    const untrusted = new FakeWebContents(3)
    const closedWindow = new FakeWebContents(4)
    const destroyedContents = new FakeWebContents(5)
    const navigatedAway = new FakeWebContents(6, 'https://evil.example/')
    for (const c of [good, alsoGood, closedWindow, destroyedContents, navigatedAway]) trusted.trust(c)
    destroyedContents.destroyed = true
    const windows = [
      fakeWindow(good),
      fakeWindow(untrusted),
      fakeWindow(closedWindow, true),
      fakeWindow(destroyedContents),
      fakeWindow(navigatedAway),
      fakeWindow(alsoGood)
    ]
    const sink = createEventSink(() => windows, { trusted, isAppUrl: isOwnPage }, () => undefined)
    const snapshot = { profileId: 'p1' } as never
    sink('connection:state', snapshot)
    expect(good.sent).toEqual([{ channel: 'connection:state', payload: snapshot }])
    expect(alsoGood.sent).toEqual([{ channel: 'connection:state', payload: snapshot }])
    for (const c of [untrusted, closedWindow, destroyedContents, navigatedAway]) expect(c.sent).toEqual([])
  })

  it('stops sending to a webContents once it is destroyed', () => {
    const trusted = new TrustedSenders()
    const contents = new FakeWebContents(1)
    trusted.trust(contents)
    const sink = createEventSink(() => [fakeWindow(contents)], { trusted, isAppUrl: isOwnPage }, () => undefined)
    contents.emit('destroyed')
    sink('session:event', { type: 'final' } as never)
    expect(contents.sent).toEqual([])
  })

  it('keeps going when one window fails, and drops channels outside the contract', () => {
    const trusted = new TrustedSenders()
    const failing = new FakeWebContents(1)
    const fine = new FakeWebContents(2)
    trusted.trust(failing)
    trusted.trust(fine)
    failing.send = () => {
      throw new Error('Object has been destroyed')
    }
    const log = vi.fn()
    const sink = createEventSink(() => [fakeWindow(failing), fakeWindow(fine)], { trusted, isAppUrl: isOwnPage }, log)
    sink('session:event', { type: 'delta' } as never)
    expect(fine.sent).toHaveLength(1)
    ;(sink as (channel: string, payload: unknown) => void)('evil:channel', {})
    expect(fine.sent).toHaveLength(1)
    expect(log).toHaveBeenCalledTimes(2)
  })
})
