import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createAppServices, safeExternalUrl, type AppServices } from '../../../src/main/app-services'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import type { ConnectionSnapshot } from '../../../src/shared/connection-state'
import type { AccessSignInStatus, EventChannel, ProfileView, SessionEvent } from '../../../src/shared/ipc-contract'
import { startFakeGateway, type FakeGateway } from '../../support/fake-gateway'
import type { AccessLoginWindows } from '../../../src/main/electron/access-login-window'
import { accessToken } from '../cf-access/sign-in/tokens'

const TOKEN = 'fake-gateway-token-0123456789'
let services: AppServices | undefined
let gw: FakeGateway | undefined
afterEach(async () => {
  await services?.dispose()
  await gw?.close()
})

function setup(configDir = mkdtempSync(join(tmpdir(), 'aether-svc-')), extra: Partial<Parameters<typeof createAppServices>[0]> = {}) {
  const opened: string[] = []
  const events: { channel: EventChannel; payload: unknown }[] = []
  services = createAppServices({
    configDir,
    secrets: new MemorySecretStore(),
    secretStorage: { kind: 'memory' },
    openExternal: async (url) => {
      opened.push(url)
    },
    clientInfo: { version: '0.1.0', platform: 'linux', deviceFamily: 'desktop', displayName: 'test' },
    userAgent: 'test',
    ...extra
  })
  services.setEventSink((channel, payload) => events.push({ channel, payload }))
  const call = async <T>(channel: string, ...args: unknown[]): Promise<T> => {
    const r = await services!.handlers[channel as keyof AppServices['handlers']](args)
    if (!r.ok) throw Object.assign(new Error(r.error.message), { appError: r.error })
    return r.value as T
  }
  const raw = (channel: string, ...args: unknown[]) => services!.handlers[channel as keyof AppServices['handlers']](args)
  return { call, raw, events, opened }
}

const waitFor = async (pred: () => boolean, ms = 5_000) => {
  const t0 = Date.now()
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('app services (the handlers behind IPC)', () => {
  it('offers the local gateway on a first start', async () => {
    const { call } = setup()
    const list = await call<ProfileView[]>('profiles:list')
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ name: 'Local gateway', url: 'ws://127.0.0.1:18789', sessionKey: 'agent:main:main' })
    expect(list[0]!.secrets.gatewayToken).toEqual({ set: false, hint: 'not set' })
  })

  it('does not bring the local gateway back after the operator removed every gateway', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aether-svc-'))
    const first = setup(dir)
    const [seeded] = await first.call<ProfileView[]>('profiles:list')
    await first.call('profiles:remove', seeded!.id)
    await services!.dispose()
    const again = setup(dir)
    expect(await again.call<ProfileView[]>('profiles:list')).toEqual([])
  })

  it('validates arguments with the contract schema and returns errors as values', async () => {
    const { raw } = setup()
    const r = await raw('profiles:remove', 42)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error.code).toBe('INVALID_INPUT')
    const extra = await raw('profiles:save', { name: 'x', url: 'ws://a', access: { mode: 'none' }, token: 'sneaky' })
    expect(!extra.ok && extra.error.code).toBe('INVALID_INPUT')
  })

  it('secrets are write-only: set returns a hint, never the value', async () => {
    const { call } = setup()
    const p = await call<ProfileView>('profiles:save', { name: 'A', url: 'ws://127.0.0.1:1', access: { mode: 'none' } })
    const status = await call<Record<string, { set: boolean; hint: string }>>('secrets:set', p.id, 'gatewayToken', '  my-very-secret-token-1234\n')
    expect(status.gatewayToken).toEqual({ set: true, hint: 'set, ends in …1234' })
    expect(JSON.stringify(await call('profiles:list'))).not.toContain('my-very-secret-token')
    const cleared = await call<Record<string, { set: boolean }>>('secrets:clear', p.id, 'gatewayToken')
    expect(cleared.gatewayToken!.set).toBe(false)
  })

  it('connects, streams a chat, and pushes state and session events', async () => {
    gw = await startFakeGateway({ token: TOKEN })
    const { call, events } = setup()
    const p = await call<ProfileView>('profiles:save', { name: 'Fake', url: gw.url, access: { mode: 'none' } })
    await call('secrets:set', p.id, 'gatewayToken', TOKEN)
    await call('connection:connect', p.id)
    const states = () => events.filter((e) => e.channel === 'connection:state').map((e) => (e.payload as ConnectionSnapshot).state.kind)
    await waitFor(() => states().includes('ready'))
    expect(states()).toEqual(['connecting', 'handshaking', 'ready'])
    const seqs = events.filter((e) => e.channel === 'connection:state').map((e) => (e.payload as ConnectionSnapshot).seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    const { runId } = await call<{ runId: string }>('session:send', p.id, 'agent:main:main', 'hello', 'client-msg-1')
    expect(runId).toBe('client-msg-1')
    const session = () => events.filter((e) => e.channel === 'session:event').map((e) => e.payload as SessionEvent)
    await waitFor(() => session().some((e) => e.type === 'final'))
    expect(session()[0]).toMatchObject({ type: 'run-started', userText: 'hello' })
    expect(session().find((e) => e.type === 'final')).toMatchObject({ text: 'Hello from the mock model. This is a canned streamed reply.' })
    const history = await call<{ text: string }[]>('session:history', p.id, 'agent:main:main')
    expect(history.map((m) => m.text)).toEqual(['hi', 'hello'])
    const list = await call<{ key: string }[]>('session:list', p.id)
    expect(list[0]!.key).toBe('agent:main:main')
    await call('connection:disconnect', p.id)
    expect(states().at(-1)).toBe('idle')
  })

  it('a dropped link shows reconnecting, then ready again', async () => {
    gw = await startFakeGateway({ token: TOKEN })
    const { call, events } = setup()
    const p = await call<ProfileView>('profiles:save', { name: 'Fake', url: gw.url, access: { mode: 'none' } })
    await call('secrets:set', p.id, 'gatewayToken', TOKEN)
    await call('connection:connect', p.id)
    const states = () => events.filter((e) => e.channel === 'connection:state').map((e) => (e.payload as ConnectionSnapshot).state.kind)
    await waitFor(() => states().includes('ready'))
    gw.dropAll()
    await waitFor(() => states().includes('reconnecting'))
    await waitFor(() => states().lastIndexOf('ready') > states().indexOf('reconnecting'), 8_000)
  })

  it('sending while not connected is an error value', async () => {
    const { call, raw } = setup()
    const p = await call<ProfileView>('profiles:save', { name: 'B', url: 'ws://127.0.0.1:9', access: { mode: 'none' } })
    const r = await raw('session:send', p.id, 'agent:main:main', 'hi', 'c1')
    expect(!r.ok && r.error.code).toBe('CONNECTION_CLOSED')
  })

  it('opens only re-serialised https and mailto links', async () => {
    const { raw, opened } = setup()
    expect((await raw('shell:open-external', 'https://docs.example.com/a b')).ok).toBe(true)
    expect(opened).toEqual(['https://docs.example.com/a%20b'])
    for (const bad of ['javascript:alert(1)', 'file:///etc/passwd', 'http://x.example', 'https://u:p@x.example', 'aether://x', 'not a url']) {
      expect(safeExternalUrl(bad)).toBeNull()
    }
  })
})

describe('hardening against a buggy or hostile renderer', () => {
  it('names profiles by id only: a name is not a key for secrets or connections', async () => {
    const { call, raw } = setup()
    await call<ProfileView>('profiles:save', { name: 'Target', url: 'ws://127.0.0.1:1', access: { mode: 'none' } })
    const byName = await raw('secrets:set', 'Target', 'gatewayToken', 'secret-value-123')
    expect(!byName.ok && byName.error.code).toBe('PROFILE_NOT_FOUND')
    expect(!(await raw('connection:connect', 'Target')).ok).toBe(true)
  })

  it('explains a value that is too long in plain words', async () => {
    const { raw } = setup()
    const r = await raw('session:send', 'p', 'agent:main:main', 'x'.repeat(200_001), 'c1')
    expect(!r.ok && r.error.message).toBe('The message is too long (at most 200,000 characters).')
  })

  it('a connected gateway whose address changed redials the new one', async () => {
    gw = await startFakeGateway({ token: TOKEN })
    const other = await startFakeGateway({ token: TOKEN })
    try {
      const { call, events } = setup()
      const p = await call<ProfileView>('profiles:save', { name: 'Fake', url: gw.url, access: { mode: 'none' } })
      await call('secrets:set', p.id, 'gatewayToken', TOKEN)
      await call('connection:connect', p.id)
      const states = () => events.filter((e) => e.channel === 'connection:state').map((e) => (e.payload as ConnectionSnapshot).state.kind)
      await waitFor(() => states().includes('ready'))
      await call('profiles:save', { id: p.id, name: 'Fake', url: other.url, access: { mode: 'none' } })
      await waitFor(() => other.connects.length === 1 && states().at(-1) === 'ready')
      expect(states().slice(-4)).toEqual(['idle', 'connecting', 'handshaking', 'ready'])
    } finally {
      await other.close()
    }
  })
})

describe('Cloudflare Access sign-in channels', () => {
  const emailProfile = { name: 'Prod', url: 'wss://gateway.example.workers.dev/ws', access: { mode: 'email-otp' as const } }

  it('lists a signed-out status per profile and, without a sign-in window, offers the browser', async () => {
    const { call } = setup(undefined, { defaultProfile: null })
    const saved = await call<ProfileView>('profiles:save', emailProfile)
    expect(await call<AccessSignInStatus[]>('access:status')).toEqual([{ profileId: saved.id, phase: 'signed-out', seq: 0 }])
    const status = await call<AccessSignInStatus>('access:sign-in', saved.id)
    expect(status).toMatchObject({ phase: 'signed-out', offerBrowser: true })
    expect(await call('access:cancel', saved.id)).toEqual({ cancelled: false })
  })

  it('a sign-in through the window stores the token, shows it as set, and never returns it', async () => {
    const nowSec = Math.floor(Date.now() / 1000)
    const token = await accessToken({ email: 'alice@example.com', aud: ['4f'.repeat(32)], iat: nowSec, nbf: nowSec, exp: nowSec + 3600 })
    const windows: AccessLoginWindows = {
      signIn: async () => ({ ok: true, value: { token, claims: {} as never, email: 'alice@example.com', expiresAtMs: 0, aud: '4f'.repeat(32), partition: 'p', shown: true } }),
      signOut: async () => ({ appLogout: 'done', teamLogout: 'done', storageCleared: true })
    }
    const { call, events } = setup(undefined, { defaultProfile: null, accessLoginWindows: windows })
    const saved = await call<ProfileView>('profiles:save', emailProfile)
    const status = await call<AccessSignInStatus>('access:sign-in', saved.id)
    expect(status).toMatchObject({ phase: 'signed-in', email: 'alice@example.com' })
    const [view] = await call<ProfileView[]>('profiles:list')
    expect(view!.secrets.cfAppToken.set).toBe(true)
    expect(view!.access.aud).toBe('4f'.repeat(32))
    expect(events.filter((e) => e.channel === 'access:status').map((e) => (e.payload as AccessSignInStatus).phase)).toEqual(['signing-in', 'signed-in'])
    expect(JSON.stringify(events)).not.toContain(token)
    expect(JSON.stringify(status)).not.toContain(token)
    const out = await call<AccessSignInStatus>('access:sign-out', saved.id)
    expect(out.phase).toBe('signed-out')
    expect((await call<ProfileView[]>('profiles:list'))[0]!.secrets.cfAppToken.set).toBe(false)
  })

  it('answers an unknown gateway the same way on every access and doctor channel', async () => {
    const { raw } = setup(undefined, { defaultProfile: null })
    for (const channel of ['access:sign-in', 'access:sign-in-browser', 'access:sign-out', 'doctor:run']) {
      const r = await raw(channel, 'no-such-profile')
      expect(r.ok, channel).toBe(false)
      expect(!r.ok && r.error.code, channel).toBe('PROFILE_NOT_FOUND')
    }
  })

  it('a request with the wrong number of parts says so in words', async () => {
    const { raw } = setup(undefined, { defaultProfile: null })
    for (const [channel, args] of [['access:status', ['x']], ['access:sign-in', ['a', 'b']], ['doctor:run', []]] as const) {
      const r = await raw(channel, ...args)
      expect(!r.ok && r.error.message, channel).toBe('The request does not have the parts this action takes.')
    }
  })

  it('an app token pasted by hand shows as signed in', async () => {
    const { call, events } = setup(undefined, { defaultProfile: null })
    const saved = await call<ProfileView>('profiles:save', emailProfile)
    await call('secrets:set', saved.id, 'cfAppToken', await accessToken({ email: 'bob@example.com', exp: Math.floor(Date.now() / 1000) + 3600 }))
    expect(events.filter((e) => e.channel === 'access:status').at(-1)?.payload).toMatchObject({ phase: 'signed-in', email: 'bob@example.com' })
  })
})
