/**
 * The state of one gateway connection, as the renderer sees it.
 *
 * A discriminated union on `kind`; the main process changes it only through the pure
 * `transition` function (src/main/connections/connection-machine.ts) and pushes every change
 * to the renderer as a ConnectionSnapshot. Each state carries what its panel needs to show.
 */
import type { AppError } from './errors'

export interface ReadyInfo {
  protocol: number
  serverVersion?: string
  scopes: string[]
  mainSessionKey: string
  connectedAt: number
  warnings: string[]
}

export type ConnectionState =
  | { kind: 'idle' }
  /** `resuming`: reconnecting a link that was up (keeps retrying transient failures). */
  | { kind: 'connecting'; attempt: number; resuming: boolean }
  | { kind: 'handshaking'; attempt: number; resuming: boolean }
  | { kind: 'ready'; info: ReadyInfo }
  /** The gateway wants this device approved; the app keeps retrying until it is. */
  | { kind: 'pairing-required'; error: AppError; requestId?: string; command?: string; attempt: number }
  /** Cloudflare Access refused or wants credentials: waits for the user (never retries by itself). */
  | { kind: 'access-required'; error: AppError }
  /** The link dropped or the gateway is starting: retrying with backoff. */
  | { kind: 'reconnecting'; attempt: number; retryAt: number; lastError: AppError }
  /** Needs the user: wrong token, bad URL, protocol mismatch... */
  | { kind: 'failed'; error: AppError }

export type ConnectionKind = ConnectionState['kind']

export interface ConnectionSnapshot {
  profileId: string
  /** Increases with every change of this profile's state; stale snapshots are dropped by seq. */
  seq: number
  state: ConnectionState
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`)
}
