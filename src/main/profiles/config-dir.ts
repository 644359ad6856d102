/**
 * Where Aether Remote keeps its configuration, computed without Electron.
 *
 * The CLI runs in plain Node, yet must read the same profiles as the desktop app, so this
 * reproduces Electron's `app.getPath('userData')` for productName "Aether Remote" instead of
 * asking Electron.
 */
import os from 'node:os'
import path from 'node:path'

/** Electron names the userData folder after package.json `productName`. */
export const PRODUCT_DIR_NAME = 'Aether Remote'

/** File name of the profiles file inside the config dir. */
export const PROFILES_FILE_NAME = 'profiles.json'

/**
 * The configuration directory.
 *
 * `AETHER_CONFIG_DIR` wins (tests, portable installs, several identities side by side).
 * Otherwise it is Electron's userData folder:
 * - Linux and other Unix: `$XDG_CONFIG_HOME/Aether Remote`, or `~/.config/Aether Remote`
 * - macOS: `~/Library/Application Support/Aether Remote`
 * - Windows: `%APPDATA%\Aether Remote` (`~\AppData\Roaming\Aether Remote` when APPDATA is unset)
 *
 * Paths are joined with the separator of `platform`, not of the running OS, so the result
 * is the same whichever machine computes it.
 */
export function defaultConfigDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir()
): string {
  const p = platform === 'win32' ? path.win32 : path.posix
  const override = env.AETHER_CONFIG_DIR?.trim()
  if (override) return p.resolve(override)
  switch (platform) {
    case 'win32': {
      const appData = env.APPDATA?.trim()
      return p.join(appData ? appData : p.join(home, 'AppData', 'Roaming'), PRODUCT_DIR_NAME)
    }
    case 'darwin':
      return p.join(home, 'Library', 'Application Support', PRODUCT_DIR_NAME)
    default: {
      // Chromium (and so Electron) takes XDG_CONFIG_HOME whenever it is non-empty.
      const xdg = env.XDG_CONFIG_HOME?.trim()
      return p.join(xdg ? xdg : p.join(home, '.config'), PRODUCT_DIR_NAME)
    }
  }
}

/**
 * The profiles file in `dir`: `<dir>/profiles.json`.
 *
 * Joined with the running OS's separator, since the result is opened on this machine.
 */
export function profilesFilePath(dir: string): string {
  return path.join(dir, PROFILES_FILE_NAME)
}
