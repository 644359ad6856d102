/**
 * Reading the profiles file for a command, saying what is wrong with it.
 *
 * ProfileRepo never loses a broken file silently: it moves a corrupt one aside, and leaves one
 * from a newer build untouched. Those are reported through `load()` warnings, and a command
 * must pass them on: a file moved aside is a warning naming where it went (the command goes
 * on with an empty list), a file this build cannot use (newer version, unreadable) is the
 * command's error.
 */
import { appError, fail, ok, type AppError, type Result } from '../shared/errors'
import type { GatewayProfile } from '../shared/profile'
import type { CliContext } from './context'

/** The saved profiles, after printing any warning about the file; an error when it cannot be used. */
export async function loadProfiles(ctx: CliContext): Promise<Result<GatewayProfile[]>> {
  const { profiles, warnings } = await ctx.profiles().load()
  let blocking: AppError | undefined
  for (const w of warnings) {
    if (w.kind === 'moved-aside') ctx.output.warning(`${w.error.title}: ${w.error.message}`)
    else blocking ??= w.error
  }
  return blocking ? fail(blocking) : ok(profiles)
}

function sameName(a: string, b: string): boolean {
  return a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase()
}

/** The profile whose id is `idOrName`, else the one named so ignoring case (as ProfileRepo.get). */
export function findProfile(profiles: readonly GatewayProfile[], idOrName: string | undefined): GatewayProfile | undefined {
  const wanted = (idOrName ?? '').trim()
  if (wanted === '') return undefined
  return profiles.find((p) => p.id === wanted) ?? profiles.find((p) => sameName(p.name, wanted))
}

/** The saved profile a `--profile NAME` option names, or the error to print (file unusable, no such profile). */
export async function requireProfile(ctx: CliContext, idOrName: string): Promise<Result<GatewayProfile>> {
  const loaded = await loadProfiles(ctx)
  if (!loaded.ok) return loaded
  const profile = findProfile(loaded.value, idOrName)
  if (profile) return ok(profile)
  return fail(
    appError('PROFILE_NOT_FOUND', 'No such profile', `There is no saved profile named "${idOrName}".`, {
      nextSteps: [{ action: 'check-url', label: 'List profiles with `npm run cli -- profile list`.' }]
    })
  )
}
