/**
 * Is a host name on Cloudflare? Three signs, each cheap to check from the outside:
 * - an address inside Cloudflare's published ranges (the name is proxied, orange cloud);
 * - a `*.workers.dev` name (a Worker, always on Cloudflare);
 * - a CNAME to `<uuid>.cfargotunnel.com` (a Cloudflare Tunnel route; proxied records are
 *   flattened by Cloudflare, so this shows only for DNS-only records or from inside the zone).
 *
 * The ranges are Cloudflare's published list (https://www.cloudflare.com/ips-v4 and
 * https://www.cloudflare.com/ips-v6, also served by the API at /client/v4/ips), copied here as
 * they stood in 2024-2026; the list changes rarely. A miss only costs a hint in the report.
 */
import net from 'node:net'

export const CLOUDFLARE_IPV4_RANGES: readonly string[] = [
  '173.245.48.0/20',
  '103.21.244.0/22',
  '103.22.200.0/22',
  '103.31.4.0/22',
  '141.101.64.0/18',
  '108.162.192.0/18',
  '190.93.240.0/20',
  '188.114.96.0/20',
  '197.234.240.0/22',
  '198.41.128.0/17',
  '162.158.0.0/15',
  '104.16.0.0/13',
  '104.24.0.0/14',
  '172.64.0.0/13',
  '131.0.72.0/22'
]

export const CLOUDFLARE_IPV6_RANGES: readonly string[] = [
  '2400:cb00::/32',
  '2606:4700::/32',
  '2803:f800::/32',
  '2405:b500::/32',
  '2405:8100::/32',
  '2a06:98c0::/29',
  '2c0f:f248::/32'
]

let blockList: net.BlockList | undefined

function cloudflareBlockList(): net.BlockList {
  if (blockList) return blockList
  const list = new net.BlockList()
  for (const range of CLOUDFLARE_IPV4_RANGES) {
    const [prefix, bits] = range.split('/')
    list.addSubnet(prefix as string, Number(bits), 'ipv4')
  }
  for (const range of CLOUDFLARE_IPV6_RANGES) {
    const [prefix, bits] = range.split('/')
    list.addSubnet(prefix as string, Number(bits), 'ipv6')
  }
  blockList = list
  return list
}

/** True when `address` (v4, v6, or v4-mapped v6) lies in Cloudflare's ranges. */
export function isCloudflareAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  const plain = mapped ?? address
  const family = net.isIP(plain)
  if (family === 0) return false
  return cloudflareBlockList().check(plain, family === 4 ? 'ipv4' : 'ipv6')
}

export function isWorkersDevHost(host: string): boolean {
  return /(^|\.)workers\.dev\.?$/i.test(host)
}

export function isTunnelTarget(cname: string): boolean {
  return /(^|\.)cfargotunnel\.com\.?$/i.test(cname)
}

/** What the DNS answers say about Cloudflare. */
export interface CloudflareDnsSigns {
  proxied: boolean
  cloudflareAddresses: string[]
  workersDev: boolean
  tunnelCname?: string
}

export function cloudflareSigns(host: string, addresses: readonly string[], cnames: readonly string[]): CloudflareDnsSigns {
  const cloudflareAddresses = addresses.filter(isCloudflareAddress)
  const tunnel = cnames.find(isTunnelTarget)
  return {
    proxied: cloudflareAddresses.length > 0,
    cloudflareAddresses,
    workersDev: isWorkersDevHost(host),
    ...(tunnel ? { tunnelCname: tunnel.replace(/\.$/, '').toLowerCase() } : {})
  }
}
