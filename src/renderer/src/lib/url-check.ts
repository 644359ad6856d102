/**
 * The gateway URL field's verdict as the user types, from the shared parseGatewayUrl rules.
 *
 * The profiles file only takes a final ws:// or wss:// address, so anything the parser would
 * change (https:// → wss://, a #fragment dropped) is not saved silently: it is offered as a
 * one-click fix.
 */
import { isLoopbackHost, parseGatewayUrl } from '../../../shared/gateway-url'

export type UrlCheck =
  | { kind: 'empty' }
  | { kind: 'invalid'; message: string }
  | { kind: 'fixable'; message: string; fixed: string }
  | { kind: 'ok'; secure: boolean; host: string; port: number; loopback: boolean }

export function checkGatewayUrl(input: string): UrlCheck {
  if (input.trim() === '') return { kind: 'empty' }
  const parsed = parseGatewayUrl(input)
  if (!parsed.ok) return { kind: 'invalid', message: parsed.error.message }
  const url = parsed.value
  if (url.notes.length > 0) return { kind: 'fixable', message: fixMessage(input), fixed: minimalFix(input) }
  return { kind: 'ok', secure: url.secure, host: url.host, port: url.port, loopback: isLoopbackHost(url.host) }
}

function fixMessage(input: string): string {
  const parts: string[] = []
  const scheme = /^\s*(https?):\/\//i.exec(input)?.[1]?.toLowerCase()
  if (scheme === 'https') parts.push('The gateway speaks WebSocket on the same address: use wss:// instead of https://.')
  if (scheme === 'http') parts.push('The gateway speaks WebSocket on the same address: use ws:// instead of http://.')
  if (input.includes('#')) parts.push('A gateway address has no #fragment.')
  return parts.join(' ')
}

/** The user's own text with only what the parser objected to changed (no added trailing slash). */
function minimalFix(input: string): string {
  return input
    .trim()
    .replace(/^https:\/\//i, 'wss://')
    .replace(/^http:\/\//i, 'ws://')
    .replace(/#.*$/, '')
}

/** True when the address is (or will be, after the offered fix) a TLS one, where Access sits. */
export function looksSecure(input: string): boolean {
  return /^\s*(wss|https):\/\//i.test(input)
}
