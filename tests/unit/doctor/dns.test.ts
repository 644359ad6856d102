import { describe, expect, it } from 'vitest'
import { cloudflareSigns, isCloudflareAddress, isTunnelTarget, isWorkersDevHost } from '../../../src/main/doctor/cloudflare-network'
import { runDoctor } from '../../../src/main/doctor/run-doctor'
import { errno, fakePorts, type FakeOptions } from './fakes'

const UA = 'test'

async function dnsStepOf(url: string, o: FakeOptions) {
  const report = await runDoctor({ url, access: { kind: 'none' }, targetId: 't' }, fakePorts(o), { userAgent: UA })
  return { report, step: report.steps.find((s) => s.id === 'dns')! }
}

describe('Cloudflare address ranges', () => {
  it('knows the published IPv4 and IPv6 ranges, v4-mapped addresses included', () => {
    expect(isCloudflareAddress('104.16.132.229')).toBe(true)
    expect(isCloudflareAddress('172.67.1.1')).toBe(true)
    expect(isCloudflareAddress('2606:4700::6810:84e5')).toBe(true)
    expect(isCloudflareAddress('::ffff:188.114.97.3')).toBe(true)
    expect(isCloudflareAddress('8.8.8.8')).toBe(false)
    expect(isCloudflareAddress('127.0.0.1')).toBe(false)
    expect(isCloudflareAddress('not-an-ip')).toBe(false)
  })

  it('names workers.dev hosts and tunnel CNAMEs', () => {
    expect(isWorkersDevHost('gw.alice.workers.dev')).toBe(true)
    expect(isWorkersDevHost('workers.dev.example.com')).toBe(false)
    expect(isTunnelTarget('6ff42ae2-765d-4adf-8112-31c55c1551ef.cfargotunnel.com.')).toBe(true)
    expect(isTunnelTarget('cfargotunnel.com.example.org')).toBe(false)
    expect(cloudflareSigns('a.example.com', ['104.16.0.1', '10.0.0.1'], [])).toEqual({ proxied: true, cloudflareAddresses: ['104.16.0.1'], workersDev: false })
  })
})

describe('the DNS step with a fake resolver', () => {
  it('a Cloudflare-proxied host', async () => {
    const { step } = await dnsStepOf('wss://gw.example.com', { lookup: async () => [{ address: '104.21.4.2', family: 4 }, { address: '2606:4700:3031::6815:402', family: 6 }] })
    expect(step.status).toBe('pass')
    expect(step.summary).toMatch(/proxied by Cloudflare/)
    expect(step.details).toEqual(expect.arrayContaining([{ label: 'Cloudflare-proxied', value: 'yes' }]))
  })

  it('a workers.dev host', async () => {
    const { step } = await dnsStepOf('wss://moltbot.alice.workers.dev', { lookup: async () => [{ address: '104.18.2.3', family: 4 }] })
    expect(step.summary).toMatch(/a workers\.dev host/)
    expect(step.details).toEqual(expect.arrayContaining([{ label: 'workers.dev', value: 'yes' }]))
  })

  it('a CNAME to a Cloudflare Tunnel (DNS-only record, private address)', async () => {
    const { step } = await dnsStepOf('wss://gw.example.com', {
      lookup: async () => [{ address: '198.51.100.20', family: 4 }],
      cname: async () => ['0f3c8a9e-1111-2222-3333-444455556666.cfargotunnel.com']
    })
    expect(step.summary).toMatch(/CNAME to the Cloudflare Tunnel 0f3c8a9e-1111-2222-3333-444455556666\.cfargotunnel\.com/)
    expect(step.summary).not.toMatch(/proxied/)
  })

  it('a name that does not resolve fails the step, and the network steps are skipped', async () => {
    const { report, step } = await dnsStepOf('wss://nope.example.com', { lookup: async () => Promise.reject(errno('ENOTFOUND', 'getaddrinfo ENOTFOUND nope.example.com')) })
    expect(step).toMatchObject({ status: 'fail', code: 'DNS_NOT_FOUND' })
    expect(report.steps.filter((s) => s.status === 'skip').map((s) => s.id)).toEqual(['tls', 'https-probe', 'login-page', 'service-token', 'app-token', 'websocket', 'handshake'])
    expect(report.verdict.causes[0]).toMatchObject({ id: 'dns-not-found', likelihood: 'high' })
    expect(report.verdict.category).toBe('network')
  })

  it('a CNAME lookup that fails does not fail the step; an IP address needs no lookup', async () => {
    const { step } = await dnsStepOf('wss://gw.example.com', { cname: async () => Promise.reject(errno('ECONNREFUSED')) })
    expect(step.status).toBe('pass')
    const ip = await dnsStepOf('ws://127.0.0.1:18789', { lookup: async () => Promise.reject(new Error('must not be called')) })
    expect(ip.step).toMatchObject({ status: 'pass' })
    expect(ip.step.summary).toMatch(/IP address/)
  })
})
