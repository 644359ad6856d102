/**
 * Whether and how the app looks for updates, and what it asks the person at each step.
 *
 * Off unless a feed is configured: at run time with `AETHER_UPDATE_URL` (an https:// folder
 * holding the release's latest*.yml), or at build time by electron-builder's `publish` config,
 * which writes `app-update.yml` into the app's resources. `AETHER_DISABLE_UPDATES=1` turns it
 * off either way, and development runs never check. With a feed the app checks once at start,
 * asks before downloading, and asks again before restarting to install: nothing is downloaded
 * or installed without a click.
 */

export type UpdateFeed =
  | { enabled: true; source: 'environment'; url: string }
  | { enabled: true; source: 'build' }
  | { enabled: false; reason: string }

export function resolveUpdateFeed(opts: {
  env: Record<string, string | undefined>
  isPackaged: boolean
  /** Whether resources/app-update.yml exists (written when the build had a publish config). */
  hasBuildFeed: boolean
}): UpdateFeed {
  if (opts.env.AETHER_DISABLE_UPDATES === '1') return { enabled: false, reason: 'AETHER_DISABLE_UPDATES is set.' }
  if (!opts.isPackaged) return { enabled: false, reason: 'Development runs do not update.' }
  const url = opts.env.AETHER_UPDATE_URL?.trim()
  if (url) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return { enabled: false, reason: 'AETHER_UPDATE_URL is not a valid address.' }
    }
    if (parsed.protocol !== 'https:') return { enabled: false, reason: 'AETHER_UPDATE_URL must be an https:// address.' }
    if (parsed.username || parsed.password) return { enabled: false, reason: 'AETHER_UPDATE_URL must not carry a user name or password.' }
    return { enabled: true, source: 'environment', url: parsed.href }
  }
  if (opts.hasBuildFeed) return { enabled: true, source: 'build' }
  return { enabled: false, reason: 'No update feed is configured.' }
}

/** What the updater reported, reduced to what the flow needs. */
export type UpdaterEvent =
  | { type: 'available'; version: string }
  | { type: 'not-available' }
  | { type: 'downloaded'; version: string }
  | { type: 'error'; message: string }

/** A question for the person: the first button agrees, the second puts it off. */
export interface UpdatePrompt {
  step: 'download' | 'install'
  title: string
  message: string
  detail: string
  buttons: [string, string]
}

export type UpdateAction = { type: 'none' } | { type: 'ask'; prompt: UpdatePrompt } | { type: 'log'; message: string }

/**
 * The update conversation, one event at a time. Each version is offered once per run: saying
 * "Later" is not asked again until the next start.
 */
export class UpdateFlow {
  private offered = new Set<string>()
  private installOffered = new Set<string>()

  constructor(private readonly appName: string, private readonly currentVersion: string) {}

  next(event: UpdaterEvent): UpdateAction {
    switch (event.type) {
      case 'available':
        return offerOnce(this.offered, event.version, {
          step: 'download',
          title: 'Update available',
          message: `${this.appName} ${event.version} is available.`,
          detail: `You have ${this.currentVersion}. Download it now? You will be asked again before it is installed.`,
          buttons: ['Download', 'Later']
        })
      case 'downloaded':
        return offerOnce(this.installOffered, event.version, {
          step: 'install',
          title: 'Update ready',
          message: `${this.appName} ${event.version} is ready to install.`,
          detail: 'Restart now to install it? Open connections close and reconnect after the restart. Otherwise you are asked again at the next start.',
          buttons: ['Restart and install', 'Later']
        })
      case 'not-available':
        return { type: 'none' }
      case 'error':
        return { type: 'log', message: `update check failed: ${event.message.split('\n')[0]?.slice(0, 300) ?? ''}` }
    }
  }
}

/** Ask about a version only the first time it comes up. */
function offerOnce(seen: Set<string>, version: string, prompt: UpdatePrompt): UpdateAction {
  if (seen.has(version)) return { type: 'none' }
  seen.add(version)
  return { type: 'ask', prompt }
}
