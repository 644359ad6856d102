/**
 * The Cloudflare Access part of the editor: how the app gets past Access for this gateway.
 * Opens by itself for wss:// addresses (where Access can sit); stays folded for ws://.
 */
import { useId, type Ref, type RefObject } from 'react'
import type { ProfileView } from '../../../../shared/ipc-contract'
import type { AccessMode } from '../../../../shared/profile'
import type { FieldErrors } from '../../lib/field-errors'
import { selectSignInRunning, useAccess } from '../../stores/access-store'
import { AccessSignIn } from '../access/AccessSignIn'
import { TextField } from './TextField'
import type { EditorDraft } from '../../stores/ui-store'
import { clientIdProblem } from './profile-draft'
import { SecretField, type SecretFieldHandle } from './SecretField'

const MODES: { value: AccessMode; label: string; description: string }[] = [
  { value: 'none', label: 'None', description: 'No Cloudflare Access in front of this gateway.' },
  { value: 'service-token', label: 'Service token', description: 'A Client ID and Client Secret created in Zero Trust.' },
  { value: 'email-otp', label: 'Email sign-in', description: 'Sign in on the Cloudflare Access login page: a one-time code sent by email, or your identity provider.' }
]

export interface AccessSectionProps {
  draft: EditorDraft
  update(patch: Partial<EditorDraft>): void
  errors: FieldErrors
  profile?: ProfileView
  expanded: boolean
  onToggle(): void
  clientIdRef: RefObject<HTMLInputElement | null>
  clientSecretRef: Ref<SecretFieldHandle>
  onClearSecret(kind: 'cfClientSecret' | 'cfAppToken'): Promise<string | undefined>
  disabled: boolean
}

export function AccessSection(props: AccessSectionProps) {
  const { draft, update, errors, profile, expanded, onToggle, clientIdRef, clientSecretRef, onClearSecret, disabled } = props
  const bodyId = useId()
  const audNoteId = useId()
  const signInRunning = useAccess(selectSignInRunning(profile?.id))
  const problem = clientIdProblem(draft.clientId)
  const clientIdMessage = errors.clientId ?? problem?.message
  const modeLabel = MODES.find((m) => m.value === draft.accessMode)?.label ?? draft.accessMode

  return (
    <section className="access-section" data-testid="access-section" data-expanded={expanded ? 'true' : 'false'}>
      <h3 className="access-section__heading">
        <button type="button" className="section-toggle" aria-expanded={expanded} aria-controls={bodyId} onClick={onToggle}>
          <span className="section-toggle__chevron" aria-hidden="true">
            {expanded ? '▾' : '▸'}
          </span>
          Cloudflare Access
          <span className="section-toggle__summary">{modeLabel}</span>
        </button>
      </h3>
      <div id={bodyId} hidden={!expanded} className="access-section__body">
        <fieldset className="radio-group" disabled={disabled}>
          <legend>Access mode</legend>
          {MODES.map((mode) => (
            <label key={mode.value} className="radio">
              <input
                type="radio"
                name="access-mode"
                value={mode.value}
                checked={draft.accessMode === mode.value}
                onChange={() => update({ accessMode: mode.value })}
                data-testid={`access-mode-${mode.value}`}
              />
              <span>
                {mode.label}
                <span className="radio__description">{mode.description}</span>
              </span>
            </label>
          ))}
        </fieldset>

        {draft.accessMode === 'service-token' && (
          <>
            <TextField
              id="profile-client-id"
              label="Client ID"
              inputRef={clientIdRef}
              value={draft.clientId}
              onChange={(clientId) => update({ clientId })}
              placeholder="0123456789abcdef0123456789abcdef.access"
              invalid={Boolean(errors.clientId) || problem?.level === 'error'}
              note={
                clientIdMessage
                  ? { text: clientIdMessage, tone: errors.clientId || problem?.level === 'error' ? 'error' : 'warning', testId: 'client-id-warning' }
                  : null
              }
              disabled={disabled}
            />
            <SecretField
              ref={clientSecretRef}
              label="Client Secret"
              shortName="secret"
              inputId="profile-client-secret"
              status={profile?.secrets.cfClientSecret}
              revealable
              description="Stored in the system keychain when you save; it is never shown again."
              onClear={profile ? () => onClearSecret('cfClientSecret') : undefined}
              disabled={disabled}
            />
          </>
        )}

        {draft.accessMode === 'email-otp' && (
          <div className="field">
            <AccessSignIn profile={profile} draftUrl={draft.url} disabled={disabled} />
            {profile?.secrets.cfAppToken.set && (
              <p className="secret-field__status">
                <span>App token: {profile.secrets.cfAppToken.hint || 'set'}</span>
                <button type="button" className="button button--small" onClick={() => void onClearSecret('cfAppToken')} disabled={disabled || signInRunning}>
                  Clear app token
                </button>
              </p>
            )}
          </div>
        )}

        {draft.accessMode !== 'none' && (
          <div className="field">
            <label htmlFor="profile-aud">Application AUD tag (optional)</label>
            <input
              id="profile-aud"
              value={draft.aud}
              onChange={(e) => update({ aud: e.target.value })}
              spellCheck={false}
              autoComplete="off"
              aria-invalid={errors.aud ? true : undefined}
              aria-describedby={audNoteId}
              disabled={disabled}
            />
            <p id={audNoteId} className={errors.aud ? 'field__error' : 'field__hint'}>
              {errors.aud ?? 'When set, a stored app token is checked against it before it is used.'}
            </p>
          </div>
        )}
      </div>
    </section>
  )
}
