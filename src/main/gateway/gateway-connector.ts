/**
 * Connecting to a gateway the way an operator expects: one call that checks the credentials it
 * was given, dials through Cloudflare Access, signs in, stores what the gateway issues, and
 * explains any refusal.
 *
 * The engine's entry point for both the CLI and the desktop app. Electron-free: every I/O
 * dependency (keychain, clock, sleep) comes in through `ConnectorDeps`.
 */
import { appError, fail, ok, type AppError, type Result } from '../../shared/errors'
import type { GatewayUrl } from '../../shared/gateway-url'
import type { AccessCredentials } from '../cf-access/access-credentials'
import { inspectAppToken } from '../cf-access/app-token'
import { secretKeys, type SecretStore } from '../secrets/secret-store'
import { dialWebSocket } from '../transport/dial-websocket'
import { trustedCertificates } from '../transport/trust-store'
import { backoffDelay, PAIRING_BACKOFF, type BackoffPolicy } from './backoff'
import { withPastedTokenCause } from './classify-gateway-error'
import { loadOrCreateDeviceIdentity, type DeviceIdentity } from './device-identity'
import { GatewayConnection } from './gateway-connection'
import type { ClientInfo, ProtocolVersion } from './protocol'

export interface ConnectTarget {
  /** Profile id, or `url:<href>` for an ad-hoc connection; namespaces the stored device token. */
  targetId: string
  url: GatewayUrl
  gatewayToken?: string
  access: AccessCredentials
  /** The Access application AUD when known (checked against a stored app token). */
  expectedAud?: string
  caFile?: string
  connectTimeoutMs: number
}

export interface ConnectorDeps {
  secrets: SecretStore
  client: ClientInfo
  userAgent: string
  now?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

export interface ConnectOptions {
  signal?: AbortSignal
  /** Protocol seen on an earlier connection to this gateway (selects the v3 signature). */
  knownProtocol?: ProtocolVersion
  /** How long to keep retrying while the gateway says it is starting up. */
  startupRetryBudgetMs?: number
  /** Observer for progress lines ("gateway starting, retrying..."). */
  onProgress?: (message: string) => void
  /** Called when the WebSocket is open and the gateway handshake begins. */
  onSocketOpened?: () => void
}

export interface Connected {
  connection: GatewayConnection
  /** Things the user should know although the connection worked. */
  warnings: string[]
}

const DEFAULT_STARTUP_BUDGET_MS = 30_000

export const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })

const cancelled = (): AppError => appError('CANCELLED', 'Cancelled', 'The connection attempt was cancelled.')

async function guardKeychain<T>(what: string, fn: () => Promise<T>): Promise<Result<T>> {
  try {
    return ok(await fn())
  } catch (e) {
    const err = (e as { appError?: AppError }).appError
    if (err) return fail(err)
    return fail(
      appError('KEYCHAIN_UNAVAILABLE', 'The keychain is not available', `Could not ${what}: ${(e as Error).message.slice(0, 200)}`)
    )
  }
}

/** One connection attempt sequence (startup retries, device-token fallback); no pairing wait. */
export async function connectGateway(
  target: ConnectTarget,
  deps: ConnectorDeps,
  opts: ConnectOptions = {}
): Promise<Result<Connected>> {
  const now = deps.now ?? Date.now
  const sleep = deps.sleep ?? defaultSleep
  const warnings: string[] = []

  if (target.access.kind === 'app-token') {
    const check = inspectAppToken(target.access.token, {
      nowMs: now(),
      ...(target.expectedAud ? { expectedAud: target.expectedAud } : {})
    })
    if (!check.ok) return fail(check.error)
  }

  let ca: string[] | undefined
  if (target.url.secure) {
    const trusted = await trustedCertificates(target.caFile)
    if (!trusted.ok) return trusted
    ca = trusted.value
  }

  const identity = await guardKeychain<DeviceIdentity>('load the device identity', () =>
    loadOrCreateDeviceIdentity(deps.secrets)
  )
  if (!identity.ok) return identity
  const deviceTokenKey = secretKeys.deviceToken(target.targetId)
  const storedDeviceToken = await guardKeychain('read the device token', () => deps.secrets.get(deviceTokenKey))
  if (!storedDeviceToken.ok) return storedDeviceToken

  let token = target.gatewayToken ?? storedDeviceToken.value ?? undefined
  let tokenKind: 'gateway' | 'device' | 'none' = target.gatewayToken ? 'gateway' : token ? 'device' : 'none'
  let triedDeviceToken = tokenKind === 'device'
  const startupDeadline = now() + (opts.startupRetryBudgetMs ?? DEFAULT_STARTUP_BUDGET_MS)

  for (;;) {
    if (opts.signal?.aborted) return fail(cancelled())
    const started = now()
    const dialed = await dialWebSocket({
      url: target.url,
      access: target.access,
      ...(ca ? { ca } : {}),
      timeoutMs: target.connectTimeoutMs,
      userAgent: deps.userAgent,
      ...(opts.signal ? { signal: opts.signal } : {})
    })
    if (!dialed.ok) return dialed
    opts.onSocketOpened?.()
    const remaining = Math.max(1_000, target.connectTimeoutMs - (now() - started))
    const shaken = await GatewayConnection.handshake(dialed.value, {
      identity: identity.value,
      client: deps.client,
      ...(token ? { token } : {}),
      tokenKind,
      ...(opts.knownProtocol ? { knownProtocol: opts.knownProtocol } : {}),
      timeoutMs: remaining
    })
    if (shaken.ok) {
      const conn = shaken.value
      if (conn.issuedDeviceToken) {
        const saved = await guardKeychain('store the device token', () =>
          deps.secrets.set(deviceTokenKey, conn.issuedDeviceToken as string)
        )
        if (!saved.ok) warnings.push(`${saved.error.message} The device will have to sign in with the gateway token next time.`)
      }
      if (conn.hello.scopes.length === 0) {
        warnings.push('The gateway granted no permissions to this connection; requests will be refused until the device is approved.')
      }
      return ok({ connection: conn, warnings })
    }

    const error = shaken.error
    if (error.code === 'GATEWAY_UNAVAILABLE' && error.retryable && now() < startupDeadline) {
      const wait = Math.min(5_000, Math.max(250, error.details.retryAfterMs ?? 500))
      opts.onProgress?.(`The gateway is starting; retrying in ${(wait / 1000).toFixed(1)} s.`)
      await sleep(wait, opts.signal)
      continue
    }
    if (error.code === 'GATEWAY_TOKEN_MISMATCH' && tokenKind === 'gateway' && storedDeviceToken.value && !triedDeviceToken) {
      // The gateway's own advice (recommendedNextStep retry_with_device_token): a paired device
      // can still sign in with its device token after the shared token was rotated.
      triedDeviceToken = true
      token = storedDeviceToken.value
      tokenKind = 'device'
      warnings.push('The gateway token was refused; connected with this device\u2019s own token instead. Update the gateway token.')
      continue
    }
    if (tokenKind === 'device' && (error.code === 'GATEWAY_TOKEN_MISMATCH' || error.code === 'DEVICE_TOKEN_MISMATCH')) {
      // A revoked device token is useless; forget it so the next attempt uses the shared token.
      await guardKeychain('remove the device token', () => deps.secrets.delete(deviceTokenKey))
    }
    // The gateway token was refused (perhaps after it, the device token too): a paste error in it
    // is said first.
    return fail(target.gatewayToken && (tokenKind === 'gateway' || triedDeviceToken) ? withPastedTokenCause(error, target.gatewayToken) : error)
  }
}

export interface PairingWaitOptions extends ConnectOptions {
  /** Called every time the gateway still wants approval. */
  onPairingPending?: (error: AppError, attempt: number) => void
  backoff?: BackoffPolicy
  /** Give up after this long (default: wait until cancelled). */
  maxWaitMs?: number
}

/**
 * Connect, and while the gateway answers PAIRING_REQUIRED keep retrying with backoff until the
 * device is approved, the signal aborts, or `maxWaitMs` passes.
 */
export async function connectWaitingForPairing(
  target: ConnectTarget,
  deps: ConnectorDeps,
  opts: PairingWaitOptions = {}
): Promise<Result<Connected>> {
  const now = deps.now ?? Date.now
  const sleep = deps.sleep ?? defaultSleep
  const deadline = opts.maxWaitMs === undefined ? Infinity : now() + opts.maxWaitMs
  for (let attempt = 0; ; attempt++) {
    const result = await connectGateway(target, deps, opts)
    if (result.ok || result.error.code !== 'PAIRING_REQUIRED') return result
    opts.onPairingPending?.(result.error, attempt)
    if (opts.signal?.aborted) return fail(cancelled())
    if (now() >= deadline) return result
    await sleep(Math.min(backoffDelay(attempt, opts.backoff ?? PAIRING_BACKOFF), Math.max(0, deadline - now())), opts.signal)
    if (opts.signal?.aborted) return fail(cancelled())
  }
}
