import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { randomBytes } from 'node:crypto'
import type { CookieSameSite } from './types'

/** A response the edge produces itself (not relayed from the origin). */
export interface EdgeResponse {
  status: number
  headers: OutgoingHttpHeaders
  body?: string | Buffer
}

export function newRayId(): string {
  return randomBytes(8).toString('hex')
}

/** Parses a `Cookie` request header; the first occurrence of a name wins, as browsers send the most specific first. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  if (!header) return cookies
  for (const part of header.split(';')) {
    const separator = part.indexOf('=')
    if (separator <= 0) continue
    const name = part.slice(0, separator).trim()
    const value = part.slice(separator + 1).trim()
    if (name && !cookies.has(name)) cookies.set(name, value)
  }
  return cookies
}

/** The `Cookie` header without the named cookies; undefined when nothing is left. */
export function removeCookies(header: string | undefined, names: readonly string[]): string | undefined {
  if (!header) return undefined
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && !names.includes(part.slice(0, Math.max(part.indexOf('='), 0)).trim()))
  return kept.length > 0 ? kept.join('; ') : undefined
}

export interface SetCookieOptions {
  expiresMs: number
  path?: string
  secure?: boolean
  httpOnly?: boolean
  sameSite?: CookieSameSite | 'none'
}

/** Attribute order and spelling as in observed Access responses: `Expires`, `Path`, `Secure`, `HttpOnly`, `SameSite`. */
export function setCookie(name: string, value: string, options: SetCookieOptions): string {
  const parts = [`${name}=${value}`, `Expires=${new Date(options.expiresMs).toUTCString()}`, `Path=${options.path ?? '/'}`]
  if (options.secure !== false) parts.push('Secure')
  if (options.httpOnly) parts.push('HttpOnly')
  if (options.sameSite) parts.push(`SameSite=${options.sameSite}`)
  return parts.join('; ')
}

export function clearCookie(name: string): string {
  return `${name}=; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=None`
}

/** Single value of a request header; null when absent. Duplicates are reported separately by `headerCount`. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()]
  if (value === undefined) return null
  return Array.isArray(value) ? (value[0] ?? null) : value
}

export function headerCount(req: IncomingMessage, name: string): number {
  return req.headersDistinct[name.toLowerCase()]?.length ?? 0
}

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (headerValue(req.headers, 'upgrade') ?? '').toLowerCase() === 'websocket'
}

export function hostWithoutPort(hostHeader: string | undefined): string {
  if (!hostHeader) return ''
  const host = hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : (hostHeader.split(':')[0] ?? '')
  return host.toLowerCase().replace(/\.$/, '')
}

export function withBodyHeaders(response: EdgeResponse): OutgoingHttpHeaders {
  const body = response.body ?? ''
  return { ...response.headers, 'content-length': String(Buffer.byteLength(body)) }
}

export function sendEdgeResponse(req: IncomingMessage, res: ServerResponse, response: EdgeResponse): void {
  res.writeHead(response.status, withBodyHeaders(response))
  res.end(req.method === 'HEAD' ? undefined : response.body)
}

/** Serialises a response head for a socket that left the HTTP parser (upgrade requests). */
export function rawResponseHead(status: number, headers: OutgoingHttpHeaders, statusMessage?: string): string {
  const lines = [`HTTP/1.1 ${status} ${statusMessage ?? STATUS_CODES[status] ?? ''}`]
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(item)}`)
  }
  return lines.join('\r\n') + '\r\n\r\n'
}

/** Answers an upgrade request with a plain HTTP response and closes the socket, as the edge does for refused upgrades. */
export function writeRawResponse(socket: Duplex, response: EdgeResponse): void {
  const headers = { ...withBodyHeaders(response), connection: 'close' }
  socket.end(rawResponseHead(response.status, headers) + (response.body ? response.body.toString() : ''))
}

export function readBody(req: IncomingMessage, limitBytes = 1_000_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limitBytes) {
        reject(new Error('request body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}
