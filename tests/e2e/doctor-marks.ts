/** Marks of the connection doctor's checks that more than one test expects. */
import type { DoctorStepId, DoctorStepStatus } from '../../src/shared/doctor-report'

/**
 * A gateway without Cloudflare Access that answers: every check up to the gateway passes and
 * the Access checks are skipped (the handshake's mark depends on whether the device is paired).
 */
export const NO_ACCESS_MARKS = {
  url: 'pass',
  dns: 'pass',
  tls: 'pass',
  'https-probe': 'pass',
  'login-page': 'skip',
  'service-token': 'skip',
  'app-token': 'skip',
  websocket: 'pass'
} as const satisfies Partial<Record<DoctorStepId, DoctorStepStatus>>
