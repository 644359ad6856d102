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
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'g')

const CREDENTIALS_IN_ADDRESS =
  'Do not put a user name or password in the address (it contains an "@"). Enter the gateway token in its own field.'

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
  // Said before any other finding: an "@" is a user name and password in the address, however
  // the rest is mistyped, and a password may hold / ? # : so no other reading of the text is safe
  // to quote. A gateway address has no use for an "@" elsewhere either.
  if (raw.includes('@')) return fail(invalid(CREDENTIALS_IN_ADDRESS))
  if (/^[a-z][a-z0-9+.-]*:\/\/\//i.test(raw)) {
    return fail(invalid('The gateway address has no host name after the scheme.'))
  }
  // A scheme that is there but mistyped ("ws:/host", "wss//host", "wss:\\host") is named as
  // such: telling the operator to add a scheme they already typed sends them looking elsewhere.
  const nearScheme = /^(wss?|https?)(:?)([/\\]*)/i.exec(raw)
  if (nearScheme && !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) && (nearScheme[2] === ':' ? !/^\d/.test(raw.slice(nearScheme[0].length)) : nearScheme[3] !== '')) {
    const scheme = (nearScheme[1] ?? '').toLowerCase()
    return fail(
      invalid(
        nearScheme[2] === ':'
          ? `The gateway address has the scheme ${scheme}: but not the two slashes after it: write ${scheme}:// followed by the host, for example ${scheme}://gateway.example.com.`
          : `The gateway address is missing the colon after ${scheme}: write ${scheme}:// followed by the host, for example ${scheme}://gateway.example.com.`
      )
    )
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
    return fail(invalid(unparsableAddressMessage(raw)))
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
  if (url.username || url.password) return fail(invalid(CREDENTIALS_IN_ADDRESS))
  if (!url.hostname) {
    return fail(invalid('The gateway address has no host name.'))
  }
  const nameProblem = hostNameProblem(url.hostname)
  if (nameProblem) return fail(invalid(nameProblem))
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

/**
 * An IPv6 address (perhaps with a zone and a port) written without the brackets a URL needs:
 * only hex digits, colons and dots, and either a "::" or at least three colons, which tells it
 * from a host with a doubled port ("1.2.3.4:5:6").
 */
function isBareIpv6(authority: string): boolean {
  const [address = '', zone] = authority.split('%', 2)
  if (zone !== undefined && !/^[\w.-]+(:\d*)?$/.test(zone)) return false
  if (!/^[0-9a-f:.]+$/i.test(address)) return false
  return address.includes('::') || (address.match(/:/g) ?? []).length >= 3
}

/** Why `new URL` refused an address, as specifically as the text allows. */
function unparsableAddressMessage(raw: string): string {
  const scheme = raw.slice(0, raw.indexOf('://')).toLowerCase()
  const rest = raw.slice(scheme.length + 3)
  const authority = rest.split(/[/?#]/, 1)[0] ?? ''
  if (isBareIpv6(authority)) {
    // "ws://::1:18789" cannot be told apart from "ws://[::1:18789]"; the brackets say where the
    // address ends and the port begins.
    return /%/.test(authority) ? zoneMessage(scheme) : `An IPv6 address goes in square brackets, with the port after them: write it like ${ipv6Example(scheme)}.`
  }
  if (/^\[[^\]]*%/.test(authority)) return zoneMessage(scheme)
  if (/^\[[^\]]*$/.test(authority)) return `The IPv6 address has an opening [ but no closing ]: write it like ${ipv6Example(scheme)}.`
  const port = /:([^:\]]*)$/.exec(authority)?.[1]
  if (port !== undefined && port !== '' && !/^\d+$/.test(port)) {
    return port.length <= 12
      ? `The port "${port}" is not a number: write the port as digits after the colon, for example :18789.`
      : 'The port is not a number: write the port as digits after the colon, for example :18789.'
  }
  if (port !== undefined && /^\d+$/.test(port) && Number(port) > 65535) {
    return `The port ${port.length <= 12 ? `${port} ` : ''}is out of range: a port is a number from 1 to 65535 (18789 by default).`
  }
  return 'That is not a valid address. Check for typos in the host name and port.'
}

function ipv6Example(scheme: string): string {
  return scheme === 'wss' ? 'wss://[2001:db8::1]:443' : 'ws://[::1]:18789'
}

function zoneMessage(scheme: string): string {
  return `An IPv6 zone (the %name after a link-local address) cannot be used in a gateway address: use a global or loopback address in square brackets, like ${ipv6Example(scheme)}.`
}

/** Longest DNS name (RFC 1035), without a trailing dot, and longest label between dots. */
const MAX_HOST_NAME = 253
const MAX_LABEL = 63

/**
 * A host name no resolver can look up, said plainly. Checked here rather than left to DNS, which
 * answers such a name with a bare system error (EINVAL) that tells the operator nothing.
 * `hostname` is the URL's ASCII form (an internationalised name is already in its xn-- form,
 * which is what the limits apply to).
 */
function hostNameProblem(hostname: string): string | undefined {
  if (hostname.startsWith('[')) return undefined
  const name = hostname.replace(/\.$/, '')
  if (name.length > MAX_HOST_NAME) {
    return `The host name is ${name.length} characters long; a DNS name has at most ${MAX_HOST_NAME}. Check that the whole address was pasted once, without extra text.`
  }
  if (name === '' || hostname.startsWith('.') || hostname.includes('..')) {
    return 'The host name has an empty part (two dots in a row, or a dot at the start). Check the host name for a typo.'
  }
  const long = name.split('.').find((label) => label.length > MAX_LABEL)
  if (long) {
    return `A part of the host name between dots is ${long.length} characters long; DNS allows at most ${MAX_LABEL}. Check the host name for a paste error.`
  }
  return undefined
}

/** What {@link displayGatewayUrl} puts in place of a query value or a fragment. */
export const URL_REDACTED = '[redacted]'

/**
 * The scheme-like start of an address as typed, kept when the user info after it is removed:
 * a scheme followed by any slashes or backslashes ("ws:/", "wss//", "wss:/\\"), or a bare
 * scheme ("ws:"). A near miss is exactly what a person types, so it must not hide the user info.
 */
const USERINFO_PREFIX = /^((?:[a-z][a-z0-9+.-]*:?)?[/\\]+|(?:wss?|https?):)?/i

/**
 * The prefix kept and the user info of an address as typed: everything up to the last "@". A
 * password may itself hold / ? # or : ("ws://admin:2024/pw@host" parses as host "admin", port
 * 2024), so no parse of the text tells where it ends; the parser refuses any "@", so a shortened
 * display only ever shows an address that was refused anyway.
 */
function splitUserInfo(text: string): { prefix: string; userinfo: string; rest: string } | undefined {
  const at = text.lastIndexOf('@')
  if (at < 0) return undefined
  const prefix = USERINFO_PREFIX.exec(text)?.[0] ?? ''
  if (at < prefix.length) return { prefix: '', userinfo: text.slice(0, at), rest: text.slice(at + 1) }
  return { prefix, userinfo: text.slice(prefix.length, at), rest: text.slice(at + 1) }
}

/** Longest address shown in a report or a progress line. */
const MAX_DISPLAY = 200

/**
 * An address as typed, made safe to print: credentials in it (user name and password, query
 * values, the fragment) replaced or removed, on one line, and shortened. Works on text that is
 * not a valid URL too, because a refused address is still shown back to the operator. Query
 * parameter names are kept: they tell which parameter to remove.
 */
export function displayGatewayUrl(input: string, max = MAX_DISPLAY): string {
  // eslint-disable-next-line no-control-regex
  let text = String(input ?? '').replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(INVISIBLE_ALL, '').replace(/\s+/g, ' ').trim()
  // User name and password: up to the last "@" of the authority (before the first / ? or #).
  const split = splitUserInfo(text)
  if (split) text = split.prefix + split.rest
  const hash = text.indexOf('#')
  let fragment = ''
  if (hash >= 0) {
    fragment = hash < text.length - 1 ? `#${URL_REDACTED}` : ''
    text = text.slice(0, hash)
  }
  const question = text.indexOf('?')
  if (question >= 0) {
    const query = text
      .slice(question + 1)
      .split('&')
      .map((part) => {
        if (part === '') return part
        const eq = part.indexOf('=')
        return eq >= 0 ? `${part.slice(0, eq)}=${URL_REDACTED}` : URL_REDACTED
      })
      .join('&')
    text = `${text.slice(0, question)}?${query}`
  }
  text += fragment
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text
}

/**
 * The parts of an address that may be credentials (password, user name, query values, the
 * fragment), for the last-guard redactor of a report: should one of them reach a message
 * another way, it is still replaced.
 */
export function gatewayUrlSecrets(input: string): string[] {
  const raw = String(input ?? '').trim()
  const out: string[] = []
  const userinfo = splitUserInfo(raw)?.userinfo
  if (userinfo) {
    const colon = userinfo.indexOf(':')
    const password = colon >= 0 ? userinfo.slice(colon + 1) : userinfo
    out.push(userinfo, password, ...(colon > 0 ? [userinfo.slice(0, colon)] : []))
    // Pieces of a password holding / ? # or \\ (which a parser would read as path, query or port).
    out.push(...password.split(/[/?#\\]/).filter((piece) => piece.length >= 4 && piece !== password))
  }
  const hash = raw.indexOf('#')
  if (hash >= 0) out.push(raw.slice(hash + 1))
  const beforeHash = hash >= 0 ? raw.slice(0, hash) : raw
  const question = beforeHash.indexOf('?')
  if (question >= 0) {
    for (const part of beforeHash.slice(question + 1).split('&')) {
      const eq = part.indexOf('=')
      const value = eq >= 0 ? part.slice(eq + 1) : part
      out.push(value)
      try {
        out.push(decodeURIComponent(value.replace(/\+/g, ' ')))
      } catch {
        // not percent-encoded text: the raw value is enough
      }
    }
  }
  return [...new Set(out.filter((s) => s.trim() !== ''))]
}

/**
 * The same ws:// address over TLS, keeping the port that was dialled (ws://host means port 80,
 * which wss://host would not reach). For "this port speaks TLS: use this instead".
 */
export function secureGatewayHref(href: string): string {
  const url = new URL(href)
  const port = url.port === '' ? (url.protocol === 'wss:' ? '' : ':80') : url.port === '443' ? '' : `:${url.port}`
  return `wss://${url.hostname}${port}${url.pathname}${url.search}`
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
