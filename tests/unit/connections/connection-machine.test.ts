import { describe, expect, it } from 'vitest'
import { transition, type ConnectionEvent } from '../../../src/main/connections/connection-machine'
import type { ConnectionState } from '../../../src/shared/connection-state'
import { appError } from '../../../src/shared/errors'

const ctx = { now: 1_000_000, random: () => 0.5 }
const info = { protocol: 4, scopes: ['operator.read'], mainSessionKey: 'agent:main:main', connectedAt: 1, warnings: [] }
const run = (state: ConnectionState, ...events: ConnectionEvent[]) => {
  let s = state
  const effects = []
  for (const e of events) {
    const t = transition(s, e, ctx)
    s = t.state
    effects.push(...t.effects.map((x) => x.type))
  }
  return { state: s, effects }
}
const pairing = appError('PAIRING_REQUIRED', 't', 'm', {
  details: { pairingRequestId: 'r-1' },
  nextSteps: [{ action: 'approve-pairing', label: 'x', command: 'openclaw devices approve r-1' }]
})
const access = appError('ACCESS_LOGIN_REQUIRED', 't', 'm')
const refused = appError('CONNECTION_REFUSED', 't', 'm', { retryable: true })
const starting = appError('GATEWAY_UNAVAILABLE', 't', 'm', { retryable: true })
const token = appError('GATEWAY_TOKEN_MISMATCH', 't', 'm')

describe('connection state machine', () => {
  it('idle → connecting → handshaking → ready', () => {
    const r = run({ kind: 'idle' }, { type: 'connect-requested' }, { type: 'socket-opened' }, { type: 'connected', info })
    expect(r.state).toEqual({ kind: 'ready', info })
    expect(r.effects).toEqual(['dial'])
  })
  it('pairing required waits and retries by itself with the command kept', () => {
    const r = run({ kind: 'idle' }, { type: 'connect-requested' }, { type: 'connect-failed', error: pairing })
    expect(r.state).toMatchObject({ kind: 'pairing-required', requestId: 'r-1', command: 'openclaw devices approve r-1', attempt: 1 })
    expect(r.effects).toEqual(['dial', 'schedule-retry'])
    const again = run(r.state, { type: 'retry-timer-fired' })
    expect(again.state).toMatchObject({ kind: 'connecting', attempt: 2 })
    expect(again.effects).toEqual(['dial'])
  })
  it('Access refusals wait for the user: no retry', () => {
    const r = run({ kind: 'idle' }, { type: 'connect-requested' }, { type: 'connect-failed', error: access })
    expect(r.state).toEqual({ kind: 'access-required', error: access })
    expect(r.effects).toEqual(['dial'])
    expect(run(r.state, { type: 'retry-timer-fired' }).state.kind).toBe('access-required')
    expect(run(r.state, { type: 'credentials-updated' }).state.kind).toBe('connecting')
  })
  it('a first attempt that is refused or rejected fails at once', () => {
    expect(run({ kind: 'idle' }, { type: 'connect-requested' }, { type: 'connect-failed', error: refused }).state.kind).toBe('failed')
    expect(run({ kind: 'idle' }, { type: 'connect-requested' }, { type: 'connect-failed', error: token }).state.kind).toBe('failed')
  })
  it('a gateway that is starting is retried', () => {
    const r = run({ kind: 'idle' }, { type: 'connect-requested' }, { type: 'connect-failed', error: starting })
    expect(r.state).toMatchObject({ kind: 'reconnecting', attempt: 1, lastError: starting })
  })
  it('a dropped link reconnects with growing backoff until it is back; attempts reset on ready', () => {
    let r = run({ kind: 'ready', info }, { type: 'link-dropped', error: appError('CONNECTION_CLOSED', 't', 'm') })
    expect(r.state).toMatchObject({ kind: 'reconnecting', attempt: 1 })
    const first = (r.state as { retryAt: number }).retryAt - ctx.now
    r = run(r.state, { type: 'retry-timer-fired' }, { type: 'connect-failed', error: refused })
    expect(r.state).toMatchObject({ kind: 'reconnecting', attempt: 2 })
    expect((r.state as { retryAt: number }).retryAt - ctx.now).toBeGreaterThan(first)
    r = run(r.state, { type: 'retry-timer-fired' }, { type: 'socket-opened' }, { type: 'connected', info })
    expect(r.state.kind).toBe('ready')
    const again = run(r.state, { type: 'link-dropped', error: refused })
    expect(again.state).toMatchObject({ kind: 'reconnecting', attempt: 1 })
  })
  it('disconnect from anywhere goes idle, cancelling timers and closing the socket', () => {
    for (const state of [
      { kind: 'ready', info },
      { kind: 'reconnecting', attempt: 3, retryAt: 5, lastError: refused },
      { kind: 'connecting', attempt: 1, resuming: false }
    ] as ConnectionState[]) {
      const r = run(state, { type: 'disconnect-requested' })
      expect(r.state).toEqual({ kind: 'idle' })
      expect(r.effects).toEqual(['cancel-retry', 'close-socket'])
    }
  })
  it('a late success after a disconnect closes the socket; stale events are ignored', () => {
    expect(run({ kind: 'idle' }, { type: 'connected', info })).toEqual({ state: { kind: 'idle' }, effects: ['close-socket'] })
    expect(run({ kind: 'idle' }, { type: 'connect-failed', error: refused }).state).toEqual({ kind: 'idle' })
    expect(run({ kind: 'failed', error: token }, { type: 'link-dropped', error: refused }).state.kind).toBe('failed')
  })
  it('connect while reconnecting retries now', () => {
    const r = run({ kind: 'reconnecting', attempt: 2, retryAt: 9, lastError: refused }, { type: 'connect-requested' })
    expect(r.state).toMatchObject({ kind: 'connecting', attempt: 3, resuming: true })
    expect(r.effects).toEqual(['cancel-retry', 'dial'])
  })
})

describe('credentials changed mid-dial', () => {
  it('restarts the dial with the new credentials', () => {
    const r = run({ kind: 'handshaking', attempt: 1, resuming: false }, { type: 'credentials-updated' })
    expect(r.state).toEqual({ kind: 'connecting', attempt: 1, resuming: false })
    expect(r.effects).toEqual(['close-socket', 'dial'])
  })
})
