/**
 * The whole packaging configuration, for the platforms that cannot be built here: every
 * target and architecture, the identifiers, the icons (sizes read from the files), the macOS
 * entitlements, the per-user Windows installer, the Linux desktop entry, the fuses, the update
 * feed, and the release workflow that builds it all.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { validateConfiguration } from 'app-builder-lib/out/util/config/config'
import { DebugLogger } from 'builder-util'
import type { Configuration, TargetConfiguration } from 'electron-builder'
import { describe, expect, it } from 'vitest'
import builderConfig, { createBuilderConfig, updateFeed } from '../../electron-builder'
import { DEEP_LINK_SCHEME } from '../../src/main/desktop/deep-link'
import { icnsEntries, icoEntries, pngSize } from './icon-files'

const root = resolve(__dirname, '../..')
// electron-builder's own YAML parser (it reads electron-builder.yml with it); it ships no types.
const { load: loadYaml } = createRequire(join(root, 'package.json'))('js-yaml') as { load(text: string): unknown }
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown> & { scripts: Record<string, string> }
const config = createBuilderConfig({})

function targets(platform: { target?: unknown } | null | undefined): Record<string, string[]> {
  const list = (platform?.target ?? []) as TargetConfiguration[]
  return Object.fromEntries(list.map((t) => [t.target, (t.arch as string[]) ?? []]))
}

describe('electron-builder configuration', () => {
  it('passes electron-builder\u2019s own schema validation, with and without an update feed', async () => {
    await expect(validateConfiguration(structuredClone(config) as Configuration, new DebugLogger(false))).resolves.toBeUndefined()
    const withFeed = createBuilderConfig({ AETHER_UPDATE_URL: 'https://updates.example.com/aether/' })
    await expect(validateConfiguration(structuredClone(withFeed) as Configuration, new DebugLogger(false))).resolves.toBeUndefined()
    // The schema is strict: a misspelt key would be caught.
    await expect(validateConfiguration({ ...structuredClone(config), nsiss: {} } as Configuration, new DebugLogger(false))).rejects.toThrow()
  })

  it('is the file electron-builder loads, and matches package.json', () => {
    expect(builderConfig.appId).toBe(config.appId)
    expect(config.appId).toMatch(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/)
    expect(config.productName).toBe(pkg.productName)
    expect(config.directories).toEqual({ output: 'dist', buildResources: 'build' })
    expect(pkg.scripts.package).toMatch(/electron-vite build && electron-builder/)
    expect(pkg.dependencies).toHaveProperty('electron-updater')
  })

  it('builds macOS dmg and zip for x64 and arm64, hardened, with entitlements', () => {
    expect(targets(config.mac)).toEqual({ dmg: ['x64', 'arm64'], zip: ['x64', 'arm64'] })
    expect(config.mac?.hardenedRuntime).toBe(true)
    expect(config.mac?.category).toBe('public.app-category.developer-tools')
    // Notarisation is left to the APPLE_* variables; only AETHER_SKIP_NOTARIZE=1 turns it off.
    expect(config.mac?.notarize).toBeUndefined()
    expect(createBuilderConfig({ AETHER_SKIP_NOTARIZE: '1' }).mac?.notarize).toBe(false)
    const plist = readFileSync(join(root, config.mac!.entitlements!), 'utf8')
    expect(config.mac?.entitlementsInherit).toBe(config.mac?.entitlements)
    expect(plist).toContain('<key>com.apple.security.cs.allow-jit</key>')
    // No exceptions beyond what V8 needs.
    expect(plist).not.toMatch(/disable-library-validation|allow-dyld-environment-variables|get-task-allow/)
  })

  it('builds a per-user NSIS installer for x64 and arm64', () => {
    expect(targets(config.win)).toEqual({ nsis: ['x64', 'arm64'] })
    expect(config.nsis?.perMachine).toBe(false)
    expect(config.nsis?.oneClick).toBe(true)
    expect(config.nsis?.allowElevation).toBe(false)
  })

  it('builds AppImage and deb for x64 and arm64 with a desktop entry and category', () => {
    expect(targets(config.linux)).toEqual({ AppImage: ['x64', 'arm64'], deb: ['x64', 'arm64'] })
    expect(config.linux?.executableName).toBe('aether-remote')
    expect(config.linux?.category?.split(';')[0]).toBe('Development')
    expect(config.linux?.desktop?.entry).toMatchObject({ Comment: expect.any(String), GenericName: expect.any(String) })
    // Exec comes from executableName; setting it in the entry is an electron-builder error.
    expect(config.linux?.desktop?.entry).not.toHaveProperty('Exec')
    expect(config.deb?.depends).toContain('libsecret-1-0')
    expect(config.protocols).toEqual([{ name: expect.any(String), schemes: [DEEP_LINK_SCHEME] }])
  })

  it('unpacks native modules and keeps sources, maps and tests out', () => {
    expect(config.asar).toBe(true)
    expect(config.asarUnpack).toEqual(['**/*.node'])
    expect(config.npmRebuild).toBe(true)
    expect(config.files).toEqual(expect.arrayContaining(['out/**/*', 'package.json', '!**/*.map']))
    expect((config.files as string[]).some((f) => f.startsWith('src') || f.startsWith('tests'))).toBe(false)
  })

  it('sets the fuses of the security checklist', () => {
    // Off: ways to run the binary as plain Node or attach a debugger, and file:// privileges.
    const off = ['runAsNode', 'enableNodeOptionsEnvironmentVariable', 'enableNodeCliInspectArguments', 'grantFileProtocolExtraPrivileges', 'loadBrowserProcessSpecificV8Snapshot']
    // On: encrypted cookies (the Access cookie jar), and only the verified app.asar loads.
    const on = ['enableCookieEncryption', 'enableEmbeddedAsarIntegrityValidation', 'onlyLoadAppFromAsar']
    const fuses = (config.electronFuses ?? {}) as Record<string, unknown>
    expect(Object.keys(fuses).sort()).toEqual([...off, ...on].sort())
    for (const name of off) expect(fuses[name], name).toBe(false)
    for (const name of on) expect(fuses[name], name).toBe(true)
  })

  it('has no update feed unless one is given at build time', () => {
    expect(updateFeed({})).toBeNull()
    expect(config.publish).toBeNull()
    expect(updateFeed({ AETHER_UPDATE_URL: 'https://updates.example.com/aether/' })).toEqual([{ provider: 'generic', url: 'https://updates.example.com/aether/' }])
    expect(updateFeed({ AETHER_UPDATE_GITHUB: 'aether/remote' })).toEqual([{ provider: 'github', owner: 'aether', repo: 'remote', releaseType: 'draft' }])
    expect(() => updateFeed({ AETHER_UPDATE_URL: 'http://updates.example.com/' })).toThrow(/https/)
    expect(() => updateFeed({ AETHER_UPDATE_GITHUB: 'just-a-name' })).toThrow(/owner\/repo/)
  })
})

describe('icons', () => {
  it('come from one vector source', () => {
    expect(readFileSync(join(root, 'build/icon.svg'), 'utf8')).toMatch(/<svg[^>]+viewBox="0 0 1024 1024"/)
  })

  it('has the Linux PNG set with each file the size its name says', () => {
    expect(config.linux?.icon).toBe('build/icons')
    for (const size of [16, 24, 32, 48, 64, 128, 256, 512, 1024]) {
      expect(pngSize(readFileSync(join(root, `build/icons/${size}x${size}.png`)))).toEqual({ width: size, height: size })
    }
    expect(pngSize(readFileSync(join(root, 'build/icon.png')))).toEqual({ width: 1024, height: 1024 })
  })

  it('has a macOS icns with every size from 16 to 1024 (1x and 2x)', () => {
    expect(config.mac?.icon).toBe('build/icon.icns')
    const entries = icnsEntries(readFileSync(join(root, 'build/icon.icns')))
    expect(Object.fromEntries(entries.map((e) => [e.type, e.size]))).toEqual({
      icp4: 16, icp5: 32, icp6: 64, ic07: 128, ic08: 256, ic09: 512, ic10: 1024, ic11: 32, ic12: 64, ic13: 256, ic14: 512
    })
  })

  it('has a Windows ico up to 256 px, bitmaps for the small sizes', () => {
    expect(config.win?.icon).toBe('build/icon.ico')
    expect(icoEntries(readFileSync(join(root, 'build/icon.ico')))).toEqual([
      { size: 16, format: 'bmp' },
      { size: 24, format: 'bmp' },
      { size: 32, format: 'bmp' },
      { size: 48, format: 'bmp' },
      { size: 64, format: 'png' },
      { size: 128, format: 'png' },
      { size: 256, format: 'png' }
    ])
  })
})

describe('release workflow', () => {
  const workflow = loadYaml(readFileSync(join(root, '.github/workflows/release.yml'), 'utf8')) as {
    on: { push: { tags: string[] } }
    jobs: Record<string, { 'runs-on': string; strategy: { matrix: { include: { os: string; args: string }[] } }; steps: { run?: string }[] }>
  }

  it('runs on version tags, on macOS, Windows and Linux, for every architecture', () => {
    expect(workflow.on.push.tags).toEqual(['v*.*.*'])
    const [job] = Object.values(workflow.jobs)
    const matrix = job!.strategy.matrix.include
    expect(matrix.map((m) => m.os)).toEqual(['macos-latest', 'windows-latest', 'ubuntu-latest', 'ubuntu-24.04-arm'])
    expect(matrix.map((m) => m.args)).toEqual(['--mac --x64 --arm64', '--win --x64 --arm64', '--linux --x64', '--linux --arm64'])
  })

  it('builds the app first and uploads the installers', () => {
    const [job] = Object.values(workflow.jobs)
    const script = job!.steps.map((s) => s.run ?? '').join('\n')
    expect(script).toMatch(/npm ci/)
    expect(script).toMatch(/npm run build\n\s*npx electron-builder \$\{\{ matrix\.args \}\} --publish always/)
    expect(existsSync(join(root, 'docs/installing.md'))).toBe(true)
  })
})
