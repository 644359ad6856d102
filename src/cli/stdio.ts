/**
 * Failing writes to stdout or stderr: `npm run cli -- ... | head -c 3` closes the pipe early
 * (EPIPE), `> /dev/full` has no room (ENOSPC). Without a listener Node throws them as an
 * unhandled 'error' event, with a stack. Instead: a closed pipe means nobody reads any more, so
 * the CLI ends quietly with the exit code it already had; any other write failure ends it with
 * exit 1 and, when stderr still works, one line saying why.
 */

interface ErrorEmitter {
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown
}

export interface StdioHandlerDeps {
  stdout: ErrorEmitter
  stderr: ErrorEmitter & { write(text: string): unknown }
  exit: (code: number) => void
  /** The exit code so far (process.exitCode). */
  currentCode: () => number | undefined
}

export function installStdioErrorHandlers(deps: StdioHandlerDeps): void {
  let exiting = false
  const handler = (stream: 'stdout' | 'stderr') => (err: NodeJS.ErrnoException) => {
    if (exiting) return
    exiting = true
    if (err?.code === 'EPIPE') {
      deps.exit(deps.currentCode() ?? 0)
      return
    }
    if (stream === 'stdout') {
      try {
        deps.stderr.write(`error: could not write the output (${err?.code ?? 'write failed'}${err?.code === 'ENOSPC' ? ': no space left on the device' : ''}).\n`)
      } catch {
        // stderr is broken too: nothing left to tell anyone with
      }
    }
    deps.exit(1)
  }
  deps.stdout.on('error', handler('stdout'))
  deps.stderr.on('error', handler('stderr'))
}
