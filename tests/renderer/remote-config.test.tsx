// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest'
import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { App } from '../../src/renderer/src/App'
import { ProfileEditor } from '../../src/renderer/src/features/remote-config/ProfileEditor'
import { applySnapshot } from '../../src/renderer/src/lib/bridge'
import { useProfiles } from '../../src/renderer/src/stores/profiles-store'
import { appError, fail } from '../../src/shared/errors'
import type { ProfileView } from '../../src/shared/ipc-contract'
import type { FakeApi } from './support/fake-api'
import { allStoreState, freshApp } from './support/harness'

let fake: FakeApi

beforeEach(() => {
  fake = freshApp()
})

async function openEditorFor(url = 'ws://127.0.0.1:18789', extra: Partial<ProfileView> = {}) {
  const profile = fake.addProfile({ name: 'Gateway', url, ...extra })
  await useProfiles.getState().load()
  render(<ProfileEditor />)
  return profile
}

describe('gateway editor: URL', () => {
  it('explains a missing scheme as the user types', async () => {
    const user = userEvent.setup()
    await openEditorFor()
    const url = screen.getByLabelText('Gateway URL')
    await user.clear(url)
    await user.type(url, 'gateway.example.com')
    expect(screen.getByTestId('url-error')).toHaveTextContent(/needs a scheme/i)
    expect(url).toHaveAttribute('aria-invalid', 'true')
  })

  it('flags an unsupported scheme and a bad port inline', async () => {
    const user = userEvent.setup()
    await openEditorFor()
    const url = screen.getByLabelText('Gateway URL')
    await user.clear(url)
    await user.type(url, 'ftp://gw.example.com')
    expect(screen.getByTestId('url-error')).toHaveTextContent('ftp://')
    await user.clear(url)
    await user.type(url, 'wss://gw.example.com:99999')
    expect(screen.getByTestId('url-error')).toHaveTextContent(/port 99999 is out of range/i)
  })

  it('offers an https:// address as wss:// with a one-click fix', async () => {
    const user = userEvent.setup()
    await openEditorFor()
    const url = screen.getByLabelText('Gateway URL')
    await user.clear(url)
    await user.type(url, 'https://gw.example.com/ws')
    expect(screen.getByTestId('url-error')).toHaveTextContent(/use wss:\/\/ instead of https:\/\//)
    await user.click(screen.getByRole('button', { name: 'Use wss://gw.example.com/ws' }))
    expect(url).toHaveValue('wss://gw.example.com/ws')
    expect(screen.queryByTestId('url-error')).not.toBeInTheDocument()
    expect(screen.getByTestId('url-ok')).toHaveTextContent('gw.example.com:443')
  })

  it('does not save an address that still needs the fix', async () => {
    const user = userEvent.setup()
    await openEditorFor()
    const url = screen.getByLabelText('Gateway URL')
    await user.clear(url)
    await user.type(url, 'https://gw.example.com')
    await user.click(screen.getByRole('button', { name: 'Save' }))
    expect(fake.callsTo('profiles.save')).toEqual([])
  })

  it('shows a save error from the main process next to its field', async () => {
    const user = userEvent.setup()
    await openEditorFor()
    fake.saveResult = () => fail(appError('INVALID_INPUT', 'Invalid profile', 'name: a saved gateway is already called "Gateway"; choose another name.'))
    await user.type(screen.getByLabelText('Name'), ' 2')
    await user.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(screen.getByText(/already called "Gateway"/)).toBeInTheDocument())
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true')
  })
})

describe('gateway editor: write-only secrets', () => {
  it('sends the trimmed token, clears the input and shows only the hint; the value is never in a store', async () => {
    const user = userEvent.setup()
    const profile = await openEditorFor()
    const token = 'gw-token-0123456789-abcd'
    const input = screen.getByLabelText('Gateway token')
    expect(input).toHaveAttribute('type', 'password')
    await user.type(input, `  ${token}  `)
    expect(allStoreState()).not.toContain(token)

    await user.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(fake.callsTo('secrets.set')).toEqual([[profile.id, 'gatewayToken', token]]))
    await waitFor(() => expect(screen.getByTestId('profile-gateway-token-hint')).toHaveTextContent('set, ends in …abcd'))
    expect(screen.queryByLabelText('Gateway token')).not.toBeInTheDocument()
    expect(document.body.innerHTML).not.toContain(token)
    expect(allStoreState()).not.toContain(token)

    // Replace opens an empty input; Clear removes the stored value.
    await user.click(screen.getByRole('button', { name: 'Replace token' }))
    expect(screen.getByLabelText('Gateway token')).toHaveValue('')
    expect(screen.getByLabelText('Gateway token')).toHaveFocus()
    await user.click(screen.getByRole('button', { name: 'Cancel replacing token' }))
    await user.click(screen.getByRole('button', { name: 'Clear token' }))
    await waitFor(() => expect(fake.callsTo('secrets.clear')).toEqual([[profile.id, 'gatewayToken']]))
    expect(screen.getByLabelText('Gateway token')).toBeInTheDocument()
  })

  it('notes a space or an invisible character inside the token while typing, without quoting it or keeping it, and still saves it', async () => {
    const user = userEvent.setup()
    const profile = await openEditorFor()
    const input = screen.getByLabelText('Gateway token')
    await user.type(input, 'gw-token-0123 456789')
    const note = screen.getByTestId('profile-gateway-token-note')
    expect(note).toHaveTextContent(/space inside it/)
    expect(input.getAttribute('aria-describedby')).toContain(note.id)
    expect(note.textContent).not.toContain('456789')
    expect(allStoreState()).not.toContain('456789')
    // Fixed: the note goes.
    await user.clear(input)
    await user.type(input, 'gw-token-0123456789')
    expect(screen.queryByTestId('profile-gateway-token-note')).not.toBeInTheDocument()
    await user.clear(input)
    await user.type(input, 'gw-token-0123\u200b456789')
    expect(screen.getByTestId('profile-gateway-token-note')).toHaveTextContent(/invisible character/)
    // Only a note: the token is saved as typed, and the gateway decides.
    await user.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(fake.callsTo('secrets.set')).toEqual([[profile.id, 'gatewayToken', 'gw-token-0123\u200b456789']]))
    await waitFor(() => expect(screen.queryByTestId('profile-gateway-token-note')).not.toBeInTheDocument())
  })

  it('stores secrets typed into a new gateway once it is saved', async () => {
    const user = userEvent.setup()
    await useProfiles.getState().load()
    useProfiles.getState().select('new')
    render(<ProfileEditor />)
    await user.type(screen.getByLabelText('Name'), 'Edge')
    await user.type(screen.getByLabelText('Gateway URL'), 'wss://gw.example.com')
    await user.click(screen.getByLabelText(/^Service token/))
    await user.type(screen.getByLabelText('Client ID'), '0123456789abcdef0123456789abcdef.access')
    await user.type(screen.getByLabelText('Client Secret'), 'client-secret-value-9876')
    await user.type(screen.getByLabelText('Gateway token'), 'gateway-token-value-5432')
    await user.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(fake.callsTo('secrets.set')).toHaveLength(2))
    const saved = useProfiles.getState().profiles.find((p) => p.name === 'Edge')!
    expect(fake.callsTo('secrets.set')).toEqual([
      [saved.id, 'gatewayToken', 'gateway-token-value-5432'],
      [saved.id, 'cfClientSecret', 'client-secret-value-9876']
    ])
    expect(saved.access).toEqual({ mode: 'service-token', clientId: '0123456789abcdef0123456789abcdef.access' })
    await waitFor(() => expect(screen.getByTestId('profile-client-secret-hint')).toHaveTextContent('…9876'))
    expect(allStoreState()).not.toContain('client-secret-value-9876')
  })

  it('after a failure, stores the new token before the profile is dialled again', async () => {
    const user = userEvent.setup()
    const profile = await openEditorFor()
    act(() => {
      applySnapshot({ profileId: profile.id, seq: 1, state: { kind: 'failed', error: appError('GATEWAY_TOKEN_MISMATCH', 'Wrong token', 'The token does not match.') } })
    })
    await user.type(screen.getByLabelText('Gateway token'), 'the-right-gateway-token')
    await user.click(screen.getByRole('button', { name: 'Connect' }))
    await waitFor(() => expect(fake.callsTo('connection.connect')).toHaveLength(1))
    // Every saved change makes the main process redial at once; stopping first means the dial
    // that counts is the last one, with everything stored.
    const order = fake.calls.map((c) => c.method).filter((m) => /^(profiles\.save|secrets\.set|connection\.(connect|disconnect))$/.test(m))
    expect(order).toEqual(['connection.disconnect', 'profiles.save', 'secrets.set', 'connection.connect'])
  })

  it('lets the Client Secret be shown while typing', async () => {
    const user = userEvent.setup()
    await openEditorFor('wss://gw.example.com', { access: { mode: 'service-token' } })
    const secret = screen.getByLabelText('Client Secret')
    await user.type(secret, 'abc')
    await user.click(screen.getByRole('button', { name: 'Show secret' }))
    expect(secret).toHaveAttribute('type', 'text')
    expect(secret).toHaveValue('abc')
    await user.click(screen.getByRole('button', { name: 'Hide secret' }))
    expect(secret).toHaveAttribute('type', 'password')
  })
})

describe('gateway editor: Cloudflare Access', () => {
  it('is folded for ws:// and opens by itself for wss://', async () => {
    const user = userEvent.setup()
    await openEditorFor('ws://127.0.0.1:18789')
    expect(screen.getByTestId('access-section')).toHaveAttribute('data-expanded', 'false')
    const url = screen.getByLabelText('Gateway URL')
    await user.clear(url)
    await user.type(url, 'wss://gw.example.com')
    expect(screen.getByTestId('access-section')).toHaveAttribute('data-expanded', 'true')
    expect(screen.getByRole('radio', { name: /^None/ })).toBeChecked()
  })

  it('warns about a Client ID without the .access suffix, but still saves it', async () => {
    const user = userEvent.setup()
    const profile = await openEditorFor('wss://gw.example.com', { access: { mode: 'service-token' } })
    await user.type(screen.getByLabelText('Client ID'), '0123456789abcdef')
    expect(screen.getByTestId('client-id-warning')).toHaveTextContent('.access')
    await user.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(fake.callsTo('profiles.save')).toHaveLength(1))
    expect(fake.callsTo('profiles.save')[0]?.[0]).toMatchObject({ id: profile.id, access: { mode: 'service-token', clientId: '0123456789abcdef' } })
  })

  it('offers the Cloudflare Access sign-in once the gateway is saved with that address', async () => {
    const user = userEvent.setup()
    await openEditorFor('wss://gw.example.com')
    await user.click(screen.getByLabelText(/^Email sign-in/))
    expect(screen.getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeEnabled()
    expect(screen.getByTestId('access-sign-in-status')).toHaveTextContent('Not signed in')
    // Saved with mode "none": the sign-in works, but connecting with it needs the mode saved.
    expect(screen.getByTestId('access-sign-in-mode-hint')).toHaveTextContent('Save to make this gateway connect with the Cloudflare Access sign-in.')
  })
})

describe('app shell', () => {
  it('lists the Local gateway the main process seeded on first start, and connects it', async () => {
    const user = userEvent.setup()
    fake.addProfile({ name: 'Local gateway', url: 'ws://127.0.0.1:18789' })
    render(<App />)
    const list = await screen.findByTestId('profile-list')
    expect(within(list).getByText('Local gateway')).toBeInTheDocument()
    await waitFor(() => expect(screen.getByLabelText('Gateway URL')).toHaveValue('ws://127.0.0.1:18789'))
    expect(screen.getByLabelText('Session key')).toHaveValue('agent:main:main')
    await user.click(screen.getByRole('button', { name: 'Connect' }))
    await waitFor(() => expect(screen.getByTestId('connection-status')).toHaveAttribute('data-state', 'connecting'))
    await user.click(screen.getByRole('tab', { name: 'Session' }))
    expect(screen.getByTestId('composer-disabled-reason')).toHaveTextContent('Connecting')
  })

  it('sends an Access error\'s "Add service token" to the Client ID field', async () => {
    const user = userEvent.setup()
    const profile = fake.addProfile({ name: 'Edge', url: 'wss://gw.example.com' })
    fake.snapshots = [
      {
        profileId: profile.id,
        seq: 2,
        state: {
          kind: 'access-required',
          error: appError('ACCESS_LOGIN_REQUIRED', 'Sign-in needed', 'Access wants credentials.', { nextSteps: [{ action: 'add-service-token', label: 'Add a service token.' }] })
        }
      }
    ]
    render(<App />)
    await user.click(await screen.findByRole('tab', { name: 'Session' }))
    await user.click(await screen.findByRole('button', { name: 'Add service token' }))
    await waitFor(() => expect(screen.getByLabelText('Client ID')).toHaveFocus())
    expect(screen.getByRole('radio', { name: /^Service token/ })).toBeChecked()
  })
})
