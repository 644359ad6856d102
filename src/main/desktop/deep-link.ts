/**
 * `aether-remote://connect?url=…&name=…` links: open the gateway editor prefilled, nothing more.
 *
 * A link comes from anywhere (a web page, a chat message), so it is treated as untrusted: it
 * may name a gateway address and a display name, and that is all. A link that carries a
 * secret (a token, password, Cloudflare Access credential, a user name or password in either
 * address, any query or fragment in the gateway address, a token-like path segment) is refused whole,
 * so the secret is neither saved nor shown; the person enters secrets in the editor's own
 * fields. A link never connects: the editor opens and the person clicks Connect.
 */
import { parseGatewayUrl } from '../../shared/gateway-url'
import type { OpenGatewayRequest } from '../../shared/ipc-contract'

export const DEEP_LINK_SCHEME = 'aether-remote'

/** Longer links are refused without being parsed. */
const MAX_LINK_LENGTH = 4096
const MAX_NAME_LENGTH = 100

/** Parameter names that carry credentials, in the link itself or in the gateway address. */
const SECRET_PARAM = /token|secret|passw|pwd|jwt|key|auth|sig|credential|cookie|session[-_]?id|otp|^cf[-_]|^cf$|client[-_]?id/i
// Control, format (zero-width, bidi, tag, soft hyphen) and blank-looking filler characters:
// link text comes from outside and must not hide or reorder what the person reads.
const INVISIBLE = /[\p{Cc}\p{Cf}\u034f\u115f\u1160\u180e\u3164\uffa0]/gu
/** A path segment that looks like a token (a JWT, or a long run of base64/hex characters). */
const TOKEN_LIKE_SEGMENT = /^(eyJ[A-Za-z0-9_-]{8,}|[A-Za-z0-9_~+=./-]{32,})$/
/** Somewhere in a display name: a JWT or a long token-like run. */
const TOKEN_LIKE_TEXT = /eyJ[A-Za-z0-9_-]{8,}|[A-Za-z0-9_~+=/-]{32,}/

/** Text from the link made safe to show: no invisible characters, one line, bounded. */
function shown(text: string, max = 40): string {
  return text.replace(INVISIBLE, '').replace(/\s+/g, ' ').trim().slice(0, max)
}

export type DeepLinkResult = { ok: true; request: OpenGatewayRequest } | { ok: false; reason: string }

function refuse(reason: string): DeepLinkResult {
  return { ok: false, reason }
}

/** True when a command-line argument or URL is one of ours (case-insensitive scheme). */
export function isDeepLink(value: string): boolean {
  return value.slice(0, DEEP_LINK_SCHEME.length + 1).toLowerCase() === `${DEEP_LINK_SCHEME}:`
}

/**
 * The link in a launch's arguments (Windows and Linux pass it on the command line, to the
 * first instance or, via `second-instance`, to the running one).
 */
export function findDeepLinkInArgv(argv: readonly string[]): string | undefined {
  return argv.find((arg) => typeof arg === 'string' && isDeepLink(arg))
}

export function parseDeepLink(link: string): DeepLinkResult {
  if (typeof link !== 'string' || !isDeepLink(link)) return refuse('Not an Aether Remote link.')
  if (link.length > MAX_LINK_LENGTH) return refuse('The link is too long.')
  let url: URL
  try {
    url = new URL(link)
  } catch {
    return refuse('The link is not a valid address.')
  }
  if (url.username || url.password) return refuse('The link carries a user name or password; links never carry secrets.')
  // `aether-remote://connect?…` parses with host "connect"; `aether-remote:connect?…` with path "connect".
  const action = (url.host || url.pathname).replace(/^\/+|\/+$/g, '').toLowerCase()
  if (action !== 'connect') return refuse(`Unknown link action "${shown(action)}".`)

  const names = [...url.searchParams.keys()]
  const secret = names.find((n) => SECRET_PARAM.test(n))
  if (secret !== undefined) {
    return refuse(`The link carries a credential ("${shown(secret)}"); links never carry secrets. Enter them in the gateway editor.`)
  }
  const unknown = names.find((n) => n !== 'url' && n !== 'name')
  if (unknown !== undefined) return refuse(`The link has an unknown parameter "${shown(unknown)}".`)
  const urls = url.searchParams.getAll('url')
  if (urls.length !== 1) return refuse(urls.length === 0 ? 'The link names no gateway address.' : 'The link names more than one gateway address.')
  if (url.searchParams.getAll('name').length > 1) return refuse('The link names the gateway more than once.')

  const raw = urls[0]!.trim()
  if (!/^(wss?|https?):\/\//i.test(raw)) return refuse('The gateway address must start with wss://, ws://, https:// or http://.')
  const gateway = parseGatewayUrl(raw)
  if (!gateway.ok) return refuse(gateway.error.message)
  // A gateway address is scheme, host, port and path. Whatever a query or fragment holds
  // (`?pass=`, `?t=`, `#code=`), no name list can tell every credential apart, so a link's
  // address may have neither; nor a path segment that looks like a token.
  const gatewayUrl = new URL(raw)
  if (gatewayUrl.search !== '' || gatewayUrl.hash !== '' || raw.includes('?') || raw.includes('#')) {
    return refuse('The gateway address in the link has a query or fragment, where credentials travel; links never carry secrets. Enter the address in the gateway editor.')
  }
  // `;name=value` path parameters and encoded slashes are other places a credential can hide.
  if (/;|%2f|%5c/i.test(gatewayUrl.pathname)) {
    return refuse('The gateway address in the link has path parameters or encoded slashes; links never carry secrets. Enter the address in the gateway editor.')
  }
  if (gatewayUrl.pathname.split('/').some((segment) => TOKEN_LIKE_SEGMENT.test(decodeURIComponentSafe(segment)))) {
    return refuse('The gateway address in the link has a part that looks like a token; links never carry secrets.')
  }

  const name = shown(url.searchParams.get('name') ?? '', MAX_NAME_LENGTH)
  if (TOKEN_LIKE_TEXT.test(name)) return refuse('The gateway name in the link looks like a token; links never carry secrets.')
  return { ok: true, request: name ? { url: gateway.value.href, name } : { url: gateway.value.href } }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/**
 * Links that arrive before the window can take them (a cold start from a link) wait here;
 * only the latest one is kept, since each would replace the editor's content anyway.
 */
export class DeepLinkInbox {
  private pending: OpenGatewayRequest | null = null
  private deliver: ((request: OpenGatewayRequest) => void) | null = null

  constructor(private readonly onRefused: (reason: string) => void = () => {}) {}

  /** A link arrived (open-url, argv, second-instance). Returns whether it was accepted. */
  receive(link: string): boolean {
    const parsed = parseDeepLink(link)
    if (!parsed.ok) {
      this.onRefused(parsed.reason)
      return false
    }
    if (this.deliver) this.deliver(parsed.request)
    else this.pending = parsed.request
    return true
  }

  /** The window is ready for links: hand over the waiting one, then deliver as they come. */
  attach(deliver: (request: OpenGatewayRequest) => void): void {
    this.deliver = deliver
    const waiting = this.pending
    this.pending = null
    if (waiting) deliver(waiting)
  }

  /** The window went away: hold links again until the next one is ready. */
  detach(): void {
    this.deliver = null
  }
}
