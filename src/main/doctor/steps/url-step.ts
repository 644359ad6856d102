/** Step 1: the address itself (scheme, host, port, path; `https://` is read as `wss://`). */
import { DOCTOR_STEP_TITLES } from '../../../shared/doctor-report'
import { displayGatewayUrl, isLoopbackHost, parseGatewayUrl } from '../../../shared/gateway-url'
import { facts, type DoctorStepDefinition } from '../context'

export const urlStep: DoctorStepDefinition = {
  id: 'url',
  title: DOCTOR_STEP_TITLES.url,
  timeoutMs: 1_000,
  async run(ctx) {
    const parsed = parseGatewayUrl(ctx.input.url)
    if (!parsed.ok) {
      ctx.findings.urlError = parsed.error
      return { status: 'fail', summary: parsed.error.message, details: [], code: parsed.error.code }
    }
    const url = parsed.value
    ctx.findings.url = url
    // Query values may be credentials the parser does not know by name: shown by name only.
    const path = displayGatewayUrl(url.path)
    const details = facts([
      ['scheme', url.secure ? 'wss:// (TLS)' : 'ws:// (plain)'],
      ['host', url.host],
      ['port', url.port],
      ['path', path]
    ])
    for (const note of url.notes) details.push({ label: 'note', value: note })
    const plainRemote = !url.secure && !isLoopbackHost(url.host)
    if (plainRemote) {
      return {
        status: 'warn',
        summary: `ws://${url.host} is not encrypted: anything sent (the gateway token included) crosses the network readable. Use wss:// for a remote gateway.`,
        details
      }
    }
    return { status: 'pass', summary: `${url.secure ? 'A TLS' : 'A plain'} WebSocket address: ${url.host}, port ${url.port}, path ${path}.`, details }
  }
}
