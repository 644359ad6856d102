// `npm start`'s first step against stand-in electron package folders: the binary there, a
// download that works, one that fails with a stack, and installs that must not download.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const SCRIPT = resolve(__dirname, '../../../scripts/ensure-electron.mjs')

function packageDir(installJs: string, withBinary = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'aether-electron-pkg-'))
  writeFileSync(join(dir, 'install.js'), installJs)
  if (withBinary) {
    mkdirSync(join(dir, 'dist'))
    writeFileSync(join(dir, 'dist', 'electron'), '')
    writeFileSync(join(dir, 'path.txt'), 'electron')
  }
  return dir
}

function run(dir: string, env: Record<string, string> = {}) {
  const { ELECTRON_SKIP_BINARY_DOWNLOAD: _skip, ELECTRON_OVERRIDE_DIST_PATH: _override, ...rest } = process.env
  const r = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8', env: { ...rest, AETHER_ELECTRON_PACKAGE_DIR: dir, ...env } })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

const FETCHES = `const fs = require('fs'); const p = require('path');
fs.mkdirSync(p.join(__dirname, 'dist'), { recursive: true });
fs.writeFileSync(p.join(__dirname, 'dist', 'electron'), '');
fs.writeFileSync(p.join(__dirname, 'path.txt'), 'electron');`
const FAILS = `console.error('TypeError: fetch failed\\n    at node:internal/deps/undici/undici:14976:13\\n    at async FetchDownloader.download (file:///x/FetchDownloader.js:46:30)'); process.exit(1)`

describe('ensure-electron (npm start, first step)', () => {
  it('does nothing when the binary is there', () => {
    const r = run(packageDir(FAILS, true))
    expect(r).toEqual({ code: 0, out: '' })
  })

  it('fetches a missing binary once and goes on', () => {
    const dir = packageDir(FETCHES)
    const first = run(dir)
    expect(first.code).toBe(0)
    expect(first.out).toMatch(/Fetching the Electron binary/)
    expect(run(dir)).toEqual({ code: 0, out: '' })
  })

  it('a failed download: the reason in one line and what to do, no stack', () => {
    const r = run(packageDir(FAILS))
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/Could not fetch the Electron binary: TypeError: fetch failed/)
    expect(r.out).toMatch(/ELECTRON_GET_USE_PROXY=1 with HTTPS_PROXY/)
    expect(r.out).not.toMatch(/^\s+at /m)
  })

  it('an install told not to download says so instead of failing later', () => {
    const r = run(packageDir(FETCHES), { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/ELECTRON_SKIP_BINARY_DOWNLOAD is set/)
  })
})
