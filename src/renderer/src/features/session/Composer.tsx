/**
 * Where the user writes. Enter sends, Shift+Enter starts a new line (and Enter while an input
 * method is composing a character never sends). Disabled, with the reason, while the
 * connection cannot take a message; Abort stops the reply that is streaming.
 */
import { useId, useState, type KeyboardEvent } from 'react'

/** The gateway's limit for one message (the contract refuses longer ones). */
export const MAX_MESSAGE_CHARS = 200_000

// Unsent text per session survives switching tabs or gateways (the view unmounts meanwhile).
const drafts = new Map<string, string>()

export interface ComposerProps {
  /** Identifies the session whose unsent text this is (profile id + session key). */
  draftKey: string
  /** Why sending is impossible right now; undefined when it is possible. */
  disabledReason?: string
  onSend(text: string): void
  /** A reply is streaming: offer Abort. */
  running: boolean
  aborting?: boolean
  onAbort(): void
}

export function Composer({ draftKey, disabledReason, onSend, running, aborting, onAbort }: ComposerProps) {
  const [text, setTextState] = useState(() => drafts.get(draftKey) ?? '')
  const setText = (value: string) => {
    setTextState(value)
    if (value === '') drafts.delete(draftKey)
    else drafts.set(draftKey, value)
  }
  const inputId = useId()
  const reasonId = useId()
  const disabled = disabledReason !== undefined
  // One message at a time: the gateway folds a message sent during a run into that run, which
  // would leave the new message without a reply of its own.
  const canSend = !disabled && !running && text.trim() !== ''

  const send = () => {
    if (!canSend) return
    onSend(text)
    setText('')
  }

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key !== 'Enter' || e.shiftKey || e.nativeEvent.isComposing) return
    e.preventDefault()
    send()
  }

  return (
    <form
      className="composer"
      data-testid="composer"
      onSubmit={(e) => {
        e.preventDefault()
        send()
      }}
    >
      <label htmlFor={inputId} className="visually-hidden">
        Message
      </label>
      <textarea
        id={inputId}
        className="composer__input"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        rows={3}
        maxLength={MAX_MESSAGE_CHARS}
        placeholder={disabled ? '' : 'Message the agent — Enter to send, Shift+Enter for a new line'}
        disabled={disabled}
        aria-describedby={disabled ? reasonId : undefined}
      />
      <div className="composer__actions">
        {disabled && (
          <p id={reasonId} className="composer__reason" data-testid="composer-disabled-reason">
            {disabledReason}
          </p>
        )}
        {running && !disabled && (
          <p className="composer__reason" data-testid="composer-running-hint">
            Wait for the reply, or abort it, before sending the next message.
          </p>
        )}
        {running && (
          <button type="button" className="button button--danger" onClick={onAbort} disabled={aborting} aria-busy={aborting || undefined}>
            Abort
          </button>
        )}
        <button type="submit" className="button button--primary" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  )
}
