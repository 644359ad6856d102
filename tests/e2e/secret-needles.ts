/**
 * What the "no secret reached the renderer" tests search for: every secret in play, in each
 * form it could take in a JSON payload or the page.
 */
import type { Page } from 'playwright-core'
import type { RecordingSecretStore } from './recording-secret-store'

/** [what it is, the text to look for] for each secret, with its JSON-escaped form and key lines. */
export function secretNeedles(secrets: ReadonlyMap<string, string>): [string, string][] {
  const needles: [string, string][] = []
  for (const [what, value] of secrets) {
    needles.push([what, value])
    // A value with characters JSON escapes (the identity's PEM) is searched in its escaped form too.
    const escaped = JSON.stringify(value).slice(1, -1)
    if (escaped !== value) needles.push([`${what} (JSON-escaped)`, escaped])
    // And the identity's private key material on its own.
    const pem = /-----BEGIN PRIVATE KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END/.exec(value)
    if (pem) for (const line of pem[1]!.split(/\s+/).filter((l) => l.length >= 16)) needles.push([`${what} (key line)`, line])
  }
  return needles
}

/** The kinds of secret the store ever held (`gateway:<id>:token`, `device:identity`, …). */
export function storedSecretKinds(store: RecordingSecretStore): string[] {
  return store.storedValues().map((s) => s.key.replace(/:[^:]+:/, ':<id>:'))
}

/** The window's DOM and the value of every input and text area in it. */
export async function windowContents(page: Page): Promise<string> {
  return (await page.evaluate(
    `document.documentElement.outerHTML + '\\n' + Array.from(document.querySelectorAll('input, textarea')).map((el) => el.value).join('\\n')`
  )) as string
}
