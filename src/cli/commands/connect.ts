/**
 * `connect`: dial a gateway (ad hoc or from a profile), print the hello summary, or send one
 * message and stream the reply.
 *
 * Ctrl-C: while connecting it cancels the attempt; once a message is on its way (waiting for
 * the gateway to accept it, or while the reply streams) it asks the gateway to stop the run
 * (chat.abort) and waits a moment for the confirmation, never more than ABORT_WAIT_MS. Either
 * way the exit code is 130. A second Ctrl-C ends the process at once.
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { appError, exitCodeFor, type AppError } from '../../shared/errors'
import { shellWord } from '../../shared/shell-word'
import { targetFromProfile, targetFromUrlWithStore, type ResolvedTarget, type SuppliedSecrets } from '../../main/gateway/connect-target'
import { connectGateway, connectWaitingForPairing, type ConnectorDeps, type Connected } from '../../main/gateway/gateway-connector'
import { ChatSession, type ChatRun, type RunOutcome } from '../../main/gateway/chat-session'
import type { ChatUpdate } from '../../main/gateway/chat-assembler'
import type { HelloSummary } from '../../main/gateway/gateway-connection'
import { secretKeys } from '../../main/secrets/secret-store'
import type { Result } from '../../shared/errors'
import type { ConnectArgs } from '../args'
import type { CliContext, SecretsPurpose } from '../context'
import { requireProfile } from '../profiles-file'

/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130

/** How long Ctrl-C waits for the gateway to confirm the abort; the CLI ends within 3 s. */
export const ABORT_WAIT_MS = 2_000

/** How the device token of this connection was kept, for the summary. */
type DeviceTokenFate = 'none' | 'stored' | 'memory' | 'not-stored'

function helloEvent(hello: HelloSummary, sessionKey: string, fate: DeviceTokenFate): Record<string, unknown> {
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
    deviceTokenIssued: hello.deviceTokenIssued,
    deviceTokenStored: fate === 'stored'
  }
}

function helloText(hello: HelloSummary, sessionKey: string, url: string, fate: DeviceTokenFate): string {
  const token: Record<DeviceTokenFate, string> = {
    none: '',
    stored: ' (device token issued and stored)',
    memory: ' (device token issued; kept in memory for this run only, no keychain)',
    'not-stored': ' (device token issued, but it could not be stored)'
  }
  return [
    `Connected to ${url}`,
    `  gateway version: ${hello.serverVersion ?? 'unknown'}`,
    `  protocol: ${hello.protocol}`,
    `  session: ${sessionKey} (gateway main session: ${hello.mainSessionKey})`,
    `  permissions: ${hello.scopes.length > 0 ? hello.scopes.join(', ') : 'none'}`,
    `  signed in with: ${hello.authMethod ?? 'token'}${token[fate]}`
  ].join('\n')
}

export async function runConnect(args: ConnectArgs, ctx: CliContext): Promise<number> {
  const { output } = ctx
  const supplied: SuppliedSecrets = ctx.suppliedSecrets
  const caFile = args.caFile !== undefined ? path.resolve(ctx.cwd, args.caFile) : undefined
  const overrides = {
    ...(args.session ? { sessionKey: args.session } : {}),
    ...(caFile ? { caFile } : {}),
    ...(args.timeoutSec ? { connectTimeoutMs: Math.round(args.timeoutSec * 1000) } : {})
  }
  const purpose: SecretsPurpose = { connect: true, waitPairing: args.waitPairing }

  let resolved: Result<ResolvedTarget>
  if (args.profile) {
    const found = await requireProfile(ctx, args.profile)
    if (!found.ok) return ctx.fail(found.error)
    const profile = found.value
    resolved = await targetFromProfile(profile, await ctx.secrets(purpose), supplied, overrides)
  } else {
    // A sign-in `login --url` stored for this address is used when the environment has no Access credential.
    const fromUrl = await targetFromUrlWithStore(args.url ?? '', () => ctx.secrets(purpose), supplied, overrides)
    if (fromUrl.ok && fromUrl.value.usedStoredSignIn) output.info('Using the Cloudflare Access sign-in stored for this address (from `login`).')
    resolved = fromUrl
  }
  if (!resolved.ok) return ctx.fail(withLoginCommand(resolved.error, args))
  const { target, sessionKey } = resolved.value
  for (const w of resolved.value.warnings) output.warning(w)
  if (caFile && !target.url.secure) {
    output.warning(`The CA file only applies to wss:// addresses; ${target.url.href} is plain ws://, so it is not used.`)
  }

  const opened = await ctx.openSecrets(purpose)
  const deps: ConnectorDeps = {
    secrets: opened.store,
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
    if (!connected.ok) {
      if (abort.signal.aborted) {
        output.info('Cancelled.')
        if (connected.error.code !== 'CANCELLED') ctx.fail(connected.error)
        return EXIT_INTERRUPTED
      }
      if (args.waitPairing && args.pairingTimeoutSec && connected.error.code === 'PAIRING_REQUIRED') {
        output.info(`Stopped waiting for approval after ${args.pairingTimeoutSec} s.`)
      }
      return ctx.fail(withLoginCommand(connected.error, args))
    }
    const { connection, warnings } = connected.value
    if (abort.signal.aborted) {
      // Ctrl-C during the handshake, which cannot be interrupted: do not go on to send anything.
      connection.close()
      output.info('Cancelled.')
      return EXIT_INTERRUPTED
    }
    for (const w of warnings) output.warning(w)
    const fate = await deviceTokenFate(connection, deps, target.targetId, opened.persistent)
    output.event(helloEvent(connection.hello, sessionKey, fate))
    if (args.message === undefined) {
      output.out(helloText(connection.hello, sessionKey, target.url.href, fate) + '\n')
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

async function deviceTokenFate(
  connection: Connected['connection'],
  deps: ConnectorDeps,
  targetId: string,
  persistent: boolean
): Promise<DeviceTokenFate> {
  const issued = connection.issuedDeviceToken
  if (!issued) return 'none'
  let kept = false
  try {
    kept = (await deps.secrets.get(secretKeys.deviceToken(targetId))) === issued
  } catch {
    kept = false
  }
  if (!kept) return 'not-stored'
  return persistent ? 'stored' : 'memory'
}

/** Resolves when the signal aborts (at once if it already has). */
function whenAborted(signal: AbortSignal): Promise<'interrupted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('interrupted')
    else signal.addEventListener('abort', () => resolve('interrupted'), { once: true })
  })
}

function delay<T>(ms: number, value: T): { promise: Promise<T>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(value), ms)
  })
  return { promise, cancel: () => clearTimeout(timer) }
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
  const interrupted = whenAborted(signal)
  // Our own idempotency key, which the gateway uses as the run id: known before the gateway
  // accepts the message, so Ctrl-C in that window can already name the run to stop.
  const runId = randomUUID()
  const printed = { any: false }
  try {
    // What was printed so far; the listener is handed to send() so that events arriving in
    // the same packet as the gateway's acceptance are not missed.
    let shown = ''
    const onUpdate = (u: ChatUpdate) => {
      if (u.type === 'delta') {
        const piece = !u.replaced && u.text.startsWith(shown) ? u.text.slice(shown.length) : u.text
        const replaced = u.replaced || !u.text.startsWith(shown)
        output.event({ type: 'delta', runId: u.runId, text: piece, replaced })
        if (replaced && printed.any) output.out('\n')
        output.out(piece)
        shown = u.text
        printed.any = printed.any || piece.length > 0
      } else if (u.type === 'status') {
        output.event({ type: 'status', runId: u.runId, phase: u.phase })
      }
    }
    const sending = session.send(args.message ?? '', { idempotencyKey: runId, onUpdate })
    const first = await Promise.race([sending, interrupted])
    if (first === 'interrupted') return await abortRun(session, runId, sending, false, ctx, printed)
    if (!first.ok) return ctx.fail(first.error)
    const run = first.value
    const timeout = delay(args.replyTimeoutSec * 1000, 'timeout' as const)
    const outcome = await Promise.race([run.done, timeout.promise, interrupted])
    timeout.cancel()
    if (outcome === 'interrupted') return await abortRun(session, run.runId, Promise.resolve(first), true, ctx, printed)
    if (outcome === 'timeout') {
      const limit = delay(ABORT_WAIT_MS, undefined)
      await Promise.race([session.abort(run.runId), limit.promise])
      limit.cancel()
      if (printed.any) output.out('\n')
      return ctx.fail(
        appError('TIMEOUT', 'The reply did not finish in time', `The agent\u2019s reply did not finish within ${args.replyTimeoutSec} s; the run was aborted.`, {
          details: { timeoutMs: args.replyTimeoutSec * 1000 },
          nextSteps: [{ action: 'retry', label: 'Retry with a longer --reply-timeout.' }]
        })
      )
    }
    if (outcome.state === 'final') {
      output.event({ type: 'final', runId: run.runId, text: outcome.text, stopReason: outcome.stopReason ?? null })
      if (!printed.any) output.out(outcome.text)
      else if (outcome.text.startsWith(shown)) output.out(outcome.text.slice(shown.length))
      output.out('\n')
      return 0
    }
    if (outcome.state === 'aborted') {
      output.event({ type: 'aborted', runId: run.runId, text: outcome.text, stopReason: outcome.stopReason ?? null })
      output.out('\n')
      output.info('The run was aborted.')
      return 1
    }
    if (printed.any) output.out('\n')
    return ctx.fail(outcome.error)
  } finally {
    session.dispose()
  }
}

/**
 * Ctrl-C with a message on its way: ask the gateway to stop the run, wait briefly for it to
 * say so, and end with 130 whatever it answers (or if it never does).
 */
async function abortRun(
  session: ChatSession,
  runId: string,
  sending: Promise<Result<ChatRun>>,
  acceptedAlready: boolean,
  ctx: CliContext,
  printed: { any: boolean }
): Promise<number> {
  const { output } = ctx
  if (printed.any) output.out('\n')
  printed.any = false
  output.event({ type: 'aborting', runId })
  output.info('Aborting the run\u2026 (Ctrl-C again to quit at once)')
  const aborts = [session.abort(runId)]
  const deadline = delay(ABORT_WAIT_MS, 'deadline' as const)
  const settle = (async (): Promise<RunOutcome | 'not-started' | 'asked'> => {
    const sent = await sending
    if (!sent.ok) return 'not-started'
    runId = sent.value.runId
    // Accepted only after our chat.abort left: the gateway may not have known the run yet, so ask again.
    if (!acceptedAlready) aborts.push(session.abort(runId))
    const answered = Promise.all(aborts).then(() => delay(300, 'asked' as const).promise)
    return Promise.race([sent.value.done, answered])
  })()
  const result = await Promise.race([settle, deadline.promise])
  deadline.cancel()
  if (result === 'deadline') {
    output.info(`The gateway did not confirm the abort within ${ABORT_WAIT_MS / 1000} s; stopped waiting.`)
  } else if (result === 'not-started') {
    output.info('The message was not sent.')
  } else if (result === 'asked') {
    output.info('Asked the gateway to stop the run.')
  } else if (result.state === 'aborted') {
    output.event({ type: 'aborted', runId, text: result.text, stopReason: result.stopReason ?? null })
    output.info('The run was aborted.')
  } else if (result.state === 'final') {
    output.event({ type: 'final', runId, text: result.text, stopReason: result.stopReason ?? null })
    output.info('The run had already finished.')
  } else {
    output.info('The run ended with an error.')
  }
  return EXIT_INTERRUPTED
}

/**
 * Access errors that suggest signing in ("sign-in-email") get the CLI command that does it:
 * `login --profile NAME` or `login --url URL` (not for plain ws://, which Access never fronts).
 */
export function withLoginCommand(error: AppError, args: Pick<ConnectArgs, 'url' | 'profile'>): AppError {
  if (error.category !== 'access' || !error.nextSteps.some((s) => s.action === 'sign-in-email' && !s.command)) return error
  let command: string
  if (args.profile) command = `npm run cli -- login --profile ${shellWord(args.profile)}`
  else if (args.url && /^(wss|https):\/\//i.test(args.url.trim())) command = `npm run cli -- login --url ${shellWord(args.url.trim())}`
  else return error
  return { ...error, nextSteps: error.nextSteps.map((s) => (s.action === 'sign-in-email' && !s.command ? { ...s, command } : s)) }
}

/** A word as a POSIX shell reads it back: as is when plain, else single-quoted. */

/** Exit code for an error, printing it first. */
export function reportAndExitCode(error: AppError, print: (e: AppError) => void): number {
  print(error)
  return exitCodeFor(error)
}
