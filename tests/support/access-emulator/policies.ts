import type { AccessPolicy } from './types'

// Evaluation as Access documents it: Bypass and Service Auth (non_identity) first, then Block, then Allow.
// Only Service Auth admits a service token; an Allow policy listing one still sends the client to login (§3).

export function pathMatches(policy: AccessPolicy, pathname: string): boolean {
  if (!policy.paths || policy.paths.length === 0) return true
  return policy.paths.some((prefix) => {
    const base = prefix.endsWith('/') && prefix !== '/' ? prefix.slice(0, -1) : prefix
    return base === '/' || pathname === base || pathname.startsWith(base + '/')
  })
}

export function isBypassed(policies: readonly AccessPolicy[], pathname: string): boolean {
  return policies.some((policy) => policy.decision === 'bypass' && pathMatches(policy, pathname))
}

export interface ServiceTokenIdentity {
  clientId: string
  name: string
}

export function admitsServiceToken(policies: readonly AccessPolicy[], pathname: string, token: ServiceTokenIdentity): boolean {
  return policies.some(
    (policy) =>
      policy.decision === 'non_identity' &&
      pathMatches(policy, pathname) &&
      (policy.anyValidServiceToken === true || (policy.serviceTokens ?? []).some((entry) => entry === token.clientId || entry === token.name))
  )
}

function identityMatches(selectors: { everyone?: boolean; emails?: string[]; emailDomains?: string[] }, email: string): boolean {
  const address = email.toLowerCase()
  if (selectors.everyone) return true
  if ((selectors.emails ?? []).some((entry) => entry.toLowerCase() === address)) return true
  const domain = address.slice(address.lastIndexOf('@') + 1)
  return (selectors.emailDomains ?? []).some((entry) => entry.toLowerCase().replace(/^@/, '') === domain)
}

/** Identity check done at login (OTP send, SSO short-circuit). Path-scoped policies count when they cover the path. */
export function admitsIdentity(policies: readonly AccessPolicy[], pathname: string, email: string): boolean {
  const applicable = policies.filter((policy) => pathMatches(policy, pathname))
  for (const policy of applicable) {
    if (policy.decision === 'deny' && identityMatches(policy, email)) return false
  }
  return applicable.some((policy) => policy.decision === 'allow' && identityMatches(policy, email))
}
