/**
 * Where the user writes. Enter sends, Shift+Enter starts a new line (and Enter while an input
 * method is composing a character never sends). Disabled, with the reason, while the
 * connection cannot take a message; Abort stops the reply that is streaming.
 */
import { useId, useState, type KeyboardEvent } from 'react'

export interface ComposerProps {
  /** Why sending is impossible right now; undefined when it is possible. */
  disabledReason?: string
  onSend(text: string): void
  /** A reply is streaming: offer Abort. */
  running: boolean
  aborting?: boolean
  onAbort(): void
}

export function Composer({ disabledReason, onSend, running, aborting, onAbort }: ComposerProps) {
  const [text, setText] = useState('')
  const inputId = useId()
  const reasonId = useId()
  const disabled = disabledReason !== undefined
  const canSend = !disabled && text.trim() !== ''

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
