/**
 * Live connection state per profile, as pushed by the main process.
 *
 * Written only by lib/bridge.ts (pushed snapshots and the snapshots returned by connect and
 * disconnect all go through its seq filter); components only read it.
 */
import { create } from 'zustand'
import type { ConnectionSnapshot, ConnectionState } from '../../../shared/connection-state'
import type { AppError } from '../../../shared/errors'

export interface ConnectionsState {
  snapshots: Record<string, ConnectionSnapshot>
  /** A connect/disconnect request that failed as a request (not as a connection state). */
  requestErrors: Record<string, AppError | undefined>
  /** A connect or disconnect request on its way, so buttons can show it and not double-fire. */
  pending: Record<string, 'connect' | 'disconnect' | undefined>
}

export const useConnections = create<ConnectionsState>()(() => ({
  snapshots: {},
  requestErrors: {},
  pending: {}
}))

const IDLE: ConnectionState = { kind: 'idle' }

/** The state of one profile's connection (idle when the main process has said nothing yet). */
export function selectConnectionState(profileId: string | null | undefined) {
  return (s: ConnectionsState): ConnectionState => (profileId ? (s.snapshots[profileId]?.state ?? IDLE) : IDLE)
}
