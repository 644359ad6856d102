/**
 * The ways forward the verdict offers, with the exact steps: in the Cloudflare Zero Trust
 * dashboard, in the Cloudflare dashboard of the zone, on the gateway host, or in this app.
 * Dashboard paths follow the Zero Trust dashboard's menu (Access → Applications, Access →
 * Service credentials → Service Tokens).
 */
import type { NextStep } from '../../shared/errors'
import type { DoctorWayForward } from '../../shared/doctor-report'

/** What the steps need to name: the application, its team and AUD, the token, the address. */
export interface WayContext {
  appHost: string
  dialledHost: string
  teamDomain?: string
  aud?: string
  /** A short, non-secret way to recognise the service token ("starts with 1a2b3c4d…"). */
  tokenHint?: string
  /** `npm run cli -- login …` for this gateway. */
  loginCommand?: string
}

const DASHBOARD = 'Open the Cloudflare Zero Trust dashboard (one.dash.cloudflare.com)'

function openApp(w: WayContext): string[] {
  return [
    `${DASHBOARD}${w.teamDomain ? ` and pick the account whose team domain is ${w.teamDomain}` : ''}.`,
    `Go to Access → Applications and open the application for ${w.appHost}${w.aud ? ` (its AUD tag, under Overview/Basic information, is ${w.aud})` : ''}; choose Configure (or Edit).`
  ]
}

export function addServiceAuthPolicy(w: WayContext): DoctorWayForward {
  return {
    id: 'add-service-auth-policy',
    title: 'Add a Service Auth policy that includes this service token',
    action: 'check-dashboard',
    steps: [
      ...openApp(w),
      'Open the Policies tab and choose Add a policy (or create one under Access → Policies and attach it here).',
      'Set Action to "Service Auth" (an "Allow" policy never admits a service token: it sends it to the login page).',
      `Under Include (Add include), choose Selector "Service Token" and pick ${w.tokenHint ? `the token whose Client ID ${w.tokenHint}` : 'this token'} (or "Any Access Service Token").`,
      'Save the policy, then save the application, and run the doctor again.'
    ]
  }
}

export function createServiceToken(w: WayContext): DoctorWayForward {
  return {
    id: 'create-service-token',
    title: 'Create a new service token and use it here',
    action: 'add-service-token',
    steps: [
      `${DASHBOARD}${w.teamDomain ? ` in the account of team domain ${w.teamDomain}` : ''}.`,
      'Go to Access → Service credentials → Service Tokens and choose Create Service Token.',
      'Give it a name, pick a duration, and choose Generate token.',
      'Copy the Client ID (it ends in ".access") and the Client Secret now: the secret is shown only once.',
      `Add the token to a Service Auth policy of the application for ${w.appHost} (see "Add a Service Auth policy").`,
      'In this app, edit the gateway: Cloudflare Access → Service token, and enter the new Client ID and Client Secret (CLI: AETHER_CF_CLIENT_ID and AETHER_CF_CLIENT_SECRET, or profile add --access service-token).'
    ]
  }
}

export function signInWithEmail(w: WayContext): DoctorWayForward {
  return {
    id: 'sign-in-email',
    title: 'Sign in with email in the app',
    action: 'sign-in-email',
    steps: [
      'In the gateway editor, set Cloudflare Access to "Email sign-in" and choose Sign in.',
      'Enter your email on the Access login page, then the code Access mails you; the app keeps the sign-in in the keychain.',
      'Your email must be allowed by an Allow policy of the application (ask the Zero Trust administrator if the code never arrives).'
    ],
    ...(w.loginCommand ? { command: w.loginCommand } : {})
  }
}

export function turnOffAccess(w: WayContext): DoctorWayForward {
  return {
    id: 'turn-off-access',
    title: 'Turn Cloudflare Access off for this host',
    action: 'check-dashboard',
    steps: [
      ...openApp(w),
      'Either delete the application, or add a policy with Action "Bypass" and Include "Everyone" for this host (Bypass skips every check: only do this when the gateway\u2019s own token is protection enough).',
      'Then set Cloudflare Access to "None" for this gateway in the app and run the doctor again.'
    ]
  }
}

export function selfHostedApplication(w: WayContext): DoctorWayForward {
  return {
    id: 'self-hosted-application',
    title: 'Protect the host with a self-hosted application instead of a Worker destination',
    action: 'check-dashboard',
    steps: [
      `${DASHBOARD}.`,
      `Go to Access → Applications → Add an application → Self-hosted, and set the application domain to ${w.dialledHost}.`,
      'Attach the same policies (a Service Auth policy for service tokens, an Allow policy for people).',
      'Remove the Worker destination application (the one created by "Enable Access" on the Worker), which refuses every WebSocket upgrade.',
      'Run the doctor again.'
    ]
  }
}

export function fixApplicationHostname(w: WayContext, matched: string): DoctorWayForward {
  return {
    id: 'fix-application-hostname',
    title: `Make the address and the Access application agree on the host name`,
    action: 'check-url',
    steps: [
      `Access matched an application for ${matched}, but this gateway is dialled as ${w.dialledHost}.`,
      `${DASHBOARD} → Access → Applications → the application for ${matched} → Configure: add ${w.dialledHost} as an application domain (Add domain), or`,
      `dial the gateway as ${matched} instead (and check the DNS record or tunnel public hostname that routes ${w.dialledHost}).`
    ]
  }
}

export function wafException(w: WayContext, rayId: string | undefined): DoctorWayForward {
  return {
    id: 'waf-skip-rule',
    title: 'Let the app past the Cloudflare firewall rule',
    action: 'check-dashboard',
    steps: [
      `Open the Cloudflare dashboard (dash.cloudflare.com), pick the zone of ${w.dialledHost}, and go to Security → Events${rayId ? `; search for Ray ID ${rayId}` : ''} to see which rule blocked it.`,
      `Go to Security → WAF → Custom rules → Create rule: when Hostname equals ${w.dialledHost}, take action "Skip" for the rule or product that blocked (Bot Fight Mode, Browser Integrity Check, managed challenge).`,
      'Deploy the rule and run the doctor again.'
    ]
  }
}

/** A next step of an AppError as a way forward (network, TLS and gateway errors carry good ones). */
export function fromNextStep(step: NextStep, index: number): DoctorWayForward {
  return {
    id: `${step.action}${index > 0 ? `-${index + 1}` : ''}`,
    title: step.label,
    action: step.action,
    steps: [step.label],
    ...(step.command ? { command: step.command } : {})
  }
}
