// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { waitFor } from '@testing-library/react'
import { applySnapshot, connectProfile, startBridge } from '../../src/renderer/src/lib/bridge'
import { useConnections } from '../../src/renderer/src/stores/connections-store'
import { LOCAL_GATEWAY_DRAFT, useProfiles } from '../../src/renderer/src/stores/profiles-store'
import { threadKey, useSession } from '../../src/renderer/src/stores/session-store'
import { appError, fail } from '../../src/shared/errors'
import type { FakeApi } from './support/fake-api'
import { allStoreState, freshApp } from './support/harness'

let fake: FakeApi

beforeEach(() => {
  fake = freshApp()
})

const kindOf = (profileId: string) => useConnections.getState().snapshots[profileId]?.state.kind

describe('bridge', () => {
  it('subscribes to pushed events before it fetches the snapshots', async () => {
    const stop = startBridge()
    await waitFor(() => expect(fake.callsTo('connection.snapshots')).toHaveLength(1))
    const order = fake.calls.map((c) => c.method)
    expect(order.indexOf('connection.onState')).toBeLessThan(order.indexOf('connection.snapshots'))
    expect(order.indexOf('session.onEvent')).toBeLessThan(order.indexOf('connection.snapshots'))
    stop()
  })

  it('keeps a state pushed while the snapshots were fetched over the older fetched one', async () => {
    fake.snapshots = [{ profileId: 'p1', seq: 4, state: { kind: 'connecting', attempt: 1, resuming: false } }]
    fake.beforeSnapshotsAnswer = () => fake.pushState('p1', { kind: 'handshaking', attempt: 1, resuming: false }, 5)
    const stop = startBridge()
    await waitFor(() => expect(fake.callsTo('connection.snapshots')).toHaveLength(1))
    await waitFor(() => expect(useConnections.getState().snapshots.p1?.seq).toBe(5))
    expect(kindOf('p1')).toBe('handshaking')
    stop()
  })

  it('drops snapshots whose seq is not newer, per profile', () => {
    expect(applySnapshot({ profileId: 'p1', seq: 3, state: { kind: 'connecting', attempt: 1, resuming: false } })).toBe(true)
    expect(applySnapshot({ profileId: 'p1', seq: 3, state: { kind: 'idle' } })).toBe(false)
    expect(applySnapshot({ profileId: 'p1', seq: 2, state: { kind: 'idle' } })).toBe(false)
    expect(kindOf('p1')).toBe('connecting')
    // Another profile has its own sequence.
    expect(applySnapshot({ profileId: 'p2', seq: 1, state: { kind: 'idle' } })).toBe(true)
    expect(applySnapshot({ profileId: 'p1', seq: 4, state: { kind: 'handshaking', attempt: 1, resuming: false } })).toBe(true)
    expect(kindOf('p1')).toBe('handshaking')
  })

  it('stops writing to the stores once disposed', async () => {
    const stop = startBridge()
    stop()
    fake.pushState('p1', { kind: 'connecting', attempt: 1, resuming: false }, 1)
    expect(kindOf('p1')).toBeUndefined()
  })

  it('passes the snapshot connect returns through the same filter', async () => {
    fake.pushState('p1', { kind: 'idle' }, 1)
    await connectProfile('p1')
    expect(kindOf('p1')).toBe('connecting')
    expect(useConnections.getState().pending.p1).toBeUndefined()
  })
})

describe('profiles store', () => {
  it('never creates profiles itself (the main process seeds the first start), even when loaded twice at once', async () => {
    await Promise.all([useProfiles.getState().load(), useProfiles.getState().load()])
    expect(fake.callsTo('profiles.save')).toEqual([])
    expect(fake.callsTo('profiles.list')).toHaveLength(1)
    expect(useProfiles.getState().profiles).toEqual([])
  })

  it('the empty list offers the Local gateway draft', () => {
    expect(LOCAL_GATEWAY_DRAFT).toMatchObject({ name: 'Local gateway', url: 'ws://127.0.0.1:18789', access: { mode: 'none' } })
  })

  it('does not create it when profiles exist', async () => {
    fake.addProfile({ name: 'Prod', url: 'wss://gw.example.com' })
    await useProfiles.getState().load()
    expect(fake.callsTo('profiles.save')).toEqual([])
  })

  it('keeps only the secret status after setting a secret', async () => {
    const profile = fake.addProfile({ name: 'Prod', url: 'wss://gw.example.com' })
    await useProfiles.getState().load()
    const token = 'tok-0123456789-secret-wxyz'
    const result = await useProfiles.getState().setSecret(profile.id, 'gatewayToken', token)
    expect(result.ok).toBe(true)
    expect(useProfiles.getState().profiles[0]?.secrets.gatewayToken).toEqual({ set: true, hint: 'set, ends in …wxyz' })
    expect(allStoreState()).not.toContain(token)
  })
})

describe('session store', () => {
  const key = threadKey('p1', 'agent:main:main')
  const thread = () => useSession.getState().threads[key]!

  it('replaces the streaming reply with the whole text of each event', async () => {
    const { applyEvent } = useSession.getState()
    applyEvent({ type: 'run-started', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r1', userText: 'hi', clientMessageId: 'c1' })
    applyEvent({ type: 'delta', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r1', text: 'Hel' })
    applyEvent({ type: 'delta', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r1', text: 'Hello, wor' })
    expect(thread().messages.map((m) => [m.role, m.text, m.status])).toEqual([
      ['user', 'hi', undefined],
      ['assistant', 'Hello, wor', 'streaming']
    ])
    expect(thread().activeRunId).toBe('r1')
    applyEvent({ type: 'final', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r1', text: 'Hello, world!' })
    // A late delta must not reopen the finished reply.
    applyEvent({ type: 'delta', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r1', text: 'Hello, wo' })
    expect(thread().messages[1]).toMatchObject({ text: 'Hello, world!', status: 'final' })
    expect(thread().activeRunId).toBeUndefined()
  })

  it('an empty final reloads the transcript instead of leaving an empty reply', async () => {
    const { applyEvent } = useSession.getState()
    applyEvent({ type: 'run-started', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r9', userText: 'hi', clientMessageId: 'c9' })
    applyEvent({ type: 'final', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r9', text: '' })
    await vi.waitFor(() => expect(fake.callsTo('session.history')).toEqual([['p1', 'agent:main:main']]))
  })

  it('shows a sent message at once and marks it sent', async () => {
    const sending = useSession.getState().send('p1', 'agent:main:main', '  hello there  ')
    expect(thread().messages[0]).toMatchObject({ role: 'user', text: 'hello there', delivery: 'sending' })
    await sending
    expect(thread().messages[0]).toMatchObject({ delivery: 'sent', runId: 'run-1' })
    expect(thread().activeRunId).toBe('run-1')
    const [, , text, clientMessageId] = fake.callsTo('session.send')[0] as string[]
    expect(text).toBe('hello there')
    expect(clientMessageId).toBe(thread().messages[0]?.id)
  })

  it('keeps a message whose send failed, with its text, and retries it with the same id', async () => {
    fake.sendResult = () => fail(appError('CONNECTION_CLOSED', 'The connection closed', 'The gateway went away.'))
    const result = await useSession.getState().send('p1', 'agent:main:main', 'please keep me')
    expect(result.ok).toBe(false)
    const failed = thread().messages[0]!
    expect(failed).toMatchObject({ text: 'please keep me', delivery: 'failed' })
    expect(failed.sendError?.code).toBe('CONNECTION_CLOSED')

    fake.sendResult = undefined
    await useSession.getState().retrySend('p1', 'agent:main:main', failed.id)
    expect(thread().messages).toHaveLength(1)
    expect(thread().messages[0]).toMatchObject({ id: failed.id, text: 'please keep me', delivery: 'sent' })
    const ids = (fake.callsTo('session.send') as string[][]).map((args) => args[3])
    expect(ids).toEqual([failed.id, failed.id])
  })

  it('merges history without losing an unsent message', async () => {
    fake.sendResult = () => fail(appError('CONNECTION_CLOSED', 'The connection closed', 'The gateway went away.'))
    await useSession.getState().send('p1', 'agent:main:main', 'draft that failed')
    fake.history.set('p1/agent:main:main', [
      { id: 'h1', role: 'user', text: 'earlier question' },
      { id: 'h2', role: 'assistant', text: 'earlier answer', status: 'final' }
    ])
    await useSession.getState().loadHistory('p1', 'agent:main:main')
    expect(thread().messages.map((m) => m.text)).toEqual(['earlier question', 'earlier answer', 'draft that failed'])
    expect(thread().history.status).toBe('loaded')
  })

  it('marks an aborted and a failed reply', () => {
    const { applyEvent } = useSession.getState()
    applyEvent({ type: 'delta', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r1', text: 'part' })
    applyEvent({ type: 'aborted', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r1', text: 'part' })
    applyEvent({ type: 'error', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r2', text: '', message: 'model overloaded' })
    expect(thread().messages.map((m) => [m.status, m.error])).toEqual([
      ['aborted', undefined],
      ['error', 'model overloaded']
    ])
  })

  it('aborts the active run by id', async () => {
    useSession.getState().applyEvent({ type: 'run-started', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'r9', userText: 'x', clientMessageId: 'c9' })
    await useSession.getState().abort('p1', 'agent:main:main')
    expect(fake.callsTo('session.abort')).toEqual([['p1', 'agent:main:main', 'r9']])
  })
})

describe('runs of other clients', () => {
  it('stream into their own bubble and then reload the transcript for their question', async () => {
    const key = threadKey('p1', 'agent:main:main')
    const { applyEvent } = useSession.getState()
    applyEvent({ type: 'delta', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'elsewhere', text: 'Hi from' })
    expect(useSession.getState().threads[key]!.messages.at(-1)).toMatchObject({ role: 'assistant', text: 'Hi from', status: 'streaming' })
    applyEvent({ type: 'final', profileId: 'p1', sessionKey: 'agent:main:main', runId: 'elsewhere', text: 'Hi from the CLI.' })
    await vi.waitFor(() => expect(fake.callsTo('session.history')).toEqual([['p1', 'agent:main:main']]))
  })
})
