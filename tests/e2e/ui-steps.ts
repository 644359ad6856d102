/**
 * What a user does and sees in the app's window, by accessible name (roles, labels, buttons)
 * and the views' test ids: the steps the end-to-end tests share.
 *
 * The harness is passed as a getter because the tests start it in `beforeAll`, after these
 * steps are made at the top of the file.
 */
import type { Locator, Page } from 'playwright-core'
import type { ConnectionSnapshot } from '../../src/shared/connection-state'
import { startRenderer, type RendererHarness, type RendererHarnessOptions } from './renderer-harness'

export interface AppWindowOptions extends RendererHarnessOptions {
  /** Lets the page read and write the clipboard (the Copy buttons). */
  clipboard?: boolean
}

/** Starts the app (startRenderer) and waits for its window to show the first start's list of saved gateways. */
export async function startAppWindow(options: AppWindowOptions): Promise<RendererHarness> {
  const app = await startRenderer(options)
  try {
    if (options.clipboard) await app.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(app.appUrl).origin })
    // The first start lists the saved gateways (and offers the local one).
    await app.page.getByTestId('profile-list').waitFor({ state: 'attached', timeout: 15_000 })
  } catch (e) {
    await app.close()
    throw e
  }
  return app
}

/** What the "Add gateway" form is filled with. */
export interface GatewayForm {
  name: string
  url: string
  token: string
  sessionKey?: string
  caFile?: string
  access: 'none' | 'service-token' | 'email-otp'
  clientId?: string
  clientSecret?: string
}

/** The radio of each Access mode in the editor's Cloudflare Access section. */
export const ACCESS_RADIO = { none: /^None/, 'service-token': /^Service token/, 'email-otp': /^Email sign-in/ } as const

export interface AppSteps {
  /** The input with exactly this label. */
  field(label: string): Locator
  /** The button with this name (exact when a string), in `within` or anywhere in the window. */
  button(name: string | RegExp, within?: Page | Locator): Locator
  /** The connection banner. */
  statusBanner(): Locator
  /** A saved gateway in the sidebar. */
  profileItem(name: string): Locator
  /** Clicks Connect in the gateway editor. */
  connect(): Promise<void>
  /** Waits until the visible connection banner is in `kind`; on timeout says where it is instead. */
  waitForState(kind: string, timeout: number): Promise<void>
  /** Fills the "Add gateway" form and saves it; returns the new profile's id. */
  addGateway(form: GatewayForm): Promise<string>
  /** Selects a saved gateway in the sidebar and opens a view. */
  open(name: string, tab: 'Gateways' | 'Session'): Promise<void>
  /** Text a user could read anywhere in the window (or in `within`). */
  visibleText(within?: Locator | Page): Promise<string>
}

export function appSteps(harness: () => RendererHarness): AppSteps {
  const page = (): Page => harness().page

  const field = (label: string): Locator => page().getByLabel(label, { exact: true })

  const button = (name: string | RegExp, within: Page | Locator = page()): Locator => within.getByRole('button', { name, exact: typeof name === 'string' })

  const statusBanner = (): Locator => page().getByTestId('connection-status')

  const profileItem = (name: string): Locator => page().getByTestId('profile-item').filter({ hasText: name })

  return {
    field,
    button,
    statusBanner,
    profileItem,

    async connect() {
      await button('Connect', page().getByTestId('profile-editor')).click()
    },

    async waitForState(kind, timeout) {
      try {
        await page().locator(`[data-testid="connection-status"][data-state="${kind}"]`).first().waitFor({ state: 'visible', timeout })
      } catch (e) {
        const now = await statusBanner()
          .first()
          .evaluate((el) => `${el.getAttribute('data-state')}: ${(el.textContent ?? '').slice(0, 400)}`)
          .catch(() => 'no connection banner')
        // What the renderer was told last (the tests check that payloads to the renderer hold no secrets).
        const recent = harness()
          .recorded.slice(-12)
          .map((r) => `  ${r.kind} ${r.channel} ${r.json.slice(0, 160)}`)
          .join('\n')
        throw new Error(`connection never showed "${kind}" within ${timeout} ms; it shows ${now}\nlast payloads:\n${recent}\n${(e as Error).message}`)
      }
    },

    async addGateway(form) {
      await page().getByRole('tab', { name: 'Gateways' }).click()
      await button('Add gateway').click()
      await page().getByRole('heading', { name: 'New gateway' }).waitFor()
      await field('Name').fill(form.name)
      await field('Gateway URL').fill(form.url)
      await field('Gateway token').fill(form.token)
      if (form.sessionKey) await field('Session key').fill(form.sessionKey)
      if (form.caFile) await field('CA file').fill(form.caFile)
      const accessToggle = page().getByRole('button', { name: /Cloudflare Access/ })
      if ((await accessToggle.getAttribute('aria-expanded')) !== 'true') await accessToggle.click()
      await page().getByRole('radio', { name: ACCESS_RADIO[form.access] }).check()
      if (form.access === 'service-token') {
        await field('Client ID').fill(form.clientId ?? '')
        await field('Client Secret').fill(form.clientSecret ?? '')
      }
      await button('Save').click()
      await page().getByTestId('save-status').filter({ hasText: 'Saved.' }).waitFor()
      await page().getByRole('heading', { name: form.name }).waitFor()
      const id = await profileItem(form.name).getAttribute('data-profile-id')
      if (!id) throw new Error(`no profile item for ${form.name}`)
      return id
    },

    async open(name, tab) {
      await profileItem(name).click()
      await page().getByRole('tab', { name: tab }).click()
      if (tab === 'Gateways') await page().getByRole('heading', { name }).waitFor()
      else await page().getByTestId('session-view').getByRole('heading', { name }).waitFor()
    },

    async visibleText(within = page()) {
      return 'goto' in within ? await within.locator('body').innerText() : await within.innerText()
    }
  }
}

/** The connection states the main process pushed to the renderer for one profile, in order. */
export function pushedConnectionStates(harness: RendererHarness, profileId: string): string[] {
  return harness.recorded
    .filter((r) => r.kind === 'event' && r.channel === 'connection:state')
    .map((r) => JSON.parse(r.json) as ConnectionSnapshot)
    .filter((s) => s.profileId === profileId)
    .map((s) => s.state.kind)
}
