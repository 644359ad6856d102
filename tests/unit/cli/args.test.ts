import { describe, expect, it } from 'vitest'
import { parseCliArgs, USAGE } from '../../../src/cli/args'

describe('help', () => {
  it.each([[['-h']], [['--help']], [['help']], [[]]])('%j shows the usage', (argv) => {
    const r = parseCliArgs(argv)
    expect(r.ok && r.value.command).toBe('help')
  })
  it.each([
    [['connect', '-h']],
    [['connect', '--url', 'wss://x', '-h']],
    [['profile', 'add', '--help']],
    [['profile', '-h']]
  ])('%j shows the usage instead of an unknown-option error', (argv) => {
    const r = parseCliArgs(argv)
    expect(r.ok).toBe(true)
    expect(r.ok && r.value).toEqual({ command: 'help', topic: argv[0] })
  })
  it('a -h after -- is a value, not a request for help', () => {
    const r = parseCliArgs(['connect', '--url', 'wss://x', '--', '-h'])
    expect(r.ok).toBe(false)
  })
  it('the usage documents exit 130', () => {
    expect(USAGE).toMatch(/130 interrupted/)
  })
})

describe('profile add', () => {
  it('may leave out --url (for updating a saved profile; the command checks)', () => {
    const r = parseCliArgs(['profile', 'add', '--name', 'edge', '--session', 'agent:main:x'])
    expect(r.ok && r.value).toMatchObject({ command: 'profile', action: 'add', name: 'edge', session: 'agent:main:x' })
  })
})

describe('command lines parseArgs refuses', () => {
  it('a stray word (often a pasted secret) is refused without being repeated', () => {
    for (const argv of [['connect', 'SECRETVAL55', '--url', 'wss://x'], ['doctor', '--url', 'wss://x', 'SECRETVAL55'], ['login', '--url', 'wss://x', 'SECRETVAL55']]) {
      const r = parseCliArgs(argv)
      expect(r.ok, argv.join(' ')).toBe(false)
      if (r.ok) continue
      expect(r.error.code).toBe('INVALID_INPUT')
      expect(r.error.message).toMatch(/takes no positional arguments.*not repeated here/)
      expect(JSON.stringify(r.error)).not.toContain('SECRETVAL55')
    }
  })

  it('an option followed by a dash word says the option needs a value, not how to quote it', () => {
    const r = parseCliArgs(['connect', '--url', 'wss://x', '--timeout', '-1'])
    expect(!r.ok && r.error.message).toBe('--timeout needs a value, and what follows it starts with "-".')
  })
})
