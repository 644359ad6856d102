import { createHash, createPublicKey, verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateDeviceIdentity, loadOrCreateDeviceIdentity, signDevice, signaturePayload } from '../../../src/main/gateway/device-identity'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { secretKeys } from '../../../src/main/secrets/secret-store'

describe('device identity', () => {
  it('derives the id as the SHA-256 of the raw public key, sent as unpadded base64url', () => {
    const id = generateDeviceIdentity()
    const raw = Buffer.from(id.publicKey, 'base64url')
    expect(raw).toHaveLength(32)
    expect(id.publicKey).not.toMatch(/[=+/]/)
    expect(id.deviceId).toBe(createHash('sha256').update(raw).digest('hex'))
  })

  it('builds the v2 and v3 payloads field by field, v3 lowercasing platform and family', () => {
    const fields = { deviceId: 'abc', signedAt: 1700000000000, token: 'tok', nonce: 'n-1', platform: ' Linux ', deviceFamily: 'Desktop' }
    expect(signaturePayload('v2', fields)).toBe('v2|abc|gateway-client|ui|operator|operator.read,operator.write|1700000000000|tok|n-1')
    expect(signaturePayload('v3', fields)).toBe(
      'v2|abc|gateway-client|ui|operator|operator.read,operator.write|1700000000000|tok|n-1|linux|desktop'.replace(/^v2/, 'v3')
    )
  })

  it('signs with the challenge timestamp, not the local clock, and the signature verifies', () => {
    const id = generateDeviceIdentity()
    const challenge = { nonce: 'nonce-xyz', ts: 1234567890123 }
    const signed = signDevice(id, challenge, { token: 'secret-token', platform: 'linux', deviceFamily: 'desktop' })
    expect(signed.signedAt).toBe(challenge.ts)
    expect(signed.nonce).toBe(challenge.nonce)
    const payload = signaturePayload('v2', { deviceId: id.deviceId, signedAt: challenge.ts, token: 'secret-token', nonce: 'nonce-xyz', platform: 'linux', deviceFamily: 'desktop' })
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: id.publicKey }, format: 'jwk' })
    expect(verify(null, Buffer.from(payload), key, Buffer.from(signed.signature, 'base64url'))).toBe(true)
    const v3 = signDevice(id, challenge, { token: 'secret-token', platform: 'linux', deviceFamily: 'desktop', knownProtocol: 4 })
    const v3payload = signaturePayload('v3', { deviceId: id.deviceId, signedAt: challenge.ts, token: 'secret-token', nonce: 'nonce-xyz', platform: 'linux', deviceFamily: 'desktop' })
    expect(verify(null, Buffer.from(v3payload), key, Buffer.from(v3.signature, 'base64url'))).toBe(true)
  })

  it('is created once and kept in the secret store', async () => {
    const store = new MemorySecretStore()
    const first = await loadOrCreateDeviceIdentity(store)
    const second = await loadOrCreateDeviceIdentity(store)
    expect(second.deviceId).toBe(first.deviceId)
    expect(await store.get(secretKeys.deviceIdentity())).toContain('PRIVATE KEY')
  })

  it('replaces an unreadable stored identity instead of failing', async () => {
    const store = new MemorySecretStore()
    await store.set(secretKeys.deviceIdentity(), 'garbage{')
    const id = await loadOrCreateDeviceIdentity(store)
    expect(id.deviceId).toMatch(/^[0-9a-f]{64}$/)
    expect(await store.get(secretKeys.deviceIdentity())).not.toBe('garbage{')
  })
})
