/**
 * Last line of defence against printing a secret: replace every known secret value in a text
 * with a short hint. Errors are built secret-free, but a gateway or proxy could echo a token back
 * in a message, so every writer that leaves the process (CLI output, logs, reports) passes
 * through this.
 */

/** Secrets shorter than this are not searched for: they would match ordinary text. */
const MIN_SECRET_LENGTH = 6

export function redactSecrets(text: string, secrets: readonly (string | undefined | null)[]): string {
  let out = text
  const values = secrets
    .filter((s): s is string => typeof s === 'string' && s.trim().length >= MIN_SECRET_LENGTH)
    .map((s) => s.trim())
    // Longest first, so a secret that contains another is replaced whole.
    .sort((a, b) => b.length - a.length)
  for (const value of values) {
    if (out.includes(value)) out = out.split(value).join('[redacted]')
  }
  return out
}
