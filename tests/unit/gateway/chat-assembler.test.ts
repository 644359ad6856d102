import { describe, expect, it } from 'vitest'
import { ChatAssembler, type ChatUpdate } from '../../../src/main/gateway/chat-assembler'
import { loadTranscript } from '../../support/fake-gateway'

function chatPayloads(file: string): Record<string, unknown>[] {
  return loadTranscript(file)
    .filter((l) => l.dir === 'recv' && l.frame?.type === 'event' && l.frame.event === 'chat')
    .map((l) => l.frame!.payload as Record<string, unknown>)
}

describe('chat assembly on recorded real runs', () => {
  it('joins the streamed deltas into exactly the final text', () => {
    const a = new ChatAssembler('agent:main:main')
    const updates = chatPayloads('chat-stream.jsonl').map((p) => a.apply(p)).filter((u): u is ChatUpdate => u !== null)
    const appended = updates.filter((u) => u.type === 'delta').map((u) => (u.type === 'delta' ? u.appended : '')).join('')
    const final = updates.find((u) => u.type === 'final')
    expect(final).toBeDefined()
    expect(final!.type === 'final' && final!.text).toBe('Hello from the mock model. This is a canned streamed reply.')
    expect(appended).toBe('Hello from the mock model. This is a canned streamed reply.')
    expect(updates.filter((u) => u.type === 'status').map((u) => (u.type === 'status' ? u.phase : ''))).toEqual(['preparing_workspace', 'preparing_context', 'starting_model'])
  })

  it('the last delta and the final share a seq: the final is not dropped as stale', () => {
    const a = new ChatAssembler('agent:main:main')
    const payloads = chatPayloads('chat-stream.jsonl')
    const last = payloads.at(-1)!
    const beforeLast = payloads.at(-2)!
    expect(last.seq).toBe(beforeLast.seq)
    const results = payloads.map((p) => a.apply(p))
    expect(results.at(-1)?.type).toBe('final')
  })

  it('reports the first of the two error events and ignores the second', () => {
    const a = new ChatAssembler('agent:main:main')
    const errors = chatPayloads('chat-error-retry.jsonl').map((p) => a.apply(p)).filter((u) => u?.type === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]!.type === 'error' && errors[0]!.message).toMatch(/request failed/)
  })

  it('aborted keeps the partial text', () => {
    const a = new ChatAssembler('agent:main:main')
    const out = chatPayloads('chat-abort.jsonl').map((p) => a.apply(p)).filter((u) => u !== null)
    const aborted = out.find((u) => u!.type === 'aborted')
    expect(aborted).toMatchObject({ type: 'aborted', stopReason: 'rpc' })
    expect(aborted!.type === 'aborted' && aborted!.text.length).toBeGreaterThan(0)
  })
})

describe('chat assembly rules', () => {
  const base = { runId: 'r1', sessionKey: 'agent:main:main' }
  it('ignores other sessions, malformed payloads and unknown states', () => {
    const a = new ChatAssembler('agent:main:main')
    expect(a.apply({ ...base, sessionKey: 'agent:main:other', seq: 1, state: 'delta', deltaText: 'x' })).toBeNull()
    expect(a.apply(null)).toBeNull()
    expect(a.apply('junk')).toBeNull()
    expect(a.apply({ runId: 5, sessionKey: 'agent:main:main', state: 'delta' })).toBeNull()
    expect(a.apply({ ...base, seq: 1, state: 'weird' })).toBeNull()
  })
  it('uses deltaText when no snapshot is sent, and replace rewrites', () => {
    const a = new ChatAssembler('main')
    expect(a.apply({ ...base, seq: 1, state: 'delta', deltaText: 'Hel' })).toMatchObject({ text: 'Hel', appended: 'Hel' })
    expect(a.apply({ ...base, seq: 2, state: 'delta', deltaText: 'lo' })).toMatchObject({ text: 'Hello', appended: 'lo' })
    expect(a.apply({ ...base, seq: 3, state: 'delta', deltaText: 'Bye', replace: true })).toMatchObject({ text: 'Bye', replaced: true })
  })
  it('drops strictly older seqs and everything after a terminal event', () => {
    const a = new ChatAssembler('agent:main:main')
    a.apply({ ...base, seq: 5, state: 'delta', deltaText: 'new' })
    expect(a.apply({ ...base, seq: 4, state: 'delta', deltaText: 'old' })).toBeNull()
    expect(a.apply({ ...base, seq: 6, state: 'final' })).toMatchObject({ type: 'final', text: 'new' })
    expect(a.apply({ ...base, seq: 7, state: 'delta', deltaText: 'late' })).toBeNull()
  })
  it('the cumulative snapshot wins over deltaText', () => {
    const a = new ChatAssembler('agent:main:main')
    a.apply({ ...base, seq: 1, state: 'delta', deltaText: 'A', message: { role: 'assistant', content: [{ type: 'text', text: 'A' }] } })
    // A dropped delta in between: the snapshot still carries the whole text.
    expect(a.apply({ ...base, seq: 3, state: 'delta', deltaText: 'C', message: { role: 'assistant', content: [{ type: 'text', text: 'ABC' }] } })).toMatchObject({ text: 'ABC', appended: 'BC' })
  })
})
