/**
 * `aether-remote://connect?url=…&name=…` links: open the gateway editor prefilled, nothing more.
 *
 * A link comes from anywhere (a web page, a chat message), so it is treated as untrusted: it
 * may name a gateway address and a display name, and that is all. A link that carries a
 * secret (a token, password, Cloudflare Access credential, a user name or password in either
 * address, or a credential-looking query parameter in the gateway address) is refused whole,
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
// Control and invisible characters: link and reply text comes from outside.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g

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
  if (action !== 'connect') return refuse(`Unknown link action "${action.slice(0, 40)}".`)

  const names = [...url.searchParams.keys()]
  const secret = names.find((n) => SECRET_PARAM.test(n))
  if (secret !== undefined) {
    return refuse(`The link carries a credential ("${secret.slice(0, 40)}"); links never carry secrets. Enter them in the gateway editor.`)
  }
  const unknown = names.find((n) => n !== 'url' && n !== 'name')
  if (unknown !== undefined) return refuse(`The link has an unknown parameter "${unknown.slice(0, 40)}".`)
  const urls = url.searchParams.getAll('url')
  if (urls.length !== 1) return refuse(urls.length === 0 ? 'The link names no gateway address.' : 'The link names more than one gateway address.')
  if (url.searchParams.getAll('name').length > 1) return refuse('The link names the gateway more than once.')

  const raw = urls[0]!.trim()
  if (!/^(wss?|https?):\/\//i.test(raw)) return refuse('The gateway address must start with wss://, ws://, https:// or http://.')
  const gateway = parseGatewayUrl(raw)
  if (!gateway.ok) return refuse(gateway.error.message)
  const gatewayUrl = new URL(gateway.value.href)
  const gatewaySecret = [...gatewayUrl.searchParams.keys()].find((n) => SECRET_PARAM.test(n))
  if (gatewaySecret !== undefined) {
    return refuse(`The gateway address carries a credential ("${gatewaySecret.slice(0, 40)}"); links never carry secrets.`)
  }

  const name = (url.searchParams.get('name') ?? '').replace(CONTROL, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH)
  return { ok: true, request: name ? { url: gateway.value.href, name } : { url: gateway.value.href } }
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
