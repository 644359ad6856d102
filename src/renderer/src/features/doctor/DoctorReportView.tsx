/**
 * The connection doctor's report for one saved gateway, above its editor: while the doctor
 * runs, the checks filling in as they end (Cancel diagnosis); then the verdict, the table of
 * checks with their details and probe matrix, the likely causes with their evidence and the
 * ways forward, with the app's own buttons for the ways it can help with.
 *
 * The report comes from the main process as plain data, but its text is what servers answered:
 * it is only ever rendered as React text, never as HTML or Markdown.
 */
import { Fragment, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react'
import type { ProfileView, DoctorRun } from '../../../../shared/ipc-contract'
import {
  DOCTOR_STEP_IDS,
  DOCTOR_STEP_TITLES,
  type DoctorCause,
  type DoctorFact,
  type DoctorProbe,
  type DoctorStep,
  type DoctorStepStatus,
  type DoctorWayForward
} from '../../../../shared/doctor-report'
import type { AppError } from '../../../../shared/errors'
import { Spinner } from '../../components/Spinner'
import { hideUrls } from '../../lib/safe-text'
import { useClipboardCopy } from '../../lib/use-clipboard-copy'
import { cancelDiagnosis, closeDoctorReport, consumeDoctorFocus, runDiagnosis, selectDoctorRun, useDoctor, type DoctorRunState } from '../../stores/doctor-store'
import { useUi } from '../../stores/ui-store'
import { SignInProgress } from '../access/AccessSignIn'
import { CopyCommand } from '../connection/CopyCommand'
import { SIGN_IN_ACTIONS, StepControl } from '../connection/StepControl'
import { initialDraft, sameDraft } from '../remote-config/profile-draft'

/** The editor's Diagnose button: where the focus goes back to when the report closes. */
export const EDITOR_DIAGNOSE_ID = 'editor-diagnose'

const MARKS: Record<DoctorStepStatus, { mark: string; text: string }> = {
  pass: { mark: '✓', text: 'Passed' },
  fail: { mark: '✗', text: 'Failed' },
  warn: { mark: '!', text: 'Warning' },
  skip: { mark: '–', text: 'Skipped' }
}

function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}

export function DoctorReportView({ profile }: { profile: ProfileView }) {
  const run = useDoctor(selectDoctorRun(profile.id))
  const focusNonce = useDoctor((s) => s.open?.focusNonce)
  const headingId = useId()
  const sectionRef = useRef<HTMLElement>(null)
  const headingRef = useRef<HTMLHeadingElement>(null)
  const opener = useRef<Element | null>(null)
  const draft = useUi((s) => s.drafts[profile.id])
  const unsaved = draft !== undefined && !sameDraft(draft, initialDraft(profile))

  // Every Diagnose click brings the report into view and moves the focus to it; the button it
  // came from gets the focus back on close.
  useEffect(() => {
    if (focusNonce === undefined) return
    const active = document.activeElement
    if (active && active !== document.body && !sectionRef.current?.contains(active)) opener.current = active
    headingRef.current?.focus()
    headingRef.current?.scrollIntoView?.({ block: 'nearest' })
    consumeDoctorFocus(focusNonce)
  }, [focusNonce])

  const close = () => {
    const back = opener.current?.isConnected ? opener.current : document.getElementById(EDITOR_DIAGNOSE_ID)
    closeDoctorReport()
    if (back instanceof HTMLElement) back.focus()
  }
  const onKeyDown = (e: KeyboardEvent<HTMLElement>) => {
    if (e.key !== 'Escape') return
    e.preventDefault()
    close()
  }

  const report = run.phase === 'done' ? run.run.report : undefined
  return (
    <section ref={sectionRef} className="doctor-report" data-testid="doctor-report" data-phase={run.phase} aria-labelledby={headingId} onKeyDown={onKeyDown}>
      <header className="doctor-report__header">
        <div className="doctor-report__title">
          <h2 id={headingId} ref={headingRef} tabIndex={-1}>
            Connection doctor
          </h2>
          <p className="doctor-report__target">
            <span className="doctor-report__name">{report?.profileName ?? profile.name}</span>{' '}
            <code className="doctor-report__url">{report?.url ?? profile.url}</code>
          </p>
        </div>
        <button type="button" className="button button--small" onClick={close}>
          Close report
        </button>
      </header>

      {/* Once done, the verdict says it on screen; the line stays for screen readers. */}
      <p className={run.phase === 'done' ? 'visually-hidden' : 'doctor-report__status'} role="status" data-testid="doctor-status">
        {statusLine(run, profile.name)}
      </p>
      {unsaved && (
        // The doctor reads the saved gateway and its stored credentials, as Connect does.
        <p className="field__hint" data-testid="doctor-unsaved-note">
          The doctor checks the saved settings of this gateway: save your changes, then run it again to check them.
        </p>
      )}

      {run.phase === 'running' && <RunningView profileId={profile.id} run={run} />}
      {run.phase === 'done' && <FinishedView profileId={profile.id} run={run.run} />}
      {run.phase === 'failed' && <FailedView profileId={profile.id} error={run.error} />}
    </section>
  )
}

/** What the polite status line says: progress while running, then the outcome in one line. */
function statusLine(run: DoctorRunState, name: string): string {
  switch (run.phase) {
    case 'idle':
      return ''
    case 'running': {
      if (run.cancelling) return 'Cancelling the diagnosis…'
      const last = run.steps[run.steps.length - 1]
      const progress = `Diagnosing ${name}: ${run.steps.length} of ${DOCTOR_STEP_IDS.length} checks done`
      return last ? `${progress}; ${last.title}: ${MARKS[last.status].text.toLowerCase()}.` : `${progress}.`
    }
    case 'done':
      return `Diagnosis finished in ${formatDuration(run.run.report.durationMs)}: ${run.run.report.verdict.headline}`
    case 'failed':
      return `Diagnosis failed: ${hideUrls(run.error.title)}.`
  }
}

function StatusMark({ status }: { status: DoctorStepStatus }) {
  const { mark, text } = MARKS[status]
  return (
    <span className={`doctor-mark doctor-mark--${status}`}>
      <span aria-hidden="true">{mark}</span>
      <span className="visually-hidden">{text}</span>
    </span>
  )
}

function RunningView({ profileId, run }: { profileId: string; run: Extract<DoctorRunState, { phase: 'running' }> }) {
  const byId = new Map(run.steps.map((step) => [step.id, step]))
  const pending = DOCTOR_STEP_IDS.find((id) => !byId.has(id))
  return (
    <>
      <ol className="doctor-live" data-testid="doctor-live-steps" aria-label="Checks">
        {DOCTOR_STEP_IDS.map((id) => {
          const step = byId.get(id)
          if (step) {
            return (
              <li key={id} className="doctor-live__step" data-testid={`doctor-step-${id}`} data-status={step.status}>
                <StatusMark status={step.status} />
                <span className="doctor-live__title">{step.title}</span>
                <span className="doctor-live__summary">{step.summary}</span>
                <span className="note">{formatDuration(step.durationMs)}</span>
              </li>
            )
          }
          const current = id === pending
          return (
            <li key={id} className="doctor-live__step doctor-live__step--waiting" data-testid={`doctor-step-${id}`} data-status={current ? 'running' : 'waiting'}>
              {current ? <Spinner label={`${DOCTOR_STEP_TITLES[id]}: checking…`} /> : <span className="note">{DOCTOR_STEP_TITLES[id]}: waiting</span>}
            </li>
          )
        })}
      </ol>
      {run.cancelError && (
        <p className="inline-alert" role="alert" data-testid="doctor-cancel-error">
          <strong>{hideUrls(run.cancelError.title)}.</strong> {hideUrls(run.cancelError.message)}
        </p>
      )}
      <div className="button-row">
        <button type="button" className="button" disabled={run.cancelling} onClick={() => void cancelDiagnosis(profileId)}>
          Cancel diagnosis
        </button>
      </div>
    </>
  )
}

function FailedView({ profileId, error }: { profileId: string; error: AppError }) {
  return (
    <>
      <p className="inline-alert inline-alert--danger" role="alert" data-testid="doctor-error" data-code={error.code}>
        <strong>{hideUrls(error.title)}.</strong> {hideUrls(error.message)}
      </p>
      <div className="button-row">
        <button type="button" className="button button--primary" onClick={() => void runDiagnosis(profileId)}>
          Run again
        </button>
      </div>
    </>
  )
}

function FinishedView({ profileId, run }: { profileId: string; run: DoctorRun }) {
  const { report } = run
  const { verdict } = report
  return (
    <>
      <div className="button-row">
        <CopyMarkdown markdown={run.markdown} />
        <button type="button" className="button" onClick={() => void runDiagnosis(profileId)}>
          Run again
        </button>
      </div>

      <div className={`doctor-verdict doctor-verdict--${verdict.ok ? 'pass' : 'fail'}`} data-testid="doctor-verdict" data-ok={verdict.ok ? 'true' : 'false'}>
        <span className="doctor-verdict__label">{verdict.ok ? 'Works' : 'Problem'}</span>
        <p className="doctor-verdict__headline">{verdict.headline}</p>
      </div>

      <StepsTable steps={report.steps} />

      {verdict.causes.length > 0 && (
        <div className="doctor-report__section">
          <h3>Likely causes, most likely first</h3>
          <ol className="doctor-causes" data-testid="doctor-causes">
            {verdict.causes.map((cause) => (
              <CauseItem key={cause.id} cause={cause} />
            ))}
          </ol>
        </div>
      )}

      {verdict.waysForward.length > 0 && (
        <div className="doctor-report__section" data-testid="doctor-ways-forward">
          <h3>Ways forward</h3>
          {verdict.waysForward.map((way, i) => (
            <WayForward key={`${way.id}-${i}`} way={way} profileId={profileId} />
          ))}
          {verdict.waysForward.some((way) => way.action && SIGN_IN_ACTIONS.has(way.action)) && <SignInProgress profileId={profileId} />}
        </div>
      )}

      {(report.credentials.length > 0 || report.notes.length > 0) && (
        <div className="doctor-report__section">
          <FactsTable caption="Credentials used (hints only)" facts={report.credentials} testId="doctor-credentials" />
          {report.notes.length > 0 && (
            <ul className="doctor-report__notes">
              {report.notes.map((note, i) => (
                <li key={i}>{note}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </>
  )
}

function StepsTable({ steps }: { steps: DoctorStep[] }) {
  // A failed check's details are what the operator came for: open from the start.
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set(steps.filter((s) => s.status === 'fail').map((s) => s.id)))
  const detailsId = useId()
  const toggle = (id: string) =>
    setExpanded((current) => {
      const next = new Set(current)
      if (next.has(id)) next.delete(id)
      else next.add(id)
      return next
    })

  return (
    <div className="table-scroll">
      <table className="doctor-steps" data-testid="doctor-steps">
        <caption>Checks, in the order they ran</caption>
        <thead>
          <tr>
            <th scope="col" className="doctor-steps__col-result">
              Result
            </th>
            <th scope="col" className="doctor-steps__col-check">
              Check
            </th>
            <th scope="col">Finding</th>
            <th scope="col" className="doctor-steps__col-time">
              Time
            </th>
            <th scope="col" className="doctor-steps__col-details">
              <span className="visually-hidden">Details</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {steps.map((step) => {
            const hasDetails = step.details.length > 0 || (step.probes?.length ?? 0) > 0
            const open = hasDetails && expanded.has(step.id)
            const rowDetailsId = `${detailsId}-${step.id}`
            return (
              <Fragment key={step.id}>
                <tr className={`doctor-steps__row doctor-steps__row--${step.status}`} data-testid={`doctor-step-${step.id}`} data-status={step.status}>
                  <td>
                    <StatusMark status={step.status} />
                  </td>
                  <th scope="row">{step.title}</th>
                  <td>{step.summary}</td>
                  <td className="doctor-steps__time">{formatDuration(step.durationMs)}</td>
                  <td>
                    {hasDetails && (
                      <button
                        type="button"
                        className="button button--small"
                        aria-expanded={open}
                        aria-controls={open ? rowDetailsId : undefined}
                        onClick={() => toggle(step.id)}
                      >
                        Details<span className="visually-hidden"> of {step.title}</span>
                      </button>
                    )}
                  </td>
                </tr>
                {open && (
                  <tr id={rowDetailsId} className="doctor-steps__details" data-testid={`doctor-step-details-${step.id}`}>
                    <td colSpan={5}>
                      {step.details.length > 0 && <FactsTable caption={`What the ${step.title} check saw`} facts={step.details} />}
                      {step.probes && step.probes.length > 0 && <ProbeTable probes={step.probes} />}
                    </td>
                  </tr>
                )}
              </Fragment>
            )
          })}
        </tbody>
      </table>
    </div>
  )
}

function FactsTable({ caption, facts, testId }: { caption: string; facts: DoctorFact[]; testId?: string }) {
  if (facts.length === 0) return null
  return (
    <table className="fact-table" data-testid={testId}>
      <caption>{caption}</caption>
      <tbody>
        {facts.map((fact, i) => (
          <tr key={i}>
            <th scope="row">{fact.label}</th>
            <td>{fact.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function ProbeTable({ probes }: { probes: DoctorProbe[] }) {
  return (
    <table className="fact-table doctor-probes" data-testid="doctor-probes">
      <caption>Probe matrix</caption>
      <thead>
        <tr>
          <th scope="col">Probe</th>
          <th scope="col">HTTP status</th>
          <th scope="col">service_token_status</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {probes.map((probe, i) => (
          <tr key={`${probe.id}-${i}`} data-probe-id={probe.id} data-outcome={probe.outcome}>
            <th scope="row">{probe.label}</th>
            <td>{probe.httpStatus === null ? 'no answer' : `${probe.httpStatus}${probe.httpVersion ? ` (HTTP/${probe.httpVersion})` : ''}`}</td>
            <td>{probe.serviceTokenStatus === undefined ? '–' : String(probe.serviceTokenStatus)}</td>
            <td>
              {probe.outcome}
              {probe.code ? ` (${probe.code})` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function CauseItem({ cause }: { cause: DoctorCause }) {
  return (
    <li className="doctor-cause" data-cause-id={cause.id} data-likelihood={cause.likelihood}>
      <p className="doctor-cause__title">
        <strong>{cause.title}</strong>{' '}
        <span className={`doctor-badge doctor-badge--${cause.likelihood}`}>
          <span className="visually-hidden">likelihood: </span>
          {cause.likelihood}
        </span>
      </p>
      {cause.evidence.length > 0 && (
        <ul className="doctor-cause__evidence" aria-label={`Evidence for: ${cause.title}`}>
          {cause.evidence.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ul>
      )}
    </li>
  )
}

function WayForward({ way, profileId }: { way: DoctorWayForward; profileId: string }) {
  const headingId = useId()
  return (
    <section className="doctor-way" data-way-id={way.id} data-action={way.action} aria-labelledby={headingId}>
      <h4 id={headingId}>{way.title}</h4>
      {way.steps.length > 0 && (
        <ol className="doctor-way__steps">
          {way.steps.map((step, i) => (
            <li key={i}>{step}</li>
          ))}
        </ol>
      )}
      {way.command && <CopyCommand command={way.command} testId="doctor-command" />}
      {/* The command, pairing approval included, is shown above; the control adds the app's own button. */}
      {way.action && (
        <div className="doctor-way__control">
          <StepControl action={way.action} label={way.title} profileId={profileId} />
        </div>
      )}
    </section>
  )
}

/** "Copy as Markdown"; without clipboard access, the Markdown is shown selected for the keyboard. */
function CopyMarkdown({ markdown }: { markdown: string }) {
  // The failure stays: the selected Markdown below is the way to copy it then.
  const { copyState, copy } = useClipboardCopy(markdown, { keepFailure: true })
  const fallbackRef = useRef<HTMLTextAreaElement>(null)

  useEffect(() => {
    if (copyState !== 'failed') return
    fallbackRef.current?.focus()
    fallbackRef.current?.select()
  }, [copyState])

  return (
    <>
      <button type="button" className="button button--primary" onClick={() => void copy()}>
        Copy as Markdown
      </button>
      <span className="copy-state" role="status" data-testid="doctor-copy-state">
        {copyState === 'copied' ? 'Copied' : copyState === 'failed' ? 'Could not copy to the clipboard: the Markdown is selected below, copy it with the keyboard.' : ''}
      </span>
      {copyState === 'failed' && (
        <textarea
          ref={fallbackRef}
          className="doctor-report__markdown"
          aria-label="Report as Markdown"
          data-testid="doctor-markdown"
          readOnly
          rows={8}
          value={markdown}
        />
      )}
    </>
  )
}
