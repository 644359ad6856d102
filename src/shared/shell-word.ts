/**
 * One word of a POSIX shell command, quoted when it needs to be: the app and the CLI show
 * commands to copy (`npm run cli -- login --profile 'Edge (prod)'`), and a name or URL with
 * spaces, `;` or `$(…)` must paste as one harmless argument, never as more shell.
 */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}
