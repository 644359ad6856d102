// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest'
import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { App } from '../../src/renderer/src/App'
import { useProfiles } from '../../src/renderer/src/stores/profiles-store'
import { useUi } from '../../src/renderer/src/stores/ui-store'
import type { OpenGatewayRequest } from '../../src/shared/ipc-contract'
import type { FakeApi } from './support/fake-api'
import { freshApp } from './support/harness'

let fake: FakeApi

beforeEach(() => {
  fake = freshApp()
})

async function startApp() {
  const saved = fake.addProfile({ name: 'Local gateway', url: 'ws://127.0.0.1:18789' })
  render(<App />)
  await screen.findByTestId('profile-list')
  await waitFor(() => expect(fake.callsTo('app.onOpenGateway')).toHaveLength(1))
  return saved
}

function openLink(request: OpenGatewayRequest) {
  act(() => fake.openGatewayLink(request))
}

/** Nothing was saved, stored or dialled on the link's behalf. */
function expectNothingSent() {
  expect(fake.callsTo('profiles.save')).toEqual([])
  expect(fake.callsTo('secrets.set')).toEqual([])
  expect(fake.callsTo('connection.connect')).toEqual([])
}

describe('gateway links', () => {
  it('opens a new, unsaved gateway prefilled from the link, in the Gateways view, and never saves or connects it', async () => {
    const user = userEvent.setup()
    await startApp()
    await user.click(screen.getByRole('tab', { name: 'Session' }))
    openLink({ url: 'wss://gw.acme.dev', name: 'Acme' })

    expect(screen.getByRole('tab', { name: 'Gateways' })).toHaveAttribute('aria-selected', 'true')
    const editor = screen.getByTestId('profile-editor')
    expect(within(editor).getByRole('heading', { level: 2 })).toHaveTextContent('New gateway')
    expect(screen.getByLabelText('Name')).toHaveValue('Acme')
    expect(screen.getByLabelText('Gateway URL')).toHaveValue('wss://gw.acme.dev')
    expect(screen.getByTestId('gateway-link-banner')).toHaveTextContent('Opened from a link: check the address before you connect.')
    expect(within(screen.getByTestId('profile-list')).getAllByTestId('profile-item')).toHaveLength(1)
    expectNothingSent()

    // Only the user's own click saves it; then the reminder has done its job.
    await user.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(fake.callsTo('profiles.save')).toHaveLength(1))
    expect(fake.callsTo('profiles.save')[0]?.[0]).toMatchObject({ name: 'Acme', url: 'wss://gw.acme.dev' })
    expect(fake.callsTo('connection.connect')).toEqual([])
    await waitFor(() => expect(screen.queryByTestId('gateway-link-banner')).not.toBeInTheDocument())
  })

  it('leaves the name empty when the link has none, and Cancel drops the draft and the banner', async () => {
    const user = userEvent.setup()
    await startApp()
    openLink({ url: 'https://gw.acme.dev' })
    expect(screen.getByLabelText('Name')).toHaveValue('')
    // An https:// address is the editor's to fix, with the user's click.
    expect(screen.getByRole('button', { name: 'Use wss://gw.acme.dev' })).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Cancel' }))
    expect(screen.queryByTestId('gateway-link-banner')).not.toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Add gateway' }))
    expect(screen.getByLabelText('Gateway URL')).toHaveValue('')
    expect(screen.queryByTestId('gateway-link-banner')).not.toBeInTheDocument()
    expectNothingSent()
  })

  it('asks before it replaces an unsaved new gateway, and keeps it when told to', async () => {
    const user = userEvent.setup()
    await startApp()
    await user.click(screen.getByRole('button', { name: 'Add gateway' }))
    await user.type(screen.getByLabelText('Name'), 'Mine')
    await user.type(screen.getByLabelText('Gateway URL'), 'wss://mine.example.com')

    openLink({ url: 'wss://gw.acme.dev', name: 'Acme' })
    const confirm = screen.getByTestId('gateway-link-confirm')
    expect(confirm).toHaveTextContent('A link asks to open a new gateway at gw.acme.dev. Opening it replaces the new gateway you have not saved yet.')
    expect(screen.getByLabelText('Name')).toHaveValue('Mine')
    await user.click(within(confirm).getByRole('button', { name: 'Keep editing' }))
    expect(screen.queryByTestId('gateway-link-confirm')).not.toBeInTheDocument()
    expect(screen.getByLabelText('Name')).toHaveValue('Mine')
    expect(screen.getByLabelText('Gateway URL')).toHaveValue('wss://mine.example.com')

    openLink({ url: 'wss://gw.acme.dev', name: 'Acme' })
    await user.click(screen.getByRole('button', { name: 'Open link' }))
    expect(screen.getByLabelText('Name')).toHaveValue('Acme')
    expect(screen.getByTestId('gateway-link-banner')).toBeInTheDocument()
    expectNothingSent()
  })

  it('opens at once over edits to a saved gateway, which stay for when it is selected again', async () => {
    const user = userEvent.setup()
    const saved = await startApp()
    await waitFor(() => expect(screen.getByLabelText('Name')).toHaveValue('Local gateway'))
    await user.type(screen.getByLabelText('Name'), ' (edited)')
    openLink({ url: 'wss://gw.acme.dev', name: 'Acme' })
    expect(screen.queryByTestId('gateway-link-confirm')).not.toBeInTheDocument()
    expect(screen.getByLabelText('Name')).toHaveValue('Acme')
    act(() => useProfiles.getState().select(saved.id))
    expect(screen.getByLabelText('Name')).toHaveValue('Local gateway (edited)')
    expect(screen.getByText('Unsaved changes')).toBeInTheDocument()
    expectNothingSent()
  })

  it('asks before it drops a secret typed into the open editor, and the linked form starts empty', async () => {
    const user = userEvent.setup()
    await startApp()
    await waitFor(() => expect(screen.getByLabelText('Name')).toHaveValue('Local gateway'))
    await user.type(screen.getByLabelText('Gateway token'), 'typed-token-for-local-0000')
    openLink({ url: 'wss://gw.acme.dev' })
    expect(screen.getByTestId('gateway-link-confirm')).toHaveTextContent('Opening it clears the secrets you typed here and have not saved.')
    expect(screen.getByLabelText('Gateway token')).toHaveValue('typed-token-for-local-0000')
    await user.click(screen.getByRole('button', { name: 'Open link' }))
    expect(screen.getByLabelText('Gateway URL')).toHaveValue('wss://gw.acme.dev')
    expect(screen.getByLabelText('Gateway token')).toHaveValue('')
    expect(document.body.innerHTML).not.toContain('typed-token-for-local-0000')
    expectNothingSent()
  })

  it('gives a second link a fresh form, so nothing typed for the first address carries over', async () => {
    const user = userEvent.setup()
    await startApp()
    openLink({ url: 'wss://one.example.com' })
    await user.type(screen.getByLabelText('Gateway token'), 'token-meant-for-one-1111')
    openLink({ url: 'wss://two.example.com' })
    await user.click(screen.getByRole('button', { name: 'Open link' }))
    expect(screen.getByLabelText('Gateway URL')).toHaveValue('wss://two.example.com')
    expect(screen.getByLabelText('Gateway token')).toHaveValue('')
    expectNothingSent()
  })

  it('strips control characters from what the link carries', async () => {
    await startApp()
    openLink({ url: ' wss://gw.acme.dev\u0007 ', name: 'Ac\u001bme' })
    expect(screen.getByLabelText('Name')).toHaveValue('Acme')
    expect(screen.getByLabelText('Gateway URL')).toHaveValue('wss://gw.acme.dev')
    expect(useUi.getState().gatewayLink?.request).toEqual({ url: 'wss://gw.acme.dev', name: 'Acme' })
  })
})
