/**
 * The certificates a `wss://` connection trusts: Node's bundled roots, the operating system's
 * store, and an optional CA file from the profile.
 *
 * The OS store matters for gateways reached through a TLS-inspecting proxy (Cloudflare WARP
 * with TLS decryption, corporate proxies): their root is installed in the OS store, never in
 * Node's bundle. Node 22.15+ (and so current Electron) reads the store itself through
 * `tls.getCACertificates('system')`; on older runtimes (the Node 20 that runs the CLI here) the
 * `system-ca` package reads it (PEM bundles on Linux honouring SSL_CERT_FILE/SSL_CERT_DIR, the
 * keychain on macOS, the certificate store on Windows).
 */
import { readFile } from 'node:fs/promises'
import tls from 'node:tls'
import { systemCertsAsync } from 'system-ca'
import { appError, fail, ok, type Result } from '../../shared/errors'

type GetCaCertificates = (type?: 'default' | 'system' | 'bundled' | 'extra') => string[]

let systemCache: Promise<string[]> | undefined

/** The OS store, read once per process; an unreadable store yields none rather than failing. */
export function systemCertificates(): Promise<string[]> {
  systemCache ??= (async () => {
    const native = (tls as unknown as { getCACertificates?: GetCaCertificates }).getCACertificates
    if (typeof native === 'function') {
      try {
        return native('system')
      } catch {
        // fall back to the package below
      }
    }
    try {
      return await systemCertsAsync({ includeNodeCertificates: false })
    } catch {
      return []
    }
  })()
  return systemCache
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Read a profile's CA file: it must hold at least one PEM certificate. */
export async function readCaFile(path: string): Promise<Result<string[]>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return fail(
      appError(
        'INVALID_INPUT',
        'The CA file cannot be read',
        code === 'ENOENT' ? `There is no file at ${path}.` : `The file ${path} cannot be read (${code ?? 'error'}).`,
        { details: { systemCode: code }, nextSteps: [{ action: 'add-ca-file', label: 'Choose the PEM file of the CA certificate.' }] }
      )
    )
  }
  const certs = text.match(PEM_CERT) ?? []
  if (certs.length === 0) {
    return fail(
      appError(
        'INVALID_INPUT',
        'The CA file holds no certificate',
        `${path} contains no PEM certificate (-----BEGIN CERTIFICATE----- ...). Export the CA certificate in PEM format.`,
        { nextSteps: [{ action: 'add-ca-file', label: 'Choose the PEM file of the CA certificate.' }] }
      )
    )
  }
  return ok(certs)
}

/**
 * Everything to pass as `ca` for one connection. Passing `ca` replaces Node's defaults, so the
 * bundled roots, and the certificates named by NODE_EXTRA_CA_CERTS (which Node would otherwise
 * have added to its defaults), are included explicitly.
 */
export async function trustedCertificates(caFile?: string, env: NodeJS.ProcessEnv = process.env): Promise<Result<string[]>> {
  const extra: string[] = []
  if (env.NODE_EXTRA_CA_CERTS) {
    const fromEnv = await readCaFile(env.NODE_EXTRA_CA_CERTS)
    if (fromEnv.ok) extra.push(...fromEnv.value)
  }
  if (caFile) {
    const read = await readCaFile(caFile)
    if (!read.ok) return read
    extra.push(...read.value)
  }
  const system = await systemCertificates()
  return ok([...tls.rootCertificates, ...system, ...extra])
}
