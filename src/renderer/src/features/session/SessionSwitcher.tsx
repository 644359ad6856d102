/** Picks the session (conversation) to open on the gateway: its sessions plus the current key. */
import { useId } from 'react'
import type { SessionSummary } from '../../../../shared/ipc-contract'
import { Spinner } from '../../components/Spinner'
import type { SessionListState } from '../../stores/session-store'

export interface SessionSwitcherProps {
  current: string
  /** The profile's own session key, always offered. */
  profileKey: string
  list?: SessionListState
  onSelect(key: string): void
  onRefresh(): void
  canRefresh: boolean
  /** Off while not connected: the connection banner already says what is wrong. */
  showErrors: boolean
}

export function SessionSwitcher({ current, profileKey, list, onSelect, onRefresh, canRefresh, showErrors }: SessionSwitcherProps) {
  const selectId = useId()
  const options = sessionOptions(current, profileKey, list?.items ?? [])
  return (
    <div className="session-switcher">
      <label htmlFor={selectId}>Session</label>
      <select id={selectId} value={current} onChange={(e) => onSelect(e.target.value)} data-testid="session-select">
        {options.map((o) => (
          <option key={o.key} value={o.key}>
            {o.label}
          </option>
        ))}
      </select>
      <button type="button" className="button button--small" aria-label="Refresh sessions" onClick={onRefresh} disabled={!canRefresh || list?.status === 'loading'}>
        Refresh
      </button>
      {list?.status === 'loading' && <Spinner label="Loading sessions…" />}
      {showErrors && list?.status === 'error' && list.error && (
        <span className="field__error" data-testid="sessions-error">
          {list.error.title}
        </span>
      )}
    </div>
  )
}

function sessionOptions(current: string, profileKey: string, items: SessionSummary[]): { key: string; label: string }[] {
  // The open session and the profile's own come first; the gateway's titles label them when known.
  const out = new Map<string, string>([
    [current, current],
    [profileKey, profileKey]
  ])
  for (const item of items) out.set(item.key, item.title && item.title !== item.key ? `${item.title} (${item.key})` : item.key)
  return [...out].map(([key, label]) => ({ key, label }))
}
