/**
 * The conversation with the selected gateway's agent: connection status, the session picker,
 * the messages (history loaded when the session opens, the reply streaming in) and the composer.
 */
import { useEffect } from 'react'
import type { ConnectionState } from '../../../../shared/connection-state'
import { assertNever } from '../../../../shared/connection-state'
import type { ProfileView } from '../../../../shared/ipc-contract'
import { Spinner } from '../../components/Spinner'
import { connectProfile, disconnectProfile } from '../../lib/bridge'
import { hideUrls } from '../../lib/safe-text'
import { selectConnectionState, useConnections } from '../../stores/connections-store'
import { selectSelectedProfile, useProfiles } from '../../stores/profiles-store'
import { EMPTY_THREAD, threadKey, useSession } from '../../stores/session-store'
import { ConnectionStatus } from '../connection/ConnectionStatus'
import { Composer } from './Composer'
import { MessageList } from './MessageList'
import { SessionSwitcher } from './SessionSwitcher'

export function SessionView() {
  const profile = useProfiles(selectSelectedProfile)
  if (!profile) {
    return (
      <div className="empty-state" data-testid="session-empty">
        <p>Select a saved gateway in the list to open its session.</p>
      </div>
    )
  }
  return <SessionPane key={profile.id} profile={profile} />
}

function SessionPane({ profile }: { profile: ProfileView }) {
  const state = useConnections(selectConnectionState(profile.id))
  const pending = useConnections((s) => s.pending[profile.id])
  const sessionKey = useSession((s) => s.currentKey[profile.id]) ?? profile.sessionKey
  const thread = useSession((s) => s.threads[threadKey(profile.id, sessionKey)]) ?? EMPTY_THREAD
  const list = useSession((s) => s.lists[profile.id])
  const session = useSession.getState()

  const ready = state.kind === 'ready'
  // A new value each time the connection becomes ready: history is (re)loaded after a reconnect too.
  const connectedAt = state.kind === 'ready' ? state.info.connectedAt : undefined
  useEffect(() => {
    if (connectedAt === undefined) return
    void useSession.getState().loadHistory(profile.id, sessionKey)
  }, [profile.id, sessionKey, connectedAt])
  useEffect(() => {
    if (connectedAt === undefined) return
    void useSession.getState().loadSessions(profile.id)
  }, [profile.id, connectedAt])

  const historyStatus = thread.history.status
  const empty =
    historyStatus === 'loading' ? (
      <Spinner label="Loading history…" testId="history-loading" />
    ) : ready || historyStatus === 'loaded' ? (
      <p>No messages yet — say hello.</p>
    ) : (
      <p>Connect to load this session's history.</p>
    )

  return (
    <div className="session" data-testid="session-view">
      <header className="session__header">
        <h2>{profile.name}</h2>
        <SessionSwitcher
          current={sessionKey}
          profileKey={profile.sessionKey}
          list={list}
          onSelect={(key) => session.selectSession(profile.id, key)}
          onRefresh={() => void session.loadSessions(profile.id)}
          canRefresh={ready}
          showErrors={ready}
        />
        <div className="button-row session__connection-actions">
          <button
            type="button"
            className="button button--primary"
            onClick={() => void connectProfile(profile.id)}
            disabled={pending !== undefined || !(state.kind === 'idle' || state.kind === 'failed' || state.kind === 'access-required')}
          >
            Connect
          </button>
          <button type="button" className="button" onClick={() => void disconnectProfile(profile.id)} disabled={pending !== undefined || state.kind === 'idle'}>
            Disconnect
          </button>
        </div>
      </header>

      <ConnectionStatus profileId={profile.id} />

      {historyStatus === 'loading' && thread.messages.length > 0 && <Spinner label="Loading history…" testId="history-loading" />}
      {/* Not ready: the banner already says why, and history loads again once it is. */}
      {ready && historyStatus === 'error' && thread.history.error && (
        <div className="inline-alert" role="alert" data-testid="history-error">
          <span>
            Could not load the history: {hideUrls(thread.history.error.title)}. {hideUrls(thread.history.error.message)}
          </span>
          <button type="button" className="button button--small" onClick={() => void session.loadHistory(profile.id, sessionKey)}>
            Try again
          </button>
        </div>
      )}

      <MessageList
        messages={thread.messages}
        empty={empty}
        onRetry={(id) => void session.retrySend(profile.id, sessionKey, id)}
        onDiscard={(id) => session.discard(profile.id, sessionKey, id)}
      />

      {thread.abortError && (
        <p className="inline-alert" role="alert">
          Could not abort: {hideUrls(thread.abortError.message)}
        </p>
      )}
      {thread.phase && thread.activeRunId && <p className="session__phase">{thread.phase}…</p>}

      <Composer
        key={`${profile.id}\u0000${sessionKey}`}
        draftKey={`${profile.id}\u0000${sessionKey}`}
        disabledReason={composerBlocker(state)}
        onSend={(text) => void session.send(profile.id, sessionKey, text)}
        running={thread.activeRunId !== undefined}
        aborting={thread.aborting}
        onAbort={() => void session.abort(profile.id, sessionKey)}
      />
    </div>
  )
}

/** Why a message cannot be sent in this state (undefined when it can). */
export function composerBlocker(state: ConnectionState): string | undefined {
  switch (state.kind) {
    case 'ready':
      return undefined
    case 'idle':
      return 'Not connected. Connect to send messages.'
    case 'connecting':
    case 'handshaking':
      return 'Connecting…'
    case 'pairing-required':
      return 'Waiting for this device to be approved on the gateway.'
    case 'access-required':
      return 'Cloudflare Access needs credentials before messages can be sent.'
    case 'reconnecting':
      return 'The connection dropped; reconnecting…'
    case 'failed':
      return `Not connected: ${hideUrls(state.error.title)}.`
    default:
      return assertNever(state)
  }
}
