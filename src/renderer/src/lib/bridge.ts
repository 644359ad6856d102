/**
 * Feeds what the main process pushes into the stores.
 *
 * Order matters: it subscribes to pushed events first and only then asks for the current
 * snapshots, so a change that happens in between is never lost. A snapshot can then arrive
 * twice or out of order (pushed, then the older one in the fetched list); every snapshot passes
 * one per-profile seq filter that drops anything not newer than what was already applied.
 *
 * Access sign-in statuses follow the same order and pass the same kind of filter
 * (stores/access-store.ts). A gateway link from the main process opens a prefilled, unsaved
 * editor (lib/gateway-link.ts). The connection doctor's steps go to the doctor store as they end.
 *
 * Connect and disconnect live here too: the snapshot they return goes through the same filter,
 * which keeps this module the only writer of the connections store.
 */
import type { ConnectionSnapshot } from '../../../shared/connection-state'
import type { AppError } from '../../../shared/errors'
import { getApi } from './api'
import { receiveGatewayLink } from './gateway-link'
import { applyAccessStatus } from '../stores/access-store'
import { useAppInfo } from '../stores/app-info-store'
import { useConnections } from '../stores/connections-store'
import { applyDoctorProgress } from '../stores/doctor-store'
import { useProfiles } from '../stores/profiles-store'
import { useSession } from '../stores/session-store'

/** Apply a snapshot unless it is stale; true when it was applied. */
export function applySnapshot(snapshot: ConnectionSnapshot): boolean {
  const current = useConnections.getState().snapshots[snapshot.profileId]
  if (current && snapshot.seq <= current.seq) return false
  useConnections.setState((s) => ({ snapshots: { ...s.snapshots, [snapshot.profileId]: snapshot } }))
  return true
}

/** Start feeding the stores; returns the function that stops it. */
export function startBridge(): () => void {
  const api = getApi()
  let stopped = false
  const offState = api.connection.onState((snapshot) => {
    if (!stopped) applySnapshot(snapshot)
  })
  const offEvent = api.session.onEvent((event) => {
    if (!stopped) useSession.getState().applyEvent(event)
  })
  const offAccess = api.access.onStatus((status) => {
    if (!stopped) applyAccessStatus(status)
  })
  const offLink = api.app.onOpenGateway((request) => {
    if (!stopped) receiveGatewayLink(request)
  })
  const offDoctor = api.doctor.onProgress((progress) => {
    if (!stopped) applyDoctorProgress(progress)
  })

  void api.connection.snapshots().then((result) => {
    if (stopped || !result.ok) return
    for (const snapshot of result.value) applySnapshot(snapshot)
  })
  void api.access.statuses().then((result) => {
    if (stopped || !result.ok) return
    for (const status of result.value) applyAccessStatus(status, { initial: true })
  })
  void api.app.info().then((result) => {
    if (stopped) return
    useAppInfo.setState(result.ok ? { info: result.value, error: undefined } : { error: result.error })
  })
  void useProfiles.getState().load()

  return () => {
    stopped = true
    offState()
    offEvent()
    offAccess()
    offLink()
    offDoctor()
  }
}

function setPending(profileId: string, pending: 'connect' | 'disconnect' | undefined, error?: AppError) {
  useConnections.setState((s) => ({
    pending: { ...s.pending, [profileId]: pending },
    requestErrors: { ...s.requestErrors, [profileId]: error }
  }))
}

/** Ask the main process to connect; the state changes arrive as snapshots. */
export async function connectProfile(profileId: string): Promise<void> {
  await runConnectionRequest(profileId, 'connect')
}

export async function disconnectProfile(profileId: string): Promise<void> {
  await runConnectionRequest(profileId, 'disconnect')
}

async function runConnectionRequest(profileId: string, what: 'connect' | 'disconnect'): Promise<void> {
  if (useConnections.getState().pending[profileId] === what) return
  setPending(profileId, what)
  const api = getApi()
  const result = what === 'connect' ? await api.connection.connect(profileId) : await api.connection.disconnect(profileId)
  if (result.ok) {
    applySnapshot(result.value)
    setPending(profileId, undefined)
  } else {
    setPending(profileId, undefined, result.error)
  }
}
