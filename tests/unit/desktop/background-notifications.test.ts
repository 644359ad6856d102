import { describe, expect, it } from 'vitest'
import { BackgroundNotificationPolicy, previewText } from '../../../src/main/desktop/background-notifications'
import type { ConnectionSnapshot, ConnectionState } from '../../../src/shared/connection-state'
import { appError } from '../../../src/shared/errors'
import type { SessionEvent } from '../../../src/shared/ipc-contract'

const ready: ConnectionState = {
  kind: 'ready',
  info: { protocol: 3, scopes: [], mainSessionKey: 'agent:main:main', connectedAt: 1, warnings: [] }
}
const dropped: ConnectionState = {
  kind: 'reconnecting',
  attempt: 1,
  retryAt: 5,
  lastError: appError('CONNECTION_CLOSED' as never, 'The connection was lost', 'The gateway closed the connection.')
}

function setup(opts: { names?: Record<string, string> } = {}) {
  let now = 1_000_000
  const seqs = new Map<string, number>()
  const policy = new BackgroundNotificationPolicy({ now: () => now, nameOf: (id) => (opts.names ?? { p1: 'Prod gateway' })[id] })
  const snap = (state: ConnectionState, profileId = 'p1'): ConnectionSnapshot => {
    const seq = (seqs.get(profileId) ?? 0) + 1
    seqs.set(profileId, seq)
    return { profileId, seq, state }
  }
  return { policy, snap, advance: (ms: number) => (now += ms) }
}

const final = (text: string, profileId = 'p1', sessionKey = 'agent:main:main'): SessionEvent => ({ type: 'final', profileId, sessionKey, runId: 'r1', text })

describe('background notifications', () => {
  it('notifies when a ready connection drops while the window is in the background', () => {
    const { policy, snap } = setup()
    expect(policy.onConnectionState(snap({ kind: 'connecting', attempt: 1, resuming: false }), false)).toBeNull()
    expect(policy.onConnectionState(snap(ready), false)).toBeNull()
    const n = policy.onConnectionState(snap(dropped), false)
    expect(n).toEqual({ kind: 'connection-lost', profileId: 'p1', title: 'Prod gateway: connection lost', body: 'The connection was lost. Reconnecting…' })
  })

  it('stays quiet while the window has focus', () => {
    const { policy, snap } = setup()
    policy.onConnectionState(snap(ready), true)
    expect(policy.onConnectionState(snap(dropped), true)).toBeNull()
    expect(policy.onSessionEvent(final('done'), true)).toBeNull()
  })

  it('does not notify for a link that was never ready, or for a disconnect the user asked for', () => {
    const { policy, snap } = setup()
    policy.onConnectionState(snap({ kind: 'connecting', attempt: 1, resuming: false }), false)
    expect(policy.onConnectionState(snap({ kind: 'failed', error: appError('INVALID_URL', 'Bad address', 'x') }), false)).toBeNull()
    policy.onConnectionState(snap(ready), false)
    expect(policy.onConnectionState(snap({ kind: 'idle' }), false)).toBeNull()
  })

  it('ignores stale snapshots (seq not newer)', () => {
    const { policy } = setup()
    policy.onConnectionState({ profileId: 'p1', seq: 5, state: ready }, false)
    expect(policy.onConnectionState({ profileId: 'p1', seq: 4, state: dropped }, false)).toBeNull()
    expect(policy.onConnectionState({ profileId: 'p1', seq: 6, state: dropped }, false)).not.toBeNull()
  })

  it('notifies when a reply finishes, with a short one-line preview', () => {
    const { policy } = setup()
    const long = `**Done.** The deployment finished\nwith ${'many words '.repeat(30)}`
    const n = policy.onSessionEvent(final(long), false)
    expect(n?.kind).toBe('reply-finished')
    expect(n?.title).toBe('Prod gateway: reply finished')
    expect(n?.body.startsWith('Done. The deployment finished with many words')).toBe(true)
    expect(n?.body.length).toBeLessThanOrEqual(80)
    expect(n?.body.endsWith('…')).toBe(true)
    expect(n?.body).not.toContain('\n')
  })

  it('never shows credentials from a reply in the preview', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    expect(previewText(`token=abc123secret and ${jwt}`)).toBe('••• and •••')
    expect(previewText('key: 0123456789abcdef0123456789abcdef')).not.toContain('0123456789abcdef')
    expect(previewText('password = hunter22')).not.toContain('hunter22')
  })

  it('reports a failed reply by its message, not deltas or starts, and not an abort the user asked for', () => {
    const { policy } = setup()
    const base = { profileId: 'p1', sessionKey: 's', runId: 'r' }
    expect(policy.onSessionEvent({ type: 'delta', ...base, text: 'partial' }, false)).toBeNull()
    expect(policy.onSessionEvent({ type: 'run-started', ...base, userText: 'hi', clientMessageId: 'c' }, false)).toBeNull()
    expect(policy.onSessionEvent({ type: 'aborted', ...base, text: 'partial' }, false)).toBeNull()
    const n = policy.onSessionEvent({ type: 'error', ...base, text: 'partial reply body', message: 'The model timed out' }, false)
    expect(n).toMatchObject({ kind: 'reply-failed', title: 'Prod gateway: the reply failed', body: 'The model timed out' })
  })

  it('rate-limits per gateway: a flapping link notifies once per interval', () => {
    const { policy, snap, advance } = setup()
    let shown = 0
    for (let i = 0; i < 10; i++) {
      policy.onConnectionState(snap(ready), false)
      if (policy.onConnectionState(snap(dropped), false)) shown++
      advance(1_000)
    }
    expect(shown).toBe(1)
    advance(30_000)
    policy.onConnectionState(snap(ready), false)
    expect(policy.onConnectionState(snap(dropped), false)).not.toBeNull()
  })

  it('caps the total across gateways within a minute', () => {
    const { policy, advance } = setup({ names: {} })
    let shown = 0
    for (let i = 0; i < 20; i++) if (policy.onSessionEvent(final('ok', `p${i}`), false)) shown++
    expect(shown).toBe(5)
    advance(60_000)
    expect(policy.onSessionEvent(final('ok', 'p99'), false)?.title).toBe('Gateway: reply finished')
  })

  it('strips control characters from the gateway name', () => {
    const { policy } = setup({ names: { p1: 'Evil\u001b[31m\nname' } })
    expect(policy.onSessionEvent(final('ok'), false)?.title).toBe('Evil [31m name: reply finished')
  })
})
