import { describe, expect, it } from 'vitest'
import { appError } from '../../../../src/shared/errors'
import {
  initialRenewalState,
  MAX_TIMER_MS,
  nextRenewalStep,
  renewalDueAtMs,
  scheduleRenewal,
  signedInStatus,
  tokenFingerprint,
  type RenewalCommand,
  type RenewalEvent,
  type RenewalPolicyOptions,
  type RenewalState
} from '../../../../src/main/cf-access/sign-in/renewal'

const NOW = 1_780_000_000 // seconds
const NOW_MS = NOW * 1000
const DAY = 86_400

describe('renewal timing', () => {
  it('is due 5 minutes plus the skew margin (1 minute) before exp', () => {
    expect(renewalDueAtMs({ exp: NOW + DAY, iat: NOW })).toBe((NOW + DAY - 360) * 1000)
    expect(renewalDueAtMs({ exp: NOW + DAY, iat: NOW }, { leadSec: 600, skewSec: 0 })).toBe((NOW + DAY - 600) * 1000)
  })

  it('renews a short-lived token at half its lifetime, not the moment it arrives', () => {
    // A 5-minute Access session: exp - 6 min would be before it was even issued.
    expect(renewalDueAtMs({ exp: NOW + 300, iat: NOW })).toBe((NOW + 150) * 1000)
    expect(renewalDueAtMs({ exp: NOW + 600, nbf: NOW })).toBe((NOW + 300) * 1000)
  })

  it('without iat it keeps the plain lead', () => {
    expect(renewalDueAtMs({ exp: NOW + 300 })).toBe((NOW - 60) * 1000)
  })

  it('never schedules two renewals closer than the minimum interval', () => {
    expect(renewalDueAtMs({ exp: NOW + 120 }, { lastRenewalAtMs: NOW_MS })).toBe(NOW_MS + 60_000)
    expect(renewalDueAtMs({ exp: NOW + 120 }, { lastRenewalAtMs: NOW_MS, minIntervalMs: 5_000 })).toBe(NOW_MS + 5_000)
    expect(renewalDueAtMs({ exp: NOW + DAY, iat: NOW }, { lastRenewalAtMs: NOW_MS })).toBe((NOW + DAY - 360) * 1000)
  })

  it('scheduleRenewal: timer delay, due flag, and the setTimeout cap for month-long sessions', () => {
    expect(scheduleRenewal({ exp: NOW + DAY, iat: NOW }, NOW_MS)).toEqual({ dueAtMs: (NOW + DAY - 360) * 1000, due: false, timerMs: (DAY - 360) * 1000 })
    expect(scheduleRenewal({ exp: NOW + 100, iat: NOW - DAY }, NOW_MS)).toMatchObject({ due: true, timerMs: 0 })
    const month = scheduleRenewal({ exp: NOW + 31 * DAY, iat: NOW }, NOW_MS)
    expect(month.due).toBe(false)
    expect(month.timerMs).toBe(MAX_TIMER_MS)
  })

  it('signedInStatus: who, time left and phase', () => {
    const times = { exp: NOW + 3600, iat: NOW - 3600, email: 'a@b.test' }
    expect(signedInStatus(times, NOW_MS)).toEqual({ email: 'a@b.test', expiresAtMs: (NOW + 3600) * 1000, secondsLeft: 3600, phase: 'valid', renewAtMs: (NOW + 3600 - 360) * 1000 })
    expect(signedInStatus(times, (NOW + 3300) * 1000).phase).toBe('renew-due')
    expect(signedInStatus(times, (NOW + 3600) * 1000)).toMatchObject({ phase: 'expired', secondsLeft: 0 })
    expect(signedInStatus(times, (NOW + 3700) * 1000)).toMatchObject({ phase: 'expired', secondsLeft: -100 })
  })

})

/** Run a sequence of events and collect the commands. */
function run(events: RenewalEvent[], opts?: RenewalPolicyOptions, start: RenewalState = initialRenewalState): { state: RenewalState; commands: RenewalCommand[] } {
  let state = start
  const commands: RenewalCommand[] = []
  for (const event of events) {
    const step = nextRenewalStep(state, event, opts)
    state = step.state
    commands.push(step.command)
  }
  return { state, commands }
}

const failure = appError('TIMEOUT', 'Sign-in took too long', 'x')
const cancelled = appError('CANCELLED', 'Sign-in cancelled', 'x')

describe('renewal policy', () => {
  it('expiry: silent first; a silent success hands over the new token', () => {
    const { state, commands } = run([
      { type: 'trigger', trigger: 'expiry', token: 'old' },
      { type: 'silent-done', result: 'renewed', token: 'new' }
    ])
    expect(commands).toEqual([{ kind: 'run-silent' }, { kind: 'use-token', token: 'new' }])
    expect(state).toMatchObject({ phase: 'idle', renewedToken: 'new', renewedProven: false })
    expect(state.lastError).toBeUndefined()
  })

  it('silent needs the user: the window is shown once, then its result ends the attempt', () => {
    const { commands } = run([
      { type: 'trigger', trigger: 'expiry', token: 'old' },
      { type: 'silent-done', result: 'needs-user' },
      { type: 'interactive-done', result: 'renewed', token: 'new' }
    ])
    expect(commands.map((c) => c.kind)).toEqual(['run-silent', 'show-window', 'use-token'])
  })

  it('when the window may not be shown (CLI, headless), needing the user gives up with a sign-in message', () => {
    const { commands, state } = run([{ type: 'trigger', trigger: 'expiry', token: 'old' }, { type: 'silent-done', result: 'needs-user' }], { allowInteractive: false })
    expect(commands[1]).toMatchObject({ kind: 'give-up', error: { code: 'ACCESS_LOGIN_REQUIRED' } })
    expect(state.phase).toBe('idle')
    expect(state.lastError?.code).toBe('ACCESS_LOGIN_REQUIRED')
  })

  it('one attempt per trigger: a cancelled window is not reopened by the next reconnect for the same token', () => {
    const { commands } = run([
      { type: 'trigger', trigger: 'login-redirect', token: 'old' },
      { type: 'silent-done', result: 'needs-user' },
      { type: 'interactive-done', result: 'cancelled', error: cancelled },
      // The connection's back-off redials and is sent to the login page again, and again.
      { type: 'trigger', trigger: 'login-redirect', token: 'old' },
      { type: 'trigger', trigger: 'expiry', token: 'old' }
    ])
    expect(commands).toEqual([
      { kind: 'run-silent' },
      { kind: 'show-window' },
      { kind: 'give-up', error: cancelled },
      { kind: 'none', reason: 'already-tried' },
      { kind: 'none', reason: 'already-tried' }
    ])
  })

  it('a silent failure gives up at once (no window, no retry)', () => {
    const { commands } = run([
      { type: 'trigger', trigger: 'expiry', token: 'old' },
      { type: 'silent-done', result: 'failed', error: failure },
      { type: 'trigger', trigger: 'expiry', token: 'old' }
    ])
    expect(commands).toEqual([{ kind: 'run-silent' }, { kind: 'give-up', error: failure }, { kind: 'none', reason: 'already-tried' }])
  })

  it('triggers during an attempt are absorbed', () => {
    const { commands } = run([
      { type: 'trigger', trigger: 'expiry', token: 'old' },
      { type: 'trigger', trigger: 'login-redirect', token: 'old' },
      { type: 'trigger', trigger: 'user', token: 'old' },
      { type: 'silent-done', result: 'needs-user' },
      { type: 'trigger', trigger: 'login-redirect', token: 'old' }
    ])
    expect(commands.map((c) => (c.kind === 'none' ? c.reason : c.kind))).toEqual(['run-silent', 'busy', 'busy', 'show-window', 'busy'])
  })

  it('the user can always start again, straight with the window', () => {
    const { commands } = run([
      { type: 'trigger', trigger: 'expiry', token: 'old' },
      { type: 'silent-done', result: 'failed', error: failure },
      { type: 'trigger', trigger: 'user', token: 'old' },
      { type: 'interactive-done', result: 'renewed', token: 'new' }
    ])
    expect(commands.map((c) => c.kind)).toEqual(['run-silent', 'give-up', 'show-window', 'use-token'])
  })

  it('a login redirect for the token a renewal just produced gives up instead of renewing again (no loop)', () => {
    const { commands } = run([
      { type: 'trigger', trigger: 'login-redirect', token: 'old' },
      { type: 'silent-done', result: 'renewed', token: 'new' },
      { type: 'trigger', trigger: 'login-redirect', token: 'new' },
      { type: 'trigger', trigger: 'login-redirect', token: 'new' }
    ])
    expect(commands[2]).toMatchObject({ kind: 'give-up', error: { code: 'ACCESS_APP_TOKEN_REJECTED' } })
    expect(commands[3]).toEqual({ kind: 'none', reason: 'already-tried' })
  })

  it('once the renewed token carried a connection, a later login redirect (revocation, expiry) renews normally', () => {
    const { commands } = run([
      { type: 'trigger', trigger: 'login-redirect', token: 'old' },
      { type: 'silent-done', result: 'renewed', token: 'new' },
      { type: 'connected', token: 'new' },
      { type: 'trigger', trigger: 'login-redirect', token: 'new' }
    ])
    expect(commands.map((c) => c.kind)).toEqual(['run-silent', 'use-token', 'none', 'run-silent'])
  })

  it('a first sign-in without any token goes silent first, then the window', () => {
    const { commands, state } = run([{ type: 'trigger', trigger: 'login-redirect' }, { type: 'silent-done', result: 'needs-user' }])
    expect(commands.map((c) => c.kind)).toEqual(['run-silent', 'show-window'])
    expect(state.attemptFor).toBe('none')
  })

  it('results that arrive out of phase are only recorded', () => {
    expect(nextRenewalStep(initialRenewalState, { type: 'silent-done', result: 'renewed', token: 't' }).command).toEqual({ kind: 'none', reason: 'recorded' })
    expect(nextRenewalStep(initialRenewalState, { type: 'interactive-done', result: 'failed', error: failure }).command).toEqual({ kind: 'none', reason: 'recorded' })
  })

  it('sign-out forgets the history', () => {
    const { state, commands } = run([
      { type: 'trigger', trigger: 'expiry', token: 'old' },
      { type: 'silent-done', result: 'failed', error: failure },
      { type: 'signed-out' },
      { type: 'trigger', trigger: 'expiry', token: 'old' }
    ])
    expect(commands[3]).toEqual({ kind: 'run-silent' })
    expect(state.lastError).toBeUndefined()
  })

  it('tokenFingerprint is short, stable and not the token', () => {
    const fp = tokenFingerprint('header.payload.signature')
    expect(fp).toMatch(/^[0-9a-f]{16}$/)
    expect(tokenFingerprint('header.payload.signature')).toBe(fp)
    expect(tokenFingerprint('header.payload.other')).not.toBe(fp)
  })
})
