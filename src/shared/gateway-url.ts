/**
 * Parsing and checking a gateway URL as a person types it.
 *
 * Shared by the CLI, the main process and the renderer's form validation, so it uses only the
 * WHATWG `URL` global (present in Node, Electron and browsers) and imports nothing.
 */
import { appError, fail, ok, type Result } from './errors'

export interface GatewayUrl {
  /** Normalised URL (`ws://` or `wss://`, explicit path, no credentials or fragment). */
  href: string
  secure: boolean
  host: string
  port: number
  /** Path plus query, as sent on the upgrade request line. */
  path: string
  /** `https://host[:port]` (or `http://`): the web origin of the same host, for the Access login window. */
  webOrigin: string
  /** Notes about what was changed, e.g. "https:// was changed to wss://". */
  notes: string[]
}

const DEFAULT_PORT = { 'ws:': 80, 'wss:': 443 } as const

/** Zero-width and direction-changing characters: invisible, and never part of a real address. */
const INVISIBLE = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/

/** Query parameters that carry credentials (never put in an address that is stored or logged). */
const SECRET_QUERY_PARAM = /token|secret|passw|pwd|jwt|key|auth|sig|credential/i

/**
 * Parse a gateway URL. Accepts `ws://` and `wss://`; offers `https://`→`wss://` and
 * `http://`→`ws://` (operators paste the address they see in the browser); trims whitespace.
 */
export function parseGatewayUrl(input: string): Result<GatewayUrl> {
  const raw = (input ?? '').trim()
  if (raw === '') {
    return fail(invalid('Enter the gateway address, for example wss://gateway.example.com or ws://127.0.0.1:18789.'))
  }
  if (/\s/.test(raw)) {
    return fail(invalid('The gateway address contains spaces. Remove them and try again.'))
  }
  if (INVISIBLE.test(raw)) {
    return fail(invalid('The gateway address contains invisible characters (often pasted from chat apps or PDFs). Type it again.'))
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/\//i.test(raw)) {
    return fail(invalid('The gateway address has no host name after the scheme.'))
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    // "gateway.example.com" or "127.0.0.1:18789": say which scheme to add rather than guessing.
    return fail(
      invalid(
        'The gateway address needs a scheme: start it with wss:// (TLS, for remote gateways) or ws:// (plain, for a local gateway).'
      )
    )
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return fail(invalid('That is not a valid address. Check for typos in the host name and port.'))
  }
  const notes: string[] = []
  const scheme = url.protocol.toLowerCase()
  if (scheme === 'https:' || scheme === 'http:') {
    const replacement = scheme === 'https:' ? 'wss:' : 'ws:'
    // URL refuses to switch between "special" schemes via the setter for some pairs, so rebuild.
    url = new URL(replacement + raw.slice(raw.indexOf(':') + 1))
    notes.push(`${scheme}// was changed to ${replacement}// (the gateway speaks WebSocket on the same address).`)
  } else if (scheme !== 'ws:' && scheme !== 'wss:') {
    return fail(invalid(`The scheme ${scheme}// is not supported. Use wss:// or ws://.`))
  }
  if (url.username || url.password) {
    return fail(
      invalid('Do not put a user name or password in the address. Enter the gateway token in its own field.')
    )
  }
  if (!url.hostname) {
    return fail(invalid('The gateway address has no host name.'))
  }
  if (url.hash) {
    url.hash = ''
    notes.push('The #fragment was removed.')
  }
  const secretParam = [...url.searchParams.keys()].find((name) => SECRET_QUERY_PARAM.test(name))
  if (secretParam) {
    return fail(
      invalid(
        `The address carries a credential in its query ("${secretParam}="). The gateway does not read it there, and addresses are saved in plain text: remove it and enter the token in its own field.`
      )
    )
  }
  const secure = url.protocol === 'wss:'
  const port = url.port ? Number(url.port) : DEFAULT_PORT[secure ? 'wss:' : 'ws:']
  if (port === 0) return fail(invalid('Port 0 cannot be dialled; give the gateway\u2019s real port (18789 by default).'))
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const hostForOrigin = url.hostname
  const webOrigin = `${secure ? 'https' : 'http'}://${hostForOrigin}${url.port ? `:${url.port}` : ''}`
  return ok({
    href: url.href,
    secure,
    host,
    port,
    path: `${url.pathname || '/'}${url.search}`,
    webOrigin,
    notes
  })
}

/** True for loopback hosts, where plain ws:// is expected and Access is never in front. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h.endsWith('.localhost')
}

function invalid(message: string) {
  return appError('INVALID_URL', 'The gateway address is not valid', message, {
    nextSteps: [{ action: 'check-url', label: 'Correct the gateway address.' }]
  })
}
