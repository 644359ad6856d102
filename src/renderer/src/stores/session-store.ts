/**
 * Conversations, per profile and session key.
 *
 * A message the user sends appears at once ("sending"); if the request fails it stays, with its
 * text and the error, so it can be retried (with the same client message id, which lets the
 * gateway drop a duplicate if the first attempt did arrive). Replies stream in as SessionEvents
 * whose `text` is the whole reply so far: the store replaces the text, never appends to it.
 */
import { create } from 'zustand'
import type { ChatMessage, SessionEvent, SessionSummary } from '../../../shared/ipc-contract'
import { appError, type AppError, type Result } from '../../../shared/errors'
import { getApi } from '../lib/api'
import { newClientMessageId } from '../lib/ids'

export interface UiMessage extends ChatMessage {
  /** Only for messages this window sent: where the request to send it is. */
  delivery?: 'sending' | 'sent' | 'failed'
  sendError?: AppError
}

export interface SessionThread {
  messages: UiMessage[]
  history: { status: 'idle' | 'loading' | 'loaded' | 'error'; error?: AppError }
  /** The run whose reply is streaming, if any (what Abort stops). */
  activeRunId?: string
  /** The gateway's last status phase for the active run ("thinking", "tool"...). */
  phase?: string
  aborting?: boolean
  abortError?: AppError
}

export interface SessionListState {
  status: 'idle' | 'loading' | 'loaded' | 'error'
  items: SessionSummary[]
  error?: AppError
}

export interface SessionState {
  threads: Record<string, SessionThread>
  /** The session key open for each profile (absent: the profile's own session key). */
  currentKey: Record<string, string>
  lists: Record<string, SessionListState>
  selectSession(profileId: string, sessionKey: string): void
  loadHistory(profileId: string, sessionKey: string): Promise<void>
  loadSessions(profileId: string): Promise<void>
  send(profileId: string, sessionKey: string, text: string): Promise<Result<{ runId: string }>>
  retrySend(profileId: string, sessionKey: string, messageId: string): Promise<Result<{ runId: string }>>
  discard(profileId: string, sessionKey: string, messageId: string): void
  abort(profileId: string, sessionKey: string): Promise<void>
  /** Pushed events; called by the bridge only. */
  applyEvent(event: SessionEvent): void
}

/** Key of a thread in `threads`. */
export function threadKey(profileId: string, sessionKey: string): string {
  return `${profileId}\n${sessionKey}`
}

export const EMPTY_THREAD: SessionThread = Object.freeze({ messages: [], history: { status: 'idle' } }) as SessionThread

const TERMINAL: ReadonlySet<string> = new Set(['final', 'aborted', 'error'])

/** The id of the placeholder/streaming message of a run. */
function replyId(runId: string): string {
  return `reply:${runId}`
}

/** The status a message shows (`data-status`): delivery for own messages, stream state for replies. */
export function messageStatus(m: UiMessage): string {
  if (m.role === 'user') return m.delivery ?? 'sent'
  return m.status ?? 'final'
}

const historyLoads = new Map<string, Promise<void>>()

export const useSession = create<SessionState>()((set, get) => {
  const updateThread = (key: string, change: (t: SessionThread) => Partial<SessionThread>) =>
    set((s) => {
      const thread = s.threads[key] ?? EMPTY_THREAD
      return { threads: { ...s.threads, [key]: { ...thread, ...change(thread) } } }
    })

  const updateMessage = (key: string, id: string, change: (m: UiMessage) => UiMessage) =>
    updateThread(key, (t) => ({ messages: t.messages.map((m) => (m.id === id ? change(m) : m)) }))

  /** Create or update the reply of a run; a late delta never reopens a finished reply. */
  const upsertReply = (key: string, runId: string, text: string, status: NonNullable<ChatMessage['status']>, error?: string) =>
    updateThread(key, (t) => {
      const id = replyId(runId)
      const existing = t.messages.find((m) => m.id === id)
      if (existing && status === 'streaming' && TERMINAL.has(existing.status ?? '')) return {}
      const reply: UiMessage = { ...(existing ?? { id, role: 'assistant', runId, timestamp: Date.now() }), text, status, ...(error ? { error } : {}) }
      const messages = existing ? t.messages.map((m) => (m.id === id ? reply : m)) : [...t.messages, reply]
      const ended = status !== 'streaming'
      return {
        messages,
        ...(ended && t.activeRunId === runId ? { activeRunId: undefined, phase: undefined } : {}),
        ...(!ended && !t.activeRunId ? { activeRunId: runId } : {})
      }
    })

  const deliver = async (profileId: string, sessionKey: string, messageId: string): Promise<Result<{ runId: string }>> => {
    const key = threadKey(profileId, sessionKey)
    const message = get().threads[key]?.messages.find((m) => m.id === messageId)
    if (!message) return { ok: false, error: missingMessage() }
    updateMessage(key, messageId, (m) => ({ ...m, delivery: 'sending', sendError: undefined }))
    const sent = await getApi().session.send(profileId, sessionKey, message.text, messageId)
    if (!sent.ok) {
      updateMessage(key, messageId, (m) => ({ ...m, delivery: 'failed', sendError: sent.error }))
      return sent
    }
    const { runId } = sent.value
    updateMessage(key, messageId, (m) => ({ ...m, delivery: 'sent', runId }))
    updateThread(key, (t) => {
      // The run's events may have overtaken this answer; a run that already ended is not active.
      const ended = t.messages.some((m) => m.id === replyId(runId) && TERMINAL.has(m.status ?? ''))
      return ended || t.activeRunId ? {} : { activeRunId: runId }
    })
    return sent
  }

  return {
    threads: {},
    currentKey: {},
    lists: {},

    selectSession(profileId, sessionKey) {
      set((s) => ({ currentKey: { ...s.currentKey, [profileId]: sessionKey } }))
    },

    loadHistory(profileId, sessionKey) {
      const key = threadKey(profileId, sessionKey)
      const inFlight = historyLoads.get(key)
      if (inFlight) return inFlight
      const load = (async () => {
        updateThread(key, (t) => ({ history: { ...t.history, status: 'loading', error: undefined } }))
        const history = await getApi().session.history(profileId, sessionKey)
        if (!history.ok) {
          updateThread(key, () => ({ history: { status: 'error', error: history.error } }))
          return
        }
        updateThread(key, (t) => ({ messages: mergeHistory(history.value, t.messages), history: { status: 'loaded' } }))
      })().finally(() => historyLoads.delete(key))
      historyLoads.set(key, load)
      return load
    },

    async loadSessions(profileId) {
      set((s) => ({ lists: { ...s.lists, [profileId]: { items: s.lists[profileId]?.items ?? [], status: 'loading' } } }))
      const listed = await getApi().session.list(profileId)
      set((s) => ({
        lists: {
          ...s.lists,
          [profileId]: listed.ok
            ? { status: 'loaded', items: listed.value }
            : { status: 'error', items: s.lists[profileId]?.items ?? [], error: listed.error }
        }
      }))
    },

    async send(profileId, sessionKey, text) {
      const body = text.trim()
      if (body === '') return { ok: false, error: emptyMessage() }
      const id = newClientMessageId()
      const message: UiMessage = { id, role: 'user', text: body, timestamp: Date.now(), delivery: 'sending' }
      updateThread(threadKey(profileId, sessionKey), (t) => ({ messages: [...t.messages, message] }))
      return deliver(profileId, sessionKey, id)
    },

    retrySend(profileId, sessionKey, messageId) {
      return deliver(profileId, sessionKey, messageId)
    },

    discard(profileId, sessionKey, messageId) {
      updateThread(threadKey(profileId, sessionKey), (t) => ({ messages: t.messages.filter((m) => m.id !== messageId) }))
    },

    async abort(profileId, sessionKey) {
      const key = threadKey(profileId, sessionKey)
      const runId = get().threads[key]?.activeRunId
      updateThread(key, () => ({ aborting: true, abortError: undefined }))
      const aborted = await getApi().session.abort(profileId, sessionKey, runId)
      updateThread(key, (t) => {
        if (!aborted.ok) return { aborting: false, abortError: aborted.error }
        // "Nothing to abort": the run ended without us hearing of it; stop offering Abort.
        if (!aborted.value.aborted && t.activeRunId === runId) return { aborting: false, activeRunId: undefined, phase: undefined }
        return { aborting: false }
      })
    },

    applyEvent(event) {
      const key = threadKey(event.profileId, event.sessionKey)
      switch (event.type) {
        case 'run-started':
          updateThread(key, (t) => {
            const own = t.messages.some((m) => m.id === event.clientMessageId)
            const messages = own
              ? t.messages.map((m) => (m.id === event.clientMessageId ? { ...m, delivery: 'sent' as const, runId: event.runId, sendError: undefined } : m))
              : // Sent from elsewhere (another window, the CLI): show it all the same.
                [...t.messages, { id: event.clientMessageId, role: 'user' as const, text: event.userText, timestamp: Date.now(), runId: event.runId }]
            return { messages, activeRunId: event.runId, phase: undefined }
          })
          upsertReply(key, event.runId, '', 'streaming')
          return
        case 'status':
          updateThread(key, (t) => (t.activeRunId === event.runId ? { phase: event.phase } : {}))
          return
        case 'delta':
          upsertReply(key, event.runId, event.text, 'streaming')
          return
        case 'final': {
          const ours = get().threads[key]?.messages.some((m) => m.role === 'user' && m.runId === event.runId) ?? false
          upsertReply(key, event.runId, event.text, 'final')
          // The transcript has the truth when the run was someone else's (its question is not
          // shown yet), or when the final is empty (the gateway folded this message into a run
          // that was already going).
          if (!ours || event.text.trim() === '') void get().loadHistory(event.profileId, event.sessionKey)
          return
        }
        case 'aborted':
          upsertReply(key, event.runId, event.text, 'aborted')
          return
        case 'error':
          upsertReply(key, event.runId, event.text, 'error', event.message)
          return
      }
    }
  }
})

/**
 * History replaces what is shown, except what history cannot know yet: messages still being
 * sent or that failed to send, and a reply still streaming.
 */
function mergeHistory(history: ChatMessage[], local: UiMessage[]): UiMessage[] {
  const ids = new Set(history.map((m) => m.id))
  const runs = new Set(history.filter((m) => m.role === 'assistant' && m.runId).map((m) => m.runId))
  const unsettled = local.filter(
    (m) =>
      !ids.has(m.id) &&
      (m.delivery === 'sending' || m.delivery === 'failed' || (m.role === 'assistant' && m.status === 'streaming' && !runs.has(m.runId)))
  )
  return [...history, ...unsettled]
}

function emptyMessage(): AppError {
  return appError('INVALID_INPUT', 'Nothing to send', 'Type a message first.')
}

function missingMessage(): AppError {
  return appError('INVALID_INPUT', 'Message not found', 'That message is no longer in this conversation.')
}
