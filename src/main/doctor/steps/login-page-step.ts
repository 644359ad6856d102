/**
 * Step 5: the Access login page the redirect points at. Its application name, the team, and
 * the sign-in methods it offers (one-time PIN by email, identity providers). Policies are not
 * visible on the page: whether a service token can get in is what the next step finds out.
 */
import { DOCTOR_STEP_TITLES } from '../../../shared/doctor-report'
import { stepRequest } from '../access-probe'
import { facts, type DoctorStepDefinition, type LoginPageFindings } from '../context'

const MAX_NAME = 80

function clean(text: string | undefined): string | undefined {
  if (!text) return undefined
  const value = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  if (value === '') return undefined
  return value.length > MAX_NAME ? `${value.slice(0, MAX_NAME - 1)}…` : value
}

/** Read what a login page offers. Pure, for any HTML (the real page, the emulator's, a proxy's). */
export function readLoginPage(html: string, teamDomain: string | undefined): Omit<LoginPageFindings, 'fetched'> {
  const jsonName = /"(?:app_name|appName|application_name)"\s*:\s*"([^"]{1,200})"/.exec(html)?.[1]
  const heading = /<h1[^>]*>([\s\S]{0,300}?)<\/h1>/i.exec(html)?.[1]
  const headingName = clean(heading)?.replace(/^(sign in|log in|login)( to)?\s*/i, '')
  const title = clean(/<title[^>]*>([\s\S]{0,300}?)<\/title>/i.exec(html)?.[1])?.replace(/\s*[・|·-]\s*Cloudflare Access\s*$/i, '')
  const appName = clean(jsonName) ?? (headingName || undefined) ?? title
  const teamName = teamDomain?.replace(/\.(fed\.)?cloudflareaccess\.com$/i, '')

  const otp =
    /<input[^>]+type=["']?email/i.test(html) || /one[- ]time (pin|code)|onetimepin|"type"\s*:\s*"otp"|send me a code/i.test(html)
  const providers = new Set<string>()
  for (const m of html.matchAll(/<(?:a|button)\b[^>]*>([\s\S]{0,200}?)<\/(?:a|button)>/gi)) {
    const label = clean(m[1])
    const named = label && /^(?:sign in|log in|continue|login) with (.+)$/i.exec(label)?.[1]
    if (named && !/email|code|one[- ]time/i.test(named)) providers.add(named)
  }
  for (const m of html.matchAll(/"(?:idp_name|idpName)"\s*:\s*"([^"]{1,100})"/g)) {
    const name = clean(m[1])
    if (name) providers.add(name)
  }
  return { ...(appName ? { appName } : {}), ...(teamName ? { teamName } : {}), otp, identityProviders: [...providers].slice(0, 10) }
}

export const loginPageStep: DoctorStepDefinition = {
  id: 'login-page',
  title: DOCTOR_STEP_TITLES['login-page'],
  timeoutMs: 5_000,
  async run(ctx) {
    const plain = ctx.findings.plain
    if (!plain?.behindAccess) return { status: 'skip', summary: 'Not run: no Access login redirect to follow.', details: [] }
    if (!plain.loginLocation || !plain.login) {
      ctx.findings.loginPage = { fetched: false, otp: false, identityProviders: [] }
      return { status: 'skip', summary: 'Not run: Access answered with a 401 instead of a login redirect, so there is no login page to read.', details: [] }
    }
    const base = ctx.findings.url?.webOrigin ?? 'https://invalid.invalid'
    let location: string
    try {
      location = new URL(plain.loginLocation, base).toString()
    } catch {
      return { status: 'skip', summary: 'Not run: the login redirect is not a usable address.', details: [] }
    }
    let response
    try {
      response = await stepRequest(ctx, location, { 'User-Agent': ctx.userAgent, Accept: 'text/html' }, ctx.timeoutMs)
    } catch {
      ctx.findings.loginPage = { fetched: false, otp: false, identityProviders: [] }
      return { status: 'warn', summary: `The login page on ${plain.teamDomain ?? 'the team domain'} did not answer.`, details: [] }
    }
    if (response.status !== 200) {
      ctx.findings.loginPage = { fetched: false, otp: false, identityProviders: [] }
      return {
        status: 'warn',
        summary: `The login page on ${plain.teamDomain ?? 'the team domain'} answered HTTP ${response.status}, so its sign-in methods are unknown.`,
        details: facts([['HTTP status', response.status]])
      }
    }
    const page = readLoginPage(response.body, plain.teamDomain)
    ctx.findings.loginPage = { fetched: true, ...page }
    const methods = [...(page.otp ? ['one-time PIN by email'] : []), ...page.identityProviders]
    const details = facts([
      ['application', page.appName],
      ['team', page.teamName],
      ['sign-in methods', methods.join(', ') || 'none found'],
      ['service tokens', 'not shown on the page (policies are not visible to clients); see the service-token step']
    ])
    const only = page.otp && page.identityProviders.length === 0 ? ' (email codes only)' : ''
    return {
      status: 'pass',
      summary: `The login page of ${page.appName ?? 'the application'}${page.teamName ? ` (team ${page.teamName})` : ''} offers: ${methods.join(', ') || 'no sign-in method that could be read'}${only}.`,
      details
    }
  }
}
