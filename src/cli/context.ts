/**
 * What every CLI command gets: output, the keychain (opened lazily: `profile list` never needs
 * it), the profiles file, the secrets from the environment, and this client's identity.
 */
import os from 'node:os'
import path from 'node:path'
import { exitCodeFor, type AppError } from '../shared/errors'
import type { ClientInfo } from '../main/gateway/protocol'
import type { SuppliedSecrets } from '../main/gateway/connect-target'
import { defaultConfigDir, profilesFilePath } from '../main/profiles/config-dir'
import { ProfileRepo } from '../main/profiles/profile-repo'
import type { SecretStore } from '../main/secrets/secret-store'
import { openSystemSecretStore } from '../main/secrets/keytar-secret-store'
import type { Output } from './output'
import { APP_VERSION } from '../shared/app-info'

/** The secret store a command got, and whether what goes in it outlives this run. */
export interface OpenedSecrets {
  store: SecretStore
  /** False when there was no keychain and the store is memory only. */
  persistent: boolean
}

/** Why a command opens the keychain; `connect` adds what a memory-only identity means for pairing. */
export interface SecretsPurpose {
  connect?: boolean
  /** The command already waits for pairing (no need to suggest --wait-pairing). */
  waitPairing?: boolean
}

export interface CliContext {
  output: Output
  suppliedSecrets: SuppliedSecrets
  clientInfo: ClientInfo
  userAgent: string
  /** The directory relative paths on the command line are relative to. */
  cwd: string
  /** The environment the command runs in (for non-secret settings such as AETHER_CF_TRANSFER_URL). */
  env: NodeJS.ProcessEnv
  /** The keychain (or memory when there is none, with a one-line warning the first time). */
  secrets(purpose?: SecretsPurpose): Promise<SecretStore>
  openSecrets(purpose?: SecretsPurpose): Promise<OpenedSecrets>
  profiles(): ProfileRepo
  /** Print an error and return its exit code. */
  fail(error: AppError): number
}

export function secretsFromEnv(env: NodeJS.ProcessEnv): SuppliedSecrets {
  const s: SuppliedSecrets = {}
  if (env.AETHER_GATEWAY_TOKEN) s.gatewayToken = env.AETHER_GATEWAY_TOKEN
  if (env.AETHER_CF_CLIENT_ID) s.cfClientId = env.AETHER_CF_CLIENT_ID
  if (env.AETHER_CF_CLIENT_SECRET) s.cfClientSecret = env.AETHER_CF_CLIENT_SECRET
  if (env.AETHER_CF_APP_TOKEN) s.cfAppToken = env.AETHER_CF_APP_TOKEN
  return s
}

/**
 * Where the user ran the command: under `npm run cli`, npm changes into the package directory
 * and leaves the original one in INIT_CWD.
 */
export function invocationDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return env.INIT_CWD && path.isAbsolute(env.INIT_CWD) ? env.INIT_CWD : cwd
}

/** A few words for why the keychain could not be used, from the warning's `details.check`. */
const SHORT_CAUSE: Record<string, string> = {
  'native-module': 'the keychain library could not be loaded',
  'no-session-bus': 'no D-Bus session bus',
  'no-secret-service': 'no Secret Service running',
  locked: 'the keyring is locked',
  'access-denied': 'access to it was denied',
  'no-default-keychain': 'no default keychain',
  timeout: 'it did not answer in time',
  unknown: 'it failed'
}

/** The one-line warning for a memory-only secret store. */
export function memoryStoreWarning(warning: AppError, purpose: SecretsPurpose = {}): string {
  const cause = SHORT_CAUSE[warning.details.check ?? ''] ?? SHORT_CAUSE.unknown
  let line = `No keychain available (${cause}): secrets and this device's identity are kept in memory for this run only.`
  if (purpose.connect) {
    line += ' The gateway will see a new device each run'
    line += purpose.waitPairing ? '.' : '; use --wait-pairing to approve it in one go.'
  }
  return line
}

/** What opening the secret store gave (openSystemSecretStore's answer; tests pass their own). */
export type OpenedStore = { kind: 'keychain'; store: SecretStore } | { kind: 'memory'; store: SecretStore; warning: AppError }

export function createCliContext(
  output: Output,
  env: NodeJS.ProcessEnv = process.env,
  opts: { openStore?: () => Promise<OpenedStore> } = {}
): CliContext {
  let store: Promise<OpenedSecrets> | undefined
  let repo: ProfileRepo | undefined
  const open =
    opts.openStore ??
    (() => openSystemSecretStore({ ...(env.AETHER_KEYCHAIN_SERVICE ? { service: env.AETHER_KEYCHAIN_SERVICE } : {}) }))
  const ctx: CliContext = {
    output,
    suppliedSecrets: secretsFromEnv(env),
    clientInfo: {
      version: APP_VERSION,
      platform: process.platform,
      deviceFamily: 'desktop',
      displayName: `Aether Remote CLI (${os.hostname()})`
    },
    userAgent: `AetherRemote/${APP_VERSION} (${process.platform}; cli)`,
    cwd: invocationDir(env),
    env,
    openSecrets(purpose) {
      store ??= open().then((opened) => {
        if (opened.kind === 'memory') {
          output.warning(memoryStoreWarning(opened.warning, purpose))
          return { store: opened.store, persistent: false }
        }
        return { store: opened.store, persistent: true }
      })
      return store
    },
    async secrets(purpose) {
      return (await ctx.openSecrets(purpose)).store
    },
    profiles() {
      repo ??= new ProfileRepo(profilesFilePath(defaultConfigDir(env)))
      return repo
    },
    fail(error) {
      output.error(error)
      return exitCodeFor(error)
    }
  }
  return ctx
}
