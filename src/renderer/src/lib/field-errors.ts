/**
 * Puts a save error next to the field it is about.
 *
 * The main process names the field at the start of each message ("url: must start with…",
 * "access.clientId: looks like a Client Secret…"; more than one problem also arrives as
 * details.notes in the same form); a message naming no known field stays a form-level error.
 */
import type { AppError } from '../../../shared/errors'

export type EditorField = 'name' | 'url' | 'sessionKey' | 'caFile' | 'clientId' | 'aud'

export type FieldErrors = Partial<Record<EditorField | 'form', string>>

const FIELD_BY_PATH: Record<string, EditorField> = {
  name: 'name',
  url: 'url',
  sessionKey: 'sessionKey',
  'options.caFile': 'caFile',
  'access.clientId': 'clientId',
  'access.aud': 'aud'
}

export function fieldErrorsFrom(error: AppError): FieldErrors {
  const out: FieldErrors = {}
  const lines = [error.message, ...(error.details.notes ?? [])]
  for (const line of lines) {
    const match = /^([\w.]+):\s*(.+)$/s.exec(line)
    const field = match ? FIELD_BY_PATH[match[1] ?? ''] : undefined
    if (field && match) out[field] ??= sentence(match[2] ?? '')
  }
  if (error.code === 'INVALID_URL' && !out.url) out.url = error.message
  if (Object.keys(out).length === 0) out.form = `${error.title}: ${error.message}`
  return out
}

function sentence(text: string): string {
  const t = text.trim()
  const capital = t.charAt(0).toUpperCase() + t.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}
