/**
 * Paste errors in a gateway token, found without quoting it.
 *
 * Shared by the main process (a warning on connect, the first cause when the gateway refuses the
 * token) and the renderer (a note under the field while typing), so it imports nothing.
 */

/**
 * What is odd about a gateway token as entered: a space, tab or line break inside it (a paste that
 * wrapped, or two values run together), or an invisible character. Gateway tokens are one word,
 * so this is almost always a paste error; the token is still sent as entered, since the gateway
 * decides. Never quotes the token.
 */
export function pastedTokenProblem(token: string | undefined): string | undefined {
  if (!token) return undefined
  if (/[\r\n\u0085\u2028\u2029]/.test(token)) return 'The gateway token has a line break inside it: it may have been pasted in two pieces.'
  // \s covers the Unicode spaces too (no-break, narrow no-break, em, ideographic...).
  if (/\s/.test(token)) return 'The gateway token has a space inside it: it may be two values pasted together, or part of a command line.'
  // Control and format characters (zero-width, direction marks, soft hyphen, BOM), variation
  // selectors and the blank Hangul fillers: invisible, and never part of a token.
  if (/[\p{Cc}\p{Cf}\u{fe00}-\u{fe0f}\u115f\u1160\u3164\uffa0]/u.test(token)) {
    return 'The gateway token contains an invisible character (often added by chat apps or PDFs): type or copy it again.'
  }
  return undefined
}
