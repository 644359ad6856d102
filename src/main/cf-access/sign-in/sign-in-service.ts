/**
 * The app's Cloudflare Access sign-in, per profile: runs the embedded login window (or the
 * system-browser transfer), keeps the captured app token in the keychain, renews it before it
 * expires and when Access sends a connection back to its login page, and signs out.
 *
 * Electron-free: the login window is the `AccessLoginWindows` port (access-login-window.ts over
 * Electron in the app, over Playwright in the end-to-end tests), the browser path is
 * runTransferLogin with an injected opener, and the connection side is two callbacks. Every
 * renewal decision goes through the pure policy in renewal.ts (one attempt per trigger, hidden
 * window first), so nothing here can loop.
 *
 * What leaves this module for the renderer is AccessSignInStatus: phase, email, expiry, the
 * last error. The token, its binding cookie and the team-domain token never do.
 */
import { decodeJwt } from 'jose'
import type { ConnectionSnapshot } from '../../../shared/connection-state'
import { appError, type AppError, type ErrorCode, type Result } from '../../../shared/errors'
import type { AccessSignInStatus } from '../../../shared/ipc-contract'
import type { GatewayProfile } from '../../../shared/profile'
import { secretKeys, type SecretStore } from '../../secrets/secret-store'
import type { AccessLoginWindows, SignInFailure, SignInResult } from '../../electron/access-login-window'
import { gatewayOrigin } from './gateway-origin'
import {
  initialRenewalState,
  nextRenewalStep,
  scheduleRenewal,
  tokenFingerprint,
  type RenewalCommand,
  type RenewalEvent,
  type RenewalState,
  type RenewalTimingOptions,
  type RenewalTrigger
} from './renewal'
import { runTransferLogin, type HttpGet, type TransferLoginResult } from './transfer-login'

export interface AccessSignInDeps {
  /** The embedded login window; without it only the system-browser sign-in is offered. */
  windows?: AccessLoginWindows
  secrets: SecretStore
  getProfile(profileId: string): Promise<GatewayProfile | null>
  /**
   * Remember what a sign-in learnt about the profile: the application AUD, and that it signs in
   * with email (a profile set to "no Access" that signs in starts using the token).
   */
  updateAccess(profileId: string, access: { mode: 'email-otp'; aud: string }): Promise<void>
  /** A new token is in the keychain: a connection waiting for credentials dials again. */
  tokenStored(profileId: string): void
  /** The user signed out: close that profile's connection. */
  signedOut(profileId: string): void
  /** Is a connection of this profile in use (so a renewal may show the window unasked)? */
  isActive(profileId: string): boolean
  emit(status: AccessSignInStatus): void
  /** Opens the system browser (the browser path). */
  openExternal(url: string): Promise<unknown>
  /** HTTPS client for the browser path, trusting the profile's CA file (or why it cannot be read). */
  httpFor(profile: GatewayProfile): Promise<Result<HttpGet>>
  /** Transfer service of the browser path; default: the team domain's. */
  transferBaseUrl?: string
  renewal?: RenewalTimingOptions
  now?: () => number
  setTimeout?: (fn: () => void, ms: number) => unknown
  clearTimeout?: (handle: unknown) => void
}

/** What the service keeps per profile. Never a token: only its fingerprint and public claims. */
interface ProfileSignIn {
  seq: number
  policy: RenewalState
  attempt?: { via: NonNullable<AccessSignInStatus['via']>; abort: AbortController; phase: 'signing-in' | 'renewing' }
  error?: AppError
  offerBrowser?: boolean
  timer?: unknown
  token?: StoredTokenInfo
  /**
   * Origin of the team domain's login pages as the sign-in window met them (with a port, when
   * not 443): where sign-out ends the team session. Falls back to the token's `iss` after a restart.
   */
  teamOrigin?: string
}

interface StoredTokenInfo {
  fingerprint: string
  exp: number
  iat?: number
  nbf?: number
  email?: string
  /** `https://<team>.cloudflareaccess.com`, from `iss`: where the team session is ended on sign-out. */
  teamOrigin?: string
}

/** Error codes that mean "Access wants a (new) sign-in" for an email profile. */
const LOGIN_AGAIN_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ACCESS_LOGIN_REQUIRED',
  'ACCESS_APP_TOKEN_EXPIRED',
  'ACCESS_APP_TOKEN_REJECTED',
  'ACCESS_APP_TOKEN_INVALID'
])

/** Failures after which the browser path may succeed where the window did not. */
const BROWSER_HELPS: ReadonlySet<SignInFailure> = new Set<SignInFailure>(['cancelled', 'timeout', 'needs-user', 'token-rejected', 'forbidden', 'load-failed'])

export class AccessSignInService {
  private readonly profiles = new Map<string, ProfileSignIn>()
  private readonly now: () => number
  private readonly setTimer: (fn: () => void, ms: number) => unknown
  private readonly clearTimer: (handle: unknown) => void
  private disposed = false

  constructor(private readonly deps: AccessSignInDeps) {
    this.now = deps.now ?? Date.now
    this.setTimer = deps.setTimeout ?? ((fn, ms) => setTimeout(fn, ms))
    this.clearTimer = deps.clearTimeout ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>))
  }

  /** The current status of every listed profile. */
  async statuses(profileIds: string[]): Promise<AccessSignInStatus[]> {
    return Promise.all(profileIds.map(async (id) => (this.profiles.has(id) ? this.status(id) : this.refresh(id, { emit: false }))))
  }

  /**
   * The stored token changed outside this service (set or cleared by the user, profile edited):
   * re-read it, re-arm the timer, tell the renderer.
   */
  async refresh(profileId: string, opts: { emit?: boolean } = {}): Promise<AccessSignInStatus> {
    const entry = this.entry(profileId)
    const profile = await this.deps.getProfile(profileId)
    const raw = profile ? await this.deps.secrets.get(secretKeys.cfAppToken(profileId)) : null
    entry.token = raw ? (readTokenInfo(raw) ?? undefined) : undefined
    this.arm(profileId, profile)
    return opts.emit === false ? this.status(profileId) : this.publish(profileId)
  }

  /** The user's "Sign in with Cloudflare Access": straight to the window. */
  async signIn(profileId: string): Promise<AccessSignInStatus> {
    const profile = await this.deps.getProfile(profileId)
    if (!profile) return this.failWith(profileId, notFound())
    return this.runTrigger(profile, 'user')
  }

  /** The user's "Sign in with your browser instead". */
  async signInWithBrowser(profileId: string): Promise<AccessSignInStatus> {
    const profile = await this.deps.getProfile(profileId)
    if (!profile) return this.failWith(profileId, notFound())
    const entry = this.entry(profileId)
    if (entry.attempt) return this.status(profileId)
    const http = await this.deps.httpFor(profile)
    if (!http.ok) return this.giveUp(profileId, http.error)
    const abort = new AbortController()
    entry.attempt = { via: 'browser', abort, phase: 'signing-in' }
    delete entry.error
    this.publish(profileId)
    let result: TransferLoginResult
    try {
      result = await runTransferLogin({
        gatewayUrl: profile.url,
        ...(profile.access.aud ? { aud: profile.access.aud } : {}),
        openExternal: (url) => this.deps.openExternal(url),
        http: http.value,
        // An override comes from AETHER_CF_TRANSFER_URL: an unreachable one is named as such.
        ...(this.deps.transferBaseUrl ? { transferBaseUrl: this.deps.transferBaseUrl, transferBaseUrlFrom: 'AETHER_CF_TRANSFER_URL' } : {}),
        signal: abort.signal,
        now: this.now
      })
    } finally {
      if (entry.attempt?.abort === abort) delete entry.attempt
    }
    if (!result.ok) {
      entry.error = result.error
      return this.publish(profileId)
    }
    // The team-domain token (`orgToken`) is not kept: the app only needs the application token.
    await this.store(profile, { token: result.value.token, aud: result.value.aud, ...(result.value.binding ? { binding: result.value.binding } : {}) })
    entry.policy = nextRenewalStep(entry.policy, { type: 'signed-out' }).state
    delete entry.offerBrowser
    this.deps.tokenStored(profileId)
    return this.publish(profileId)
  }

  /** Close the window (or stop waiting for the browser) of the attempt in flight. */
  cancel(profileId: string): boolean {
    const attempt = this.profiles.get(profileId)?.attempt
    if (!attempt) return false
    attempt.abort.abort()
    return true
  }

  /** Sign out: Access logout (app and team), the partition's storage, the keychain token. */
  async signOut(profileId: string): Promise<AccessSignInStatus> {
    const entry = this.entry(profileId)
    entry.attempt?.abort.abort()
    const profile = await this.deps.getProfile(profileId)
    const teamOrigin = entry.teamOrigin ?? entry.token?.teamOrigin
    this.disarm(entry)
    await this.deps.secrets.delete(secretKeys.cfAppToken(profileId))
    await this.deps.secrets.delete(secretKeys.cfBinding(profileId))
    delete entry.token
    delete entry.teamOrigin
    entry.policy = nextRenewalStep(entry.policy, { type: 'signed-out' }).state
    delete entry.error
    delete entry.offerBrowser
    this.deps.signedOut(profileId)
    if (profile && this.deps.windows) {
      const result = await this.deps.windows.signOut({ profileId, gatewayUrl: profile.url, ...(teamOrigin ? { teamOrigin } : {}) })
      if (result.appLogout === 'failed' || result.teamLogout === 'failed' || !result.storageCleared) {
        entry.error = appError(
          'NETWORK_UNREACHABLE',
          'Signed out on this computer only',
          'The app token is deleted and will not be used again, but the Cloudflare Access logout could not be reached' +
            (result.storageCleared ? '.' : ', and the sign-in window\'s stored data could not be cleared.'),
          { retryable: true, nextSteps: [{ action: 'retry', label: 'Sign out again when the network is back to end the session on Cloudflare as well.' }] }
        )
      }
    }
    return this.publish(profileId)
  }

  /** Every connection state change: a login redirect triggers a renewal, a ready link proves the token. */
  onConnectionSnapshot(snapshot: ConnectionSnapshot): void {
    const entry = this.profiles.get(snapshot.profileId)
    const state = snapshot.state
    if (state.kind === 'ready') {
      if (entry?.token) entry.policy = nextRenewalStep(entry.policy, { type: 'connected', token: entry.token.fingerprint }).state
      return
    }
    const error = state.kind === 'access-required' || state.kind === 'failed' ? state.error : undefined
    if (!error || !LOGIN_AGAIN_CODES.has(error.code)) return
    void this.deps.getProfile(snapshot.profileId).then((profile) => {
      if (profile && profile.access.mode === 'email-otp' && !this.disposed) void this.runTrigger(profile, 'login-redirect')
    })
  }

  /** A removed profile. */
  forget(profileId: string): void {
    const entry = this.profiles.get(profileId)
    if (!entry) return
    entry.attempt?.abort.abort()
    this.disarm(entry)
    this.profiles.delete(profileId)
  }

  dispose(): void {
    this.disposed = true
    for (const id of [...this.profiles.keys()]) this.forget(id)
  }

  status(profileId: string): AccessSignInStatus {
    const entry = this.entry(profileId)
    const token = entry.token
    const nowMs = this.now()
    let phase: AccessSignInStatus['phase'] = token ? (token.exp * 1000 <= nowMs ? 'expired' : 'signed-in') : 'signed-out'
    if (entry.attempt) phase = entry.attempt.phase
    const status: AccessSignInStatus = { profileId, phase, seq: entry.seq }
    if (entry.attempt) status.via = entry.attempt.via
    if (token?.email) status.email = token.email
    if (token) {
      status.expiresAt = token.exp * 1000
      status.renewAt = scheduleRenewal(token, nowMs, this.timing()).dueAtMs
    }
    if (entry.error) status.error = entry.error
    if (entry.offerBrowser) status.offerBrowser = true
    return status
  }

  // --- the policy driver ----------------------------------------------------------------------

  private async runTrigger(profile: GatewayProfile, trigger: RenewalTrigger): Promise<AccessSignInStatus> {
    const entry = this.entry(profile.id)
    if (entry.attempt) return this.status(profile.id)
    const step = this.step(profile.id, { type: 'trigger', trigger, ...(entry.token ? { token: entry.token.fingerprint } : {}) }, trigger)
    if (step.kind === 'none') return this.status(profile.id)
    if (step.kind === 'give-up') return this.giveUp(profile.id, step.error)
    if (!this.deps.windows) {
      entry.policy = { ...entry.policy, phase: 'idle' }
      return this.giveUp(profile.id, noWindow(), true)
    }
    const silent = step.kind === 'run-silent'
    const abort = new AbortController()
    entry.attempt = { via: silent ? 'hidden-window' : 'window', abort, phase: trigger === 'user' ? 'signing-in' : 'renewing' }
    delete entry.error
    this.publish(profile.id)
    let shownMidway = false
    let result: SignInResult
    try {
      result = await this.deps.windows.signIn({
        profileId: profile.id,
        gatewayUrl: profile.url,
        ...(profile.access.aud ? { expectedAud: profile.access.aud } : {}),
        silent,
        // A hidden attempt that needs the user shows the same window (when the policy allows it)
        // rather than closing it and opening another: the user sees one window.
        showIfNeeded: silent && this.mayShowUnasked(profile.id, trigger),
        onShown: () => {
          shownMidway = true
          const shown = this.step(profile.id, { type: 'silent-done', result: 'needs-user' }, trigger)
          if (shown.kind === 'show-window' && entry.attempt) {
            // From here the user acts: the same status as a sign-in they started (with Cancel).
            entry.attempt.via = 'window'
            entry.attempt.phase = 'signing-in'
            this.publish(profile.id)
          }
        },
        signal: abort.signal
      })
    } catch (e) {
      // The adapter resolves with a result; a throw is a bug in it, reported without its message.
      console.error('[access] sign-in window failed', e)
      result = { ok: false, reason: 'load-failed', error: appError('INTERNAL', 'The sign-in window failed', 'The sign-in window stopped unexpectedly. Try again.') }
    } finally {
      if (entry.attempt?.abort === abort) delete entry.attempt
    }
    const interactive = !silent || shownMidway
    let done: RenewalEvent
    if (result.ok) {
      await this.store(profile, { token: result.value.token, aud: result.value.aud, ...(result.value.binding ? { binding: result.value.binding } : {}) })
      if (result.value.teamOrigin) entry.teamOrigin = result.value.teamOrigin
      done = { type: interactive ? 'interactive-done' : 'silent-done', result: 'renewed', token: entry.token?.fingerprint ?? 'none' }
    } else if (interactive) {
      done = { type: 'interactive-done', result: result.reason === 'cancelled' ? 'cancelled' : 'failed', error: result.error }
    } else if (result.reason === 'needs-user') {
      done = { type: 'silent-done', result: 'needs-user' }
    } else {
      done = { type: 'silent-done', result: 'failed', error: result.error }
    }
    const next = this.step(profile.id, done, trigger)
    if (next.kind === 'use-token') {
      delete entry.error
      delete entry.offerBrowser
      this.deps.tokenStored(profile.id)
      return this.publish(profile.id)
    }
    if (next.kind === 'give-up') return this.giveUp(profile.id, next.error, !result.ok && BROWSER_HELPS.has(result.reason))
    // A hidden attempt needed the user, and the policy would show the window, but this trigger
    // may not (the connection is not in use): the next user action starts it.
    if (next.kind === 'show-window') {
      entry.policy = { ...entry.policy, phase: 'idle' }
      return this.giveUp(profile.id, signInAgain(), false)
    }
    return this.publish(profile.id)
  }

  private step(profileId: string, event: RenewalEvent, trigger: RenewalTrigger): RenewalCommand {
    const entry = this.entry(profileId)
    const { state, command } = nextRenewalStep(entry.policy, event, { allowInteractive: this.mayShowUnasked(profileId, trigger) })
    entry.policy = state
    return command
  }

  /** A renewal may pop up the window by itself only for a connection the user is using. */
  private mayShowUnasked(profileId: string, trigger: RenewalTrigger): boolean {
    return trigger === 'user' || trigger === 'login-redirect' || this.deps.isActive(profileId)
  }

  private giveUp(profileId: string, error: AppError, offerBrowser = false): AccessSignInStatus {
    const entry = this.entry(profileId)
    entry.error = error
    if (offerBrowser) entry.offerBrowser = true
    return this.publish(profileId)
  }

  private failWith(profileId: string, error: AppError): AccessSignInStatus {
    return { ...this.status(profileId), error }
  }

  private async store(profile: GatewayProfile, captured: { token: string; aud: string; binding?: string }): Promise<void> {
    await this.deps.secrets.set(secretKeys.cfAppToken(profile.id), captured.token)
    if (captured.binding) await this.deps.secrets.set(secretKeys.cfBinding(profile.id), captured.binding)
    else await this.deps.secrets.delete(secretKeys.cfBinding(profile.id))
    if (profile.access.mode !== 'email-otp' || profile.access.aud !== captured.aud) {
      await this.deps.updateAccess(profile.id, { mode: 'email-otp', aud: captured.aud })
    }
    const entry = this.entry(profile.id)
    entry.token = readTokenInfo(captured.token) ?? undefined
    this.arm(profile.id, { ...profile, access: { ...profile.access, mode: 'email-otp' } })
  }

  // --- the renewal timer ----------------------------------------------------------------------

  private timing(): RenewalTimingOptions {
    return this.deps.renewal ?? {}
  }

  private arm(profileId: string, profile: GatewayProfile | null): void {
    const entry = this.entry(profileId)
    this.disarm(entry)
    const token = entry.token
    if (!token || !profile || profile.access.mode !== 'email-otp' || this.disposed) return
    if (token.exp * 1000 <= this.now()) return
    const schedule = scheduleRenewal(token, this.now(), this.timing())
    entry.timer = this.setTimer(() => {
      delete entry.timer
      void this.onTimer(profileId, token.fingerprint)
    }, schedule.timerMs)
    ;(entry.timer as { unref?: () => void } | undefined)?.unref?.()
  }

  private async onTimer(profileId: string, fingerprint: string): Promise<void> {
    const entry = this.profiles.get(profileId)
    if (!entry || entry.token?.fingerprint !== fingerprint || this.disposed) return
    // The cap of setTimeout can fire the timer before the renewal is due: check again.
    const schedule = scheduleRenewal(entry.token, this.now(), this.timing())
    const profile = await this.deps.getProfile(profileId)
    if (!schedule.due) {
      this.arm(profileId, profile)
      return
    }
    if (profile && profile.access.mode === 'email-otp') await this.runTrigger(profile, 'expiry')
  }

  private disarm(entry: ProfileSignIn): void {
    if (entry.timer !== undefined) this.clearTimer(entry.timer)
    delete entry.timer
  }

  private entry(profileId: string): ProfileSignIn {
    let entry = this.profiles.get(profileId)
    if (!entry) {
      entry = { seq: 0, policy: initialRenewalState }
      this.profiles.set(profileId, entry)
    }
    return entry
  }

  private publish(profileId: string): AccessSignInStatus {
    const entry = this.entry(profileId)
    entry.seq++
    const status = this.status(profileId)
    this.deps.emit(status)
    return status
  }
}

/** The public claims of a stored token (no verification: Access verifies it, this is for display and timing). */
export function readTokenInfo(token: string): StoredTokenInfo | null {
  try {
    const claims = decodeJwt(token)
    if (typeof claims.exp !== 'number') return null
    const info: StoredTokenInfo = { fingerprint: tokenFingerprint(token), exp: claims.exp }
    if (typeof claims.iat === 'number') info.iat = claims.iat
    if (typeof claims.nbf === 'number') info.nbf = claims.nbf
    const email = typeof claims.email === 'string' ? claims.email : typeof claims.common_name === 'string' ? claims.common_name : undefined
    if (email) info.email = email
    const team = typeof claims.iss === 'string' ? gatewayOrigin(claims.iss) : null
    if (team) info.teamOrigin = team.origin
    return info
  } catch {
    return null
  }
}

function notFound(): AppError {
  return appError('PROFILE_NOT_FOUND', 'No such gateway', 'This gateway profile no longer exists.')
}

function noWindow(): AppError {
  return appError('ACCESS_LOGIN_REQUIRED', 'Sign in with your browser', 'The sign-in window is not available here; sign in with your web browser instead.', {
    nextSteps: [{ action: 'sign-in-email', label: 'Click "Sign in with your browser instead".' }]
  })
}

function signInAgain(): AppError {
  return appError('ACCESS_LOGIN_REQUIRED', 'Sign in to Cloudflare Access again', 'The Cloudflare Access session is about to end and renewing it needs you.', {
    nextSteps: [{ action: 'sign-in-email', label: 'Click "Sign in with Cloudflare Access" to sign in again.' }]
  })
}
