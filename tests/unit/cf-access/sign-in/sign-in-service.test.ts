// The app's sign-in service over a scripted login-window port, an in-memory keychain and a
// manual clock: what it stores, when it renews, that it never loops, and what the renderer sees.
import { beforeEach, describe, expect, it } from 'vitest'
import type { AccessLoginWindows, SignInRequest, SignInResult, SignOutRequest } from '../../../../src/main/electron/access-login-window'
import { AccessSignInService, readTokenInfo, type AccessSignInDeps } from '../../../../src/main/cf-access/sign-in/sign-in-service'
import { MemorySecretStore } from '../../../../src/main/secrets/memory-secret-store'
import { secretKeys } from '../../../../src/main/secrets/secret-store'
import { appError, ok } from '../../../../src/shared/errors'
import type { AccessSignInStatus } from '../../../../src/shared/ipc-contract'
import type { GatewayProfile } from '../../../../src/shared/profile'
import { accessToken, AUD, EMAIL, NOW, NOW_MS, TEAM_DOMAIN } from './tokens'

const PROFILE_ID = 'p1'

function profile(overrides: Partial<GatewayProfile['access']> = {}): GatewayProfile {
  return {
    id: PROFILE_ID,
    name: 'Prod',
    url: 'wss://gateway.example.workers.dev/ws',
    sessionKey: 'agent:main:main',
    access: { mode: 'email-otp', ...overrides },
    options: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z'
  }
}

type Scripted = (request: SignInRequest) => Promise<SignInResult> | SignInResult

/** A login-window port that answers each signIn with the next scripted result. */
class ScriptedWindows implements AccessLoginWindows {
  readonly signIns: SignInRequest[] = []
  readonly signOuts: SignOutRequest[] = []
  script: Scripted[] = []
  async signIn(request: SignInRequest): Promise<SignInResult> {
    this.signIns.push(request)
    const next = this.script.shift()
    if (!next) throw new Error('no scripted sign-in left')
    return next(request)
  }
  async signOut(request: SignOutRequest) {
    this.signOuts.push(request)
    return { appLogout: 'done' as const, teamLogout: 'done' as const, storageCleared: true }
  }
}

async function signedIn(claims: Record<string, unknown> = {}): Promise<SignInResult & { ok: true }> {
  const token = await accessToken(claims)
  const info = readTokenInfo(token)!
  return {
    ok: true,
    value: { token, claims: {} as never, email: EMAIL, expiresAtMs: info.exp * 1000, aud: AUD, partition: 'persist:cf-access:p1', shown: true }
  }
}

interface Harness {
  service: AccessSignInService
  windows: ScriptedWindows
  secrets: MemorySecretStore
  statuses: AccessSignInStatus[]
  stored: string[]
  signedOut: string[]
  current: GatewayProfile
  active: boolean
  clock: { now: number }
  timers: { fn: () => void; at: number }[]
  fire(): Promise<void>
}

function harness(initial = profile()): Harness {
  const h = {
    windows: new ScriptedWindows(),
    secrets: new MemorySecretStore(),
    statuses: [] as AccessSignInStatus[],
    stored: [] as string[],
    signedOut: [] as string[],
    current: initial,
    active: false,
    clock: { now: NOW_MS },
    timers: [] as { fn: () => void; at: number }[]
  } as Harness
  const deps: AccessSignInDeps = {
    windows: h.windows,
    secrets: h.secrets,
    getProfile: async (id) => (id === h.current.id ? h.current : null),
    updateAccess: async (_id, access) => {
      h.current = { ...h.current, access: { ...h.current.access, ...access } }
    },
    tokenStored: (id) => h.stored.push(id),
    signedOut: (id) => h.signedOut.push(id),
    isActive: () => h.active,
    emit: (s) => h.statuses.push(s),
    openExternal: async () => undefined,
    httpFor: async () => ok(async () => ({ status: 500, headers: {}, body: '' })),
    now: () => h.clock.now,
    setTimeout: (fn, ms) => {
      const t = { fn, at: h.clock.now + ms }
      h.timers.push(t)
      return t
    },
    clearTimeout: (t) => {
      h.timers = h.timers.filter((x) => x !== t)
    }
  }
  h.service = new AccessSignInService(deps)
  h.fire = async () => {
    const due = [...h.timers].sort((a, b) => a.at - b.at)[0]
    if (!due) throw new Error('no timer armed')
    h.timers = h.timers.filter((x) => x !== due)
    h.clock.now = due.at
    due.fn()
    // let the async timer handler run
    for (let i = 0; i < 20; i++) await Promise.resolve()
    await new Promise((r) => setTimeout(r, 0))
  }
  return h
}

const cancelled: Scripted = () => ({ ok: false, reason: 'cancelled', error: appError('CANCELLED', 'Sign-in cancelled', 'closed') })
const needsUser: Scripted = () => ({ ok: false, reason: 'needs-user', error: appError('ACCESS_LOGIN_REQUIRED', 'Sign in', 'needs you') })

describe('AccessSignInService', () => {
  let h: Harness
  beforeEach(() => {
    h = harness()
  })

  it('a user sign-in stores the token in the keychain, tells the connection, and reports email and expiry without the token', async () => {
    const result = await signedIn()
    h.windows.script.push(() => result)
    const status = await h.service.signIn(PROFILE_ID)
    expect(status).toMatchObject({ profileId: PROFILE_ID, phase: 'signed-in', email: EMAIL, expiresAt: (NOW + 24 * 3600) * 1000 })
    expect(status.renewAt).toBe((NOW + 24 * 3600 - 360) * 1000)
    expect(await h.secrets.get(secretKeys.cfAppToken(PROFILE_ID))).toBe(result.value.token)
    expect(h.stored).toEqual([PROFILE_ID])
    expect(h.windows.signIns[0]).toMatchObject({ profileId: PROFILE_ID, gatewayUrl: h.current.url, silent: false })
    expect(h.statuses.map((s) => s.phase)).toEqual(['signing-in', 'signed-in'])
    expect(h.statuses.map((s) => s.seq)).toEqual([1, 2])
    expect(JSON.stringify(h.statuses)).not.toContain(result.value.token)
  })

  it('records the learnt AUD and switches a no-Access profile to email sign-in', async () => {
    h.current = profile({ mode: 'none' } as never)
    h.current.access = { mode: 'none' }
    h.windows.script.push(await signedIn().then((r) => () => r))
    await h.service.signIn(PROFILE_ID)
    expect(h.current.access).toEqual({ mode: 'email-otp', aud: AUD })
  })

  it('keeps the binding cookie beside the token, and drops an old one when the new sign-in has none', async () => {
    const withBinding = await signedIn()
    withBinding.value.binding = 'binding-value-1'
    h.windows.script.push(() => withBinding)
    await h.service.signIn(PROFILE_ID)
    expect(await h.secrets.get(secretKeys.cfBinding(PROFILE_ID))).toBe('binding-value-1')
    h.windows.script.push(await signedIn({ iat: NOW }).then((r) => () => r))
    await h.service.signIn(PROFILE_ID)
    expect(await h.secrets.get(secretKeys.cfBinding(PROFILE_ID))).toBeNull()
  })

  it('a closed window ends with "sign-in cancelled", stores nothing and offers the browser path', async () => {
    h.windows.script.push(cancelled)
    const status = await h.service.signIn(PROFILE_ID)
    expect(status.phase).toBe('signed-out')
    expect(status.error?.title).toBe('Sign-in cancelled')
    expect(status.offerBrowser).toBe(true)
    expect(await h.secrets.get(secretKeys.cfAppToken(PROFILE_ID))).toBeNull()
    expect(h.stored).toEqual([])
  })

  it('cancel() aborts the window of the attempt in flight', async () => {
    let seen: AbortSignal | undefined
    h.windows.script.push(
      (req) =>
        new Promise((resolve) => {
          seen = req.signal
          req.signal?.addEventListener('abort', () => resolve(cancelled(req) as SignInResult))
        })
    )
    const pending = h.service.signIn(PROFILE_ID)
    await new Promise((r) => setTimeout(r, 0))
    expect(h.service.status(PROFILE_ID)).toMatchObject({ phase: 'signing-in', via: 'window' })
    // A second click while it runs does not open a second window.
    await h.service.signIn(PROFILE_ID)
    expect(h.windows.signIns).toHaveLength(1)
    expect(h.service.cancel(PROFILE_ID)).toBe(true)
    expect(seen?.aborted).toBe(true)
    expect((await pending).error?.code).toBe('CANCELLED')
    expect(h.service.cancel(PROFILE_ID)).toBe(false)
  })

  it('renews silently before expiry, in a hidden window, without showing it', async () => {
    h.windows.script.push(await signedIn({ exp: NOW + 3600, iat: NOW }).then((r) => () => r))
    await h.service.signIn(PROFILE_ID)
    expect(h.timers).toHaveLength(1)
    expect(h.timers[0]!.at).toBe((NOW + 3600 - 360) * 1000)
    const renewed = await signedIn({ exp: NOW + 7200, iat: NOW + 3000 })
    h.windows.script.push(() => renewed)
    await h.fire()
    expect(h.windows.signIns[1]).toMatchObject({ silent: true, showIfNeeded: false })
    expect(await h.secrets.get(secretKeys.cfAppToken(PROFILE_ID))).toBe(renewed.value.token)
    expect(h.statuses.at(-1)).toMatchObject({ phase: 'signed-in', expiresAt: (NOW + 7200) * 1000 })
    expect(h.statuses.some((s) => s.phase === 'renewing' && s.via === 'hidden-window')).toBe(true)
    expect(h.timers).toHaveLength(1)
  })

  it('a silent renewal that needs the user shows the window only for a connection in use', async () => {
    h.windows.script.push(await signedIn({ exp: NOW + 3600, iat: NOW }).then((r) => () => r))
    await h.service.signIn(PROFILE_ID)
    // Not in use: the hidden attempt ends with a message, no window pops up.
    h.windows.script.push(needsUser)
    await h.fire()
    expect(h.windows.signIns[1]).toMatchObject({ silent: true, showIfNeeded: false })
    expect(h.statuses.at(-1)?.error?.code).toBe('ACCESS_LOGIN_REQUIRED')
    expect(h.timers).toHaveLength(0)
  })

  it('for a connection in use the hidden window is shown when it needs the user, and the user finishes', async () => {
    h.active = true
    h.windows.script.push(await signedIn({ exp: NOW + 3600, iat: NOW }).then((r) => () => r))
    await h.service.signIn(PROFILE_ID)
    const renewed = await signedIn({ exp: NOW + 7200, iat: NOW + 3000 })
    h.windows.script.push((req) => {
      expect(req.showIfNeeded).toBe(true)
      req.onShown?.()
      expect(h.statuses.at(-1)).toMatchObject({ phase: 'signing-in', via: 'window' })
      return renewed
    })
    await h.fire()
    expect(await h.secrets.get(secretKeys.cfAppToken(PROFILE_ID))).toBe(renewed.value.token)
    expect(h.statuses.at(-1)?.phase).toBe('signed-in')
  })

  it('a login redirect triggers one renewal per token, never a loop', async () => {
    const ready = (seq: number) => ({ profileId: PROFILE_ID, seq, state: { kind: 'ready' as const, info: { protocol: 3, scopes: [], mainSessionKey: 'm', connectedAt: 0, warnings: [] } } })
    const loginRedirect = (seq: number) => ({ profileId: PROFILE_ID, seq, state: { kind: 'access-required' as const, error: appError('ACCESS_LOGIN_REQUIRED', 'Sign in', 'x') } })
    const settle = () => new Promise((r) => setTimeout(r, 10))
    h.windows.script.push(await signedIn().then((r) => () => r))
    await h.service.signIn(PROFILE_ID)
    h.service.onConnectionSnapshot(ready(1))
    // Later Access sends a reconnect back to its login page: one hidden renewal.
    const fresh = await signedIn({ iat: NOW + 1 })
    h.windows.script.push(() => fresh)
    h.service.onConnectionSnapshot(loginRedirect(2))
    await settle()
    expect(h.windows.signIns).toHaveLength(2)
    expect(h.windows.signIns[1]).toMatchObject({ silent: true, showIfNeeded: true })
    expect(await h.secrets.get(secretKeys.cfAppToken(PROFILE_ID))).toBe(fresh.value.token)
    expect(h.stored).toEqual([PROFILE_ID, PROFILE_ID])
    // Access refuses the token it has just issued: the app says so instead of renewing again.
    h.service.onConnectionSnapshot(loginRedirect(3))
    await settle()
    expect(h.windows.signIns).toHaveLength(2)
    expect(h.statuses.at(-1)?.error?.code).toBe('ACCESS_APP_TOKEN_REJECTED')
    h.service.onConnectionSnapshot(loginRedirect(4))
    await settle()
    expect(h.windows.signIns).toHaveLength(2)
    // That token had its automatic attempt; only the user's click opens the window now.
    h.service.onConnectionSnapshot(ready(5))
    h.service.onConnectionSnapshot(loginRedirect(6))
    await settle()
    expect(h.windows.signIns).toHaveLength(2)
    h.windows.script.push(cancelled)
    await h.service.signIn(PROFILE_ID)
    expect(h.windows.signIns[2]).toMatchObject({ silent: false })
  })

  it('connecting an email profile that was never signed in opens the sign-in by itself, once', async () => {
    const noToken = { profileId: PROFILE_ID, seq: 1, state: { kind: 'access-required' as const, error: appError('ACCESS_LOGIN_REQUIRED', 'Sign in', 'x') } }
    const result = await signedIn()
    h.windows.script.push((req) => {
      req.onShown?.()
      return result
    })
    h.service.onConnectionSnapshot(noToken)
    await new Promise((r) => setTimeout(r, 10))
    expect(h.windows.signIns[0]).toMatchObject({ silent: true, showIfNeeded: true })
    expect(h.statuses.at(-1)).toMatchObject({ phase: 'signed-in', email: EMAIL })
    expect(h.stored).toEqual([PROFILE_ID])
  })

  it('ignores login redirects of profiles that do not sign in with email', async () => {
    h.current = { ...profile(), access: { mode: 'service-token', clientId: 'x.access' } }
    h.service.onConnectionSnapshot({ profileId: PROFILE_ID, seq: 1, state: { kind: 'access-required', error: appError('ACCESS_LOGIN_REQUIRED', 'Sign in', 'x') } })
    await new Promise((r) => setTimeout(r, 10))
    expect(h.windows.signIns).toHaveLength(0)
  })

  it('sign out deletes the token and binding, logs out on the app and team domains, and closes the connection', async () => {
    const result = await signedIn()
    result.value.binding = 'b'
    h.windows.script.push(() => result)
    await h.service.signIn(PROFILE_ID)
    const status = await h.service.signOut(PROFILE_ID)
    expect(status.phase).toBe('signed-out')
    expect(status.error).toBeUndefined()
    expect(await h.secrets.get(secretKeys.cfAppToken(PROFILE_ID))).toBeNull()
    expect(await h.secrets.get(secretKeys.cfBinding(PROFILE_ID))).toBeNull()
    expect(h.windows.signOuts).toEqual([{ profileId: PROFILE_ID, gatewayUrl: h.current.url, teamOrigin: `https://${TEAM_DOMAIN}` }])
    expect(h.signedOut).toEqual([PROFILE_ID])
    expect(h.timers).toHaveLength(0)
  })

  it('sign out ends the team session at the origin the window met, port included, over the token issuer', async () => {
    const result = await signedIn()
    result.value.teamOrigin = `https://${TEAM_DOMAIN}:8443`
    h.windows.script.push(() => result)
    await h.service.signIn(PROFILE_ID)
    await h.service.signOut(PROFILE_ID)
    expect(h.windows.signOuts[0]?.teamOrigin).toBe(`https://${TEAM_DOMAIN}:8443`)
  })

  it('shows an expired stored token as expired, and a token set by hand as signed in', async () => {
    await h.secrets.set(secretKeys.cfAppToken(PROFILE_ID), await accessToken({ exp: NOW - 10 }))
    expect((await h.service.refresh(PROFILE_ID)).phase).toBe('expired')
    expect(h.timers).toHaveLength(0)
    await h.secrets.set(secretKeys.cfAppToken(PROFILE_ID), await accessToken())
    expect(await h.service.refresh(PROFILE_ID)).toMatchObject({ phase: 'signed-in', email: EMAIL })
    expect(h.timers).toHaveLength(1)
    await h.secrets.set(secretKeys.cfAppToken(PROFILE_ID), 'not a jwt')
    expect((await h.service.refresh(PROFILE_ID)).phase).toBe('signed-out')
  })

  it('without an embedded window it asks for the browser path', async () => {
    const deps = { ...harness(), windows: undefined }
    const service = new AccessSignInService({
      secrets: deps.secrets,
      getProfile: async () => profile(),
      updateAccess: async () => undefined,
      tokenStored: () => undefined,
      signedOut: () => undefined,
      isActive: () => false,
      emit: () => undefined,
      openExternal: async () => undefined,
      httpFor: async () => ok(async () => ({ status: 500, headers: {}, body: '' }))
    })
    const status = await service.signIn(PROFILE_ID)
    expect(status.offerBrowser).toBe(true)
    expect(status.error?.title).toBe('Sign in with your browser')
  })

  it('an unknown profile gets a clear error', async () => {
    expect((await h.service.signIn('nope')).error?.code).toBe('PROFILE_NOT_FOUND')
  })
})
