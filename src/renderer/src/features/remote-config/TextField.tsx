/**
 * One labelled text input of the gateway editor, with an optional note under it (an error, a
 * warning or a hint) that the input is described by. Keeps every field's wiring (ids, aria,
 * no spell check or autofill for addresses and ids) the same.
 */
import type { Ref } from 'react'

export interface FieldNote {
  text: string
  tone: 'error' | 'warning' | 'hint'
  testId?: string
}

export interface TextFieldProps {
  id: string
  label: string
  value: string
  onChange(value: string): void
  inputRef?: Ref<HTMLInputElement>
  placeholder?: string
  note?: FieldNote | null
  /** Marks the input invalid even when the note is only a warning. */
  invalid?: boolean
  disabled?: boolean
}

export function TextField({ id, label, value, onChange, inputRef, placeholder, note, invalid, disabled }: TextFieldProps) {
  const noteId = `${id}-note`
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        ref={inputRef}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={invalid || note?.tone === 'error' ? true : undefined}
        aria-describedby={note ? noteId : undefined}
        disabled={disabled}
      />
      {note && (
        <p id={noteId} className={`field__${note.tone}`} data-testid={note.testId}>
          {note.text}
        </p>
      )}
    </div>
  )
}
