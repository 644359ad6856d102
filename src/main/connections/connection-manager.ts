/**
 * Owns every gateway connection of the desktop app (several profiles may be connected at
 * once): runs the state machine's effects, keeps the live sockets and chat sessions, and pushes
 * every state change and streamed reply to the renderer.
 *
 * Electron-free: timers, the clock, the profiles and the secrets come in as ports, so the whole
 * thing runs under Node in tests against a real gateway.
 */
import { randomUUID } from 'node:crypto'
import type { ConnectionSnapshot, ConnectionState, ReadyInfo } from '../../shared/connection-state'
import { appError, fail, ok, type AppError, type Result } from '../../shared/errors'
import type { ChatMessage, SessionEvent, SessionSummary } from '../../shared/ipc-contract'
import type { GatewayProfile } from '../../shared/profile'
import type { ChatUpdate } from '../gateway/chat-assembler'
import { ChatSession, listSessions } from '../gateway/chat-session'
import { targetFromProfile } from '../gateway/connect-target'
import { connectGateway, type ConnectorDeps } from '../gateway/gateway-connector'
import type { GatewayConnection } from '../gateway/gateway-connection'
import type { ProtocolVersion } from '../gateway/protocol'
import type { SecretStore } from '../secrets/secret-store'
import { transition, type ConnectionEffect, type ConnectionEvent } from './connection-machine'

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export interface ConnectionManagerDeps {
  getProfile(id: string): Promise<GatewayProfile | null>
  secrets: SecretStore
  connector: Omit<ConnectorDeps, 'secrets'>
  onSnapshot(snapshot: ConnectionSnapshot): void
  onSessionEvent(event: SessionEvent): void
  now?: () => number
  timers?: Timers
  random?: () => number
}

interface Slot {
  state: ConnectionState
  seq: number
  conn?: GatewayConnection
  retryTimer?: unknown
  /** Aborts the dial in flight, so a disconnect during connecting does not leave a socket. */
  dialAbort?: AbortController
  knownProtocol?: ProtocolVersion
  sessions: Map<string, ChatSession>
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout)
}

function notReady(profileId: string, state: ConnectionState): AppError {
  return appError('CONNECTION_CLOSED', 'Not connected', 'Connect to the gateway first.', {
    retryable: true,
    details: { notes: [`profile ${profileId} is ${state.kind}`] },
    nextSteps: [{ action: 'retry', label: 'Connect.' }]
  })
}

export class ConnectionManager {
  private readonly slots = new Map<string, Slot>()
  private readonly deps: ConnectionManagerDeps
  private readonly timers: Timers
  private readonly now: () => number

  constructor(deps: ConnectionManagerDeps) {
    this.deps = deps
    this.timers = deps.timers ?? realTimers
    this.now = deps.now ?? Date.now
  }

  private slot(profileId: string): Slot {
    let s = this.slots.get(profileId)
    if (!s) {
      s = { state: { kind: 'idle' }, seq: 0, sessions: new Map() }
      this.slots.set(profileId, s)
    }
    return s
  }

  snapshot(profileId: string): ConnectionSnapshot {
    const s = this.slot(profileId)
    return { profileId, seq: s.seq, state: s.state }
  }

  snapshots(profileIds: string[]): ConnectionSnapshot[] {
    return profileIds.map((id) => this.snapshot(id))
  }

  connect(profileId: string): ConnectionSnapshot {
    this.dispatch(profileId, { type: 'connect-requested' })
    return this.snapshot(profileId)
  }

  disconnect(profileId: string): ConnectionSnapshot {
    this.dispatch(profileId, { type: 'disconnect-requested' })
    return this.snapshot(profileId)
  }

  /** New secrets or a changed profile: an Access or auth failure may now pass. */
  credentialsUpdated(profileId: string): void {
    this.dispatch(profileId, { type: 'credentials-updated' })
  }

  /** The address or Access settings changed: a connection in use redials with the new ones. */
  reconnectIfActive(profileId: string): void {
    const kind = this.slot(profileId).state.kind
    if (kind === 'idle') return
    if (kind === 'ready' || kind === 'reconnecting') this.dispatch(profileId, { type: 'disconnect-requested' })
    this.dispatch(profileId, kind === 'ready' || kind === 'reconnecting' ? { type: 'connect-requested' } : { type: 'credentials-updated' })
  }

  /** A removed profile: close it and forget it. */
  forget(profileId: string): void {
    this.dispatch(profileId, { type: 'disconnect-requested' })
    this.slots.delete(profileId)
  }

  private dispatch(profileId: string, event: ConnectionEvent, conn?: GatewayConnection): void {
    const s = this.slot(profileId)
    const result = transition(s.state, event, { now: this.now(), ...(this.deps.random ? { random: this.deps.random } : {}) })
    const changed = result.state !== s.state
    s.state = result.state
    if (changed) {
      s.seq++
      this.deps.onSnapshot({ profileId, seq: s.seq, state: s.state })
    }
    if (event.type === 'connected' && conn) {
      if (result.effects.some((e) => e.type === 'close-socket')) conn.close()
      else this.adopt(profileId, s, conn)
    }
    for (const effect of result.effects) this.run(profileId, s, effect)
  }

  private run(profileId: string, s: Slot, effect: ConnectionEffect): void {
    switch (effect.type) {
      case 'dial':
        void this.dial(profileId, s)
        return
      case 'close-socket':
        s.dialAbort?.abort()
        s.dialAbort = undefined
        this.dropConnection(s)?.close()
        return
      case 'schedule-retry':
        if (s.retryTimer !== undefined) this.timers.clearTimeout(s.retryTimer)
        s.retryTimer = this.timers.setTimeout(() => {
          s.retryTimer = undefined
          this.dispatch(profileId, { type: 'retry-timer-fired' })
        }, effect.delayMs)
        return
      case 'cancel-retry':
        if (s.retryTimer !== undefined) this.timers.clearTimeout(s.retryTimer)
        s.retryTimer = undefined
        return
    }
  }

  private dropConnection(s: Slot): GatewayConnection | undefined {
    const conn = s.conn
    s.conn = undefined
    for (const session of s.sessions.values()) session.dispose()
    s.sessions.clear()
    return conn
  }

  private adopt(profileId: string, s: Slot, conn: GatewayConnection): void {
    s.conn = conn
    s.knownProtocol = conn.hello.protocol
    conn.onClose((error) => {
      if (s.conn !== conn) return
      this.dropConnection(s)
      this.dispatch(profileId, { type: 'link-dropped', error })
    })
  }

  private async dial(profileId: string, s: Slot): Promise<void> {
    s.dialAbort?.abort()
    const abort = new AbortController()
    s.dialAbort = abort
    const failWith = (error: AppError) => {
      if (s.dialAbort === abort) s.dialAbort = undefined
      if (!abort.signal.aborted) this.dispatch(profileId, { type: 'connect-failed', error })
    }
    const profile = await this.deps.getProfile(profileId)
    if (!profile) {
      failWith(appError('PROFILE_NOT_FOUND', 'No such gateway', 'This gateway profile no longer exists.'))
      return
    }
    const resolved = await targetFromProfile(profile, this.deps.secrets)
    if (!resolved.ok) {
      failWith(resolved.error)
      return
    }
    const result = await connectGateway(resolved.value.target, { ...this.deps.connector, secrets: this.deps.secrets }, {
      signal: abort.signal,
      ...(s.knownProtocol ? { knownProtocol: s.knownProtocol } : {}),
      onSocketOpened: () => {
        if (!abort.signal.aborted) this.dispatch(profileId, { type: 'socket-opened' })
      }
    })
    if (!result.ok) {
      failWith(result.error)
      return
    }
    if (s.dialAbort === abort) s.dialAbort = undefined
    const conn = result.value.connection
    if (abort.signal.aborted) {
      conn.close()
      return
    }
    const info: ReadyInfo = {
      protocol: conn.hello.protocol,
      ...(conn.hello.serverVersion ? { serverVersion: conn.hello.serverVersion } : {}),
      scopes: conn.hello.scopes,
      mainSessionKey: conn.hello.mainSessionKey,
      connectedAt: this.now(),
      warnings: [...resolved.value.warnings, ...result.value.warnings]
    }
    this.dispatch(profileId, { type: 'connected', info }, conn)
  }

  private ready(profileId: string): Result<GatewayConnection> {
    const s = this.slot(profileId)
    if (s.state.kind !== 'ready' || !s.conn) return fail(notReady(profileId, s.state))
    return ok(s.conn)
  }

  private session(profileId: string, sessionKey: string): Result<ChatSession> {
    const conn = this.ready(profileId)
    if (!conn.ok) return conn
    const s = this.slot(profileId)
    let session = s.sessions.get(sessionKey)
    if (!session) {
      session = new ChatSession(conn.value, sessionKey)
      s.sessions.set(sessionKey, session)
      // Show what other clients do on this session too, as it happens.
      session.onOtherRun((u) => {
        const base = { profileId, sessionKey, runId: u.runId }
        switch (u.type) {
          case 'delta':
            return this.deps.onSessionEvent({ type: 'delta', ...base, text: u.text })
          case 'status':
            return this.deps.onSessionEvent({ type: 'status', ...base, phase: u.phase })
          case 'error':
            return this.deps.onSessionEvent({ type: 'error', ...base, text: u.text, message: u.message })
          default:
            return this.deps.onSessionEvent({ type: u.type, ...base, text: u.text })
        }
      })
    }
    return ok(session)
  }

  /**
   * Send a message; streamed updates are pushed as SessionEvents. The client message id is the
   * idempotency key, so re-sending the same message after a reconnect never runs it twice.
   */
  async send(profileId: string, sessionKey: string, text: string, clientMessageId: string): Promise<Result<{ runId: string }>> {
    const session = this.session(profileId, sessionKey)
    if (!session.ok) return session
    const base = { profileId, sessionKey, runId: clientMessageId }
    // Updates can arrive with the acceptance, before run-started is pushed: hold them until then
    // so the renderer always sees run-started first.
    let started = false
    const early: ChatUpdate[] = []
    const push = (u: ChatUpdate) => {
      if (u.type === 'delta') this.deps.onSessionEvent({ type: 'delta', ...base, text: u.text })
      else if (u.type === 'status') this.deps.onSessionEvent({ type: 'status', ...base, phase: u.phase })
    }
    const sent = await session.value.send(text, {
      idempotencyKey: clientMessageId,
      onUpdate: (u) => (started ? push(u) : early.push(u))
    })
    if (!sent.ok) return sent
    const run = sent.value
    base.runId = run.runId
    this.deps.onSessionEvent({ type: 'run-started', ...base, userText: text, clientMessageId })
    started = true
    for (const u of early.splice(0)) push(u)
    void run.done.then((outcome) => {
      if (outcome.state === 'error') {
        this.deps.onSessionEvent({ type: 'error', ...base, text: outcome.text, message: outcome.error.message })
      } else {
        this.deps.onSessionEvent({ type: outcome.state, ...base, text: outcome.text })
      }
    })
    return ok({ runId: run.runId })
  }

  async abort(profileId: string, sessionKey: string, runId?: string): Promise<Result<{ aborted: boolean }>> {
    const session = this.session(profileId, sessionKey)
    if (!session.ok) return session
    const res = await session.value.abort(runId)
    return res.ok ? ok({ aborted: res.value.aborted }) : res
  }

  async history(profileId: string, sessionKey: string): Promise<Result<ChatMessage[]>> {
    const session = this.session(profileId, sessionKey)
    if (!session.ok) return session
    const res = await session.value.history(200)
    if (!res.ok) return res
    return ok(
      res.value
        .filter((m) => m.text.trim() !== '')
        .map((m, i) => ({
          id: `h-${i}-${m.timestamp ?? randomUUID()}`,
          role: m.role === 'user' || m.role === 'assistant' || m.role === 'system' ? m.role : 'tool',
          text: m.text,
          ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}),
          ...(m.role === 'assistant' ? { status: 'final' as const } : {})
        }))
    )
  }

  async sessions(profileId: string): Promise<Result<SessionSummary[]>> {
    const conn = this.ready(profileId)
    if (!conn.ok) return conn
    const res = await listSessions(conn.value)
    if (!res.ok) return res
    return ok(
      res.value.map((r) => ({
        key: r.key,
        title: r.label ?? r.displayName ?? r.derivedTitle ?? r.key,
        ...(r.lastMessagePreview ? { preview: r.lastMessagePreview } : {}),
        ...(r.updatedAt !== undefined ? { updatedAt: r.updatedAt } : {})
      }))
    )
  }

  /** Close everything (app quit). */
  dispose(): void {
    for (const profileId of [...this.slots.keys()]) this.dispatch(profileId, { type: 'disconnect-requested' })
  }
}
