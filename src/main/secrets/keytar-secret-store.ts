/**
 * The OS keychain backend (macOS Keychain, Windows Credential Manager, Linux Secret Service)
 * through keytar, plus the start-up probe that falls back to memory when there is none.
 *
 * keytar is a native module that links libsecret on Linux, so it is imported lazily, on the
 * first call that needs it: code paths that never touch a secret (profile listing, `--help`)
 * keep working on machines where the module or its library cannot load.
 *
 * Every keytar failure becomes a SecretStoreError carrying a KEYCHAIN_UNAVAILABLE AppError
 * whose message names the cause and the fix. Secret values are never put in an error, and
 * this module logs nothing.
 */
import { randomBytes } from 'node:crypto'
import { appError, type AppError, type NextStep } from '../../shared/errors'
import { MemorySecretStore, assertStorableValue } from './memory-secret-store'
import { SecretStoreError, type SecretKey, type SecretStore } from './secret-store'

/** The keytar functions this backend uses (a fake can stand in for it in unit tests). */
export interface KeytarModule {
  getPassword(service: string, account: string): Promise<string | null>
  setPassword(service: string, account: string, password: string): Promise<void>
  deletePassword(service: string, account: string): Promise<boolean>
}

/** The keychain service name: what users see as the item's name in Keychain Access or Seahorse. */
export const DEFAULT_KEYCHAIN_SERVICE = 'Aether Remote'

/** How long the start-up probe waits before giving up on the keychain. */
export const DEFAULT_PROBE_TIMEOUT_MS = 15_000

/**
 * Windows Credential Manager's per-item limit (CRED_MAX_CREDENTIAL_BLOB_SIZE, 5 × 512 bytes).
 * keytar stores the UTF-8 bytes, and its own error for an oversized value ("Stub received bad
 * data") says nothing useful, so the size is checked before the call.
 */
export const WINDOWS_MAX_SECRET_BYTES = 2560

/** Options for {@link KeytarSecretStore}. */
export interface KeytarSecretStoreOptions {
  /** Keychain service name; tests pass their own so they never see the app's real items. */
  service?: string
  /** Platform whose error texts and limits apply (defaults to process.platform). */
  platform?: NodeJS.Platform
  /** Loads keytar; defaults to a dynamic import of the real module. */
  loadKeytar?: () => Promise<KeytarModule>
}

/** Why the keychain is unavailable; stored in `details.check` so callers can branch on it. */
export type KeychainFailureCause =
  | 'native-module'
  | 'no-session-bus'
  | 'no-secret-service'
  | 'locked'
  | 'access-denied'
  | 'no-default-keychain'
  | 'value-too-large'
  | 'timeout'
  | 'unknown'

async function importKeytar(): Promise<KeytarModule> {
  // keytar is CommonJS: under Node's ESM loader the functions sit on `default`, under a
  // bundler's CJS interop they may sit on the namespace itself.
  const mod = (await import('keytar')) as KeytarModule & { default?: KeytarModule }
  return mod.default ?? mod
}

/**
 * SecretStore backed by the OS keychain via keytar; account = the SecretKey string.
 *
 * Construction is free: keytar is loaded on the first get/set/delete/probe.
 */
export class KeytarSecretStore implements SecretStore {
  /** The keychain service name every item is stored under. */
  readonly service: string
  private readonly platform: NodeJS.Platform
  private readonly loadKeytar: () => Promise<KeytarModule>
  private keytarPromise: Promise<KeytarModule> | undefined

  constructor(opts: KeytarSecretStoreOptions = {}) {
    this.service = opts.service ?? DEFAULT_KEYCHAIN_SERVICE
    if (this.service.trim() === '') throw new TypeError('keychain service name must not be empty')
    this.platform = opts.platform ?? process.platform
    this.loadKeytar = opts.loadKeytar ?? importKeytar
  }

  /** The stored value, or null. Throws SecretStoreError when the keychain fails. */
  async get(key: SecretKey): Promise<string | null> {
    return this.run(async (k) => k.getPassword(this.service, key))
  }

  /** Store or overwrite a value. Throws SecretStoreError when the keychain fails or refuses it. */
  async set(key: SecretKey, value: string): Promise<void> {
    assertStorableValue(value)
    if (this.platform === 'win32' && Buffer.byteLength(value, 'utf8') > WINDOWS_MAX_SECRET_BYTES) {
      throw new SecretStoreError(
        keychainError('value-too-large', this.platform, {
          detail: `${Buffer.byteLength(value, 'utf8')} bytes, limit ${WINDOWS_MAX_SECRET_BYTES}`
        })
      )
    }
    await this.run(async (k) => k.setPassword(this.service, key, value), value)
  }

  /** Remove a value; true when one was stored. Throws SecretStoreError when the keychain fails. */
  async delete(key: SecretKey): Promise<boolean> {
    return this.run(async (k) => k.deletePassword(this.service, key))
  }

  /**
   * Check that the keychain really works: write, read back and delete a throw-away item.
   *
   * A read alone is not enough: with a session bus but no unlocked login keyring,
   * gnome-keyring answers reads with "not found" and only fails on the first write.
   * Throws SecretStoreError (KEYCHAIN_UNAVAILABLE), including when it takes longer than
   * `timeoutMs` (a keyring unlock prompt nobody answers would otherwise hang a CLI forever).
   */
  async probe(timeoutMs: number = DEFAULT_PROBE_TIMEOUT_MS): Promise<void> {
    const account = '__aether_remote_probe__'
    const value = randomBytes(16).toString('hex')
    const attempt = this.run(async (k) => {
      await k.setPassword(this.service, account, value)
      const readBack = await k.getPassword(this.service, account)
      await k.deletePassword(this.service, account)
      if (readBack !== value) throw new Error('the keychain returned a different value than the one stored')
    }, value)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SecretStoreError(keychainError('timeout', this.platform, { timeoutMs }))),
        timeoutMs
      )
      // The native call cannot be cancelled; don't let the timer keep a finished CLI alive.
      timer.unref()
    })
    try {
      await Promise.race([attempt, timeout])
    } finally {
      clearTimeout(timer)
      // If the timeout won, the attempt's later rejection must not surface as unhandled.
      attempt.catch(() => undefined)
    }
  }

  private keytar(): Promise<KeytarModule> {
    this.keytarPromise ??= this.loadKeytar()
    return this.keytarPromise
  }

  /** Runs one keytar call, turning every failure into SecretStoreError. */
  private async run<T>(fn: (k: KeytarModule) => Promise<T>, secretValue?: string): Promise<T> {
    let k: KeytarModule
    try {
      k = await this.keytar()
    } catch (err) {
      throw new SecretStoreError(describeKeychainFailure(err, { platform: this.platform, loading: true }))
    }
    try {
      return await fn(k)
    } catch (err) {
      if (err instanceof SecretStoreError) throw err
      throw new SecretStoreError(describeKeychainFailure(err, { platform: this.platform, secretValue }))
    }
  }
}

/** Context for {@link describeKeychainFailure}. */
export interface KeychainFailureContext {
  platform?: NodeJS.Platform
  /** The value being stored, if any: it is scrubbed from the quoted system message. */
  secretValue?: string
  /** True when the failure happened while loading the native module. */
  loading?: boolean
}

/**
 * Turn a keytar (or native module loading) failure into a KEYCHAIN_UNAVAILABLE AppError.
 *
 * The patterns are the texts keytar/libsecret, the macOS Security framework and Windows
 * produce (see docs/toolchain.md, "What users on headless Linux will see"). The system's own
 * text is kept only in `details.notes`, shortened and with any secret value scrubbed.
 */
export function describeKeychainFailure(err: unknown, ctx: KeychainFailureContext = {}): AppError {
  const platform = ctx.platform ?? process.platform
  const raw = sanitizeSystemMessage(err, ctx.secretValue)
  return keychainError(classify(err, raw, platform, ctx.loading === true), platform, { raw })
}

function classify(err: unknown, raw: string, platform: NodeJS.Platform, loading: boolean): KeychainFailureCause {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  if (
    loading ||
    code === 'MODULE_NOT_FOUND' ||
    code === 'ERR_DLOPEN_FAILED' ||
    /cannot open shared object|libsecret|Cannot find module|invalid ELF|was compiled against a different Node/i.test(raw)
  ) {
    return 'native-module'
  }
  if (platform === 'darwin') {
    if (/User interaction is not allowed/i.test(raw)) return 'locked'
    if (/default keychain|No keychain/i.test(raw)) return 'no-default-keychain'
    if (/passphrase .*not correct|User cancell?ed|denied|not authori[sz]ed|authorization/i.test(raw)) return 'access-denied'
    return 'unknown'
  }
  if (platform === 'win32') {
    if (/Stub received bad data/i.test(raw)) return 'value-too-large'
    if (/Access is denied/i.test(raw)) return 'access-denied'
    return 'unknown'
  }
  // Linux and other Secret Service platforms. The provider check comes first: its text
  // ("org.freedesktop.secrets was not provided…") must not be mistaken for a bus failure.
  if (/org\.freedesktop\.secrets|not provided by any \.service files|ServiceUnknown|NameHasNoOwner/i.test(raw)) {
    return 'no-secret-service'
  }
  if (
    /autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|dbus-launch|Could not connect|Failed to connect to socket|Connection refused|No such file or directory/i.test(
      raw
    )
  ) {
    return 'no-session-bus'
  }
  if (/collection\/login|Object does not exist at path|locked|prompt|dismissed|cancell?ed/i.test(raw)) return 'locked'
  if (/Did not receive a reply|Timeout was reached/i.test(raw)) return 'no-secret-service'
  return 'unknown'
}

interface CauseText {
  message: string
  step: NextStep
  retryable?: boolean
}

function causeText(
  cause: KeychainFailureCause,
  platform: NodeJS.Platform,
  extra: { raw?: string; timeoutMs?: number; detail?: string }
): CauseText {
  const linux = platform !== 'darwin' && platform !== 'win32'
  switch (cause) {
    case 'native-module':
      return linux
        ? {
            message:
              'The keychain library could not be loaded: install libsecret (on Debian or Ubuntu: sudo apt install libsecret-1-0) and restart Aether Remote.',
            step: { action: 'retry', label: 'Install libsecret, then restart Aether Remote.', command: 'sudo apt install libsecret-1-0' }
          }
        : {
            message: 'The keychain module of Aether Remote could not be loaded: reinstall Aether Remote.',
            step: { action: 'update-app', label: 'Reinstall Aether Remote.' }
          }
    case 'no-session-bus':
      return {
        message:
          'No D-Bus session bus was found (DBUS_SESSION_BUS_ADDRESS is unset or points nowhere), so the Secret Service cannot be reached: run Aether Remote inside a desktop session, or start one with dbus-run-session and unlock a keyring in it.',
        step: { action: 'retry', label: 'Run inside a desktop session (or dbus-run-session), then try again.' }
      }
    case 'no-secret-service':
      return {
        message:
          'No Secret Service is running: install and unlock GNOME Keyring or KWallet (any provider of org.freedesktop.secrets).',
        step: { action: 'retry', label: 'Install and unlock GNOME Keyring or KWallet, then try again.', command: 'sudo apt install gnome-keyring' }
      }
    case 'locked':
      return platform === 'darwin'
        ? {
            message:
              'The macOS keychain is locked and cannot ask for your password (for example over SSH): unlock it with security unlock-keychain, or run Aether Remote from a logged-in desktop session.',
            step: { action: 'retry', label: 'Unlock the login keychain, then try again.', command: 'security unlock-keychain' }
          }
        : {
            message:
              'The keyring is locked or has no default "login" keyring: unlock it (or create a "login" keyring in Passwords and Keys). On a machine without a desktop, start gnome-keyring-daemon with --unlock.',
            step: { action: 'retry', label: 'Unlock the login keyring, then try again.' }
          }
    case 'access-denied':
      return platform === 'darwin'
        ? {
            message:
              'macOS did not allow Aether Remote to use the keychain: choose Allow (or Always Allow) when macOS asks, and check the "Aether Remote" items in Keychain Access.',
            step: { action: 'retry', label: 'Allow keychain access when asked, then try again.' }
          }
        : {
            message: 'Windows Credential Manager refused access: sign in to a normal (not a service or guest) user session and try again.',
            step: { action: 'retry', label: 'Sign in to a normal user session, then try again.' }
          }
    case 'no-default-keychain':
      return {
        message: 'macOS has no default keychain: create or select one in Keychain Access, then try again.',
        step: { action: 'retry', label: 'Set a default keychain in Keychain Access, then try again.' }
      }
    case 'value-too-large':
      return {
        message: `Windows Credential Manager holds at most ${WINDOWS_MAX_SECRET_BYTES} bytes per item, and this secret is larger${
          extra.detail ? ` (${extra.detail})` : ''
        }.`,
        step: { action: 'retry', label: 'Check that the right value was pasted (a token, not a whole file), then try again.' }
      }
    case 'timeout':
      return {
        message: `The system keychain did not answer within ${Math.round((extra.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS) / 1000)} s; an unlock prompt may be waiting. Unlock the keyring and try again.`,
        step: { action: 'retry', label: 'Unlock the keyring, then try again.' },
        retryable: true
      }
    case 'unknown':
      return {
        message:
          platform === 'win32'
            ? `Windows Credential Manager failed${extra.raw ? ` (${extra.raw})` : ''}: check that the Credential Manager service is running.`
            : `The system keychain failed${extra.raw ? ` (${extra.raw})` : ''}.`,
        step: { action: 'retry', label: 'Try again; if it keeps failing, check the system keychain.' }
      }
  }
}

function keychainError(
  cause: KeychainFailureCause,
  platform: NodeJS.Platform,
  extra: { raw?: string; timeoutMs?: number; detail?: string } = {}
): AppError {
  const text = causeText(cause, platform, extra)
  const details: AppError['details'] = { check: cause }
  if (extra.raw) details.notes = [`keychain said: ${extra.raw}`]
  if (extra.timeoutMs !== undefined) details.timeoutMs = extra.timeoutMs
  return appError('KEYCHAIN_UNAVAILABLE', 'System keychain unavailable', text.message, {
    nextSteps: [text.step],
    details,
    retryable: text.retryable ?? false
  })
}

const MAX_SYSTEM_MESSAGE = 240

/** The system's error text, on one line, shortened, with `secretValue` (if any) scrubbed out. */
function sanitizeSystemMessage(err: unknown, secretValue: string | undefined): string {
  let text = ''
  if (err instanceof Error) text = err.message
  else if (typeof err === 'string') text = err
  else if (typeof err === 'object' && err !== null) text = String((err as { message?: unknown }).message ?? '')
  // No backend is known to echo the value, but a message is shown to people and may be logged,
  // so scrub it anyway (values under 3 characters would mangle ordinary words).
  if (secretValue && secretValue.length >= 3) text = text.split(secretValue).join('[HIDDEN]')
  text = text.replace(/\s+/g, ' ').trim()
  return text.length > MAX_SYSTEM_MESSAGE ? `${text.slice(0, MAX_SYSTEM_MESSAGE - 1)}…` : text
}

/** Options for {@link openSystemSecretStore}. */
export interface OpenSystemSecretStoreOptions extends KeytarSecretStoreOptions {
  /** Give up on the keychain after this long (default 15 s). */
  probeTimeoutMs?: number
}

/** What {@link openSystemSecretStore} chose: the keychain, or memory plus the reason why. */
export type SystemSecretStore =
  | { store: KeytarSecretStore; kind: 'keychain' }
  | { store: MemorySecretStore; kind: 'memory'; warning: AppError }

/**
 * Open the OS keychain, or fall back to memory with a warning instead of failing.
 *
 * The keychain is probed with a real write/read/delete; if that fails for any reason the
 * caller gets a MemorySecretStore and a KEYCHAIN_UNAVAILABLE warning to show ("secrets will not
 * be saved"). Never throws.
 */
export async function openSystemSecretStore(opts: OpenSystemSecretStoreOptions = {}): Promise<SystemSecretStore> {
  const platform = opts.platform ?? process.platform
  let store: KeytarSecretStore
  try {
    store = new KeytarSecretStore(opts)
    await store.probe(opts.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS)
  } catch (err) {
    const cause = err instanceof SecretStoreError ? err.appError : describeKeychainFailure(err, { platform })
    return {
      store: new MemorySecretStore(),
      kind: 'memory',
      warning: {
        ...cause,
        title: 'Secrets will not be saved',
        message: `${cause.message} Until then, secrets are kept in memory and forgotten when Aether Remote exits.`
      }
    }
  }
  return { store, kind: 'keychain' }
}
