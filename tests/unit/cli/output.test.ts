import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createOutput, formatError } from '../../../src/cli/output'
import { appError } from '../../../src/shared/errors'

function capture(json: boolean, secrets: string[] = []) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (c: Buffer) => (out += c.toString()))
  stderr.on('data', (c: Buffer) => (err += c.toString()))
  const output = createOutput({ json, secrets, stdout, stderr })
  return { output, out: () => out, err: () => err }
}

const ESC = '\u001b'
const hostile = `${ESC}]0;owned${ESC}\\${ESC}[2J${ESC}[31mred${ESC}[0m\rover\u0007`

describe('human output strips terminal control sequences', () => {
  it('from the streamed reply, info lines and warnings', () => {
    const c = capture(false)
    c.output.out(`reply ${hostile}\n`)
    c.output.info(`info ${hostile}`)
    c.output.warning(`warn ${hostile}`)
    expect(c.out()).toBe('reply redover\n')
    expect(c.err()).toBe('info redover\nwarning: warn redover\n')
  })
  it('from every field of an error, and keeps redacting secrets hidden behind control characters', () => {
    const secret = 'super-secret-token-123'
    const c = capture(false, [secret])
    c.output.error(
      appError('GATEWAY_REJECTED', `Refused ${hostile}`, `msg ${hostile} super-secret-${ESC}[0mtoken-123`, {
        details: { gatewayCode: `X${ESC}[5m`, gatewayMessage: `said ${hostile}`, closeCode: 1008, closeReason: `bye ${ESC}[31m!` },
        nextSteps: [{ action: 'retry', label: `step ${hostile}`, command: `cmd ${ESC}[8m` }]
      })
    )
    const text = c.err()
    expect(text).not.toContain(ESC)
    expect(text).not.toContain('\r')
    expect(text).not.toContain('\u0007')
    expect(text).not.toContain(secret)
    expect(text).toContain('[redacted]')
    expect(text).toContain('Gateway said: said red over')
    expect(text).toContain('Close code: 1008 (reason: bye !)')
  })
  it('JSON mode keeps the text but escaped, so the terminal never sees a raw ESC', () => {
    const c = capture(true)
    c.output.event({ type: 'delta', text: hostile })
    expect(c.out()).not.toContain(ESC)
    expect(JSON.parse(c.out()).text).toBe(hostile)
  })
})

describe('formatError', () => {
  it('shows the close code and reason when there is one', () => {
    const text = formatError(appError('CONNECTION_CLOSED', 'Closed', 'It closed.', { details: { closeCode: 1011, closeReason: 'internal error' } }))
    expect(text).toContain('Close code: 1011 (reason: internal error)')
    const bare = formatError(appError('CONNECTION_CLOSED', 'Closed', 'It closed.', { details: { closeCode: 1006 } }))
    expect(bare).toContain('Close code: 1006')
    expect(bare).not.toContain('reason:')
  })
  it('quotes the gateway\u2019s own words only when no code explains the refusal', () => {
    const explained = formatError(appError('GATEWAY_TOKEN_MISMATCH', 'R', 'm', { details: { gatewayMessage: 'token mismatch' } }))
    expect(explained).not.toContain('Gateway said')
    const unexplained = formatError(appError('GATEWAY_REJECTED', 'R', 'm', { details: { gatewayMessage: 'just a string' } }))
    expect(unexplained).toContain('Gateway said: just a string')
  })
  it('puts a multi-line peer text on one line', () => {
    expect(formatError(appError('GATEWAY_REJECTED', 'R', 'm', { details: { gatewayMessage: 'a\nerror: fake\n  line' } }))).toContain('Gateway said: a error: fake line')
  })
})

describe('next steps in a terminal', () => {
  it('say where a value goes on the command line, since there is no field to type it in', () => {
    const text = formatError(
      appError('GATEWAY_TOKEN_MISMATCH', 'Wrong token', 'The gateway refused the token.', {
        nextSteps: [{ action: 'check-gateway-token', label: 'Enter the gateway token for this gateway.' }]
      })
    )
    expect(text).toContain('Enter the gateway token for this gateway. (On the command line: set AETHER_GATEWAY_TOKEN, or save it in a profile.)')
  })
})
