import { describe, expect, it } from 'vitest'
import { classifyBareClose, classifyGatewayError } from '../../../src/main/gateway/classify-gateway-error'
import { loadRecordedRefusals } from '../../support/fake-gateway'
import type { ErrorCode } from '../../../src/shared/errors'

// Every handshake refusal recorded from the real gateway, with the code the app must show.
const EXPECTED: Record<string, ErrorCode> = {
  'wrong-token-no-device': 'GATEWAY_TOKEN_MISMATCH',
  'wrong-token-with-device': 'GATEWAY_TOKEN_MISMATCH',
  'missing-token-no-device': 'DEVICE_IDENTITY_REQUIRED',
  'missing-token-with-fresh-device': 'GATEWAY_TOKEN_MISSING',
  'protocol-3-operator': 'PROTOCOL_MISMATCH',
  'protocol-5-operator': 'PROTOCOL_MISMATCH',
  'first-frame-not-connect(health req)': 'GATEWAY_REJECTED',
  'connect-params-invalid(extra field)': 'GATEWAY_REJECTED',
  'connect-unknown-client-id': 'GATEWAY_REJECTED',
  'bad-signature': 'DEVICE_AUTH_FAILED',
  'wrong-nonce': 'DEVICE_AUTH_FAILED',
  'stale-signedAt': 'DEVICE_AUTH_FAILED',
  'device-id-mismatch': 'DEVICE_AUTH_FAILED',
  'origin file:// (signed openclaw-linux/ui)': 'GATEWAY_ORIGIN_NOT_ALLOWED',
  'origin null (signed openclaw-linux/ui)': 'GATEWAY_ORIGIN_NOT_ALLOWED',
  'origin http://localhost:5173 (signed openclaw-linux/ui)': 'PAIRING_REQUIRED',
  'origin http://127.0.0.1:18789 (signed openclaw-linux/ui)': 'PAIRING_REQUIRED',
  'origin tauri://localhost (signed openclaw-linux/ui)': 'PAIRING_REQUIRED',
  'origin app://. (signed openclaw-linux/ui)': 'GATEWAY_ORIGIN_NOT_ALLOWED'
}

describe('gateway refusals recorded from a real gateway', () => {
  const refusals = loadRecordedRefusals().filter((r) => r.error)
  it('covers every recorded refusal', () => {
    expect(refusals.map((r) => r.name).sort()).toEqual(Object.keys(EXPECTED).sort())
  })
  it.each(refusals.map((r) => [r.name, r] as const))('%s', (name, r) => {
    const err = classifyGatewayError(r.error!, { ...(r.close ? { close: r.close } : {}), method: 'connect' })
    expect(err.code).toBe(EXPECTED[name])
    expect(err.details.gatewayCode).toBe(r.error!.code)
    if (err.code === 'PAIRING_REQUIRED') {
      const requestId = r.error!.details!.requestId as string
      expect(err.details.pairingRequestId).toBe(requestId)
      expect(err.nextSteps[0]).toMatchObject({ action: 'approve-pairing', command: `openclaw devices approve ${requestId}` })
    }
  })
})

describe('classification ignores message text', () => {
  it('a proxy-rewritten message does not change the verdict', () => {
    const rewritten = { code: 'INVALID_REQUEST', message: 'Invalid or missing token. Visit https://example/?token={...}', details: { code: 'AUTH_TOKEN_MISSING' } }
    expect(classifyGatewayError(rewritten).code).toBe('GATEWAY_TOKEN_MISSING')
  })
  it('protocol-3 pairing (no detail code) is recognised by code and request id', () => {
    const v3 = { code: 'NOT_PAIRED', message: 'Pairing required. Visit https://example/_admin/', details: { requestId: 'r-1' } }
    const err = classifyGatewayError(v3, { close: { code: 1008, reason: 'x' } })
    expect(err.code).toBe('PAIRING_REQUIRED')
    expect(err.details.pairingRequestId).toBe('r-1')
  })
  it('protocol mismatch by close code 1002 alone', () => {
    expect(classifyGatewayError({ code: 'INVALID_REQUEST', message: 'whatever' }, { close: { code: 1002, reason: '' } }).code).toBe('PROTOCOL_MISMATCH')
  })
  it('start-up UNAVAILABLE is retryable with the hint', () => {
    const err = classifyGatewayError({ code: 'UNAVAILABLE', message: 'gateway starting; retry shortly', retryable: true, retryAfterMs: 500, details: { reason: 'startup-sidecars' } }, { close: { code: 1013, reason: 'gateway starting' } })
    expect(err).toMatchObject({ code: 'GATEWAY_UNAVAILABLE', retryable: true, details: { retryAfterMs: 500 } })
  })
  it('missing scope after hello', () => {
    const err = classifyGatewayError({ code: 'FORBIDDEN', message: 'missing scope: operator.read', details: { code: 'MISSING_SCOPE', missingScope: 'operator.read' } }, { method: 'sessions.list' })
    expect(err).toMatchObject({ code: 'MISSING_SCOPE', details: { missingScope: 'operator.read' } })
  })
  it('bare closes', () => {
    expect(classifyBareClose({ code: 1013, reason: '' }, 'handshake').code).toBe('GATEWAY_UNAVAILABLE')
    expect(classifyBareClose({ code: 1008, reason: 'invalid request frame' }, 'handshake').code).toBe('CONNECTION_CLOSED')
  })
})
