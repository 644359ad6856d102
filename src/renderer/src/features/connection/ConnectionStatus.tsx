/**
 * The banner that says where a profile's connection is, one look per state kind.
 *
 * The switch is exhaustive (assertNever): a new state kind in the shared union fails the type
 * check here until it has a banner.
 */
import type { ConnectionState } from '../../../../shared/connection-state'
import { assertNever } from '../../../../shared/connection-state'
import { Spinner } from '../../components/Spinner'
import { connectProfile } from '../../lib/bridge'
import { hideUrls } from '../../lib/safe-text'
import { useNow } from '../../lib/use-now'
import { selectConnectionState, useConnections } from '../../stores/connections-store'
import { CopyCommand } from './CopyCommand'
import { approvalCommand, ErrorPanel } from './ErrorPanel'

export interface ConnectionStatusProps {
  profileId: string
  /** Offered when connected (the Gateways view sends the user on to the conversation). */
  onOpenSession?: () => void
}

export function ConnectionStatus({ profileId, onOpenSession }: ConnectionStatusProps) {
  const state = useConnections(selectConnectionState(profileId))
  const requestError = useConnections((s) => s.requestErrors[profileId])
  const connecting = useConnections((s) => s.pending[profileId] === 'connect')
  const retry = () => void connectProfile(profileId)

  return (
    <div className={`connection-status connection-status--${state.kind}`} data-testid="connection-status" data-state={state.kind}>
      <StateBody state={state} profileId={profileId} onRetry={retry} retrying={connecting} onOpenSession={onOpenSession} />
      {requestError && (
        <p className="inline-alert" data-testid="connection-request-error" role="alert">
          <strong>{hideUrls(requestError.title)}.</strong> {hideUrls(requestError.message)}
        </p>
      )}
    </div>
  )
}

interface StateBodyProps {
  state: ConnectionState
  profileId: string
  onRetry: () => void
  retrying: boolean
  onOpenSession?: () => void
}

function StateBody({ state, profileId, onRetry, retrying, onOpenSession }: StateBodyProps) {
  switch (state.kind) {
    case 'idle':
      return <p className="connection-status__line">Not connected.</p>
    case 'connecting':
      return (
        <p className="connection-status__line">
          <Spinner label={`${state.resuming ? 'Reconnecting' : 'Connecting'}${attemptSuffix(state.attempt)}…`} />
        </p>
      )
    case 'handshaking':
      return (
        <p className="connection-status__line">
          <Spinner label={`Signing in to the gateway${attemptSuffix(state.attempt)}…`} />
        </p>
      )
    case 'ready':
      return (
        <div>
          <p className="connection-status__line">
            <span className="status-dot status-dot--ready" aria-hidden="true" />
            Connected — protocol {state.info.protocol}
            {state.info.serverVersion ? `, gateway ${state.info.serverVersion}` : ''}.
            {onOpenSession && (
              <button type="button" className="button button--small" onClick={onOpenSession}>
                Open session
              </button>
            )}
          </p>
          {state.info.warnings.length > 0 && (
            <ul className="connection-status__warnings">
              {state.info.warnings.map((w, i) => (
                <li key={i}>{hideUrls(w)}</li>
              ))}
            </ul>
          )}
        </div>
      )
    case 'pairing-required': {
      const command =
        state.command ??
        state.error.nextSteps.find((s) => s.action === 'approve-pairing' && s.command)?.command ??
        approvalCommand(state.requestId ?? state.error.details.pairingRequestId)
      return (
        <div>
          <h3 className="connection-status__title">{hideUrls(state.error.title)}</h3>
          <p>{hideUrls(state.error.message)}</p>
          {command ? (
            <>
              <p>Run this on the gateway host to approve this device:</p>
              <CopyCommand command={command} />
            </>
          ) : (
            <p>Approve this device on the gateway host.</p>
          )}
          <p className="connection-status__line">
            <Spinner label={`Waiting for approval, retrying… (attempt ${state.attempt})`} />
          </p>
        </div>
      )
    }
    case 'access-required':
    case 'failed':
      return <ErrorPanel error={state.error} profileId={profileId} onRetry={onRetry} retrying={retrying} />
    case 'reconnecting':
      return <Reconnecting state={state} onRetry={onRetry} retrying={retrying} />
    default:
      return assertNever(state)
  }
}

function Reconnecting({
  state,
  onRetry,
  retrying
}: {
  state: Extract<ConnectionState, { kind: 'reconnecting' }>
  onRetry: () => void
  retrying: boolean
}) {
  const now = useNow(true)
  const seconds = Math.max(0, Math.ceil((state.retryAt - now) / 1000))
  return (
    <div>
      <p className="connection-status__line">
        <Spinner label={seconds > 0 ? `Reconnecting in ${seconds} s (attempt ${state.attempt})` : `Reconnecting (attempt ${state.attempt})…`} />
        <button type="button" className="button button--small" onClick={onRetry} disabled={retrying}>
          Retry now
        </button>
      </p>
      <p className="connection-status__detail">
        {hideUrls(state.lastError.title)}: {hideUrls(state.lastError.message)}
      </p>
    </div>
  )
}

function attemptSuffix(attempt: number): string {
  return attempt > 1 ? ` (attempt ${attempt})` : ''
}

/** One line for the screen-reader status region. */
export function describeState(state: ConnectionState): string {
  switch (state.kind) {
    case 'idle':
      return 'Not connected'
    case 'connecting':
      return 'Connecting'
    case 'handshaking':
      return 'Signing in to the gateway'
    case 'ready':
      return 'Connected'
    case 'pairing-required':
      return 'Waiting for this device to be approved'
    case 'access-required':
      return `Cloudflare Access: ${state.error.title}`
    case 'reconnecting':
      return `Connection lost, reconnecting (attempt ${state.attempt})`
    case 'failed':
      return `Connection failed: ${state.error.title}`
    default:
      return assertNever(state)
  }
}
