/**
 * Run the fake gateway by hand: `npx tsx tests/support/fake-gateway/serve.ts [--pairing]`.
 * Prints its URL; useful to try the CLI without a real gateway.
 */
import { startFakeGateway } from './index'

void startFakeGateway({
  token: process.env.FAKE_GATEWAY_TOKEN ?? 'fake-gateway-token-0123456789',
  pairing: process.argv.includes('--pairing') ? 'required' : 'auto'
}).then((gw) => {
  process.stdout.write(`${gw.url}\n`)
})
