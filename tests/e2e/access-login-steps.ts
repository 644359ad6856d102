/**
 * The user's part on the Cloudflare Access login page (the emulator's), in a login window or
 * a browser tab: the email, then the one-time code the emulator "mailed" to its outbox; plus
 * the requests to an Access application that the tests make from outside the window.
 */
import https from 'node:https'
import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { decodeJwt, type AccessEmulator, type OutboxMessage } from '../support/access-emulator'

/** What the login page says to a wrong or expired code. */
export const INVALID_CODE_MESSAGE = 'That code is invalid or has expired.'

/** Types the email and asks for a code; returns the mail the emulator "sent" (to its outbox). */
export async function requestCodeMail(login: Page, emu: AccessEmulator, email: string): Promise<OutboxMessage> {
  await login.getByLabel('Email').fill(email)
  const before = emu.outbox.length
  await login.getByRole('button', { name: 'Send me a code' }).click()
  await login.getByLabel('Code').waitFor()
  await expect.poll(() => emu.outbox.length).toBeGreaterThan(before)
  return emu.outbox.at(-1)!
}

/** Types a code and signs in with it. */
export async function typeCode(login: Page, code: string): Promise<void> {
  await login.getByLabel('Code').fill(code)
  await login.getByRole('button', { name: 'Sign in' }).click()
}

/** A code that is not `code`. */
export function wrongCode(code: string): string {
  return code === '000000' ? '111111' : '000000'
}

/** Waits for the login page to say the code was invalid. */
export async function waitForInvalidCode(login: Page): Promise<void> {
  await login.getByRole('alert').filter({ hasText: INVALID_CODE_MESSAGE }).waitFor()
}

/** The claims of an Access JWT (app or org token). */
export function claimsOf(token: string): Record<string, unknown> {
  const decoded = decodeJwt(token)
  if (!decoded) throw new Error('not a JWT')
  return decoded.payload as Record<string, unknown>
}

/** A GET to an Access application through the emulator, with these headers; resolves to the status code. */
export function getThroughAccess(emu: AccessEmulator, host: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(emu.appUrl(host, path))
    const req = https.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'GET', ca: emu.caCertPem, headers }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
}

/**
 * Ends the identity session elsewhere, the way another tab or an administrator would (the
 * app-host logout with that token as its cookie): Access revokes it at once.
 */
export function logoutElsewhere(emu: AccessEmulator, host: string, token: string, userAgent: string): Promise<number> {
  return getThroughAccess(emu, host, '/cdn-cgi/access/logout', { cookie: `CF_Authorization=${token}`, 'user-agent': userAgent })
}
