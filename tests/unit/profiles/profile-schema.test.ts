import { describe, expect, it } from 'vitest'
import {
  PROFILES_SCHEMA_VERSION,
  gatewayUrlProblem,
  parseProfileInput,
  parseProfilesFile
} from '../../../src/main/profiles/profile-schema'
import { DEFAULT_SESSION_KEY } from '../../../src/shared/profile'

const base = { name: 'Home', url: 'wss://gw.example.com' }

function errorOf(input: unknown) {
  const r = parseProfileInput(input)
  if (r.ok) throw new Error('expected a validation error')
  return r.error
}

describe('parseProfileInput', () => {
  it('fills defaults: session key, access mode none, empty options', () => {
    const r = parseProfileInput(base)
    expect(r.ok && r.value).toMatchObject({
      name: 'Home',
      url: 'wss://gw.example.com',
      sessionKey: DEFAULT_SESSION_KEY,
      access: { mode: 'none' },
      options: {}
    })
  })

  it('trims names, URLs, session keys, client ids and CA paths', () => {
    const r = parseProfileInput({
      name: '  Home  ',
      url: '\twss://gw.example.com/ws  ',
      sessionKey: ' agent:ops:main ',
      access: { mode: 'service-token', clientId: '  0123abcd.access ' },
      options: { caFile: ' /etc/ca.pem ' }
    })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.value.name).toBe('Home')
    expect(r.value.url).toBe('wss://gw.example.com/ws')
    expect(r.value.sessionKey).toBe('agent:ops:main')
    expect(r.value.access.clientId).toBe('0123abcd.access')
    expect(r.value.options.caFile).toBe('/etc/ca.pem')
  })

  it('treats blank optional fields as absent', () => {
    const r = parseProfileInput({ ...base, sessionKey: '  ', access: { mode: 'none', clientId: '' }, options: { caFile: ' ' } })
    expect(r.ok && r.value.sessionKey).toBe(DEFAULT_SESSION_KEY)
    expect(r.ok && r.value.access.clientId).toBeUndefined()
    expect(r.ok && r.value.options.caFile).toBeUndefined()
  })

  it.each([
    ['https://gw.example.com', /^url: must start with ws:\/\/ or wss:\/\/; for this host use wss:\/\/gw\.example\.com/],
    ['http://gw.example.com:8080/x', /use ws:\/\/gw\.example\.com:8080\/x/],
    ['gw.example.com', /^url: The gateway address needs a scheme/],
    ['', /^url: is required/],
    ['   ', /^url: is required/],
    ['wss://user:pw@gw.example.com', /^url: Do not put a user name or password in the address/],
    ['wss://gw.example.com/?token=abc', /^url: The address carries a credential in its query \("token="\)/],
    ['wss://gw.example.com/#x', /fragment/]
  ])('rejects URL %j as INVALID_URL with a message naming the field', (url, message) => {
    const e = errorOf({ ...base, url })
    expect(e.code).toBe('INVALID_URL')
    expect(e.category).toBe('input')
    expect(e.message).toMatch(message)
    expect(e.nextSteps[0]?.action).toBe('check-url')
    // One full stop at the end, whether or not the reason brought its own.
    expect(e.message).not.toMatch(/\.\.$/)
    expect(e.message).toMatch(/\.$/)
  })

  it('never echoes a password from a rejected URL', () => {
    const e = errorOf({ ...base, url: 'wss://alice:hunter2-secret@gw.example.com' })
    expect(JSON.stringify(e)).not.toContain('hunter2')
  })

  it('reports a missing URL field', () => {
    expect(errorOf({ name: 'x' }).message).toBe('url: is required.')
  })

  it('accepts ws:// and wss:// with ports and paths', () => {
    for (const url of ['ws://127.0.0.1:18789', 'wss://gw.example.com:8443/openclaw', 'ws://[::1]:1/']) {
      expect(gatewayUrlProblem(url)).toBeNull()
    }
  })

  it.each([
    [{ ...base, name: '' }, /^name: is required/],
    [{ ...base, name: 'a\u0007b' }, /^name: must not contain control characters/],
    [{ ...base, name: 'x'.repeat(101) }, /^name: must be at most 100 characters/],
    [{ ...base, name: 42 }, /^name: must be text/],
    [{ ...base, access: { mode: 'magic' } }, /^access\.mode: must be one of "none", "service-token", "email-otp"/],
    [{ ...base, access: {} }, /^access\.mode: is required/],
    [{ ...base, options: { connectTimeoutMs: 999 } }, /^options\.connectTimeoutMs: must be at least 1000 ms/],
    [{ ...base, options: { connectTimeoutMs: 120_001 } }, /^options\.connectTimeoutMs: must be at most 120000 ms/],
    [{ ...base, options: { connectTimeoutMs: 1500.5 } }, /^options\.connectTimeoutMs: must be a whole number/],
    [{ ...base, options: { connectTimeoutMs: '2000' } }, /^options\.connectTimeoutMs: must be a whole number/],
    [{ ...base, options: { caFile: 7 } }, /^options\.caFile: must be a file path/],
    [{ ...base, colour: 'red' }, /^unknown field "colour"/],
    ['nope', /must be an object/]
  ])('rejects %j as INVALID_INPUT', (input, message) => {
    const e = errorOf(input)
    expect(e.code).toBe('INVALID_INPUT')
    expect(e.message).toMatch(message)
  })

  it('accepts the timeout limits themselves', () => {
    expect(parseProfileInput({ ...base, options: { connectTimeoutMs: 1000 } }).ok).toBe(true)
    expect(parseProfileInput({ ...base, options: { connectTimeoutMs: 120_000 } }).ok).toBe(true)
  })

  it.each([
    [{ ...base, token: 'abc' }, 'token'],
    [{ ...base, gatewayToken: 'abc' }, 'gatewayToken'],
    [{ ...base, password: 'abc' }, 'password'],
    [{ ...base, access: { mode: 'service-token', clientId: 'x.access', clientSecret: 'abc' } }, 'clientSecret'],
    [{ ...base, access: { mode: 'email-otp', appToken: 'eyJ...' } }, 'appToken'],
    [{ ...base, options: { cfAuthorization: 'eyJ...' } }, 'cfAuthorization'],
    [{ ...base, deviceToken: 'abc' }, 'deviceToken'],
    [{ ...base, privateKey: 'abc' }, 'privateKey']
  ])('rejects secret-looking field %#, pointing at the keychain', (input, field) => {
    const e = errorOf(input)
    expect(e.code).toBe('INVALID_INPUT')
    expect(e.message).toContain(`"${field}" is not a profile field`)
    expect(e.message).toMatch(/system keychain/)
    expect(e.message).not.toContain('abc')
    expect(e.message).not.toContain('eyJ')
  })

  it('refuses a Client Secret pasted into the Client ID field', () => {
    const e = errorOf({ ...base, access: { mode: 'service-token', clientId: 'f'.repeat(64) } })
    expect(e.message).toMatch(/^access\.clientId: looks like a Client Secret/)
    expect(e.message).not.toContain('ffff')
  })

  it('lists every problem in details.notes', () => {
    const e = errorOf({ name: '', url: 'https://x' })
    expect(e.details.notes).toHaveLength(2)
  })
})

describe('parseProfilesFile', () => {
  const profile = {
    id: 'p1',
    name: 'Home',
    url: 'wss://gw.example.com',
    sessionKey: 'agent:main:main',
    access: { mode: 'none' },
    options: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z'
  }

  it('accepts a version 1 file', () => {
    const r = parseProfilesFile({ schemaVersion: 1, profiles: [profile] })
    expect(r.kind).toBe('ok')
    if (r.kind === 'ok') expect(r.file.profiles[0]).toEqual(profile)
    expect(PROFILES_SCHEMA_VERSION).toBe(1)
  })

  it('reports a newer version instead of reading it', () => {
    expect(parseProfilesFile({ schemaVersion: 2, profiles: [], future: true })).toEqual({ kind: 'newer', version: 2 })
  })

  it.each([
    [null, /JSON object/],
    [[], /JSON object/],
    [{ profiles: [] }, /schemaVersion is missing/],
    [{ schemaVersion: '1', profiles: [] }, /schemaVersion is missing/],
    [{ schemaVersion: 0, profiles: [] }, /schemaVersion 0 is not a known version/],
    [{ schemaVersion: 1 }, /^profiles: is required/],
    [{ schemaVersion: 1, profiles: [{ ...profile, token: 'leaked-secret' }] }, /^profiles\[0\]: "token" is not a profile field/],
    [{ schemaVersion: 1, profiles: [profile, profile] }, /^profiles\[1\]\.id: is used by two profiles/],
    [{ schemaVersion: 1, profiles: [{ ...profile, createdAt: 'yesterday' }] }, /^profiles\[0\]\.createdAt: must be an ISO 8601/]
  ])('rejects %j', (raw, reason) => {
    const r = parseProfilesFile(raw)
    expect(r.kind).toBe('invalid')
    if (r.kind === 'invalid') {
      expect(r.reason).toMatch(reason)
      expect(r.reason).not.toContain('leaked-secret')
    }
  })
})
