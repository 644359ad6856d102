import { describe, expect, it } from 'vitest'
import { accessUpgradeHeaders, validateServiceTokenInput } from '../../../src/main/cf-access/access-credentials'

const CLIENT_ID = '0123456789abcdef0123456789abcdef.access'
const LEGACY_SECRET = 'f'.repeat(16) + '0123456789abcdef'.repeat(3)
const NEW_SECRET = 'cfast_' + 'Ab3dE'.repeat(8) + 'Zz12Yy34'
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJ0eXBlIjoiYXBwIn0.c2lnbmF0dXJl'

describe('accessUpgradeHeaders', () => {
  it('sends nothing without credentials', () => {
    expect(accessUpgradeHeaders({ kind: 'none' })).toEqual({ headers: {}, sentNames: [] })
  })

  it('sends both service-token headers and lists only their names', () => {
    const r = accessUpgradeHeaders({ kind: 'service-token', clientId: CLIENT_ID, clientSecret: LEGACY_SECRET })
    expect(r.headers).toEqual({ 'CF-Access-Client-Id': CLIENT_ID, 'CF-Access-Client-Secret': LEGACY_SECRET })
    expect(r.sentNames).toEqual(['CF-Access-Client-Id', 'CF-Access-Client-Secret'])
    expect(JSON.stringify(r.sentNames)).not.toContain(LEGACY_SECRET)
  })

  it('sends an app token as cf-access-token and as the CF_Authorization cookie', () => {
    const r = accessUpgradeHeaders({ kind: 'app-token', token: JWT })
    expect(r.headers).toEqual({ 'cf-access-token': JWT, Cookie: `CF_Authorization=${JWT}` })
    expect(r.sentNames).toEqual(['cf-access-token', 'CF_Authorization'])
  })

  it('adds CF_Binding to the cookie when present', () => {
    const r = accessUpgradeHeaders({ kind: 'app-token', token: JWT, binding: 'bind-value' })
    expect(r.headers.Cookie).toBe(`CF_Authorization=${JWT}; CF_Binding=bind-value`)
    expect(r.sentNames).toEqual(['cf-access-token', 'CF_Authorization', 'CF_Binding'])
    expect(JSON.stringify(r.sentNames)).not.toContain('bind-value')
  })

  it('normalises a pasted token (whitespace, CF_Authorization= prefix) before sending', () => {
    const r = accessUpgradeHeaders({ kind: 'app-token', token: `  CF_Authorization=${JWT}\n` })
    expect(r.headers['cf-access-token']).toBe(JWT)
    expect(r.headers.Cookie).toBe(`CF_Authorization=${JWT}`)
  })
})

describe('validateServiceTokenInput', () => {
  it('accepts a well-formed legacy token with no warnings', () => {
    expect(validateServiceTokenInput(CLIENT_ID, LEGACY_SECRET)).toEqual({
      ok: true,
      clientId: CLIENT_ID,
      clientSecret: LEGACY_SECRET,
      trimmed: false,
      warnings: []
    })
  })

  it('accepts a new cfast_ secret and an older .access.<zone> id without warnings', () => {
    const r = validateServiceTokenInput('0123456789abcdef0123456789abcdef.access.example.com', NEW_SECRET)
    expect(r.ok && r.warnings).toEqual([])
  })

  it('trims surrounding whitespace and says it did', () => {
    const r = validateServiceTokenInput(`  ${CLIENT_ID}\n`, `\t${LEGACY_SECRET} `)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.clientId).toBe(CLIENT_ID)
    expect(r.clientSecret).toBe(LEGACY_SECRET)
    expect(r.trimmed).toBe(true)
    expect(r.warnings.map((w) => w.code)).toEqual(['trimmed'])
  })

  it('removes a pasted header name in front of the values', () => {
    const r = validateServiceTokenInput(`CF-Access-Client-Id: ${CLIENT_ID}`, `cf-access-client-secret:${LEGACY_SECRET}`)
    expect(r.ok && r.clientId).toBe(CLIENT_ID)
    expect(r.ok && r.clientSecret).toBe(LEGACY_SECRET)
    expect(r.ok && r.warnings.map((w) => w.code)).toEqual(['header-name-removed'])
  })

  it('warns (does not refuse) when the Client ID lacks the .access suffix', () => {
    const r = validateServiceTokenInput('0123456789abcdef0123456789abcdef', LEGACY_SECRET)
    expect(r.ok).toBe(true)
    expect(r.ok && r.warnings.map((w) => w.code)).toEqual(['missing-access-suffix'])
  })

  it.each([
    ['legacy hex secret', LEGACY_SECRET],
    ['cfast_ secret', NEW_SECRET]
  ])('flags an id and secret that look swapped (%s)', (_name, secret) => {
    const r = validateServiceTokenInput(secret, CLIENT_ID)
    expect(r.ok).toBe(true)
    expect(r.ok && r.warnings.map((w) => w.code)).toEqual(['looks-swapped'])
  })

  it.each([
    ['empty id', '', LEGACY_SECRET, 'client-id-empty'],
    ['whitespace-only id', '  \n ', LEGACY_SECRET, 'client-id-empty'],
    ['empty secret', CLIENT_ID, '', 'client-secret-empty'],
    ['inner space in id', '0123456789abcdef 0123456789abcdef.access', LEGACY_SECRET, 'client-id-whitespace'],
    ['line break in secret', CLIENT_ID, `${LEGACY_SECRET.slice(0, 30)}\n${LEGACY_SECRET.slice(30)}`, 'client-secret-control'],
    ['tab in secret', CLIENT_ID, `${LEGACY_SECRET.slice(0, 30)}\t${LEGACY_SECRET.slice(30)}`, 'client-secret-whitespace'],
    ['control char in id', `${CLIENT_ID}\u0007x`, LEGACY_SECRET, 'client-id-control'],
    ['zero-width space in secret', CLIENT_ID, `${LEGACY_SECRET.slice(0, 30)}\u200b${LEGACY_SECRET.slice(30)}`, 'client-secret-control'],
    ['smart quotes around id', `\u201c${CLIENT_ID}\u201d`, LEGACY_SECRET, 'client-id-control']
  ])('refuses %s with INVALID_INPUT', (_name, id, secret, check) => {
    const r = validateServiceTokenInput(id, secret)
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('INVALID_INPUT')
    expect(r.error.category).toBe('input')
    expect(r.error.details.check).toBe(check)
    const text = JSON.stringify(r.error)
    expect(text).not.toContain(LEGACY_SECRET.slice(0, 30))
    expect(text).not.toContain('0123456789abcdef')
  })
})
