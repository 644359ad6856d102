/**
 * From what the user configured (a saved profile with keychain secrets, or an ad-hoc URL with
 * secrets from the environment) to a ConnectTarget the connector can dial.
 *
 * Input hygiene lives here so the CLI and the desktop app behave the same: tokens are trimmed
 * (pasted tokens often carry a newline), service tokens are checked for a missing `.access`
 * suffix or swapped halves, and a missing credential for the chosen Access mode is a clear
 * error before anything is dialled.
 */
import { appError, fail, ok, type AppError, type Result } from '../../shared/errors'
import { isLoopbackHost, parseGatewayUrl, type GatewayUrl } from '../../shared/gateway-url'
import { DEFAULT_CONNECT_TIMEOUT_MS, type GatewayProfile } from '../../shared/profile'
import { validateServiceTokenInput, type AccessCredentials } from '../cf-access/access-credentials'
import { hasOnlyTokenCharacters, normaliseAppToken } from '../cf-access/app-token'
import { secretKeys, urlTargetId, type SecretStore } from '../secrets/secret-store'
import { pastedTokenProblem } from '../../shared/pasted-token'
import type { ConnectTarget } from './gateway-connector'

/** Secrets supplied directly (CLI environment variables); each overrides the stored one. */
export interface SuppliedSecrets {
  gatewayToken?: string
  cfClientId?: string
  cfClientSecret?: string
  cfAppToken?: string
}

export interface ResolvedTarget {
  target: ConnectTarget
  sessionKey: string
  /** Non-fatal notes about the input (trimmed whitespace, suffix missing...). */
  warnings: string[]
}

function clean(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined
  const v = value.trim()
  return v === '' ? undefined : v
}

function invalidInput(title: string, message: string): AppError {
  return appError('INVALID_INPUT', title, message)
}

/** The app token as sent, or an INVALID_INPUT error when it holds characters no JWT has. */
function appTokenValue(raw: string, source: string): Result<string> {
  const token = normaliseAppToken(raw)
  if (token !== '' && !hasOnlyTokenCharacters(token)) {
    return fail(
      appError(
        'INVALID_INPUT',
        'The app token is not usable',
        `The Cloudflare Access app token (${source}) contains characters a token cannot have (a line break, tab, space or other symbol inside it). Copy the CF_Authorization value again, on one line.`,
        { nextSteps: [{ action: 'renew-app-token', label: 'Paste the whole CF_Authorization cookie value again, without line breaks.' }] }
      )
    )
  }
  return ok(token)
}

/**
 * Access credentials are bearer secrets: sent over plain ws:// they cross the network readable
 * by anyone on the path. Only loopback (a local tunnel endpoint, tests) is exempt.
 */
function refuseCredentialsInClear(url: GatewayUrl, access: AccessCredentials): AppError | undefined {
  if (access.kind === 'none' || url.secure || isLoopbackHost(url.host)) return undefined
  const what = access.kind === 'service-token' ? 'service token' : 'app token'
  return appError(
    'INVALID_INPUT',
    'Access credentials need wss://',
    `A Cloudflare Access ${what} is set, but ${url.host} is reached over plain ws://, which would send it unencrypted: Cloudflare Access credentials need wss://.`,
    {
      nextSteps: [
        { action: 'check-url', label: 'Use the wss:// address of the gateway.' },
        { action: 'check-url', label: 'Or, if this gateway is not behind Cloudflare Access, connect without Access credentials.' }
      ]
    }
  )
}

function serviceToken(clientId: string, clientSecret: string, warnings: string[]): Result<AccessCredentials> {
  const checked = validateServiceTokenInput(clientId, clientSecret)
  if (!checked.ok) return fail(checked.error)
  for (const w of checked.warnings) warnings.push(w.message)
  return ok({ kind: 'service-token', clientId: checked.clientId, clientSecret: checked.clientSecret })
}

/** A Cloudflare Access sign-in kept in the keychain for an ad-hoc URL (`login --url`). Secrets. */
export interface StoredUrlSignIn {
  appToken?: string
  binding?: string
}

/**
 * An ad-hoc target: a URL plus secrets from the environment, and optionally the app token a
 * `login --url` stored for that URL (used only when the environment sets no Access credential).
 */
export function targetFromUrl(
  rawUrl: string,
  supplied: SuppliedSecrets,
  opts: { sessionKey?: string; caFile?: string; connectTimeoutMs?: number; stored?: StoredUrlSignIn } = {}
): Result<ResolvedTarget> {
  const parsed = parseGatewayUrl(rawUrl)
  if (!parsed.ok) return parsed
  const url = parsed.value
  const warnings = [...url.notes]
  const clientId = clean(supplied.cfClientId)
  const clientSecret = clean(supplied.cfClientSecret)
  const fromEnv = clean(supplied.cfAppToken)
  const storedToken = !clientId && !clientSecret && !fromEnv ? clean(opts.stored?.appToken) : undefined
  const appToken = fromEnv ?? storedToken
  let access: AccessCredentials = { kind: 'none' }
  if ((clientId || clientSecret) && appToken) {
    return fail(
      invalidInput(
        'Two kinds of Access credentials',
        'Both a service token (AETHER_CF_CLIENT_ID/SECRET) and an app token (AETHER_CF_APP_TOKEN) are set. Set only one.'
      )
    )
  }
  if (clientId || clientSecret) {
    if (!clientId || !clientSecret) {
      return fail(
        invalidInput(
          'Half a service token',
          `A service token needs both halves: ${clientId ? 'AETHER_CF_CLIENT_SECRET' : 'AETHER_CF_CLIENT_ID'} is not set.`
        )
      )
    }
    const st = serviceToken(clientId, clientSecret, warnings)
    if (!st.ok) return st
    access = st.value
  } else if (appToken) {
    const token = appTokenValue(appToken, fromEnv ? 'AETHER_CF_APP_TOKEN' : 'stored in the keychain')
    if (!token.ok) return token
    const binding = storedToken ? clean(opts.stored?.binding) : undefined
    access = { kind: 'app-token', token: token.value, ...(binding ? { binding } : {}) }
  }
  const clear = refuseCredentialsInClear(url, access)
  if (clear) return fail(clear)
  const gatewayToken = clean(supplied.gatewayToken)
  if (supplied.gatewayToken && supplied.gatewayToken !== supplied.gatewayToken.trim()) {
    warnings.push('Whitespace around the gateway token was removed.')
  }
  const pasted = pastedTokenProblem(gatewayToken)
  if (pasted) warnings.push(`${pasted} It is sent as entered.`)
  return ok({
    target: buildTarget(urlTargetId(url.href), url, gatewayToken, access, opts.caFile, opts.connectTimeoutMs),
    sessionKey: clean(opts.sessionKey) ?? 'agent:main:main',
    warnings
  })
}

/**
 * {@link targetFromUrl} with the sign-in `login --url` stored for this URL (under
 * `urlTargetId`), read from the keychain only when the environment sets no Access credential.
 * `usedStoredSignIn` tells the caller the stored app token is the one being sent. `secrets` may be
 * a function, so the keychain is only opened once the URL parsed. A keychain that
 * cannot be read is not fatal here (the environment may carry everything): it becomes a warning.
 */
export async function targetFromUrlWithStore(
  rawUrl: string,
  secrets: SecretStore | (() => Promise<SecretStore>),
  supplied: SuppliedSecrets,
  opts: { sessionKey?: string; caFile?: string; connectTimeoutMs?: number } = {}
): Promise<Result<ResolvedTarget & { usedStoredSignIn: boolean }>> {
  const parsed = parseGatewayUrl(rawUrl)
  if (!parsed.ok) return parsed
  const envHasAccess = Boolean(clean(supplied.cfClientId) || clean(supplied.cfClientSecret) || clean(supplied.cfAppToken))
  const stored: StoredUrlSignIn = {}
  const extraWarnings: string[] = []
  if (!envHasAccess) {
    const targetId = urlTargetId(parsed.value.href)
    try {
      const store = typeof secrets === 'function' ? await secrets() : secrets
      const token = await store.get(secretKeys.cfAppToken(targetId))
      if (token) {
        stored.appToken = token
        const binding = await store.get(secretKeys.cfBinding(targetId))
        if (binding) stored.binding = binding
      }
    } catch (e) {
      const err = (e as { appError?: AppError }).appError
      extraWarnings.push(`A stored Cloudflare Access sign-in for this address could not be read (${err?.title ?? 'keychain error'}); connecting without it.`)
    }
  }
  const resolved = targetFromUrl(rawUrl, supplied, { ...opts, stored })
  if (!resolved.ok) return resolved
  return ok({
    ...resolved.value,
    warnings: [...resolved.value.warnings, ...extraWarnings],
    usedStoredSignIn: Boolean(clean(stored.appToken)) && resolved.value.target.access.kind === 'app-token'
  })
}

/** A saved profile with its keychain secrets (env-supplied ones take precedence). */
export async function targetFromProfile(
  profile: GatewayProfile,
  secrets: SecretStore,
  supplied: SuppliedSecrets = {},
  opts: { sessionKey?: string; caFile?: string; connectTimeoutMs?: number } = {}
): Promise<Result<ResolvedTarget>> {
  const parsed = parseGatewayUrl(profile.url)
  if (!parsed.ok) return parsed
  const url = parsed.value
  const warnings = [...url.notes]
  let stored: { gatewayToken?: string; clientSecret?: string; appToken?: string; binding?: string }
  try {
    stored = {
      ...optional('gatewayToken', await secrets.get(secretKeys.gatewayToken(profile.id))),
      ...optional('clientSecret', await secrets.get(secretKeys.cfClientSecret(profile.id))),
      ...optional('appToken', await secrets.get(secretKeys.cfAppToken(profile.id))),
      ...optional('binding', await secrets.get(secretKeys.cfBinding(profile.id)))
    }
  } catch (e) {
    const err = (e as { appError?: AppError }).appError
    return fail(err ?? appError('KEYCHAIN_UNAVAILABLE', 'The keychain is not available', 'The profile\u2019s secrets could not be read.'))
  }
  const gatewayToken = clean(supplied.gatewayToken) ?? clean(stored.gatewayToken)
  let access: AccessCredentials = { kind: 'none' }
  switch (profile.access.mode) {
    case 'service-token': {
      const clientId = clean(supplied.cfClientId) ?? clean(profile.access.clientId)
      const clientSecret = clean(supplied.cfClientSecret) ?? clean(stored.clientSecret)
      if (!clientId || !clientSecret) {
        return fail(
          appError(
            'ACCESS_LOGIN_REQUIRED',
            'The service token is incomplete',
            `Profile "${profile.name}" uses a Cloudflare Access service token, but its ${clientId ? 'Client Secret' : 'Client ID'} is not set.`,
            { nextSteps: [{ action: 'add-service-token', label: 'Enter the service token\u2019s Client ID and Client Secret.' }] }
          )
        )
      }
      const st = serviceToken(clientId, clientSecret, warnings)
      if (!st.ok) return st
      access = st.value
      break
    }
    case 'email-otp': {
      const token = clean(supplied.cfAppToken) ?? clean(stored.appToken)
      if (!token) {
        return fail(
          appError(
            'ACCESS_LOGIN_REQUIRED',
            'Sign in to Cloudflare Access',
            `Profile "${profile.name}" signs in to Cloudflare Access with email, and there is no current sign-in.`,
            { nextSteps: [{ action: 'sign-in-email', label: 'Sign in with Cloudflare Access (email code).' }] }
          )
        )
      }
      const value = appTokenValue(token, clean(supplied.cfAppToken) ? 'AETHER_CF_APP_TOKEN' : 'stored in the keychain')
      if (!value.ok) return value
      access = { kind: 'app-token', token: value.value, ...(stored.binding ? { binding: stored.binding } : {}) }
      break
    }
    case 'none':
      break
  }
  const clear = refuseCredentialsInClear(url, access)
  if (clear) return fail(clear)
  const caFile = clean(opts.caFile) ?? clean(profile.options.caFile)
  const target = buildTarget(profile.id, url, gatewayToken, access, caFile, opts.connectTimeoutMs ?? profile.options.connectTimeoutMs)
  if (profile.access.aud) target.expectedAud = profile.access.aud
  const pasted = pastedTokenProblem(gatewayToken)
  return ok({
    target,
    sessionKey: clean(opts.sessionKey) ?? profile.sessionKey,
    warnings: pasted ? [...warnings, `${pasted} It is sent as entered.`] : warnings
  })
}

function optional<K extends string>(key: K, value: string | null): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {}
}

function buildTarget(
  targetId: string,
  url: GatewayUrl,
  gatewayToken: string | undefined,
  access: AccessCredentials,
  caFile: string | undefined,
  connectTimeoutMs: number | undefined
): ConnectTarget {
  return {
    targetId,
    url,
    ...(gatewayToken ? { gatewayToken } : {}),
    access,
    ...(caFile ? { caFile } : {}),
    connectTimeoutMs: connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  }
}
