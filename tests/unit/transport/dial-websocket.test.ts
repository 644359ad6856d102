import { describe, expect, it } from 'vitest'
import { dialWebSocket } from '../../../src/main/transport/dial-websocket'
import { parseGatewayUrl } from '../../../src/shared/gateway-url'

describe('dialWebSocket: a credential that cannot be put in a header', () => {
  it('is INVALID_INPUT (not an invalid address), and does not quote the value', async () => {
    const url = parseGatewayUrl('wss://127.0.0.1:9')
    if (!url.ok) throw new Error('bad url')
    const secret = 'abcdef0123456789\nsecond-line'
    const r = await dialWebSocket({
      url: url.value,
      access: { kind: 'service-token', clientId: 'abc.access', clientSecret: secret },
      timeoutMs: 2_000,
      userAgent: 'test'
    })
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.error.code).toBe('INVALID_INPUT')
      expect(r.error.message).toMatch(/cannot be sent in an HTTP header/)
      expect(JSON.stringify(r.error)).not.toContain('second-line')
    }
  })
})
