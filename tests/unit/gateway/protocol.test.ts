import { describe, expect, it } from 'vitest'
import { buildConnectParams, canonicalSessionKey, closedParams, normaliseGatewayError, parseInboundFrame } from '../../../src/main/gateway/protocol'

describe('closed params', () => {
  it('drops undefined values and keeps known fields', () => {
    expect(closedParams('chat.abort', 3, { sessionKey: 'k', runId: undefined })).toEqual({ sessionKey: 'k' })
  })
  it('refuses a field the protocol does not know, before it leaves', () => {
    expect(() => closedParams('chat.send', 3, { sessionKey: 'k', message: 'm', idempotencyKey: 'i', queueMode: 'steer' })).toThrow(/no field "queueMode"/)
    expect(() => closedParams('no.such.method', 4, {})).toThrow(/no params schema/)
  })
})

describe('connect params', () => {
  it('hold only fields both protocol generations know', () => {
    const params = buildConnectParams({
      client: { version: '1.0.0', platform: 'linux', deviceFamily: 'desktop', displayName: 'Test', locale: 'en-US' },
      auth: { token: 't' },
      device: { id: 'd', publicKey: 'p', signature: 's', signedAt: 1, nonce: 'n' }
    })
    const v3Root = ['minProtocol', 'maxProtocol', 'client', 'role', 'scopes', 'caps', 'auth', 'device', 'locale', 'userAgent']
    for (const key of Object.keys(params)) expect(v3Root).toContain(key)
    expect(Object.keys(params.client as object).sort()).toEqual(['deviceFamily', 'displayName', 'id', 'mode', 'platform', 'version'])
    expect(params.auth).toEqual({ token: 't' })
    expect(params).toMatchObject({ minProtocol: 3, maxProtocol: 4, client: { id: 'gateway-client', mode: 'ui' }, role: 'operator' })
  })
  it('omit auth when there is no token', () => {
    const params = buildConnectParams({
      client: { version: '1', platform: 'linux', deviceFamily: 'desktop', displayName: '' },
      auth: {},
      device: { id: 'd', publicKey: 'p', signature: 's', signedAt: 1, nonce: 'n' }
    })
    expect(params).not.toHaveProperty('auth')
    expect(params.client).not.toHaveProperty('displayName')
  })
})

describe('inbound frames', () => {
  it.each([
    ['not json', 'junk'],
    ['42', 'junk'],
    ['null', 'junk'],
    ['{"type":"res"}', 'junk'],
    ['{"type":"event"}', 'junk'],
    ['{"type":"wat"}', 'junk'],
    ['{"type":"res","id":"1","ok":true}', 'res'],
    ['{"type":"event","event":"tick","payload":{"ts":1},"seq":3,"extra":true}', 'event']
  ])('%s is %s', (text, kind) => {
    expect(parseInboundFrame(text).kind).toBe(kind)
  })
})

describe('session keys', () => {
  it('canonicalise aliases so events of the same session match', () => {
    expect(canonicalSessionKey('main')).toBe('agent:main:main')
    expect(canonicalSessionKey('Agent:MAIN:main')).toBe('agent:main:main')
    expect(canonicalSessionKey('desk-1')).toBe('agent:main:desk-1')
    expect(canonicalSessionKey('global')).toBe('global')
    expect(canonicalSessionKey('agent:ops:x', 'agent:ops:main')).toBe('agent:ops:x')
  })
})

describe('res frames with an error in another shape', () => {
  it.each([
    ['a bare string', '"just a string"', { code: 'UNKNOWN', message: 'just a string' }],
    ['an object without code', '{"message":"nope"}', { code: 'UNKNOWN', message: 'nope' }],
    ['a numeric code', '{"code":42,"message":"nope"}', { code: 'UNKNOWN', message: 'nope' }],
    ['a number', '500', { code: 'UNKNOWN', message: '500' }],
    ['null', 'null', { code: 'UNKNOWN' }]
  ])('%s is still a refusal, with code UNKNOWN', (_what, error, expected) => {
    const parsed = parseInboundFrame(`{"type":"res","id":"c1","ok":false,"error":${error}}`)
    expect(parsed.kind).toBe('res')
    if (parsed.kind === 'res') {
      expect(parsed.frame.ok).toBe(false)
      expect(parsed.frame.error).toEqual(expected)
    }
  })
  it('a well-formed error is kept as it is, and an absent one stays absent', () => {
    const parsed = parseInboundFrame('{"type":"res","id":"c1","ok":false,"error":{"code":"INVALID_REQUEST","message":"m","details":{"code":"X"}}}')
    expect(parsed.kind === 'res' && parsed.frame.error).toEqual({ code: 'INVALID_REQUEST', message: 'm', details: { code: 'X' } })
    const okFrame = parseInboundFrame('{"type":"res","id":"c1","ok":true,"payload":{}}')
    expect(okFrame.kind === 'res' && okFrame.frame.error).toBeUndefined()
  })
  it('normaliseGatewayError keeps details and retryable of a code-less object', () => {
    expect(normaliseGatewayError({ details: { code: 'PAIRING_REQUIRED' }, retryable: true })).toMatchObject({
      code: 'UNKNOWN',
      details: { code: 'PAIRING_REQUIRED' },
      retryable: true
    })
  })
})
