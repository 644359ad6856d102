// vitest globalSetup of the `integration` project: starts the mock model and ONE real OpenClaw
// gateway (trustedProxies = loopback, so a same-host reverse proxy such as the Cloudflare Access
// emulator can forward X-Forwarded-For) shared by all integration test files, and hands plain
// connection data to the test workers through `inject()`:
//
//   import { inject } from 'vitest'
//   import { approveDevice } from '../support/real-gateway'
//   const url = inject('gatewayUrl'); const token = inject('gatewayToken')
//   await approveDevice(url, token, requestId)
//
// The gateway keeps state (pairings, sessions) for the whole run: use a fresh device identity per
// test. A chat with MOCK_AUTHFAIL puts the mock provider key into a ~1 min cooldown on this shared
// gateway; tests that need it should start their own gateway with startRealGateway().
//
// If the gateway cannot be installed or started, setup throws and the run fails: the integration
// suite never silently skips the real gateway.
import type { TestProject } from 'vitest/node'
import { startMockModel, type MockModel } from './mock-model'
import { ensureGatewayInstalled, startRealGateway, type RealGateway } from './real-gateway'

declare module 'vitest' {
  export interface ProvidedContext {
    /** ws://127.0.0.1:<port> of the shared real gateway. */
    gatewayUrl: string
    /** http://127.0.0.1:<port> (same listener; /healthz, /readyz). */
    gatewayHttpUrl: string
    /** Shared gateway token (token auth). */
    gatewayToken: string
    gatewayPort: number
    /** gateway.trustedProxies of the shared gateway. */
    gatewayTrustedProxies: string[]
    /** Origin of the mock model server (OpenAI base URL is `${mockModelUrl}/v1`). */
    mockModelUrl: string
    /** The canned reply the mock model streams for ordinary messages. */
    mockModelReply: string
  }
}

export const SHARED_GATEWAY_TRUSTED_PROXIES = ['127.0.0.1', '::1']
export const SHARED_MOCK_REPLY = 'Hello from the mock model. This is a canned streamed reply.'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let mock: MockModel | undefined
  let gateway: RealGateway | undefined
  const teardown = async (): Promise<void> => {
    await gateway?.stop()
    await mock?.close()
  }
  try {
    const t0 = Date.now()
    await ensureGatewayInstalled()
    const installMs = Date.now() - t0
    mock = await startMockModel({ reply: SHARED_MOCK_REPLY })
    gateway = await startRealGateway({ mockModelUrl: mock.url, trustedProxies: SHARED_GATEWAY_TRUSTED_PROXIES })
    process.stderr.write(
      `[global-setup] real OpenClaw gateway ${gateway.url} ready in ${gateway.startupMs} ms ` +
        `(readyz ${gateway.readyMs} ms, install check ${installMs} ms); mock model ${mock.url}\n`
    )
  } catch (err) {
    await teardown().catch(() => undefined)
    throw new Error(
      `integration globalSetup: could not start the real OpenClaw gateway. The integration tests need it; ` +
        `run scripts/install-test-gateway.sh (npm registry access, ~850 MB) and see the output below.\n` +
        `${(err as Error).stack ?? String(err)}`
    )
  }

  project.provide('gatewayUrl', gateway.url)
  project.provide('gatewayHttpUrl', gateway.httpUrl)
  project.provide('gatewayToken', gateway.token)
  project.provide('gatewayPort', gateway.port)
  project.provide('gatewayTrustedProxies', SHARED_GATEWAY_TRUSTED_PROXIES)
  project.provide('mockModelUrl', mock.url)
  project.provide('mockModelReply', SHARED_MOCK_REPLY)
  return teardown
}
