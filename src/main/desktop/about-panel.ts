/**
 * What the About panel shows: the app's name and version, and the Electron, Chromium and Node
 * versions it runs on (from `process.versions`, injected so tests choose them).
 */

/** The part of `process.versions` the panel reads. */
export interface RuntimeVersions {
  electron?: string
  chrome?: string
  node?: string
  v8?: string
}

export interface AboutInfo {
  appName: string
  appVersion: string
  /** One line per component, e.g. "Electron 45.5.0". */
  components: string[]
  copyright: string
  website: string
}

export const PRODUCT_WEBSITE = 'https://docs.openclaw.ai'

export function aboutInfo(opts: { appName: string; appVersion: string; versions: RuntimeVersions; year?: number }): AboutInfo {
  const v = opts.versions
  const components = [
    ['Electron', v.electron],
    ['Chromium', v.chrome],
    ['Node.js', v.node],
    ['V8', v.v8]
  ]
    .filter((c): c is [string, string] => typeof c[1] === 'string' && c[1] !== '')
    .map(([name, version]) => `${name} ${version}`)
  return {
    appName: opts.appName,
    appVersion: opts.appVersion,
    components,
    copyright: `Copyright © ${opts.year ?? new Date().getFullYear()} Aether Remote contributors`,
    website: PRODUCT_WEBSITE
  }
}

/**
 * The options for Electron's `app.setAboutPanelOptions`.
 *
 * macOS shows `version` in brackets after the app version and `credits` below it; Linux shows
 * `website` and `authors`; Windows shows `credits`. The component versions go where each
 * platform shows free text.
 */
export function aboutPanelOptions(info: AboutInfo): {
  applicationName: string
  applicationVersion: string
  version: string
  copyright: string
  credits: string
  website: string
} {
  return {
    applicationName: info.appName,
    applicationVersion: info.appVersion,
    version: info.components[0] ?? '',
    copyright: info.copyright,
    credits: info.components.join('\n'),
    website: info.website
  }
}

/** The same information as one text, for a message box and for "Copy" in bug reports. */
export function aboutText(info: AboutInfo): string {
  return [`${info.appName} ${info.appVersion}`, '', ...info.components, '', info.copyright].join('\n')
}
