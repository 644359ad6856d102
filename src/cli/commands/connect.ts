/**
 * `connect`: dial a gateway (ad hoc or from a profile), print the hello summary, or send one
 * message and stream the reply.
 */
import { appError, exitCodeFor, type AppError } from '../../shared/errors'
import { targetFromProfile, targetFromUrl, type ResolvedTarget, type SuppliedSecrets } from '../../main/gateway/connect-target'
import { connectGateway, connectWaitingForPairing, type ConnectorDeps, type Connected } from '../../main/gateway/gateway-connector'
import { ChatSession } from '../../main/gateway/chat-session'
import type { HelloSummary } from '../../main/gateway/gateway-connection'
import type { Result } from '../../shared/errors'
import type { ConnectArgs } from '../args'
import type { CliContext } from '../context'

function helloEvent(hello: HelloSummary, sessionKey: string): Record<string, unknown> {
  return {
    type: 'hello',
    protocol: hello.protocol,
    serverVersion: hello.serverVersion ?? null,
    connId: hello.connId ?? null,
    sessionKey,
    mainSessionKey: hello.mainSessionKey,
    scopes: hello.scopes,
    authMethod: hello.authMethod ?? null,
    tickIntervalMs: hello.tickIntervalMs,
    deviceTokenIssued: hello.deviceTokenIssued
  }
}

function helloText(hello: HelloSummary, sessionKey: string, url: string): string {
  return [
    `Connected to ${url}`,
    `  gateway version: ${hello.serverVersion ?? 'unknown'}`,
    `  protocol: ${hello.protocol}`,
    `  session: ${sessionKey} (gateway main session: ${hello.mainSessionKey})`,
    `  permissions: ${hello.scopes.length > 0 ? hello.scopes.join(', ') : 'none'}`,
    `  signed in with: ${hello.authMethod ?? 'token'}${hello.deviceTokenIssued ? ' (device token issued and stored)' : ''}`
  ].join('\n')
}

export async function runConnect(args: ConnectArgs, ctx: CliContext): Promise<number> {
  const { output } = ctx
  const supplied: SuppliedSecrets = ctx.suppliedSecrets
  const overrides = {
    ...(args.session ? { sessionKey: args.session } : {}),
    ...(args.caFile ? { caFile: args.caFile } : {}),
    ...(args.timeoutSec ? { connectTimeoutMs: Math.round(args.timeoutSec * 1000) } : {})
  }

  let resolved: Result<ResolvedTarget>
  if (args.profile) {
    const profile = await ctx.profiles().get(args.profile)
    if (!profile) {
      return ctx.fail(
        appError('PROFILE_NOT_FOUND', 'No such profile', `There is no saved profile named "${args.profile}".`, {
          nextSteps: [{ action: 'check-url', label: 'List profiles with `npm run cli -- profile list`.' }]
        })
      )
    }
    resolved = await targetFromProfile(profile, await ctx.secrets(), supplied, overrides)
  } else {
    resolved = targetFromUrl(args.url ?? '', supplied, overrides)
  }
  if (!resolved.ok) return ctx.fail(resolved.error)
  const { target, sessionKey } = resolved.value
  for (const w of resolved.value.warnings) output.warning(w)

  const deps: ConnectorDeps = {
    secrets: await ctx.secrets(),
    client: ctx.clientInfo,
    userAgent: ctx.userAgent
  }
  const abort = new AbortController()
  const onSigint = () => abort.abort()
  process.once('SIGINT', onSigint)
  try {
    const onProgress = (m: string) => output.info(m)
    let connected: Result<Connected>
    if (args.waitPairing) {
      connected = await connectWaitingForPairing(target, deps, {
        signal: abort.signal,
        onProgress,
        ...(args.pairingTimeoutSec ? { maxWaitMs: args.pairingTimeoutSec * 1000 } : {}),
        onPairingPending: (error, attempt) => {
          const requestId = error.details.pairingRequestId
          const command = error.nextSteps.find((s) => s.command)?.command
          output.event({ type: 'pairing', requestId: requestId ?? null, command: command ?? null, attempt })
          if (attempt === 0) {
            output.info(`Waiting for this device to be approved on the gateway${requestId ? ` (request ${requestId})` : ''}.`)
            if (command) output.info(`  Run on the gateway host: ${command}`)
            output.info('  Press Ctrl-C to stop waiting.')
          }
        }
      })
    } else {
      connected = await connectGateway(target, deps, { signal: abort.signal, onProgress })
    }
    if (!connected.ok) return ctx.fail(connected.error)
    const { connection, warnings } = connected.value
    for (const w of warnings) output.warning(w)
    output.event(helloEvent(connection.hello, sessionKey))
    if (args.message === undefined) {
      output.out(helloText(connection.hello, sessionKey, target.url.href) + '\n')
      connection.close()
      return 0
    }
    output.info(`Connected to ${target.url.href} (protocol ${connection.hello.protocol}); session ${sessionKey}.`)
    const code = await chatOnce(connection, sessionKey, args, ctx, abort.signal)
    connection.close()
    return code
  } finally {
    process.off('SIGINT', onSigint)
  }
}

async function chatOnce(
  connection: Connected['connection'],
  sessionKey: string,
  args: ConnectArgs,
  ctx: CliContext,
  signal: AbortSignal
): Promise<number> {
  const { output } = ctx
  const session = new ChatSession(connection, sessionKey)
  const sent = await session.send(args.message ?? '')
  if (!sent.ok) return ctx.fail(sent.error)
  const run = sent.value
  let printedAny = false
  run.onUpdate((u) => {
    if (u.type === 'delta') {
      output.event({ type: 'delta', runId: u.runId, text: u.appended, replaced: u.replaced })
      if (u.replaced && printedAny) output.out('\n')
      output.out(u.appended)
      printedAny = printedAny || u.appended.length > 0
    } else if (u.type === 'status') {
      output.event({ type: 'status', runId: u.runId, phase: u.phase })
    }
  })
  // Ctrl-C while the reply streams: stop the run on the gateway rather than leave it going.
  const onAbort = () => void session.abort(run.runId)
  signal.addEventListener('abort', onAbort, { once: true })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), args.replyTimeoutSec * 1000)
  })
  const outcome = await Promise.race([run.done, timeout])
  clearTimeout(timer)
  signal.removeEventListener('abort', onAbort)
  session.dispose()
  if (outcome === 'timeout') {
    await session.abort(run.runId)
    return ctx.fail(
      appError('TIMEOUT', 'The reply did not finish in time', `The agent\u2019s reply did not finish within ${args.replyTimeoutSec} s; the run was aborted.`, {
        details: { timeoutMs: args.replyTimeoutSec * 1000 },
        nextSteps: [{ action: 'retry', label: 'Retry with a longer --reply-timeout.' }]
      })
    )
  }
  if (outcome.state === 'final') {
    output.event({ type: 'final', runId: run.runId, text: outcome.text, stopReason: outcome.stopReason ?? null })
    if (!printedAny) output.out(outcome.text)
    output.out('\n')
    return 0
  }
  if (outcome.state === 'aborted') {
    output.event({ type: 'aborted', runId: run.runId, text: outcome.text, stopReason: outcome.stopReason ?? null })
    output.out('\n')
    output.info('The run was aborted.')
    return signal.aborted ? 130 : 1
  }
  if (printedAny) output.out('\n')
  return ctx.fail(outcome.error)
}

/** Exit code for an error, printing it first. */
export function reportAndExitCode(error: AppError, print: (e: AppError) => void): number {
  print(error)
  return exitCodeFor(error)
}
