/** The saved gateways, in the sidebar; selecting one opens it in the editor and the session view. */
import { useState } from 'react'
import type { ConnectionKind } from '../../../../shared/connection-state'
import { Spinner } from '../../components/Spinner'
import { hideUrls } from '../../lib/safe-text'
import { useConnections } from '../../stores/connections-store'
import { LOCAL_GATEWAY_DRAFT, NEW_PROFILE, useProfiles } from '../../stores/profiles-store'
import { useUi } from '../../stores/ui-store'

const KIND_LABEL: Record<ConnectionKind, string> = {
  idle: 'not connected',
  connecting: 'connecting',
  handshaking: 'signing in',
  ready: 'connected',
  'pairing-required': 'waiting for approval',
  'access-required': 'Access sign-in needed',
  reconnecting: 'reconnecting',
  failed: 'failed'
}

export function GatewayList() {
  const profiles = useProfiles((s) => s.profiles)
  const selectedId = useProfiles((s) => s.selectedId)
  const status = useProfiles((s) => s.status)
  const loadError = useProfiles((s) => s.loadError)
  const snapshots = useConnections((s) => s.snapshots)
  const [creating, setCreating] = useState(false)
  const [createError, setCreateError] = useState<string>()

  const addNew = () => {
    useProfiles.getState().select(NEW_PROFILE)
    useUi.getState().setTab('gateways')
  }

  const addLocal = async () => {
    setCreating(true)
    const created = await useProfiles.getState().createLocalGateway()
    setCreating(false)
    setCreateError(created.ok ? undefined : `${created.error.title}: ${created.error.message}`)
  }

  return (
    <nav className="gateway-list" aria-labelledby="gateway-list-heading">
      <h2 id="gateway-list-heading" className="sidebar__heading">
        Gateways
      </h2>
      {status === 'loading' && profiles.length === 0 && <Spinner label="Loading gateways…" testId="profiles-loading" />}
      {status === 'error' && loadError && (
        <div className="inline-alert" role="alert" data-testid="profiles-error">
          <p>
            <strong>{hideUrls(loadError.title)}.</strong> {hideUrls(loadError.message)}
          </p>
          <button type="button" className="button button--small" onClick={() => void useProfiles.getState().load()}>
            Try again
          </button>
        </div>
      )}
      {status !== 'loading' && profiles.length === 0 && (
        <div className="empty-state empty-state--compact" data-testid="profiles-empty">
          <p>No saved gateways yet.</p>
          <button type="button" className="button button--small" onClick={() => void addLocal()} disabled={creating}>
            Add {LOCAL_GATEWAY_DRAFT.name}
          </button>
          <p className="note">{LOCAL_GATEWAY_DRAFT.url}</p>
          {createError && <p className="field__error">{createError}</p>}
        </div>
      )}
      {status !== 'idle' && (
        // Rendered even when empty: it is what says "the list has been fetched".
        <ul className="gateway-list__items" data-testid="profile-list" data-count={profiles.length}>
          {profiles.map((p) => {
            const kind = snapshots[p.id]?.state.kind ?? 'idle'
            const selected = p.id === selectedId
            return (
              <li key={p.id}>
                <button
                  type="button"
                  className={`gateway-item${selected ? ' gateway-item--selected' : ''}`}
                  aria-current={selected ? 'true' : undefined}
                  data-testid="profile-item"
                  data-profile-id={p.id}
                  data-state={kind}
                  onClick={() => useProfiles.getState().select(p.id)}
                >
                  <span className={`status-dot status-dot--${kind}`} aria-hidden="true" />
                  <span className="gateway-item__text">
                    <span className="gateway-item__name">{p.name}</span>
                    <span className="gateway-item__meta">
                      {KIND_LABEL[kind]} · {hostOf(p.url)}
                    </span>
                  </span>
                </button>
              </li>
            )
          })}
        </ul>
      )}
      <button type="button" className="button gateway-list__add" onClick={addNew} aria-current={selectedId === NEW_PROFILE ? 'true' : undefined}>
        Add gateway
      </button>
    </nav>
  )
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}
