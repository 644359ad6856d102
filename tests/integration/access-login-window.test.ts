/**
 * The embedded Cloudflare Access login window, end to end: the real adapter
 * (createAccessLoginWindows) over login-window ports implemented with a real Chromium
 * (tests/e2e/playwright-login-windows.ts), against the Access emulator's real login pages. The
 * test plays the user: it types the email, reads the one-time code from the emulator's outbox
 * and types it.
 *
 *   adapter ──ports──▶ Chromium pages (one context per partition)
 *        ──https──▶ Access emulator: app host gw-login.aether.test, team domain ──▶ recording origin
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  browserUserAgent,
  createAccessLoginWindows,
  loginPartition,
  type AccessLoginWindows,
  type SignInRequest,
  type SignInResult
} from '../../src/main/electron/access-login-window'
import { claimsOf, getThroughAccess, logoutElsewhere, requestCodeMail, typeCode, waitForInvalidCode, wrongCode } from '../e2e/access-login-steps'
import { createPlaywrightLoginWindowDeps, type PlaywrightLoginWindowDeps } from '../e2e/playwright-login-windows'
import { startAccessEmulator, startRecordingOrigin, type AccessEmulator, type RecordingOrigin } from '../support/access-emulator'
import { installTestHosts } from '../support/hosts'

const GW = 'gw-login.aether.test'
const EMAIL = 'operator@example.com'
/** The browser-like agent the app gives its login windows (Access's bot check rejects web-view agents). */
const UA = browserUserAgent('140.0.7339.80', 'linux')

let uninstallHosts: () => void = () => {}
let origin: RecordingOrigin
let emu: AccessEmulator
let deps: PlaywrightLoginWindowDeps
let logins: AccessLoginWindows
let gatewayUrl: string

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  origin = await startRecordingOrigin()
  emu = await startAccessEmulator({
    team: 'aether-login-window',
    // The login page refuses agents that do not look like a real browser (Turnstile, doc §5).
    hostileLoginPage: true,
    apps: [{ host: GW, upstream: origin.url, policies: [{ decision: 'allow', emails: [EMAIL] }] }]
  })
  gatewayUrl = emu.appUrl(GW, '/ws', 'wss')
  deps = await createPlaywrightLoginWindowDeps({ userAgent: UA })
  logins = createAccessLoginWindows(deps)
})

afterAll(async () => {
  await deps?.close()
  await emu?.close()
  await origin?.close()
  uninstallHosts()
})

// ---------------------------------------------------------------------------------------------

/** Starts a sign-in and keeps track of whether it has ended. */
function start(request: Partial<SignInRequest> & { profileId: string }): { result: Promise<SignInResult>; settled(): boolean } {
  let done = false
  const result = logins.signIn({ gatewayUrl, ...request })
  void result.then(() => (done = true))
  return { result, settled: () => done }
}

/** The user types the email and asks for a code; returns the code the emulator "mailed". */
async function requestCode(page: Page, email = EMAIL): Promise<string> {
  const message = await requestCodeMail(page, emu, email)
  expect(message.to).toBe(email)
  return message.code
}

/** The whole login as a user does it in the window. */
async function completeLogin(page: Page): Promise<void> {
  await page.getByLabel('Email').waitFor()
  await typeCode(page, await requestCode(page))
}

/** A request to the app host the way a client with the token makes it (header), through the emulator. */
function getWithToken(path: string, token: string): Promise<number> {
  return getThroughAccess(emu, GW, path, { 'cf-access-token': token, 'user-agent': UA })
}

function teamRequests(reason: string) {
  return emu.requests.filter((r) => r.host === emu.teamDomain && r.reason === reason)
}

// ---------------------------------------------------------------------------------------------

describe('the Access login window in real Chromium, against the emulator', () => {
  /** The first sign-in's token (its identity session is logged out later). */
  let firstToken = ''

  it('signs in: email, then the code from the outbox; the app token for the right AUD comes back and the window closes', async () => {
    const since = deps.windows.length
    const attempt = start({ profileId: 'alpha' })
    const win = await deps.waitForWindow('alpha', { since })
    expect(win.partition).toBe(loginPartition('alpha'))
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, partition: loginPartition('alpha') })
    // An interactive sign-in shows its window at once.
    expect(win.visible).toBe(true)

    await win.page.getByLabel('Email').waitFor()
    // The window went through the gateway's origin to the team domain's login page.
    expect(new URL(win.page.url()).hostname).toBe(emu.teamDomain)
    // The page sees the adapter's browser-like agent (and the hostile login page accepts it).
    expect(await win.page.evaluate('navigator.userAgent')).toBe(UA)
    await completeLogin(win.page)

    const result = await attempt.result
    if (!result.ok) throw new Error(`sign-in failed: ${result.reason} ${result.error.message}\n${win.log.join('\n')}`)
    const signedIn = result.value
    expect(signedIn.aud).toBe(emu.app(GW).aud)
    expect(signedIn.email).toBe(EMAIL)
    expect(signedIn.shown).toBe(true)
    expect(signedIn.partition).toBe(loginPartition('alpha'))
    expect(signedIn.teamOrigin).toBe(emu.teamUrl)
    const claims = claimsOf(signedIn.token)
    expect(claims.type).toBe('app')
    expect(claims.aud).toEqual([emu.app(GW).aud])
    expect(claims.email).toBe(EMAIL)
    expect(signedIn.expiresAtMs).toBe((claims.exp as number) * 1000)
    // The window is gone.
    await expect.poll(() => win.isDestroyed()).toBe(true)
    expect(deps.listWindows().filter((w) => !w.closed)).toEqual([])

    // It is the token the edge minted on the app host, and the edge takes it.
    const authorized = emu.requests.filter((r) => r.host === GW && r.reason === 'authorized')
    expect(authorized.length).toBe(1)
    expect(authorized[0]?.userAgent).toBe(UA)
    expect(await getWithToken('/api/check', signedIn.token)).toBe(200)
    expect(origin.requests.at(-1)?.headers['cf-access-jwt-assertion']).toBe(signedIn.token)
    // The team-domain session stayed in the partition, the app token too; the org token is not what came back.
    const cookies = await deps.session('alpha').cookies.all()
    const teamToken = cookies.find((c) => c.name === 'CF_Authorization' && c.domain === emu.teamDomain)
    expect(teamToken?.hostOnly).toBe(true)
    expect(teamToken?.sameSite).toBe('no_restriction')
    expect(claimsOf(teamToken!.value).type).toBe('org')
    expect(cookies.find((c) => c.name === 'CF_Authorization' && c.domain === GW)?.value).toBe(signedIn.token)
    // The session port saw the cookies arrive as Electron reports them.
    const arrived = deps.session('alpha').cookies.changes.filter((c) => !c.removed && c.cookie.name === 'CF_Authorization' && c.cookie.domain === GW)
    expect(arrived.map((c) => c.cause)).toContain('inserted')
    firstToken = signedIn.token
  })

  it('keeps the window locked down: pop-ups only for https login pages and guarded, no plain-http navigation, every permission denied', async () => {
    const since = deps.windows.length
    const attempt = start({ profileId: 'lockdown' })
    const win = await deps.waitForWindow('lockdown', { since })
    const page = win.page
    await page.getByLabel('Email').waitFor()
    const loginUrl = page.url()

    // A plain-http pop-up: the handler denies it and it is closed.
    const httpPopup = emu.appUrl(GW, '/popup').replace('https://', 'http://')
    await page.evaluate(`void window.open(${JSON.stringify(httpPopup)}, '_blank')`)
    await expect.poll(() => win.popups.length).toBe(1)
    expect(win.popups[0]).toMatchObject({ url: httpPopup, action: 'deny' })

    // An identity provider's https pop-up from the login page is allowed, sandboxed like the window...
    const idpUrl = `${emu.teamUrl}/cdn-cgi/access/certs`
    await page.evaluate(`void window.open(${JSON.stringify(idpUrl)}, '_blank')`)
    await expect.poll(() => win.popups.length).toBe(2)
    const allowed = win.popups[1]!
    expect(allowed).toMatchObject({ url: idpUrl, action: 'allow' })
    const popup = allowed.port!
    expect(popup.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, partition: loginPartition('lockdown') })
    const popupPage = await popup.ready
    await expect.poll(() => popupPage.url()).toBe(idpUrl)
    // ...and guarded: no pop-ups of its own, no plain-http navigation.
    await popupPage.evaluate(`void window.open(${JSON.stringify(idpUrl)}, '_blank')`)
    await expect.poll(() => popup.popups.length).toBe(1)
    expect(popup.popups[0]).toMatchObject({ action: 'deny' })
    await popupPage.evaluate(`void (window.location.href = ${JSON.stringify(httpPopup)})`)
    await expect.poll(() => popup.log.includes(`will-frame-navigate (prevented) ${httpPopup}`)).toBe(true)
    expect(popupPage.url()).toBe(idpUrl)

    // A plain-http navigation of the main frame is stopped before any request leaves.
    const httpUrl = emu.appUrl(GW, '/plain').replace('https://', 'http://')
    await page.evaluate(`void (window.location.href = ${JSON.stringify(httpUrl)})`)
    await expect.poll(() => win.log.some((l) => l === `will-frame-navigate (prevented) ${httpUrl}`)).toBe(true)
    expect(page.url()).toBe(loginUrl)
    await page.getByLabel('Email').waitFor()

    // Permissions: the adapter's handlers deny every request and check.
    const verdicts = await deps.session('lockdown').permissionVerdicts()
    expect(verdicts.length).toBeGreaterThan(0)
    for (const v of verdicts) expect(v, v.permission).toMatchObject({ requested: false, checked: false })
    expect(attempt.settled()).toBe(false)

    // Closing the window is cancelling, and the pop-up goes with it.
    await page.close()
    const result = await attempt.result
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.reason).toBe('cancelled')
    await expect.poll(() => popup.isDestroyed()).toBe(true)
  })

  it('cancel: the user closes the window before finishing; the sign-in ends as cancelled', async () => {
    const since = deps.windows.length
    const attempt = start({ profileId: 'beta' })
    const page = await deps.pageOf('beta', { since })
    await page.getByLabel('Email').waitFor()
    await requestCode(page)
    expect(attempt.settled()).toBe(false)
    await page.close()
    const result = await attempt.result
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.reason).toBe('cancelled')
    expect(result.error.code).toBe('CANCELLED')
    expect(result.error.title).toBe('Sign-in cancelled')
    // No app token was minted for that attempt.
    expect(await deps.session('beta').cookies.get({ domain: GW, name: 'CF_Authorization' })).toEqual([])
  })

  it('a wrong code: the page says so, the user tries again, and the right code signs in', async () => {
    const since = deps.windows.length
    const attempt = start({ profileId: 'gamma' })
    const page = await deps.pageOf('gamma', { since })
    await page.getByLabel('Email').waitFor()
    const code = await requestCode(page)
    await typeCode(page, wrongCode(code))
    await waitForInvalidCode(page)
    expect(teamRequests('otp-wrong-code').length).toBeGreaterThan(0)
    // Still signing in, the window still open.
    expect(attempt.settled()).toBe(false)
    expect(deps.currentWindow('gamma')?.isDestroyed()).toBe(false)

    await typeCode(page, code)
    const result = await attempt.result
    if (!result.ok) throw new Error(`sign-in failed: ${result.reason} ${result.error.message}`)
    expect(result.value.email).toBe(EMAIL)
    expect(claimsOf(result.value.token).aud).toEqual([emu.app(GW).aud])
  })

  it('silent renewal with a live team session: a new token, and the window was never shown', async () => {
    expect(firstToken).not.toBe('')
    const since = deps.windows.length
    const ssoBefore = teamRequests('login-sso').length
    let shownCalls = 0
    const result = await logins.signIn({ profileId: 'alpha', gatewayUrl, silent: true, onShown: () => shownCalls++ })
    if (!result.ok) throw new Error(`silent sign-in failed: ${result.reason} ${result.error.message}`)
    expect(result.value.shown).toBe(false)
    expect(result.value.token).not.toBe(firstToken)
    expect(claimsOf(result.value.token)).toMatchObject({ type: 'app', email: EMAIL })
    // Access let the team session through (SSO), without a login page and without a code.
    expect(teamRequests('login-sso').length).toBe(ssoBefore + 1)
    await expect.poll(() => deps.listWindows().slice(since)).toEqual([expect.objectContaining({ visible: false, everShown: false, closed: true, closeCalls: 1 })])
    expect(deps.windows[since]?.showCalls).toBe(0)
    expect(shownCalls).toBe(0)
    expect(await getWithToken('/api/renewed', result.value.token)).toBe(200)
  })

  it('silent renewal once the team session is gone needs the user; with showIfNeeded the window appears and the user completes it', async () => {
    // The identity session ends elsewhere (a logout in another tab, an administrator).
    expect(await logoutElsewhere(emu, GW, firstToken, UA)).toBe(200)

    const since = deps.windows.length
    const result = await logins.signIn({ profileId: 'alpha', gatewayUrl, silent: true })
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.reason).toBe('needs-user')
      expect(result.error.code).toBe('ACCESS_LOGIN_REQUIRED')
    }
    await expect.poll(() => deps.listWindows().slice(since)).toEqual([expect.objectContaining({ visible: false, everShown: false, closed: true, closeCalls: 1 })])

    // The same, allowed to show the window when needed.
    const since2 = deps.windows.length
    let shownCalls = 0
    const attempt = start({ profileId: 'alpha', silent: true, showIfNeeded: true, onShown: () => shownCalls++ })
    const win = await deps.waitForWindow('alpha', { since: since2 })
    // Hidden at first...
    expect(win.options.show).toBe(false)
    // ...then shown once the login page stayed up.
    await deps.waitForWindow('alpha', { since: since2, visible: true })
    expect(shownCalls).toBe(1)
    await completeLogin(win.page)
    const renewed = await attempt.result
    if (!renewed.ok) throw new Error(`sign-in failed: ${renewed.reason} ${renewed.error.message}`)
    expect(renewed.value.shown).toBe(true)
    expect(renewed.value.email).toBe(EMAIL)
    expect(await getWithToken('/api/after-login', renewed.value.token)).toBe(200)
  })

  it('signs out: the app and team logouts reach the emulator and the partition keeps no cookie', async () => {
    const session = deps.session('alpha')
    expect((await session.cookies.all()).length).toBeGreaterThan(0)
    const before = emu.requests.length
    const result = await logins.signOut({ profileId: 'alpha', gatewayUrl, teamOrigin: emu.teamUrl })
    expect(result).toEqual({ appLogout: 'done', teamLogout: 'done', storageCleared: true })
    const logouts = emu.requests.slice(before).filter((r) => r.reason === 'logout')
    expect(logouts.map((r) => r.host).sort()).toEqual([GW, emu.teamDomain].sort())
    // Both carried the partition's own cookie (that is what revokes the session), with the app's agent.
    for (const r of logouts) {
      expect(r.credentials).toContain('cookie:CF_Authorization')
      expect(r.userAgent).toBe(UA)
    }
    expect(await session.cookies.all()).toEqual([])
    expect(session.clearedStorage).toBe(1)

    // With the session gone, a silent attempt needs the user again.
    const silent = await logins.signIn({ profileId: 'alpha', gatewayUrl, silent: true })
    expect(silent.ok ? 'ok' : silent.reason).toBe('needs-user')
  })
})
