/**
 * The engine against a REAL OpenClaw gateway on loopback (no proxy in between, so a new signed
 * device is paired silently, as the gateway does for direct local clients).
 *
 * Settles what the docs disagree on: the client id/mode (`gateway-client` + `ui`) keeps
 * operator.read/operator.write once paired; offering protocol 3–4 gets protocol 4 from a
 * current gateway; both v2 and v3 signature payloads are accepted; the issued device token
 * signs in on its own later.
 */
import { afterAll, describe, expect, inject, it } from 'vitest'
import { parseGatewayUrl } from '../../src/shared/gateway-url'
import { ChatSession, listSessions } from '../../src/main/gateway/chat-session'
import { connectGateway, type ConnectorDeps, type ConnectTarget } from '../../src/main/gateway/gateway-connector'
import type { GatewayConnection } from '../../src/main/gateway/gateway-connection'
import { MemorySecretStore } from '../../src/main/secrets/memory-secret-store'
import { secretKeys } from '../../src/main/secrets/secret-store'

const gatewayUrl = inject('gatewayUrl')
const gatewayToken = inject('gatewayToken')
const reply = inject('mockModelReply')

const open: GatewayConnection[] = []
afterAll(() => {
  for (const c of open) c.close()
})

function target(over: Partial<ConnectTarget> = {}): ConnectTarget {
  const url = parseGatewayUrl(gatewayUrl)
  if (!url.ok) throw new Error(url.error.message)
  return { targetId: 'real-local', url: url.value, gatewayToken, access: { kind: 'none' }, connectTimeoutMs: 15_000, ...over }
}

function deps(secrets = new MemorySecretStore()): ConnectorDeps {
  return {
    secrets,
    client: { version: '0.1.0', platform: 'linux', deviceFamily: 'desktop', displayName: 'Aether Remote tests' },
    userAgent: 'AetherRemote/0.1.0 (tests)'
  }
}

async function connected(t: ConnectTarget, d: ConnectorDeps, knownProtocol?: 3 | 4): Promise<GatewayConnection> {
  const r = await connectGateway(t, d, knownProtocol ? { knownProtocol } : {})
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  open.push(r.value.connection)
  return r.value.connection
}

describe('gateway-client/ui against a real gateway', () => {
  const secrets = new MemorySecretStore()

  it('offers protocol 3–4, gets 4, and keeps operator scopes after (silent local) pairing', async () => {
    const conn = await connected(target(), deps(secrets))
    expect(conn.hello.protocol).toBe(4)
    expect(conn.hello.scopes).toEqual(expect.arrayContaining(['operator.read', 'operator.write']))
    expect(conn.hello.mainSessionKey).toBe('agent:main:main')
    expect(conn.hello.deviceTokenIssued).toBe(true)
    expect(await secrets.get(secretKeys.deviceToken('real-local'))).toBeTruthy()
    const sessions = await listSessions(conn)
    expect(sessions.ok).toBe(true)
  })

  it('chats: the reply streams in and the deltas add up to the final text', async () => {
    const conn = await connected(target(), deps(secrets))
    const session = new ChatSession(conn, 'agent:main:main')
    const sent = await session.send('Hello from the engine test')
    if (!sent.ok) throw new Error(sent.error.message)
    const deltas: string[] = []
    sent.value.onUpdate((u) => {
      if (u.type === 'delta') deltas.push(u.appended)
    })
    const outcome = await sent.value.done
    expect(outcome).toMatchObject({ state: 'final', text: reply })
    expect(deltas.length).toBeGreaterThan(1)
    expect(deltas.join('')).toBe(reply)
    const history = await session.history(20)
    expect(history.ok && history.value.some((m) => m.role === 'user' && m.text.includes('Hello from the engine test'))).toBe(true)
    session.dispose()
  })

  it('aborts a running reply', async () => {
    const conn = await connected(target(), deps(secrets))
    const session = new ChatSession(conn, 'agent:main:main')
    const sent = await session.send('MOCK_SLOW please take your time')
    if (!sent.ok) throw new Error(sent.error.message)
    await new Promise<void>((resolve) => {
      const off = sent.value.onUpdate((u) => {
        if (u.type === 'delta') {
          off()
          resolve()
        }
      })
    })
    const aborted = await session.abort(sent.value.runId)
    expect(aborted.ok && aborted.value.aborted).toBe(true)
    const outcome = await sent.value.done
    expect(outcome.state).toBe('aborted')
    session.dispose()
  })

  it('signs in later with the stored device token alone', async () => {
    const { gatewayToken: _none, ...noToken } = target()
    const conn = await connected(noToken, deps(secrets))
    expect(conn.hello.authMethod).toBe('device-token')
    expect(conn.hello.scopes).toEqual(expect.arrayContaining(['operator.read', 'operator.write']))
  })

  it('the v3 signature payload (used once the gateway is known to speak 4) is accepted too', async () => {
    const conn = await connected(target(), deps(secrets), 4)
    expect(conn.hello.protocol).toBe(4)
  })

  it('a wrong gateway token from a new device is refused with AUTH_TOKEN_MISMATCH', async () => {
    const r = await connectGateway(target({ gatewayToken: 'definitely-not-the-token' }), deps())
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.error).toMatchObject({ code: 'GATEWAY_TOKEN_MISMATCH', details: { gatewayDetailCode: 'AUTH_TOKEN_MISMATCH', closeCode: 1008 } })
  })
})
