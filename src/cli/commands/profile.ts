/**
 * `profile list|add|show|remove`: saved gateways for `connect --profile`.
 *
 * `add` stores the secrets found in the AETHER_* variables in the keychain under the new
 * profile; the profiles file itself never holds one. `add` with the name of an existing profile
 * updates it, keeping every field not given on the command line.
 */
import path from 'node:path'
import { appError, type AppError } from '../../shared/errors'
import { parseGatewayUrl } from '../../shared/gateway-url'
import { ACCESS_MODES, type AccessMode, type GatewayProfile } from '../../shared/profile'
import { hasOnlyTokenCharacters, inspectAppToken, normaliseAppToken } from '../../main/cf-access/app-token'
import { ProfileRepoError } from '../../main/profiles/profile-repo'
import { secretHint, secretKeys, type SecretKey } from '../../main/secrets/secret-store'
import { readCaFile } from '../../main/transport/trust-store'
import type { ProfileArgs } from '../args'
import type { CliContext } from '../context'
import { findProfile, loadProfiles } from '../profiles-file'

function describe(p: GatewayProfile): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    url: p.url,
    sessionKey: p.sessionKey,
    access: p.access,
    options: p.options,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt
  }
}

function invalid(message: string): AppError {
  return appError('INVALID_INPUT', 'Invalid command line', message, {
    nextSteps: [{ action: 'check-url', label: 'Run `npm run cli -- help` for the usage.' }]
  })
}

/** A CA file given on the command line: absolute, readable, with at least one PEM certificate. */
export async function resolveCaFile(file: string, cwd: string): Promise<{ ok: true; path: string } | { ok: false; error: AppError }> {
  const absolute = path.resolve(cwd, file)
  const read = await readCaFile(absolute)
  return read.ok ? { ok: true, path: absolute } : { ok: false, error: read.error }
}

export async function runProfile(args: ProfileArgs, ctx: CliContext): Promise<number> {
  const { output } = ctx
  const repo = ctx.profiles()
  const loaded = await loadProfiles(ctx)
  if (!loaded.ok) return ctx.fail(loaded.error)
  const profiles = loaded.value
  switch (args.action) {
    case 'list': {
      if (output.json) output.event({ type: 'profiles', profiles: profiles.map(describe) })
      else if (profiles.length === 0) output.out('No saved profiles. Add one with `npm run cli -- profile add --name NAME --url URL`.\n')
      else for (const p of profiles) output.out(`${p.name}\t${p.url}\t${p.sessionKey}\taccess: ${p.access.mode}\n`)
      return 0
    }
    case 'show': {
      const p = findProfile(profiles, args.name)
      if (!p) return ctx.fail(notFound(args.name ?? ''))
      const store = await ctx.secrets()
      const hints: Record<string, string> = {}
      const keys: [string, SecretKey][] = [
        ['gatewayToken', secretKeys.gatewayToken(p.id)],
        ['cfClientSecret', secretKeys.cfClientSecret(p.id)],
        ['cfAppToken', secretKeys.cfAppToken(p.id)]
      ]
      try {
        for (const [name, key] of keys) hints[name] = secretHint(await store.get(key))
      } catch (e) {
        const err = (e as { appError?: AppError }).appError
        if (err) return ctx.fail(err)
        throw e
      }
      if (output.json) output.event({ type: 'profile', profile: describe(p), secrets: hints })
      else {
        output.out(`${p.name}\n  url: ${p.url}\n  session: ${p.sessionKey}\n  access: ${p.access.mode}${p.access.clientId ? ` (client id ${p.access.clientId})` : ''}\n`)
        if (p.access.aud) output.out(`  AUD: ${p.access.aud}\n`)
        if (p.options.caFile) output.out(`  CA file: ${p.options.caFile}\n`)
        if (p.options.connectTimeoutMs) output.out(`  timeout: ${p.options.connectTimeoutMs / 1000} s\n`)
        for (const [name, hint] of Object.entries(hints)) output.out(`  ${name}: ${hint}\n`)
      }
      return 0
    }
    case 'remove': {
      const p = findProfile(profiles, args.name)
      if (!p) return ctx.fail(notFound(args.name ?? ''))
      try {
        await repo.remove(p.id)
      } catch (e) {
        if (e instanceof ProfileRepoError) return ctx.fail(e.appError)
        throw e
      }
      const store = await ctx.secrets()
      try {
        for (const key of [
          secretKeys.gatewayToken(p.id),
          secretKeys.cfClientSecret(p.id),
          secretKeys.cfAppToken(p.id),
          secretKeys.cfBinding(p.id),
          secretKeys.deviceToken(p.id)
        ]) {
          await store.delete(key)
        }
      } catch (e) {
        const err = (e as { appError?: AppError }).appError
        if (err) return ctx.fail(err)
        throw e
      }
      output.event({ type: 'removed', id: p.id, name: p.name })
      output.out(`Removed profile ${p.name} and its secrets.\n`)
      return 0
    }
    case 'add':
      return addProfile(args, ctx, findProfile(profiles, args.name))
  }
}

async function addProfile(args: ProfileArgs, ctx: CliContext, existing: GatewayProfile | undefined): Promise<number> {
  const { output } = ctx
  const s = ctx.suppliedSecrets
  const url = args.url ?? existing?.url
  if (!url) return ctx.fail(invalid('profile add needs --url <ws(s)://...>.'))

  const fromEnv: AccessMode | undefined = s.cfClientId || s.cfClientSecret ? 'service-token' : s.cfAppToken ? 'email-otp' : undefined
  const mode = (args.access ?? fromEnv ?? existing?.access.mode ?? 'none') as AccessMode
  if (!ACCESS_MODES.includes(mode)) return ctx.fail(invalid(`--access must be one of ${ACCESS_MODES.join(', ')}.`))
  const clientId =
    args.clientId ?? s.cfClientId ?? (mode === 'service-token' && existing?.access.mode === 'service-token' ? existing.access.clientId : undefined)
  if (mode === 'service-token' && !clientId?.trim()) {
    return ctx.fail(
      invalid('--access service-token needs the service token\u2019s Client ID: give --client-id ID or set AETHER_CF_CLIENT_ID (the Client Secret goes in AETHER_CF_CLIENT_SECRET).')
    )
  }
  const aud = args.aud ?? existing?.access.aud

  // An app token is checked before it is stored: a malformed or expired one would only fail later.
  let appToken: string | undefined
  if (s.cfAppToken?.trim()) {
    appToken = normaliseAppToken(s.cfAppToken)
    if (appToken !== '' && !hasOnlyTokenCharacters(appToken)) {
      return ctx.fail(
        appError(
          'INVALID_INPUT',
          'The app token is not usable',
          'The Cloudflare Access app token (AETHER_CF_APP_TOKEN) contains characters a token cannot have (a line break, tab, space or other symbol inside it). Copy the CF_Authorization value again, on one line.'
        )
      )
    }
    const check = inspectAppToken(appToken, { nowMs: Date.now(), ...(aud ? { expectedAud: aud } : {}) })
    if (!check.ok) return ctx.fail(check.error)
  }

  let caFile = existing?.options.caFile
  if (args.caFile !== undefined) {
    const ca = await resolveCaFile(args.caFile, ctx.cwd)
    if (!ca.ok) return ctx.fail(ca.error)
    caFile = ca.path
  }
  const parsedUrl = parseGatewayUrl(url)
  if (caFile && parsedUrl.ok && !parsedUrl.value.secure) {
    output.warning(`The CA file only applies to wss:// addresses; ${parsedUrl.value.href} is plain ws://, so it is not used.`)
  }
  const connectTimeoutMs = args.timeoutSec ? Math.round(args.timeoutSec * 1000) : existing?.options.connectTimeoutMs
  const sessionKey = args.session ?? existing?.sessionKey

  const saved = await ctx.profiles().save({
    ...(existing ? { id: existing.id } : {}),
    name: args.name ?? existing?.name ?? '',
    url,
    ...(sessionKey ? { sessionKey } : {}),
    access: { mode, ...(mode === 'service-token' && clientId ? { clientId } : {}), ...(aud ? { aud } : {}) },
    options: {
      ...(caFile ? { caFile } : {}),
      ...(connectTimeoutMs ? { connectTimeoutMs } : {})
    }
  })
  if (!saved.ok) return ctx.fail(saved.error)
  const p = saved.value

  const toStore: [SecretKey, string | undefined, string][] = [
    [secretKeys.gatewayToken(p.id), s.gatewayToken?.trim(), 'gateway token'],
    [secretKeys.cfClientSecret(p.id), s.cfClientSecret?.trim(), 'Cloudflare client secret'],
    [secretKeys.cfAppToken(p.id), appToken, 'Cloudflare app token']
  ]
  const stored: string[] = []
  let persistent = true
  if (toStore.some(([, v]) => v)) {
    const opened = await ctx.openSecrets()
    persistent = opened.persistent
    try {
      for (const [key, value, label] of toStore) {
        if (!value) continue
        await opened.store.set(key, value)
        stored.push(label)
      }
    } catch (e) {
      const err = (e as { appError?: AppError }).appError
      if (err) return ctx.fail(err)
      throw e
    }
  }
  output.event({
    type: 'saved',
    profile: describe(p),
    storedSecrets: persistent ? stored : [],
    ...(persistent ? {} : { memoryOnlySecrets: stored })
  })
  const where = stored.length === 0 ? '' : persistent ? ` Stored in the keychain: ${stored.join(', ')}.` : ` Kept in memory only for this run (no keychain): ${stored.join(', ')}.`
  output.out(`${existing ? 'Updated' : 'Saved'} profile ${p.name} (${p.url}).${where}\n`)
  return 0
}

function notFound(name: string): AppError {
  return appError('PROFILE_NOT_FOUND', 'No such profile', `There is no saved profile named "${name}".`, {
    nextSteps: [{ action: 'check-url', label: 'List profiles with `npm run cli -- profile list`.' }]
  })
}
