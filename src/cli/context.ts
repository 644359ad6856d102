/**
 * What every CLI command gets: output, the keychain (opened lazily: `profile list` never needs
 * it), the profiles file, the secrets from the environment, and this client's identity.
 */
import os from 'node:os'
import { exitCodeFor, type AppError } from '../shared/errors'
import type { ClientInfo } from '../main/gateway/protocol'
import type { SuppliedSecrets } from '../main/gateway/connect-target'
import { defaultConfigDir, profilesFilePath } from '../main/profiles/config-dir'
import { ProfileRepo } from '../main/profiles/profile-repo'
import type { SecretStore } from '../main/secrets/secret-store'
import { openSystemSecretStore } from '../main/secrets/keytar-secret-store'
import type { Output } from './output'
import { APP_VERSION } from '../shared/app-info'

export interface CliContext {
  output: Output
  suppliedSecrets: SuppliedSecrets
  clientInfo: ClientInfo
  userAgent: string
  secrets(): Promise<SecretStore>
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

export function createCliContext(output: Output, env: NodeJS.ProcessEnv = process.env): CliContext {
  let store: Promise<SecretStore> | undefined
  let repo: ProfileRepo | undefined
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
    secrets() {
      store ??= openSystemSecretStore({
        ...(env.AETHER_KEYCHAIN_SERVICE ? { service: env.AETHER_KEYCHAIN_SERVICE } : {})
      }).then((opened) => {
        if (opened.kind === 'memory') output.warning(`${opened.warning.title}: ${opened.warning.message}`)
        return opened.store
      })
      return store
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
