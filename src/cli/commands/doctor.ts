/**
 * `doctor`: check every step between this computer and a gateway and say what is wrong.
 *
 * Credentials come as for `connect`: from the environment, and with --profile from the
 * keychain. Human output is the Markdown report; --json prints the report as ONE JSON
 * document (warnings about the input become its `notes`), also when the credentials given
 * cannot be used: the checks then run without them and the verdict names the problem. Only a
 * command line that cannot be read at all (and an unknown profile) ends in an error document. The exit code follows the error
 * category of the verdict's first cause (0 when the gateway works).
 */
import path from 'node:path'
import { appError, exitCodeFor, type Result } from '../../shared/errors'
import { targetFromProfile, targetFromUrl, targetFromUrlWithStore, type ResolvedTarget } from '../../main/gateway/connect-target'
import { displayGatewayUrl } from '../../shared/gateway-url'
import { urlTargetId } from '../../main/secrets/secret-store'
import { runDoctor, doctorInputFromTarget } from '../../main/doctor/run-doctor'
import type { DoctorInput } from '../../main/doctor/context'
import { nodeDoctorPorts } from '../../main/doctor/node-ports'
import { renderDoctorMarkdown } from '../../main/doctor/markdown'
import type { DoctorArgs } from '../args'
import { createCliContext, type CliContext } from '../context'
import type { Output } from '../output'
import { requireProfile } from '../profiles-file'

export async function runDoctorCommand(args: DoctorArgs, outer: CliContext): Promise<number> {
  // Warnings (keychain, trimmed input) go into the report, so --json stays one document.
  const notes: string[] = []
  const quiet: Output = { ...outer.output, warning: (m) => notes.push(m), info: (m) => (outer.output.json ? undefined : outer.output.info(m)) }
  const ctx = createCliContext(quiet, outer.env)
  const caFile = args.caFile !== undefined ? path.resolve(ctx.cwd, args.caFile) : undefined
  const overrides = { ...(caFile ? { caFile } : {}), ...(args.timeoutSec ? { connectTimeoutMs: Math.round(args.timeoutSec * 1000) } : {}) }

  let resolved: Result<ResolvedTarget>
  let profileName: string | undefined
  // Without Access credentials, for when the ones given cannot be used: the checks up to the
  // login page still tell the operator what to set up.
  let withoutAccess: () => Promise<Result<ResolvedTarget>>
  const gatewayOnly = { ...(ctx.suppliedSecrets.gatewayToken !== undefined ? { gatewayToken: ctx.suppliedSecrets.gatewayToken } : {}) }
  if (args.profile) {
    const found = await requireProfile(ctx, args.profile)
    if (!found.ok) return outer.fail(found.error)
    const profile = args.url ? { ...found.value, url: args.url } : found.value
    profileName = profile.name
    const store = await ctx.secrets({ connect: true })
    resolved = await targetFromProfile(profile, store, ctx.suppliedSecrets, overrides)
    withoutAccess = () => targetFromProfile({ ...profile, access: { ...profile.access, mode: 'none' } }, store, gatewayOnly, overrides)
  } else {
    const raw = args.url ?? ''
    resolved = await targetFromUrlWithStore(raw, () => ctx.secrets({ connect: true }), ctx.suppliedSecrets, overrides)
    withoutAccess = async () => targetFromUrl(raw, gatewayOnly, overrides)
  }

  let input: DoctorInput
  const extra = { ...(profileName ? { profileName } : {}), ...(args.url ? { rawUrl: args.url } : {}) }
  if (resolved.ok) {
    input = doctorInputFromTarget(resolved.value.target, { ...extra, notes: [...resolved.value.warnings, ...notes] })
  } else if (resolved.error.code === 'INVALID_URL') {
    // The first step explains a bad address in full; the rest is skipped.
    const raw = args.url ?? ''
    let targetId = 'url:invalid'
    try {
      targetId = urlTargetId(raw)
    } catch {
      // keep the placeholder
    }
    // The report still says which credentials were given (as hints): the address is the problem.
    const gatewayToken = ctx.suppliedSecrets.gatewayToken?.trim()
    input = { url: raw, access: { kind: 'none' }, targetId, ...(gatewayToken ? { gatewayToken } : {}), ...(profileName ? { profileName } : {}) }
  } else {
    // The address is fine but the credentials are not (half a service token, two kinds at once,
    // a token over plain ws://): still one report, checked without them, the problem named in it.
    const problem = resolved.error
    const fallback = await withoutAccess()
    if (!fallback.ok) return outer.fail(problem)
    input = {
      ...doctorInputFromTarget(fallback.value.target, {
        ...extra,
        notes: [`The Cloudflare Access credentials given were ignored (${problem.title}: ${problem.message}); every check ran without them.`, ...fallback.value.warnings, ...notes]
      }),
      credentialProblem: problem
    }
  }

  const opened = await ctx.openSecrets({ connect: true })
  const abort = new AbortController()
  const onSigint = () => abort.abort()
  process.once('SIGINT', onSigint)
  try {
    // The address as typed may carry credentials, control characters or a screenful of text.
    if (!outer.output.json) outer.output.info(`Checking ${displayGatewayUrl(input.url)} (up to 30 s)\u2026`)
    const report = await runDoctor(
      { ...input, notes: [...(input.notes ?? []), ...notes.filter((n) => !(input.notes ?? []).includes(n))] },
      nodeDoctorPorts({ secrets: opened.store, client: ctx.clientInfo, userAgent: ctx.userAgent }),
      { userAgent: ctx.userAgent, signal: abort.signal, ...(args.timeoutSec ? { stepTimeoutsMs: { websocket: Math.round(args.timeoutSec * 1000) } } : {}) }
    )
    if (outer.output.json) outer.output.event(report as unknown as Record<string, unknown>)
    else outer.output.out(renderDoctorMarkdown(report) + '\n')
    if (abort.signal.aborted) return 130
    if (report.verdict.ok || !report.verdict.code) return report.verdict.ok ? 0 : 1
    return exitCodeFor(appError(report.verdict.code, report.verdict.headline, report.verdict.headline))
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
}
