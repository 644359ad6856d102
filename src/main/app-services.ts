/**
 * The main process's services behind the IPC contract: one handler per channel, Electron-free.
 *
 * The Electron glue registers these with ipcMain (after checking the sender); the browser test
 * bridge calls the very same handlers. Every handler validates its arguments with the
 * contract's zod schema and resolves with a Result: it never throws, and it never returns a
 * secret (only set/unset status with a four-character hint).
 */
import { existsSync } from 'node:fs'
import { appError, fail, ok, type AppError, type Result } from '../shared/errors'
import {
  INVOKE_SCHEMAS,
  SECRET_KINDS,
  type EventSink,
  type InvokeChannel,
  type InvokeHandlers,
  type InvokeResponses,
  type ProfileDraft,
  type ProfileView,
  type SecretKind,
  type SecretsStatus
} from '../shared/ipc-contract'
import { APP_NAME, APP_VERSION } from '../shared/app-info'
import type { GatewayProfile } from '../shared/profile'
import type { AccessLoginWindows } from './electron/access-login-window'
import { AccessSignInService } from './cf-access/sign-in/sign-in-service'
import type { RenewalTimingOptions } from './cf-access/sign-in/renewal'
import { nodeHttpGet } from './cf-access/sign-in/transfer-login'
import { ConnectionManager } from './connections/connection-manager'
import { ProfileDoctor } from './doctor/profile-doctor'
import { trustedCertificates } from './transport/trust-store'
import type { ClientInfo } from './gateway/protocol'
import { ProfileRepo } from './profiles/profile-repo'
import { profilesFilePath } from './profiles/config-dir'
import { secretHint, secretKeys, SecretStoreError, type SecretKey, type SecretStore } from './secrets/secret-store'

export interface AppServicesOptions {
  configDir: string
  secrets: SecretStore
  secretStorage: { kind: 'keychain' | 'memory'; warning?: string }
  openExternal(url: string): Promise<void>
  clientInfo: ClientInfo
  userAgent: string
  /** The profile offered on a first start, so there is something to try. */
  defaultProfile?: { name: string; url: string } | null
  /** The embedded Cloudflare Access login window; without it only the browser sign-in is offered. */
  accessLoginWindows?: AccessLoginWindows
  /** Renewal timing of Access app tokens (defaults: 5 min ahead plus 1 min of clock skew). */
  accessRenewal?: RenewalTimingOptions
  /** Token transfer service of the browser sign-in (default: the team domain's). */
  transferBaseUrl?: string
}

export interface AppServices {
  handlers: InvokeHandlers
  setEventSink(sink: EventSink): void
  manager: ConnectionManager
  signIn: AccessSignInService
  dispose(): Promise<void>
}

export const LOCAL_GATEWAY_PROFILE = { name: 'Local gateway', url: 'ws://127.0.0.1:18789' }

const SECRET_KEY_OF: Record<SecretKind, (profileId: string) => SecretKey> = {
  gatewayToken: secretKeys.gatewayToken,
  cfClientSecret: secretKeys.cfClientSecret,
  cfAppToken: secretKeys.cfAppToken
}

/** What each argument of a channel is, for messages a person can read. */
const ARG_NAMES: Partial<Record<InvokeChannel, string[]>> = {
  'profiles:save': ['gateway settings'],
  'secrets:set': ['gateway', 'kind of secret', 'value'],
  'session:send': ['gateway', 'session key', 'message', 'message id'],
  'session:abort': ['gateway', 'session key', 'run']
}

function invalidArgs(channel: InvokeChannel, issue: { path: PropertyKey[]; code?: string; maximum?: unknown } | undefined): AppError {
  // An issue on the argument list itself (too many or too few arguments) names no argument.
  if (!issue || issue.path.length === 0) return appError('INVALID_INPUT', 'That was not accepted', 'The request does not have the parts this action takes.')
  const [index, ...rest] = issue.path
  const what = [typeof index === 'number' ? (ARG_NAMES[channel]?.[index] ?? 'request') : 'request', ...rest.map(String)].join(' ')
  const message =
    issue?.code === 'too_big' && typeof issue.maximum === 'number'
      ? `The ${what} is too long (at most ${issue.maximum.toLocaleString('en-US')} characters).`
      : `The ${what} is not valid.`
  return appError('INVALID_INPUT', 'That was not accepted', message)
}

function noSuchGateway(): Result<never> {
  return fail(appError('PROFILE_NOT_FOUND', 'No such gateway', 'This gateway profile no longer exists.'))
}

/** Only https and mailto leave the app, re-serialised from the parsed URL (never the raw string). */
export function safeExternalUrl(raw: string): string | null {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return null
  }
  if (url.protocol === 'mailto:') return url.toString()
  if (url.protocol !== 'https:' || url.username || url.password) return null
  return url.toString()
}

export function createAppServices(opts: AppServicesOptions): AppServices {
  const repo = new ProfileRepo(profilesFilePath(opts.configDir))
  const secrets = opts.secrets
  let sink: EventSink = () => {}
  // The repo also finds profiles by name; IPC callers must name a profile by its id, or secrets
  // and connections would be keyed by whatever string a buggy or hostile renderer sent.
  const profileById = async (id: string): Promise<GatewayProfile | null> => {
    const p = await repo.get(id)
    return p && p.id === id ? p : null
  }
  const manager = new ConnectionManager({
    getProfile: profileById,
    secrets,
    connector: { client: opts.clientInfo, userAgent: opts.userAgent },
    onSnapshot: (snapshot) => {
      sink('connection:state', snapshot)
      signIn.onConnectionSnapshot(snapshot)
    },
    onSessionEvent: (event) => sink('session:event', event)
  })
  const doctor = new ProfileDoctor({
    connector: { secrets, client: opts.clientInfo, userAgent: opts.userAgent },
    onStep: (profileId, step) => sink('doctor:progress', { profileId, step })
  })
  const signIn: AccessSignInService = new AccessSignInService({
    ...(opts.accessLoginWindows ? { windows: opts.accessLoginWindows } : {}),
    secrets,
    getProfile: profileById,
    async updateAccess(profileId, access) {
      const profile = await profileById(profileId)
      if (!profile) return
      const saved = await repo.save({ ...profile, access: { ...profile.access, ...access } })
      if (!saved.ok) console.error('[access] could not record the sign-in in the profile:', saved.error.code)
    },
    tokenStored: (profileId) => manager.credentialsUpdated(profileId),
    signedOut: (profileId) => {
      manager.disconnect(profileId)
    },
    isActive: (profileId) => manager.snapshot(profileId).state.kind !== 'idle',
    emit: (status) => sink('access:status', status),
    openExternal: (url) => opts.openExternal(url),
    async httpFor(profile) {
      const trusted = await trustedCertificates(profile.options.caFile)
      return trusted.ok ? ok(nodeHttpGet({ ca: trusted.value })) : trusted
    },
    ...(opts.transferBaseUrl ? { transferBaseUrl: opts.transferBaseUrl } : {}),
    ...(opts.accessRenewal ? { renewal: opts.accessRenewal } : {})
  })
  // Seed the local gateway only on a real first start (no profiles file yet): an operator who
  // removed every gateway does not want it back.
  let seedPending = opts.defaultProfile !== null && !existsSync(profilesFilePath(opts.configDir))

  async function secretsStatus(profileId: string): Promise<SecretsStatus> {
    const entries = await Promise.all(
      SECRET_KINDS.map(async (kind) => {
        const value = await secrets.get(SECRET_KEY_OF[kind](profileId))
        return [kind, { set: value !== null && value !== '', hint: secretHint(value) }] as const
      })
    )
    return Object.fromEntries(entries) as SecretsStatus
  }

  async function view(profile: GatewayProfile): Promise<ProfileView> {
    return { ...profile, secrets: await secretsStatus(profile.id) }
  }

  async function listProfiles(): Promise<ProfileView[]> {
    let profiles = await repo.list()
    if (seedPending && profiles.length === 0) {
      const saved = await repo.save({ ...(opts.defaultProfile ?? LOCAL_GATEWAY_PROFILE), access: { mode: 'none' } })
      if (saved.ok) profiles = [saved.value]
    }
    seedPending = false
    return Promise.all(profiles.map(view))
  }

  const impl: { [C in InvokeChannel]: (...args: never[]) => Promise<Result<InvokeResponses[C]>> } = {
    'app:info': async () =>
      ok({
        name: APP_NAME,
        version: APP_VERSION,
        platform: opts.clientInfo.platform,
        secretStorage: opts.secretStorage
      }),
    'profiles:list': async () => ok(await listProfiles()),
    'profiles:save': async (draft: ProfileDraft) => {
      const before = draft.id ? await profileById(draft.id) : null
      if (draft.id && !before) return noSuchGateway()
      const saved = await repo.save(draft)
      if (!saved.ok) return saved
      const after = saved.value
      const dialChanged =
        before !== null &&
        (before.url !== after.url ||
          JSON.stringify(before.access) !== JSON.stringify(after.access) ||
          before.options.caFile !== after.options.caFile)
      // A live connection to the old address must not keep looking current.
      if (dialChanged) manager.reconnectIfActive(after.id)
      else manager.credentialsUpdated(after.id)
      // The renewal timer runs only for email sign-in profiles: re-arm it for the saved mode.
      await signIn.refresh(after.id, { emit: before !== null })
      return ok(await view(after))
    },
    'profiles:remove': async (profileId: string) => {
      manager.forget(profileId)
      signIn.forget(profileId)
      const removed = await repo.remove(profileId)
      for (const key of [
        secretKeys.gatewayToken(profileId),
        secretKeys.cfClientSecret(profileId),
        secretKeys.cfAppToken(profileId),
        secretKeys.cfBinding(profileId),
        secretKeys.deviceToken(profileId)
      ]) {
        await secrets.delete(key)
      }
      return ok({ removed })
    },
    'secrets:set': async (profileId: string, kind: SecretKind, value: string) => {
      if (!(await profileById(profileId))) return fail(appError('PROFILE_NOT_FOUND', 'No such gateway', 'Save the gateway before setting its secrets.'))
      const clean = value.trim()
      if (clean === '' || /\s/.test(clean)) {
        return fail(
          appError('INVALID_INPUT', 'That value cannot be used', 'The value is empty or has spaces or line breaks in the middle; paste it again as one value.')
        )
      }
      await secrets.set(SECRET_KEY_OF[kind](profileId), clean)
      if (kind === 'cfAppToken') await signIn.refresh(profileId)
      manager.credentialsUpdated(profileId)
      return ok(await secretsStatus(profileId))
    },
    'secrets:clear': async (profileId: string, kind: SecretKind) => {
      if (!(await profileById(profileId))) return noSuchGateway()
      await secrets.delete(SECRET_KEY_OF[kind](profileId))
      if (kind === 'cfAppToken') await signIn.refresh(profileId)
      return ok(await secretsStatus(profileId))
    },
    'connection:connect': async (profileId: string) => {
      if (!(await profileById(profileId))) return noSuchGateway()
      return ok(manager.connect(profileId))
    },
    'connection:disconnect': async (profileId: string) => ok(manager.disconnect(profileId)),
    'connection:snapshots': async () => ok(manager.snapshots((await repo.list()).map((p) => p.id))),
    'session:history': async (profileId: string, sessionKey: string) => manager.history(profileId, sessionKey),
    'session:list': async (profileId: string) => manager.sessions(profileId),
    'session:send': async (profileId: string, sessionKey: string, text: string, clientMessageId: string) =>
      manager.send(profileId, sessionKey, text, clientMessageId),
    'session:abort': async (profileId: string, sessionKey: string, runId?: string) => manager.abort(profileId, sessionKey, runId),
    'shell:open-external': async (raw: string) => {
      const url = safeExternalUrl(raw)
      if (!url) return fail(appError('INVALID_INPUT', 'Link not opened', 'Only https:// and mailto: links are opened, in your browser.'))
      await opts.openExternal(url)
      return ok({ opened: true })
    },
    'access:sign-in': async (profileId: string) => {
      if (!(await profileById(profileId))) return noSuchGateway()
      return ok(await signIn.signIn(profileId))
    },
    'access:sign-in-browser': async (profileId: string) => {
      if (!(await profileById(profileId))) return noSuchGateway()
      return ok(await signIn.signInWithBrowser(profileId))
    },
    'access:cancel': async (profileId: string) => ok({ cancelled: signIn.cancel(profileId) }),
    'access:sign-out': async (profileId: string) => {
      if (!(await profileById(profileId))) return noSuchGateway()
      return ok(await signIn.signOut(profileId))
    },
    'access:status': async () => ok(await signIn.statuses((await repo.list()).map((p) => p.id))),
    'doctor:run': async (profileId: string) => {
      const profile = await profileById(profileId)
      if (!profile) return noSuchGateway()
      return doctor.run(profile)
    },
    'doctor:cancel': async (profileId: string) => ok({ cancelled: doctor.cancel(profileId) })
  }

  const handlers = {} as InvokeHandlers
  for (const channel of Object.keys(INVOKE_SCHEMAS) as InvokeChannel[]) {
    handlers[channel] = async (args: unknown[]) => {
      const parsed = INVOKE_SCHEMAS[channel].safeParse(args)
      if (!parsed.success) {
        const first = parsed.error.issues[0] as { path: PropertyKey[]; code?: string; maximum?: unknown } | undefined
        return fail(invalidArgs(channel, first))
      }
      try {
        const fn = impl[channel] as (...a: unknown[]) => Promise<Result<unknown>>
        return await fn(...(parsed.data as unknown[]))
      } catch (e) {
        if (e instanceof SecretStoreError) return fail(e.appError)
        // A bug, not an expected failure: the stack stays in the main process, the renderer
        // gets a plain sentence (never the message, which might quote a value).
        console.error(`[ipc] ${channel} failed`, e)
        return fail(appError('INTERNAL', 'Unexpected error', 'Something went wrong in Aether Remote. Try again; if it keeps happening, restart the app.'))
      }
    }
  }

  return {
    handlers,
    manager,
    signIn,
    setEventSink(next) {
      sink = next
    },
    async dispose() {
      signIn.dispose()
      doctor.dispose()
      manager.dispose()
    }
  }
}
