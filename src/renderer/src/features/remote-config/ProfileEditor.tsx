/**
 * The gateway editor: name, address, token, session key, CA file and Cloudflare Access, with
 * Save, Connect, Disconnect and Diagnose (the connection doctor's report opens above the form).
 *
 * Non-secret fields are kept as a draft in the UI store (so edits survive switching views);
 * the two secrets stay in their own uncontrolled inputs and are sent to the keychain on Save.
 */
import { useEffect, useId, useMemo, useRef, useState } from 'react'
import type { ProfileView, SecretKind } from '../../../../shared/ipc-contract'
import { pastedTokenProblem } from '../../../../shared/pasted-token'
import type { ConnectionKind } from '../../../../shared/connection-state'
import { connectProfile, disconnectProfile } from '../../lib/bridge'
import { registerTypedSecretsProbe } from '../../lib/gateway-link'
import { TextField } from './TextField'
import { fieldErrorsFrom, type EditorField, type FieldErrors } from '../../lib/field-errors'
import { checkGatewayUrl, looksSecure } from '../../lib/url-check'
import { selectConnectionState, useConnections } from '../../stores/connections-store'
import { NEW_PROFILE, selectSelectedProfile, useProfiles } from '../../stores/profiles-store'
import { useUi, type EditorDraft, type FocusField } from '../../stores/ui-store'
import { useDoctor } from '../../stores/doctor-store'
import { ConnectionStatus } from '../connection/ConnectionStatus'
import { DiagnoseButton } from '../doctor/DiagnoseButton'
import { DoctorReportView, EDITOR_DIAGNOSE_ID } from '../doctor/DoctorReportView'
import { AccessSection } from './AccessSection'
import { GatewayLinkNotice } from './GatewayLinkNotice'
import { initialDraft, sameDraft, toProfileDraft, validateDraft } from './profile-draft'
import { SecretField, type SecretFieldHandle } from './SecretField'

/** States in which Connect makes sense (elsewhere the main process is already on it). */
const CONNECTABLE: ReadonlySet<ConnectionKind> = new Set(['idle', 'failed', 'access-required'])

/** States in which the main process is trying to connect: see `save`. */
const REDIAL_AFTER_SAVE: ReadonlySet<ConnectionKind> = new Set(['connecting', 'handshaking', 'failed', 'access-required', 'pairing-required', 'reconnecting'])

export function ProfileEditor() {
  const selectedId = useProfiles((s) => s.selectedId)
  const profile = useProfiles(selectSelectedProfile)
  // A new gateway's form keeps its React identity when it is first saved (its selection then
  // changes from NEW_PROFILE to the new id), so secrets typed into it are not lost mid-save.
  const adopted = useRef(new Map<string, string>())
  const [newFormKey, setNewFormKey] = useState(0)
  // A gateway link opens a fresh form: nothing typed into the previous new-gateway form (a
  // secret meant for another address) may carry over to the linked one.
  const linkNonce = useUi((s) => s.newEditorNonce)
  const reportFor = useDoctor((s) => s.open?.profileId)

  if (selectedId === null) {
    return (
      <>
        <GatewayLinkNotice />
        <div className="empty-state" data-testid="editor-empty">
          <p>Select a gateway in the list, or add one.</p>
        </div>
      </>
    )
  }
  if (selectedId !== NEW_PROFILE && !profile) return <GatewayLinkNotice />

  const newKey = `new-${newFormKey}.${linkNonce}`
  const formKey = selectedId === NEW_PROFILE ? newKey : (adopted.current.get(selectedId) ?? selectedId)
  const onCreated = (id: string) => {
    adopted.current.set(id, newKey)
    setNewFormKey((n) => n + 1)
  }
  return (
    <>
      <GatewayLinkNotice />
      {profile && reportFor === profile.id && <DoctorReportView key={`doctor-${profile.id}`} profile={profile} />}
      <EditorForm key={formKey} profile={profile} onCreated={onCreated} />
    </>
  )
}

interface EditorFormProps {
  profile?: ProfileView
  onCreated(id: string): void
}

function EditorForm({ profile, onCreated }: EditorFormProps) {
  const draftKey = profile?.id ?? NEW_PROFILE
  const storedDraft = useUi((s) => s.drafts[draftKey])
  const setDraft = useUi((s) => s.setDraft)
  const announce = useUi((s) => s.announce)
  const base = useMemo(() => initialDraft(profile), [profile])
  const draft = storedDraft ?? base
  const dirty = storedDraft !== undefined && !sameDraft(storedDraft, base)
  const state = useConnections(selectConnectionState(profile?.id))
  const pending = useConnections((s) => (profile ? s.pending[profile.id] : undefined))

  const [errors, setErrors] = useState<FieldErrors>({})
  const [busy, setBusy] = useState<'saving' | 'removing'>()
  const [notice, setNotice] = useState<string>()
  const [confirmRemove, setConfirmRemove] = useState(false)
  const [accessToggled, setAccessToggled] = useState<boolean>()
  const [focusField, setFocusField] = useState<FocusField | EditorField>()

  const nameRef = useRef<HTMLInputElement>(null)
  const urlRef = useRef<HTMLInputElement>(null)
  const sessionKeyRef = useRef<HTMLInputElement>(null)
  const caFileRef = useRef<HTMLInputElement>(null)
  const clientIdRef = useRef<HTMLInputElement>(null)
  const tokenRef = useRef<SecretFieldHandle>(null)
  const clientSecretRef = useRef<SecretFieldHandle>(null)
  const statusRef = useRef<HTMLDivElement>(null)

  const headingId = useId()
  const urlNoteId = useId()
  const urlCheck = checkGatewayUrl(draft.url)
  const accessExpanded = accessToggled ?? (looksSecure(draft.url) || draft.accessMode !== 'none')

  const update = (patch: Partial<EditorDraft>) => {
    setDraft(draftKey, { ...draft, ...patch })
    setNotice(undefined)
    const touched = Object.keys(patch) as (keyof EditorDraft)[]
    if (touched.some((k) => errors[k as EditorField] || errors.form)) {
      setErrors((e) => {
        const next = { ...e, form: undefined }
        for (const k of touched) delete next[k as EditorField]
        return next
      })
    }
  }

  // Another panel (an error's next step) asked to show a field of this profile.
  const focusRequest = useUi((s) => s.focusRequest)
  const consumeFocusRequest = useUi((s) => s.consumeFocusRequest)
  useEffect(() => {
    if (!focusRequest || !profile || focusRequest.profileId !== profile.id) return
    if (focusRequest.accessMode && draft.accessMode !== focusRequest.accessMode) update({ accessMode: focusRequest.accessMode })
    if (focusRequest.field === 'clientId' || focusRequest.field === 'clientSecret') setAccessToggled(true)
    setFocusField(focusRequest.field)
    consumeFocusRequest(focusRequest.nonce)
    // Deliberately keyed on the request only: it is handled once, then consumed.
  }, [focusRequest, profile])

  // Focus once the field exists (switching the Access mode renders the Client ID field first).
  useEffect(() => {
    if (!focusField) return
    const handles: Record<FocusField | EditorField, (() => void) | undefined> = {
      name: nameRef.current ? () => nameRef.current?.focus() : undefined,
      url: urlRef.current ? () => urlRef.current?.focus() : undefined,
      sessionKey: sessionKeyRef.current ? () => sessionKeyRef.current?.focus() : undefined,
      caFile: caFileRef.current ? () => caFileRef.current?.focus() : undefined,
      clientId: clientIdRef.current ? () => clientIdRef.current?.focus() : undefined,
      aud: undefined,
      gatewayToken: tokenRef.current ? () => tokenRef.current?.focus() : undefined,
      clientSecret: clientSecretRef.current ? () => clientSecretRef.current?.focus() : undefined
    }
    const focus = handles[focusField]
    if (focus) {
      focus()
      setFocusField(undefined)
    } else if (focusField === 'aud') {
      setFocusField(undefined)
    }
  }, [focusField, draft.accessMode, accessExpanded])

  const pendingSecrets = (): { kind: SecretKind; value: string; field: SecretFieldHandle }[] => {
    const out: { kind: SecretKind; value: string; field: SecretFieldHandle }[] = []
    const token = tokenRef.current
    const tokenValue = token?.pendingValue()
    if (token && tokenValue) out.push({ kind: 'gatewayToken', value: tokenValue, field: token })
    const secret = clientSecretRef.current
    const secretValue = draft.accessMode === 'service-token' ? secret?.pendingValue() : null
    if (secret && secretValue) out.push({ kind: 'cfClientSecret', value: secretValue, field: secret })
    return out
  }

  /**
   * Save the profile, then any typed secrets; the saved profile, or null when something failed.
   *
   * While the main process is trying to connect (failed, Access, pairing, retrying...), every
   * saved change makes it dial again at once, and a change that lands while a dial is under way
   * is ignored by it: saving the profile and then the token would dial with the old token. So a
   * profile that is trying to connect is stopped first and dialled again once everything is
   * stored; with `connect`, it is dialled in any case.
   */
  const save = async ({ connect = false } = {}): Promise<ProfileView | null> => {
    const local = validateDraft(draft)
    if (Object.keys(local).length > 0) {
      setErrors(local)
      setFocusField(firstField(local))
      return null
    }
    // Read the secrets now: the values stay in these locals only until they are handed over.
    const secrets = pendingSecrets()
    setBusy('saving')
    setErrors({})
    setNotice(undefined)
    const redial = profile !== undefined && REDIAL_AFTER_SAVE.has(state.kind)
    if (profile && redial) await disconnectProfile(profile.id)
    const result = await useProfiles.getState().save(toProfileDraft(draft, profile))
    if (!result.ok) {
      const fieldErrors = fieldErrorsFrom(result.error)
      setErrors(fieldErrors)
      setFocusField(firstField(fieldErrors))
      setBusy(undefined)
      return null
    }
    const saved = result.value
    setDraft(draftKey, undefined)
    if (!profile) {
      onCreated(saved.id)
      useProfiles.getState().select(saved.id)
    }
    let secretsStored = true
    for (const secret of secrets) {
      const stored = await useProfiles.getState().setSecret(saved.id, secret.kind, secret.value)
      if (stored.ok) secret.field.reset()
      else {
        secret.field.showError(`${stored.error.title}: ${stored.error.message}`)
        secretsStored = false
      }
    }
    setBusy(undefined)
    const message = secretsStored ? 'Saved.' : 'Saved, but a secret could not be stored.'
    setNotice(message)
    announce(`${saved.name}: ${message}`)
    if (!secretsStored) return null
    if (connect || redial) await connectProfile(saved.id)
    return useProfiles.getState().profiles.find((p) => p.id === saved.id) ?? saved
  }

  const connect = async () => {
    // The result appears in the status banner at the top of the form: bring it into view.
    statusRef.current?.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' })
    if (!profile || dirty || pendingSecrets().length > 0) await save({ connect: true })
    else await connectProfile(profile.id)
  }

  const clearSecret = async (kind: SecretKind): Promise<string | undefined> => {
    if (!profile) return undefined
    const cleared = await useProfiles.getState().clearSecret(profile.id, kind)
    return cleared.ok ? undefined : `${cleared.error.title}: ${cleared.error.message}`
  }

  const remove = async () => {
    if (!profile) return
    setBusy('removing')
    const removed = await useProfiles.getState().remove(profile.id)
    setBusy(undefined)
    if (!removed.ok) {
      setConfirmRemove(false)
      setErrors({ form: `${removed.error.title}: ${removed.error.message}` })
    } else {
      setDraft(draftKey, undefined)
      announce(`${profile.name} removed.`)
    }
  }

  const cancelNew = () => {
    setDraft(NEW_PROFILE, undefined)
    const first = useProfiles.getState().profiles[0]
    useProfiles.getState().select(first?.id ?? null)
  }

  // A gateway link asks before it replaces secrets typed here (lib/gateway-link.ts).
  const accessMode = draft.accessMode
  useEffect(
    () =>
      registerTypedSecretsProbe(
        () => Boolean(tokenRef.current?.pendingValue()) || (accessMode === 'service-token' && Boolean(clientSecretRef.current?.pendingValue()))
      ),
    [accessMode]
  )

  const disabled = busy !== undefined
  const canConnect = !disabled && pending === undefined && CONNECTABLE.has(state.kind)
  const canDisconnect = !disabled && profile !== undefined && pending === undefined && state.kind !== 'idle'

  return (
    <form
      className="editor"
      aria-labelledby={headingId}
      data-testid="profile-editor"
      noValidate
      onSubmit={(e) => {
        e.preventDefault()
        void save()
      }}
    >
      <h2 id={headingId}>{profile ? profile.name : 'New gateway'}</h2>
      {profile && (
        <div ref={statusRef} className="editor__status">
          <ConnectionStatus profileId={profile.id} onOpenSession={() => useUi.getState().setTab('session')} />
        </div>
      )}

      <TextField
        id="profile-name"
        label="Name"
        inputRef={nameRef}
        value={draft.name}
        onChange={(name) => update({ name })}
        note={errors.name ? { text: errors.name, tone: 'error' } : null}
        disabled={disabled}
      />

      <div className="field">
        <label htmlFor="profile-url">Gateway URL</label>
        <input
          id="profile-url"
          ref={urlRef}
          value={draft.url}
          onChange={(e) => update({ url: e.target.value })}
          placeholder="wss://gateway.example.com"
          inputMode="url"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={errors.url || urlCheck.kind === 'invalid' || urlCheck.kind === 'fixable' ? true : undefined}
          aria-describedby={urlNoteId}
          disabled={disabled}
        />
        <div id={urlNoteId}>
          <UrlFeedback check={urlCheck} saveError={errors.url} onFix={(fixed) => update({ url: fixed })} disabled={disabled} />
        </div>
      </div>

      <SecretField
        ref={tokenRef}
        label="Gateway token"
        shortName="token"
        inputId="profile-gateway-token"
        status={profile?.secrets.gatewayToken}
        revealable
        description="The gateway's auth token (gateway.auth.token on the gateway host). Stored in the system keychain when you save."
        inspect={pastedTokenProblem}
        onClear={profile ? () => clearSecret('gatewayToken') : undefined}
        disabled={disabled}
      />

      <TextField
        id="profile-session-key"
        label="Session key"
        inputRef={sessionKeyRef}
        value={draft.sessionKey}
        onChange={(sessionKey) => update({ sessionKey })}
        placeholder="agent:main:main"
        note={errors.sessionKey ? { text: errors.sessionKey, tone: 'error' } : null}
        disabled={disabled}
      />

      <TextField
        id="profile-ca-file"
        label="CA file"
        inputRef={caFileRef}
        value={draft.caFile}
        onChange={(caFile) => update({ caFile })}
        placeholder="/path/to/ca.pem (optional)"
        note={
          errors.caFile
            ? { text: errors.caFile, tone: 'error' }
            : { text: 'A PEM file of extra CA certificates to trust for this gateway, on top of the system ones.', tone: 'hint' }
        }
        disabled={disabled}
      />

      <AccessSection
        draft={draft}
        update={update}
        errors={errors}
        profile={profile}
        expanded={accessExpanded}
        onToggle={() => setAccessToggled(!accessExpanded)}
        clientIdRef={clientIdRef}
        clientSecretRef={clientSecretRef}
        onClearSecret={clearSecret}
        disabled={disabled}
      />

      {errors.form && (
        <p className="inline-alert" role="alert" data-testid="form-error">
          {errors.form}
        </p>
      )}

      <div className="button-row editor__actions" data-testid="editor-actions">
        <button type="submit" className="button" disabled={disabled}>
          Save
        </button>
        <button type="button" className="button button--primary" onClick={() => void connect()} disabled={!canConnect}>
          Connect
        </button>
        <button type="button" className="button" onClick={() => profile && void disconnectProfile(profile.id)} disabled={!canDisconnect}>
          Disconnect
        </button>
        {/* The doctor checks the saved gateway (its stored credentials), as Connect would use it. */}
        {profile && <DiagnoseButton profileId={profile.id} id={EDITOR_DIAGNOSE_ID} />}
        {busy === 'saving' && <span className="note">Saving…</span>}
        {notice && (
          <span className="note" data-testid="save-status">
            {notice}
          </span>
        )}
        {dirty && !notice && <span className="note">Unsaved changes</span>}
        <span className="button-row__spacer" />
        {!profile && (
          <button type="button" className="button" onClick={cancelNew}>
            Cancel
          </button>
        )}
        {profile &&
          (confirmRemove ? (
            <>
              <span className="note">Remove “{profile.name}” and its stored secrets?</span>
              <button type="button" className="button button--danger" onClick={() => void remove()} disabled={disabled}>
                Confirm remove
              </button>
              <button type="button" className="button" onClick={() => setConfirmRemove(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" className="button button--danger-quiet" onClick={() => setConfirmRemove(true)} disabled={disabled}>
              Remove gateway
            </button>
          ))}
      </div>
    </form>
  )
}

function UrlFeedback({
  check,
  saveError,
  onFix,
  disabled
}: {
  check: ReturnType<typeof checkGatewayUrl>
  saveError?: string
  onFix(fixed: string): void
  disabled: boolean
}) {
  if (check.kind === 'fixable') {
    return (
      <p className="field__warning" data-testid="url-error">
        {check.message}{' '}
        <button type="button" className="button button--small" data-testid="url-fix" onClick={() => onFix(check.fixed)} disabled={disabled}>
          Use {check.fixed}
        </button>
      </p>
    )
  }
  if (check.kind === 'invalid') {
    return (
      <p className="field__error" data-testid="url-error">
        {check.message}
      </p>
    )
  }
  if (saveError) {
    return (
      <p className="field__error" data-testid="url-error">
        {saveError}
      </p>
    )
  }
  if (check.kind === 'ok') {
    const where = `${check.host}:${check.port}`
    if (!check.secure && !check.loopback) {
      return (
        <p className="field__warning" data-testid="url-ok">
          Plain ws:// to {where} is not encrypted; use wss:// for a remote gateway.
        </p>
      )
    }
    return (
      <p className="field__hint" data-testid="url-ok">
        {check.secure ? `TLS (wss://) to ${where}.` : `Plain WebSocket to ${where} on this machine.`}
      </p>
    )
  }
  return <p className="field__hint">For example wss://gateway.example.com or ws://127.0.0.1:18789.</p>
}

const FIELD_ORDER: EditorField[] = ['name', 'url', 'sessionKey', 'caFile', 'clientId', 'aud']

function firstField(errors: FieldErrors): EditorField | undefined {
  return FIELD_ORDER.find((f) => errors[f])
}
