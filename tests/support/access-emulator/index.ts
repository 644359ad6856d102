// Local Cloudflare Access emulator for tests; see README.md beside this file.
export { startAccessEmulator, type AccessEmulator } from './emulator'
export { startBlackHoleServer, startResetServer, type TcpFixture } from './net-fixtures'
export { isScriptedUserAgent } from './app-host'
export { decodeJwt } from './signing-keys'
export { OTP_CODE_PATH, OTP_SEND_PATH, OTP_VERIFY_PATH } from './team-domain'
export { DEFAULT_FORWARDED_FOR } from './edge-state'
export type * from './types'
export { startRecordingOrigin, type OriginRequest, type RecordingOrigin } from './recording-origin'
