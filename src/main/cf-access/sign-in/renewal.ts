/**
 * When to renew a Cloudflare Access application token, and how: the timing and the policy, pure.
 *
 * Timing: renew ahead of `exp` (5 minutes, plus a clock-skew margin, doc §7) rather than wait
 * for the edge to bounce a reconnect to the login page. A short-lived token (Access sessions can
 * be minutes long) is renewed at half its lifetime instead, so a fresh token is never "due" the
 * moment it arrives; and two renewals are never closer than a minimum interval.
 *
 * Policy (issue "one-click sign-in"): each trigger (the timer, an upgrade sent back to the login
 * page, the user's click) gets ONE attempt: first silently, in a hidden window that uses the
 * partition's team-domain session (SSO, doc §5 step 2); only if that needs the user, the window
 * is shown. Whatever happens, the attempt ends with a renewed token or a clear message, and the
 * same token never provokes a second automatic attempt: reconnect back-off cannot turn into a
 * loop of pop-ups, and a token Access refuses right after issuing it is reported, not renewed
 * again.
 */
import { createHash } from 'node:crypto'
import { appError, type AppError } from '../../../shared/errors'

/** Seconds before `exp` at which renewal is due (before the skew margin). */
export const RENEW_LEAD_SEC = 300
/** Allowed clock difference with the edge, in seconds. */
export const RENEW_SKEW_SEC = 60
/** Two renewals are never scheduled closer than this. */
export const MIN_RENEWAL_INTERVAL_MS = 60_000
/** Longest delay `setTimeout` accepts (2^31 - 1 ms, about 24.8 days); Access sessions can last a month. */
export const MAX_TIMER_MS = 2_147_483_647

/** The claims the timing needs (seconds since the epoch). */
export interface TokenTimes {
  exp: number
  iat?: number
  nbf?: number
}

/** Options of the renewal timing. */
export interface RenewalTimingOptions {
  leadSec?: number
  skewSec?: number
  /** When the last renewal finished (ms); the next one is not due before this plus `minIntervalMs`. */
  lastRenewalAtMs?: number
  minIntervalMs?: number
}

/**
 * Time (ms since the epoch) at which the token should be renewed.
 *
 * `exp - (lead + skew)`, but never earlier than half the token's lifetime when `iat` (or `nbf`)
 * tells it, and never earlier than `lastRenewalAtMs + minIntervalMs`.
 */
export function renewalDueAtMs(times: TokenTimes, opts: RenewalTimingOptions = {}): number {
  let leadSec = (opts.leadSec ?? RENEW_LEAD_SEC) + (opts.skewSec ?? RENEW_SKEW_SEC)
  const issued = times.iat ?? times.nbf
  if (issued !== undefined && times.exp > issued) leadSec = Math.min(leadSec, Math.floor((times.exp - issued) / 2))
  let due = (times.exp - Math.max(0, leadSec)) * 1000
  if (opts.lastRenewalAtMs !== undefined) due = Math.max(due, opts.lastRenewalAtMs + (opts.minIntervalMs ?? MIN_RENEWAL_INTERVAL_MS))
  return due
}

/** When the renewal timer should fire. */
export interface RenewalSchedule {
  /** Renewal time, ms since the epoch. */
  dueAtMs: number
  /** True when renewal is due now (or overdue). */
  due: boolean
  /**
   * Delay to arm a timer with: 0 when due, else the time left, capped at {@link MAX_TIMER_MS}
   * (when the cap applies, re-run this on firing: it is a check-again time, not the renewal).
   */
  timerMs: number
}

/** Schedule the renewal of a token at `nowMs`. */
export function scheduleRenewal(times: TokenTimes, nowMs: number, opts: RenewalTimingOptions = {}): RenewalSchedule {
  const dueAtMs = renewalDueAtMs(times, opts)
  const left = dueAtMs - nowMs
  return { dueAtMs, due: left <= 0, timerMs: left <= 0 ? 0 : Math.min(left, MAX_TIMER_MS) }
}

/** Signed-in state to show: who, and how long the token is good for. */
export interface SignedInStatus {
  email?: string
  expiresAtMs: number
  /** Whole seconds left before `exp` (negative once expired). */
  secondsLeft: number
  /** `valid`; `renew-due` once the renewal time has come; `expired` after `exp`. */
  phase: 'valid' | 'renew-due' | 'expired'
  renewAtMs: number
}

/** The signed-in state of a token at `nowMs`. */
export function signedInStatus(times: TokenTimes & { email?: string }, nowMs: number, opts: RenewalTimingOptions = {}): SignedInStatus {
  const expiresAtMs = times.exp * 1000
  const renewAtMs = renewalDueAtMs(times, opts)
  const secondsLeft = Math.floor((expiresAtMs - nowMs) / 1000)
  const phase = nowMs >= expiresAtMs ? 'expired' : nowMs >= renewAtMs ? 'renew-due' : 'valid'
  const status: SignedInStatus = { expiresAtMs, secondsLeft, phase, renewAtMs }
  if (times.email) status.email = times.email
  return status
}

// --- Policy ---------------------------------------------------------------------------------

/**
 * What started a renewal.
 * - `expiry`: the renewal timer fired;
 * - `login-redirect`: a dial was sent back to the Access login page (302/401 from Access);
 * - `user`: the user clicked "Sign in with Cloudflare Access" (goes straight to the window).
 */
export type RenewalTrigger = 'expiry' | 'login-redirect' | 'user'

/** Where the policy is. */
export interface RenewalState {
  phase: 'idle' | 'silent' | 'interactive'
  /** Trigger of the attempt in flight. */
  trigger?: RenewalTrigger
  /** Fingerprint of the token the attempt in flight (or the last one) was for; `none` without a token. */
  attemptFor?: string
  /** Fingerprint of the last token an automatic attempt ran for: it gets no second automatic attempt. */
  triedFor?: string
  /** Fingerprint of the token the last successful renewal produced. */
  renewedToken?: string
  /** True once that token carried a connection through Access. */
  renewedProven?: boolean
  /** The message of the last attempt that failed; cleared by a success. */
  lastError?: AppError
}

/** Something that happened. Token fingerprints come from the caller (see tokenFingerprint). */
export type RenewalEvent =
  | { type: 'trigger'; trigger: RenewalTrigger; token?: string }
  | { type: 'silent-done'; result: 'renewed'; token: string }
  | { type: 'silent-done'; result: 'needs-user' }
  | { type: 'silent-done'; result: 'failed'; error: AppError }
  | { type: 'interactive-done'; result: 'renewed'; token: string }
  | { type: 'interactive-done'; result: 'cancelled' | 'failed'; error: AppError }
  /** A connection got through Access with this token. */
  | { type: 'connected'; token: string }
  /** The user signed out: forget everything. */
  | { type: 'signed-out' }

/** What the caller does next. */
export type RenewalCommand =
  | { kind: 'none'; reason: 'busy' | 'already-tried' | 'recorded' }
  /** Run the login window hidden (silent = true). */
  | { kind: 'run-silent' }
  /** Show the login window: the user has to act. */
  | { kind: 'show-window' }
  /** Store the new token and reconnect with it. */
  | { kind: 'use-token'; token: string }
  /** Stop and tell the user. */
  | { kind: 'give-up'; error: AppError }

/** Options of the policy. */
export interface RenewalPolicyOptions {
  /**
   * May the window be shown without the user having asked (an `expiry` or `login-redirect`
   * trigger)? False for the CLI or a headless run: the attempt ends with a "sign in again" message.
   */
  allowInteractive?: boolean
}

/**
 * A short, non-reversible name for a token, for the policy's bookkeeping (and logs): the first
 * 16 hex digits of its SHA-256. Never the token itself.
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16)
}

/** The starting state. */
export const initialRenewalState: RenewalState = { phase: 'idle' }

/**
 * One step of the renewal policy: the state after `event`, and what to do.
 *
 * Rules:
 * - an attempt in flight absorbs every further trigger (`busy`);
 * - `user` always starts an attempt, straight with the window (`show-window`);
 * - an automatic trigger (`expiry`, `login-redirect`) starts a silent attempt, unless an
 *   automatic attempt already ran for the same token (`already-tried`);
 * - a `login-redirect` for the token the last renewal produced, before any connection went
 *   through with it, gives up: Access refuses what it has just issued, renewing again would loop;
 * - silent `needs-user` shows the window when allowed (once), else gives up with a sign-in message;
 * - silent `failed`, interactive `cancelled`/`failed` give up with the error: one attempt only.
 */
export function nextRenewalStep(state: RenewalState, event: RenewalEvent, opts: RenewalPolicyOptions = {}): { state: RenewalState; command: RenewalCommand } {
  switch (event.type) {
    case 'trigger': {
      if (state.phase !== 'idle') return { state, command: { kind: 'none', reason: 'busy' } }
      const token = event.token ?? 'none'
      if (event.trigger === 'user') {
        return { state: { ...state, phase: 'interactive', trigger: 'user', attemptFor: token }, command: { kind: 'show-window' } }
      }
      if (state.triedFor === token) return { state, command: { kind: 'none', reason: 'already-tried' } }
      if (event.trigger === 'login-redirect' && state.renewedToken !== undefined && state.renewedToken === token && !state.renewedProven) {
        const error = refusedFreshToken()
        return { state: { ...state, triedFor: token, lastError: error }, command: { kind: 'give-up', error } }
      }
      return { state: { ...state, phase: 'silent', trigger: event.trigger, attemptFor: token, triedFor: token }, command: { kind: 'run-silent' } }
    }
    case 'silent-done': {
      if (state.phase !== 'silent') return { state, command: { kind: 'none', reason: 'recorded' } }
      if (event.result === 'renewed') return renewed(state, event.token)
      if (event.result === 'needs-user') {
        if (opts.allowInteractive ?? true) return { state: { ...state, phase: 'interactive' }, command: { kind: 'show-window' } }
        return gaveUp(state, signInNeeded())
      }
      return gaveUp(state, event.error)
    }
    case 'interactive-done': {
      if (state.phase !== 'interactive') return { state, command: { kind: 'none', reason: 'recorded' } }
      if (event.result === 'renewed') return renewed(state, event.token)
      return gaveUp(state, event.error)
    }
    case 'connected': {
      if (state.renewedToken === event.token) return { state: { ...state, renewedProven: true }, command: { kind: 'none', reason: 'recorded' } }
      return { state, command: { kind: 'none', reason: 'recorded' } }
    }
    case 'signed-out':
      return { state: { phase: 'idle' }, command: { kind: 'none', reason: 'recorded' } }
  }
}

function renewed(state: RenewalState, token: string): { state: RenewalState; command: RenewalCommand } {
  const next: RenewalState = { phase: 'idle', renewedToken: token, renewedProven: false }
  if (state.attemptFor !== undefined) next.attemptFor = state.attemptFor
  if (state.triedFor !== undefined) next.triedFor = state.triedFor
  return { state: next, command: { kind: 'use-token', token } }
}

function gaveUp(state: RenewalState, error: AppError): { state: RenewalState; command: RenewalCommand } {
  const next: RenewalState = { ...state, phase: 'idle', lastError: error }
  delete next.trigger
  return { state: next, command: { kind: 'give-up', error } }
}

function signInNeeded(): AppError {
  return appError(
    'ACCESS_LOGIN_REQUIRED',
    'Sign in to Cloudflare Access again',
    'The Cloudflare Access session ended and renewing it needs you: the team session is gone too, so Access asks for the sign-in again.',
    { nextSteps: [{ action: 'sign-in-email', label: 'Click "Sign in with Cloudflare Access" and complete the login.' }] }
  )
}

function refusedFreshToken(): AppError {
  return appError(
    'ACCESS_APP_TOKEN_REJECTED',
    'Cloudflare Access refused the new token',
    'Access sent the connection back to its login page right after issuing a new token for this gateway, so renewing again would not help.',
    {
      nextSteps: [
        { action: 'check-dashboard', label: 'Check that the Access application and its policies cover this gateway\'s host and path.' },
        { action: 'sign-in-email', label: 'Then sign in with Cloudflare Access again.' }
      ],
      likelyCauses: [
        'Another Access application with a more specific host or path covers the WebSocket path.',
        'The application uses the binding cookie and it was not sent along.',
        'An administrator revoked the session.'
      ]
    }
  )
}
