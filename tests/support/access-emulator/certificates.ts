// tsyringe (used by @peculiar/x509) needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata'
import { generateKeyPair, KeyObject, randomBytes, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'
import type { TlsMode } from './types'

export interface RsaKeyPair {
  privateKey: KeyObject
  publicKey: KeyObject
}

export interface CertificateAndKey {
  certPem: string
  keyPem: string
}

const DAY_MS = 86_400_000
// ECDSA P-256 as on Cloudflare's edge certificates; key generation is ~1 ms, unlike RSA.
const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const
const EC_SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const
const RSA_SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const

const subtle = webcrypto.subtle
// @peculiar/x509's typings name the DOM WebCrypto types; Node's implementation is the same API.
type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair
const crypto = webcrypto

/** RSA keys for RS256 token signing. Async generation runs on the libuv pool. */
export function generateRsaKeyPair(): Promise<RsaKeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, (error, publicKey, privateKey) => {
      if (error) reject(error)
      else resolve({ publicKey, privateKey })
    })
  })
}

function generateEcKeys(): Promise<CryptoKeyPair> {
  return subtle.generateKey(EC_KEY, true, ['sign', 'verify']) as Promise<CryptoKeyPair>
}

// Leading 0x01 keeps the DER INTEGER positive.
function randomSerial(): string {
  return '01' + randomBytes(15).toString('hex')
}

function distinguishedName(commonName: string): string {
  return `CN=${commonName}, O=Aether Remote Access Emulator`
}

async function leafExtensions(publicKey: CryptoKey, altNames: string[], issuer: x509.X509Certificate | null): Promise<x509.Extension[]> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(altNames.map((value) => ({ type: 'dns' as const, value }))),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto)
  ]
  if (issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer, false, crypto))
  return extensions
}

/**
 * The test PKI: one CA, one key shared by every leaf, leafs made on demand per (host, mode) and cached.
 * Validity uses the real clock: TLS clients check real time, not the emulator clock.
 */
export class TestPki {
  private readonly leafCache = new Map<string, Promise<CertificateAndKey>>()

  private constructor(
    private readonly caCert: x509.X509Certificate,
    private readonly caKeys: CryptoKeyPair,
    private readonly leafKeys: CryptoKeyPair,
    private readonly leafKeyPem: string
  ) {}

  static async create(): Promise<TestPki> {
    const [caKeys, leafKeys] = await Promise.all([generateEcKeys(), generateEcKeys()])
    const at = Date.now()
    const caCert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerial(),
        name: distinguishedName('Aether Remote Test CA'),
        notBefore: new Date(at - DAY_MS),
        notAfter: new Date(at + 365 * DAY_MS),
        keys: caKeys,
        signingAlgorithm: EC_SIGNING,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto)
        ]
      },
      crypto
    )
    const leafKeyPem = KeyObject.from(leafKeys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString()
    return new TestPki(caCert, caKeys, leafKeys, leafKeyPem)
  }

  get caCertPem(): string {
    return this.caCert.toString('pem')
  }

  /** TLS material for `host` as the mode dictates; the certificate for a (mode, host) pair is made once. */
  leafFor(host: string, mode: TlsMode): Promise<CertificateAndKey> {
    const cacheKey = `${mode}:${host}`
    let pending = this.leafCache.get(cacheKey)
    if (!pending) {
      pending = this.createLeaf(host, mode)
      this.leafCache.set(cacheKey, pending)
    }
    return pending
  }

  private async createLeaf(host: string, mode: TlsMode): Promise<CertificateAndKey> {
    const at = Date.now()
    const name = mode === 'wrong-host' ? 'other-host.invalid' : host
    const notBefore = new Date(at - (mode === 'expired' ? 30 : 1) * DAY_MS)
    const notAfter = new Date(mode === 'expired' ? at - DAY_MS : at + 90 * DAY_MS)
    let cert: x509.X509Certificate
    if (mode === 'self-signed') {
      cert = await x509.X509CertificateGenerator.createSelfSigned(
        { serialNumber: randomSerial(), name: distinguishedName(name), notBefore, notAfter, keys: this.leafKeys, signingAlgorithm: EC_SIGNING, extensions: await leafExtensions(this.leafKeys.publicKey, [name], null) },
        crypto
      )
    } else {
      cert = await x509.X509CertificateGenerator.create(
        {
          serialNumber: randomSerial(),
          subject: distinguishedName(name),
          issuer: this.caCert.subject,
          notBefore,
          notAfter,
          publicKey: this.leafKeys.publicKey,
          signingKey: this.caKeys.privateKey,
          signingAlgorithm: EC_SIGNING,
          extensions: await leafExtensions(this.leafKeys.publicKey, [name], this.caCert)
        },
        crypto
      )
    }
    return { certPem: cert.toString('pem'), keyPem: this.leafKeyPem }
  }
}

/** Self-signed certificate wrapping an Access signing key, for `public_cert`/`public_certs` in the JWKS answer. */
export async function signingKeyCertificatePem(keys: RsaKeyPair, commonName: string): Promise<string> {
  const importKey = (format: 'pkcs8' | 'spki', key: KeyObject, usage: webcrypto.KeyUsage) =>
    subtle.importKey(format, key.export({ type: format, format: 'der' }), RSA_SIGNING, true, [usage])
  const [privateKey, publicKey] = await Promise.all([importKey('pkcs8', keys.privateKey, 'sign'), importKey('spki', keys.publicKey, 'verify')])
  const at = Date.now()
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: distinguishedName(commonName),
      notBefore: new Date(at - DAY_MS),
      notAfter: new Date(at + 365 * DAY_MS),
      keys: { privateKey, publicKey },
      signingAlgorithm: RSA_SIGNING
    },
    crypto
  )
  return cert.toString('pem')
}
