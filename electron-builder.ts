/**
 * Packaging configuration for electron-builder: the installers for macOS, Windows and Linux.
 *
 * `npm run package` builds the installers of the machine it runs on; the release workflow
 * (.github/workflows/release.yml) builds all of them on a version tag. docs/installing.md lists
 * the environment variables for signing, notarisation and the update feed.
 */
import type { Configuration } from 'electron-builder'

type Feed = { provider: 'generic'; url: string } | { provider: 'github'; owner: string; repo: string; releaseType: 'draft' }
import { DEEP_LINK_SCHEME } from './src/main/desktop/deep-link'

/**
 * Where installed apps look for updates, from the environment at build time.
 *
 * `AETHER_UPDATE_URL` names a static feed (an HTTPS folder holding latest*.yml and the
 * installers); `AETHER_UPDATE_GITHUB` (`owner/repo`) the GitHub releases of that repository.
 * With neither, the build has no feed: no app-update.yml is written and the app never checks.
 */
export function updateFeed(env: Record<string, string | undefined>): Feed[] | null {
  const url = env.AETHER_UPDATE_URL?.trim()
  if (url) {
    if (!url.startsWith('https://')) throw new Error('AETHER_UPDATE_URL must be an https:// address.')
    return [{ provider: 'generic', url }]
  }
  const github = env.AETHER_UPDATE_GITHUB?.trim()
  if (github) {
    const [owner, repo, ...rest] = github.split('/')
    if (!owner || !repo || rest.length > 0) throw new Error('AETHER_UPDATE_GITHUB must be owner/repo.')
    // The release jobs upload into one draft, published by hand once every installer is in.
    return [{ provider: 'github', owner, repo, releaseType: 'draft' }]
  }
  return null
}

/** The whole configuration, for the given build environment. */
export function createBuilderConfig(env: Record<string, string | undefined>): Configuration {
  return {
    appId: 'app.aether-remote.desktop',
    productName: 'Aether Remote',
    copyright: 'Copyright © Aether Remote contributors',
    directories: { output: 'dist', buildResources: 'build' },
    // The installed package.json names the desktop file, which Electron uses as the Wayland
    // app id / X11 WM_CLASS, so running windows group under the launcher entry.
    extraMetadata: { desktopName: 'aether-remote.desktop' },
    // Only the built app: out/ (main, preload, renderer) and package.json. Production
    // dependencies are added by electron-builder; the patterns below filter them too.
    files: [
      'out/**/*',
      'package.json',
      '!**/*.map',
      '!**/*.{ts,tsx,mts,cts}',
      '!**/{test,tests,__tests__,spec,example,examples,docs,.github}/**',
      '!**/*.{md,markdown}',
      '!**/{.eslintrc*,.prettierrc*,tsconfig*.json,.editorconfig,.npmignore,.travis.yml,appveyor.yml}',
      // keytar's C++ sources and compiler leftovers; only build/Release/keytar.node is loaded.
      '!**/node_modules/keytar/{src,binding.gyp}',
      '!**/node_modules/keytar/build/{Makefile,config.gypi,*.mk}',
      '!**/node_modules/keytar/build/Release/{obj.target,.deps,obj}/**'
    ],
    asar: true,
    // Native modules cannot be loaded from inside an asar archive.
    asarUnpack: ['**/*.node'],
    // keytar is rebuilt against the Electron headers for each target architecture.
    npmRebuild: true,
    nodeGypRebuild: false,
    // Security checklist #19. Cookie encryption protects the Access cookie jar, and is a
    // one-way switch: once on, existing cookies are migrated and it cannot be turned off.
    electronFuses: {
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      grantFileProtocolExtraPrivileges: false
    },
    protocols: [{ name: 'Aether Remote gateway link', schemes: [DEEP_LINK_SCHEME] }],
    publish: updateFeed(env),

    mac: {
      category: 'public.app-category.developer-tools',
      icon: 'build/icon.icns',
      target: [
        { target: 'dmg', arch: ['x64', 'arm64'] },
        { target: 'zip', arch: ['x64', 'arm64'] }
      ],
      hardenedRuntime: true,
      gatekeeperAssess: false,
      entitlements: 'build/entitlements.mac.plist',
      entitlementsInherit: 'build/entitlements.mac.plist',
      // Notarisation runs when APPLE_API_KEY/APPLE_API_KEY_ID/APPLE_API_ISSUER, or
      // APPLE_ID/APPLE_APP_SPECIFIC_PASSWORD/APPLE_TEAM_ID, or APPLE_KEYCHAIN_PROFILE are set,
      // and is skipped otherwise; forcing it off keeps local unsigned builds quick.
      notarize: env.AETHER_SKIP_NOTARIZE === '1' ? false : undefined,
      artifactName: '${productName}-${version}-mac-${arch}.${ext}'
    },
    dmg: {
      artifactName: '${productName}-${version}-mac-${arch}.${ext}'
    },

    win: {
      icon: 'build/icon.ico',
      target: [{ target: 'nsis', arch: ['x64', 'arm64'] }]
    },
    nsis: {
      // One click, per user: installs under %LOCALAPPDATA% without an administrator prompt.
      oneClick: true,
      perMachine: false,
      allowElevation: false,
      createDesktopShortcut: true,
      createStartMenuShortcut: true,
      shortcutName: 'Aether Remote',
      // The profiles file and the device identity survive an uninstall, as on the other systems.
      deleteAppDataOnUninstall: false,
      artifactName: '${productName}-${version}-win-${arch}-setup.${ext}'
    },

    linux: {
      icon: 'build/icons',
      executableName: 'aether-remote',
      // Main category first (freedesktop menu spec), then an additional one.
      category: 'Development;Network',
      synopsis: 'Desktop client for OpenClaw agent gateways',
      syncDesktopName: true,
      target: [
        { target: 'AppImage', arch: ['x64', 'arm64'] },
        { target: 'deb', arch: ['x64', 'arm64'] }
      ],
      desktop: {
        entry: {
          GenericName: 'Agent gateway client',
          Comment: 'Chat with OpenClaw agents on remote gateways',
          Keywords: 'openclaw;agent;gateway;cloudflare;',
          StartupNotify: 'true'
        }
      },
      artifactName: '${productName}-${version}-linux-${arch}.${ext}'
    },
    deb: {
      // The keychain module links libsecret; the rest is Electron's usual runtime.
      depends: ['libgtk-3-0', 'libnotify4', 'libnss3', 'libxss1', 'libxtst6', 'xdg-utils', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0'],
      artifactName: '${name}_${version}_${arch}.${ext}'
    }
  }
}

export default createBuilderConfig(process.env)
