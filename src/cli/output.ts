/**
 * Everything the CLI prints: human text or one JSON object per line, always through the
 * redactor so no known secret can reach the terminal.
 *
 * Human output also goes through sanitizeForTerminal, here and only here: error fields, the
 * hello summary and the streamed reply all carry text chosen by the gateway, a proxy or the
 * agent, and a terminal would obey the ESC sequences in it. JSON output needs no such step:
 * JSON.stringify escapes every control character.
 */
import type { AppError } from '../shared/errors'
import { exitCodeFor } from '../shared/errors'
import { redactSecrets } from '../shared/redact'
import { sanitizeForTerminal } from '../shared/terminal-text'

export interface Output {
  json: boolean
  /** A JSON line (json mode) — ignored in human mode. */
  event(obj: Record<string, unknown>): void
  /** Text for stdout (the reply stream, summaries). */
  out(text: string): void
  /** Text for stderr (progress, warnings, errors) in human mode. */
  info(text: string): void
  warning(message: string): void
  error(error: AppError): void
}

export function createOutput(opts: {
  json: boolean
  secrets: readonly (string | undefined)[]
  stdout?: NodeJS.WritableStream
  stderr?: NodeJS.WritableStream
}): Output {
  const stdout = opts.stdout ?? process.stdout
  const stderr = opts.stderr ?? process.stderr
  const redact = (s: string) => redactSecrets(s, opts.secrets)
  // Redacted before and after: a secret split by control characters is whole again once they go.
  const clean = (s: string) => redact(sanitizeForTerminal(redact(s)))
  const o: Output = {
    json: opts.json,
    event(obj) {
      if (opts.json) stdout.write(redact(JSON.stringify(obj)) + '\n')
    },
    out(text) {
      if (!opts.json) stdout.write(clean(text))
    },
    info(text) {
      if (!opts.json) stderr.write(clean(text) + '\n')
    },
    warning(message) {
      if (opts.json) o.event({ type: 'warning', message })
      else stderr.write(clean(`warning: ${message}`) + '\n')
    },
    error(error) {
      if (opts.json) {
        o.event({
          type: 'error',
          code: error.code,
          category: error.category,
          title: error.title,
          message: error.message,
          // Always present (possibly empty), so scripts can read it without checking.
          likelyCauses: error.likelyCauses ?? [],
          nextSteps: error.nextSteps,
          details: error.details,
          retryable: error.retryable,
          exitCode: exitCodeFor(error)
        })
      } else {
        stderr.write(clean(formatError(error)) + '\n')
      }
    }
  }
  return o
}

/** Text from the peer on one line, so it cannot pose as further lines of the error block. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

function yesNo(v: boolean | undefined): string | undefined {
  return v === undefined ? undefined : v ? 'yes' : 'no'
}

/** A readable block: headline, why, what Access said, likely causes, what to do. */
export function formatError(error: AppError): string {
  const lines = [`error: ${error.title} [${error.code}]`, `  ${error.message}`]
  const d = error.details
  const c = d.accessClaims
  if (c || d.accessTeamDomain) {
    const facts: [string, string | undefined][] = [
      ['team domain', d.accessTeamDomain],
      ['application host', c?.hostname],
      ['audience (AUD)', c?.audience ?? d.accessAud],
      ['service token recognised', yesNo(c?.serviceTokenStatus)],
      ['auth status', c?.authStatus],
      ['through WARP', yesNo(c?.isWarp)],
      ['Zero Trust gateway', yesNo(c?.isGateway)],
      ['country', c?.country],
      ['ray id', c?.rayId ?? d.cfRay]
    ]
    lines.push('  What Cloudflare Access reported:')
    for (const [k, v] of facts) if (v !== undefined) lines.push(`    ${k}: ${v}`)
  }
  if (d.credentialsSent && d.credentialsSent.length > 0) lines.push(`  Credentials sent: ${d.credentialsSent.join(', ')}`)
  else if (error.category === 'access') lines.push('  Credentials sent: none')
  if (d.gatewayDetailCode || d.gatewayCode) {
    lines.push(`  Gateway answer: ${[d.gatewayCode, d.gatewayDetailCode].filter(Boolean).join(' / ')}`)
  }
  // The gateway's own words only where no code of ours explains the refusal.
  if (d.gatewayMessage && (error.code === 'GATEWAY_REJECTED' || error.code === 'REQUEST_FAILED')) {
    lines.push(`  Gateway said: ${oneLine(d.gatewayMessage)}`)
  }
  if (d.closeCode !== undefined) {
    lines.push(`  Close code: ${d.closeCode}${d.closeReason ? ` (reason: ${oneLine(d.closeReason)})` : ''}`)
  }
  if (d.httpStatus) lines.push(`  HTTP status: ${d.httpStatus}${d.cloudflareErrorCode ? ` (Cloudflare error ${d.cloudflareErrorCode})` : ''}`)
  if (d.systemCode) lines.push(`  System error: ${d.systemCode}`)
  if (d.certificateSubject) {
    lines.push(`  Certificate: ${d.certificateSubject}, issued by ${d.certificateIssuer ?? '?'}, valid to ${d.certificateValidTo ?? '?'}`)
  }
  if (d.notes) for (const n of d.notes) lines.push(`  Note: ${n}`)
  if (error.likelyCauses && error.likelyCauses.length > 0) {
    lines.push('  Likely causes, most likely first:')
    error.likelyCauses.forEach((cause, i) => lines.push(`    ${i + 1}. ${cause}`))
  }
  if (error.nextSteps.length > 0) {
    lines.push('  What to do:')
    for (const step of error.nextSteps) {
      lines.push(`    - ${step.label}${TERMINAL_HINTS[step.action] ? ` ${TERMINAL_HINTS[step.action]}` : ''}`)
      if (step.command) lines.push(`        ${step.command}`)
    }
  }
  return lines.join('\n')
}

/**
 * Next steps are worded for the app's fields too; in a terminal, say where the value goes.
 * (Secrets are never taken from the command line, only from the environment or the keychain.)
 */
const TERMINAL_HINTS: Partial<Record<AppError['nextSteps'][number]['action'], string>> = {
  'check-gateway-token': '(On the command line: set AETHER_GATEWAY_TOKEN, or save it in a profile.)',
  'add-service-token': '(On the command line: set AETHER_CF_CLIENT_ID and AETHER_CF_CLIENT_SECRET.)',
  'check-service-token': '(On the command line: check AETHER_CF_CLIENT_ID and AETHER_CF_CLIENT_SECRET.)',
  'add-ca-file': '(On the command line: --ca-file PATH.)'
}
