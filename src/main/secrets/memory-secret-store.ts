/**
 * An in-memory SecretStore: the unit-test double, and the fallback when no keychain exists
 * (secrets then last only as long as the process, which is safer than writing them to disk).
 */
import { appError } from '../../shared/errors'
import { SecretStoreError, type SecretKey, type SecretStore } from './secret-store'

/**
 * SecretStore backed by a Map.
 *
 * It enforces the same rules as the keychain backend (an empty value is refused), so code
 * tested against it behaves the same against the real keychain.
 */
export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<SecretKey, string>()

  /** Optionally seeded with `initial` entries (handy in tests). */
  constructor(initial?: Iterable<readonly [SecretKey, string]>) {
    if (initial) for (const [key, value] of initial) this.values.set(key, value)
  }

  /** The stored value, or null. */
  async get(key: SecretKey): Promise<string | null> {
    return this.values.get(key) ?? null
  }

  /** Store or overwrite a value; throws SecretStoreError (INVALID_INPUT) for an empty value. */
  async set(key: SecretKey, value: string): Promise<void> {
    assertStorableValue(value)
    this.values.set(key, value)
  }

  /** Remove a value; true when one was stored. */
  async delete(key: SecretKey): Promise<boolean> {
    return this.values.delete(key)
  }

  /** Number of stored secrets (for tests and "secrets will be lost on exit" banners). */
  get size(): number {
    return this.values.size
  }
}

/**
 * Throws SecretStoreError (INVALID_INPUT) unless `value` is a non-empty string.
 *
 * keytar throws "Password is required." for an empty string; refusing it the same way in
 * every backend keeps "set to empty" from meaning "delete" in one store and an error in another.
 */
export function assertStorableValue(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SecretStoreError(
      appError('INVALID_INPUT', 'Empty secret', 'A secret cannot be empty. To remove a stored secret, clear it instead.')
    )
  }
}
