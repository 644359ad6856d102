/**
 * The window: saved gateways on the left; on the right the gateway editor ("Gateways") or the
 * conversation ("Session") of the selected one. Starts the bridge that feeds the stores.
 */
import { useEffect, useRef, type KeyboardEvent } from 'react'
import { startBridge } from './lib/bridge'
import { hideUrls } from './lib/safe-text'
import { useAppInfo } from './stores/app-info-store'
import { selectConnectionState, useConnections } from './stores/connections-store'
import { selectSelectedProfile, useProfiles } from './stores/profiles-store'
import { useUi, type MainTab } from './stores/ui-store'
import { describeState } from './features/connection/ConnectionStatus'
import { GatewayList } from './features/remote-config/GatewayList'
import { ProfileEditor } from './features/remote-config/ProfileEditor'
import { SessionView } from './features/session/SessionView'

const TABS: { id: MainTab; label: string }[] = [
  { id: 'gateways', label: 'Gateways' },
  { id: 'session', label: 'Session' }
]

export function App() {
  useEffect(() => startBridge(), [])
  useConnectionAnnouncements()
  const tab = useUi((s) => s.tab)
  const info = useAppInfo((s) => s.info)

  return (
    <div className="app">
      <aside className="sidebar">
        <div className="sidebar__brand">
          <span className="sidebar__title">Aether Remote</span>
          {info && <span className="note">v{info.version}</span>}
        </div>
        <GatewayList />
      </aside>
      <main className="main">
        <SecretStorageWarning />
        <Tabs current={tab} />
        <div className="main__panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
          {tab === 'gateways' ? <ProfileEditor /> : <SessionView />}
        </div>
      </main>
      <LiveRegion />
    </div>
  )
}

function Tabs({ current }: { current: MainTab }) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({})
  const setTab = useUi((s) => s.setTab)
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern); Tab moves on into the panel.
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft' && e.key !== 'Home' && e.key !== 'End') return
    e.preventDefault()
    const index = TABS.findIndex((t) => t.id === current)
    const next =
      e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : (index + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length
    const tab = TABS[next]
    if (!tab) return
    setTab(tab.id)
    refs.current[tab.id]?.focus()
  }
  return (
    <div className="tabs" role="tablist" aria-label="View" onKeyDown={onKeyDown}>
      {TABS.map((t) => (
        <button
          key={t.id}
          ref={(el) => {
            refs.current[t.id] = el
          }}
          type="button"
          role="tab"
          id={`tab-${t.id}`}
          data-testid={`tab-${t.id}`}
          aria-selected={current === t.id}
          aria-controls={`panel-${t.id}`}
          tabIndex={current === t.id ? 0 : -1}
          className="tabs__tab"
          onClick={() => setTab(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  )
}

function SecretStorageWarning() {
  const storage = useAppInfo((s) => s.info?.secretStorage)
  if (storage?.kind !== 'memory') return null
  return (
    <p className="inline-alert" data-testid="secret-storage-warning">
      Secrets are kept in memory only and are forgotten when the app quits{storage.warning ? `: ${hideUrls(storage.warning)}` : '.'}
    </p>
  )
}

/** Says connection changes of the selected gateway out loud (for screen readers). */
function useConnectionAnnouncements() {
  const profile = useProfiles(selectSelectedProfile)
  const state = useConnections(selectConnectionState(profile?.id))
  const announce = useUi((s) => s.announce)
  const previous = useRef<string>(undefined)
  const line = profile ? `${profile.name}: ${describeState(state)}` : undefined
  useEffect(() => {
    // Only changes are news; the first state seen for a profile is just where it is.
    if (line && previous.current && previous.current !== line && previous.current.startsWith(`${profile?.name}:`)) announce(hideUrls(line))
    previous.current = line
  }, [line, announce, profile?.name])
}

function LiveRegion() {
  const announcement = useUi((s) => s.announcement)
  return (
    <div className="visually-hidden" role="status" aria-live="polite" data-testid="live-status">
      {announcement}
    </div>
  )
}
