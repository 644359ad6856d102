// Checks the real-gateway harness itself and pins down the gateway behaviour the product's design
// depends on (reverse-proxy attribution, pairing of a new signed device behind a proxy, what
// hello-ok.auth carries, device-token fallback, Origin handling). Everything here runs against a
// REAL OpenClaw gateway (openclaw@2026.9.6): the shared one from global-setup (trustedProxies =
// loopback) and one started by this file without trustedProxies.
import fs from 'node:fs'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startMockModel, type MockModel } from '../support/mock-model'
import {
  approveDevice,
  connectGateway,
  createDeviceIdentity,
  GatewayUpgradeError,
  listPairings,
  listPendingPairings,
  openAdminConnection,
  startRealGateway,
  type ConnectOptions,
  type ConnectResult,
  type DeviceIdentity,
  type GatewaySocket,
  type RealGateway
} from '../support/real-gateway'

const PROXY_HEADERS = { 'X-Forwarded-For': '203.0.113.7' }
const UI_CLIENT = { id: 'gateway-client', mode: 'ui', platform: 'linux', version: '0.1.0-test' }
const OPERATOR_SCOPES = ['operator.read', 'operator.write']

async function expectUpgradeRefused(promise: Promise<unknown>): Promise<GatewayUpgradeError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(GatewayUpgradeError)
  return err as GatewayUpgradeError
}

async function closeAll(...results: Array<ConnectResult | undefined>): Promise<void> {
  await Promise.all(results.map((r) => r?.socket.closeAndWait()))
}

describe('shared real gateway (global-setup, trustedProxies = loopback)', () => {
  const url = inject('gatewayUrl')
  const httpUrl = inject('gatewayHttpUrl')
  const token = inject('gatewayToken')

  it('is provided to the workers and ready', async () => {
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    expect(inject('gatewayPort')).toBe(Number(new URL(httpUrl).port))
    expect(inject('gatewayTrustedProxies')).toEqual(['127.0.0.1', '::1'])
    const ready = await fetch(`${httpUrl}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true })
    // The trusted proxy may forward probes too.
    expect((await fetch(`${httpUrl}/readyz`, { headers: PROXY_HEADERS })).status).toBe(200)
    const models = await fetch(`${inject('mockModelUrl')}/v1/models`)
    expect(await models.json()).toMatchObject({ data: [{ id: 'mock-model' }] })
  })

  it('admin connection (cli/cli, shared token, no device, protocol 3..4) negotiates v4 and keeps its scopes', async () => {
    const admin = await connectGateway(url, {
      client: { id: 'cli', mode: 'cli', platform: 'linux' },
      scopes: ['operator.read', 'operator.pairing', 'operator.admin'],
      token,
      minProtocol: 3,
      maxProtocol: 4
    })
    expect(admin.hello?.protocol).toBe(4)
    expect(admin.hello?.auth).toMatchObject({ method: 'token', scopes: ['operator.read', 'operator.pairing', 'operator.admin'] })
    await admin.socket.call('device.pair.list', {})
    await closeAll(admin)
  })

  for (const version of ['v2', 'v3'] as const) {
    describe(`new signed device behind the proxy (gateway-client/ui, ${version} signature)`, () => {
      let identity: DeviceIdentity
      let requestId = ''
      let deviceToken = ''
      const base = (): ConnectOptions => ({
        headers: PROXY_HEADERS,
        client: UI_CLIENT,
        scopes: OPERATOR_SCOPES,
        identity,
        signatureVersion: version,
        token,
        minProtocol: 3,
        maxProtocol: 4
      })

      beforeAll(() => {
        identity = createDeviceIdentity()
      })

      it('(b) first connect: NOT_PAIRED / PAIRING_REQUIRED with a requestId, close 1008', async () => {
        const r = await connectGateway(url, base())
        expect(r.hello).toBeUndefined()
        expect(r.error).toMatchObject({
          code: 'NOT_PAIRED',
          message: 'pairing required: device is not approved yet',
          details: {
            code: 'PAIRING_REQUIRED',
            reason: 'not-paired',
            deviceId: identity.deviceId,
            requestedRole: 'operator',
            requestedScopes: OPERATOR_SCOPES
          }
        })
        requestId = String(r.error?.details?.requestId ?? '')
        expect(requestId).toMatch(/^[0-9a-f-]{36}$/)
        expect(r.close).toEqual({ code: 1008, reason: `pairing required: device is not approved yet (requestId: ${requestId})` })
      })

      it('(b) the request is pending and device.pair.approve approves it', async () => {
        const pending = await listPendingPairings(url, token)
        expect(pending.find((p) => p.requestId === requestId)).toMatchObject({
          deviceId: identity.deviceId,
          clientId: 'gateway-client',
          clientMode: 'ui',
          scopes: OPERATOR_SCOPES
        })
        const approved = await approveDevice(url, token, requestId)
        expect(approved).toMatchObject({
          requestId,
          device: { deviceId: identity.deviceId, scopes: OPERATOR_SCOPES, remoteIp: '203.0.113.7', approvedVia: 'owner' }
        })
        expect((await listPendingPairings(url, token)).some((p) => p.requestId === requestId)).toBe(false)
      })

      it('(b)(c) after approval: hello-ok v4 keeps operator.read/write, issues a deviceToken, sessions.list works', async () => {
        const r = await connectGateway(url, base())
        expect(r.error).toBeUndefined()
        expect(r.hello?.protocol).toBe(4)
        expect(r.hello?.auth).toMatchObject({ method: 'token', role: 'operator', scopes: OPERATOR_SCOPES })
        deviceToken = String(r.hello?.auth?.deviceToken ?? '')
        expect(deviceToken.length).toBeGreaterThan(20)
        const list = await r.socket.call<{ sessions: unknown[] }>('sessions.list', {})
        expect(Array.isArray(list.sessions)).toBe(true)
        await closeAll(r)
      })

      it('(d) shared token AND deviceToken: hello-ok.auth is method "token" with the same deviceToken', async () => {
        const r = await connectGateway(url, { ...base(), deviceToken })
        expect(r.hello?.auth).toMatchObject({
          method: 'token',
          role: 'operator',
          scopes: OPERATOR_SCOPES,
          deviceToken,
          recoveryMigrationAllowed: true
        })
        expect(typeof r.hello?.auth?.recoveryScope).toBe('string')
        expect(typeof r.hello?.auth?.issuedAtMs).toBe('number')
        await closeAll(r)
      })

      it('(e) the device token is accepted in auth.token, alone, or next to a wrong shared token', async () => {
        const inTokenField = await connectGateway(url, { ...base(), token: deviceToken })
        const wrongShared = await connectGateway(url, { ...base(), token: `wrong-${token}`, deviceToken })
        const alone = await connectGateway(url, { ...base(), token: null, deviceToken })
        for (const r of [inTokenField, wrongShared, alone]) {
          expect(r.error).toBeUndefined()
          expect(r.hello?.auth).toMatchObject({ method: 'device-token', scopes: OPERATOR_SCOPES, deviceToken })
          await r.socket.call('sessions.list', {})
        }
        await closeAll(inTokenField, wrongShared, alone)

        const wrongOnly = await connectGateway(url, { ...base(), token: `wrong-${token}` })
        expect(wrongOnly.error).toMatchObject({
          code: 'INVALID_REQUEST',
          message: 'unauthorized: gateway token mismatch (provide gateway auth token)',
          details: { code: 'AUTH_TOKEN_MISMATCH', canRetryWithDeviceToken: true, recommendedNextStep: 'retry_with_device_token' }
        })
        expect(wrongOnly.close?.code).toBe(1008)
      })

      it('(f) any Origin header through the proxy is refused: CONTROL_UI_ORIGIN_NOT_ALLOWED, close 1008', async () => {
        const cases: Array<[string, string]> = [
          ['http://localhost:5173', 'origin not allowed'],
          ['app://aether', 'origin not allowed'],
          ['https://gateway.example.com', 'origin not allowed'],
          ['null', 'origin missing or invalid'],
          ['file://', 'origin missing or invalid']
        ]
        for (const [origin, reason] of cases) {
          const r = await connectGateway(url, { ...base(), origin })
          expect(r.error, origin).toMatchObject({
            code: 'INVALID_REQUEST',
            message: 'origin not allowed (open the Control UI from the gateway host or allow it in gateway.controlUi.allowedOrigins)',
            details: { code: 'CONTROL_UI_ORIGIN_NOT_ALLOWED', reason }
          })
          expect(r.close?.code).toBe(1008)
        }
      })

      if (version === 'v3') {
        it('the paired device streams a chat reply from the mock model through the gateway', async () => {
          const r = await connectGateway(url, base())
          const socket = r.socket as GatewaySocket
          const sessionKey = `agent:main:harness-${randomUUID().slice(0, 8)}`
          const ack = await socket.call<{ runId: string; status: string }>('chat.send', {
            sessionKey,
            message: 'Say hello.',
            idempotencyKey: randomUUID()
          })
          expect(ack.status).toBe('started')
          const final = await socket.waitForEvent(
            'chat',
            90_000,
            (p) => (p as { runId?: string; state?: string }).runId === ack.runId && (p as { state?: string }).state === 'final'
          )
          const payload = final.payload as { message?: { content?: Array<{ text?: string }> } }
          expect(payload.message?.content?.[0]?.text).toBe(inject('mockModelReply'))
          const deltas = socket.frames
            .filter((f) => f.event === 'chat' && (f.payload as { runId?: string; state?: string }).runId === ack.runId)
            .map((f) => f.payload as { state?: string; deltaText?: string })
            .filter((p) => p.state === 'delta')
            .map((p) => p.deltaText ?? '')
          expect(deltas.join('')).toBe(inject('mockModelReply'))
          await closeAll(r)
        })
      }
    })
  }

  it('a proxied connect whose X-Forwarded-For is loopback is refused with HTTP 403 proxy_attribution_required', async () => {
    const err = await expectUpgradeRefused(
      connectGateway(url, { headers: { 'X-Forwarded-For': '127.0.0.1' }, client: UI_CLIENT, identity: createDeviceIdentity(), token })
    )
    expect(err.status).toBe(403)
    expect(JSON.parse(err.body)).toMatchObject({ error: { type: 'proxy_attribution_required' } })
  })

  it('behind the proxy, a connect without a device identity gets hello-ok with scopes [] (gateway-client/ui)', async () => {
    const r = await connectGateway(url, { headers: PROXY_HEADERS, client: UI_CLIENT, token })
    expect(r.hello?.auth).toMatchObject({ method: 'token', scopes: [] })
    const res = await r.socket.request('sessions.list', {})
    expect(res.error).toMatchObject({ code: 'FORBIDDEN', details: { code: 'MISSING_SCOPE', missingScope: 'operator.read' } })
    await closeAll(r)
  })

  it('behind the proxy, the admin identity cli/cli without a device loses its scopes too', async () => {
    const r = await connectGateway(url, {
      headers: PROXY_HEADERS,
      client: { id: 'cli', mode: 'cli', platform: 'linux' },
      scopes: ['operator.read', 'operator.admin'],
      token
    })
    expect(r.error).toBeUndefined()
    expect(r.hello?.auth).toMatchObject({ method: 'token', scopes: [] })
    await closeAll(r)
  })

  it('a direct-loopback connect with an Origin is never silently paired', async () => {
    const identity = createDeviceIdentity()
    const r = await connectGateway(url, { client: UI_CLIENT, identity, token, origin: httpUrl })
    expect(r.error).toMatchObject({ code: 'NOT_PAIRED', details: { code: 'PAIRING_REQUIRED', reason: 'not-paired' } })
    const { pending } = await listPairings(url, token)
    expect(pending.some((p) => p.deviceId === identity.deviceId)).toBe(true)
  })
})

describe('startRealGateway without trustedProxies', () => {
  let mock: MockModel
  let gateway: RealGateway

  beforeAll(async () => {
    mock = await startMockModel({ reply: 'own gateway reply' })
    gateway = await startRealGateway({
      mockModelUrl: mock.url,
      config: { gateway: { controlUi: { allowedOrigins: ['app://aether'] } } }
    })
    process.stderr.write(`[harness test] own gateway ready in ${gateway.startupMs} ms (readyz ${gateway.readyMs} ms)\n`)
  })

  afterAll(async () => {
    await gateway?.stop()
    await mock?.close()
  })

  it('runs isolated: state dir with config, token auth, its own port', async () => {
    expect(gateway.url).toBe(`ws://127.0.0.1:${gateway.port}`)
    expect(gateway.port).not.toBe(inject('gatewayPort'))
    const config = JSON.parse(fs.readFileSync(gateway.configPath, 'utf8')) as { gateway: Record<string, unknown> }
    expect(config.gateway).toMatchObject({ mode: 'local', bind: 'loopback', auth: { mode: 'token', token: gateway.token } })
    expect(config.gateway.trustedProxies).toBeUndefined()
    expect(gateway.configPath.startsWith(gateway.stateDir)).toBe(true)
    expect(gateway.logs()).toContain('gateway')
  })

  it('(a) a loopback connect carrying X-Forwarded-For is refused: HTTP 403 proxy_attribution_required', async () => {
    const err = await expectUpgradeRefused(
      connectGateway(gateway.url, { headers: PROXY_HEADERS, client: UI_CLIENT, identity: createDeviceIdentity(), token: gateway.token })
    )
    expect(err.status).toBe(403)
    expect(JSON.parse(err.body)).toEqual({
      error: {
        message:
          'Proxy client attribution is required. Configure gateway.trustedProxies narrowly and make the proxy overwrite or safely rebuild forwarded client headers.',
        type: 'proxy_attribution_required'
      }
    })
    // Plain HTTP routes too, even the readiness probe.
    expect((await fetch(`${gateway.httpUrl}/readyz`, { headers: PROXY_HEADERS })).status).toBe(403)
  })

  it('direct loopback: a new signed gateway-client/ui device is paired silently', async () => {
    const r = await connectGateway(gateway.url, { client: UI_CLIENT, identity: createDeviceIdentity(), token: gateway.token })
    expect(r.hello?.auth).toMatchObject({ method: 'token', scopes: OPERATOR_SCOPES })
    expect(typeof r.hello?.auth?.deviceToken).toBe('string')
    await closeAll(r)
  })

  it('(f) an Origin listed in gateway.controlUi.allowedOrigins passes the origin check but still needs pairing', async () => {
    const identity = createDeviceIdentity()
    const first = await connectGateway(gateway.url, { client: UI_CLIENT, identity, token: gateway.token, origin: 'app://aether' })
    expect(first.error).toMatchObject({ code: 'NOT_PAIRED', details: { code: 'PAIRING_REQUIRED' } })
    await gateway.approveDevice(String(first.error?.details?.requestId))
    const second = await connectGateway(gateway.url, { client: UI_CLIENT, identity, token: gateway.token, origin: 'app://aether' })
    expect(second.hello?.auth).toMatchObject({ scopes: OPERATOR_SCOPES })
    const other = await connectGateway(gateway.url, { client: UI_CLIENT, identity, token: gateway.token, origin: 'app://other' })
    expect(other.error?.details?.code).toBe('CONTROL_UI_ORIGIN_NOT_ALLOWED')
    await closeAll(second)
  })

  it('the handle lists and approves pairings over its own admin connection', async () => {
    const admin = await openAdminConnection(gateway.url, gateway.token)
    await admin.closeAndWait()
    expect(Array.isArray(await gateway.listPendingPairings())).toBe(true)
  })

  it('stop() ends the process and removes the state dir', async () => {
    await gateway.stop()
    expect(fs.existsSync(gateway.stateDir)).toBe(false)
    expect(() => process.kill(gateway.pid, 0)).toThrow()
    await expect(fetch(`${gateway.httpUrl}/healthz`)).rejects.toThrow()
    await gateway.stop() // idempotent
  })
})
