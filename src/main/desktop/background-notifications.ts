/**
 * When to show a system notification: a connection that was ready drops, or a reply finishes
 * (or fails), while the window is in the background.
 *
 * Fed the same connection snapshots and session events the renderer gets, plus whether the
 * window has focus. A notification says which gateway and what happened; a reply's text
 * appears only as a short one-line preview with anything that looks like a credential masked,
 * and an error only by its title (errors are built without secrets). Rate-limited per gateway
 * and overall, so a flapping link or a burst of runs does not flood the notification centre.
 */
import type { ConnectionSnapshot, ConnectionState } from '../../shared/connection-state'
import type { SessionEvent } from '../../shared/ipc-contract'

export type NotificationKind = 'connection-lost' | 'reply-finished' | 'reply-failed'

export interface BackgroundNotification {
  kind: NotificationKind
  profileId: string
  sessionKey?: string
  title: string
  body: string
}

export interface NotificationPolicyOptions {
  now(): number
  /** The gateway's display name (its profile name), if known. */
  nameOf(profileId: string): string | undefined
  /** The least time between two notifications of one kind for one gateway. */
  perGatewayIntervalMs?: number
  /** At most this many notifications in any `windowMs`, all gateways together. */
  maxPerWindow?: number
  windowMs?: number
  previewChars?: number
}

/** States in which a link that was ready has dropped (not an idle after the user disconnected). */
const DROPPED: ReadonlySet<ConnectionState['kind']> = new Set(['reconnecting', 'failed', 'access-required', 'pairing-required'])

// Control and invisible characters: link and reply text comes from outside.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g
/** Runs that look like tokens: JWTs, long hex or base64 strings, `key=value` credentials. */
const CREDENTIAL_LIKE = [
  /\beyJ[\w-]+\.[\w-]+\.[\w-]*/g,
  /\b[A-Za-z0-9+/_-]{24,}={0,2}/g,
  /\b(token|secret|password|passwd|pwd|api[_-]?key|authorization|cf_authorization)\s*[:=]\s*\S+/gi
]

/** A reply's text reduced to a notification preview: one line, short, credentials masked. */
export function previewText(text: string, maxChars = 80): string {
  let t = text.replace(CONTROL, ' ')
  for (const re of CREDENTIAL_LIKE) t = t.replace(re, '•••')
  // Markdown markers read badly in a notification.
  t = t.replace(/[`*_#>|~]+/g, '').replace(/\s+/g, ' ').trim()
  if (t.length <= maxChars) return t
  return `${t.slice(0, maxChars - 1).trimEnd()}…`
}

export class BackgroundNotificationPolicy {
  private readonly lastKind = new Map<string, { seq: number; kind: ConnectionState['kind'] }>()
  private readonly lastShown = new Map<string, number>()
  private shownAt: number[] = []

  constructor(private readonly opts: NotificationPolicyOptions) {}

  /** A connection changed state; returns the notification to show, if any. */
  onConnectionState(snapshot: ConnectionSnapshot, windowFocused: boolean): BackgroundNotification | null {
    const previous = this.lastKind.get(snapshot.profileId)
    if (previous && snapshot.seq <= previous.seq) return null
    this.lastKind.set(snapshot.profileId, { seq: snapshot.seq, kind: snapshot.state.kind })
    if (windowFocused || previous?.kind !== 'ready' || !DROPPED.has(snapshot.state.kind)) return null
    const name = this.name(snapshot.profileId)
    const state = snapshot.state
    const why =
      state.kind === 'reconnecting'
        ? `${state.lastError.title}. Reconnecting…`
        : state.kind === 'failed' || state.kind === 'access-required' || state.kind === 'pairing-required'
          ? state.error.title
          : ''
    return this.allow({ kind: 'connection-lost', profileId: snapshot.profileId, title: `${name}: connection lost`, body: why })
  }

  /** A session event arrived; only the end of a reply can notify. */
  onSessionEvent(event: SessionEvent, windowFocused: boolean): BackgroundNotification | null {
    if (windowFocused) return null
    const name = this.name(event.profileId)
    const max = this.opts.previewChars ?? 80
    if (event.type === 'final') {
      return this.allow({
        kind: 'reply-finished',
        profileId: event.profileId,
        sessionKey: event.sessionKey,
        title: `${name}: reply finished`,
        body: previewText(event.text, max)
      })
    }
    if (event.type === 'error') {
      return this.allow({
        kind: 'reply-failed',
        profileId: event.profileId,
        sessionKey: event.sessionKey,
        title: `${name}: the reply failed`,
        body: previewText(event.message, max)
      })
    }
    return null
  }

  /** A profile was removed: forget what was known about it. */
  forget(profileId: string): void {
    this.lastKind.delete(profileId)
    for (const key of [...this.lastShown.keys()]) if (key.startsWith(`${profileId}\u0000`)) this.lastShown.delete(key)
  }

  private name(profileId: string): string {
    const n = this.opts.nameOf(profileId)?.replace(CONTROL, ' ').trim()
    return n ? n.slice(0, 60) : 'Gateway'
  }

  private allow(n: BackgroundNotification): BackgroundNotification | null {
    const now = this.opts.now()
    const key = `${n.profileId}\u0000${n.kind}\u0000${n.sessionKey ?? ''}`
    const last = this.lastShown.get(key)
    if (last !== undefined && now - last < (this.opts.perGatewayIntervalMs ?? 30_000)) return null
    const windowMs = this.opts.windowMs ?? 60_000
    this.shownAt = this.shownAt.filter((t) => now - t < windowMs)
    if (this.shownAt.length >= (this.opts.maxPerWindow ?? 5)) return null
    this.shownAt.push(now)
    this.lastShown.set(key, now)
    return n
  }
}
