/**
 * The ways forward the verdict offers, with the exact steps: in the Cloudflare Zero Trust
 * dashboard, in the Cloudflare dashboard of the zone, on the gateway host, or in this app.
 * Dashboard paths follow the Zero Trust dashboard's menu (Access → Applications, Access →
 * Service credentials → Service Tokens).
 *
 * The same report is read in the app (Diagnose) and on the command line, so a step done in the
 * app also names its command-line form; and no step refers to another way by name, since the
 * ways shown depend on the evidence.
 */
import type { AppError, NextStep } from '../../shared/errors'
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
  /** The saved gateway checked, when there is one (otherwise an address given with --url). */
  profileName?: string
  /**
   * The web address of the application to open in a browser, port included (`http://127.0.0.1:18901`
   * for `ws://127.0.0.1:18901`): without the port it would be another server.
   */
  webAddress?: string
  /** The address is a plain ws:// one to this computer, which no sign-in command accepts. */
  plainLoopback?: boolean
}

/** Where this gateway's settings are changed, in the app and on the command line. */
function settingsPlace(w: WayContext): string {
  return w.profileName
    ? `In this app, edit the gateway "${w.profileName}" (CLI: to update it, npm run cli -- profile add --name <that name> …)`
    : 'In this app, edit the gateway (CLI: the AETHER_* environment variables of the command, or a profile: npm run cli -- profile add …)'
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
      `Add the token to a Service Auth policy of the application for ${w.appHost}: Access → Applications → the application → Policies, a policy with Action "Service Auth" and Include "Service Token" → this token.`,
      'In this app, edit the gateway: Cloudflare Access → Service token, and enter the new Client ID and Client Secret (CLI: AETHER_CF_CLIENT_ID and AETHER_CF_CLIENT_SECRET, or profile add --access service-token).'
    ]
  }
}

/**
 * Sign in as a person with the email one-time PIN. `page` is what the login page said: it offers
 * email codes, or it could not be read (then the way is worded as a condition the operator checks).
 */
export function signInWithEmail(w: WayContext, page: 'offered' | 'unknown'): DoctorWayForward {
  const cli = w.loginCommand
    ? `On the command line: ${w.loginCommand} (opens the login page in the browser and keeps the sign-in in the keychain).`
    : w.plainLoopback
      ? // login refuses ws://, and a gateway on this computer has no wss:// address to name instead.
        'On the command line, sign-in takes the gateway’s wss:// address only (Cloudflare Access protects TLS hosts); this address is a plain ws:// one on this computer.'
      : 'On the command line: npm run cli -- login --url <the wss:// address of the gateway>.'
  return {
    id: 'sign-in-email',
    title: page === 'offered' ? 'Sign in with email in the app' : 'If the login page offers email codes, sign in with email in the app',
    action: 'sign-in-email',
    steps: [
      ...(page === 'unknown'
        ? [`The login page could not be read, so its sign-in methods are unknown: open ${w.webAddress ?? `https://${w.appHost}`} in a browser to see whether it asks for an email address.`]
        : []),
      'In the app, edit the gateway, set Cloudflare Access to "Email sign-in" and choose Sign in.',
      cli,
      'Enter your email on the Access login page, then the code Access mails you.',
      'Your email must be allowed by an Allow policy of the application (ask the Zero Trust administrator if the code never arrives).'
    ],
    ...(w.loginCommand ? { command: w.loginCommand } : {})
  }
}

/** The Access credentials given could not be used (the run went on without them). */
export function fixAccessCredentials(w: WayContext, problem: AppError): DoctorWayForward {
  return {
    id: 'fix-access-credentials',
    title: 'Give one complete Cloudflare Access credential',
    action: 'check-service-token',
    steps: [
      problem.message,
      ...problem.nextSteps.map((s) => s.label),
      `${settingsPlace(w)}: a service token needs both its Client ID and its Client Secret (AETHER_CF_CLIENT_ID and AETHER_CF_CLIENT_SECRET); an app token is AETHER_CF_APP_TOKEN or a sign-in; set one kind only.`,
      'Run the doctor again.'
    ]
  }
}

/** Requests with a credential got no answer at all, while the one without credentials did. */
export function silentCredentialedRequests(w: WayContext, what: string): DoctorWayForward {
  return {
    id: 'check-credentialed-requests',
    title: `Find out where requests with the ${what} stop`,
    action: 'check-network',
    steps: [
      `The login redirect comes from the Cloudflare edge; a request Access admits goes on to the origin. A request with the ${what} that never gets an answer stops at a rule of the edge or at the origin.`,
      `Open the Cloudflare dashboard (dash.cloudflare.com), pick the zone of ${w.dialledHost}, and look in Security → Events for requests that were held or challenged.`,
      'On the gateway host, check that the origin answers: the tunnel (cloudflared) is connected and the gateway is running and not overloaded.',
      'Run the doctor again; a run that gets answers tells the token\u2019s verdict.'
    ]
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
      'Then set Cloudflare Access to "None" for this gateway in the app (CLI: unset the AETHER_CF_* variables, or npm run cli -- profile add --name <name> --access none) and run the doctor again.'
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

/**
 * Error texts are written for a saved gateway ("in this profile"); an address given with --url
 * has no profile, so they are reworded to what was given.
 */
function forTarget(label: string, w: WayContext | undefined): string {
  if (!w || w.profileName) return label
  return label
    .replace(/\bthe gateway URL in this profile\b/gi, 'the gateway address given (--url)')
    .replace(/\bas the CA file in this profile\b/gi, 'as the CA file (--ca-file)')
    .replace(/\s+in this profile\b/gi, '')
}

/**
 * A next step of an AppError as a way forward (network, TLS and gateway errors carry good ones).
 * The step is one sentence, so it is the title and there are no separate steps to repeat it.
 */
export function fromNextStep(step: NextStep, index: number, w?: WayContext): DoctorWayForward {
  return {
    id: `${step.action}${index > 0 ? `-${index + 1}` : ''}`,
    title: forTarget(step.label, w),
    action: step.action,
    steps: [],
    ...(step.command ? { command: step.command } : {})
  }
}
