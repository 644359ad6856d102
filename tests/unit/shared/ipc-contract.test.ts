import { describe, expect, it } from 'vitest'
import { buildApi, EVENT_CHANNELS, INVOKE_CHANNELS, INVOKE_SCHEMAS, type ApiTransport } from '../../../src/shared/ipc-contract'

function recordingTransport() {
  const invoked: { channel: string; args: unknown[] }[] = []
  const subscribed: string[] = []
  const t: ApiTransport = {
    invoke: async (channel, args) => {
      invoked.push({ channel, args })
      return { ok: true, value: null }
    },
    subscribe: (channel) => {
      subscribed.push(channel)
      return () => {}
    }
  }
  return { t, invoked, subscribed }
}

describe('the IPC contract', () => {
  it('the domain API reaches every request channel and every event channel, and nothing else', async () => {
    const { t, invoked, subscribed } = recordingTransport()
    const api = buildApi(t)
    await api.app.info()
    await api.profiles.list()
    await api.profiles.save({ name: 'n', url: 'ws://x', access: { mode: 'none' } })
    await api.profiles.remove('p')
    await api.secrets.set('p', 'gatewayToken', 'v')
    await api.secrets.clear('p', 'gatewayToken')
    await api.connection.connect('p')
    await api.connection.disconnect('p')
    await api.connection.snapshots()
    await api.session.history('p', 'k')
    await api.session.list('p')
    await api.session.send('p', 'k', 'hi', 'c1')
    await api.session.abort('p', 'k')
    await api.shell.openExternal('https://x')
    await api.access.signIn('p')
    await api.access.signInWithBrowser('p')
    await api.access.cancel('p')
    await api.access.signOut('p')
    await api.access.statuses()
    await api.doctor.run('p')
    await api.doctor.cancel('p')
    api.connection.onState(() => {})
    api.session.onEvent(() => {})
    api.access.onStatus(() => {})
    api.app.onOpenGateway(() => {})
    api.doctor.onProgress(() => {})
    expect(new Set(invoked.map((i) => i.channel))).toEqual(new Set(INVOKE_CHANNELS))
    expect(subscribed.sort()).toEqual([...EVENT_CHANNELS].sort())
  })

  it('every argument list the API sends passes its channel schema', async () => {
    const { t, invoked } = recordingTransport()
    const api = buildApi(t)
    await api.session.abort('p', 'agent:main:main', 'run-1')
    await api.session.abort('p', 'agent:main:main')
    await api.secrets.set('p', 'cfClientSecret', 'x')
    for (const { channel, args } of invoked) {
      expect(INVOKE_SCHEMAS[channel as keyof typeof INVOKE_SCHEMAS].safeParse(args).success).toBe(true)
    }
  })

  it.each([
    ['secrets:set', ['p', 'deviceToken', 'x']],
    ['secrets:set', ['p', 'gatewayToken', '']],
    ['profiles:save', [{ name: 'n', url: 'ws://x', access: { mode: 'none' }, gatewayToken: 'sneaky' }]],
    ['session:send', ['p', 'k', 'hi']],
    ['connection:connect', [' ']],
    ['connection:connect', ['p', 'extra']]
  ])('%s refuses %j', (channel, args) => {
    expect(INVOKE_SCHEMAS[channel as keyof typeof INVOKE_SCHEMAS].safeParse(args).success).toBe(false)
  })
})
