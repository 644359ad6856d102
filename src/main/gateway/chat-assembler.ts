/**
 * Assembling the streamed `chat` events of one session into replies.
 *
 * Pure: feed it event payloads, get updates out. What the real gateway does, and what this
 * copes with:
 * - `delta` carries the cumulative text in `message` (authoritative) and, on protocol 4, the new
 *   suffix in `deltaText`; `replace: true` means the text was rewritten.
 * - the last `delta` and the `final` share one `seq`, so only a strictly smaller seq is stale;
 * - a failed run sends `error` twice (the provider error, then a generic one): the first wins;
 * - every operator client sees every session's events: other sessions are ignored.
 */
import { canonicalSessionKey } from './protocol'

export type ChatUpdate =
  | { type: 'delta'; runId: string; text: string; appended: string; replaced: boolean }
  | { type: 'status'; runId: string; phase: string; retryAttempt?: number; maxAttempts?: number }
  | { type: 'final'; runId: string; text: string; stopReason?: string }
  | { type: 'aborted'; runId: string; text: string; stopReason?: string }
  | { type: 'error'; runId: string; text: string; message: string; errorKind?: string }

interface RunState {
  text: string
  lastSeq: number
  done: boolean
}

/** Joined text blocks of a chat message, or undefined when it carries no text content. */
export function textOfMessage(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined
  const content = (message as { content?: unknown }).content
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return undefined
  const parts: string[] = []
  let sawText = false
  for (const block of content) {
    if (typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'text') {
      const t = (block as { text?: unknown }).text
      if (typeof t === 'string') {
        parts.push(t)
        sawText = true
      }
    }
  }
  return sawText ? parts.join('') : undefined
}

const MAX_TRACKED_RUNS = 64

export class ChatAssembler {
  private readonly sessionKey: string
  private readonly runs = new Map<string, RunState>()

  constructor(sessionKey: string, mainSessionKey?: string) {
    this.sessionKey = canonicalSessionKey(sessionKey, mainSessionKey)
  }

  /** Current text of a run (empty when unknown). */
  textOf(runId: string): string {
    return this.runs.get(runId)?.text ?? ''
  }

  /** True once the run reached final, aborted or error. */
  isDone(runId: string): boolean {
    return this.runs.get(runId)?.done ?? false
  }

  /** Apply one `chat` event payload; returns the update it causes, or null when it is ignored. */
  apply(payload: unknown, mainSessionKey?: string): ChatUpdate | null {
    if (typeof payload !== 'object' || payload === null) return null
    const p = payload as Record<string, unknown>
    const runId = typeof p.runId === 'string' ? p.runId : undefined
    const key = typeof p.sessionKey === 'string' ? p.sessionKey : undefined
    const state = typeof p.state === 'string' ? p.state : undefined
    if (!runId || !key || !state) return null
    if (canonicalSessionKey(key, mainSessionKey) !== this.sessionKey) return null

    let run = this.runs.get(runId)
    if (!run) {
      run = { text: '', lastSeq: -1, done: false }
      this.runs.set(runId, run)
      this.evictOldRuns()
    }
    if (run.done) return null
    const seq = typeof p.seq === 'number' ? p.seq : undefined
    if (seq !== undefined) {
      if (seq < run.lastSeq) return null
      run.lastSeq = seq
    }

    switch (state) {
      case 'delta': {
        const before = run.text
        const snapshot = textOfMessage(p.message)
        const deltaText = typeof p.deltaText === 'string' ? p.deltaText : undefined
        const replace = p.replace === true
        if (snapshot !== undefined) run.text = snapshot
        else if (deltaText !== undefined) run.text = replace ? deltaText : before + deltaText
        else return null
        const replaced = replace || !run.text.startsWith(before)
        return {
          type: 'delta',
          runId,
          text: run.text,
          appended: replaced ? run.text : run.text.slice(before.length),
          replaced
        }
      }
      case 'status': {
        const phase = typeof p.phase === 'string' ? p.phase : 'working'
        const retry = typeof p.retry === 'object' && p.retry !== null ? (p.retry as Record<string, unknown>) : undefined
        const update: ChatUpdate = { type: 'status', runId, phase }
        if (typeof retry?.attempt === 'number') update.retryAttempt = retry.attempt
        if (typeof retry?.maxAttempts === 'number') update.maxAttempts = retry.maxAttempts
        return update
      }
      case 'final': {
        run.text = textOfMessage(p.message) ?? run.text
        run.done = true
        return { type: 'final', runId, text: run.text, ...stopReason(p) }
      }
      case 'aborted': {
        run.text = textOfMessage(p.message) ?? run.text
        run.done = true
        return { type: 'aborted', runId, text: run.text, ...stopReason(p) }
      }
      case 'error': {
        run.done = true
        const message =
          typeof p.errorMessage === 'string' && p.errorMessage.trim() !== ''
            ? p.errorMessage.trim()
            : 'The agent run failed.'
        const update: ChatUpdate = { type: 'error', runId, text: run.text, message }
        if (typeof p.errorKind === 'string') update.errorKind = p.errorKind
        return update
      }
      default:
        return null
    }
  }

  private evictOldRuns(): void {
    // Bounded memory on long sessions: runs are only needed until they finish.
    while (this.runs.size > MAX_TRACKED_RUNS) {
      const oldest = this.runs.keys().next().value
      if (oldest === undefined) break
      this.runs.delete(oldest)
    }
  }
}

function stopReason(p: Record<string, unknown>): { stopReason?: string } {
  return typeof p.stopReason === 'string' ? { stopReason: p.stopReason } : {}
}
