import { afterEach, describe, expect, it } from 'vitest'
import { parseGatewayUrl } from '../../../src/shared/gateway-url'
import { connectGateway, connectWaitingForPairing, type ConnectorDeps, type ConnectTarget } from '../../../src/main/gateway/gateway-connector'
import { ChatSession, listSessions } from '../../../src/main/gateway/chat-session'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { secretKeys } from '../../../src/main/secrets/secret-store'
import { startFakeGateway, type FakeGateway, type FakeGatewayOptions } from '../../support/fake-gateway'

const TOKEN = 'fake-gateway-token-0123456789'
let gw: FakeGateway | undefined
afterEach(async () => {
  await gw?.close()
  gw = undefined
})

async function setup(opts: FakeGatewayOptions = {}, targetOver: Partial<ConnectTarget> = {}) {
  gw = await startFakeGateway({ token: TOKEN, ...opts })
  const url = parseGatewayUrl(gw.url)
  if (!url.ok) throw new Error('bad url')
  const target: ConnectTarget = { targetId: 'p1', url: url.value, gatewayToken: TOKEN, access: { kind: 'none' }, connectTimeoutMs: 3_000, ...targetOver }
  const deps: ConnectorDeps = {
    secrets: new MemorySecretStore(),
    client: { version: '0.1.0', platform: 'linux', deviceFamily: 'desktop', displayName: 'test' },
    userAgent: 'test',
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20)))
  }
  return { gw, target, deps }
}

describe('connecting to a (fake, replaying) gateway', () => {
  it('completes the signed handshake on protocol 4 and stores the issued device token', async () => {
    const { target, deps } = await setup()
    const r = await connectGateway(target, deps)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value.connection.hello).toMatchObject({ protocol: 4, mainSessionKey: 'agent:main:main', scopes: ['operator.read', 'operator.write'], deviceTokenIssued: true })
    expect(await deps.secrets.get(secretKeys.deviceToken('p1'))).toMatch(/^fake-device-token-/)
    r.value.connection.close()
  })

  it('speaks to a protocol-3 gateway with only v3 fields (the fake rejects anything else)', async () => {
    const { target, deps } = await setup({ protocol: 3 })
    const r = await connectGateway(target, deps)
    expect(r.ok && r.value.connection.hello.protocol).toBe(3)
    if (r.ok) {
      const sessions = await listSessions(r.value.connection)
      expect(sessions.ok && sessions.value[0]?.key).toBe('agent:main:main')
      r.value.connection.close()
    }
  })

  it('uses the stored device token on a later connect without the gateway token', async () => {
    const { target, deps } = await setup()
    const first = await connectGateway(target, deps)
    if (first.ok) first.value.connection.close()
    const { gatewayToken: _drop, ...noToken } = target
    const second = await connectGateway(noToken, deps)
    expect(second.ok).toBe(true)
    expect(gw!.connects.at(-1)!.auth).toEqual({ token: await deps.secrets.get(secretKeys.deviceToken('p1')) })
    if (second.ok) second.value.connection.close()
  })

  it('a wrong token is GATEWAY_TOKEN_MISMATCH, or falls back to the device token with a warning', async () => {
    const { target, deps } = await setup()
    const wrong = await connectGateway({ ...target, gatewayToken: 'wrong-token-xyz' }, deps)
    expect(!wrong.ok && wrong.error.code).toBe('GATEWAY_TOKEN_MISMATCH')
    const ok = await connectGateway(target, deps)
    if (ok.ok) ok.value.connection.close()
    const fallback = await connectGateway({ ...target, gatewayToken: 'wrong-token-xyz' }, deps)
    expect(fallback.ok).toBe(true)
    if (fallback.ok) {
      expect(fallback.value.warnings.join(' ')).toMatch(/gateway token was refused/)
      fallback.value.connection.close()
    }
  })

  it('a refused token with a space or line break inside says so first, without quoting it', async () => {
    const { target, deps } = await setup()
    const pasted = `${TOKEN.slice(0, 10)}\n${TOKEN.slice(10)}`
    const r = await connectGateway({ ...target, gatewayToken: pasted }, deps)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('GATEWAY_TOKEN_MISMATCH')
    expect(r.error.likelyCauses?.[0]).toMatch(/line break inside it/)
    expect(JSON.stringify(r.error)).not.toContain(TOKEN.slice(10))
    // A plain wrong token gets no such cause.
    const wrong = await connectGateway({ ...target, gatewayToken: 'wrong-token-xyz' }, deps)
    expect(!wrong.ok && wrong.error.likelyCauses).toBeFalsy()
  })

  it('keeps that cause when the stored device token, tried next, is refused too', async () => {
    const { target, deps } = await setup()
    await deps.secrets.set(secretKeys.deviceToken('p1'), 'revoked-device-token')
    const r = await connectGateway({ ...target, gatewayToken: `${TOKEN} ${TOKEN}` }, deps)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(gw!.connects.map((c) => Object.keys(c.auth ?? {}))).toEqual([['token'], ['token']])
    expect(r.error.likelyCauses?.[0]).toMatch(/space inside it/)
  })

  it('retries while the gateway is starting (UNAVAILABLE / 1013)', async () => {
    const { target, deps } = await setup({ startupRefusals: 2 })
    const progress: string[] = []
    const r = await connectGateway(target, deps, { onProgress: (m) => progress.push(m) })
    expect(r.ok).toBe(true)
    expect(progress).toHaveLength(2)
    if (r.ok) r.value.connection.close()
  })

  it('pairing required gives the request id and approval command, then waits until approved', async () => {
    const { target, deps } = await setup({ pairing: 'required' })
    const once = await connectGateway(target, deps)
    expect(!once.ok && once.error.code).toBe('PAIRING_REQUIRED')
    if (once.ok) return
    const requestId = once.error.details.pairingRequestId!
    expect(once.error.nextSteps[0]!.command).toBe(`openclaw devices approve ${requestId}`)
    const seen: number[] = []
    const waited = await connectWaitingForPairing(target, deps, {
      onPairingPending: (_e, attempt) => {
        seen.push(attempt)
        if (attempt === 1) gw!.approve(requestId)
      }
    })
    expect(waited.ok).toBe(true)
    expect(seen).toEqual([0, 1])
    if (waited.ok) waited.value.connection.close()
  })

  it('waiting for pairing stops when cancelled', async () => {
    const { target, deps } = await setup({ pairing: 'required' })
    const abort = new AbortController()
    const r = await connectWaitingForPairing(target, deps, { signal: abort.signal, onPairingPending: () => abort.abort() })
    expect(!r.ok && r.error.code).toBe('CANCELLED')
  })

  it('a server that never sends the challenge times out instead of hanging', async () => {
    const { target, deps } = await setup({ noChallenge: true }, { connectTimeoutMs: 1_000 })
    const t0 = Date.now()
    const r = await connectGateway(target, deps)
    expect(!r.ok && r.error.code).toBe('TIMEOUT')
    expect(Date.now() - t0).toBeLessThan(3_000)
  })

  it('junk frames are ignored and the chat still streams to the exact final text', async () => {
    const { target, deps } = await setup({ junk: true, foreignSessionEvents: true })
    const r = await connectGateway(target, deps)
    if (!r.ok) throw new Error(r.error.message)
    const session = new ChatSession(r.value.connection, 'agent:main:main')
    const sent = await session.send('Hello gateway')
    if (!sent.ok) throw new Error(sent.error.message)
    const deltas: string[] = []
    sent.value.onUpdate((u) => {
      if (u.type === 'delta') deltas.push(u.appended)
    })
    const outcome = await sent.value.done
    expect(outcome).toMatchObject({ state: 'final', text: 'Hello from the mock model. This is a canned streamed reply.' })
    expect(deltas.join('')).toBe(outcome.text)
    expect(deltas.join('')).not.toContain('not yours')
    expect(r.value.connection.ignoredFrames).toBeGreaterThan(0)
    expect(gw!.requests.find((q) => q.method === 'chat.send')!.params).toMatchObject({ sessionKey: 'agent:main:main', message: 'Hello gateway', idempotencyKey: sent.value.runId })
    r.value.connection.close()
  })

  it('a failed run reports the provider error once', async () => {
    const { target, deps } = await setup({ chatScript: 'error', chatSpeed: 2000 })
    const r = await connectGateway(target, deps)
    if (!r.ok) throw new Error(r.error.message)
    const session = new ChatSession(r.value.connection, 'main')
    const sent = await session.send('MOCK_FAIL')
    if (!sent.ok) throw new Error(sent.error.message)
    const outcome = await sent.value.done
    expect(outcome.state).toBe('error')
    if (outcome.state === 'error') expect(outcome.error).toMatchObject({ code: 'CHAT_FAILED' })
    r.value.connection.close()
  })

  it('history and abort go through with closed params', async () => {
    const { target, deps } = await setup()
    const r = await connectGateway(target, deps)
    if (!r.ok) throw new Error(r.error.message)
    const session = new ChatSession(r.value.connection, 'agent:main:main')
    const history = await session.history(50)
    expect(history.ok && history.value.map((m) => m.text)).toEqual(['hi', 'hello'])
    const aborted = await session.abort()
    expect(aborted.ok && aborted.value.aborted).toBe(false)
    expect(gw!.requests.map((q) => q.method)).toEqual(['chat.history', 'chat.abort'])
    r.value.connection.close()
  })

  it('a silent link (no ticks for two intervals) is reported dead', async () => {
    const { target, deps } = await setup({ tickIntervalMs: 150, sendTicks: false })
    const r = await connectGateway(target, deps)
    if (!r.ok) throw new Error(r.error.message)
    const closed = await new Promise((resolve) => r.value.connection.onClose(resolve))
    expect(closed).toMatchObject({ code: 'LINK_DEAD' })
  })

  it('ticking keeps the link alive; a dropped socket is reported and pending requests fail', async () => {
    const { target, deps } = await setup({ tickIntervalMs: 100 })
    const r = await connectGateway(target, deps)
    if (!r.ok) throw new Error(r.error.message)
    await new Promise((res) => setTimeout(res, 450))
    expect(r.value.connection.isOpen).toBe(true)
    const closed = new Promise((resolve) => r.value.connection.onClose(resolve))
    gw!.dropAll()
    expect(await closed).toMatchObject({ code: 'CONNECTION_CLOSED' })
    const after = await r.value.connection.request('health', {})
    expect(!after.ok && after.error.code).toBe('CONNECTION_CLOSED')
  })

  it('nothing listening is CONNECTION_REFUSED', async () => {
    const { target, deps } = await setup()
    await gw!.close()
    const r = await connectGateway(target, deps)
    expect(!r.ok && r.error.code).toBe('CONNECTION_REFUSED')
  })
})

describe('updates that arrive with the acceptance', () => {
  it('reach a listener passed to send, even when they share a packet with the answer', async () => {
    const { target, deps } = await setup({ chatSpeed: 1_000_000 })
    const r = await connectGateway(target, deps)
    if (!r.ok) throw new Error(r.error.message)
    const session = new ChatSession(r.value.connection, 'agent:main:main')
    const seen: string[] = []
    const sent = await session.send('hi', { onUpdate: (u) => seen.push(u.type) })
    if (!sent.ok) throw new Error(sent.error.message)
    await sent.value.done
    // With the replay sped up a million times, the whole run lands right behind the acceptance.
    expect(seen.filter((t) => t === 'status')).toHaveLength(3)
    expect(seen.filter((t) => t === 'delta').length).toBeGreaterThan(3)
    r.value.connection.close()
  })
})

describe('runs started by other clients on the same session', () => {
  it('are reported apart from ours, which still streams exactly', async () => {
    const { target, deps } = await setup({ otherClientRun: true })
    const r = await connectGateway(target, deps)
    if (!r.ok) throw new Error(r.error.message)
    const session = new ChatSession(r.value.connection, 'agent:main:main')
    const others: string[] = []
    session.onOtherRun((u) => others.push(`${u.runId}:${u.type}`))
    const sent = await session.send('hi')
    if (!sent.ok) throw new Error(sent.error.message)
    const outcome = await sent.value.done
    expect(outcome).toMatchObject({ state: 'final', text: 'Hello from the mock model. This is a canned streamed reply.' })
    expect(others).toEqual(['other-client-run:delta', 'other-client-run:final'])
    r.value.connection.close()
  })
})
