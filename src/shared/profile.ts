/**
 * A saved gateway: everything needed to reach it except its secrets.
 *
 * Secrets (gateway token, Cloudflare client secret, app token, device token) live only in the
 * SecretStore, keyed by the profile id; a profile never holds one, so the profiles file can be
 * backed up or shown without leaking anything.
 */

/** How the app gets past Cloudflare Access for this gateway. */
export type AccessMode = 'none' | 'service-token' | 'email-otp'

export const ACCESS_MODES: readonly AccessMode[] = ['none', 'service-token', 'email-otp']

/** The session key most gateways use for the operator's main conversation. */
export const DEFAULT_SESSION_KEY = 'agent:main:main'

/** Default time limit for the WebSocket upgrade and the handshake. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 15_000

export interface ProfileAccess {
  mode: AccessMode
  /** Service token Client ID (`<hex>.access`); not a secret, the secret half is in the keychain. */
  clientId?: string
  /**
   * The Access application's AUD tag (64 hex, the `kid` of its login redirect). Not a secret;
   * when known, a stored app token is checked against it before use.
   */
  aud?: string
}

export interface ProfileOptions {
  /** Extra CA certificate(s) (PEM file) trusted for this gateway on top of the system store. */
  caFile?: string
  /** Upgrade + handshake time limit. */
  connectTimeoutMs?: number
}

export interface GatewayProfile {
  id: string
  name: string
  /** `ws://` or `wss://` URL of the gateway. */
  url: string
  sessionKey: string
  access: ProfileAccess
  options: ProfileOptions
  createdAt: string
  updatedAt: string
}
