import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import { describe, expect, it } from 'vitest'
import { readCaFile, systemCertificates, trustedCertificates } from '../../../src/main/transport/trust-store'

const dir = mkdtempSync(join(tmpdir(), 'trust-'))
const SAMPLE = tls.rootCertificates[0]!

describe('trust store', () => {
  it('reads the operating system store', async () => {
    // Debian ships /etc/ssl/certs/ca-certificates.crt; a machine without any store yields [] rather than failing.
    const system = await systemCertificates()
    expect(Array.isArray(system)).toBe(true)
    for (const pem of system.slice(0, 3)) expect(pem).toMatch(/BEGIN CERTIFICATE/)
  })
  it('adds a profile CA file on top of the bundled roots', async () => {
    const file = join(dir, 'ca.pem')
    writeFileSync(file, `junk before\n${SAMPLE}\n`)
    const r = await trustedCertificates(file)
    expect(r.ok).toBe(true)
    if (r.ok) {
      expect(r.value.length).toBeGreaterThan(tls.rootCertificates.length)
      expect(r.value.at(-1)).toBe(SAMPLE.trim())
    }
  })
  it('explains a missing or certificate-less CA file', async () => {
    const missing = await readCaFile(join(dir, 'nope.pem'))
    expect(!missing.ok && missing.error.message).toMatch(/There is no file at/)
    const empty = join(dir, 'empty.pem')
    writeFileSync(empty, 'not a cert')
    const none = await readCaFile(empty)
    expect(!none.ok && none.error.title).toBe('The CA file holds no certificate')
  })
})

describe('NODE_EXTRA_CA_CERTS', () => {
  it('is honoured although an explicit CA list replaces Node defaults', async () => {
    const file = join(dir, 'extra.pem')
    writeFileSync(file, SAMPLE)
    const r = await trustedCertificates(undefined, { NODE_EXTRA_CA_CERTS: file })
    expect(r.ok && r.value.at(-1)).toBe(SAMPLE.trim())
  })
})
