/**
 * What the doctor is asked to check, what the steps learn as they go (the findings the verdict
 * is built from), and the shape every step has.
 *
 * Findings may hold secrets' neighbours (the raw login URL with its `meta` JWT, the credentials
 * actually sent); they stay in memory. Only step outcomes and the verdict reach the report, and
 * those are built from names, statuses and hints.
 */
import type { AppError } from '../../shared/errors'
import type { DoctorFact, DoctorProbe, DoctorStepId, DoctorStepStatus } from '../../shared/doctor-report'
import type { GatewayUrl } from '../../shared/gateway-url'
import type { AccessCredentials } from '../cf-access/access-credentials'
import type { AppTokenCheck } from '../cf-access/app-token'
import type { AccessLoginRedirect } from '../cf-access/login-redirect'
import type { HelloSummary } from '../gateway/gateway-connection'
import type { CloudflareDnsSigns } from './cloudflare-network'
import type { DoctorPorts, SocketProbeResult } from './ports'

/** What to diagnose: the address and the credentials as the connection would use them. */
export interface DoctorInput {
  /** The address as typed or saved (checked by the first step). */
  url: string
  access: AccessCredentials
  gatewayToken?: string
  caFile?: string
  /** The Access application AUD this profile was saved with, when known. */
  expectedAud?: string
  /** Namespaces the device token, as for connections (profile id or `url:<href>`). */
  targetId: string
  profileName?: string
  /** Remarks from reading the input, shown in the report. */
  notes?: string[]
  /**
   * Access credentials were given but could not be used (half a service token, two kinds at
   * once, a token over plain ws://...): the run goes on without them, and the verdict names
   * this problem, since the connection itself would refuse to start with that input.
   */
  credentialProblem?: AppError
}

export interface DnsFindings {
  addresses: string[]
  cnames: string[]
  signs: CloudflareDnsSigns
  error?: AppError
}

/** The credential-free request to the gateway's web address. */
export interface PlainProbeFindings {
  status: number
  httpVersion?: string
  fromCloudflare: boolean
  /** The refusal as the connection classifier reads it (absent for a 2xx). */
  classification?: AppError
  login?: AccessLoginRedirect
  /** The raw `Location` of an Access login redirect: used to fetch the login page, never reported. */
  loginLocation?: string
  /** Access answers for this host (login redirect or an Access 401). */
  behindAccess: boolean
  aud?: string
  teamDomain?: string
  /** A WAF block, a tunnel or edge error: Cloudflare stops the request before Access or the gateway. */
  edgeBlock?: AppError
}

export interface LoginPageFindings {
  fetched: boolean
  appName?: string
  teamName?: string
  otp: boolean
  identityProviders: string[]
}

export interface ProbeFinding {
  probe: DoctorProbe
  login?: AccessLoginRedirect
  error?: AppError
  /** The credential this probe sent (a variant of the configured one). */
  credential: AccessCredentials
}

export interface CredentialFindings {
  probes: ProbeFinding[]
  /** The first probe Access admitted, if any. */
  admitted?: ProbeFinding
}

export interface AppTokenFindings extends CredentialFindings {
  check: AppTokenCheck
  /** The application AUD the token was checked against, when known. */
  aud?: string
  /** Team of the token's issuer, and whether it is the team of this application's login page. */
  issuerTeam?: string
  issuerMatches?: boolean
}

export interface UpgradeFindings {
  opened: boolean
  credential: AccessCredentials['kind']
  /** Which probe variant's credential was used, when not the configured one. */
  variant?: string
  error?: AppError
}

export interface HandshakeFindings {
  hello?: HelloSummary
  error?: AppError
  warnings: string[]
}

export interface Findings {
  url?: GatewayUrl
  urlError?: AppError
  ca?: string[]
  dns?: DnsFindings
  socket?: { result?: SocketProbeResult; error?: AppError }
  plain?: PlainProbeFindings
  loginPage?: LoginPageFindings
  serviceToken?: CredentialFindings
  appToken?: AppTokenFindings
  upgrade?: UpgradeFindings
  handshake?: HandshakeFindings
  /** Steps that ran out of time, by id. */
  timedOut: DoctorStepId[]
}

export interface StepContext {
  input: DoctorInput
  ports: DoctorPorts
  findings: Findings
  timeoutMs: number
  signal: AbortSignal
  userAgent: string
}

export interface StepOutcome {
  status: DoctorStepStatus
  summary: string
  details: DoctorFact[]
  probes?: DoctorProbe[]
  code?: AppError['code']
}

export interface DoctorStepDefinition {
  id: DoctorStepId
  title: string
  /** Time limit of the step on its own (the run's 30 s budget may cut it shorter). */
  timeoutMs: number
  run(ctx: StepContext): Promise<StepOutcome>
}

/** A step that did not run, and why. */
export function skipped(summary: string): StepOutcome {
  return { status: 'skip', summary, details: [] }
}

/** Helper for details lists: drops facts without a value. */
export function facts(entries: [string, string | number | boolean | undefined | null][]): DoctorFact[] {
  const out: DoctorFact[] = []
  for (const [label, value] of entries) {
    if (value === undefined || value === null || value === '') continue
    out.push({ label, value: typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value) })
  }
  return out
}

/** The web address (https:// or http://) of the gateway, with its path, for HTTP probes. */
export function webUrl(url: GatewayUrl): string {
  return `${url.webOrigin}${url.path}`
}

/** True once the steps that reach the server have nothing to talk to. */
export function unreachable(findings: Findings): string | undefined {
  if (!findings.url) return 'Not run: the address is not valid.'
  if (findings.dns?.error) return 'Not run: the name could not be resolved.'
  if (findings.socket?.error) return 'Not run: no connection could be set up.'
  return undefined
}
