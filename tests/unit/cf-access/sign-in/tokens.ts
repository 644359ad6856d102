// Access-shaped JWTs and Electron-shaped cookies for the sign-in tests.
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import type { CookieLike } from '../../../../src/main/cf-access/sign-in/cookie-capture'

export const APP_HOST = 'gateway.example.workers.dev'
export const TEAM_DOMAIN = 'example-team.cloudflareaccess.com'
export const AUD = '4f'.repeat(32)
export const OTHER_AUD = '9e'.repeat(32)
export const ORG_AUD = '0c'.repeat(32)
export const EMAIL = 'operator@example.com'
export const NOW_MS = Date.UTC(2026, 5, 1, 12, 0, 0)
export const NOW = NOW_MS / 1000

let key: CryptoKey | undefined

/** An RS256 token with Access's header and identity claims; every claim can be overridden (undefined removes it). */
export async function accessToken(claims: Record<string, unknown> = {}): Promise<string> {
  key ??= (await generateKeyPair('RS256')).privateKey
  const payload: Record<string, unknown> = {
    aud: [AUD],
    email: EMAIL,
    exp: NOW + 24 * 3600,
    iat: NOW - 60,
    nbf: NOW - 60,
    iss: `https://${TEAM_DOMAIN}`,
    type: 'app',
    identity_nonce: 'n0nce-value',
    sub: '7335d417-61da-459d-899c-0a01c76a2bd3',
    country: 'DE',
    ...claims
  }
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name]
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'ab'.repeat(32), typ: 'JWT' }).sign(key)
}

/** A cookie as Electron's `session.cookies` reports it: host-only unless `domain` starts with a dot. */
export function electronCookie(name: string, value: string, overrides: Partial<CookieLike> = {}): CookieLike & { sameSite: string } {
  const domain = overrides.domain ?? APP_HOST
  return {
    name,
    value,
    domain,
    hostOnly: !domain.startsWith('.'),
    path: '/',
    secure: true,
    httpOnly: true,
    session: false,
    expirationDate: NOW + 24 * 3600,
    sameSite: 'no_restriction',
    ...overrides
  }
}

/** Assert that a serialised value holds no part of `token` and none of its personal claims. */
export function secretsAbsent(value: unknown, token: string): boolean {
  const text = JSON.stringify(value)
  return !token.split('.').some((part) => part.length > 8 && text.includes(part)) && !text.includes(EMAIL) && !text.includes('n0nce-value')
}
