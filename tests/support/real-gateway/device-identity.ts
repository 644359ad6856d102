// Ed25519 device identity and connect-payload signing, as the OpenClaw gateway (wire v4) expects:
//   device.id        = hex SHA-256 of the raw 32-byte public key
//   device.publicKey = raw 32-byte public key, base64url (no padding)
//   signature        = Ed25519 over the UTF-8 payload, base64url (no padding)
//   v2 payload: v2|deviceId|clientId|clientMode|role|scopes,joined|signedAt|token|nonce
//   v3 payload: v2 fields + |platform|deviceFamily (trimmed, ASCII-lowercased)
// signedAt is the connect.challenge `ts`, nonce the challenge nonce, token the credential actually
// sent (auth.token ?? auth.deviceToken ?? auth.bootstrapToken ?? '').
import crypto from 'node:crypto'

export interface DeviceIdentity {
  deviceId: string
  /** Raw 32-byte public key, base64url. */
  publicKey: string
  privateKey: crypto.KeyObject
}

export type SignatureVersion = 'v2' | 'v3'

export interface SignInput {
  clientId: string
  clientMode: string
  role: string
  scopes: readonly string[]
  signedAt: number
  token: string | null | undefined
  nonce: string
  platform?: string | undefined
  deviceFamily?: string | undefined
}

export interface SignedDevice {
  id: string
  publicKey: string
  signature: string
  signedAt: number
  nonce: string
}

// DER SubjectPublicKeyInfo prefix for an Ed25519 key; the raw key is the 32 bytes after it.
const ED25519_SPKI_PREFIX_LENGTH = 12

export function createDeviceIdentity(): DeviceIdentity {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519')
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(ED25519_SPKI_PREFIX_LENGTH)
  if (raw.length !== 32) throw new Error(`unexpected Ed25519 public key length ${raw.length}`)
  return {
    deviceId: crypto.createHash('sha256').update(raw).digest('hex'),
    publicKey: raw.toString('base64url'),
    privateKey
  }
}

function normalizeMeta(value: string | undefined): string {
  return (value ?? '').trim().replace(/[A-Z]/g, (c) => c.toLowerCase())
}

export function buildDevicePayload(version: SignatureVersion, deviceId: string, input: SignInput): string {
  const fields = [
    version,
    deviceId,
    input.clientId,
    input.clientMode,
    input.role,
    input.scopes.join(','),
    String(input.signedAt),
    input.token ?? '',
    input.nonce
  ]
  if (version === 'v3') fields.push(normalizeMeta(input.platform), normalizeMeta(input.deviceFamily))
  return fields.join('|')
}

export function signDevice(identity: DeviceIdentity, input: SignInput, version: SignatureVersion = 'v3'): SignedDevice {
  const payload = buildDevicePayload(version, identity.deviceId, input)
  const signature = crypto.sign(null, Buffer.from(payload, 'utf8'), identity.privateKey).toString('base64url')
  return { id: identity.deviceId, publicKey: identity.publicKey, signature, signedAt: input.signedAt, nonce: input.nonce }
}
