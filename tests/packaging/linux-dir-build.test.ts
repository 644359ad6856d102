/**
 * The real electron-builder, run against this repository: a Linux directory build (`--dir`)
 * with a stand-in Electron folder, since no Electron binary can be downloaded here. It checks
 * what ends up in the package — the built app and nothing of the sources or tests, keytar's
 * native module unpacked, the fuses flipped — and the desktop entry the deb and AppImage
 * targets would install.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import * as asar from '@electron/asar'
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses'
import type { LinuxPackager } from 'app-builder-lib'
import { LinuxTargetHelper } from 'app-builder-lib/out/targets/LinuxTargetHelper'
import { Arch, build, Platform } from 'electron-builder'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ELECTRON_DEFAULT_WIRE, makeStandInElectron } from './stand-in-electron'

const root = resolve(__dirname, '../..')
const BUILT = ['out/main/index.js', 'out/preload/index.js', 'out/renderer/index.html']

let work: string
let appDir: string
let asarPath: string
let entries: string[]
let desktopEntry: string
let iconSizes: number[]

function ensureBuilt(): void {
  if (BUILT.every((f) => existsSync(join(root, f)))) return
  execFileSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' })
}

beforeAll(async () => {
  ensureBuilt()
  work = mkdtempSync(join(tmpdir(), 'aether-packaging-'))
  const electronDist = makeStandInElectron(join(work, 'electron'))
  // Only what cannot work here is overridden; the rest is electron-builder.ts as loaded from disk.
  await build({
    projectDir: root,
    targets: Platform.LINUX.createTarget('dir', Arch.x64),
    publish: 'never',
    config: {
      electronDist,
      // The rebuild needs the Electron headers (a download); keytar's N-API binary from
      // `npm install` serves Node and Electron alike, so the package still carries a working one.
      npmRebuild: false,
      directories: { output: join(work, 'dist') },
      afterPack: async (context) => {
        const helper = new LinuxTargetHelper(context.packager as LinuxPackager)
        desktopEntry = await helper.computeDesktopEntry(context.packager.platformSpecificBuildOptions)
        iconSizes = (await helper.icons).map((i) => i.size)
      }
    }
  })
  appDir = join(work, 'dist', 'linux-unpacked')
  asarPath = join(appDir, 'resources', 'app.asar')
  entries = asar.listPackage(asarPath, { isPack: false }).map((e) => e.split('\\').join('/'))
}, 180_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('the Linux directory build', () => {
  it('names the executable aether-remote and keeps Electron\u2019s licence', () => {
    expect(statSync(join(appDir, 'aether-remote')).mode & 0o111).not.toBe(0)
    expect(existsSync(join(appDir, 'electron'))).toBe(false)
    expect(existsSync(join(appDir, 'LICENSE.electron.txt'))).toBe(true)
  })

  it('puts the built main, preload and renderer and package.json in app.asar', () => {
    for (const f of ['/out/main/index.js', '/out/preload/index.js', '/out/renderer/index.html', '/package.json']) {
      expect(entries).toContain(f)
    }
    expect(entries.some((e) => /^\/out\/renderer\/assets\/.+\.js$/.test(e))).toBe(true)
    const main = asar.extractFile(asarPath, 'out/main/index.js').toString()
    expect(main).toBe(readFileSync(join(root, 'out/main/index.js'), 'utf8'))
  })

  it('leaves out sources, tests, source maps, build scripts and dev dependencies', () => {
    const forbidden = entries.filter(
      (e) =>
        /^\/(src|tests|scripts|build|docs|test-output|\.github)(\/|$)/.test(e) ||
        /\.(map|ts|tsx|mts)$/.test(e) ||
        /^\/(electron-builder\.ts|vitest\.config\.mts|tsconfig[^/]*\.json|eslint\.config\.mjs|electron\.vite\.config\.ts|package-lock\.json)$/.test(e) ||
        /\/node_modules\/(electron|electron-builder|app-builder-lib|vitest|vite|typescript|eslint|react|@resvg)\//.test(`${e}/`) ||
        /\/(test|tests|__tests__)\//.test(e) ||
        /\/node_modules\/keytar\/src\//.test(e)
    )
    expect(forbidden).toEqual([])
    // The production dependencies the main process requires at run time are there.
    for (const dep of ['ws', 'zod', 'jose', 'tweetnacl', 'system-ca', 'keytar', 'electron-updater']) {
      expect(entries).toContain(`/node_modules/${dep}/package.json`)
    }
  })

  it('ships a package.json without scripts or dev dependencies, naming its desktop file', () => {
    const pkg = JSON.parse(asar.extractFile(asarPath, 'package.json').toString()) as Record<string, unknown>
    expect(pkg.main).toBe('out/main/index.js')
    expect(pkg.productName).toBe('Aether Remote')
    expect(pkg.desktopName).toBe('aether-remote.desktop')
    expect(pkg.devDependencies).toBeUndefined()
    expect(pkg.scripts).toBeUndefined()
  })

  it('unpacks keytar\u2019s native module next to the archive', () => {
    const unpacked = join(appDir, 'resources', 'app.asar.unpacked', 'node_modules', 'keytar', 'build', 'Release', 'keytar.node')
    expect(existsSync(unpacked)).toBe(true)
    const binary = readFileSync(unpacked)
    expect(binary.subarray(0, 4).toString('latin1')).toBe('\x7fELF')
    expect(binary.equals(readFileSync(join(root, 'node_modules/keytar/build/Release/keytar.node')))).toBe(true)
    const stat = asar.statFile(asarPath, 'node_modules/keytar/build/Release/keytar.node') as { unpacked?: boolean }
    expect(stat.unpacked).toBe(true)
    // Every native module is outside the archive, where the loader can open it.
    const packedNative = entries.filter((e) => e.endsWith('.node')).filter((e) => !(asar.statFile(asarPath, e.slice(1)) as { unpacked?: boolean }).unpacked)
    expect(packedNative).toEqual([])
  })

  it('flips the fuses of the security checklist on the binary', async () => {
    const wire = await getCurrentFuseWire(join(appDir, 'aether-remote'))
    const on = 49
    const off = 48
    expect(ELECTRON_DEFAULT_WIRE).toBe('10110001')
    expect(wire[FuseV1Options.RunAsNode]).toBe(off)
    expect(wire[FuseV1Options.EnableCookieEncryption]).toBe(on)
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(off)
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(off)
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(on)
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(on)
    expect(wire[FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]).toBe(off)
    expect(wire[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(off)
  })

  it('writes the desktop entry the deb and AppImage install: category, scheme handler, icon', () => {
    const lines = desktopEntry.trim().split('\n')
    expect(lines[0]).toBe('[Desktop Entry]')
    const entry = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    expect(entry).toMatchObject({
      Name: 'Aether Remote',
      Type: 'Application',
      Icon: 'aether-remote',
      Categories: 'Development;Network;',
      MimeType: 'x-scheme-handler/aether-remote;',
      StartupWMClass: 'aether-remote',
      Terminal: 'false'
    })
    expect(entry.Exec).toBe('"/opt/Aether Remote/aether-remote" %U')
    expect(entry.Comment).toBeTruthy()
    expect(iconSizes).toEqual([16, 24, 32, 48, 64, 128, 256, 512, 1024])
  })
})
