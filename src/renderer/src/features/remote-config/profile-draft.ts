/**
 * The gateway editor's form model: from a saved profile to the fields as typed, the checks made
 * before anything is sent, and back to the ProfileDraft the main process saves.
 */
import type { ProfileDraft, ProfileView } from '../../../../shared/ipc-contract'
import { DEFAULT_SESSION_KEY } from '../../../../shared/profile'
import type { FieldErrors } from '../../lib/field-errors'
import { checkGatewayUrl } from '../../lib/url-check'
import type { EditorDraft } from '../../stores/ui-store'

export function initialDraft(profile: ProfileView | undefined): EditorDraft {
  return {
    name: profile?.name ?? '',
    url: profile?.url ?? '',
    sessionKey: profile?.sessionKey ?? DEFAULT_SESSION_KEY,
    caFile: profile?.options.caFile ?? '',
    accessMode: profile?.access.mode ?? 'none',
    clientId: profile?.access.clientId ?? '',
    aud: profile?.access.aud ?? ''
  }
}

export function sameDraft(a: EditorDraft, b: EditorDraft): boolean {
  return (Object.keys(a) as (keyof EditorDraft)[]).every((k) => a[k] === b[k])
}

export function toProfileDraft(d: EditorDraft, profile: ProfileView | undefined): ProfileDraft {
  const clientId = d.clientId.trim()
  const aud = d.aud.trim()
  const caFile = d.caFile.trim()
  const sessionKey = d.sessionKey.trim()
  const connectTimeoutMs = profile?.options.connectTimeoutMs
  return {
    ...(profile ? { id: profile.id } : {}),
    name: d.name.trim(),
    url: d.url.trim(),
    // Blank means "the default": the main process fills in agent:main:main.
    ...(sessionKey ? { sessionKey } : {}),
    // The Client ID is kept when the mode changes, so switching back does not lose it.
    access: { mode: d.accessMode, ...(clientId ? { clientId } : {}), ...(aud ? { aud } : {}) },
    options: { ...(caFile ? { caFile } : {}), ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}) }
  }
}

/** Client IDs end in ".access" (older ones in ".access.<zone>"). */
const CLIENT_ID_SUFFIX = /\.access(\.|$)/i
/** What a Client Secret looks like; pasted into the Client ID field it would be saved in plain text. */
const LOOKS_LIKE_SECRET = /^([0-9a-f]{64}|cfast_\w+)$/i

export type ClientIdProblem = { level: 'warning' | 'error'; message: string }

export function clientIdProblem(value: string): ClientIdProblem | undefined {
  const id = value.trim()
  if (id === '') return undefined
  if (LOOKS_LIKE_SECRET.test(id)) {
    return { level: 'error', message: 'This looks like a Client Secret, not a Client ID. Put it in the Client Secret field, which is stored in the keychain.' }
  }
  if (/\s/.test(id)) return { level: 'error', message: 'The Client ID is one value without spaces.' }
  if (!CLIENT_ID_SUFFIX.test(id)) {
    return { level: 'warning', message: 'Client IDs end in ".access" (older ones in ".access.<zone>"). Copy the whole Client ID as Cloudflare issued it.' }
  }
  return undefined
}

/** Problems found before saving; the main process checks everything again. */
export function validateDraft(d: EditorDraft): FieldErrors {
  const errors: FieldErrors = {}
  if (d.name.trim() === '') errors.name = 'Enter a name for this gateway.'
  const url = checkGatewayUrl(d.url)
  if (url.kind === 'empty') errors.url = 'Enter the gateway address, for example wss://gateway.example.com or ws://127.0.0.1:18789.'
  else if (url.kind === 'invalid') errors.url = url.message
  else if (url.kind === 'fixable') errors.url = `${url.message} Use the suggested address.`
  const clientId = clientIdProblem(d.clientId)
  if (d.accessMode === 'service-token' && clientId?.level === 'error') errors.clientId = clientId.message
  const aud = d.aud.trim()
  if (d.accessMode !== 'none' && aud !== '' && !/^[0-9a-f]{64}$/i.test(aud)) {
    errors.aud = 'The application AUD tag is 64 hexadecimal characters.'
  }
  return errors
}
