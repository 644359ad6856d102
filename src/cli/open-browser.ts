/**
 * Open a URL in the system browser from the CLI: the platform's opener as a detached child, with
 * the URL as one argument (never a shell string: the sign-in URL is full of `&`).
 *
 * - Linux and the BSDs: `xdg-open`; without a graphical session (no DISPLAY / WAYLAND_DISPLAY,
 *   e.g. over SSH) nothing is tried, since xdg-open would fall back to a text browser that needs
 *   the terminal we hold.
 * - macOS: `open`.
 * - Windows: `rundll32 url.dll,FileProtocolHandler <url>` — what `start` does, without going
 *   through `cmd.exe`, which would split the URL at each `&`.
 *
 * Resolves when the opener started and did not fail within a moment; rejects (with the reason
 * the CLI prints) when there is no opener or it failed.
 */
import { spawn as nodeSpawn, type SpawnOptions } from 'node:child_process'

export type SpawnLike = (command: string, args: readonly string[], options: SpawnOptions) => {
  once(event: 'error', listener: (err: Error) => void): unknown
  once(event: 'exit', listener: (code: number | null) => void): unknown
  once(event: 'spawn', listener: () => void): unknown
  unref(): void
}

/** How long to wait for an opener that neither failed nor finished: then it counts as opened. */
export const OPENER_GRACE_MS = 1_500

/** The command and arguments that open `url` on `platform`; null when there is none to try. */
export function openerCommand(url: string, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): { command: string; args: string[] } | null {
  if (platform === 'darwin') return { command: 'open', args: [url] }
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] }
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null
  return { command: 'xdg-open', args: [url] }
}

export class BrowserOpenError extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'BrowserOpenError'
  }
}

export function openInBrowser(
  url: string,
  opts: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv; spawn?: SpawnLike; graceMs?: number } = {}
): Promise<void> {
  const opener = openerCommand(url, opts.platform, opts.env)
  if (!opener) return Promise.reject(new BrowserOpenError('no graphical session (DISPLAY is not set)'))
  const spawn = opts.spawn ?? (nodeSpawn as unknown as SpawnLike)
  return new Promise<void>((resolve, reject) => {
    let settled = false
    const settle = (error?: BrowserOpenError) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (error) reject(error)
      else resolve()
    }
    const timer = setTimeout(() => settle(), opts.graceMs ?? OPENER_GRACE_MS)
    timer.unref?.()
    let child: ReturnType<SpawnLike>
    try {
      child = spawn(opener.command, opener.args, { detached: true, stdio: 'ignore', shell: false, windowsHide: true })
    } catch (e) {
      settle(new BrowserOpenError(`${opener.command} could not be started (${(e as Error).message})`))
      return
    }
    child.once('error', (err: Error) => {
      const code = (err as NodeJS.ErrnoException).code
      settle(new BrowserOpenError(code === 'ENOENT' ? `${opener.command} is not installed` : `${opener.command} failed (${code ?? err.message})`))
    })
    child.once('exit', (code: number | null) => {
      if (code === 0) settle()
      else settle(new BrowserOpenError(`${opener.command} exited with status ${code ?? 'unknown'}`))
    })
    child.unref()
  })
}
