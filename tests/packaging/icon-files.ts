/** Readers for the icon containers, to check what scripts/make-icons.mjs wrote. */

export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG')
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) }
}

/** ICNS entries: element type and the pixel size of its PNG. */
export function icnsEntries(icns: Buffer): { type: string; size: number }[] {
  if (icns.toString('latin1', 0, 4) !== 'icns' || icns.readUInt32BE(4) !== icns.length) throw new Error('not an ICNS file')
  const entries: { type: string; size: number }[] = []
  for (let at = 8; at < icns.length; ) {
    const type = icns.toString('latin1', at, at + 4)
    const length = icns.readUInt32BE(at + 4)
    entries.push({ type, size: pngSize(icns.subarray(at + 8, at + length)).width })
    at += length
  }
  return entries
}

/** ICO entries: size, and whether the image is PNG or a bitmap of the right dimensions. */
export function icoEntries(ico: Buffer): { size: number; format: 'png' | 'bmp' }[] {
  if (ico.readUInt16LE(0) !== 0 || ico.readUInt16LE(2) !== 1) throw new Error('not an ICO file')
  const count = ico.readUInt16LE(4)
  return Array.from({ length: count }, (_, i) => {
    const at = 6 + i * 16
    const size = ico[at] || 256
    const bytes = ico.readUInt32LE(at + 8)
    const data = ico.subarray(ico.readUInt32LE(at + 12), ico.readUInt32LE(at + 12) + bytes)
    if (data.readUInt32BE(0) === 0x89504e47) {
      if (pngSize(data).width !== size) throw new Error(`ICO entry ${i}: PNG is not ${size}px`)
      return { size, format: 'png' as const }
    }
    if (data.readUInt32LE(0) !== 40 || data.readInt32LE(4) !== size || data.readInt32LE(8) !== size * 2) {
      throw new Error(`ICO entry ${i}: bad bitmap header`)
    }
    return { size, format: 'bmp' as const }
  })
}
