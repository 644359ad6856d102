// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { App } from '../../src/renderer/src/App'
import { ErrorPanel } from '../../src/renderer/src/features/connection/ErrorPanel'
import { ProfileEditor } from '../../src/renderer/src/features/remote-config/ProfileEditor'
import { startBridge } from '../../src/renderer/src/lib/bridge'
import { formatTimeLeft } from '../../src/renderer/src/lib/time-left'
import { applyAccessStatus, useAccess } from '../../src/renderer/src/stores/access-store'
import { NEW_PROFILE, useProfiles } from '../../src/renderer/src/stores/profiles-store'
import { appError } from '../../src/shared/errors'
import type { AccessSignInStatus, ProfileView } from '../../src/shared/ipc-contract'
import { accessLoginRequired, FakeApi } from './support/fake-api'
import { allStoreState, freshApp } from './support/harness'

let fake: FakeApi

beforeEach(() => {
  fake = freshApp()
})

afterEach(() => {
  vi.useRealTimers()
})

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** A saved email-sign-in gateway open in the editor, with the store fed by the bridge. */
async function openEmailGateway(extra: Partial<ProfileView> = {}): Promise<ProfileView> {
  const profile = fake.addProfile({ name: 'Edge', url: 'wss://gw.example.com', access: { mode: 'email-otp' }, ...extra })
  await useProfiles.getState().load()
  render(<ProfileEditor />)
  return profile
}

function push(profileId: string, fields: Partial<AccessSignInStatus> & Pick<AccessSignInStatus, 'phase'>, seq?: number) {
  act(() => {
    fake.pushAccessStatus(profileId, fields, seq)
  })
}

/** No JWT-shaped text and not the fake's token anywhere the renderer could show or keep it. */
function expectNoTokenAnywhere() {
  const html = document.body.innerHTML
  expect(html).not.toContain(FakeApi.APP_TOKEN)
  expect(html).not.toMatch(/eyJ[\w-]{8,}/)
  expect(document.body.textContent ?? '').not.toMatch(/[\w-]{20,}\.[\w-]{20,}\.[\w-]{10,}/)
  expect(allStoreState()).not.toContain(FakeApi.APP_TOKEN)
  expect(allStoreState()).not.toMatch(/eyJ[\w-]{8,}/)
}

describe('time left', () => {
  it('reads like "3 h 12 min", "4 min", "45 s"', () => {
    expect(formatTimeLeft(3 * HOUR + 12 * MINUTE + 30_000)).toBe('3 h 12 min')
    expect(formatTimeLeft(2 * HOUR)).toBe('2 h')
    expect(formatTimeLeft(4 * MINUTE + 59_000)).toBe('4 min')
    expect(formatTimeLeft(45_000)).toBe('45 s')
    expect(formatTimeLeft(200)).toBe('1 s')
    expect(formatTimeLeft(-5_000)).toBe('0 s')
  })
})

describe('access store', () => {
  it('drops statuses whose seq is not newer, per profile', () => {
    expect(applyAccessStatus({ profileId: 'p1', seq: 3, phase: 'signing-in', via: 'window' })).toBe(true)
    expect(applyAccessStatus({ profileId: 'p1', seq: 3, phase: 'signed-out' })).toBe(false)
    expect(applyAccessStatus({ profileId: 'p1', seq: 2, phase: 'signed-in', email: 'old@example.com' })).toBe(false)
    expect(useAccess.getState().statuses.p1?.phase).toBe('signing-in')
    expect(applyAccessStatus({ profileId: 'p2', seq: 1, phase: 'signed-out' })).toBe(true)
    expect(applyAccessStatus({ profileId: 'p1', seq: 4, phase: 'signed-in', email: 'new@example.com' })).toBe(true)
    expect(useAccess.getState().statuses.p1?.email).toBe('new@example.com')
  })

  it('keeps a status pushed while the statuses were fetched over the older fetched one', async () => {
    const profile = fake.addProfile({ name: 'Edge', url: 'wss://gw.example.com', access: { mode: 'email-otp' } })
    fake.accessStatuses.set(profile.id, { profileId: profile.id, seq: 1, phase: 'signed-out' })
    const stop = startBridge()
    fake.pushAccessStatus(profile.id, { phase: 'signing-in', via: 'window' }, 2)
    await waitFor(() => expect(fake.callsTo('access.statuses')).toHaveLength(1))
    const order = fake.calls.map((c) => c.method)
    expect(order.indexOf('access.onStatus')).toBeLessThan(order.indexOf('access.statuses'))
    await waitFor(() => expect(useAccess.getState().statuses[profile.id]?.seq).toBe(2))
    expect(useAccess.getState().statuses[profile.id]?.phase).toBe('signing-in')
    stop()
  })

  it('reloads the profile view when the phase moves to or from signed-in, so the app token status stays true', async () => {
    const profile = await openEmailGateway()
    const stop = startBridge()
    await waitFor(() => expect(fake.callsTo('access.statuses')).toHaveLength(1))
    push(profile.id, { phase: 'signed-out' })
    push(profile.id, { phase: 'signing-in', via: 'window' })
    const listsBefore = fake.callsTo('profiles.list').length
    // The main process stored a token: the editor learns it from the reloaded profile view.
    fake.secrets.set(`${profile.id}/cfAppToken`, FakeApi.APP_TOKEN)
    fake.profiles.set(profile.id, { ...fake.profiles.get(profile.id)!, secrets: { ...profile.secrets, cfAppToken: { set: true, hint: 'set, ends in …WxYz' } } })
    push(profile.id, { phase: 'signed-in', email: 'operator@example.com', expiresAt: Date.now() + HOUR })
    await waitFor(() => expect(fake.callsTo('profiles.list').length).toBe(listsBefore + 1))
    expect(await screen.findByText('App token: set, ends in …WxYz')).toBeInTheDocument()
    // A change between two running phases says nothing about the stored token.
    push(profile.id, { phase: 'renewing', via: 'hidden-window' })
    push(profile.id, { phase: 'signing-in', via: 'window' })
    expect(fake.callsTo('profiles.list').length).toBe(listsBefore + 2)
    expectNoTokenAnywhere()
    stop()
  })
})

describe('Access section: signing in', () => {
  it('signs in with one click, shows the window line and Cancel while it runs, and ignores a double click', async () => {
    const user = userEvent.setup()
    fake.holdSignIns = true
    const profile = await openEmailGateway()
    const stop = startBridge()
    const signIn = screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })
    await user.dblClick(signIn)
    expect(fake.callsTo('access.signIn')).toEqual([[profile.id]])

    const status = screen.getByTestId('access-sign-in-status')
    await waitFor(() => expect(status).toHaveAttribute('data-phase', 'signing-in'))
    expect(status).toHaveTextContent('Complete the sign-in in the Cloudflare Access window…')
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeDisabled()
    await user.click(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' }))
    expect(fake.callsTo('access.signIn')).toHaveLength(1)

    await user.click(screen.getByRole('button', { name: 'Cancel sign-in' }))
    expect(fake.callsTo('access.cancel')).toEqual([[profile.id]])
    await waitFor(() => expect(status).toHaveAttribute('data-phase', 'signed-out'))
    expect(status).toHaveTextContent('Sign-in cancelled.')
    expect(screen.queryByRole('button', { name: 'Cancel sign-in' })).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeEnabled()
    stop()
  })

  it('keeps what was typed in the editor while a sign-in runs and when it fails', async () => {
    const user = userEvent.setup()
    fake.holdSignIns = true
    const profile = await openEmailGateway()
    const stop = startBridge()
    await user.type(screen.getByLabelText('Name'), ' (prod)')
    await user.type(screen.getByLabelText('Gateway token'), 'typed-gateway-token-1234')
    await user.click(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' }))
    await waitFor(() => expect(screen.getByTestId('access-sign-in-status')).toHaveAttribute('data-phase', 'signing-in'))
    act(() => {
      fake.finishSignIn(profile.id, { phase: 'signed-out', error: appError('TIMEOUT', 'Sign-in took too long', 'The sign-in was not completed within 10 minutes.') })
    })
    await waitFor(() => expect(screen.getByTestId('access-sign-in-error')).toHaveTextContent('Sign-in took too long. The sign-in was not completed within 10 minutes.'))
    expect(screen.getByLabelText('Name')).toHaveValue('Edge (prod)')
    expect(screen.getByLabelText('Gateway token')).toHaveValue('typed-gateway-token-1234')
    expect(fake.callsTo('profiles.save')).toEqual([])
    stop()
  })

  it('shows who is signed in and a countdown that moves with time, and when it renews', async () => {
    vi.useFakeTimers({ now: 10_000_000, toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] })
    const profile = await openEmailGateway()
    const expiresAt = Date.now() + 3 * HOUR + 12 * MINUTE + 30_000
    act(() => {
      applyAccessStatus({ profileId: profile.id, seq: 1, phase: 'signed-in', email: 'operator@example.com', expiresAt, renewAt: expiresAt - 15 * MINUTE })
    })
    expect(screen.getByTestId('access-signed-in')).toHaveTextContent('Signed in as operator@example.com')
    expect(screen.getByTestId('access-time-left')).toHaveTextContent('3 h 12 min')
    expect(screen.getByTestId('access-sign-in-status')).toHaveTextContent('renewed automatically in 2 h 57 min')
    act(() => {
      vi.advanceTimersByTime(3 * HOUR + 8 * MINUTE)
    })
    expect(screen.getByTestId('access-time-left')).toHaveTextContent('4 min')
    act(() => {
      vi.advanceTimersByTime(3 * MINUTE + 45_000)
    })
    expect(screen.getByTestId('access-time-left')).toHaveTextContent('45 s')
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeEnabled()
    expect(screen.queryByRole('button', { name: 'Sign in with Cloudflare Access' })).not.toBeInTheDocument()
  })

  it('says when the session is renewing, and when it has expired (with the sign-in button)', async () => {
    const profile = await openEmailGateway()
    act(() => {
      applyAccessStatus({ profileId: profile.id, seq: 1, phase: 'renewing', via: 'hidden-window', email: 'operator@example.com', expiresAt: Date.now() + MINUTE })
    })
    expect(screen.getByTestId('access-sign-in-status')).toHaveTextContent('Renewing the Cloudflare Access session…')
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeDisabled()
    act(() => {
      applyAccessStatus({ profileId: profile.id, seq: 2, phase: 'expired', email: 'operator@example.com', expiresAt: Date.now() - MINUTE })
    })
    expect(screen.getByTestId('access-sign-in-status')).toHaveTextContent(/has expired/)
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeEnabled()
  })

  it('signs in end to end: the token stays in the main process, the editor shows the email and the hint only', async () => {
    const user = userEvent.setup()
    const profile = await openEmailGateway()
    const stop = startBridge()
    await user.click(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' }))
    await waitFor(() => expect(screen.getByTestId('access-signed-in')).toHaveTextContent('Signed in as operator@example.com'))
    expect(screen.getByTestId('access-time-left')).toHaveTextContent(/^(1 h|59 min)$/)
    // The profile view was fetched again: the app token shows as set, by its hint.
    expect(await screen.findByText(/^App token: set, ends in …/)).toBeInTheDocument()
    expect(fake.callsTo('secrets.set')).toEqual([])
    expect(fake.calls.some((c) => JSON.stringify(c.args).includes(FakeApi.APP_TOKEN))).toBe(false)
    expectNoTokenAnywhere()
    expect(useProfiles.getState().profiles.find((p) => p.id === profile.id)?.secrets.cfAppToken.set).toBe(true)
    stop()
  })

  it('signs out and says so', async () => {
    const user = userEvent.setup()
    const profile = await openEmailGateway()
    const stop = startBridge()
    await user.click(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' }))
    await screen.findByTestId('access-signed-in')
    await screen.findByRole('button', { name: 'Clear app token' })
    await user.click(screen.getByRole('button', { name: 'Sign out' }))
    expect(fake.callsTo('access.signOut')).toEqual([[profile.id]])
    await waitFor(() => expect(screen.getByTestId('access-sign-in-status')).toHaveAttribute('data-phase', 'signed-out'))
    expect(screen.getByTestId('access-sign-in-notice')).toHaveTextContent('Signed out of Cloudflare Access.')
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Clear app token' })).not.toBeInTheDocument())
    expect(screen.queryByRole('button', { name: 'Sign out' })).not.toBeInTheDocument()
    stop()
  })

  it('offers the system browser when the window could not finish, and explains it', async () => {
    const user = userEvent.setup()
    fake.holdSignIns = true
    const profile = await openEmailGateway()
    const stop = startBridge()
    const loginUrl = 'https://acme.cloudflareaccess.com/cdn-cgi/access/login/gw.example.com?kid=abc&meta=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig'
    push(profile.id, {
      phase: 'signed-out',
      offerBrowser: true,
      error: appError('ACCESS_LOGIN_REQUIRED', 'The login page could not finish', `The page at ${loginUrl} kept failing its check.`)
    })
    const status = screen.getByTestId('access-sign-in-status')
    expect(status).toHaveTextContent('The login page could not finish. The page at acme.cloudflareaccess.com kept failing its check.')
    expect(status.textContent).not.toMatch(/https?:\/\//)
    const browser = screen.getByRole('button', { name: 'Sign in with your browser instead' })
    expect(browser).toHaveAccessibleDescription(/web browser opens .* the app waits/)
    await user.click(browser)
    expect(fake.callsTo('access.signInWithBrowser')).toEqual([[profile.id]])
    expect(fake.callsTo('access.signIn')).toEqual([])
    await waitFor(() => expect(status).toHaveTextContent('Complete the sign-in in your web browser; the app is waiting for it…'))
    expect(screen.queryByRole('button', { name: 'Sign in with your browser instead' })).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Cancel sign-in' })).toBeEnabled()
    act(() => fake.finishSignIn(profile.id))
    await screen.findByTestId('access-signed-in')
    expectNoTokenAnywhere()
    stop()
  })

  it('offers the system browser when the error says the verification failed, without the flag', async () => {
    const profile = await openEmailGateway()
    act(() => {
      applyAccessStatus({
        profileId: profile.id,
        seq: 1,
        phase: 'signed-out',
        error: appError('CANCELLED', 'Sign-in cancelled', 'The sign-in window was closed.', {
          nextSteps: [{ action: 'sign-in-email', label: 'If the login page keeps failing its verification, sign in with your web browser instead.' }]
        })
      })
    })
    expect(screen.getByRole('button', { name: 'Sign in with your browser instead' })).toBeEnabled()
  })

  it('explains why it cannot sign in yet: not saved, not a TLS address, an unsaved new address', async () => {
    const user = userEvent.setup()
    fake.addProfile({ name: 'Local', url: 'ws://127.0.0.1:18789', access: { mode: 'email-otp' } })
    await useProfiles.getState().load()
    render(<ProfileEditor />)
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeDisabled()
    expect(screen.getByTestId('access-sign-in-blocked')).toHaveTextContent('needs a wss:// gateway address')

    const url = screen.getByLabelText('Gateway URL')
    await user.clear(url)
    await user.type(url, 'wss://gw.example.com')
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toHaveAccessibleDescription(/needs a wss:\/\/ gateway address/)

    act(() => useProfiles.getState().select(NEW_PROFILE))
    await user.click(screen.getByLabelText(/^Email sign-in/))
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeDisabled()
    expect(screen.getByTestId('access-sign-in-blocked')).toHaveTextContent('Save this gateway first')
    expect(screen.queryByTestId('access-sign-in-status')).not.toBeInTheDocument()
    expect(fake.callsTo('access.signIn')).toEqual([])
  })

  it('does not sign in to an address the user is about to replace', async () => {
    const user = userEvent.setup()
    await openEmailGateway()
    const url = screen.getByLabelText('Gateway URL')
    await user.type(url, '/other')
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeDisabled()
    expect(screen.getByTestId('access-sign-in-blocked')).toHaveTextContent('Save the new address first: the sign-in opens the saved one, gw.example.com.')
  })

  it('shows a failed request as an error, not as a status', async () => {
    const user = userEvent.setup()
    const profile = await openEmailGateway()
    fake.api.access.signIn = async () => ({ ok: false, error: appError('PROFILE_NOT_FOUND', 'Gateway not found', 'This gateway is no longer saved.') })
    await user.click(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' }))
    expect(await screen.findByTestId('access-sign-in-error')).toHaveTextContent('Gateway not found. This gateway is no longer saved.')
    expect(useAccess.getState().attempts[profile.id]).toBeUndefined()
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeEnabled()
  })
})

describe('error panel: Access sign-in steps', () => {
  it('"Sign in with Cloudflare Access" signs in, shows the wait with Cancel, then how it ended', async () => {
    const user = userEvent.setup()
    fake.holdSignIns = true
    const stop = startBridge()
    render(<ErrorPanel error={accessLoginRequired()} profileId="p1" onRetry={() => {}} />)
    const panel = screen.getByTestId('error-panel')
    await user.dblClick(within(panel).getByRole('button', { name: 'Sign in with Cloudflare Access' }))
    expect(fake.callsTo('access.signIn')).toEqual([['p1']])
    const progress = await within(panel).findByTestId('error-panel-sign-in-status')
    expect(progress).toHaveTextContent('Complete the sign-in in the Cloudflare Access window…')
    expect(within(panel).getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeDisabled()
    await user.click(within(panel).getByRole('button', { name: 'Cancel sign-in' }))
    expect(fake.callsTo('access.cancel')).toEqual([['p1']])
    await waitFor(() => expect(within(panel).getByTestId('error-panel-sign-in-error')).toHaveTextContent('Sign-in cancelled.'))
    expect(within(panel).getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeEnabled()
    stop()
  })

  it('"renew-app-token" is "Sign in again", and the browser fallback step gets its own button', async () => {
    const user = userEvent.setup()
    const error = appError('ACCESS_APP_TOKEN_EXPIRED', 'The app token has expired', 'Sign in to Cloudflare Access again.', {
      nextSteps: [
        { action: 'renew-app-token', label: 'Sign in again.' },
        { action: 'sign-in-email', label: 'If the login page keeps failing its verification, sign in with your web browser instead.' }
      ]
    })
    render(<ErrorPanel error={error} profileId="p1" />)
    await user.click(screen.getByRole('button', { name: 'Sign in again' }))
    expect(fake.callsTo('access.signIn')).toEqual([['p1']])
    await user.click(screen.getByRole('button', { name: 'Sign in with your browser instead' }))
    expect(fake.callsTo('access.signInWithBrowser')).toEqual([['p1']])
    expect(screen.queryByText('coming soon')).not.toBeInTheDocument()
  })

  it('shows no sign-in button without a profile to sign in for', () => {
    render(<ErrorPanel error={accessLoginRequired()} />)
    expect(screen.queryByRole('button', { name: 'Sign in with Cloudflare Access' })).not.toBeInTheDocument()
  })

  it('in the window: an Access error in the session view signs in, and the token never reaches the page', async () => {
    const user = userEvent.setup()
    const profile = fake.addProfile({ name: 'Edge', url: 'wss://gw.example.com', access: { mode: 'email-otp' } })
    fake.snapshots = [{ profileId: profile.id, seq: 1, state: { kind: 'access-required', error: accessLoginRequired() } }]
    render(<App />)
    await user.click(await screen.findByRole('tab', { name: 'Session' }))
    await user.click(await screen.findByRole('button', { name: 'Sign in with Cloudflare Access' }))
    await waitFor(() => expect(useAccess.getState().statuses[profile.id]?.phase).toBe('signed-in'))
    expect(fake.callsTo('access.signIn')).toEqual([[profile.id]])
    expectNoTokenAnywhere()
  })
})
