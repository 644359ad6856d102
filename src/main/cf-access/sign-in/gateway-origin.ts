/** Where a gateway's Cloudflare Access pages live: the https origin of its address. */
import { parseGatewayUrl } from '../../../shared/gateway-url'

/** The gateway's https origin, host and port (`wss://` and `https://` accepted), or null. */
export function gatewayOrigin(gatewayUrl: string): { origin: string; host: string; port: number } | null {
  // The same address rules as everywhere else (parseGatewayUrl); only TLS addresses have an
  // Access login page.
  const parsed = parseGatewayUrl(gatewayUrl)
  if (!parsed.ok || !parsed.value.secure) return null
  return { origin: parsed.value.webOrigin, host: parsed.value.host.toLowerCase(), port: parsed.value.port }
}
