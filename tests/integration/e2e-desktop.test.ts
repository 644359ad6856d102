/**
 * End to end: the desktop app's built renderer in real Chromium, driven only through what a
 * user sees (roles, labels, buttons, test ids), over the test bridge to the REAL main-process
 * handlers in this process, which dial the REAL OpenClaw gateway through the Cloudflare Access
 * emulator (and a TCP proxy of ours that can cut the link).
 *
 *   Chromium (out/renderer) ──window.api──▶ createAppServices handlers (this process)
 *        ──wss──▶ Access emulator (gw.aether.test) ──▶ dropping proxy ──▶ real gateway
 *
 * Screenshots of the main screens go to test-output/screenshots/.
 */
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAccessEmulator, type AccessEmulator } from '../support/access-emulator'
import { installTestHosts } from '../support/hosts'
import { approveDevice } from '../support/real-gateway'
import { startDroppingProxy, type DroppingProxy } from '../e2e/dropping-proxy'
import { RecordingSecretStore } from '../e2e/recording-secret-store'
import type { RendererHarness } from '../e2e/renderer-harness'
import { secretNeedles, storedSecretKinds, windowContents } from '../e2e/secret-needles'
import { sharedGateway } from '../e2e/shared-gateway'
import { ACCESS_RADIO, appSteps, pushedConnectionStates, startAppWindow } from '../e2e/ui-steps'

const { gatewayHttpUrl, gatewayUrl, gatewayToken, mockModelReply: reply } = sharedGateway()

const GW = 'gw.aether.test'
const OPERATOR = 'operator@example.com'

let uninstallHosts: () => void = () => {}
let proxy: DroppingProxy
let emu: AccessEmulator
let serviceToken: { clientId: string; clientSecret: string }
let store: RecordingSecretStore
let app: RendererHarness
let page: Page
/** App tokens the test handed to the main process (they must never reach the renderer either). */
const appTokens: string[] = []

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  const upstream = new URL(gatewayHttpUrl)
  proxy = await startDroppingProxy({ host: upstream.hostname, port: Number(upstream.port) })
  emu = await startAccessEmulator({
    team: 'aether-desktop',
    apps: [
      {
        host: GW,
        upstream: proxy.url,
        policies: [
          { decision: 'non_identity', serviceTokens: ['desktop'] },
          { decision: 'allow', emails: [OPERATOR] }
        ]
      }
    ]
  })
  serviceToken = emu.createServiceToken({ name: 'desktop' })
  // One secret store and config dir for this file: a fresh device identity, never the OS keychain.
  store = new RecordingSecretStore()
  app = await startAppWindow({ secrets: store, configDirPrefix: 'aether-e2e-desktop-', clipboard: true })
  page = app.page
})

afterAll(async () => {
  await app?.close()
  await emu?.close()
  await proxy?.close()
  uninstallHosts()
})

// ---------------------------------------------------------------------------------------------
// What a user does and sees
// ---------------------------------------------------------------------------------------------

const { field, button, statusBanner, profileItem, connect, waitForState, addGateway, open, visibleText } = appSteps(() => app)

/**
 * Records, inside the page, every rendered state of the newest assistant message (text and
 * data-status) from now on: a MutationObserver sees each commit, so partial renders are kept.
 */
async function watchReplies(): Promise<void> {
  await page.evaluate(`(() => {
    const samples = []
    window.__e2eReplySamples = samples
    const take = () => {
      const replies = document.querySelectorAll('[data-testid="message"][data-role="assistant"]')
      const el = replies[replies.length - 1]
      if (!el) return
      const body = el.querySelector('.message__body')
      const text = ((body || el).textContent || '').trim()
      const status = el.getAttribute('data-status') || ''
      const last = samples[samples.length - 1]
      if (!last || last.text !== text || last.status !== status) samples.push({ text, status, count: replies.length })
    }
    if (window.__e2eReplyObserver) window.__e2eReplyObserver.disconnect()
    window.__e2eReplyObserver = new MutationObserver(take)
    window.__e2eReplyObserver.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true })
  })()`)
}

/** Records, inside the page, every state the connection banner shows from now on (until a reload). */
async function watchBannerStates(): Promise<void> {
  await page.evaluate(`(() => {
    const seen = []
    window.__e2eBannerStates = seen
    const take = () => {
      const el = document.querySelector('[data-testid="connection-status"]')
      const state = el ? el.getAttribute('data-state') : null
      if (state && seen[seen.length - 1] !== state) seen.push(state)
    }
    take()
    new MutationObserver(take).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] })
  })()`)
}

async function replySamples(): Promise<{ text: string; status: string; count: number }[]> {
  return (await page.evaluate('window.__e2eReplySamples || []')) as { text: string; status: string; count: number }[]
}

/** Types a message in the composer, sends it and waits for the reply to finish streaming. */
async function chat(text: string): Promise<{ final: string; partials: string[] }> {
  const composer = page.getByTestId('composer')
  const input = composer.getByLabel('Message')
  await expect.poll(() => input.isEnabled(), { timeout: 10_000 }).toBe(true)
  const before = await page.locator('[data-testid="message"][data-role="assistant"]').count()
  await watchReplies()
  await input.fill(text)
  await button('Send', composer).click()
  await page.locator('[data-testid="message"][data-role="user"]').filter({ hasText: text }).last().waitFor()
  // The first chat of a run warms the gateway's agent up: be generous.
  const finalReply = page.locator('[data-testid="message"][data-role="assistant"][data-status="final"]').nth(before)
  await finalReply.waitFor({ timeout: 30_000 })
  const samples = (await replySamples()).filter((s) => s.count === before + 1)
  const partials = samples.filter((s) => s.status === 'streaming' && s.text !== '' && s.text !== '…').map((s) => s.text)
  return { final: ((await finalReply.textContent()) ?? '').replace(/^Assistant/, '').trim(), partials }
}

const RAW_LEAKS = /https?:\/\/|wss?:\/\/|cdn-cgi|meta=|kid=|<\/?[a-z]+[\s>]|eyJ[A-Za-z0-9_-]{10,}/i

// ---------------------------------------------------------------------------------------------

describe('desktop app, end to end', () => {
  let edgeId = ''
  const EDGE = 'Edge (service token)'
  let pairingRequestId = ''
  /** What the connection banner showed, in order, from Connect to ready in scenario a. */
  let bannerStates: string[] = []

  it('a. adds an Access-protected gateway, pairs the device, and chats with a streamed reply', async () => {
    edgeId = await addGateway({
      name: EDGE,
      url: emu.appUrl(GW, '/', 'wss'),
      token: gatewayToken,
      caFile: emu.caFile,
      access: 'service-token',
      clientId: serviceToken.clientId,
      clientSecret: serviceToken.clientSecret
    })
    // Write-only secrets: the editor shows that they are set (a hint), never the value.
    const tokenHint = page.getByTestId('profile-gateway-token-hint')
    const secretHint = page.getByTestId('profile-client-secret-hint')
    await expect.poll(() => tokenHint.textContent()).toMatch(/^set/)
    await expect.poll(() => secretHint.textContent()).toMatch(/^set/)
    expect(await tokenHint.textContent()).not.toContain(gatewayToken)
    expect(await secretHint.textContent()).not.toContain(serviceToken.clientSecret)
    expect(await visibleText()).toContain(EDGE)
    await page.getByRole('heading', { name: EDGE }).scrollIntoViewIfNeeded()
    await app.screenshot('01-config-view-with-profile')

    // Connect: Access lets the service token through; the gateway wants this device approved.
    await watchBannerStates()
    await connect()
    await waitForState('pairing-required', 20_000)
    const command = page.getByTestId('pairing-command').first()
    const commandText = ((await command.textContent()) ?? '').trim()
    const match = /^openclaw devices approve ([0-9a-f-]{36})$/.exec(commandText)
    expect(match, `pairing command shown: ${commandText}`).not.toBeNull()
    pairingRequestId = match![1]!
    const snapshot = app.services.manager.snapshot(edgeId).state
    expect(snapshot.kind === 'pairing-required' ? snapshot.requestId : undefined).toBe(pairingRequestId)

    // The Copy button puts exactly the command on the clipboard.
    const box = statusBanner().first()
    await button('Copy', box).first().click()
    await box.getByText('Copied', { exact: true }).waitFor({ timeout: 15_000 })
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(commandText)
    await app.screenshot('02-pairing-panel')

    // The operator approves on the gateway host; the app retries by itself and gets in.
    await approveDevice(gatewayUrl, gatewayToken, pairingRequestId)
    await waitForState('ready', 30_000)
    await expect.poll(() => profileItem(EDGE).getAttribute('data-state')).toBe('ready')
    bannerStates = (await page.evaluate('window.__e2eBannerStates')) as string[]

    // Into the conversation: the reply streams in, then settles on the full text.
    await button('Open session').click()
    await page.getByTestId('session-view').waitFor()
    const { final, partials } = await chat('hello')
    expect(final).toBe(reply)
    // Every render while streaming showed a beginning of the reply, and some showed only part of it.
    for (const partial of partials) expect(reply.startsWith(partial), `render while streaming: "${partial}"`).toBe(true)
    expect(partials.filter((p) => p.length < reply.length), `renders while streaming: ${JSON.stringify(partials)}`).not.toEqual([])
    await app.screenshot('03-session-streamed-reply')
  })

  it('b. without Access credentials: the Access panel with its claims and the way forward, no raw URL or HTML', async () => {
    const NONE = 'Edge (no Access)'
    const id = await addGateway({ name: NONE, url: emu.appUrl(GW, '/', 'wss'), token: gatewayToken, caFile: emu.caFile, access: 'none' })
    await connect()
    await waitForState('access-required', 20_000)
    const panel = page.getByTestId('error-panel')
    await expect.poll(() => panel.getAttribute('data-code')).toBe('ACCESS_LOGIN_REQUIRED')
    await panel.getByRole('heading', { name: 'Cloudflare Access blocked the connection' }).waitFor()

    const claims = panel.getByTestId('access-claims')
    expect(await claims.getByRole('row', { name: /Application host/ }).innerText()).toContain(GW)
    expect(await claims.getByRole('row', { name: /Team domain/ }).innerText()).toContain(emu.teamDomain)
    expect(await claims.getByRole('row', { name: /Audience/ }).innerText()).toContain(emu.app(GW).aud)

    // The way forward: add a service token (a button), or sign in by email (offered).
    await button('Add service token', panel).waitFor()
    await button('Sign in with Cloudflare Access', panel).waitFor()
    const text = await visibleText(panel)
    expect(text).toMatch(/service token/i)
    expect(text).toMatch(/sign in/i)
    expect(text).not.toMatch(RAW_LEAKS)
    expect(await panel.innerHTML()).not.toMatch(/cdn-cgi|meta=|kid=|eyJ[A-Za-z0-9_-]{10,}/)
    expect(pushedConnectionStates(app, id)).toContain('access-required')
    await panel.scrollIntoViewIfNeeded()
    await app.screenshot('04-access-error-panel')

    // "Add service token" opens the editor in service-token mode, at the Client ID.
    await button('Add service token', panel).click()
    const clientId = field('Client ID')
    await clientId.waitFor()
    expect(await page.getByRole('radio', { name: ACCESS_RADIO['service-token'] }).isChecked()).toBe(true)
    await expect.poll(() => clientId.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true)
    // ...and following it gets in (this device is already approved).
    await clientId.fill(serviceToken.clientId)
    await field('Client Secret').fill(serviceToken.clientSecret)
    await connect()
    await waitForState('ready', 30_000)
  })

  it('c. a wrong gateway token: the gateway’s refusal and the fix (check the token)', async () => {
    const WRONG = 'Edge (wrong token)'
    await addGateway({
      name: WRONG,
      url: emu.appUrl(GW, '/', 'wss'),
      token: 'this-is-not-the-gateway-token',
      caFile: emu.caFile,
      access: 'service-token',
      clientId: serviceToken.clientId,
      clientSecret: serviceToken.clientSecret
    })
    await connect()
    await waitForState('failed', 20_000)
    const panel = page.getByTestId('error-panel')
    await expect.poll(() => panel.getAttribute('data-code')).toBe('GATEWAY_TOKEN_MISMATCH')
    expect(await visibleText(panel)).toMatch(/token/i)
    expect(await panel.getByTestId('gateway-codes').innerText()).toContain('AUTH_TOKEN_MISMATCH')
    const check = button('Check gateway token', panel)
    await check.waitFor()
    expect(await visibleText(panel)).not.toMatch(RAW_LEAKS)
    await panel.scrollIntoViewIfNeeded()
    await app.screenshot('05-gateway-token-mismatch')

    // The fix: "Check gateway token" puts the cursor in the token field; the right one connects.
    await check.click()
    const token = field('Gateway token')
    await expect.poll(() => token.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true)
    await token.fill(gatewayToken)
    await connect()
    await waitForState('ready', 30_000)
  })

  it('d. pairing: the states the app went through were pairing-required, then ready', () => {
    expect(edgeId).not.toBe('')
    // What the user saw: the pairing panel, then connected (with connecting/signing-in between).
    const shownPairing = bannerStates.indexOf('pairing-required')
    expect(shownPairing, bannerStates.join(' → ')).toBeGreaterThanOrEqual(0)
    expect(bannerStates.at(-1), bannerStates.join(' → ')).toBe('ready')
    expect(bannerStates.slice(shownPairing), bannerStates.join(' → ')).not.toContain('failed')
    // What the main process pushed.
    const states = pushedConnectionStates(app, edgeId)
    const pairing = states.indexOf('pairing-required')
    expect(pairing, states.join(' → ')).toBeGreaterThanOrEqual(0)
    expect(states.indexOf('ready', pairing), states.join(' → ')).toBeGreaterThan(pairing)
    // Nothing but retries in between: no failure, no Access prompt.
    expect(states.slice(pairing, states.indexOf('ready', pairing))).not.toContain('failed')
    expect(states).not.toContain('access-required')
  })

  it('e. a dropped connection shows reconnecting, then ready again, and the session still works', async () => {
    await open(EDGE, 'Session')
    await waitForState('ready', 5_000)
    // Let the view settle (history and session list loaded) so the drop hits an idle link.
    await page.getByTestId('message').filter({ hasText: 'hello' }).first().waitFor()
    await page.getByTestId('history-loading').waitFor({ state: 'hidden' })
    await expect.poll(() => button('Refresh sessions').isEnabled()).toBe(true)
    // Cut the live link and keep the way to the gateway shut while we look.
    proxy.setDown(true)
    expect(proxy.dropAll()).toBeGreaterThan(0)
    try {
      await waitForState('reconnecting', 10_000)
      expect(await statusBanner().first().innerText()).toMatch(/Reconnecting/)
      await expect.poll(() => profileItem(EDGE).getAttribute('data-state')).toBe('reconnecting')
      expect(await page.getByTestId('composer-disabled-reason').innerText()).toMatch(/reconnect/i)
      await app.screenshot('06-reconnecting')
    } finally {
      proxy.setDown(false)
    }
    await waitForState('ready', 40_000)
    const states = pushedConnectionStates(app, edgeId)
    const drop = states.lastIndexOf('reconnecting')
    expect(states.indexOf('ready', drop), states.join(' → ')).toBeGreaterThan(drop)
    const { final } = await chat('still there?')
    expect(final).toBe(reply)
    await app.screenshot('07-session-after-reconnect')
  })

  it('an app token stored by the main process connects through Access, and its value stays out of the window', async () => {
    const SIGNED_IN = 'Edge (email sign-in)'
    const id = await addGateway({ name: SIGNED_IN, url: emu.appUrl(GW, '/', 'wss'), token: gatewayToken, caFile: emu.caFile, access: 'email-otp' })
    // What the (coming) email sign-in flow does in the main process: store the app token.
    const appToken = emu.issueAppToken({ host: GW, email: OPERATOR, expiresInSec: 3600 })
    appTokens.push(appToken)
    const stored = await app.services.handlers['secrets:set']([id, 'cfAppToken', appToken])
    expect(stored.ok).toBe(true)
    // A reload lists the profiles again (with the app token's status) and picks up the live connections.
    await page.reload()
    await page.getByTestId('profile-list').waitFor({ state: 'attached' })
    await open(SIGNED_IN, 'Gateways')
    await page.getByText(/App token: set/).waitFor()
    await connect()
    await waitForState('ready', 30_000)
    const edge = emu.requests.filter((r) => r.host === GW && r.upgrade).at(-1)
    expect(edge?.credentials).toEqual(expect.arrayContaining(['cf-access-token']))
    // The earlier gateway is still connected after the reload, and the window knows it.
    await expect.poll(() => profileItem(EDGE).getAttribute('data-state')).toBe('ready')
  })

  it('f. no secret and no stack trace ever reached the renderer', async () => {
    await app.eventsDelivered()
    expect(app.recorded.length).toBeGreaterThan(20)
    expect(app.recorded.some((r) => r.kind === 'event' && r.channel === 'session:event')).toBe(true)

    const secrets = new Map<string, string>([
      ['gateway token', gatewayToken],
      ['service token Client Secret', serviceToken.clientSecret],
      ['wrong gateway token', 'this-is-not-the-gateway-token']
    ])
    appTokens.forEach((t, i) => secrets.set(`app token ${i}`, t))
    for (const { key, value } of store.storedValues()) secrets.set(`secret store ${key}`, value)
    // Every kind of secret was really in play.
    expect(storedSecretKinds(store)).toEqual(expect.arrayContaining(['gateway:<id>:token', 'cf:<id>:client-secret', 'cf:<id>:app-token', 'device:<id>:token', 'device:identity']))

    const needles = secretNeedles(secrets)

    const leaks: string[] = []
    for (const payload of app.recorded) {
      for (const [what, needle] of needles) {
        if (payload.json.includes(needle)) leaks.push(`${what} in ${payload.kind} ${payload.channel}`)
      }
      walkStrings(JSON.parse(payload.json), (s) => {
        if (/(^|\n)\s+at \S/.test(s) || s.includes('    at ')) leaks.push(`stack trace in ${payload.kind} ${payload.channel}: ${s.slice(0, 200)}`)
      })
    }
    expect(leaks).toEqual([])

    // Nor is any secret left in the window: not in the DOM, not in an input.
    const dom = await windowContents(page)
    for (const [what, needle] of needles) expect(dom.includes(needle), `${what} in the DOM`).toBe(false)
  })

  it('the renderer raised no uncaught errors, fetched nothing from outside and opened nothing', () => {
    expect(app.pageErrors).toEqual([])
    expect(app.foreignRequests).toEqual([])
    for (const url of app.opened) expect(url).toMatch(/^(https|mailto):/)
  })
})

function walkStrings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === 'string') visit(value)
  else if (Array.isArray(value)) for (const v of value) walkStrings(v, visit)
  else if (value && typeof value === 'object') for (const v of Object.values(value)) walkStrings(v, visit)
}
