import { createHash, generateKeyPairSync, sign as rsaSign, verify as rsaVerify, type JsonWebKey } from 'node:crypto'
import { generateRsaKeyPair, signingKeyCertificatePem, type RsaKeyPair } from './certificates'

const PREVIOUS_KEY_GRACE_MS = 7 * 86_400_000

export interface SigningKey extends RsaKeyPair {
  /** 64 hex, like Access key ids. */
  kid: string
}

export type JwtPayload = Record<string, unknown>

export interface DecodedJwt {
  header: Record<string, unknown>
  payload: JwtPayload
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url')
}

function keyId(keys: RsaKeyPair): string {
  return createHash('sha256').update(keys.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')
}

async function newSigningKey(): Promise<SigningKey> {
  const keys = await generateRsaKeyPair()
  return { ...keys, kid: keyId(keys) }
}

export function signJwt(key: SigningKey, payload: JwtPayload): string {
  const header = { alg: 'RS256', kid: key.kid, typ: 'JWT' }
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  const signature = rsaSign('sha256', Buffer.from(signingInput), key.privateKey)
  return `${signingInput}.${base64url(signature)}`
}

/** Decodes without verifying; null when the text is not a JWS compact serialisation with JSON parts. */
export function decodeJwt(token: string): DecodedJwt | null {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8'))
    const payload: unknown = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'))
    if (!isObject(header) || !isObject(payload)) return null
    return { header, payload }
  } catch {
    return null
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export type JwtVerifyFailure = 'malformed' | 'bad-algorithm' | 'unknown-kid' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'bad-issuer' | 'bad-audience' | 'bad-type'

export interface JwtVerifyExpectations {
  /** Null for tokens that carry no `iss` (`meta`, `match`). */
  issuer: string | null
  audience: string
  type: 'app' | 'org' | 'meta'
  nowMs: number
}

/**
 * The account's signing keys: current + previous (kept 7 days after a rotation, as Access does),
 * plus a key that never appears in the JWKS, for "signed by someone else" tokens.
 */
export class AccessSigningKeys {
  private rotatedAtMs: number | null = null
  private readonly certificateCache = new Map<string, Promise<string>>()
  private unknownKey: SigningKey | null = null

  private constructor(
    public current: SigningKey,
    public previous: SigningKey
  ) {}

  static async create(): Promise<AccessSigningKeys> {
    const [current, previous] = await Promise.all([newSigningKey(), newSigningKey()])
    return new AccessSigningKeys(current, previous)
  }

  /** A key absent from the JWKS; made on first use because RSA generation is the slowest part of start-up. */
  get unknown(): SigningKey {
    if (!this.unknownKey) {
      const keys = generateKeyPairSync('rsa', { modulusLength: 2048 })
      this.unknownKey = { ...keys, kid: keyId(keys) }
    }
    return this.unknownKey
  }

  async rotate(nowMs: number): Promise<void> {
    const next = await newSigningKey()
    this.previous = this.current
    this.current = next
    this.rotatedAtMs = nowMs
  }

  private acceptedKeys(nowMs: number): SigningKey[] {
    const previousStillValid = this.rotatedAtMs === null || nowMs < this.rotatedAtMs + PREVIOUS_KEY_GRACE_MS
    return previousStillValid ? [this.current, this.previous] : [this.current]
  }

  /** Full check as the edge does it: RS256, known kid, signature, iss, aud (string or array), exp/nbf, type. */
  verify(token: string, expect: JwtVerifyExpectations): { ok: true; payload: JwtPayload } | { ok: false; failure: JwtVerifyFailure } {
    const decoded = decodeJwt(token)
    if (!decoded) return { ok: false, failure: 'malformed' }
    if (decoded.header.alg !== 'RS256') return { ok: false, failure: 'bad-algorithm' }
    const key = this.acceptedKeys(expect.nowMs).find((candidate) => candidate.kid === decoded.header.kid)
    if (!key) return { ok: false, failure: 'unknown-kid' }
    const [headerPart, payloadPart, signaturePart] = token.split('.')
    const signatureValid = rsaVerify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), key.publicKey, Buffer.from(signaturePart ?? '', 'base64url'))
    if (!signatureValid) return { ok: false, failure: 'bad-signature' }
    const { payload } = decoded
    const nowSec = Math.floor(expect.nowMs / 1000)
    if (typeof payload.exp !== 'number' || nowSec >= payload.exp) return { ok: false, failure: 'expired' }
    if (typeof payload.nbf === 'number' && nowSec < payload.nbf) return { ok: false, failure: 'not-yet-valid' }
    if (expect.issuer !== null && payload.iss !== expect.issuer) return { ok: false, failure: 'bad-issuer' }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
    if (!audiences.includes(expect.audience)) return { ok: false, failure: 'bad-audience' }
    if (payload.type !== expect.type) return { ok: false, failure: 'bad-type' }
    return { ok: true, payload }
  }

  /** Body of `/cdn-cgi/access/certs`. */
  async jwks(): Promise<{ keys: JsonWebKey[]; public_cert: { kid: string; cert: string }; public_certs: { kid: string; cert: string }[] }> {
    const keys = [this.current, this.previous]
    const publicCerts = await Promise.all(keys.map(async (key) => ({ kid: key.kid, cert: await this.certificateFor(key) })))
    return {
      keys: keys.map((key) => ({ ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: 'RS256', use: 'sig' })),
      public_cert: publicCerts[0] ?? { kid: this.current.kid, cert: await this.certificateFor(this.current) },
      public_certs: publicCerts
    }
  }

  private certificateFor(key: SigningKey): Promise<string> {
    let pem = this.certificateCache.get(key.kid)
    if (!pem) {
      pem = signingKeyCertificatePem(key, `Access signing key ${key.kid.slice(0, 16)}`)
      this.certificateCache.set(key.kid, pem)
    }
    return pem
  }
}
