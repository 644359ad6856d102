/**
 * The connection state machine: one pure function from (state, event) to (state, effects).
 *
 * No I/O, no timers: the ConnectionManager performs the effects (dial, schedule a retry, close
 * the socket) and feeds their outcomes back as events. Rules:
 * - only `reconnecting` and `pairing-required` retry by themselves, with capped, jittered backoff;
 * - `access-required` never retries by itself: it waits for new credentials or a click, or it
 *   would loop the Access login;
 * - `failed` (bad URL, wrong token, protocol mismatch) waits for the user;
 * - a link that dropped after being ready reconnects; the attempt count resets on `ready`.
 */
import { assertNever, type ConnectionState, type ReadyInfo } from '../../shared/connection-state'
import type { AppError } from '../../shared/errors'
import { backoffDelay, PAIRING_BACKOFF, RECONNECT_BACKOFF } from '../gateway/backoff'

export type ConnectionEvent =
  | { type: 'connect-requested' }
  | { type: 'disconnect-requested' }
  | { type: 'credentials-updated' }
  | { type: 'socket-opened' }
  | { type: 'connected'; info: ReadyInfo }
  | { type: 'connect-failed'; error: AppError }
  | { type: 'link-dropped'; error: AppError }
  | { type: 'retry-timer-fired' }

export type ConnectionEffect =
  | { type: 'dial' }
  | { type: 'close-socket' }
  | { type: 'schedule-retry'; delayMs: number }
  | { type: 'cancel-retry' }

export interface Transition {
  state: ConnectionState
  effects: ConnectionEffect[]
}

export interface MachineContext {
  now: number
  random?: () => number
}

const stay = (state: ConnectionState): Transition => ({ state, effects: [] })

function attemptOf(state: ConnectionState): number {
  switch (state.kind) {
    case 'connecting':
    case 'handshaking':
    case 'reconnecting':
    case 'pairing-required':
      return state.attempt
    default:
      return 0
  }
}

/** Where a failed attempt leads, given the error and whether the link had been up. */
function afterFailure(error: AppError, attempt: number, ctx: MachineContext, wasReady: boolean): Transition {
  if (error.code === 'PAIRING_REQUIRED') {
    const delayMs = backoffDelay(Math.max(0, attempt - 1), PAIRING_BACKOFF, ctx.random)
    const command = error.nextSteps.find((s) => s.command)?.command
    return {
      state: {
        kind: 'pairing-required',
        error,
        attempt,
        ...(error.details.pairingRequestId ? { requestId: error.details.pairingRequestId } : {}),
        ...(command ? { command } : {})
      },
      effects: [{ type: 'schedule-retry', delayMs }]
    }
  }
  if (error.category === 'access') return { state: { kind: 'access-required', error }, effects: [] }
  if (error.code === 'CANCELLED') return { state: { kind: 'idle' }, effects: [] }
  // Reconnect by ourselves only when it can help: the link was up before (a drop, a gateway
  // restart), or the gateway said it is starting. A first attempt that fails for any other
  // reason is shown at once, with a Retry button.
  const transient = error.retryable && (wasReady || error.code === 'GATEWAY_UNAVAILABLE')
  if (transient) {
    const delayMs = backoffDelay(Math.max(0, attempt - 1), RECONNECT_BACKOFF, ctx.random)
    return {
      state: { kind: 'reconnecting', attempt, retryAt: ctx.now + delayMs, lastError: error },
      effects: [{ type: 'schedule-retry', delayMs }]
    }
  }
  return { state: { kind: 'failed', error }, effects: [] }
}

/** The one place connection state changes. */
export function transition(state: ConnectionState, event: ConnectionEvent, ctx: MachineContext): Transition {
  switch (event.type) {
    case 'connect-requested':
    case 'credentials-updated':
      switch (state.kind) {
        case 'connecting':
        case 'handshaking':
          // New credentials while a dial is in flight: that dial used the old ones, start over.
          if (event.type === 'credentials-updated') {
            return { state: { kind: 'connecting', attempt: state.attempt, resuming: state.resuming }, effects: [{ type: 'close-socket' }, { type: 'dial' }] }
          }
          return stay(state)
        case 'ready':
          return stay(state)
        case 'idle':
        case 'failed':
        case 'access-required':
          // credentials-updated from idle does nothing: the user has not asked to connect.
          if (event.type === 'credentials-updated' && state.kind === 'idle') return stay(state)
          return { state: { kind: 'connecting', attempt: 1, resuming: false }, effects: [{ type: 'dial' }] }
        case 'reconnecting':
        case 'pairing-required':
          // Retry now instead of waiting for the timer.
          return {
            state: { kind: 'connecting', attempt: state.attempt + 1, resuming: state.kind === 'reconnecting' },
            effects: [{ type: 'cancel-retry' }, { type: 'dial' }]
          }
        default:
          return assertNever(state)
      }
    case 'disconnect-requested':
      if (state.kind === 'idle') return stay(state)
      return { state: { kind: 'idle' }, effects: [{ type: 'cancel-retry' }, { type: 'close-socket' }] }
    case 'socket-opened':
      if (state.kind !== 'connecting') return stay(state)
      return stay({ kind: 'handshaking', attempt: state.attempt, resuming: state.resuming })
    case 'connected':
      if (state.kind !== 'connecting' && state.kind !== 'handshaking') {
        // A late success after the user disconnected: drop the socket.
        return { state, effects: [{ type: 'close-socket' }] }
      }
      return stay({ kind: 'ready', info: event.info })
    case 'connect-failed':
      if (state.kind !== 'connecting' && state.kind !== 'handshaking') return stay(state)
      return afterFailure(event.error, state.attempt, ctx, state.resuming)
    case 'link-dropped':
      if (state.kind !== 'ready') return stay(state)
      return afterFailure(event.error.retryable ? event.error : { ...event.error, retryable: true }, 1, ctx, true)
    case 'retry-timer-fired':
      if (state.kind !== 'reconnecting' && state.kind !== 'pairing-required') return stay(state)
      return {
        state: { kind: 'connecting', attempt: attemptOf(state) + 1, resuming: state.kind === 'reconnecting' },
        effects: [{ type: 'dial' }]
      }
    default:
      return assertNever(event)
  }
}
