/**
 * Explains a connection error: what happened, why (the decoded Access claims or the gateway's
 * own codes, then the likely causes), and what to do, with a button for each step the app can
 * help with, and Diagnose, which runs the connection doctor on the gateway.
 *
 * Only fields of the error are shown, as text: never HTML, never a stack, and any address in a
 * message is reduced to its host (a login redirect URL carries signed parameters nobody needs).
 */
import { useId } from 'react'
import type { AppError } from '../../../../shared/errors'
import { hideUrls } from '../../lib/safe-text'
import { SignInProgress } from '../access/AccessSignIn'
import { DiagnoseButton } from '../doctor/DiagnoseButton'
import { SIGN_IN_ACTIONS, StepControl } from './StepControl'

export interface ErrorPanelProps {
  error: AppError
  /** The profile the error belongs to; without it the steps that open the editor show no button. */
  profileId?: string
  /** Connect again; shows the Retry button. */
  onRetry?: () => void
  retrying?: boolean
}

export function ErrorPanel({ error, profileId, onRetry, retrying }: ErrorPanelProps) {
  const headingId = useId()
  const claimRows = accessClaimRows(error)
  const codeRows = gatewayCodeRows(error)
  const causes = error.likelyCauses ?? []
  const notes = error.details.notes ?? []
  const offersSignIn = profileId !== undefined && error.nextSteps.some((step) => SIGN_IN_ACTIONS.has(step.action))

  return (
    <section
      className={`error-panel error-panel--${error.category}`}
      data-testid="error-panel"
      data-code={error.code}
      data-category={error.category}
      aria-labelledby={headingId}
    >
      <h3 id={headingId} className="error-panel__title">
        {hideUrls(error.title)}
      </h3>
      <p className="error-panel__message">{hideUrls(error.message)}</p>

      {claimRows.length > 0 && (
        <FactTable caption="What Cloudflare Access reported" rows={claimRows} testId="access-claims" />
      )}
      {codeRows.length > 0 && (
        <FactTable
          // An Access redirect or an edge page is the server's answer, not the gateway's.
          caption={error.details.gatewayCode || error.details.gatewayDetailCode ? 'What the gateway answered' : 'What the server answered'}
          rows={codeRows}
          testId="gateway-codes"
        />
      )}

      {causes.length > 0 && (
        <div className="error-panel__section">
          <h4>Likely causes</h4>
          <ol data-testid="likely-causes">
            {causes.map((cause, i) => (
              <li key={i}>{hideUrls(cause)}</li>
            ))}
          </ol>
        </div>
      )}

      {error.nextSteps.length > 0 && (
        <div className="error-panel__section">
          <h4>What to do</h4>
          <ol className="next-steps" data-testid="next-steps">
            {error.nextSteps.map((step, i) => (
              <li key={`${step.action}-${i}`} data-action={step.action}>
                <span>{hideUrls(step.label)}</span>
                <StepControl
                  action={step.action}
                  label={step.label}
                  profileId={profileId}
                  pairingCommand={step.action === 'approve-pairing' ? (step.command ?? approvalCommand(error.details.pairingRequestId)) : undefined}
                />
              </li>
            ))}
          </ol>
          {offersSignIn && profileId && <SignInProgress profileId={profileId} />}
        </div>
      )}

      {notes.length > 0 && (
        <ul className="error-panel__notes">
          {notes.map((note, i) => (
            <li key={i}>{hideUrls(note)}</li>
          ))}
        </ul>
      )}

      <p className="error-panel__code">
        Error code <code>{error.code}</code>
      </p>

      {(onRetry || profileId) && (
        <div className="button-row">
          {onRetry && (
            <button type="button" className="button button--primary" onClick={onRetry} disabled={retrying}>
              Retry
            </button>
          )}
          {/* Every panel of a saved gateway offers the doctor: it finds out which of the causes it is. */}
          {profileId && <DiagnoseButton profileId={profileId} />}
        </div>
      )}
    </section>
  )
}

/** The approval command the gateway host runs (as the CLI prints it). */
export function approvalCommand(requestId: string | undefined): string | undefined {
  return requestId ? `openclaw devices approve ${requestId}` : undefined
}

type FactRow = [label: string, value: string]

function FactTable({ caption, rows, testId }: { caption: string; rows: FactRow[]; testId: string }) {
  return (
    <table className="fact-table" data-testid={testId}>
      <caption>{caption}</caption>
      <tbody>
        {rows.map(([label, value]) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

const yesNo = (value: boolean | undefined) => (value === undefined ? undefined : value ? 'yes' : 'no')

function rows(entries: [string, string | number | undefined][]): FactRow[] {
  return entries
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([label, value]) => [label, hideUrls(String(value))])
}

function accessClaimRows(error: AppError): FactRow[] {
  const d = error.details
  const c = d.accessClaims ?? {}
  return rows([
    ['Team domain', d.accessTeamDomain],
    ['Application host', c.hostname],
    ['Audience', c.audience ?? d.accessAud],
    ['Service token recognised', yesNo(c.serviceTokenStatus)],
    ['Auth status', c.authStatus],
    ['WARP', yesNo(c.isWarp)],
    ['Country', c.country],
    ['Ray ID', c.rayId ?? (error.category === 'access' ? d.cfRay : undefined)],
    ['Credentials sent', d.credentialsSent ? (d.credentialsSent.length > 0 ? d.credentialsSent.join(', ') : 'none') : undefined]
  ])
}

function gatewayCodeRows(error: AppError): FactRow[] {
  const d = error.details
  return rows([
    ['Gateway code', d.gatewayCode],
    ['Detail code', d.gatewayDetailCode],
    ['HTTP status', d.httpStatus],
    ['Cloudflare error', d.cloudflareErrorCode],
    ['Close code', d.closeCode],
    ['System code', d.systemCode],
    ['Missing scope', d.missingScope],
    ['Expected protocol', d.expectedProtocol],
    ['Ray ID', error.category === 'access' ? undefined : d.cfRay]
  ])
}
