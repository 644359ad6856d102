import { describe, expect, it } from 'vitest'
import { parseCliArgs, USAGE } from '../../../src/cli/args'

describe('doctor on the command line', () => {
  it('takes --url or --profile (or both), --json, --ca-file and --timeout', () => {
    expect(parseCliArgs(['doctor', '--url', 'wss://gw.example.com', '--json', '--timeout', '5', '--ca-file', 'ca.pem'])).toEqual({
      ok: true,
      value: { command: 'doctor', url: 'wss://gw.example.com', json: true, timeoutSec: 5, caFile: 'ca.pem' }
    })
    expect(parseCliArgs(['doctor', '--profile', 'prod'])).toEqual({ ok: true, value: { command: 'doctor', profile: 'prod', json: false } })
    expect(parseCliArgs(['doctor', '--profile', 'prod', '--url', 'wss://other.example.com']).ok).toBe(true)
  })

  it('refuses missing targets, unknown options, secrets and out-of-range limits', () => {
    for (const argv of [['doctor'], ['doctor', '--url', 'wss://x', '--bogus'], ['doctor', '--url', 'wss://x', '--token', 'abc'], ['doctor', '--url', 'wss://x', '--timeout', '99']]) {
      const parsed = parseCliArgs(argv)
      expect(parsed.ok).toBe(false)
      if (!parsed.ok) expect(parsed.error.category).toBe('input')
    }
  })

  it('is in the help text', () => {
    expect(USAGE).toMatch(/doctor --url/)
    expect(USAGE).toMatch(/doctor options/)
    expect(parseCliArgs(['doctor', '--help'])).toEqual({ ok: true, value: { command: 'help', topic: 'doctor' } })
  })
})
