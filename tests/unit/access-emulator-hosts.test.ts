import { execFile } from 'node:child_process'
import dns from 'node:dns'
import https from 'node:https'
import tls from 'node:tls'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startAccessEmulator, startBlackHoleServer, startRecordingOrigin, startResetServer, type AccessEmulator, type RecordingOrigin } from '../support/access-emulator'
import { chromiumHostResolverRules, installTestHosts, isTestHost, nodeOptionsWithTestHosts } from '../support/hosts'

const run = promisify(execFile)
const lookup = (hostname: string, options: dns.LookupOptions) => dns.promises.lookup(hostname, options)

let emu: AccessEmulator
let origin: RecordingOrigin
let uninstallHosts: () => void

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  origin = await startRecordingOrigin()
  emu = await startAccessEmulator({ team: 'aether-test', apps: [{ host: 'gateway.aether.test', upstream: origin.url, policies: [{ decision: 'non_identity', anyValidServiceToken: true }] }] })
})

afterAll(async () => {
  await emu.close()
  await origin.close()
  uninstallHosts()
})

describe('test host mapping', () => {
  it('resolves test names to loopback in every dns.lookup form and leaves other names alone', async () => {
    const callbackForm = (...args: unknown[]) =>
      new Promise<unknown[]>((resolve) => {
        ;(dns.lookup as (...a: unknown[]) => void)(...args, (...result: unknown[]) => resolve(result))
      })
    expect(await callbackForm('gateway.aether.test')).toEqual([null, '127.0.0.1', 4])
    expect(await callbackForm('GATEWAY.Aether.Test.', 4)).toEqual([null, '127.0.0.1', 4])
    expect(await callbackForm('aether-test.cloudflareaccess.com', { all: true })).toEqual([null, [{ address: '127.0.0.1', family: 4 }]])
    expect(await callbackForm('gateway.aether.test', { family: 6 })).toEqual([null, '::ffff:127.0.0.1', 6])
    expect(await lookup('gateway.aether.test', {})).toEqual({ address: '127.0.0.1', family: 4 })
    expect(await lookup('gateway.aether.test', { all: true })).toEqual([{ address: '127.0.0.1', family: 4 }])
    const localhost = (await lookup('localhost', { all: true })) as dns.LookupAddress[]
    expect(localhost.length).toBeGreaterThan(0)
    expect(isTestHost('example.com')).toBe(false)
    expect(isTestHost('evil-aether.test')).toBe(false)
    expect(chromiumHostResolverRules()).toBe('MAP *.aether.test 127.0.0.1, MAP *.cloudflareaccess.com 127.0.0.1, EXCLUDE localhost')
  })

  it('https and ws reach the emulator by name', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      https.get(emu.appUrl('gateway.aether.test', '/'), { ca: emu.caCertPem, agent: false }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      }).on('error', reject)
    })
    expect(status).toBe(302)
    expect(emu.requests.at(-1)?.host).toBe('gateway.aether.test')
    const token = emu.createServiceToken()
    const ws = new WebSocket(emu.appUrl('gateway.aether.test', '/ws', 'wss'), { ca: emu.caCertPem, headers: { 'CF-Access-Client-Id': token.clientId, 'CF-Access-Client-Secret': token.clientSecret } })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    ws.close()
  })

  it('the preload maps the names in a child process (NODE_OPTIONS), trusting the CA via caFile', async () => {
    const script = `
      const https = require('node:https')
      const WebSocket = require('ws')
      https.get(${JSON.stringify(emu.appUrl('gateway.aether.test', '/child'))}, (res) => {
        res.resume()
        const ws = new WebSocket(${JSON.stringify(emu.appUrl('gateway.aether.test', '/ws', 'wss'))})
        ws.on('unexpected-response', (_req, wsRes) => { console.log(res.statusCode + ' ' + wsRes.statusCode); process.exit(0) })
        ws.on('error', (error) => { console.log('ws error ' + error.message); process.exit(1) })
      }).on('error', (error) => { console.log('error ' + error.message); process.exit(1) })
    `
    const { stdout } = await run(process.execPath, ['-e', script], {
      cwd: process.cwd(),
      env: { ...process.env, NODE_OPTIONS: nodeOptionsWithTestHosts(''), NODE_EXTRA_CA_CERTS: emu.caFile }
    })
    expect(stdout.trim()).toBe('302 302')
    expect(emu.requests.some((entry) => entry.path === '/child')).toBe(true)
  })
})

describe('network fault fixtures', () => {
  it('black hole accepts the connection and never answers the TLS handshake', async () => {
    const hole = await startBlackHoleServer()
    try {
      const outcome = await new Promise<string>((resolve) => {
        const socket = tls.connect({ host: 'blackhole.aether.test', port: hole.port, servername: 'blackhole.aether.test' })
        socket.setTimeout(300, () => {
          socket.destroy()
          resolve('timeout')
        })
        socket.on('secureConnect', () => resolve('connected'))
        socket.on('error', (error) => resolve(`error ${error.message}`))
      })
      expect(outcome).toBe('timeout')
      expect(hole.connections).toBe(1)
    } finally {
      await hole.close()
    }
  })

  it('reset server resets every connection', async () => {
    const reset = await startResetServer()
    try {
      const code = await new Promise<string>((resolve) => {
        https.get(`https://reset.aether.test:${reset.port}/`, { agent: false }, () => resolve('response')).on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      })
      expect(code).toBe('ECONNRESET')
    } finally {
      await reset.close()
    }
  })
})
