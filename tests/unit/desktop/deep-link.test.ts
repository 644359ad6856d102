import { describe, expect, it, vi } from 'vitest'
import { DeepLinkInbox, findDeepLinkInArgv, parseDeepLink } from '../../../src/main/desktop/deep-link'

const link = (params: Record<string, string>) => `aether-remote://connect?${new URLSearchParams(params).toString()}`

describe('deep links', () => {
  it.each([
    ['wss://gateway.example.com', 'wss://gateway.example.com/'],
    ['ws://127.0.0.1:18789', 'ws://127.0.0.1:18789/'],
    ['https://gateway.example.com/ws', 'wss://gateway.example.com/ws'],
    ['http://localhost:18789', 'ws://localhost:18789/']
  ])('accepts %s and normalises it to %s', (url, href) => {
    expect(parseDeepLink(link({ url }))).toEqual({ ok: true, request: { url: href } })
  })

  it('carries a cleaned-up display name', () => {
    expect(parseDeepLink(link({ url: 'wss://g.example.com', name: '  Prod\u0007  box\n ' }))).toEqual({
      ok: true,
      request: { url: 'wss://g.example.com/', name: 'Prod box' }
    })
    const long = parseDeepLink(link({ url: 'wss://g.example.com', name: 'Prod box '.repeat(60) }))
    expect(long.ok && long.request.name?.length).toBe(100)
  })

  it('accepts the scheme in any case and the short form aether-remote:connect', () => {
    expect(parseDeepLink('AETHER-REMOTE://connect?url=wss%3A%2F%2Fg.example.com').ok).toBe(true)
    expect(parseDeepLink('aether-remote:connect?url=wss%3A%2F%2Fg.example.com').ok).toBe(true)
  })

  it.each([
    ['token', { url: 'wss://g.example.com', token: 'abc' }],
    ['secret', { url: 'wss://g.example.com', secret: 'abc' }],
    ['password', { url: 'wss://g.example.com', password: 'abc' }],
    ['a Cloudflare client secret', { url: 'wss://g.example.com', cf_client_secret: 'abc' }],
    ['a Cloudflare client id', { url: 'wss://g.example.com', 'cf-access-client-id': 'abc.access' }],
    ['CF_Authorization', { url: 'wss://g.example.com', CF_Authorization: 'eyJ' }],
    ['an api key', { url: 'wss://g.example.com', apiKey: 'abc' }]
  ])('refuses a link carrying %s', (_what, params) => {
    const result = parseDeepLink(link(params))
    expect(result.ok).toBe(false)
    expect(!result.ok && result.reason).toMatch(/never carry secrets/)
    // The reason names the parameter, never its value.
    expect(!result.ok && result.reason).not.toContain('abc')
  })

  it.each([
    ['a user name and password in the gateway address', 'wss://admin:hunter2@g.example.com'],
    ['a token in the gateway address', 'wss://g.example.com/?token=abc'],
    ['an auth parameter in the gateway address', 'wss://g.example.com/?auth=abc'],
    ['a Cloudflare cookie in the gateway address', 'wss://g.example.com/?cf_clearance=abc'],
    ['a signature in the gateway address', 'wss://g.example.com/?X-Amz-Signature=abc']
  ])('refuses %s', (_what, url) => {
    const result = parseDeepLink(link({ url }))
    expect(result.ok).toBe(false)
    expect(!result.ok && result.reason).not.toContain('hunter2')
  })

  it.each([
    'wss://gw.example.com/?pass=hunter2',
    'wss://gw.example.com/?pw=hunter2',
    'wss://gw.example.com/?p=hunter2',
    'wss://gw.example.com/?code=123456',
    'wss://gw.example.com/?t=abc',
    'wss://gw.example.com/ws#access=abc',
    'wss://gw.example.com/ws?',
    'wss://gw.example.com/eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln/ws',
    'wss://gw.example.com/ws/0123456789abcdef0123456789abcdef',
    'wss://gw.example.com/hunter2%2Fhunter2hunter2hunter2hunter2hunter2',
    'wss://gw.example.com/path;password=hunter2',
    'wss://gw.example.com/;=hunter2'
  ])('refuses a gateway address that could carry a credential: %s', (url) => {
    const result = parseDeepLink(link({ url }))
    expect(result.ok).toBe(false)
    expect(JSON.stringify(result)).not.toMatch(/hunter2|123456|eyJhbGci|0123456789abcdef0123/)
  })

  it('refuses a display name that looks like a token', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'
    expect(parseDeepLink(link({ url: 'wss://g.example.com', name: `Prod ${jwt}` })).ok).toBe(false)
    expect(parseDeepLink(link({ url: 'wss://g.example.com', name: 'Prod gateway (eu-west)' })).ok).toBe(true)
  })

  it('shows no control or invisible characters in a refusal or a name', () => {
    const refused = parseDeepLink('aether-remote://connect?url=wss%3A%2F%2Fg.example.com&%1b%5b31mtoken=1')
    expect(refused.ok).toBe(false)
    expect(!refused.ok && refused.reason).not.toMatch(/\p{Cc}/u)
    const unknown = parseDeepLink('aether-remote://connect?url=wss%3A%2F%2Fg.example.com&na%00me=x')
    expect(!unknown.ok && unknown.reason).toContain('"name"')
    const named = parseDeepLink(link({ url: 'wss://g.example.com', name: 'Pr\u00adod\u034f \u{E0041}box\u3164\u180e' }))
    expect(named).toEqual({ ok: true, request: { url: 'wss://g.example.com/', name: 'Prod box' } })
  })

  it('refuses user info on the link itself', () => {
    expect(parseDeepLink('aether-remote://user:pw@connect?url=wss%3A%2F%2Fg.example.com').ok).toBe(false)
  })

  it.each([
    ['another scheme for the gateway', link({ url: 'file:///etc/passwd' })],
    ['javascript', link({ url: 'javascript:alert(1)' })],
    ['no address', 'aether-remote://connect'],
    ['two addresses', 'aether-remote://connect?url=wss%3A%2F%2Fa.example.com&url=wss%3A%2F%2Fb.example.com'],
    ['another action', 'aether-remote://delete?url=wss%3A%2F%2Fg.example.com'],
    ['an unknown parameter', link({ url: 'wss://g.example.com', autoconnect: '1' })],
    ['another scheme for the link', 'https://connect?url=wss%3A%2F%2Fg.example.com'],
    ['a huge link', link({ url: `wss://g.example.com/${'a'.repeat(5000)}` })],
    ['an address without a host', link({ url: 'wss:///path' })]
  ])('refuses %s', (_what, value) => {
    expect(parseDeepLink(value).ok).toBe(false)
  })

  it('finds the link among command-line arguments', () => {
    expect(findDeepLinkInArgv(['/opt/Aether Remote/aether-remote', '--no-sandbox', 'aether-remote://connect?url=x'])).toBe('aether-remote://connect?url=x')
    expect(findDeepLinkInArgv(['C:\\app.exe', '--flag'])).toBeUndefined()
  })
})

describe('deep link inbox', () => {
  const good = link({ url: 'wss://g.example.com', name: 'G' })

  it('holds the latest link until the window is ready, then delivers as they come', () => {
    const inbox = new DeepLinkInbox()
    expect(inbox.receive(link({ url: 'wss://first.example.com' }))).toBe(true)
    expect(inbox.receive(good)).toBe(true)
    const delivered: unknown[] = []
    inbox.attach((r) => delivered.push(r))
    expect(delivered).toEqual([{ url: 'wss://g.example.com/', name: 'G' }])
    inbox.receive(link({ url: 'wss://later.example.com' }))
    expect(delivered).toHaveLength(2)
    inbox.detach()
    inbox.receive(good)
    expect(delivered).toHaveLength(2)
  })

  it('reports refused links and delivers nothing for them', () => {
    const refused = vi.fn()
    const inbox = new DeepLinkInbox(refused)
    const deliver = vi.fn()
    inbox.attach(deliver)
    expect(inbox.receive(link({ url: 'wss://g.example.com', token: 's3cr3t-value' }))).toBe(false)
    expect(deliver).not.toHaveBeenCalled()
    expect(refused).toHaveBeenCalledOnce()
    expect(String(refused.mock.calls[0]?.[0])).not.toContain('s3cr3t-value')
  })
})
