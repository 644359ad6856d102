/**
 * The secret store contract: where gateway tokens, Cloudflare Access credentials and device
 * keys live, and how their keys are named.
 *
 * Secrets never go into the profiles file (see src/shared/profile.ts); they are kept here,
 * keyed by the target they belong to. Nothing in this file touches a keychain, so it is safe
 * to import from code that must not load the native keytar module.
 */
import type { AppError } from '../../shared/errors'

/**
 * The name of one stored secret, which is also the keychain account name.
 *
 * The template-literal union means a typo'd or hand-built key fails to typecheck, so build
 * keys with {@link secretKeys} rather than by string concatenation.
 */
export type SecretKey =
  | `gateway:${string}:token`
  | `cf:${string}:client-secret`
  | `cf:${string}:app-token`
  | `cf:${string}:binding`
  | `device:${string}:token`
  | 'device:identity'

/**
 * A key/value store for secrets.
 *
 * Implementations throw {@link SecretStoreError} (never a raw native error) when the backend
 * fails, and never put a secret value into an error message.
 */
export interface SecretStore {
  /** The stored value, or null when nothing is stored under `key`. */
  get(key: SecretKey): Promise<string | null>
  /** Store or overwrite `value`. An empty value is rejected: use `delete` to clear a secret. */
  set(key: SecretKey, value: string): Promise<void>
  /** Remove the value; true when something was stored. */
  delete(key: SecretKey): Promise<boolean>
}

/**
 * An error thrown by a SecretStore, carrying the AppError to show.
 *
 * It is a thrown error (not a Result) because the SecretStore methods are plain async calls;
 * IPC and CLI wrappers catch it and pass `error.appError` on as a value.
 */
export class SecretStoreError extends Error {
  /** The user-facing error; never contains a secret value. */
  readonly appError: AppError

  constructor(appError: AppError) {
    super(appError.message)
    this.name = 'SecretStoreError'
    this.appError = appError
  }
}

// Control characters in a key would make keychain listings unreadable, and an empty target
// would silently merge secrets of different gateways into one item.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/

function checkTargetId(targetId: string): string {
  if (typeof targetId !== 'string' || targetId.trim() === '' || targetId !== targetId.trim()) {
    throw new TypeError('secret target id must be a non-empty string without surrounding whitespace')
  }
  if (CONTROL_CHARS.test(targetId)) throw new TypeError('secret target id must not contain control characters')
  return targetId
}

/**
 * Builders for every {@link SecretKey}.
 *
 * `targetId` is a profile id, or `url:<normalized url>` (see {@link urlTargetId}) for ad-hoc
 * CLI connections that have no saved profile. Throws TypeError for an empty or malformed
 * target id, since that is a programming error, not a user one.
 */
export const secretKeys = {
  /** The OpenClaw gateway token (`auth.token`) for a target. */
  gatewayToken: (targetId: string): SecretKey => `gateway:${checkTargetId(targetId)}:token`,
  /** The Cloudflare Access service token Client Secret (the Client ID is in the profile). */
  cfClientSecret: (targetId: string): SecretKey => `cf:${checkTargetId(targetId)}:client-secret`,
  /** The Cloudflare Access application token (`CF_Authorization` JWT) from an email login. */
  cfAppToken: (targetId: string): SecretKey => `cf:${checkTargetId(targetId)}:app-token`,
  /** The `CF_Binding` cookie that must accompany the app token when the application has binding cookies on. */
  cfBinding: (targetId: string): SecretKey => `cf:${checkTargetId(targetId)}:binding`,
  /** The device token the gateway issued after pairing this installation. */
  deviceToken: (targetId: string): SecretKey => `device:${checkTargetId(targetId)}:token`,
  /** The installation's Ed25519 device identity; one per installation, shared by all targets. */
  deviceIdentity: (): SecretKey => 'device:identity'
} as const

/**
 * The target id for an ad-hoc connection to `url`: `url:<normalized url>`.
 *
 * Normalizing (lower-case scheme and host, default port dropped, no trailing slash on an
 * empty path, fragment dropped) makes `wss://GW.example.com/` and `wss://gw.example.com` share
 * their secrets. User info is dropped so a password typed into a URL never becomes part of a
 * keychain account name. Throws TypeError when `url` does not parse.
 */
export function urlTargetId(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    throw new TypeError('urlTargetId: not a valid URL')
  }
  const path = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/+$/, '')
  return `url:${parsed.protocol}//${parsed.host}${path}${parsed.search}`
}

/** Values shorter than this get no characters in their hint: four of eleven would give too much away. */
const HINT_MIN_LENGTH = 12
const HINT_CHARS = 4

/**
 * A safe description of a stored secret for UIs: "set, ends in …abcd", "set" or "not set".
 *
 * At most the last four characters are shown, and none for values shorter than 12 characters.
 * Characters are counted as code points so an emoji or accented letter is never split.
 */
export function secretHint(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return 'not set'
  const chars = Array.from(value)
  if (chars.length < HINT_MIN_LENGTH) return 'set'
  return `set, ends in …${chars.slice(-HINT_CHARS).join('')}`
}
