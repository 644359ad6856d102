import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runConnect } from '../../../src/cli/commands/connect'
import type { ConnectArgs } from '../../../src/cli/args'
import { startFakeGateway, type FakeGateway } from '../../support/fake-gateway'
import { harness } from './helpers'
import { startScriptedGateway, type ScriptedGateway } from './scripted-gateway'
import { spawnCli } from './spawn-cli'

const TOKEN = 'fake-gateway-token-0123456789'
const ESC = '\u001b'

let fake: FakeGateway | undefined
let scripted: ScriptedGateway | undefined
afterEach(async () => {
  await fake?.close()
  await scripted?.close()
  fake = undefined
  scripted = undefined
})

const connectArgs = (over: Partial<ConnectArgs>): ConnectArgs => ({ command: 'connect', json: false, replyTimeoutSec: 30, waitPairing: false, ...over })

describe('Ctrl-C with a message on its way (the real CLI, SIGINT)', () => {
  it('while the gateway has not accepted chat.send: says so, sends chat.abort for the run, exits 130 within 3 s', async () => {
    scripted = await startScriptedGateway(() => {
      // A stuck gateway: answers nothing, not even chat.abort.
    })
    const cli = spawnCli(['connect', '--url', scripted.url, '--message', 'hello'], { env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    const send = await scripted.next('chat.send')
    const t0 = Date.now()
    cli.child.kill('SIGINT')
    const exit = await cli.exited
    expect(exit.code).toBe(130)
    expect(exit.at - t0).toBeLessThan(3_000)
    expect(cli.stderr()).toContain('Aborting the run\u2026')
    const abort = scripted.requests.find((r) => r.method === 'chat.abort')
    expect(abort?.params).toMatchObject({ sessionKey: 'agent:main:main', runId: send.params.idempotencyKey })
    expect(cli.stderr()).not.toMatch(/\n\s+at /)
  }, 30_000)

  it('while the reply streams (--json): an aborting line, chat.abort, exit 130 within 3 s without a confirmation', async () => {
    scripted = await startScriptedGateway((req, peer) => {
      if (req.method !== 'chat.send') return
      const runId = String(req.params.idempotencyKey)
      peer.answer(req, { runId, status: 'started' })
      let n = 0
      const timer = setInterval(() => {
        if (peer.ws.readyState !== peer.ws.OPEN) return clearInterval(timer)
        peer.chat({ runId, sessionKey: 'agent:main:main', state: 'delta', deltaText: `word${n++} ` })
      }, 50)
    })
    const cli = spawnCli(['connect', '--url', scripted.url, '--message', 'hello', '--json'], { env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    await cli.waitFor('"type":"delta"')
    const t0 = Date.now()
    cli.child.kill('SIGINT')
    const exit = await cli.exited
    expect(exit.code).toBe(130)
    expect(exit.at - t0).toBeLessThan(3_000)
    const lines = cli
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const send = scripted.requests.find((r) => r.method === 'chat.send')!
    expect(lines.find((l) => l.type === 'aborting')).toMatchObject({ type: 'aborting', runId: send.params.idempotencyKey })
    expect(scripted.requests.find((r) => r.method === 'chat.abort')?.params.runId).toBe(send.params.idempotencyKey)
  }, 30_000)

  it('when the gateway confirms, it ends as soon as the run is aborted', async () => {
    scripted = await startScriptedGateway((req, peer) => {
      const runId = String(req.params.idempotencyKey ?? req.params.runId)
      if (req.method === 'chat.send') {
        peer.answer(req, { runId, status: 'started' })
        peer.chat({ runId, sessionKey: 'agent:main:main', state: 'delta', deltaText: 'thinking about it' })
      } else if (req.method === 'chat.abort') {
        peer.answer(req, { ok: true, aborted: true, runIds: [runId] })
        peer.chat({ runId, sessionKey: 'agent:main:main', state: 'aborted', stopReason: 'user' })
      }
    })
    const cli = spawnCli(['connect', '--url', scripted.url, '--message', 'hello'], { env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    await cli.waitFor('thinking about it')
    const t0 = Date.now()
    cli.child.kill('SIGINT')
    const exit = await cli.exited
    expect(exit.code).toBe(130)
    expect(exit.at - t0).toBeLessThan(2_000)
    expect(cli.stderr()).toContain('Aborting the run\u2026')
    expect(cli.stderr()).toContain('The run was aborted.')
  }, 30_000)
})

describe('the hello summary', () => {
  it('without a keychain does not claim the device token was stored', async () => {
    fake = await startFakeGateway({ token: TOKEN })
    const h = harness({ keychain: false, env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    expect(await runConnect(connectArgs({ url: fake.url }), h.ctx)).toBe(0)
    expect(h.stdout()).toContain('device token issued; kept in memory for this run only')
    expect(h.stdout()).not.toContain('issued and stored')
    expect(h.stderr()).toContain(
      "warning: No keychain available (no D-Bus session bus): secrets and this device's identity are kept in memory for this run only. The gateway will see a new device each run; use --wait-pairing to approve it in one go."
    )
    expect(h.stderr().split('\n').filter((l) => l.startsWith('warning:'))).toHaveLength(1)
  })
  it('with a keychain says stored, and --json tells the two apart', async () => {
    fake = await startFakeGateway({ token: TOKEN })
    const h = harness({ env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    await runConnect(connectArgs({ url: fake.url }), h.ctx)
    expect(h.stdout()).toContain('(device token issued and stored)')
    const j = harness({ json: true, keychain: false, env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    await runConnect(connectArgs({ url: fake.url, json: true }), j.ctx)
    expect(j.lines().find((l) => l.type === 'hello')).toMatchObject({ deviceTokenIssued: true, deviceTokenStored: false })
  })
  it('and the streamed reply are printed without the gateway\u2019s control sequences', async () => {
    scripted = await startScriptedGateway((req, peer) => {
      if (req.method !== 'chat.send') return
      const runId = String(req.params.idempotencyKey)
      peer.answer(req, { runId, status: 'started' })
      const text = `${ESC}]0;owned${ESC}\\${ESC}[2Jclean`
      setTimeout(() => peer.chat({ runId, sessionKey: 'agent:main:main', state: 'delta', deltaText: text }), 30)
      setTimeout(() => peer.chat({ runId, sessionKey: 'agent:main:main', state: 'delta', deltaText: ` ${ESC}[31mreply\r\u0007` }), 60)
      setTimeout(() => peer.chat({ runId, sessionKey: 'agent:main:main', state: 'final', message: { role: 'assistant', content: [{ type: 'text', text: `${text} ${ESC}[31mreply\r\u0007` }] } }), 90)
    })
    const h = harness({ keychain: false, env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    expect(await runConnect(connectArgs({ url: scripted.url, message: 'hi' }), h.ctx)).toBe(0)
    expect(h.stdout()).toBe('clean reply\n')
    expect(h.stderr()).not.toContain(ESC)
  })
  it('keeps the start of a reply whose first delta came together with the acceptance', async () => {
    scripted = await startScriptedGateway((req, peer) => {
      if (req.method !== 'chat.send') return
      const runId = String(req.params.idempotencyKey)
      peer.answer(req, { runId, status: 'started' })
      peer.chat({ runId, sessionKey: 'agent:main:main', state: 'delta', deltaText: 'Hello' })
      setTimeout(() => peer.chat({ runId, sessionKey: 'agent:main:main', state: 'delta', deltaText: ' world' }), 40)
      setTimeout(() => peer.chat({ runId, sessionKey: 'agent:main:main', state: 'final', message: { role: 'assistant', content: [{ type: 'text', text: 'Hello world!' }] } }), 80)
    })
    const h = harness({ keychain: false, env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    expect(await runConnect(connectArgs({ url: scripted.url, message: 'hi' }), h.ctx)).toBe(0)
    expect(h.stdout()).toBe('Hello world!\n')
  })
})

describe('--wait-pairing with --pairing-timeout', () => {
  it('says it stopped waiting before the pairing error', async () => {
    fake = await startFakeGateway({ token: TOKEN, pairing: 'required' })
    const h = harness({ keychain: false, env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    const code = await runConnect(connectArgs({ url: fake.url, waitPairing: true, pairingTimeoutSec: 1 }), h.ctx)
    expect(code).toBe(5)
    const err = h.stderr()
    const stopped = err.indexOf('Stopped waiting for approval after 1 s.')
    expect(stopped).toBeGreaterThan(-1)
    expect(err.indexOf('error: Approve this device on the gateway')).toBeGreaterThan(stopped)
    // With --wait-pairing the keychain warning does not suggest it again.
    expect(err).not.toContain('use --wait-pairing')
  })
})

describe('connect --ca-file', () => {
  it('is resolved against the directory the command was run from', async () => {
    const where = mkdtempSync(join(tmpdir(), 'aether-ca-'))
    const h = harness({ env: { INIT_CWD: where } })
    expect(await runConnect(connectArgs({ url: 'wss://127.0.0.1:9', caFile: 'missing.pem' }), h.ctx)).toBe(2)
    expect(h.stderr()).toContain(`There is no file at ${join(where, 'missing.pem')}`)
  })
  it('for a ws:// address it is pointed out as unused', async () => {
    fake = await startFakeGateway({ token: TOKEN })
    const h = harness({ env: { AETHER_GATEWAY_TOKEN: TOKEN } })
    await runConnect(connectArgs({ url: fake.url, caFile: '/nonexistent/ca.pem' }), h.ctx)
    expect(h.stderr()).toMatch(/warning: The CA file only applies to wss:\/\/ addresses/)
  })
})

describe('Access credentials over ws://', () => {
  it('are refused before dialling (exit 2)', async () => {
    const h = harness({ env: { AETHER_CF_CLIENT_ID: '0123456789abcdef0123456789abcdef.access', AETHER_CF_CLIENT_SECRET: 'a'.repeat(64) } })
    expect(await runConnect(connectArgs({ url: 'ws://gw.example.com' }), h.ctx)).toBe(2)
    expect(h.stderr()).toContain('Access credentials need wss://')
  })
})
