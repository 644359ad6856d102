/**
 * A write-only secret (gateway token, Access Client Secret).
 *
 * The value only ever lives in the DOM input (uncontrolled: no React or store state holds it);
 * the editor reads it through the handle when saving, passes it to the main process and clears
 * the input. What is shown afterwards is the main process's hint ("set, ends in …abcd").
 */
import { useEffect, useId, useImperativeHandle, useRef, useState, type Ref } from 'react'
import type { SecretStatus } from '../../../../shared/ipc-contract'

export interface SecretFieldHandle {
  /** The typed value, trimmed; null when nothing was typed. */
  pendingValue(): string | null
  /** Empty the input and go back to showing the stored status. */
  reset(): void
  focus(): void
  showError(message: string | undefined): void
}

export interface SecretFieldProps {
  label: string
  /**
   * Names the buttons ("Replace token", "Show secret"). Deliberately not the label, so looking
   * the field up by its label finds only the input.
   */
  shortName: string
  /** The input's id (also its test handle). */
  inputId: string
  /** Stored status; undefined for a profile that is not saved yet. */
  status?: SecretStatus
  /** Offer a show/hide toggle while typing. */
  revealable?: boolean
  description?: string
  /**
   * A note about what is being typed (a paste error), shown under the field without blocking
   * the save. Only the note is kept in state, never the value.
   */
  inspect?: (value: string) => string | undefined
  /** Clear the stored secret (only offered when one is set). */
  onClear?: () => Promise<string | undefined>
  disabled?: boolean
  ref?: Ref<SecretFieldHandle>
}

export function SecretField({ label, shortName, inputId, status, revealable, description, inspect, onClear, disabled, ref }: SecretFieldProps) {
  const inputRef = useRef<HTMLInputElement>(null)
  const [replacing, setReplacing] = useState(false)
  const [revealed, setRevealed] = useState(false)
  const [error, setError] = useState<string>()
  const [clearing, setClearing] = useState(false)
  const [focusWanted, setFocusWanted] = useState(false)
  const [note, setNote] = useState<string>()
  const descriptionId = useId()
  const errorId = useId()
  const noteId = useId()
  const isSet = status?.set === true
  const showInput = !isSet || replacing

  useImperativeHandle(
    ref,
    () => ({
      pendingValue: () => {
        const value = inputRef.current?.value.trim() ?? ''
        return value === '' ? null : value
      },
      reset: () => {
        if (inputRef.current) inputRef.current.value = ''
        setReplacing(false)
        setRevealed(false)
        setError(undefined)
        setNote(undefined)
      },
      focus: () => {
        setReplacing(true)
        setFocusWanted(true)
      },
      showError: setError
    }),
    []
  )

  // Focus after the input has rendered (Replace or a focus request from an error panel).
  useEffect(() => {
    if (!focusWanted || !showInput) return
    inputRef.current?.focus()
    setFocusWanted(false)
  }, [focusWanted, showInput])

  const startReplace = () => {
    setReplacing(true)
    setFocusWanted(true)
  }

  const cancelReplace = () => {
    if (inputRef.current) inputRef.current.value = ''
    setReplacing(false)
    setRevealed(false)
    setError(undefined)
    setNote(undefined)
  }

  const clear = async () => {
    if (!onClear) return
    setClearing(true)
    setError(await onClear())
    setClearing(false)
  }

  const describedBy = [description ? descriptionId : '', note ? noteId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined
  const hint = status?.hint || (isSet ? 'set' : 'not set')

  return (
    <div className="field secret-field" data-testid={`secret-${inputId}`} data-set={isSet ? 'true' : 'false'}>
      {showInput ? <label htmlFor={inputId}>{label}</label> : <span className="field__label">{label}</span>}
      {isSet && (
        <p className="secret-field__status">
          <span data-testid={`${inputId}-hint`}>{hint}</span>
          {!replacing && (
            <>
              <button type="button" className="button button--small" aria-label={`Replace ${shortName}`} onClick={startReplace} disabled={disabled}>
                Replace
              </button>
              {onClear && (
                <button type="button" className="button button--small" aria-label={`Clear ${shortName}`} onClick={() => void clear()} disabled={disabled || clearing}>
                  Clear
                </button>
              )}
            </>
          )}
        </p>
      )}
      {showInput && (
        <div className="secret-field__input-row">
          <input
            ref={inputRef}
            id={inputId}
            type={revealed ? 'text' : 'password'}
            autoComplete="off"
            spellCheck={false}
            autoCapitalize="off"
            placeholder={isSet ? 'Type the new value' : 'Not set'}
            aria-describedby={describedBy}
            aria-invalid={error ? true : undefined}
            disabled={disabled}
            onInput={inspect ? (event) => setNote(inspect(event.currentTarget.value.trim())) : undefined}
          />
          {revealable && (
            <button
              type="button"
              className="button button--small"
              aria-pressed={revealed}
              aria-label={`${revealed ? 'Hide' : 'Show'} ${shortName}`}
              onClick={() => setRevealed((r) => !r)}
            >
              {revealed ? 'Hide' : 'Show'}
            </button>
          )}
          {replacing && isSet && (
            <button type="button" className="button button--small" aria-label={`Cancel replacing ${shortName}`} onClick={cancelReplace}>
              Cancel
            </button>
          )}
        </div>
      )}
      {description && (
        <p id={descriptionId} className="field__hint">
          {description}
        </p>
      )}
      {note && (
        <p id={noteId} className="field__warning" data-testid={`${inputId}-note`}>
          {note}
        </p>
      )}
      {error && (
        <p id={errorId} className="field__error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
