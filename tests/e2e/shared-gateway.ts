/**
 * The shared real OpenClaw gateway (and its mock model) that tests/support/global-setup.ts
 * starts for the integration run, as handed to a test file through vitest's `inject()`.
 */
import { inject } from 'vitest'

export interface SharedGateway {
  /** http://127.0.0.1:<port>: what an Access application forwards to. */
  gatewayHttpUrl: string
  /** ws://127.0.0.1:<port>: the gateway without Access; also where devices are approved. */
  gatewayUrl: string
  gatewayToken: string
  /** The canned reply the mock model streams for ordinary messages. */
  mockModelReply: string
}

export function sharedGateway(): SharedGateway {
  return {
    gatewayHttpUrl: inject('gatewayHttpUrl'),
    gatewayUrl: inject('gatewayUrl'),
    gatewayToken: inject('gatewayToken'),
    mockModelReply: inject('mockModelReply')
  }
}
