#!/usr/bin/env node
/**
 * Render every installer icon from the one vector source, build/icon.svg:
 *
 *   build/icons/<N>x<N>.png   the Linux icon set (AppImage, deb) for N in PNG_SIZES
 *   build/icon.png            1024×1024, the fallback electron-builder looks for
 *   build/icon.icns           macOS (PNG-encoded entries, 16 to 1024 px, @1x and @2x)
 *   build/icon.ico            Windows (BMP entries up to 48 px for old shells, PNG above)
 *
 * The results are committed, so packaging never needs this script or its rasteriser; run it
 * (`npm run icons`) after changing the SVG. The ICNS and ICO containers are written here
 * directly: both are a small header plus the images, and writing them avoids electron-builder
 * fetching its own icon tool at packaging time.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Resvg } from '@resvg/resvg-js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const buildDir = join(root, 'build')

/** Sizes of the Linux icon set (freedesktop hicolor sizes). */
export const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024]

/** ICNS element types holding PNG data, with their pixel size. */
export const ICNS_TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512]
]

/** ICO entry sizes; those up to ICO_BMP_MAX are stored as bitmaps, larger ones as PNG. */
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]
const ICO_BMP_MAX = 48

function render(svg, size) {
  const image = new Resvg(svg, { fitTo: { mode: 'width', value: size }, background: 'rgba(0,0,0,0)' }).render()
  if (image.width !== size || image.height !== size) {
    throw new Error(`rendered ${image.width}x${image.height}, expected ${size}x${size}`)
  }
  return { png: Buffer.from(image.asPng()), rgba: Buffer.from(image.pixels) }
}

/** An ICNS file: 'icns', total length, then (type, length including its 8-byte header, data). */
function icns(entries) {
  const parts = entries.map(([type, png]) => {
    const head = Buffer.alloc(8)
    head.write(type, 0, 'latin1')
    head.writeUInt32BE(png.length + 8, 4)
    return Buffer.concat([head, png])
  })
  const head = Buffer.alloc(8)
  head.write('icns', 0, 'latin1')
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4)
  return Buffer.concat([head, ...parts])
}

/** A 32-bit DIB as ICO stores it: BITMAPINFOHEADER (double height), BGRA rows bottom-up, AND mask. */
function icoBitmap(rgba, size) {
  const header = Buffer.alloc(40)
  header.writeUInt32LE(40, 0)
  header.writeInt32LE(size, 4)
  header.writeInt32LE(size * 2, 8)
  header.writeUInt16LE(1, 12)
  header.writeUInt16LE(32, 14)
  const pixels = Buffer.alloc(size * size * 4)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = (y * size + x) * 4
      const to = ((size - 1 - y) * size + x) * 4
      pixels[to] = rgba[from + 2]
      pixels[to + 1] = rgba[from + 1]
      pixels[to + 2] = rgba[from]
      pixels[to + 3] = rgba[from + 3]
    }
  }
  // The alpha channel decides transparency; the AND mask is all zeros, rows padded to 32 bits.
  const mask = Buffer.alloc(Math.ceil(size / 32) * 4 * size)
  header.writeUInt32LE(pixels.length + mask.length, 20)
  return Buffer.concat([header, pixels, mask])
}

/** An ICO file: ICONDIR, one 16-byte ICONDIRENTRY per image, then the images. */
function ico(images) {
  const dir = Buffer.alloc(6 + images.length * 16)
  dir.writeUInt16LE(0, 0)
  dir.writeUInt16LE(1, 2)
  dir.writeUInt16LE(images.length, 4)
  let offset = dir.length
  images.forEach(({ size, data }, i) => {
    const at = 6 + i * 16
    dir.writeUInt8(size >= 256 ? 0 : size, at)
    dir.writeUInt8(size >= 256 ? 0 : size, at + 1)
    dir.writeUInt16LE(1, at + 4)
    dir.writeUInt16LE(32, at + 6)
    dir.writeUInt32LE(data.length, at + 8)
    dir.writeUInt32LE(offset, at + 12)
    offset += data.length
  })
  return Buffer.concat([dir, ...images.map((i) => i.data)])
}

async function main() {
  const svg = await readFile(join(buildDir, 'icon.svg'))
  const sizes = [...new Set([...PNG_SIZES, ...ICNS_TYPES.map(([, s]) => s), ...ICO_SIZES])].sort((a, b) => a - b)
  const rendered = new Map(sizes.map((s) => [s, render(svg, s)]))
  const get = (s) => rendered.get(s)

  await mkdir(join(buildDir, 'icons'), { recursive: true })
  for (const s of PNG_SIZES) await writeFile(join(buildDir, 'icons', `${s}x${s}.png`), get(s).png)
  await writeFile(join(buildDir, 'icon.png'), get(1024).png)
  await writeFile(join(buildDir, 'icon.icns'), icns(ICNS_TYPES.map(([type, s]) => [type, get(s).png])))
  await writeFile(
    join(buildDir, 'icon.ico'),
    ico(ICO_SIZES.map((s) => ({ size: s, data: s <= ICO_BMP_MAX ? icoBitmap(get(s).rgba, s) : get(s).png })))
  )
  console.log(`icons written to ${buildDir}: ${PNG_SIZES.length} PNGs, icon.png, icon.icns, icon.ico`)
}

await main()
