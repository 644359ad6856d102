/**
 * `login`: sign in to the Cloudflare Access application in front of a gateway through the system
 * browser, the way `cloudflared access login` does (transfer-login.ts), and keep the app token in
 * the keychain for `connect`.
 *
 * 1. discover the application (AUD, team domain) from the gateway's edge;
 * 2. open `https://<app-host>/cdn-cgi/access/cli?…` in the browser (or print it: --no-browser,
 *    or when no browser could be opened), then wait for the sealed token from the transfer
 *    service;
 * 3. check it (type app, this application's AUD, not expired), store it under the profile
 *    (`--profile`, whose access becomes email-otp with that AUD) or under the address
 *    (`urlTargetId`, where `connect --url` looks), and say who signed in and until when.
 *
 * The token itself is never printed, in either output mode. Ctrl-C cancels (exit 130).
 */
import { appError, type AppError } from '../../shared/errors'
import { displayGatewayUrl, parseGatewayUrl } from '../../shared/gateway-url'
import type { GatewayProfile } from '../../shared/profile'
import {
  discoverAccessApp,
  DISCOVERY_TIMEOUT_MS,
  MIN_POLL_INTERVAL_MS,
  nodeHttpGet,
  runTransferLogin,
  TRANSFER_DEADLINE_MS,
  transferBaseUrlFor,
  type HttpGet
} from '../../main/cf-access/sign-in/transfer-login'
import { secretKeys, urlTargetId } from '../../main/secrets/secret-store'
import { trustedCertificates } from '../../main/transport/trust-store'
import type { LoginArgs } from '../args'
import type { CliContext } from '../context'
import { openInBrowser } from '../open-browser'
import { findProfile, loadProfiles } from '../profiles-file'
import { shellWord } from '../../shared/shell-word'
import { EXIT_INTERRUPTED } from './connect'
import { resolveCaFile } from './profile'

/** Environment variable that replaces the transfer service (testing, self-hosted setups). */
export const TRANSFER_URL_ENV = 'AETHER_CF_TRANSFER_URL'

/** What tests replace; the real command uses the system browser, node:https and Ctrl-C. */
export interface LoginDeps {
  openUrl?: (url: string) => Promise<void>
  http?: HttpGet
  /** Aborts like Ctrl-C (tests); the command listens for SIGINT as well. */
  signal?: AbortSignal
  now?: () => number
  pollTimeoutMs?: number
  minPollIntervalMs?: number
}

function invalid(message: string, title = 'Invalid command line'): AppError {
  return appError('INVALID_INPUT', title, message, {
    nextSteps: [{ action: 'check-url', label: 'Run `npm run cli -- help` for the usage.' }]
  })
}

/** "in 23 h 59 min", "in 4 min", "in 30 s". */
export function describeTimeLeft(ms: number): string {
  const sec = Math.max(0, Math.round(ms / 1000))
  if (sec < 60) return `in ${sec} s`
  const min = Math.floor(sec / 60)
  if (min < 60) return `in ${min} min`
  const h = Math.floor(min / 60)
  if (h < 48) return `in ${h} h${min % 60 ? ` ${min % 60} min` : ''}`
  return `in ${Math.round(h / 24)} days`
}

/** The transfer service: AETHER_CF_TRANSFER_URL when set (must be https), else the team domain's. */
export function transferBaseUrl(env: NodeJS.ProcessEnv, teamDomain: string | undefined): { ok: true; url: string; overridden: boolean } | { ok: false; error: AppError } {
  const raw = env[TRANSFER_URL_ENV]?.trim()
  if (!raw) return { ok: true, url: transferBaseUrlFor(teamDomain), overridden: false }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return { ok: false, error: invalid(`${TRANSFER_URL_ENV} is not a URL; it takes the https:// address of a token transfer service.`, 'Invalid transfer service address') }
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') {
    return { ok: false, error: invalid(`${TRANSFER_URL_ENV} must be a plain https:// address (the token travels sealed, but the service is still only reached over TLS).`, 'Invalid transfer service address') }
  }
  return { ok: true, url: url.toString(), overridden: true }
}

export async function runLogin(args: LoginArgs, ctx: CliContext, deps: LoginDeps = {}): Promise<number> {
  const { output } = ctx

  // --- Which gateway, and where the sign-in goes -----------------------------------------------
  let profile: GatewayProfile | undefined
  if (args.profile !== undefined) {
    const loaded = await loadProfiles(ctx)
    if (!loaded.ok) return ctx.fail(loaded.error)
    profile = findProfile(loaded.value, args.profile)
    if (!profile && args.url === undefined) {
      return ctx.fail(
        appError('PROFILE_NOT_FOUND', 'No such profile', `There is no saved profile named "${args.profile}". Give --url as well to create it with this sign-in.`, {
          nextSteps: [{ action: 'check-url', label: 'List profiles with `npm run cli -- profile list`.' }]
        })
      )
    }
  }
  const rawUrl = args.url ?? profile?.url ?? ''
  const parsed = parseGatewayUrl(rawUrl)
  if (!parsed.ok) return ctx.fail(parsed.error)
  const gateway = parsed.value
  if (!gateway.secure) {
    // Quote what was typed (the parser turns http:// into ws://, which the user never wrote),
    // without its user name, password, query values or fragment.
    const typed = displayGatewayUrl(rawUrl)
    const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(typed)?.[1]?.toLowerCase() ?? 'ws:'
    return ctx.fail(
      invalid(
        `${typed} is a plain ${scheme}// address. Cloudflare Access sign-in needs https:// or wss://, because Access only protects TLS hosts: give the gateway's https:// or wss:// address.`,
        'Cloudflare Access sign-in needs wss:// or https://'
      )
    )
  }
  if (profile && args.url !== undefined) {
    const saved = parseGatewayUrl(profile.url)
    if (!saved.ok || saved.value.href !== gateway.href) {
      return ctx.fail(
        invalid(
          `Profile "${profile.name}" is saved for ${profile.url}, not ${gateway.href}. Leave out --url to sign in to the profile's gateway, or change it first with \`profile add --name ${profile.name} --url URL\`.`,
          'The address does not match the profile'
        )
      )
    }
  }

  let caFile = profile?.options.caFile
  if (args.caFile !== undefined) {
    const ca = await resolveCaFile(args.caFile, ctx.cwd)
    if (!ca.ok) return ctx.fail(ca.error)
    caFile = ca.path
  }
  let http = deps.http
  if (!http) {
    const trusted = await trustedCertificates(caFile, ctx.env)
    if (!trusted.ok) return ctx.fail(trusted.error)
    http = nodeHttpGet({ ca: trusted.value })
  }
  // Checked before anything is dialled: a bad override is an input error, not a network one.
  const override = transferBaseUrl(ctx.env, undefined)
  if (!override.ok) return ctx.fail(override.error)

  const abort = new AbortController()
  const onSigint = () => abort.abort()
  const onDepsAbort = () => abort.abort()
  process.once('SIGINT', onSigint)
  if (deps.signal) {
    if (deps.signal.aborted) abort.abort()
    else deps.signal.addEventListener('abort', onDepsAbort, { once: true })
  }
  // --timeout limits the whole command, the edge's answer included; discovery never takes more than its own 15 s.
  const now = deps.now ?? Date.now
  const started = now()
  const deadlineMs = args.timeoutSec !== undefined ? Math.round(args.timeoutSec * 1000) : TRANSFER_DEADLINE_MS
  const cancelled = () => {
    output.event({ type: 'cancelled' })
    output.info('Sign-in cancelled.')
    return EXIT_INTERRUPTED
  }
  try {
    // --- 1. The Access application ------------------------------------------------------------
    output.info(`Looking for the Cloudflare Access application in front of ${gateway.host}\u2026`)
    const found = await discoverAccessApp(gateway.href, http, { userAgent: ctx.userAgent, signal: abort.signal, now, timeoutMs: Math.min(DISCOVERY_TIMEOUT_MS, deadlineMs) })
    if (abort.signal.aborted) return cancelled()
    if (!found.ok) return ctx.fail(found.error)
    const app = found.value
    if (profile?.access.aud && profile.access.aud.toLowerCase() !== app.aud) {
      output.warning(`Profile "${profile.name}" had the Access AUD ${profile.access.aud}, but the gateway's edge now names ${app.aud}; the profile is updated to it.`)
    }
    const base = transferBaseUrl(ctx.env, app.teamDomain)
    if (!base.ok) return ctx.fail(base.error)
    output.event({ type: 'access-app', host: app.appHost, aud: app.aud, teamDomain: app.teamDomain ?? null, transferUrl: base.url })
    output.info(`Found it: ${app.appHost}${app.teamDomain ? ` (team domain ${app.teamDomain})` : ''}, AUD ${app.aud}.`)
    if (base.overridden) output.info(`Using the transfer service from ${TRANSFER_URL_ENV}: ${base.url}`)

    // --- 2. The browser, then the wait --------------------------------------------------------
    let notOpened = args.noBrowser ? 'not asked to (--no-browser)' : ''
    const open = deps.openUrl ?? ((url: string) => openInBrowser(url, { env: ctx.env }))
    const minPollIntervalMs = deps.minPollIntervalMs ?? MIN_POLL_INTERVAL_MS
    const result = await runTransferLogin({
      gatewayUrl: gateway.href,
      aud: app.aud,
      http,
      transferBaseUrl: base.url,
      ...(base.overridden ? { transferBaseUrlFrom: TRANSFER_URL_ENV } : {}),
      userAgent: ctx.userAgent,
      signal: abort.signal,
      deadlineMs,
      startedAtMs: started,
      // The deadline (--timeout) ends the wait, not a count of polls.
      maxPolls: Math.ceil(deadlineMs / Math.max(minPollIntervalMs, 100)) + 1,
      minPollIntervalMs,
      ...(deps.pollTimeoutMs !== undefined ? { pollTimeoutMs: deps.pollTimeoutMs } : {}),
      now,
      openExternal: async (url) => {
        if (args.noBrowser) throw new Error('not asked to')
        try {
          await open(url)
        } catch (e) {
          notOpened = (e as Error).message || 'the browser could not be opened'
          throw e
        }
      },
      onLoginUrl: (url, opened) => {
        output.event({ type: 'login-url', url, opened, ...(opened ? {} : { reason: notOpened }) })
        if (opened) {
          output.info('Opened the Cloudflare Access sign-in page in your browser. If it did not appear, open this URL yourself:')
        } else if (args.noBrowser) {
          output.info('Open this URL in a browser to sign in (on any machine where you can sign in to Cloudflare Access):')
        } else {
          output.info(`Could not open a browser (${notOpened}). Open this URL in a browser to sign in:`)
        }
        output.info(`  ${url}`)
        output.event({ type: 'waiting', timeoutSec: Math.max(0, Math.round((deadlineMs - (now() - started)) / 1000)) })
        output.info('Waiting for you to sign in in the browser\u2026 (approve the "Access requested" page; Ctrl-C to cancel)')
      }
    })
    if (!result.ok) {
      if (result.reason === 'cancelled' || abort.signal.aborted) return cancelled()
      return ctx.fail(result.error)
    }
    const signedIn = result.value

    // --- 3. Keep it -----------------------------------------------------------------------------
    let targetId: string
    let profileName: string | undefined
    if (args.profile !== undefined) {
      const previousMode = profile?.access.mode
      const saved = await ctx.profiles().save({
        ...(profile ? { id: profile.id, sessionKey: profile.sessionKey } : {}),
        name: profile?.name ?? args.profile,
        url: profile?.url ?? gateway.href,
        access: { mode: 'email-otp', aud: signedIn.aud },
        options: { ...profile?.options, ...(caFile ? { caFile } : {}) }
      })
      if (!saved.ok) return ctx.fail(saved.error)
      targetId = saved.value.id
      profileName = saved.value.name
      if (previousMode && previousMode !== 'email-otp') {
        output.warning(`Profile "${saved.value.name}" used Cloudflare Access "${previousMode}"; it now signs in with this browser sign-in (email-otp).`)
      }
    } else {
      targetId = urlTargetId(gateway.href)
    }

    const opened = await ctx.openSecrets()
    try {
      await opened.store.set(secretKeys.cfAppToken(targetId), signedIn.token)
      // A binding cookie belongs to one token: an old one would make Access refuse the new token.
      if (signedIn.binding) await opened.store.set(secretKeys.cfBinding(targetId), signedIn.binding)
      else await opened.store.delete(secretKeys.cfBinding(targetId))
    } catch (e) {
      const err = (e as { appError?: AppError }).appError
      if (err) return ctx.fail(err)
      throw e
    }

    const nowMs = (deps.now ?? Date.now)()
    const expiresAt = new Date(signedIn.expiresAtMs).toISOString()
    const who = signedIn.email ?? null
    output.event({
      type: 'signed-in',
      host: app.appHost,
      email: who,
      expiresAt,
      aud: signedIn.aud,
      ...(profileName ? { profile: profileName } : { url: gateway.href }),
      stored: opened.persistent ? 'keychain' : 'memory'
    })
    const lines = [
      `Signed in to ${app.appHost}${who ? ` as ${who}` : ''}. The sign-in expires at ${expiresAt} (${describeTimeLeft(signedIn.expiresAtMs - nowMs)}).`
    ]
    const use = profileName ? `npm run cli -- connect --profile ${shellWord(profileName)}` : `npm run cli -- connect --url ${shellWord(gateway.href)}`
    if (opened.persistent) {
      lines.push(`Stored in the keychain for ${profileName ? `profile "${profileName}"` : gateway.href}; \`${use}\` uses it.`)
    } else {
      lines.push(
        'There is no keychain, so the sign-in was kept in memory only and is gone when this command ends: a later connect will not find it. Run login where a keychain (Secret Service, macOS Keychain, Windows Credential Manager) is available.'
      )
    }
    output.out(lines.join('\n') + '\n')
    return 0
  } finally {
    process.off('SIGINT', onSigint)
    deps.signal?.removeEventListener('abort', onDepsAbort)
  }
}
