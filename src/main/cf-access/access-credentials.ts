/**
 * Cloudflare Access credentials as the transport sends them, and checks on what a user typed.
 *
 * Access reads a credential from every request, the WebSocket upgrade included, so the same
 * headers go on every dial. What was sent is reported by NAME only (`sentNames`): the classifier
 * needs to know "a service token was sent" to explain a refusal, never the values.
 */
import { appError, type AppError } from '../../shared/errors'
import { normaliseAppToken } from './app-token'

/** How this connection authenticates to Cloudflare Access. */
export type AccessCredentials =
  | { kind: 'none' }
  | { kind: 'service-token'; clientId: string; clientSecret: string }
  | { kind: 'app-token'; token: string; binding?: string }

/** Headers for the upgrade request plus the names (never values) of what they carry. */
export interface AccessUpgradeHeaders {
  headers: Record<string, string>
  sentNames: string[]
}

/**
 * Build the Access headers for a WebSocket upgrade (or any request to the app host).
 *
 * - service token → `CF-Access-Client-Id` + `CF-Access-Client-Secret`;
 * - app token → both `cf-access-token` (what cloudflared sends) and `Cookie: CF_Authorization=…`
 *   (what browsers and wrangler send), because which one a given edge setup reads first is not
 *   documented and sending both costs nothing; `CF_Binding` joins the cookie when the app uses
 *   the binding cookie, without which a bare CF_Authorization is refused.
 */
export function accessUpgradeHeaders(creds: AccessCredentials): AccessUpgradeHeaders {
  switch (creds.kind) {
    case 'none':
      return { headers: {}, sentNames: [] }
    case 'service-token':
      return {
        headers: {
          'CF-Access-Client-Id': creds.clientId.trim(),
          'CF-Access-Client-Secret': creds.clientSecret.trim()
        },
        sentNames: ['CF-Access-Client-Id', 'CF-Access-Client-Secret']
      }
    case 'app-token': {
      const jwt = normaliseAppToken(creds.token)
      const binding = creds.binding?.trim()
      let cookie = `CF_Authorization=${jwt}`
      const sentNames = ['cf-access-token', 'CF_Authorization']
      if (binding) {
        cookie += `; CF_Binding=${binding}`
        sentNames.push('CF_Binding')
      }
      return { headers: { 'cf-access-token': jwt, Cookie: cookie }, sentNames }
    }
  }
}

/** Something about the typed service token worth telling the user, without refusing it. */
export interface ServiceTokenWarning {
  code: 'trimmed' | 'header-name-removed' | 'missing-access-suffix' | 'looks-swapped'
  message: string
}

/** Result of {@link validateServiceTokenInput}. */
export type ServiceTokenValidation =
  | { ok: true; clientId: string; clientSecret: string; trimmed: boolean; warnings: ServiceTokenWarning[] }
  | { ok: false; error: AppError }

/** `<32 hex>.access`, or the older `<hex>.access.<zone>` form. */
const CLIENT_ID_SHAPE = /^[0-9a-f]{32}\.access(\.[a-z0-9.-]+)?$/i
/** Legacy secrets are 64 hex; tokens created from 2026-08-26 are `cfast_` + 48 alphanumerics. */
const SECRET_SHAPE = /^([0-9a-f]{64}|cfast_[a-z0-9]{20,})$/i

/**
 * Check a Client ID and Client Secret as typed or pasted, before they are saved.
 *
 * Cleans what is safe to clean (surrounding whitespace, a pasted `CF-Access-Client-Id:` header
 * name) and says so; warns about shapes that will most likely be refused (no `.access` suffix,
 * id and secret swapped) without blocking, since the secret is opaque and formats change;
 * refuses only values that cannot be sent as a header at all (empty, inner whitespace, control
 * characters) with INVALID_INPUT. The error never contains either value.
 */
export function validateServiceTokenInput(clientId: string, clientSecret: string): ServiceTokenValidation {
  const warnings: ServiceTokenWarning[] = []
  const id = clean(clientId, /^cf-access-client-id\s*:\s*/i)
  const secret = clean(clientSecret, /^cf-access-client-secret\s*:\s*/i)

  for (const [field, value, label] of [
    ['client-id', id, 'Client ID'],
    ['client-secret', secret, 'Client Secret']
  ] as const) {
    if (value.text === '') {
      return invalid(`${field}-empty`, `The ${label} is empty.`, `Paste the ${label} shown when the service token was created.`)
    }
    // Checked before whitespace because \s would match some of them and hide the real problem.
    // Non-ASCII is refused too: Node will not put it in a header, and it is always a paste
    // artefact (smart quotes, zero-width spaces from chat apps or PDFs).
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000a-\u001f]|[^\u0000-\u007e]/.test(value.text)) {
      return invalid(
        `${field}-control`,
        `The ${label} contains invisible or non-ASCII characters, which cannot be sent in a request header.`,
        `Paste the ${label} again, copied from plain text.`
      )
    }
    if (/\s/.test(value.text)) {
      return invalid(
        `${field}-whitespace`,
        `The ${label} contains spaces or line breaks in the middle, so it was not copied as one value.`,
        `Paste the ${label} again as a single value.`
      )
    }
  }

  const trimmed = id.trimmed || secret.trimmed
  if (trimmed) warnings.push({ code: 'trimmed', message: 'Removed spaces or line breaks around the pasted values.' })
  if (id.labelRemoved || secret.labelRemoved) {
    warnings.push({ code: 'header-name-removed', message: 'Removed a pasted header name in front of the value.' })
  }

  const swapped = looksLikeSecret(id.text) && CLIENT_ID_SHAPE.test(secret.text)
  if (swapped) {
    warnings.push({
      code: 'looks-swapped',
      message: 'The Client ID and Client Secret look swapped: the Client ID ends in ".access" and the secret is the long value.'
    })
  } else if (!/\.access(\.|$)/i.test(id.text)) {
    warnings.push({
      code: 'missing-access-suffix',
      message: 'Client IDs end in ".access" (older ones in ".access.<zone>"); copy the whole Client ID as issued.'
    })
  }

  return { ok: true, clientId: id.text, clientSecret: secret.text, trimmed, warnings }
}

function looksLikeSecret(value: string): boolean {
  return SECRET_SHAPE.test(value) || /^cfast_/i.test(value)
}

function clean(value: string, label: RegExp): { text: string; trimmed: boolean; labelRemoved: boolean } {
  const input = typeof value === 'string' ? value : ''
  let text = input.trim()
  const trimmed = text !== input
  const withoutLabel = text.replace(label, '')
  const labelRemoved = withoutLabel !== text
  text = withoutLabel.trim()
  return { text, trimmed, labelRemoved }
}

function invalid(check: string, message: string, step: string): ServiceTokenValidation {
  return {
    ok: false,
    error: appError('INVALID_INPUT', 'Service token not usable', message, {
      nextSteps: [{ action: 'check-service-token', label: step }],
      details: { check }
    })
  }
}
