/**
 * The device identity: one Ed25519 key pair per installation, kept in the keychain.
 *
 * The gateway pairs devices by key, so the key must survive restarts; losing it means pairing
 * again. The id is the lowercase hex SHA-256 of the raw 32-byte public key, and the public key
 * travels as unpadded base64url of those raw bytes (what both gateway generations expect).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import type { SecretStore } from '../secrets/secret-store'
import { secretKeys } from '../secrets/secret-store'
import { CLIENT_ID, CLIENT_MODE, CLIENT_ROLE, OPERATOR_SCOPES, type ProtocolVersion, type SignedDevice } from './protocol'

export interface DeviceIdentity {
  deviceId: string
  /** base64url (no padding) of the raw 32-byte public key. */
  publicKey: string
  privateKey: KeyObject
}

interface StoredIdentity {
  v: 1
  privateKeyPem: string
}

/** Create a fresh identity (not stored). */
export function generateDeviceIdentity(): DeviceIdentity {
  const { privateKey } = generateKeyPairSync('ed25519')
  return identityFromPrivateKey(privateKey)
}

function identityFromPrivateKey(privateKey: KeyObject): DeviceIdentity {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' })
  if (typeof jwk.x !== 'string') throw new Error('Ed25519 public key has no x coordinate')
  const raw = Buffer.from(jwk.x, 'base64url')
  return {
    deviceId: createHash('sha256').update(raw).digest('hex'),
    publicKey: raw.toString('base64url'),
    privateKey
  }
}

/**
 * Load the installation's identity from the store, creating and storing one on first use.
 * A stored value that cannot be read back (corrupted) is replaced: the device then pairs again,
 * which is better than never connecting.
 */
export async function loadOrCreateDeviceIdentity(store: SecretStore): Promise<DeviceIdentity> {
  const stored = await store.get(secretKeys.deviceIdentity())
  if (stored) {
    try {
      const parsed = JSON.parse(stored) as StoredIdentity
      if (parsed.v === 1 && typeof parsed.privateKeyPem === 'string') {
        return identityFromPrivateKey(createPrivateKey(parsed.privateKeyPem))
      }
    } catch {
      // fall through to a new identity
    }
  }
  const identity = generateDeviceIdentity()
  const value: StoredIdentity = {
    v: 1,
    privateKeyPem: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  }
  await store.set(secretKeys.deviceIdentity(), JSON.stringify(value))
  return identity
}

/** ASCII-only lowercase after trimming, as the gateway normalises platform fields before verifying. */
function normaliseMetadata(value: string | undefined): string {
  return (value ?? '').trim().replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/**
 * The exact string the device signs.
 *
 * v2 is accepted by both gateway generations, so it is used until the gateway is known to speak
 * protocol 4; v3 (protocol 4 only) adds platform and device family.
 */
export function signaturePayload(
  version: 'v2' | 'v3',
  fields: {
    deviceId: string
    signedAt: number
    token: string
    nonce: string
    platform: string
    deviceFamily: string
  }
): string {
  const base = [
    version,
    fields.deviceId,
    CLIENT_ID,
    CLIENT_MODE,
    CLIENT_ROLE,
    OPERATOR_SCOPES.join(','),
    String(fields.signedAt),
    fields.token,
    fields.nonce
  ]
  if (version === 'v3') base.push(normaliseMetadata(fields.platform), normaliseMetadata(fields.deviceFamily))
  return base.join('|')
}

/** Which payload version to sign for a gateway whose protocol we may already know. */
export function payloadVersionFor(knownProtocol: ProtocolVersion | undefined): 'v2' | 'v3' {
  return knownProtocol === 4 ? 'v3' : 'v2'
}

/**
 * Sign the connect for this challenge. `signedAt` is the challenge's `ts`, not our clock, so a
 * skewed client clock never fails the gateway's freshness window (±2 min on protocol 4).
 */
export function signDevice(
  identity: DeviceIdentity,
  challenge: { nonce: string; ts: number },
  opts: { token: string; platform: string; deviceFamily: string; knownProtocol?: ProtocolVersion }
): SignedDevice {
  const payload = signaturePayload(payloadVersionFor(opts.knownProtocol), {
    deviceId: identity.deviceId,
    signedAt: challenge.ts,
    token: opts.token,
    nonce: challenge.nonce,
    platform: opts.platform,
    deviceFamily: opts.deviceFamily
  })
  const signature = sign(null, Buffer.from(payload, 'utf8'), identity.privateKey).toString('base64url')
  return {
    id: identity.deviceId,
    publicKey: identity.publicKey,
    signature,
    signedAt: challenge.ts,
    nonce: challenge.nonce
  }
}
