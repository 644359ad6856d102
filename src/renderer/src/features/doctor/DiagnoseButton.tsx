/**
 * "Diagnose": opens the connection doctor's report for a saved gateway and starts a run (while
 * one runs, it only brings the report back into view).
 */
import { diagnose } from '../../stores/doctor-store'

export const DIAGNOSE_LABEL = 'Diagnose'

export function DiagnoseButton({ profileId, id }: { profileId: string; id?: string }) {
  return (
    <button type="button" id={id} className="button" onClick={() => diagnose(profileId)}>
      {DIAGNOSE_LABEL}
    </button>
  )
}
