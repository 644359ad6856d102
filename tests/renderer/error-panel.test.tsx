// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { ConnectionStatus } from '../../src/renderer/src/features/connection/ConnectionStatus'
import { ErrorPanel } from '../../src/renderer/src/features/connection/ErrorPanel'
import { applySnapshot } from '../../src/renderer/src/lib/bridge'
import { useUi } from '../../src/renderer/src/stores/ui-store'
import type { ConnectionState } from '../../src/shared/connection-state'
import { appError } from '../../src/shared/errors'
import { accessLoginRequired, type FakeApi } from './support/fake-api'
import { freshApp } from './support/harness'

let fake: FakeApi

beforeEach(() => {
  fake = freshApp()
})

afterEach(() => {
  vi.useRealTimers()
})

function stubClipboard() {
  const writeText = vi.fn().mockResolvedValue(undefined)
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
  return writeText
}

let seq = 0
function showState(state: ConnectionState, profileId = 'p1') {
  act(() => {
    applySnapshot({ profileId, seq: ++seq, state })
  })
}

describe('ErrorPanel', () => {
  it('shows an Access login error with its decoded claims, both buttons and no raw URL', async () => {
    const user = userEvent.setup()
    const loginUrl = 'https://acme.cloudflareaccess.com/cdn-cgi/access/login/gateway.acme.dev?kid=abc&meta=eyJhbGciOi.signed.jwt&redirect_url=%2F'
    const error = accessLoginRequired({
      gatewayMessage: `redirected to ${loginUrl}`,
      notes: [`Location: ${loginUrl}`],
      accessClaims: {
        hostname: 'gateway.acme.dev',
        audience: 'a'.repeat(64),
        authStatus: 'NONE',
        serviceTokenStatus: false,
        isWarp: false,
        country: 'DE',
        rayId: '8f1e2d3c4b5a6978',
        redirectPath: '/cdn-cgi/access/login?redirect_url=https://gateway.acme.dev/'
      }
    })
    error.message = `Access sent a login page (${loginUrl}).`
    render(<ErrorPanel error={error} profileId="p1" onRetry={() => {}} />)

    const panel = screen.getByTestId('error-panel')
    expect(panel).toHaveAttribute('data-code', 'ACCESS_LOGIN_REQUIRED')
    expect(within(panel).getByRole('heading', { name: 'Cloudflare Access wants a sign-in' })).toBeInTheDocument()

    const claims = within(screen.getByTestId('access-claims'))
    const value = (label: string) => claims.getByRole('rowheader', { name: label }).nextElementSibling?.textContent
    expect(value('Team domain')).toBe('acme.cloudflareaccess.com')
    expect(value('Application host')).toBe('gateway.acme.dev')
    expect(value('Audience')).toBe('a'.repeat(64))
    expect(value('Service token recognised')).toBe('no')
    expect(value('Auth status')).toBe('NONE')
    expect(value('WARP')).toBe('no')
    expect(value('Country')).toBe('DE')
    expect(value('Ray ID')).toBe('8f1e2d3c4b5a6978')
    expect(value('Credentials sent')).toBe('none')

    expect(within(screen.getByTestId('likely-causes')).getAllByRole('listitem')).toHaveLength(2)

    const addToken = within(panel).getByRole('button', { name: 'Add service token' })
    expect(addToken).toBeEnabled()
    expect(within(panel).getByRole('button', { name: 'Sign in with Cloudflare Access' })).toBeEnabled()
    expect(within(panel).getByRole('button', { name: 'Retry' })).toBeEnabled()

    // No address beyond a host name, no signed parameters, no markup.
    const text = panel.textContent ?? ''
    expect(text).not.toMatch(/https?:\/\//)
    expect(text).not.toContain('meta=')
    expect(text).not.toContain('eyJhbGciOi')
    expect(panel.innerHTML).not.toContain('cdn-cgi')

    await user.click(addToken)
    expect(useUi.getState()).toMatchObject({ tab: 'gateways', focusRequest: { profileId: 'p1', field: 'clientId', accessMode: 'service-token' } })
  })

  it("shows a gateway error's own codes", () => {
    const error = appError('GATEWAY_TOKEN_MISMATCH', 'The gateway refused the token', 'The gateway token does not match.', {
      nextSteps: [{ action: 'check-gateway-token', label: 'Check the gateway token.' }],
      details: { gatewayCode: 'INVALID_REQUEST', gatewayDetailCode: 'AUTH_TOKEN_MISMATCH', closeCode: 1008 }
    })
    render(<ErrorPanel error={error} profileId="p1" />)
    const codes = within(screen.getByTestId('gateway-codes'))
    expect(codes.getByText('INVALID_REQUEST')).toBeInTheDocument()
    expect(codes.getByText('AUTH_TOKEN_MISMATCH')).toBeInTheDocument()
    expect(screen.queryByTestId('access-claims')).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument()
    screen.getByRole('button', { name: 'Check gateway token' }).click()
    expect(useUi.getState().focusRequest).toMatchObject({ field: 'gatewayToken' })
  })
})

describe('ConnectionStatus', () => {
  it('shows the pairing command and copies it', async () => {
    const user = userEvent.setup()
    const writeText = stubClipboard()
    render(<ConnectionStatus profileId="p1" />)
    showState({
      kind: 'pairing-required',
      requestId: 'req-42',
      command: 'openclaw devices approve req-42',
      attempt: 2,
      error: appError('PAIRING_REQUIRED', 'This device needs approval', 'The gateway does not know this device yet.', { details: { pairingRequestId: 'req-42' } })
    })
    const status = screen.getByTestId('connection-status')
    expect(status).toHaveAttribute('data-state', 'pairing-required')
    expect(screen.getByTestId('pairing-command')).toHaveTextContent('openclaw devices approve req-42')
    expect(status).toHaveTextContent(/waiting for approval, retrying/i)
    await user.click(screen.getByRole('button', { name: 'Copy' }))
    expect(writeText).toHaveBeenCalledWith('openclaw devices approve req-42')
    expect(await screen.findByText('Copied')).toBeInTheDocument()
  })

  it('builds the approval command from the request id when the state has none', () => {
    render(<ConnectionStatus profileId="p1" />)
    showState({ kind: 'pairing-required', requestId: 'req-7', attempt: 1, error: appError('PAIRING_REQUIRED', 'Approval needed', 'Approve this device.') })
    expect(screen.getByTestId('pairing-command')).toHaveTextContent('openclaw devices approve req-7')
  })

  it('has a banner for every state kind', () => {
    render(<ConnectionStatus profileId="p1" />)
    const status = () => screen.getByTestId('connection-status')
    expect(status()).toHaveAttribute('data-state', 'idle')

    showState({ kind: 'connecting', attempt: 1, resuming: false })
    expect(status()).toHaveTextContent('Connecting')
    showState({ kind: 'handshaking', attempt: 1, resuming: false })
    expect(status()).toHaveTextContent('Signing in')
    showState({ kind: 'ready', info: { protocol: 3, serverVersion: '2026.9.6', scopes: [], mainSessionKey: 'agent:main:main', connectedAt: 1, warnings: [] } })
    expect(status()).toHaveAttribute('data-state', 'ready')
    expect(status()).toHaveTextContent('protocol 3, gateway 2026.9.6')
    showState({ kind: 'failed', error: appError('CONNECTION_REFUSED', 'Nothing is listening', 'The gateway refused the connection.') })
    expect(within(status()).getByTestId('error-panel')).toHaveAttribute('data-code', 'CONNECTION_REFUSED')
    showState({ kind: 'access-required', error: accessLoginRequired() })
    expect(within(status()).getByTestId('access-claims')).toBeInTheDocument()
  })

  it('counts down to the next reconnect attempt', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    render(<ConnectionStatus profileId="p1" />)
    showState({ kind: 'reconnecting', attempt: 3, retryAt: 1_005_000, lastError: appError('CONNECTION_RESET', 'The connection dropped', 'The link was reset.') })
    const status = screen.getByTestId('connection-status')
    expect(status).toHaveTextContent('Reconnecting in 5 s (attempt 3)')
    act(() => {
      vi.advanceTimersByTime(2_000)
    })
    expect(status).toHaveTextContent('Reconnecting in 3 s (attempt 3)')
  })

  it('Retry connects again', async () => {
    const user = userEvent.setup()
    render(<ConnectionStatus profileId="p1" />)
    showState({ kind: 'failed', error: appError('TIMEOUT', 'No answer', 'The gateway did not answer in time.') })
    await user.click(screen.getByRole('button', { name: 'Retry' }))
    expect(fake.callsTo('connection.connect')).toEqual([['p1']])
  })
})
