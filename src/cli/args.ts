/**
 * Command-line parsing for `npm run cli -- <command> ...`.
 *
 * Secrets never come from argv (they would land in shell history and `ps`): only from the
 * AETHER_* environment variables or the keychain. An option that looks like one
 * (`--token`, `--secret`...) is refused with a pointer to the variable to use instead.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { appError, fail, ok, type Result } from '../shared/errors'

export interface ConnectArgs {
  command: 'connect'
  url?: string
  profile?: string
  session?: string
  message?: string
  json: boolean
  timeoutSec?: number
  replyTimeoutSec: number
  caFile?: string
  waitPairing: boolean
  pairingTimeoutSec?: number
}

export interface ProfileArgs {
  command: 'profile'
  action: 'list' | 'add' | 'remove' | 'show'
  name?: string
  url?: string
  session?: string
  access?: string
  clientId?: string
  aud?: string
  caFile?: string
  timeoutSec?: number
  json: boolean
}

export interface LoginArgs {
  command: 'login'
  /** The gateway (wss:// or https://); with --profile, defaults to the profile's. */
  url?: string
  /** Store the sign-in under this saved profile (created with --url when it does not exist yet). */
  profile?: string
  json: boolean
  /** Print the sign-in URL instead of opening the system browser. */
  noBrowser: boolean
  /** How long to wait for the sign-in in the browser (default 600). */
  timeoutSec?: number
  caFile?: string
}

export interface DoctorArgs {
  command: 'doctor'
  url?: string
  /** Check with this saved profile's credentials (its address unless --url is given too). */
  profile?: string
  json: boolean
  /** Time limit of the WebSocket upgrade and handshake step. */
  timeoutSec?: number
  caFile?: string
}

export type CliArgs = ConnectArgs | ProfileArgs | LoginArgs | DoctorArgs | { command: 'help'; topic?: string } | { command: 'version' }

const SECRET_FLAGS: Record<string, string> = {
  token: 'AETHER_GATEWAY_TOKEN',
  'gateway-token': 'AETHER_GATEWAY_TOKEN',
  secret: 'AETHER_CF_CLIENT_SECRET',
  'client-secret': 'AETHER_CF_CLIENT_SECRET',
  'app-token': 'AETHER_CF_APP_TOKEN',
  password: 'AETHER_GATEWAY_TOKEN'
}

function bad<T = CliArgs>(message: string) {
  return fail<T>(
    appError('INVALID_INPUT', 'Invalid command line', message, {
      nextSteps: [{ action: 'check-url', label: 'Run `npm run cli -- help` for the usage.' }]
    })
  )
}

function seconds(name: string, value: string | undefined, min: number, max: number): Result<number | undefined> {
  if (value === undefined) return ok(undefined)
  const n = Number(value)
  if (!Number.isFinite(n) || n < min || n > max) {
    return fail(appError('INVALID_INPUT', 'Invalid command line', `--${name} takes a number of seconds from ${min} to ${max}; got "${value}".`))
  }
  return ok(n)
}

/** node:util parseArgs in strict mode, its complaints (unknown or ambiguous options) as bad input. */
function strictParse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], allowPositionals: boolean, options: O) {
  try {
    return ok(parseArgs({ args, strict: true, allowPositionals, options }))
  } catch (e) {
    const { code, message } = e as Error & { code?: string }
    // A stray word is often a pasted secret: never quote it back.
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      return bad<never>('This command takes no positional arguments, and the command line has one (not repeated here, in case it is a secret). Secrets go in environment variables, not arguments.')
    }
    const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message)
    if (ambiguous) return bad<never>(`${ambiguous[1]} needs a value, and what follows it starts with "-".`)
    return bad<never>(message)
  }
}

/** What `login` and `doctor` share: a gateway named by --url and/or --profile, --json, --timeout, --ca-file. */
interface GatewayCommandCommon {
  url?: string
  profile?: string
  json: boolean
  timeoutSec?: number
  caFile?: string
}

function gatewayCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  extra: O,
  rules: { missing: string; maxTimeoutSec: number }
) {
  const parsed = strictParse(args, false, {
    url: { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    'ca-file': { type: 'string' },
    ...extra
  } as const)
  if (!parsed.ok) return parsed
  const v = parsed.value.values as Record<string, string | boolean | undefined>
  const url = typeof v.url === 'string' ? v.url : undefined
  const profile = typeof v.profile === 'string' ? v.profile : undefined
  if (url !== undefined && url.trim() === '') return bad<never>('--url is empty.')
  if (profile !== undefined && profile.trim() === '') return bad<never>('--profile is empty.')
  if (!url && !profile) return bad<never>(rules.missing)
  const timeout = seconds('timeout', typeof v.timeout === 'string' ? v.timeout : undefined, 1, rules.maxTimeoutSec)
  if (!timeout.ok) return timeout
  const caFile = typeof v['ca-file'] === 'string' ? v['ca-file'] : undefined
  const common: GatewayCommandCommon = {
    ...(url !== undefined ? { url } : {}),
    ...(profile !== undefined ? { profile } : {}),
    json: v.json === true,
    ...(timeout.value !== undefined ? { timeoutSec: timeout.value } : {}),
    ...(caFile !== undefined ? { caFile } : {})
  }
  return ok({ common, values: v })
}

export function parseCliArgs(argv: string[]): Result<CliArgs> {
  const [command, ...rest] = argv
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    return ok({ command: 'help', ...(rest[0] ? { topic: rest[0] } : {}) })
  }
  if (command === '--version' || command === 'version') return ok({ command: 'version' })
  // `connect -h`, `profile add --help`: the usage, not an "unknown option" error. Only before a
  // `--`, after which everything is a value.
  const end = rest.indexOf('--')
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === '-h' || a === '--help')) {
    return ok({ command: 'help', topic: command })
  }

  for (const arg of rest) {
    const flag = /^--([a-z-]+)/.exec(arg)?.[1]
    if (flag && SECRET_FLAGS[flag]) {
      return bad(`Secrets are not taken from the command line (it ends up in shell history). Set ${SECRET_FLAGS[flag]} in the environment instead.`)
    }
  }

  if (command === 'connect') {
    const parsed = strictParse(rest, false, {
      url: { type: 'string' },
      profile: { type: 'string' },
      session: { type: 'string' },
      message: { type: 'string' },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      'reply-timeout': { type: 'string' },
      'ca-file': { type: 'string' },
      'wait-pairing': { type: 'boolean', default: false },
      'pairing-timeout': { type: 'string' }
    } as const)
    if (!parsed.ok) return parsed
    const v = parsed.value.values
    if (!v.url && !v.profile) return bad('connect needs --url <ws(s)://...> or --profile <name>.')
    if (v.url && v.profile) return bad('Give either --url or --profile, not both.')
    if (v.message !== undefined && v.message.trim() === '') return bad('--message is empty.')
    const timeout = seconds('timeout', v.timeout, 1, 600)
    if (!timeout.ok) return timeout
    const reply = seconds('reply-timeout', v['reply-timeout'], 1, 3600)
    if (!reply.ok) return reply
    const pairing = seconds('pairing-timeout', v['pairing-timeout'], 1, 86_400)
    if (!pairing.ok) return pairing
    return ok({
      command: 'connect',
      ...(v.url !== undefined ? { url: v.url } : {}),
      ...(v.profile !== undefined ? { profile: v.profile } : {}),
      ...(v.session !== undefined ? { session: v.session } : {}),
      ...(v.message !== undefined ? { message: v.message } : {}),
      json: v.json === true,
      ...(timeout.value !== undefined ? { timeoutSec: timeout.value } : {}),
      replyTimeoutSec: reply.value ?? 300,
      ...(v['ca-file'] !== undefined ? { caFile: v['ca-file'] } : {}),
      waitPairing: v['wait-pairing'] === true,
      ...(pairing.value !== undefined ? { pairingTimeoutSec: pairing.value } : {})
    })
  }

  if (command === 'login') {
    const parsed = gatewayCommandArgs(rest, { 'no-browser': { type: 'boolean', default: false } } as const, {
      missing: 'login needs --url <wss://... or https://...> (and optionally --profile <name> to store the sign-in under).',
      maxTimeoutSec: 3600
    })
    if (!parsed.ok) return parsed
    return ok({ command: 'login', ...parsed.value.common, noBrowser: parsed.value.values['no-browser'] === true })
  }

  if (command === 'doctor') {
    const parsed = gatewayCommandArgs(rest, {} as const, { missing: 'doctor needs --url <ws(s)://...> or --profile <name>.', maxTimeoutSec: 25 })
    if (!parsed.ok) return parsed
    return ok({ command: 'doctor', ...parsed.value.common })
  }

  if (command === 'profile' || command === 'profiles') {
    const [action = 'list', ...more] = rest
    if (!['list', 'add', 'remove', 'show'].includes(action)) {
      return bad(`Unknown profile action "${action}". Use list, add, show or remove.`)
    }
    const parsed = strictParse(more, true, {
      name: { type: 'string' },
      url: { type: 'string' },
      session: { type: 'string' },
      access: { type: 'string' },
      'client-id': { type: 'string' },
      aud: { type: 'string' },
      'ca-file': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false }
    } as const)
    if (!parsed.ok) return parsed
    const v = parsed.value.values
    const name = v.name ?? parsed.value.positionals[0]
    if (action !== 'list' && !name) return bad(`profile ${action} needs a profile name: profile ${action} NAME (or --name NAME).`)
    // add without --url is fine for an existing profile (it is updated); the command checks.
    const timeout = seconds('timeout', v.timeout, 1, 120)
    if (!timeout.ok) return timeout
    return ok({
      command: 'profile',
      action: action as ProfileArgs['action'],
      ...(name !== undefined ? { name } : {}),
      ...(v.url !== undefined ? { url: v.url } : {}),
      ...(v.session !== undefined ? { session: v.session } : {}),
      ...(v.access !== undefined ? { access: v.access } : {}),
      ...(v['client-id'] !== undefined ? { clientId: v['client-id'] } : {}),
      ...(v.aud !== undefined ? { aud: v.aud } : {}),
      ...(v['ca-file'] !== undefined ? { caFile: v['ca-file'] } : {}),
      ...(timeout.value !== undefined ? { timeoutSec: timeout.value } : {}),
      json: v.json === true
    })
  }

  return bad(`Unknown command "${command}". Commands: connect, login, doctor, profile, help.`)
}

export const USAGE = `Aether Remote command line

Usage:
  npm run cli -- connect --url <ws(s)://host[:port][/path]> [options]
  npm run cli -- connect --profile <name> [options]
  npm run cli -- login --url <wss://host or https://host> [--profile <name>] [options]
  npm run cli -- login --profile <name> [options]
  npm run cli -- doctor --url <ws(s)://...> [--profile <name>] [--json] [--ca-file PATH] [--timeout S]
  npm run cli -- doctor --profile <name> [--json]
  npm run cli -- profile list [--json]
  npm run cli -- profile add --name <name> --url <url> [--session KEY] [--access none|service-token|email-otp]
                             [--client-id ID] [--aud AUD] [--ca-file PATH] [--timeout S]
                             (with the name of a saved profile: updates it, keeping what is not given)
  npm run cli -- profile show <name> [--json]
  npm run cli -- profile remove <name>

connect options:
  --session KEY        session key to chat on (default: the profile's, or agent:main:main)
  --message TEXT       send TEXT and stream the reply to stdout (Ctrl-C aborts the run); without it,
                       print the hello summary
  --json               one JSON object per line: hello, status, delta, final, aborting, aborted,
                       pairing, warning, error (with code, likelyCauses, nextSteps and details)
  --timeout S          time limit for the WebSocket upgrade and handshake (default 15)
  --reply-timeout S    time limit for the reply (default 300)
  --ca-file PATH       extra CA certificate (PEM) to trust for wss://, on top of the system store
  --wait-pairing       when the gateway asks to approve this device, keep retrying until approved
  --pairing-timeout S  give up waiting for approval after S seconds (default: wait until Ctrl-C)

login options (sign in to Cloudflare Access in the system browser, as cloudflared does):
  --profile NAME       store the sign-in under this profile (created with --url if it does not exist;
                       its access becomes email-otp); without it, under the --url, where
                       \`connect --url\` finds it
  --no-browser         do not open a browser: print the sign-in URL to open yourself
  --timeout S          how long to wait for the sign-in in the browser (default 600)
  --ca-file PATH       extra CA certificate (PEM) to trust, on top of the system store
  --json               JSON lines: access-app, login-url, waiting, signed-in, error
  AETHER_CF_TRANSFER_URL  overrides the token transfer service (for testing or self-hosted setups)

doctor options (check DNS, TLS, Cloudflare Access and the gateway step by step, within 30 s):
  --profile NAME       use this saved profile's credentials from the keychain (and its address,
                       unless --url is given too)
  --json               the whole report as one JSON document (steps, verdict, ways forward)
  --ca-file PATH       extra CA certificate (PEM) to trust, on top of the system store
  --timeout S          time limit of the WebSocket upgrade and handshake step (default 10)
  The exit code is that of the most likely cause (0 when the gateway works).

Secrets come from the environment (never from the command line) or, with --profile, the keychain:
  AETHER_GATEWAY_TOKEN     gateway token
  AETHER_CF_CLIENT_ID      Cloudflare Access service token Client ID
  AETHER_CF_CLIENT_SECRET  Cloudflare Access service token Client Secret
  AETHER_CF_APP_TOKEN      Cloudflare Access app token (CF_Authorization)
"profile add" stores the secrets it finds in these variables in the keychain.

Exit codes: 0 ok, 1 other error, 2 bad input, 3 Cloudflare Access needs or refused credentials,
4 gateway refused the token or device, 5 pairing required, 6 network or TLS, 7 timeout,
130 interrupted (Ctrl-C).
`
