// The connection doctor: Electron-free engine behind the "Diagnose" button and `cli doctor`.
export { runDoctor, diagnoseTarget, doctorInputFromTarget, DOCTOR_BUDGET_MS, DOCTOR_STEPS, type DoctorOptions } from './run-doctor'
export { renderDoctorMarkdown, STATUS_MARK } from './markdown'
export { buildVerdict } from './verdict'
export { nodeDoctorPorts } from './node-ports'
export type { DoctorInput } from './context'
export type * from './ports'
