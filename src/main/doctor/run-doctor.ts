/**
 * The connection doctor: every check between this computer and a gateway, in order, each with
 * its own time limit and the whole run within 30 s, then the verdict, as one plain report.
 *
 * Entry points: {@link runDoctor} with explicit ports (tests pass fakes), and
 * {@link diagnoseTarget} for a resolved connection target with the real ports.
 */
import type { DoctorReport, DoctorStep } from '../../shared/doctor-report'
import { displayGatewayUrl } from '../../shared/gateway-url'
import { secretHint } from '../secrets/secret-store'
import type { ConnectorDeps, ConnectTarget } from '../gateway/gateway-connector'
import type { DoctorInput, DoctorStepDefinition, Findings, StepContext, StepOutcome } from './context'
import { nodeDoctorPorts } from './node-ports'
import type { DoctorPorts } from './ports'
import { redactReport, reportSecrets } from './redact-report'
import { appTokenStep } from './steps/app-token-step'
import { dnsStep } from './steps/dns-step'
import { handshakeStep, websocketStep } from './steps/gateway-steps'
import { httpsProbeStep } from './steps/https-probe-step'
import { loginPageStep } from './steps/login-page-step'
import { serviceTokenStep } from './steps/service-token-step'
import { tlsStep } from './steps/tls-step'
import { urlStep } from './steps/url-step'
import { buildVerdict } from './verdict'
import { classifyNetworkError } from '../transport/classify-network-error'

/** The whole run ends within this. */
export const DOCTOR_BUDGET_MS = 30_000

export const DOCTOR_STEPS: readonly DoctorStepDefinition[] = [
  urlStep,
  dnsStep,
  tlsStep,
  httpsProbeStep,
  loginPageStep,
  serviceTokenStep,
  appTokenStep,
  websocketStep,
  handshakeStep
]

export interface DoctorOptions {
  userAgent: string
  /** Overall limit (default 30 s); each step gets the lesser of its own limit and what is left. */
  budgetMs?: number
  /** Per-step limits by step id, replacing the defaults (tests use short ones). */
  stepTimeoutsMs?: Partial<Record<DoctorStepDefinition['id'], number>>
  signal?: AbortSignal
  /** Told each step's result as it finishes (a UI can show progress). */
  onStep?: (step: DoctorStep) => void
}

/** Time kept back for the steps after the current one, so a hanging step cannot eat the whole run. */
const RESERVE_PER_LATER_STEP_MS = 500

function timeoutOutcome(step: DoctorStepDefinition, ms: number, findings: Findings): StepOutcome {
  findings.timedOut.push(step.id)
  const url = findings.url
  const error = classifyNetworkError(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), {
    host: url?.host ?? 'the gateway',
    port: url?.port ?? 0,
    timeoutMs: ms,
    phase: step.id === 'websocket' ? 'upgrade' : 'connect'
  })
  if (step.id === 'dns') findings.dns = { addresses: [], cnames: [], signs: { proxied: false, cloudflareAddresses: [], workersDev: false }, error }
  else if (step.id !== 'login-page' && step.id !== 'handshake' && !findings.socket?.error) findings.socket = { ...findings.socket, error }
  return { status: 'fail', summary: `No answer within ${Math.round(ms / 100) / 10} s.`, details: [], code: 'TIMEOUT' }
}

/** Run every check and build the report. Never throws; never holds a secret. */
export async function runDoctor(input: DoctorInput, ports: DoctorPorts, options: DoctorOptions): Promise<DoctorReport> {
  const clock = ports.clock
  const started = clock.now()
  const budget = options.budgetMs ?? DOCTOR_BUDGET_MS
  const findings: Findings = { timedOut: [] }
  const steps: DoctorStep[] = []

  for (const [index, step] of DOCTOR_STEPS.entries()) {
    const reserve = (DOCTOR_STEPS.length - index - 1) * Math.min(RESERVE_PER_LATER_STEP_MS, budget / 40)
    const left = budget - (clock.now() - started) - reserve
    const limit = Math.min(options.stepTimeoutsMs?.[step.id] ?? step.timeoutMs, Math.max(0, left))
    const stepStart = clock.now()
    let outcome: StepOutcome
    if (options.signal?.aborted) {
      outcome = { status: 'skip', summary: 'Not run: the check was cancelled.', details: [] }
    } else if (limit < 200) {
      outcome = { status: 'skip', summary: `Not run: the ${Math.round(budget / 1000)} s limit of the whole check was reached.`, details: [] }
    } else {
      const controller = new AbortController()
      const onAbort = () => controller.abort()
      options.signal?.addEventListener('abort', onAbort, { once: true })
      const ctx: StepContext = { input, ports, findings, timeoutMs: limit, signal: controller.signal, userAgent: options.userAgent }
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<'timeout'>((resolve) => {
        // A little after the step's own limit: the step's requests time out themselves first.
        timer = setTimeout(() => resolve('timeout'), limit + 250)
      })
      try {
        const result = await Promise.race([step.run(ctx), deadline])
        outcome = result === 'timeout' ? timeoutOutcome(step, limit, findings) : result
      } catch (e) {
        outcome = options.signal?.aborted
          ? { status: 'skip', summary: 'Stopped: the check was cancelled.', details: [] }
          : { status: 'fail', summary: `The check failed unexpectedly: ${String((e as Error).message ?? e).slice(0, 200)}`, details: [], code: 'INTERNAL' }
      } finally {
        clearTimeout(timer)
        controller.abort()
        options.signal?.removeEventListener('abort', onAbort)
      }
    }
    const done: DoctorStep = {
      id: step.id,
      title: step.title,
      status: outcome.status,
      summary: outcome.summary,
      details: outcome.details,
      ...(outcome.probes ? { probes: outcome.probes } : {}),
      ...(outcome.code ? { code: outcome.code } : {}),
      durationMs: Math.max(0, clock.now() - stepStart)
    }
    steps.push(done)
    options.onStep?.(redactReport(done, reportSecrets(input)))
  }

  const url = findings.url
  const report: DoctorReport = {
    version: 1,
    // Shown as typed when it did not parse, so it is cleaned of credentials and shortened first.
    url: displayGatewayUrl(url?.href ?? input.url),
    ...(url ? { host: url.host, port: url.port } : {}),
    ...(input.profileName ? { profileName: input.profileName } : {}),
    accessMode: input.access.kind,
    credentials: credentialHints(input),
    startedAt: new Date(started).toISOString(),
    durationMs: Math.max(0, clock.now() - started),
    steps,
    verdict: buildVerdict(input, findings),
    notes: [...(input.notes ?? [])]
  }
  return redactReport(report, reportSecrets(input))
}

function credentialHints(input: DoctorInput): DoctorReport['credentials'] {
  const out: DoctorReport['credentials'] = [{ label: 'gateway token', value: secretHint(input.gatewayToken) }]
  const a = input.access
  if (a.kind === 'service-token') {
    out.push({ label: 'service token Client ID', value: secretHint(a.clientId) })
    out.push({ label: 'service token Client Secret', value: secretHint(a.clientSecret) })
  } else if (a.kind === 'app-token') {
    out.push({ label: 'app token', value: secretHint(a.token) })
    if (a.binding) out.push({ label: 'CF_Binding cookie', value: secretHint(a.binding) })
  }
  return out
}

/** The input for a resolved connection target (profile or address), as the connection would use it. */
export function doctorInputFromTarget(target: ConnectTarget, extra: { profileName?: string; notes?: string[]; rawUrl?: string } = {}): DoctorInput {
  return {
    url: extra.rawUrl ?? target.url.href,
    access: target.access,
    ...(target.gatewayToken ? { gatewayToken: target.gatewayToken } : {}),
    ...(target.caFile ? { caFile: target.caFile } : {}),
    ...(target.expectedAud ? { expectedAud: target.expectedAud } : {}),
    targetId: target.targetId,
    ...(extra.profileName ? { profileName: extra.profileName } : {}),
    ...(extra.notes && extra.notes.length > 0 ? { notes: extra.notes } : {})
  }
}

/**
 * Diagnose a resolved target with the real network and the keychain in `deps` (the device
 * identity signs the handshake, as for a connection).
 */
export function diagnoseTarget(
  target: ConnectTarget,
  deps: ConnectorDeps,
  options: Omit<DoctorOptions, 'userAgent'> & { profileName?: string; notes?: string[] } = {}
): Promise<DoctorReport> {
  const { profileName, notes, ...rest } = options
  return runDoctor(
    doctorInputFromTarget(target, { ...(profileName ? { profileName } : {}), ...(notes ? { notes } : {}) }),
    nodeDoctorPorts(deps),
    { ...rest, userAgent: deps.userAgent }
  )
}
