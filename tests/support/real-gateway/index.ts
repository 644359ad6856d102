// Test harness for a REAL OpenClaw gateway: install, start/stop, admin helpers and a small
// signing WebSocket client. See gateway.ts for what the harness configures.
export { ensureGatewayInstalled, gatewayCachePaths, OPENCLAW_VERSION, OPENCLAW_NODE_VERSION, type GatewayInstall } from './install'
export { startRealGateway, buildGatewayConfig, type RealGateway, type RealGatewayOptions } from './gateway'
export {
  GatewaySocket,
  GatewayUpgradeError,
  GatewayRequestError,
  connectGateway,
  connectGatewayWithRetry,
  openAdminConnection,
  approveDevice,
  listPendingPairings,
  listPairings,
  ADMIN_CLIENT,
  ADMIN_SCOPES,
  DEFAULT_OPERATOR_SCOPES,
  type ClientInfo,
  type CloseInfo,
  type ConnectChallenge,
  type ConnectOptions,
  type ConnectResult,
  type GatewayError,
  type GatewayFrame,
  type HelloAuth,
  type HelloOk,
  type OpenOptions,
  type PairedDevice,
  type PairingList,
  type PendingPairing
} from './ws-client'
export { createDeviceIdentity, buildDevicePayload, signDevice, type DeviceIdentity, type SignatureVersion, type SignedDevice } from './device-identity'
