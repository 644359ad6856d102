/**
 * End to end: the connection doctor in the desktop app's built renderer, in real Chromium,
 * driven through what a user sees, over the test bridge to the REAL main-process handlers
 * (`doctor:run` → ProfileDoctor → the engine over the real network):
 *
 *   Chromium (out/renderer) ──window.api──▶ createAppServices handlers (this process)
 *        ──wss──▶ gate proxy ──▶ Access emulator (no Service Auth policy) ──▶ real gateway
 *        ──wss──▶ Access emulator (Service Auth policy) ──▶ real gateway
 *        ──ws───▶ real gateway (no Access)
 *
 * The gate proxy can hold new TCP connections, so the test sees the report filling in live
 * (the checks before TCP/TLS done, TCP/TLS still running) without racing the run.
 *
 * Screenshots go to test-output/screenshots/ (doctor-running, doctor-report, …).
 */
import { mkdirSync } from 'node:fs'
import net, { type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import type { Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorProgress, DoctorRun } from '../../src/shared/ipc-contract'
import type { Result } from '../../src/shared/errors'
import { startAccessEmulator, type AccessEmulator } from '../support/access-emulator'
import { installTestHosts } from '../support/hosts'
import { approveDevice } from '../support/real-gateway'
import { NO_ACCESS_MARKS } from '../e2e/doctor-marks'
import { RecordingSecretStore } from '../e2e/recording-secret-store'
import { SCREENSHOT_DIR, type RendererHarness } from '../e2e/renderer-harness'
import { secretNeedles, storedSecretKinds, windowContents } from '../e2e/secret-needles'
import { sharedGateway } from '../e2e/shared-gateway'
import { appSteps, startAppWindow } from '../e2e/ui-steps'

const { gatewayHttpUrl, gatewayUrl, gatewayToken } = sharedGateway()

/** Only an email Allow policy: Access never admits a service token here. */
const NO_SA = 'e2e-doc-nosa.aether.test'
/** A Service Auth policy with the test's token. */
const SA = 'e2e-doc-gw.aether.test'
const OPERATOR = 'operator@example.com'
const WRONG_TOKEN = 'e2e-doctor-not-the-gateway-token-7f3a'
/** The id src/main/doctor/verdict.ts gives the "no Service Auth policy" cause. */
const NO_SA_CAUSE = 'no-service-auth-policy'
const STEP_IDS = ['url', 'dns', 'tls', 'https-probe', 'login-page', 'service-token', 'app-token', 'websocket', 'handshake'] as const

let uninstallHosts: () => void = () => {}
let emu: AccessEmulator
let gate: GateProxy
let serviceToken: { clientId: string; clientSecret: string }
let store: RecordingSecretStore
let app: RendererHarness
let page: Page
/** What the clipboard held after "Copy as Markdown" (scenario 1), searched for secrets too. */
let copiedMarkdown = ''

// ---------------------------------------------------------------------------------------------
// A TCP proxy in front of the emulator that can hold new connections until released
// ---------------------------------------------------------------------------------------------

interface GateProxy {
  readonly port: number
  /** Connections accepted so far. */
  readonly accepted: number
  /** Connections waiting at the closed gate. */
  readonly held: number
  /** While closed, new connections wait (nothing is read or forwarded) until open() is called. */
  close(): void
  open(): void
  stop(): Promise<void>
}

async function startGateProxy(target: { host: string; port: number }): Promise<GateProxy> {
  const sockets = new Set<Socket>()
  let waiting: (() => void)[] = []
  let closed = false
  let accepted = 0
  const server = net.createServer((client) => {
    accepted++
    sockets.add(client)
    client.pause()
    const forward = () => {
      if (client.destroyed) return
      const upstream = net.connect({ host: target.host, port: target.port })
      sockets.add(upstream)
      const closeBoth = () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      for (const s of [client, upstream]) {
        s.on('error', closeBoth)
        s.on('close', closeBoth)
      }
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    }
    client.on('error', () => client.destroy())
    if (closed) waiting.push(forward)
    else forward()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted
    },
    get held() {
      return waiting.length
    },
    close() {
      closed = true
    },
    open() {
      closed = false
      const go = waiting
      waiting = []
      for (const forward of go) forward()
    },
    stop: () =>
      new Promise<void>((resolve) => {
        waiting = []
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

beforeAll(async () => {
  uninstallHosts = installTestHosts()
  emu = await startAccessEmulator({
    team: 'aether-doctor-e2e',
    apps: [
      { host: NO_SA, upstream: gatewayHttpUrl, policies: [{ decision: 'allow', emails: [OPERATOR] }], loginPage: { appName: 'Agent gateway' } },
      {
        host: SA,
        upstream: gatewayHttpUrl,
        policies: [
          { decision: 'non_identity', serviceTokens: ['e2e-doctor'] },
          { decision: 'allow', emails: [OPERATOR] }
        ]
      }
    ]
  })
  // A real token of this account: valid, but no policy of NO_SA admits service tokens at all.
  serviceToken = emu.createServiceToken({ name: 'e2e-doctor' })
  gate = await startGateProxy({ host: '127.0.0.1', port: emu.port })
  store = new RecordingSecretStore()
  app = await startAppWindow({ secrets: store, configDirPrefix: 'aether-e2e-doctor-', clipboard: true })
  page = app.page
})

afterAll(async () => {
  gate?.open()
  await app?.close()
  await gate?.stop()
  await emu?.close()
  uninstallHosts()
})

// ---------------------------------------------------------------------------------------------
// What a user does and sees
// ---------------------------------------------------------------------------------------------

const { button, profileItem, connect, waitForState, addGateway, visibleText } = appSteps(() => app)

function report(): Locator {
  return page.getByTestId('doctor-report')
}

function stepRow(id: string): Locator {
  return report().getByTestId(`doctor-step-${id}`)
}

/** Waits for the report to reach `phase`; on timeout says where it is and what the renderer got last. */
async function waitForPhase(phase: 'running' | 'done' | 'failed', timeout = 35_000): Promise<void> {
  try {
    await page.locator(`[data-testid="doctor-report"][data-phase="${phase}"]`).waitFor({ state: 'visible', timeout })
  } catch (e) {
    const now = await report()
      .evaluate((el) => `${el.getAttribute('data-phase')}: ${(el.textContent ?? '').slice(0, 600)}`)
      .catch(() => 'no report')
    const recent = app.recorded
      .slice(-8)
      .map((r) => `  ${r.kind} ${r.channel} ${r.json.slice(0, 200)}`)
      .join('\n')
    throw new Error(`the doctor report never reached "${phase}" within ${timeout} ms; it shows ${now}\nlast payloads:\n${recent}\n${(e as Error).message}`)
  }
}

/** The data-status of every step row of the report, by step id. */
async function marks(): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const id of STEP_IDS) {
    const row = stepRow(id)
    if ((await row.count()) === 1) out[id] = (await row.getAttribute('data-status')) ?? ''
  }
  return out
}

async function causeIds(): Promise<string[]> {
  const items = report().getByTestId('doctor-causes').locator(':scope > li')
  return items.evaluateAll((els) => els.map((el) => el.getAttribute('data-cause-id') ?? ''))
}

/**
 * Records, inside the page, every state the report shows from now on: its phase and the
 * data-status of each step row (a MutationObserver sees each commit).
 */
async function watchReport(): Promise<void> {
  await page.evaluate(`(() => {
    const samples = []
    window.__e2eDoctorSamples = samples
    const take = () => {
      const el = document.querySelector('[data-testid="doctor-report"]')
      if (!el) return
      const phase = el.getAttribute('data-phase') || ''
      const steps = {}
      for (const row of el.querySelectorAll('[data-testid^="doctor-step-"]')) {
        const id = row.getAttribute('data-testid').slice('doctor-step-'.length)
        if (id.startsWith('details-')) continue
        steps[id] = row.getAttribute('data-status') || ''
      }
      const key = phase + JSON.stringify(steps)
      if (samples.length === 0 || samples[samples.length - 1].key !== key) samples.push({ key, phase, steps })
    }
    if (window.__e2eDoctorObserver) window.__e2eDoctorObserver.disconnect()
    window.__e2eDoctorObserver = new MutationObserver(take)
    window.__e2eDoctorObserver.observe(document.body, { subtree: true, childList: true, attributes: true })
    take()
  })()`)
}

async function reportSamples(): Promise<{ phase: string; steps: Record<string, string> }[]> {
  return (await page.evaluate('window.__e2eDoctorSamples || []')) as { phase: string; steps: Record<string, string> }[]
}

/** The doctor:run results the renderer received, in order. */
function doctorRuns(): DoctorRun[] {
  return app.recorded
    .filter((r) => r.kind === 'invoke-result' && r.channel === 'doctor:run')
    .map((r) => JSON.parse(r.json) as Result<DoctorRun>)
    .map((r) => {
      if (!r.ok) throw new Error(`doctor:run failed: ${JSON.stringify(r.error)}`)
      return r.value
    })
}

function progressEvents(profileId: string): DoctorProgress[] {
  return app.recorded
    .filter((r) => r.kind === 'event' && r.channel === 'doctor:progress')
    .map((r) => JSON.parse(r.json) as DoctorProgress)
    .filter((p) => p.profileId === profileId)
}

const FINAL = new Set(['pass', 'fail', 'warn', 'skip'])

// ---------------------------------------------------------------------------------------------

describe('the connection doctor in the desktop app, end to end', () => {
  const NOSA_NAME = 'Edge (no Service Auth)'
  let nosaId = ''

  it('1. no Service Auth policy: Diagnose from the Access error panel, live steps, the ranked verdict, Copy as Markdown, Run again', async () => {
    const url = `wss://${NO_SA}:${gate.port}/`
    nosaId = await addGateway({
      name: NOSA_NAME,
      url,
      token: gatewayToken,
      caFile: emu.caFile,
      access: 'service-token',
      clientId: serviceToken.clientId,
      clientSecret: serviceToken.clientSecret
    })

    // Connect: Access answers with its login redirect whatever the token; the Access panel says so.
    await connect()
    const panel = page.getByTestId('error-panel')
    await panel.waitFor({ state: 'visible', timeout: 20_000 })
    expect(await panel.getAttribute('data-code')).toMatch(/^ACCESS_/)
    expect(await panel.getAttribute('class')).toContain('error-panel--access')
    const accepted = gate.accepted
    expect(accepted, 'the connection went through the gate proxy').toBeGreaterThan(0)

    // Diagnose, with the gate shut: the checks that need no connection end, TCP/TLS waits.
    await watchReport()
    gate.close()
    try {
      await button('Diagnose', panel).click()
      await waitForPhase('running', 10_000)
      await report().locator('[data-testid="doctor-step-url"][data-status="pass"]').waitFor({ timeout: 10_000 })
      await report().locator('[data-testid="doctor-step-dns"][data-status="pass"]').waitFor({ timeout: 10_000 })
      await report().locator('[data-testid="doctor-step-tls"][data-status="running"]').waitFor({ timeout: 10_000 })
      await expect.poll(() => gate.held).toBeGreaterThan(0)
      expect(await stepRow('service-token').getAttribute('data-status')).toBe('waiting')
      // The focus went to the report's heading; the status line counts the checks done.
      await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Connection doctor')
      expect(await report().getByTestId('doctor-status').innerText()).toMatch(new RegExp(`Diagnosing ${NOSA_NAME.replace(/[()]/g, '\\$&')}: 2 of 9 checks done; DNS: passed\\.`))
      await button('Cancel diagnosis', report()).waitFor()
      await report().scrollIntoViewIfNeeded()
      await app.screenshot('doctor-running')
    } finally {
      gate.open()
    }

    await waitForPhase('done')
    const samples = await reportSamples()
    const live = samples.filter((s) => s.phase === 'running')
    // The report filled in step by step while the run went on, in order.
    expect(live.some((s) => Object.values(s.steps).some((st) => FINAL.has(st))), JSON.stringify(samples)).toBe(true)
    const doneCounts = live.map((s) => STEP_IDS.filter((id) => FINAL.has(s.steps[id] ?? '')).length)
    expect(new Set(doneCounts).size, `checks done while running: ${doneCounts.join(', ')}`).toBeGreaterThan(2)
    for (let i = 1; i < doneCounts.length; i++) expect(doneCounts[i]!).toBeGreaterThanOrEqual(doneCounts[i - 1]!)
    expect(progressEvents(nosaId).map((p) => p.step.id)).toEqual([...STEP_IDS])

    // The finished report: the table of checks, the verdict, the causes and the ways forward.
    const m = await marks()
    expect(m).toMatchObject({ url: 'pass', dns: 'pass', tls: 'pass', 'https-probe': 'pass', 'login-page': 'pass', 'service-token': 'fail' })
    expect(await report().getByTestId('doctor-verdict').getAttribute('data-ok')).toBe('false')
    expect(await report().getByTestId('doctor-verdict').textContent()).toMatch(/^Problem/)
    const causes = await causeIds()
    expect(causes[0], causes.join(', ')).toBe(NO_SA_CAUSE)
    const first = report().getByTestId('doctor-causes').locator(':scope > li').first()
    expect(await first.getAttribute('data-likelihood')).toBe('high')
    expect(await first.innerText()).toMatch(/only email codes/)
    const ways = report().getByTestId('doctor-ways-forward')
    const signIn = ways.locator('[data-action="sign-in-email"]')
    expect(await signIn.count()).toBeGreaterThanOrEqual(1)
    await button('Sign in with Cloudflare Access', signIn.first()).waitFor()
    expect(await ways.locator('[data-way-id="add-service-auth-policy"]').innerText()).toMatch(/Service Auth/)
    // The failed check starts open: the probe matrix, every form refused with the login redirect.
    const probes = report().getByTestId('doctor-step-details-service-token').getByTestId('doctor-probes')
    await probes.waitFor()
    const outcomes = await probes.locator('tbody tr').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-probe-id')}=${r.getAttribute('data-outcome')}`))
    expect(outcomes).toEqual(['standard=refused', 'http1=refused', 'without-access-suffix=refused', 'swapped=refused', 'single-header=refused'])
    // The credentials are hints only.
    expect(await report().getByTestId('doctor-credentials').innerText()).toMatch(/set, ends in/)

    const runs = doctorRuns()
    expect(runs).toHaveLength(1)
    const run = runs[0]!
    expect(run.report.verdict.causes[0]?.id).toBe(NO_SA_CAUSE)
    expect(await report().getByTestId('doctor-verdict').innerText()).toContain(run.report.verdict.headline)

    // The whole report in one picture: a window tall enough for it, then back to the usual size.
    const viewport = page.viewportSize()
    const reportHeight = await report().evaluate((el) => Math.ceil(el.getBoundingClientRect().height))
    await page.setViewportSize({ width: viewport?.width ?? 1100, height: Math.min(8_000, reportHeight + 300) })
    try {
      await report().scrollIntoViewIfNeeded()
      await app.screenshot('doctor-report')
      mkdirSync(SCREENSHOT_DIR, { recursive: true })
      await report().screenshot({ path: join(SCREENSHOT_DIR, 'doctor-report-section.png') })
    } finally {
      if (viewport) await page.setViewportSize(viewport)
    }

    // Copy as Markdown: exactly the report's Markdown, with the headline and the table of checks.
    await button('Copy as Markdown', report()).click()
    const copyState = report().getByTestId('doctor-copy-state')
    await expect.poll(() => copyState.innerText()).toBe('Copied')
    copiedMarkdown = (await page.evaluate('navigator.clipboard.readText()')) as string
    expect(copiedMarkdown).toBe(run.markdown)
    expect(copiedMarkdown).toContain(`# Connection doctor: ${url}`)
    expect(copiedMarkdown).toContain(`**Problem: ${run.report.verdict.headline}**`)
    expect(copiedMarkdown).toContain('| # | Step | Result | Finding | Time |')
    expect(copiedMarkdown).toMatch(/^\| 1 \| Address \| ✅ pass \|/m)
    expect(copiedMarkdown).toMatch(/^\| 6 \| Service token \| ❌ fail \|/m)
    expect(copiedMarkdown).toMatch(/## Likely causes/)

    // Where the clipboard refuses, the same Markdown is shown in a text box, selected.
    await page.evaluate(`navigator.clipboard.writeText = () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'))`)
    await button('Copy as Markdown', report()).click()
    const box = report().getByRole('textbox', { name: 'Report as Markdown' })
    await box.waitFor()
    expect(await report().getByTestId('doctor-markdown').inputValue()).toBe(run.markdown)
    expect(await copyState.innerText()).toMatch(/Could not copy/)
    await expect
      .poll(() =>
        page.evaluate(`(() => {
          const el = document.activeElement
          return el?.getAttribute('data-testid') === 'doctor-markdown' && el.selectionStart === 0 && el.selectionEnd === el.value.length && el.value.length > 0
        })()`)
      )
      .toBe(true)

    // Run again: a second run, live again, with the same verdict.
    await watchReport()
    gate.close()
    try {
      await button('Run again', report()).click()
      await waitForPhase('running', 10_000)
      await report().locator('[data-testid="doctor-step-tls"][data-status="running"]').waitFor({ timeout: 10_000 })
    } finally {
      gate.open()
    }
    await waitForPhase('done')
    expect((await reportSamples()).map((s) => s.phase)).toEqual(expect.arrayContaining(['running', 'done']))
    const again = doctorRuns()
    expect(again).toHaveLength(2)
    expect(again[1]!.report.startedAt).not.toBe(run.report.startedAt)
    expect(again[1]!.report.verdict.causes[0]?.id).toBe(NO_SA_CAUSE)
    expect(await stepRow('service-token').getAttribute('data-status')).toBe('fail')
    expect((await causeIds())[0]).toBe(NO_SA_CAUSE)
    expect(progressEvents(nosaId)).toHaveLength(2 * STEP_IDS.length)
  })

  it('2. a gateway that works (no Access, device approved): Diagnose from the editor’s actions says it works', async () => {
    const NAME = 'Local gateway'
    const id = await addGateway({ name: NAME, url: gatewayUrl, token: gatewayToken, access: 'none' })
    // Connect, approving this device on the gateway host if it asks.
    await connect()
    await page.locator('[data-testid="connection-status"][data-state="ready"], [data-testid="connection-status"][data-state="pairing-required"]').first().waitFor({ timeout: 30_000 })
    const state = app.services.manager.snapshot(id).state
    if (state.kind === 'pairing-required') {
      expect(state.requestId).toBeTruthy()
      await approveDevice(gatewayUrl, gatewayToken, state.requestId!)
    }
    await waitForState('ready', 30_000)

    const before = doctorRuns().length
    await button('Diagnose', page.getByTestId('editor-actions')).click()
    await waitForPhase('done')
    expect(doctorRuns()).toHaveLength(before + 1)
    // The report is this gateway's.
    expect(await report().innerText()).toContain(NAME)
    expect(await report().getByTestId('doctor-verdict').getAttribute('data-ok')).toBe('true')
    expect(await report().getByTestId('doctor-verdict').textContent()).toMatch(/^Works/)
    expect(await marks()).toMatchObject({ ...NO_ACCESS_MARKS, handshake: 'pass' })
    expect(await report().getByTestId('doctor-causes').count()).toBe(0)
    await report().scrollIntoViewIfNeeded()
    await app.screenshot('doctor-works')

    // Close report: the report goes, the focus returns to the editor's Diagnose.
    await button('Close report', report()).click()
    await report().waitFor({ state: 'detached' })
    await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id')).toBe('editor-diagnose')
  })

  it('3. a wrong gateway token behind Access: Access lets it through, the handshake fails, the wrong token first', async () => {
    const NAME = 'Edge (wrong token)'
    const id = await addGateway({
      name: NAME,
      url: emu.appUrl(SA, '/', 'wss'),
      token: WRONG_TOKEN,
      caFile: emu.caFile,
      access: 'service-token',
      clientId: serviceToken.clientId,
      clientSecret: serviceToken.clientSecret
    })
    await button('Diagnose', page.getByTestId('editor-actions')).click()
    await waitForPhase('done')
    expect(await report().innerText()).toContain(NAME)
    expect(await marks()).toMatchObject({ url: 'pass', tls: 'pass', 'https-probe': 'pass', 'service-token': 'pass', websocket: 'pass', handshake: 'fail' })
    expect(await report().getByTestId('doctor-verdict').getAttribute('data-ok')).toBe('false')
    const causes = await causeIds()
    expect(causes[0], causes.join(', ')).toBe('gateway-token-mismatch')
    // The handshake's details are open (it failed) and name the gateway's refusal.
    expect(await report().getByTestId('doctor-step-details-handshake').innerText()).toMatch(/AUTH_TOKEN_MISMATCH|token/i)
    expect(progressEvents(id).map((p) => p.step.id)).toEqual([...STEP_IDS])
    await report().scrollIntoViewIfNeeded()
    await app.screenshot('doctor-wrong-token')
  })

  it('4. no secret reached the renderer: not in an invoke result, a doctor:progress event, the Markdown or the page', async () => {
    await app.eventsDelivered()
    expect(app.recorded.filter((r) => r.channel === 'doctor:progress').length).toBe(4 * STEP_IDS.length)
    expect(doctorRuns()).toHaveLength(4)

    const secrets = new Map<string, string>([
      ['gateway token', gatewayToken],
      ['service token Client Secret', serviceToken.clientSecret],
      ['wrong gateway token', WRONG_TOKEN]
    ])
    for (const { key, value } of store.storedValues()) secrets.set(`secret store ${key}`, value)
    // Every kind of secret was really in play.
    expect(storedSecretKinds(store)).toEqual(expect.arrayContaining(['gateway:<id>:token', 'cf:<id>:client-secret', 'device:<id>:token', 'device:identity']))

    const needles = secretNeedles(secrets)

    const leaks: string[] = []
    for (const payload of app.recorded) {
      for (const [what, needle] of needles) if (payload.json.includes(needle)) leaks.push(`${what} in ${payload.kind} ${payload.channel}`)
    }
    for (const [what, needle] of needles) if (copiedMarkdown.includes(needle)) leaks.push(`${what} in the copied Markdown`)
    expect(leaks).toEqual([])
    expect(copiedMarkdown).not.toBe('')

    // Nor in the window: its text, the DOM, any input; with every report of this run shown again.
    for (const name of [NOSA_NAME, 'Local gateway', 'Edge (wrong token)']) {
      await profileItem(name).click()
      await page.getByRole('tab', { name: 'Gateways' }).click()
      await button('Diagnose', page.getByTestId('editor-actions')).click()
      await waitForPhase('done')
      const text = await visibleText()
      for (const [what, needle] of needles) expect(text.includes(needle), `${what} in the page text (${name})`).toBe(false)
    }
    await app.eventsDelivered()
    const dom = await windowContents(page)
    for (const [what, needle] of needles) expect(dom.includes(needle), `${what} in the DOM`).toBe(false)
    for (const payload of app.recorded) {
      for (const [what, needle] of needles) expect(payload.json.includes(needle), `${what} in ${payload.kind} ${payload.channel}`).toBe(false)
    }
  })

  it('the renderer raised no uncaught errors, fetched nothing from outside and opened nothing', () => {
    expect(app.pageErrors).toEqual([])
    expect(app.foreignRequests).toEqual([])
    expect(app.opened).toEqual([])
  })
})
