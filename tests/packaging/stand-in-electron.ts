/**
 * A stand-in for an unpacked Electron distribution (what electron-builder's `electronDist`
 * takes): the files electron-builder moves or renames, and an `electron` "binary" that holds
 * Electron's fuse wire, so electron-builder really flips the fuses on it.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** @electron/fuses finds the wire right after this marker (constants.ts in @electron/fuses). */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'

/**
 * Electron's own defaults for the eight V1 fuses ('1' on, '0' off): RunAsNode on, cookie
 * encryption off, NODE_OPTIONS on, --inspect on, asar integrity off, only-asar off, browser V8
 * snapshot off, file:// privileges on. The packaged app must end up with the opposite of the
 * risky ones.
 */
export const ELECTRON_DEFAULT_WIRE = '10110001'

export function makeStandInElectron(dir: string): string {
  mkdirSync(join(dir, 'resources'), { recursive: true })
  mkdirSync(join(dir, 'locales'), { recursive: true })
  const binary = Buffer.concat([
    Buffer.from('#!/bin/sh\n# stand-in for the Electron binary (packaging test)\nexit 0\n'),
    Buffer.from(FUSE_SENTINEL, 'latin1'),
    Buffer.from([1, ELECTRON_DEFAULT_WIRE.length]),
    Buffer.from(ELECTRON_DEFAULT_WIRE, 'latin1'),
    Buffer.from('\n')
  ])
  writeFileSync(join(dir, 'electron'), binary)
  chmodSync(join(dir, 'electron'), 0o755)
  writeFileSync(join(dir, 'chrome-sandbox'), '')
  writeFileSync(join(dir, 'LICENSE'), 'Copyright (c) Electron contributors\n')
  writeFileSync(join(dir, 'LICENSES.chromium.html'), '<!doctype html><title>Chromium licenses</title>\n')
  writeFileSync(join(dir, 'version'), '45.5.0')
  writeFileSync(join(dir, 'icudtl.dat'), '')
  writeFileSync(join(dir, 'resources.pak'), '')
  writeFileSync(join(dir, 'locales', 'en-US.pak'), '')
  return dir
}
