/**
 * `profile list|add|show|remove`: saved gateways for `connect --profile`.
 *
 * `add` stores the secrets found in the AETHER_* variables in the keychain under the new
 * profile; the profiles file itself never holds one.
 */
import { appError, type AppError } from '../../shared/errors'
import { ACCESS_MODES, type AccessMode, type GatewayProfile } from '../../shared/profile'
import { secretHint, secretKeys, type SecretKey } from '../../main/secrets/secret-store'
import type { ProfileArgs } from '../args'
import type { CliContext } from '../context'

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

export async function runProfile(args: ProfileArgs, ctx: CliContext): Promise<number> {
  const { output } = ctx
  const repo = ctx.profiles()
  switch (args.action) {
    case 'list': {
      const profiles = await repo.list()
      if (output.json) output.event({ type: 'profiles', profiles: profiles.map(describe) })
      else if (profiles.length === 0) output.out('No saved profiles. Add one with `npm run cli -- profile add --name NAME --url URL`.\n')
      else for (const p of profiles) output.out(`${p.name}\t${p.url}\t${p.sessionKey}\taccess: ${p.access.mode}\n`)
      return 0
    }
    case 'show': {
      const p = await repo.get(args.name ?? '')
      if (!p) return ctx.fail(notFound(args.name ?? ''))
      const store = await ctx.secrets()
      const hints: Record<string, string> = {}
      const keys: [string, SecretKey][] = [
        ['gatewayToken', secretKeys.gatewayToken(p.id)],
        ['cfClientSecret', secretKeys.cfClientSecret(p.id)],
        ['cfAppToken', secretKeys.cfAppToken(p.id)]
      ]
      for (const [name, key] of keys) hints[name] = secretHint(await store.get(key))
      if (output.json) output.event({ type: 'profile', profile: describe(p), secrets: hints })
      else {
        output.out(`${p.name}\n  url: ${p.url}\n  session: ${p.sessionKey}\n  access: ${p.access.mode}${p.access.clientId ? ` (client id ${p.access.clientId})` : ''}\n`)
        if (p.options.caFile) output.out(`  CA file: ${p.options.caFile}\n`)
        for (const [name, hint] of Object.entries(hints)) output.out(`  ${name}: ${hint}\n`)
      }
      return 0
    }
    case 'remove': {
      const p = await repo.get(args.name ?? '')
      if (!p) return ctx.fail(notFound(args.name ?? ''))
      await repo.remove(p.id)
      const store = await ctx.secrets()
      for (const key of [
        secretKeys.gatewayToken(p.id),
        secretKeys.cfClientSecret(p.id),
        secretKeys.cfAppToken(p.id),
        secretKeys.cfBinding(p.id),
        secretKeys.deviceToken(p.id)
      ]) {
        await store.delete(key)
      }
      output.event({ type: 'removed', id: p.id, name: p.name })
      output.out(`Removed profile ${p.name} and its secrets.\n`)
      return 0
    }
    case 'add': {
      const mode = (args.access ?? (ctx.suppliedSecrets.cfClientId ? 'service-token' : ctx.suppliedSecrets.cfAppToken ? 'email-otp' : 'none')) as AccessMode
      if (!ACCESS_MODES.includes(mode)) {
        return ctx.fail(appError('INVALID_INPUT', 'Invalid command line', `--access must be one of ${ACCESS_MODES.join(', ')}.`))
      }
      const existing = await repo.get(args.name ?? '')
      const clientId = args.clientId ?? ctx.suppliedSecrets.cfClientId
      const saved = await repo.save({
        ...(existing ? { id: existing.id } : {}),
        name: args.name ?? '',
        url: args.url ?? '',
        ...(args.session ? { sessionKey: args.session } : {}),
        access: { mode, ...(clientId ? { clientId } : {}), ...(args.aud ? { aud: args.aud } : {}) },
        options: {
          ...(args.caFile ? { caFile: args.caFile } : {}),
          ...(args.timeoutSec ? { connectTimeoutMs: Math.round(args.timeoutSec * 1000) } : {})
        }
      })
      if (!saved.ok) return ctx.fail(saved.error)
      const p = saved.value
      const s = ctx.suppliedSecrets
      const store = await ctx.secrets()
      const stored: string[] = []
      const put = async (key: SecretKey, value: string | undefined, label: string) => {
        const v = value?.trim()
        if (!v) return
        await store.set(key, v)
        stored.push(label)
      }
      try {
        await put(secretKeys.gatewayToken(p.id), s.gatewayToken, 'gateway token')
        await put(secretKeys.cfClientSecret(p.id), s.cfClientSecret, 'Cloudflare client secret')
        await put(secretKeys.cfAppToken(p.id), s.cfAppToken, 'Cloudflare app token')
      } catch (e) {
        const err = (e as { appError?: AppError }).appError
        if (err) return ctx.fail(err)
        throw e
      }
      output.event({ type: 'saved', profile: describe(p), storedSecrets: stored })
      output.out(`${existing ? 'Updated' : 'Saved'} profile ${p.name} (${p.url}).${stored.length ? ` Stored in the keychain: ${stored.join(', ')}.` : ''}\n`)
      return 0
    }
  }
}

function notFound(name: string): AppError {
  return appError('PROFILE_NOT_FOUND', 'No such profile', `There is no saved profile named "${name}".`, {
    nextSteps: [{ action: 'check-url', label: 'List profiles with `npm run cli -- profile list`.' }]
  })
}
