/**
 * End to end: the one-click Cloudflare Access sign-in of the desktop app. The built renderer in
 * real Chromium (renderer-harness.ts), the REAL main-process handlers and sign-in service in
 * this process, and the login window as a real Chromium page (playwright-login-windows.ts)
 * driven through the app's own login-window adapter, against the Access emulator in front of
 * the REAL OpenClaw gateway. The test plays the user in both windows: it clicks in the app,
 * types the email in the login window, reads the one-time code from the emulator's outbox and
 * types it.
 *
 *   app window (Chromium) ──window.api──▶ createAppServices (this process)
 *        ├─ login window adapter ──ports──▶ login windows (Chromium, one context per profile)
 *        └─ connection ──wss──▶ Access emulator (gw-signin.aether.test) ──▶ real gateway
 *
 * Screenshots of the sign-in states go to test-output/screenshots/.
 */
import type { BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserUserAgent, createAccessLoginWindows } from '../../src/main/electron/access-login-window'
import { secretKeys } from '../../src/main/secrets/secret-store'
import type { AccessSignInStatus } from '../../src/shared/ipc-contract'
import { claimsOf, logoutElsewhere, requestCodeMail, typeCode, waitForInvalidCode, wrongCode } from '../e2e/access-login-steps'
import { createPlaywrightLoginWindowDeps, type PlaywrightLoginWindowDeps } from '../e2e/playwright-login-windows'
import { RecordingSecretStore } from '../e2e/recording-secret-store'
import type { RendererHarness } from '../e2e/renderer-harness'
import { sharedGateway } from '../e2e/shared-gateway'
import { appSteps, pushedConnectionStates, startAppWindow } from '../e2e/ui-steps'
import { startAccessEmulator, type AccessEmulator } from '../support/access-emulator'
import { installTestHosts } from '../support/hosts'
import { approveDevice } from '../support/real-gateway'

const { gatewayHttpUrl, gatewayUrl, gatewayToken, mockModelReply: reply } = sharedGateway()

const GW = 'gw-signin.aether.test'
const OPERATOR = 'operator@example.com'
const UA = browserUserAgent('140.0.7339.80', 'linux')
const SESSION_KEY = 'agent:main:access-sign-in'
/** Renewal lead for this run: with the emulator's 1-hour sessions, renewal is due 6.5 min before expiry. */
const RENEW_LEAD_SEC = 390
/**
 * A session that started this long ago (emulator clock) has 7 minutes left: still usable for a
 * connection (the app wants 6 minutes of validity), and due for renewal 30 s after sign-in.
 */
const AGED_SESSION_MS = (3600 - 420) * 1000

let uninstallHosts: () => void = () => {}
let emu: AccessEmulator
let loginWindows: PlaywrightLoginWindowDeps
let store: RecordingSecretStore
let app: RendererHarness
let page: Page
/** The "system browser" of the browser sign-in: a context of its own, as the user's browser would be. */
let systemBrowser: BrowserContext | undefined
const systemBrowserPages: Page[] = []
/** Team-domain (org) tokens seen in any cookie store: they must never reach the renderer either. */
const orgTokens = new Set<string>()

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  emu = await startAccessEmulator({
    team: 'aether-signin',
    // One-hour Access sessions (the app session duration: app tokens and their cookies).
    apps: [{ host: GW, upstream: gatewayHttpUrl, sessionDurationSec: 3600, policies: [{ decision: 'allow', emails: [OPERATOR] }] }]
  })
  loginWindows = await createPlaywrightLoginWindowDeps({ userAgent: UA })
  store = new RecordingSecretStore()
  app = await startAppWindow({
    secrets: store,
    configDirPrefix: 'aether-e2e-sign-in-',
    services: {
      accessLoginWindows: createAccessLoginWindows(loginWindows),
      accessRenewal: { leadSec: RENEW_LEAD_SEC, skewSec: 0, minIntervalMs: 5_000 },
      transferBaseUrl: emu.transfer.baseUrl
    },
    // The system browser: the app opens the `/cdn-cgi/access/cli` page there.
    onOpenExternal: (url) => void openInSystemBrowser(url)
  })
  page = app.page
})

afterAll(async () => {
  await app?.close()
  await systemBrowser?.close().catch(() => undefined)
  await loginWindows?.close()
  await emu?.close()
  uninstallHosts()
})

async function openInSystemBrowser(url: string): Promise<void> {
  if (!url.includes('/cdn-cgi/access/cli')) return
  systemBrowser ??= await loginWindows.browser.newContext({ ignoreHTTPSErrors: true })
  const tab = await systemBrowser.newPage()
  systemBrowserPages.push(tab)
  await tab.goto(url).catch(() => undefined)
}

// --- What a user does and sees in the app ----------------------------------------------------------

const ui = appSteps(() => app)
const { connect, waitForState, open } = ui

function accessSection(): Locator {
  return page.getByTestId('access-section')
}

function accessButton(name: string): Locator {
  return accessSection().getByRole('button', { name, exact: true })
}

function signInStatus(): Locator {
  return accessSection().getByTestId('access-sign-in-status')
}

async function waitForPhase(phase: AccessSignInStatus['phase'], timeout = 15_000): Promise<void> {
  try {
    await accessSection().locator(`[data-testid="access-sign-in-status"][data-phase="${phase}"]`).waitFor({ timeout })
  } catch (e) {
    const shown = await signInStatus()
      .evaluate((el) => `${el.getAttribute('data-phase')}: ${el.textContent ?? ''}`)
      .catch(() => 'no sign-in status')
    throw new Error(`the sign-in status never showed "${phase}" within ${timeout} ms; it shows ${shown}\n${(e as Error).message}`)
  }
}

/** Adds an email sign-in gateway in the editor and saves it; returns its id. */
function addGateway(name: string): Promise<string> {
  return ui.addGateway({
    name,
    url: emu.appUrl(GW, '/', 'wss'),
    token: gatewayToken,
    // A session of its own on the shared gateway (other files' chats start from an empty transcript).
    sessionKey: SESSION_KEY,
    caFile: emu.caFile,
    access: 'email-otp'
  })
}

/** The login window's part: the email, then (optionally a wrong code first) the code from the outbox. */
async function loginInWindow(login: Page, opts: { wrongCodeFirst?: boolean; onWrongCode?: () => Promise<void> } = {}): Promise<void> {
  const { code } = await requestCodeMail(login, emu, OPERATOR)
  if (opts.wrongCodeFirst) {
    await typeCode(login, wrongCode(code))
    await waitForInvalidCode(login)
    await opts.onWrongCode?.()
  }
  await typeCode(login, code)
}

async function storedAppToken(profileId: string): Promise<string | null> {
  return store.get(secretKeys.cfAppToken(profileId))
}

/** The org (team-domain) tokens in a profile's login-window cookie store, remembered for the leak check. */
async function collectOrgTokens(profileId: string): Promise<void> {
  for (const c of await loginWindows.session(profileId).cookies.all()) if (c.name === 'CF_Authorization' && c.domain === emu.teamDomain) orgTokens.add(c.value)
}

/** Statuses the main process pushed for a profile, in order. */
function pushedStatuses(profileId: string): AccessSignInStatus[] {
  return app.recorded
    .filter((r) => r.kind === 'event' && r.channel === 'access:status')
    .map((r) => JSON.parse(r.json) as AccessSignInStatus)
    .filter((s) => s.profileId === profileId)
}

/** Signs a gateway in through the login window as the user does it; returns the stored token. */
async function signInThroughWindow(profileId: string): Promise<string> {
  const since = loginWindows.windows.length
  await accessButton('Sign in with Cloudflare Access').click()
  const login = await loginWindows.pageOf(profileId, { since, visible: true })
  await loginInWindow(login)
  await waitForPhase('signed-in')
  const token = await storedAppToken(profileId)
  if (!token) throw new Error('no app token in the keychain after the sign-in')
  await collectOrgTokens(profileId)
  return token
}

/**
 * Adds a gateway and signs it in while the emulator hands out sessions that started a while
 * ago (7 minutes left, renewal due soon); returns its id and the first app token.
 */
async function addAndSignInWithAgedSession(name: string): Promise<{ id: string; first: string }> {
  emu.clock.set(Date.now() - AGED_SESSION_MS)
  try {
    const id = await addGateway(name)
    return { id, first: await signInThroughWindow(id) }
  } finally {
    emu.clock.set(Date.now())
  }
}

const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}/

// ---------------------------------------------------------------------------------------------

describe('Cloudflare Access sign-in in the desktop app, end to end', () => {
  const MAIN = 'Edge (email sign-in)'
  let mainId = ''

  it('signs in through the login window (a wrong code first), stores the token, pairs, connects and chats', async () => {
    mainId = await addGateway(MAIN)
    await waitForPhase('signed-out')
    expect(await signInStatus().innerText()).toContain('Not signed in to Cloudflare Access.')

    const since = loginWindows.windows.length
    await accessButton('Sign in with Cloudflare Access').click()
    const win = await loginWindows.waitForWindow(mainId, { since })
    expect(win.visible).toBe(true)
    await waitForPhase('signing-in')
    expect(await signInStatus().innerText()).toContain('Complete the sign-in in the Cloudflare Access window')
    await accessButton('Cancel sign-in').waitFor()
    await win.page.getByLabel('Email').waitFor()
    await accessSection().scrollIntoViewIfNeeded()
    await app.screenshot('access-01-signing-in')

    await loginInWindow(win.page, {
      wrongCodeFirst: true,
      // A wrong code is the login page's business: the app keeps waiting, the window stays.
      onWrongCode: async () => {
        expect(await signInStatus().getAttribute('data-phase')).toBe('signing-in')
        expect(win.isDestroyed()).toBe(false)
        await app.screenshot('access-02-wrong-code-still-waiting')
      }
    })
    await waitForPhase('signed-in')
    await expect.poll(() => win.isDestroyed()).toBe(true)

    // What the user sees: who is signed in and how long it lasts; never the token.
    expect(await accessSection().getByTestId('access-signed-in').innerText()).toContain(`Signed in as ${OPERATOR}`)
    expect(await accessSection().getByTestId('access-time-left').innerText()).toMatch(/^(59 min|1 h)$/)
    await accessSection().scrollIntoViewIfNeeded()
    await app.screenshot('access-03-signed-in')

    // The keychain holds the app token of this application (not the team's org token).
    const token = await storedAppToken(mainId)
    expect(token).not.toBeNull()
    expect(claimsOf(token!)).toMatchObject({ type: 'app', aud: [emu.app(GW).aud], email: OPERATOR })
    const status = pushedStatuses(mainId).at(-1)
    expect(status).toMatchObject({ phase: 'signed-in', email: OPERATOR, expiresAt: (claimsOf(token!).exp as number) * 1000 })
    await collectOrgTokens(mainId)
    expect(orgTokens.size).toBe(1)

    // Connect with it: the gateway wants the device approved first.
    await connect()
    await waitForState('pairing-required', 30_000)
    const command = ((await page.getByTestId('pairing-command').first().textContent()) ?? '').trim()
    const match = /^openclaw devices approve ([0-9a-f-]{36})$/.exec(command)
    expect(match, `pairing command shown: ${command}`).not.toBeNull()
    await approveDevice(gatewayUrl, gatewayToken, match![1]!)
    await waitForState('ready', 30_000)
    const upgrade = emu.requests.filter((r) => r.host === GW && r.upgrade && r.decision === 'forwarded').at(-1)
    expect(upgrade?.credentials).toContain('cf-access-token')
    expect(upgrade?.principal).toEqual({ kind: 'identity', email: OPERATOR })
    expect(emu.upstreamRequests.filter((r) => r.upgrade).at(-1)?.headers['cf-access-jwt-assertion']).toBe(token)

    // And a chat reply streams in over that connection.
    await page.getByRole('button', { name: 'Open session', exact: true }).click()
    await page.getByTestId('session-view').waitFor()
    const input = page.getByTestId('composer').getByLabel('Message')
    await expect.poll(() => input.isEnabled(), { timeout: 10_000 }).toBe(true)
    await input.fill('hello through Access')
    await page.getByTestId('composer').getByRole('button', { name: 'Send', exact: true }).click()
    const finalReply = page.locator('[data-testid="message"][data-role="assistant"][data-status="final"]').first()
    await finalReply.waitFor({ timeout: 30_000 })
    expect(((await finalReply.textContent()) ?? '').replace(/^Assistant/, '').trim()).toBe(reply)
  })

  const OTHER = 'Edge (browser sign-in)'
  let otherId = ''

  it('cancel: "Cancel sign-in" closes the login window; the app says so and offers the browser', async () => {
    otherId = await addGateway(OTHER)
    const since = loginWindows.windows.length
    await accessButton('Sign in with Cloudflare Access').click()
    const win = await loginWindows.waitForWindow(otherId, { since })
    await win.page.getByLabel('Email').waitFor()
    await waitForPhase('signing-in')
    await accessButton('Cancel sign-in').click()

    await expect.poll(() => win.isDestroyed()).toBe(true)
    await waitForPhase('signed-out')
    const error = accessSection().getByTestId('access-sign-in-error')
    await error.waitFor()
    expect(await error.innerText()).toContain('Sign-in cancelled')
    expect(await storedAppToken(otherId)).toBeNull()
    expect(pushedStatuses(otherId).at(-1)).toMatchObject({ phase: 'signed-out', error: { code: 'CANCELLED' }, offerBrowser: true })
    // The way on: sign in again, or with the browser.
    await accessButton('Sign in with Cloudflare Access').waitFor()
    await accessButton('Sign in with your browser instead').waitFor()
    await accessSection().scrollIntoViewIfNeeded()
    await app.screenshot('access-04-cancelled-offers-browser')
  })

  it('signs in with the system browser (the cli page and the token transfer), then connects', async () => {
    expect(otherId).not.toBe('')
    const openedBefore = app.opened.length
    const windowsBefore = loginWindows.windows.length
    await accessButton('Sign in with your browser instead').click()
    await waitForPhase('signing-in')
    expect(await signInStatus().innerText()).toContain('Complete the sign-in in your web browser')

    // The app asked the system browser to open the application's cli page, with a key of this attempt.
    await expect.poll(() => app.opened.length).toBeGreaterThan(openedBefore)
    const cliUrl = new URL(app.opened.at(-1)!)
    expect(cliUrl.origin).toBe(new URL(emu.appUrl(GW)).origin)
    expect(cliUrl.pathname).toBe('/cdn-cgi/access/cli')
    expect(cliUrl.searchParams.get('aud')).toBe(emu.app(GW).aud)
    expect(cliUrl.searchParams.get('edge_token_transfer')).toBe('true')
    const publicKey = cliUrl.searchParams.get('token')
    expect(publicKey).toBeTruthy()

    // The user signs in in the browser and approves the "Access requested" page.
    await expect.poll(() => systemBrowserPages.length).toBeGreaterThan(0)
    const tab = systemBrowserPages.at(-1)!
    await tab.getByLabel('Email').waitFor()
    await loginInWindow(tab)
    await tab.getByRole('heading', { name: 'Access requested' }).waitFor()
    await tab.getByRole('button', { name: 'Approve' }).click()
    await tab.getByRole('heading', { name: 'Success' }).waitFor()
    for (const c of await systemBrowser!.cookies()) if (c.name === 'CF_Authorization') orgTokens.add(c.value)

    await waitForPhase('signed-in', 30_000)
    expect(await accessSection().getByTestId('access-signed-in').innerText()).toContain(`Signed in as ${OPERATOR}`)
    const transfer = emu.transfer.pending.find((t) => t.publicKey === publicKey)
    expect(transfer).toMatchObject({ state: 'delivered', email: OPERATOR, host: GW })
    const token = await storedAppToken(otherId)
    expect(claimsOf(token!)).toMatchObject({ type: 'app', aud: [emu.app(GW).aud], email: OPERATOR })
    // No login window was involved.
    expect(loginWindows.windows.length).toBe(windowsBefore)

    await connect()
    await waitForState('ready', 30_000)
    expect(emu.upstreamRequests.filter((r) => r.upgrade).at(-1)?.headers['cf-access-jwt-assertion']).toBe(token)
  })

  it('renews an expiring sign-in silently: a hidden window, never shown; a new token; the connection stays ready', async () => {
    const NAME = 'Edge (short session)'
    const { id, first } = await addAndSignInWithAgedSession(NAME)
    const left = (claimsOf(first).exp as number) * 1000 - Date.now()
    expect(left).toBeGreaterThan(380_000)
    expect(left).toBeLessThan(421_000)

    await connect()
    await waitForState('ready', 30_000)
    const windowsBefore = loginWindows.windows.length
    const ssoBefore = emu.requests.filter((r) => r.reason === 'login-sso').length
    const statesBefore = pushedConnectionStates(app, id).length

    // The renewal timer fires (exp - 390 s) and a hidden window uses the team session.
    await expect.poll(() => storedAppToken(id), { timeout: 60_000, interval: 500 }).not.toBe(first)
    const renewed = (await storedAppToken(id))!
    expect(claimsOf(renewed)).toMatchObject({ type: 'app', aud: [emu.app(GW).aud], email: OPERATOR })
    expect((claimsOf(renewed).exp as number) * 1000 - Date.now()).toBeGreaterThan(3_000_000)
    expect(emu.requests.filter((r) => r.reason === 'login-sso').length).toBe(ssoBefore + 1)
    const renewalWindows = loginWindows.listWindows().slice(windowsBefore)
    expect(renewalWindows.length).toBe(1)
    expect(renewalWindows[0]).toMatchObject({ visible: false, everShown: false })
    expect(loginWindows.windows[windowsBefore]?.showCalls).toBe(0)
    await expect.poll(() => loginWindows.listWindows().slice(windowsBefore).every((w) => w.closed)).toBe(true)

    // The renderer heard of the renewal and is signed in again, with the new expiry.
    const statuses = pushedStatuses(id)
    expect(statuses.some((s) => s.phase === 'renewing' && s.via === 'hidden-window')).toBe(true)
    await waitForPhase('signed-in')
    expect(statuses.at(-1)).toMatchObject({ phase: 'signed-in', expiresAt: (claimsOf(renewed).exp as number) * 1000 })
    expect(await accessSection().getByTestId('access-time-left').innerText()).toMatch(/^(59|60) min$|^1 h$/)
    // The connection never left ready.
    await waitForState('ready', 5_000)
    expect(pushedConnectionStates(app, id).slice(statesBefore).filter((s) => s !== 'ready')).toEqual([])
  })

  it('a renewal that needs the user: the team session is gone, the window is shown, the user signs in, ready', async () => {
    const NAME = 'Edge (renewal needs you)'
    const { id, first } = await addAndSignInWithAgedSession(NAME)
    await connect()
    await waitForState('ready', 30_000)
    // The identity session ends elsewhere: the partition's team session no longer lets the hidden window through.
    expect(await logoutElsewhere(emu, GW, first, UA)).toBe(200)
    const windowsBefore = loginWindows.windows.length

    // At renewal time the hidden window lands on the login page, so it is shown.
    const win = await loginWindows.waitForWindow(id, { since: windowsBefore, visible: true, timeoutMs: 60_000 })
    expect(win.options.show).toBe(false)
    await win.page.getByLabel('Email').waitFor()
    await waitForPhase('signing-in')
    await accessButton('Cancel sign-in').waitFor()
    await loginInWindow(win.page)

    await expect.poll(() => storedAppToken(id), { timeout: 30_000 }).not.toBe(first)
    await waitForPhase('signed-in')
    await collectOrgTokens(id)
    const renewed = (await storedAppToken(id))!
    expect(claimsOf(renewed)).toMatchObject({ type: 'app', email: OPERATOR })
    expect(pushedStatuses(id).some((s) => s.phase === 'renewing' && s.via === 'hidden-window')).toBe(true)
    await waitForState('ready', 30_000)
  })

  it('signs out: signed-out status, no app token in the keychain, the logout reached Access, the window storage is cleared', async () => {
    await open(MAIN, 'Gateways')
    await waitForPhase('signed-in')
    const session = loginWindows.session(mainId)
    expect((await session.cookies.all()).length).toBeGreaterThan(0)
    const requestsBefore = emu.requests.length

    await accessButton('Sign out').click()
    await waitForPhase('signed-out')
    expect(await signInStatus().innerText()).toContain('Not signed in to Cloudflare Access.')
    expect(await storedAppToken(mainId)).toBeNull()
    expect(pushedStatuses(mainId).at(-1)).toMatchObject({ phase: 'signed-out' })
    expect(pushedStatuses(mainId).at(-1)?.email).toBeUndefined()

    // The Access logout on the gateway's host ran with the window's cookie, and ended the session there.
    const logouts = emu.requests.slice(requestsBefore).filter((r) => r.reason === 'logout')
    const appLogout = logouts.find((r) => r.host === GW)
    expect(appLogout?.credentials).toContain('cookie:CF_Authorization')
    // The team-domain logout ran too, at the origin the window met (the emulator's port), and
    // ended the team session: the status says nothing about a partial sign-out.
    expect(logouts.some((r) => r.host === emu.teamDomain)).toBe(true)
    expect(await signInStatus().innerText()).not.toContain('on this computer only')
    // The partition keeps nothing: a later sign-in starts from the email form.
    expect(await session.cookies.all()).toEqual([])
    expect(session.clearedStorage).toBeGreaterThan(0)
    // And the gateway's connection is closed.
    await expect.poll(() => app.services.manager.snapshot(mainId).state.kind).toBe('idle')
    await accessButton('Sign in with Cloudflare Access').waitFor()
  })

  it('no token (app, org, binding) and no JWT ever reached the renderer', async () => {
    await app.eventsDelivered()
    const appTokens = store
      .storedValues()
      .filter((s) => /^cf:[^:]+:(app-token|binding)$/.test(s.key))
      .map((s) => s.value)
    // App tokens of five sign-ins and two renewals, org tokens of four login windows and the browser.
    expect(appTokens.length).toBeGreaterThanOrEqual(6)
    expect(orgTokens.size).toBeGreaterThanOrEqual(4)
    const needles = [...appTokens.map((t) => ['app token', t] as const), ...[...orgTokens].map((t) => ['org token', t] as const)]
    const leaks: string[] = []
    for (const payload of app.recorded) {
      for (const [what, needle] of needles) if (payload.json.includes(needle)) leaks.push(`${what} in ${payload.kind} ${payload.channel}`)
      if (JWT_SHAPE.test(payload.json)) leaks.push(`a JWT in ${payload.kind} ${payload.channel}`)
    }
    expect(leaks).toEqual([])
    expect(app.recorded.filter((r) => r.channel === 'access:status').length).toBeGreaterThan(10)
    const dom = (await page.evaluate(`document.documentElement.outerHTML`)) as string
    expect(JWT_SHAPE.test(dom)).toBe(false)
    expect(app.pageErrors).toEqual([])
  })
})
