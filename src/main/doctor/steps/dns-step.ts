/**
 * Step 2: DNS. The addresses the system resolver gives (what the connection will dial), and
 * whether the name is on Cloudflare: a proxied address, a `workers.dev` host, a CNAME to a tunnel.
 */
import { DOCTOR_STEP_TITLES } from '../../../shared/doctor-report'
import net from 'node:net'
import { classifyNetworkError } from '../../transport/classify-network-error'
import { cloudflareSigns } from '../cloudflare-network'
import { facts, type DoctorStepDefinition } from '../context'

export const dnsStep: DoctorStepDefinition = {
  id: 'dns',
  title: DOCTOR_STEP_TITLES.dns,
  timeoutMs: 5_000,
  async run(ctx) {
    const url = ctx.findings.url
    if (!url) return { status: 'skip', summary: 'Not run: the address is not valid.', details: [] }
    if (net.isIP(url.host) !== 0) {
      ctx.findings.dns = { addresses: [url.host], cnames: [], signs: cloudflareSigns(url.host, [url.host], []) }
      const proxied = ctx.findings.dns.signs.proxied
      return {
        status: 'pass',
        summary: `${url.host} is an IP address; nothing to look up${proxied ? ' (it is a Cloudflare address)' : ''}.`,
        details: facts([['addresses', url.host]])
      }
    }
    const [lookup, cname] = await Promise.allSettled([ctx.ports.dns.lookup(url.host), ctx.ports.dns.resolveCname(url.host)])
    if (lookup.status === 'rejected') {
      const error = classifyNetworkError(lookup.reason, { host: url.host, port: url.port, phase: 'dns' })
      ctx.findings.dns = { addresses: [], cnames: [], signs: cloudflareSigns(url.host, [], []), error }
      return { status: 'fail', summary: error.message, details: facts([['system error', error.details.systemCode]]), code: error.code }
    }
    const addresses = [...new Set(lookup.value.map((a) => a.address))]
    const cnames = cname.status === 'fulfilled' ? cname.value : []
    const signs = cloudflareSigns(url.host, addresses, cnames)
    ctx.findings.dns = { addresses, cnames, signs }
    const on: string[] = []
    if (signs.proxied) on.push('proxied by Cloudflare')
    if (signs.workersDev) on.push('a workers.dev host')
    if (signs.tunnelCname) on.push(`a CNAME to the Cloudflare Tunnel ${signs.tunnelCname}`)
    return {
      status: 'pass',
      summary: `${url.host} resolves to ${addresses.slice(0, 4).join(', ')}${addresses.length > 4 ? '…' : ''}${on.length > 0 ? ` (${on.join('; ')})` : ''}.`,
      details: facts([
        ['addresses', addresses.join(', ')],
        ['CNAME', cnames.join(', ') || undefined],
        ['Cloudflare-proxied', signs.proxied],
        ['workers.dev', signs.workersDev || undefined],
        ['tunnel', signs.tunnelCname]
      ])
    }
  }
}
