import { describe, expect, it } from 'vitest'
import { redactSecrets } from '../../../src/shared/redact'

describe('redactSecrets', () => {
  it('replaces every occurrence, longest secret first, and leaves short values alone', () => {
    const text = 'token=abcdef123456 and again abcdef123456; prefix abcdef123456XYZ; pin 1234'
    expect(redactSecrets(text, ['abcdef123456', 'abcdef123456XYZ', '1234', undefined, null])).toBe(
      'token=[redacted] and again [redacted]; prefix [redacted]; pin 1234'
    )
  })
  it('trims pasted secrets before searching', () => {
    expect(redactSecrets('x s3cr3t-value y', [' s3cr3t-value\n'])).toBe('x [redacted] y')
  })
})
