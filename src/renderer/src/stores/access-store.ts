/**
 * Cloudflare Access sign-in per profile (access mode `email-otp`), as the main process reports
 * it: who is signed in and until when, an attempt in flight, the last failure. Never a token.
 *
 * Statuses are pushed by the main process and also returned by the requests; all of them pass
 * one per-profile seq filter (`applyAccessStatus`), like connection snapshots, so an older
 * status arriving late never overwrites a newer one. lib/bridge.ts feeds the pushed ones.
 */
import { create } from 'zustand'
import type { AccessSignInStatus } from '../../../shared/ipc-contract'
import type { AppError } from '../../../shared/errors'
import { getApi } from '../lib/api'
import { useProfiles } from './profiles-store'

export type AccessPhase = AccessSignInStatus['phase']

export interface AccessState {
  statuses: Record<string, AccessSignInStatus>
  /** A sign-in this window asked for and that has not ended yet (the request resolves at the end). */
  attempts: Record<string, 'window' | 'browser' | undefined>
  /** A cancel or sign-out request on its way. */
  requests: Record<string, 'cancel' | 'sign-out' | undefined>
  /** A request that failed as a request (no answer, bad profile...), not as a sign-in status. */
  requestErrors: Record<string, AppError | undefined>
  /** The outcome of the last sign-out, in words ("Signed out."). */
  notices: Record<string, string | undefined>
}

export const useAccess = create<AccessState>()(() => ({
  statuses: {},
  attempts: {},
  requests: {},
  requestErrors: {},
  notices: {}
}))

/** Phases that say whether a token is stored; moving into or out of one changes the profile's secrets. */
const SETTLED: ReadonlySet<AccessPhase> = new Set(['signed-in', 'signed-out', 'expired'])

/**
 * Apply a status unless it is stale; true when it was applied. `initial` marks the statuses
 * fetched at start: they are where things are, not changes.
 */
export function applyAccessStatus(status: AccessSignInStatus, { initial = false } = {}): boolean {
  const previous = useAccess.getState().statuses[status.profileId]
  if (previous && status.seq <= previous.seq) return false
  useAccess.setState((s) => ({ statuses: { ...s.statuses, [status.profileId]: status } }))
  // The editor shows "App token: set, ends in …" from the profile view, which the main process
  // owns; when a sign-in stores or drops the token, fetch the view again so it stays true.
  const tokenMayHaveChanged = previous
    ? previous.phase !== status.phase && (SETTLED.has(status.phase) || SETTLED.has(previous.phase))
    : !initial && SETTLED.has(status.phase)
  if (tokenMayHaveChanged) void useProfiles.getState().reloadProfile(status.profileId)
  return true
}

const setFor = <K extends keyof Omit<AccessState, 'statuses'>>(key: K, profileId: string, value: AccessState[K][string]) =>
  useAccess.setState((s) => ({ [key]: { ...s[key], [profileId]: value } }) as Partial<AccessState>)

/** True while a sign-in or renewal runs for the profile (started here or anywhere else). */
export function selectSignInRunning(profileId: string | undefined) {
  return (s: AccessState): boolean => {
    if (!profileId) return false
    const phase = s.statuses[profileId]?.phase
    return s.attempts[profileId] !== undefined || phase === 'signing-in' || phase === 'renewing'
  }
}

/**
 * Start a sign-in (the embedded window, or the system browser); resolves when it has ended.
 * A second call while one runs does nothing, so a double click never opens two windows.
 */
export async function startSignIn(profileId: string, via: 'window' | 'browser' = 'window'): Promise<void> {
  if (selectSignInRunning(profileId)(useAccess.getState())) return
  setFor('attempts', profileId, via)
  setFor('requestErrors', profileId, undefined)
  setFor('notices', profileId, undefined)
  const api = getApi().access
  const result = via === 'browser' ? await api.signInWithBrowser(profileId) : await api.signIn(profileId)
  if (result.ok) applyAccessStatus(result.value)
  else setFor('requestErrors', profileId, result.error)
  setFor('attempts', profileId, undefined)
}

/** Stop the sign-in in flight; the sign-in itself then ends with a "cancelled" status. */
export async function cancelSignIn(profileId: string): Promise<void> {
  if (useAccess.getState().requests[profileId]) return
  setFor('requests', profileId, 'cancel')
  const result = await getApi().access.cancel(profileId)
  setFor('requestErrors', profileId, result.ok ? undefined : result.error)
  setFor('requests', profileId, undefined)
}

/** Sign out of Access for the profile: the main process logs out, clears the window's storage and deletes the token. */
export async function signOut(profileId: string): Promise<void> {
  const state = useAccess.getState()
  if (state.requests[profileId] || selectSignInRunning(profileId)(state)) return
  setFor('requests', profileId, 'sign-out')
  setFor('requestErrors', profileId, undefined)
  setFor('notices', profileId, undefined)
  const result = await getApi().access.signOut(profileId)
  if (result.ok) {
    applyAccessStatus(result.value)
    setFor('notices', profileId, result.value.error ? undefined : 'Signed out of Cloudflare Access.')
  } else {
    setFor('requestErrors', profileId, result.error)
  }
  setFor('requests', profileId, undefined)
}
