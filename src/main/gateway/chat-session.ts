/**
 * Chatting on one session key over a live connection: send, stream, abort, history, list.
 *
 * `send` returns a run whose updates stream in as the gateway's `chat` events arrive; the
 * idempotency key doubles as the run id (the gateway uses it so), which lets a caller re-send the
 * same message after a reconnect without it running twice.
 */
import { randomUUID } from 'node:crypto'
import { appError, fail, ok, type AppError, type Result } from '../../shared/errors'
import { ChatAssembler, textOfMessage, type ChatUpdate } from './chat-assembler'
import type { GatewayConnection } from './gateway-connection'

export interface HistoryMessage {
  role: string
  text: string
  timestamp?: number
}

export interface SessionRow {
  key: string
  label?: string
  displayName?: string
  derivedTitle?: string
  lastMessagePreview?: string
  updatedAt?: number | null
  kind?: string
}

export type RunOutcome =
  | { state: 'final'; text: string; stopReason?: string }
  | { state: 'aborted'; text: string; stopReason?: string }
  | { state: 'error'; text: string; error: AppError }

export interface ChatRun {
  runId: string
  /** Subscribe to this run's updates; returns unsubscribe. */
  onUpdate(listener: (u: ChatUpdate) => void): () => void
  /** Resolves when the run reaches final, aborted or error (or the link drops). */
  done: Promise<RunOutcome>
}

export class ChatSession {
  readonly sessionKey: string
  private readonly conn: GatewayConnection
  private readonly assembler: ChatAssembler
  private readonly runListeners = new Map<string, Set<(u: ChatUpdate) => void>>()
  private readonly unsubscribe: () => void
  private readonly unsubscribeClose: () => void
  private readonly doneResolvers = new Map<string, (o: RunOutcome) => void>()
  private readonly otherRunListeners = new Set<(u: ChatUpdate) => void>()

  constructor(conn: GatewayConnection, sessionKey: string) {
    this.conn = conn
    this.sessionKey = sessionKey
    this.assembler = new ChatAssembler(sessionKey, conn.hello.mainSessionKey)
    this.unsubscribe = conn.onEvent((frame) => {
      if (frame.event !== 'chat') return
      const update = this.assembler.apply(frame.payload, conn.hello.mainSessionKey)
      if (update) this.dispatch(update)
    })
    this.unsubscribeClose = conn.onClose((error) => {
      for (const [runId, resolve] of this.doneResolvers) {
        resolve({ state: 'error', text: this.assembler.textOf(runId), error })
      }
      this.doneResolvers.clear()
    })
  }

  /**
   * Runs on this session that this client did not start (another window, the CLI, a chat
   * channel): every operator connection receives them; returns unsubscribe.
   */
  onOtherRun(listener: (u: ChatUpdate) => void): () => void {
    this.otherRunListeners.add(listener)
    return () => this.otherRunListeners.delete(listener)
  }

  private dispatch(update: ChatUpdate): void {
    const own = this.runListeners.get(update.runId)
    if (!own && !this.doneResolvers.has(update.runId)) {
      for (const l of this.otherRunListeners) l(update)
      return
    }
    for (const l of own ?? []) l(update)
    const resolve = this.doneResolvers.get(update.runId)
    if (!resolve) return
    if (update.type === 'final' || update.type === 'aborted') {
      this.doneResolvers.delete(update.runId)
      resolve({ state: update.type, text: update.text, ...(update.stopReason ? { stopReason: update.stopReason } : {}) })
    } else if (update.type === 'error') {
      this.doneResolvers.delete(update.runId)
      resolve({
        state: 'error',
        text: update.text,
        error: appError('CHAT_FAILED', 'The agent could not reply', update.message, {
          retryable: true,
          nextSteps: [{ action: 'retry', label: 'Send the message again.' }]
        })
      })
    }
  }

  /**
   * Send a message. Pass `onUpdate` to see every update of the run (it is registered before the
   * request leaves). Pass the same `idempotencyKey` to re-send safely after a reconnect.
   */
  async send(
    message: string,
    opts: { idempotencyKey?: string; timeoutMs?: number; onUpdate?: (u: ChatUpdate) => void } = {}
  ): Promise<Result<ChatRun>> {
    if (message.trim() === '') {
      return fail(appError('INVALID_INPUT', 'Nothing to send', 'The message is empty.'))
    }
    const runId = opts.idempotencyKey ?? randomUUID()
    const listeners = new Set<(u: ChatUpdate) => void>()
    // Events can arrive in the same packet as the acceptance, before `send` resolves: a listener
    // that must see every update is passed here and registered before the request leaves.
    if (opts.onUpdate) listeners.add(opts.onUpdate)
    this.runListeners.set(runId, listeners)
    const done = new Promise<RunOutcome>((resolve) => this.doneResolvers.set(runId, resolve))
    const ack = await this.conn.request<{ runId?: string; status?: string }>(
      'chat.send',
      { sessionKey: this.sessionKey, message, idempotencyKey: runId },
      opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}
    )
    if (!ack.ok) {
      this.runListeners.delete(runId)
      this.doneResolvers.delete(runId)
      return ack
    }
    const ackRunId = ack.value?.runId ?? runId
    if (ackRunId !== runId) {
      // The gateway names runs by idempotency key; if one ever differs, follow the gateway's name.
      this.runListeners.set(ackRunId, listeners)
      const r = this.doneResolvers.get(runId)
      if (r) {
        this.doneResolvers.delete(runId)
        this.doneResolvers.set(ackRunId, r)
      }
    }
    return ok({
      runId: ackRunId,
      onUpdate: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
      done: done.finally(() => {
        this.runListeners.delete(ackRunId)
      })
    })
  }

  /** Ask the gateway to stop a run (or whatever runs on this session). */
  async abort(runId?: string): Promise<Result<{ aborted: boolean; runIds: string[] }>> {
    const res = await this.conn.request<{ aborted?: boolean; runIds?: string[] }>('chat.abort', {
      sessionKey: this.sessionKey,
      runId
    })
    if (!res.ok) return res
    return ok({ aborted: res.value?.aborted === true, runIds: Array.isArray(res.value?.runIds) ? res.value.runIds : [] })
  }

  /** The session's transcript, oldest first, as plain text per message. */
  async history(limit = 200): Promise<Result<HistoryMessage[]>> {
    const res = await this.conn.request<{ messages?: unknown[] }>('chat.history', { sessionKey: this.sessionKey, limit })
    if (!res.ok) return res
    const messages: HistoryMessage[] = []
    for (const m of res.value?.messages ?? []) {
      if (typeof m !== 'object' || m === null) continue
      const row = m as Record<string, unknown>
      const role = typeof row.role === 'string' ? row.role : 'unknown'
      const text = textOfMessage(row) ?? ''
      const msg: HistoryMessage = { role, text }
      if (typeof row.timestamp === 'number') msg.timestamp = row.timestamp
      messages.push(msg)
    }
    return ok(messages)
  }

  /** Dispose listeners (the connection stays open). */
  dispose(): void {
    this.unsubscribe()
    this.unsubscribeClose()
    this.runListeners.clear()
    this.otherRunListeners.clear()
  }
}

/** The gateway's sessions, newest first. */
export async function listSessions(conn: GatewayConnection, limit = 50): Promise<Result<SessionRow[]>> {
  const res = await conn.request<{ sessions?: unknown[] }>('sessions.list', {
    limit,
    includeDerivedTitles: true,
    includeLastMessage: true
  })
  if (!res.ok) return res
  const rows: SessionRow[] = []
  for (const s of res.value?.sessions ?? []) {
    if (typeof s !== 'object' || s === null) continue
    const r = s as Record<string, unknown>
    if (typeof r.key !== 'string') continue
    const row: SessionRow = { key: r.key }
    for (const f of ['label', 'displayName', 'derivedTitle', 'lastMessagePreview', 'kind'] as const) {
      if (typeof r[f] === 'string') row[f] = r[f] as string
    }
    if (typeof r.updatedAt === 'number' || r.updatedAt === null) row.updatedAt = r.updatedAt as number | null
    rows.push(row)
  }
  return ok(rows)
}
