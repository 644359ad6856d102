/**
 * Connection doctor runs for the renderer tests, shaped like the main process's: every check in
 * order, a verdict with ranked causes and ways forward, and a Markdown rendering.
 */
import { DOCTOR_STEP_IDS, DOCTOR_STEP_TITLES, type DoctorReport, type DoctorStep, type DoctorStepId, type DoctorStepStatus } from '../../../src/shared/doctor-report'
import type { DoctorRun } from '../../../src/shared/ipc-contract'

export function doctorStep(id: DoctorStepId, status: DoctorStepStatus, fields: Partial<DoctorStep> = {}): DoctorStep {
  return { id, title: DOCTOR_STEP_TITLES[id], status, summary: `${DOCTOR_STEP_TITLES[id]}: ${status}.`, details: [], durationMs: 12, ...fields }
}

/** The markdown the fake answers: enough to recognise it in the clipboard. */
export function markdownOf(report: DoctorReport): string {
  return [`# Connection doctor: ${report.url}`, '', `**${report.verdict.ok ? 'Works' : 'Problem'}: ${report.verdict.headline}**`].join('\n')
}

export function doctorRun(report: DoctorReport): DoctorRun {
  return { report, markdown: markdownOf(report) }
}

function baseReport(url: string, steps: DoctorStep[], verdict: DoctorReport['verdict'], extra: Partial<DoctorReport> = {}): DoctorReport {
  return {
    version: 1,
    url,
    host: new URL(url).host,
    port: 443,
    accessMode: 'none',
    credentials: [{ label: 'gateway token', value: 'set, ends in …abcd' }],
    startedAt: '2026-03-01T10:00:00.000Z',
    durationMs: 2_400,
    steps,
    verdict,
    notes: [],
    ...extra
  }
}

/** Everything works: reached, handshake done. */
export function passingRun(url = 'wss://gw.example.com/', profileName = 'Edge'): DoctorRun {
  const steps = DOCTOR_STEP_IDS.map((id) =>
    id === 'service-token' || id === 'app-token' ? doctorStep(id, 'skip', { summary: 'Not run: no such credential is configured.' }) : doctorStep(id, 'pass')
  )
  return doctorRun(baseReport(url, steps, { ok: true, headline: 'The gateway answered and the handshake worked.', causes: [], waysForward: [] }, { profileName }))
}

/**
 * The case: Access never recognises the service token and the login page offers only
 * one-time PINs (no Service Auth policy on the application).
 */
export function noServiceAuthPolicyRun(url = 'wss://gw.example.com/', profileName = 'Edge'): DoctorRun {
  const steps: DoctorStep[] = [
    doctorStep('url', 'pass', { summary: 'wss://gw.example.com/ (host gw.example.com, port 443).' }),
    doctorStep('dns', 'pass', { summary: 'Cloudflare-proxied host (104.16.1.1).', details: [{ label: 'addresses', value: '104.16.1.1' }] }),
    doctorStep('tls', 'pass', { summary: 'TLS 1.3, certificate for gw.example.com, valid until 2026-06-01.' }),
    doctorStep('https-probe', 'warn', {
      summary: 'Access redirects to its login page (302).',
      details: [
        { label: 'status', value: '302' },
        { label: 'cf-ray', value: '8f1e2d3c4b5a6978-FRA' }
      ]
    }),
    doctorStep('login-page', 'warn', { summary: 'The login page offers only one-time PIN by email.', details: [{ label: 'sign-in methods', value: 'one-time PIN' }] }),
    doctorStep('service-token', 'fail', {
      summary: 'Access never recognised the service token (service_token_status false in every probe).',
      details: [{ label: 'Client ID', value: 'set, ends in …cess' }],
      probes: [
        { id: 'standard', label: 'CF-Access-Client-Id + CF-Access-Client-Secret', httpStatus: 302, httpVersion: '2', serviceTokenStatus: false, outcome: 'refused', code: 'ACCESS_SERVICE_TOKEN_REJECTED' },
        { id: 'http1', label: 'same, forced HTTP/1.1', httpStatus: 302, httpVersion: '1.1', serviceTokenStatus: false, outcome: 'refused' },
        { id: 'single-header', label: 'cf-access-token header', httpStatus: null, outcome: 'error' }
      ],
      code: 'ACCESS_SERVICE_TOKEN_REJECTED',
      durationMs: 1_350
    }),
    doctorStep('app-token', 'skip', { summary: 'Not run: no app token is configured.' }),
    doctorStep('websocket', 'fail', { summary: 'The upgrade was sent to the login page.', code: 'ACCESS_SERVICE_TOKEN_REJECTED' }),
    doctorStep('handshake', 'skip', { summary: 'Not run: the WebSocket upgrade failed.' })
  ]
  return doctorRun(
    baseReport(
      url,
      steps,
      {
        ok: false,
        headline: 'Cloudflare Access does not accept this service token for gw.example.com.',
        code: 'ACCESS_SERVICE_TOKEN_REJECTED',
        category: 'access',
        causes: [
          {
            id: 'no-service-auth-policy',
            title: 'The application has no Service Auth policy',
            likelihood: 'high',
            evidence: ['service_token_status was false in every probe.', 'The login page offers only one-time PIN by email.']
          },
          { id: 'token-not-in-policy', title: 'The token is not included in the policy', likelihood: 'high', evidence: ['Access saw the headers but matched no policy.'] },
          { id: 'token-expired', title: 'The token expired or was revoked', likelihood: 'medium', evidence: ['Access does not tell these apart from an unknown token.'] },
          { id: 'header-format', title: 'The header format', likelihood: 'low', evidence: ['Every format was tried.'] }
        ],
        waysForward: [
          {
            id: 'add-service-auth-policy',
            title: 'Add a Service Auth policy that includes this service token',
            action: 'check-dashboard',
            steps: ['Open the Cloudflare Zero Trust dashboard (one.dash.cloudflare.com).', 'Go to Access → Applications and open the application for gw.example.com.', 'Set Action to "Service Auth".']
          },
          {
            id: 'create-service-token',
            title: 'Create a new service token and use it here',
            action: 'add-service-token',
            steps: ['Go to Access → Service credentials → Service Tokens and choose Create Service Token.', 'In this app, enter the new Client ID and Client Secret.']
          },
          {
            id: 'sign-in-email',
            title: 'Sign in with email in the app',
            action: 'sign-in-email',
            steps: ['In the gateway editor, set Cloudflare Access to "Email sign-in" and choose Sign in.', 'Enter your email, then the code Access mails you.'],
            command: 'npm run cli -- login --url wss://gw.example.com --profile Edge'
          }
        ]
      },
      {
        profileName,
        accessMode: 'service-token',
        credentials: [
          { label: 'gateway token', value: 'set, ends in …abcd' },
          { label: 'service token Client ID', value: 'set, ends in …cess' }
        ],
        notes: ['Trimmed whitespace around the address.']
      }
    )
  )
}

/** `run` with the steps not in `done` skipped, as a cancelled run ends. */
export function cancelledRun(run: DoctorRun, done: DoctorStep[]): DoctorRun {
  const finished = new Map(done.map((s) => [s.id, s]))
  const steps = DOCTOR_STEP_IDS.map((id) => finished.get(id) ?? doctorStep(id, 'skip', { summary: 'Not run: the check was cancelled.', durationMs: 0 }))
  return doctorRun({ ...run.report, steps })
}
