/**
 * A MemorySecretStore that remembers every value ever stored in it (also ones later replaced
 * or deleted), so the e2e secrets test can look for each of them in what the renderer received.
 */
import { MemorySecretStore } from '../../src/main/secrets/memory-secret-store'
import type { SecretKey } from '../../src/main/secrets/secret-store'

export class RecordingSecretStore extends MemorySecretStore {
  private readonly everStored = new Map<string, { key: SecretKey; value: string }>()

  override async set(key: SecretKey, value: string): Promise<void> {
    await super.set(key, value)
    this.everStored.set(`${key}\u0000${value}`, { key, value })
  }

  /** Every (key, value) pair ever stored, in order. */
  storedValues(): { key: SecretKey; value: string }[] {
    return [...this.everStored.values()]
  }
}
