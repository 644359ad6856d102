/**
 * The connection doctor per profile: not run yet, running (the steps that have ended so far,
 * as the main process pushes them), done (the report and its Markdown) or failed (the request
 * itself failed: no such gateway, no answer from the main process...). Plus which profile's
 * report view is open.
 *
 * One run per profile at a time: starting one while it runs does nothing, so a double click on
 * Diagnose never starts two. lib/bridge.ts feeds the pushed steps (`applyDoctorProgress`).
 */
import { create } from 'zustand'
import { DOCTOR_STEP_IDS, type DoctorStep } from '../../../shared/doctor-report'
import type { AppError } from '../../../shared/errors'
import type { DoctorProgress, DoctorRun } from '../../../shared/ipc-contract'
import { getApi } from '../lib/api'
import { useProfiles } from './profiles-store'
import { useUi } from './ui-store'

export type DoctorRunState =
  | { phase: 'idle' }
  | {
      phase: 'running'
      /** The steps that have ended, in DOCTOR_STEP_IDS order. */
      steps: DoctorStep[]
      /** A cancel request is on its way (the run then ends with the remaining steps skipped). */
      cancelling: boolean
      cancelError?: AppError
    }
  | { phase: 'done'; run: DoctorRun }
  | { phase: 'failed'; error: AppError }

export interface DoctorReportView {
  profileId: string
  /**
   * A Diagnose click the view has not answered yet by taking the focus. Consumed once, so the
   * view coming back (another gateway selected and this one again, a switch of tabs) leaves the
   * focus where the user put it.
   */
  focusNonce?: number
}

export interface DoctorState {
  runs: Record<string, DoctorRunState | undefined>
  /** The report view on screen (one at a time), if any. */
  open?: DoctorReportView
}

export const useDoctor = create<DoctorState>()(() => ({ runs: {} }))

const IDLE: DoctorRunState = { phase: 'idle' }

export function selectDoctorRun(profileId: string | undefined) {
  return (s: DoctorState): DoctorRunState => (profileId ? (s.runs[profileId] ?? IDLE) : IDLE)
}

const setRun = (profileId: string, run: DoctorRunState) => useDoctor.setState((s) => ({ runs: { ...s.runs, [profileId]: run } }))

const STEP_ORDER = new Map<string, number>(DOCTOR_STEP_IDS.map((id, index) => [id, index]))

/** The steps with `step` added (or replacing one with its id), in the order the checks run. */
function withStep(steps: DoctorStep[], step: DoctorStep): DoctorStep[] {
  const others = steps.filter((s) => s.id !== step.id)
  return [...others, step].sort((a, b) => (STEP_ORDER.get(a.id) ?? 99) - (STEP_ORDER.get(b.id) ?? 99))
}

/** A step pushed by the main process; dropped unless a run of that profile is in flight here. */
export function applyDoctorProgress(progress: DoctorProgress): void {
  const run = useDoctor.getState().runs[progress.profileId]
  if (run?.phase !== 'running' || !STEP_ORDER.has(progress.step.id)) return
  setRun(progress.profileId, { ...run, steps: withStep(run.steps, progress.step) })
}

/** Run the doctor on a saved gateway; resolves when the run has ended. Does nothing while one runs. */
export async function runDiagnosis(profileId: string): Promise<void> {
  if (useDoctor.getState().runs[profileId]?.phase === 'running') return
  setRun(profileId, { phase: 'running', steps: [], cancelling: false })
  const result = await getApi().doctor.run(profileId)
  setRun(profileId, result.ok ? { phase: 'done', run: result.value } : { phase: 'failed', error: result.error })
}

/** Stop the run in flight; it then ends with its report (the steps not run yet are skipped). */
export async function cancelDiagnosis(profileId: string): Promise<void> {
  const run = useDoctor.getState().runs[profileId]
  if (run?.phase !== 'running' || run.cancelling) return
  setRun(profileId, { ...run, cancelling: true, cancelError: undefined })
  const result = await getApi().doctor.cancel(profileId)
  // The run may have ended meanwhile: only a run still in flight keeps the cancel's outcome.
  const now = useDoctor.getState().runs[profileId]
  if (now?.phase === 'running') setRun(profileId, { ...now, cancelling: false, cancelError: result.ok ? undefined : result.error })
}

let focusNonce = 0

/**
 * What Diagnose does: show the gateway's report view (in the Gateways view, with that gateway
 * selected) and start a run, unless one is already running, which the view then shows.
 */
export function diagnose(profileId: string): void {
  useProfiles.getState().select(profileId)
  useUi.getState().setTab('gateways')
  useDoctor.setState({ open: { profileId, focusNonce: ++focusNonce } })
  void runDiagnosis(profileId)
}

/** The report view took the focus for this Diagnose click. */
export function consumeDoctorFocus(nonce: number): void {
  useDoctor.setState((s) => (s.open?.focusNonce === nonce ? { open: { profileId: s.open.profileId } } : {}))
}

export function closeDoctorReport(): void {
  useDoctor.setState({ open: undefined })
}
