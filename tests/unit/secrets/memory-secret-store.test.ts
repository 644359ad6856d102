import { describe, expect, it } from 'vitest'
import { MemorySecretStore } from '../../../src/main/secrets/memory-secret-store'
import { SecretStoreError, secretKeys } from '../../../src/main/secrets/secret-store'

const key = secretKeys.gatewayToken('p1')

describe('MemorySecretStore', () => {
  it('returns null for a missing key', async () => {
    expect(await new MemorySecretStore().get(key)).toBeNull()
  })

  it('sets, overwrites, gets and deletes', async () => {
    const store = new MemorySecretStore()
    await store.set(key, 'first')
    expect(await store.get(key)).toBe('first')
    await store.set(key, 'second')
    expect(await store.get(key)).toBe('second')
    expect(store.size).toBe(1)
    expect(await store.delete(key)).toBe(true)
    expect(await store.get(key)).toBeNull()
    expect(await store.delete(key)).toBe(false)
  })

  it('keeps keys independent', async () => {
    const store = new MemorySecretStore()
    await store.set(secretKeys.gatewayToken('a'), 'A')
    await store.set(secretKeys.gatewayToken('b'), 'B')
    await store.set(secretKeys.cfClientSecret('a'), 'CF')
    expect(await store.get(secretKeys.gatewayToken('a'))).toBe('A')
    expect(await store.get(secretKeys.gatewayToken('b'))).toBe('B')
    expect(await store.get(secretKeys.cfClientSecret('a'))).toBe('CF')
  })

  it('stores unicode and large values unchanged', async () => {
    const store = new MemorySecretStore()
    const value = 'pässwörd-🔑-'.repeat(400)
    await store.set(key, value)
    expect(await store.get(key)).toBe(value)
  })

  it('can be seeded', async () => {
    const store = new MemorySecretStore([[secretKeys.deviceIdentity(), 'id']])
    expect(await store.get(secretKeys.deviceIdentity())).toBe('id')
  })

  it('refuses an empty value like the keychain does, without changing the stored one', async () => {
    const store = new MemorySecretStore([[key, 'kept']])
    const err = await store.set(key, '').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SecretStoreError)
    expect((err as SecretStoreError).appError.code).toBe('INVALID_INPUT')
    expect(await store.get(key)).toBe('kept')
  })
})
