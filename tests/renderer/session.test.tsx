// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { Composer } from '../../src/renderer/src/features/session/Composer'
import { MarkdownText } from '../../src/renderer/src/features/session/MarkdownText'
import { MessageList } from '../../src/renderer/src/features/session/MessageList'
import { SessionView } from '../../src/renderer/src/features/session/SessionView'
import { applySnapshot, startBridge } from '../../src/renderer/src/lib/bridge'
import { useProfiles } from '../../src/renderer/src/stores/profiles-store'
import type { UiMessage } from '../../src/renderer/src/stores/session-store'
import type { FakeApi } from './support/fake-api'
import { freshApp } from './support/harness'

let fake: FakeApi

beforeEach(() => {
  fake = freshApp()
})

describe('Composer', () => {
  it('sends on Enter and starts a new line on Shift+Enter', async () => {
    const user = userEvent.setup()
    const onSend = vi.fn()
    render(<Composer draftKey={crypto.randomUUID()} onSend={onSend} running={false} onAbort={() => {}} />)
    const input = screen.getByLabelText('Message')
    await user.type(input, 'first line')
    await user.keyboard('{Shift>}{Enter}{/Shift}')
    await user.type(input, 'second line')
    expect(onSend).not.toHaveBeenCalled()
    expect(input).toHaveValue('first line\nsecond line')
    await user.keyboard('{Enter}')
    expect(onSend).toHaveBeenCalledExactlyOnceWith('first line\nsecond line')
    expect(input).toHaveValue('')
  })

  it('does not send an empty message or while an input method is composing', async () => {
    const user = userEvent.setup()
    const onSend = vi.fn()
    render(<Composer draftKey={crypto.randomUUID()} onSend={onSend} running={false} onAbort={() => {}} />)
    const input = screen.getByLabelText('Message')
    await user.type(input, '   {Enter}')
    expect(onSend).not.toHaveBeenCalled()
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled()
    await user.type(input, 'かな')
    fireEvent.keyDown(input, { key: 'Enter', isComposing: true })
    expect(onSend).not.toHaveBeenCalled()
  })

  it('is disabled with the reason while not ready, and offers Abort while a reply streams', async () => {
    const user = userEvent.setup()
    const onAbort = vi.fn()
    const { rerender } = render(<Composer draftKey="k-disabled" disabledReason="Not connected. Connect to send messages." onSend={() => {}} running={false} onAbort={onAbort} />)
    expect(screen.getByLabelText('Message')).toBeDisabled()
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled()
    expect(screen.getByTestId('composer-disabled-reason')).toHaveTextContent('Not connected')
    expect(screen.queryByRole('button', { name: 'Abort' })).not.toBeInTheDocument()
    rerender(<Composer draftKey={crypto.randomUUID()} onSend={() => {}} running onAbort={onAbort} />)
    await user.click(screen.getByRole('button', { name: 'Abort' }))
    expect(onAbort).toHaveBeenCalledOnce()
  })
})

describe('composer rules', () => {
  it('does not send while a reply streams, and says why', async () => {
    const user = userEvent.setup()
    const onSend = vi.fn()
    render(<Composer draftKey={crypto.randomUUID()} onSend={onSend} running onAbort={() => {}} />)
    await user.type(screen.getByLabelText('Message'), 'next question{Enter}')
    expect(onSend).not.toHaveBeenCalled()
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled()
    expect(screen.getByTestId('composer-running-hint')).toHaveTextContent('Wait for the reply')
  })
  it('keeps unsent text when the view goes away and comes back', async () => {
    const user = userEvent.setup()
    const first = render(<Composer draftKey="draft-1" onSend={() => {}} running={false} onAbort={() => {}} />)
    await user.type(screen.getByLabelText('Message'), 'half-written')
    first.unmount()
    render(<Composer draftKey="draft-1" onSend={() => {}} running={false} onAbort={() => {}} />)
    expect(screen.getByLabelText('Message')).toHaveValue('half-written')
  })
})

describe('Markdown replies', () => {
  it('renders a table, a code block and a list', () => {
    const text = ['| Name | Port |', '| --- | --- |', '| gateway | 18789 |', '', '```sh', 'openclaw gateway status', '```', '', '- one', '- two', '1. first'].join('\n')
    const { container } = render(<MarkdownText text={text} />)
    const table = screen.getByRole('table')
    expect(within(table).getByRole('columnheader', { name: 'Port' })).toBeInTheDocument()
    expect(within(table).getByRole('cell', { name: '18789' })).toBeInTheDocument()
    const code = container.querySelector('pre > code')
    expect(code).toHaveTextContent('openclaw gateway status')
    expect(code?.className).toContain('language-sh')
    expect(screen.getAllByRole('list')).toHaveLength(2)
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['one', 'two', 'first'])
  })

  it('never renders raw HTML or a script from a reply', () => {
    const text = 'Hello <script>window.pwned = true</script> <img src=x onerror="window.pwned=true"> <b>bold?</b>\n\n<div class="evil">block html</div>\n\n[click](javascript:alert(1))'
    const { container } = render(<MarkdownText text={text} />)
    expect(container.querySelector('script')).toBeNull()
    expect(container.querySelector('img')).toBeNull()
    expect(container.querySelector('b')).toBeNull()
    expect(container.querySelector('div.evil')).toBeNull()
    expect(container.querySelector('[onerror]')).toBeNull()
    expect((window as { pwned?: boolean }).pwned).toBeUndefined()
    // The javascript: link loses its target.
    const link = screen.getByText('click').closest('a')
    expect(link?.getAttribute('href') ?? '').not.toMatch(/javascript/i)
  })

  it('opens a link in the system browser instead of navigating the window', async () => {
    const user = userEvent.setup()
    render(<MarkdownText text="See [the docs](https://docs.openclaw.ai/gateway) for more." />)
    const link = screen.getByRole('link', { name: 'the docs' })
    const click = new MouseEvent('click', { bubbles: true, cancelable: true })
    link.dispatchEvent(click)
    expect(click.defaultPrevented).toBe(true)
    await waitFor(() => expect(fake.callsTo('shell.openExternal')).toEqual([['https://docs.openclaw.ai/gateway']]))
    await user.click(link)
    expect(fake.callsTo('shell.openExternal')).toHaveLength(2)
  })

  it('shows an image as a link rather than loading it', () => {
    const { container } = render(<MarkdownText text="![diagram](https://example.com/d.png)" />)
    expect(container.querySelector('img')).toBeNull()
    expect(screen.getByRole('link', { name: '[image: diagram]' })).toBeInTheDocument()
  })
})

describe('MessageList', () => {
  it('renders only a window of a long conversation', () => {
    const messages: UiMessage[] = Array.from({ length: 2000 }, (_, i) => ({ id: `m${i}`, role: i % 2 ? 'assistant' : 'user', text: `message ${i}`, status: 'final' }))
    render(<MessageList messages={messages} empty={null} onRetry={() => {}} onDiscard={() => {}} />)
    const shown = screen.getAllByTestId('message')
    expect(shown.length).toBeGreaterThan(0)
    expect(shown.length).toBeLessThan(200)
    expect(screen.getByTestId('message-list')).toHaveAttribute('data-count', '2000')
  })

  it('shows the empty state', () => {
    render(<MessageList messages={[]} empty={<p>No messages yet — say hello.</p>} onRetry={() => {}} onDiscard={() => {}} />)
    expect(within(screen.getByTestId('message-list')).getByText('No messages yet — say hello.')).toBeInTheDocument()
  })
})

describe('SessionView', () => {
  async function openReadySession() {
    const profile = fake.addProfile({ name: 'Local', url: 'ws://127.0.0.1:18789' })
    fake.sessions = [{ key: 'agent:main:main', title: 'Main' }, { key: 'agent:main:ops', title: 'Ops' }]
    const stop = startBridge()
    await waitFor(() => expect(useProfiles.getState().status).toBe('loaded'))
    render(<SessionView />)
    return { profile, stop }
  }

  it('loads the history when the session opens, with a loading indicator', async () => {
    const { profile, stop } = await openReadySession()
    fake.history.set(`${profile.id}/agent:main:main`, [
      { id: 'h1', role: 'user', text: 'earlier question' },
      { id: 'h2', role: 'assistant', text: 'earlier **answer**', status: 'final' }
    ])
    expect(screen.getByTestId('composer-disabled-reason')).toHaveTextContent('Not connected')
    const release = fake.holdHistory()
    act(() => {
      applySnapshot({ profileId: profile.id, seq: 10, state: { kind: 'ready', info: { protocol: 3, scopes: [], mainSessionKey: 'agent:main:main', connectedAt: 1, warnings: [] } } })
    })
    expect(await screen.findByTestId('history-loading')).toBeInTheDocument()
    release()
    await waitFor(() => expect(screen.getAllByTestId('message')).toHaveLength(2))
    expect(screen.queryByTestId('history-loading')).not.toBeInTheDocument()
    expect(screen.getByText('answer').tagName).toBe('STRONG')
    await waitFor(() => expect(screen.getByRole('option', { name: 'Ops (agent:main:ops)' })).toBeInTheDocument())
    stop()
  })

  it('shows the sent message at once, streams the reply in, and keeps a failed message to retry', async () => {
    const user = userEvent.setup()
    const { profile, stop } = await openReadySession()
    act(() => {
      applySnapshot({ profileId: profile.id, seq: 10, state: { kind: 'ready', info: { protocol: 3, scopes: [], mainSessionKey: 'agent:main:main', connectedAt: 1, warnings: [] } } })
    })
    await waitFor(() => expect(screen.getByText('No messages yet — say hello.')).toBeInTheDocument())

    await user.type(screen.getByLabelText('Message'), 'hello{Enter}')
    const mine = await screen.findByText('hello')
    expect(mine.closest('[data-testid="message"]')).toHaveAttribute('data-role', 'user')
    const [, , , clientMessageId] = fake.callsTo('session.send')[0] as string[]

    const base = { profileId: profile.id, sessionKey: 'agent:main:main', runId: 'run-1' }
    act(() => {
      fake.pushEvent({ ...base, type: 'run-started', userText: 'hello', clientMessageId: clientMessageId! })
      fake.pushEvent({ ...base, type: 'delta', text: 'Hi' })
    })
    const reply = () => screen.getAllByTestId('message').find((m) => m.dataset.role === 'assistant')!
    expect(reply()).toHaveAttribute('data-status', 'streaming')
    expect(reply()).toHaveTextContent('Hi')
    expect(screen.getByRole('button', { name: 'Abort' })).toBeInTheDocument()
    act(() => {
      fake.pushEvent({ ...base, type: 'final', text: 'Hi there!' })
    })
    expect(reply()).toHaveAttribute('data-status', 'final')
    expect(reply()).toHaveTextContent('Hi there!')
    expect(screen.queryByRole('button', { name: 'Abort' })).not.toBeInTheDocument()

    fake.sendResult = () => ({ ok: false, error: { code: 'CONNECTION_CLOSED', category: 'network', title: 'The connection closed', message: 'Try again.', nextSteps: [], details: {}, retryable: true } })
    await user.type(screen.getByLabelText('Message'), 'do not lose me{Enter}')
    const failed = (await screen.findByText('do not lose me')).closest('[data-testid="message"]') as HTMLElement
    await waitFor(() => expect(failed).toHaveAttribute('data-status', 'failed'))
    expect(failed).toHaveTextContent('The connection closed')
    fake.sendResult = undefined
    await user.click(within(failed).getByRole('button', { name: 'Retry sending' }))
    await waitFor(() => expect(screen.getByText('do not lose me').closest('[data-testid="message"]')).toHaveAttribute('data-status', 'sent'))
    stop()
  })
})
