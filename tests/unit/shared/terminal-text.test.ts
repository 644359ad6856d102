import { describe, expect, it } from 'vitest'
import { sanitizeForTerminal } from '../../../src/shared/terminal-text'

describe('sanitizeForTerminal', () => {
  it('keeps ordinary text, newlines, tabs and non-ASCII letters', () => {
    expect(sanitizeForTerminal('Hello\n\tworld — déjà vu 你好 🙂')).toBe('Hello\n\tworld — déjà vu 你好 🙂')
  })
  it('removes CSI sequences (colours, cursor moves, screen erase)', () => {
    expect(sanitizeForTerminal('\u001b[31mred\u001b[0m \u001b[2J\u001b[1;1Hcleared \u001b[?25l')).toBe('red cleared ')
  })
  it('removes OSC sequences (window title, clipboard, hyperlinks) ended by BEL or ST', () => {
    expect(sanitizeForTerminal('a\u001b]0;pwned\u0007b')).toBe('ab')
    expect(sanitizeForTerminal('a\u001b]52;c;ZXZpbA==\u001b\\b')).toBe('ab')
    expect(sanitizeForTerminal('\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\')).toBe('click')
  })
  it('removes other ESC sequences and a lone ESC', () => {
    expect(sanitizeForTerminal('a\u001bcb\u001b(0c\u001b')).toBe('ab0c')
  })
  it('removes C0 controls except newline and tab, DEL and C1 controls', () => {
    expect(sanitizeForTerminal('ok\rfake\u0008\u0007\u0000x\u007fy\u009b31mz\u0085')).toBe('okfakexy31mz')
  })
  it('leaves nothing a terminal could act on in mixed hostile input', () => {
    const out = sanitizeForTerminal('\u001b[1A\u001b[2K\r\u009d0;t\u009cok')
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/)
    expect(out).toContain('ok')
  })
})
