// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { App } from '../../src/renderer/src/App'
import { ErrorPanel } from '../../src/renderer/src/features/connection/ErrorPanel'
import { setApi } from '../../src/renderer/src/lib/api'
import { applySnapshot } from '../../src/renderer/src/lib/bridge'
import { applyDoctorProgress, runDiagnosis, useDoctor } from '../../src/renderer/src/stores/doctor-store'
import { appError, fail, ok } from '../../src/shared/errors'
import type { AetherApi, ProfileView } from '../../src/shared/ipc-contract'
import { doctorRun, doctorStep, noServiceAuthPolicyRun, passingRun } from './support/doctor-reports'
import { accessLoginRequired, type FakeApi } from './support/fake-api'
import { freshApp } from './support/harness'

let fake: FakeApi

beforeEach(() => {
  fake = freshApp()
})

/**
 * A saved gateway, "Edge" (p1), open in the Gateways view of the whole window (the bridge feeds
 * the stores); `others` are saved after it, so Edge is the one selected.
 */
async function openGateway(extra: Partial<ProfileView> = {}, others: (Partial<ProfileView> & { name: string; url: string })[] = []): Promise<ProfileView> {
  const profile = fake.addProfile({ id: 'p1', name: 'Edge', url: 'wss://gw.example.com', access: { mode: 'service-token', clientId: 'abc.access' }, ...extra })
  for (const other of others) fake.addProfile(other)
  render(<App />)
  await screen.findByTestId('profile-editor')
  return profile
}

const editorDiagnose = () => within(screen.getByTestId('editor-actions')).getByRole('button', { name: 'Diagnose' })
const report = () => screen.getByTestId('doctor-report')
const stepRow = (id: string) => screen.getByTestId(`doctor-step-${id}`)

let seq = 0
function showAccessError(profileId = 'p1') {
  act(() => {
    applySnapshot({ profileId, seq: ++seq, state: { kind: 'access-required', error: accessLoginRequired() } })
  })
}

function stubClipboard(writeText = vi.fn().mockResolvedValue(undefined)) {
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
  return writeText
}

describe('Diagnose', () => {
  it('from the editor runs the doctor on the saved gateway and shows the finished report', async () => {
    const user = userEvent.setup()
    fake.doctorResult = () => ok(noServiceAuthPolicyRun())
    await openGateway()

    await user.click(editorDiagnose())

    expect(fake.callsTo('doctor.run')).toEqual([['p1']])
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    expect(within(report()).getByRole('heading', { name: 'Connection doctor' })).toHaveFocus()
    expect(within(report()).getByText('wss://gw.example.com/')).toBeInTheDocument()
    expect(within(report()).getByText('Edge')).toBeInTheDocument()

    // The steps table: one row per check, a mark with its words, the title, the finding, the time.
    const expected: [string, string, string][] = [
      ['url', 'pass', 'Passed'],
      ['dns', 'pass', 'Passed'],
      ['tls', 'pass', 'Passed'],
      ['https-probe', 'warn', 'Warning'],
      ['login-page', 'warn', 'Warning'],
      ['service-token', 'fail', 'Failed'],
      ['app-token', 'skip', 'Skipped'],
      ['websocket', 'fail', 'Failed'],
      ['handshake', 'skip', 'Skipped']
    ]
    for (const [id, status, words] of expected) {
      expect(stepRow(id)).toHaveAttribute('data-status', status)
      expect(within(stepRow(id)).getByText(words)).toBeInTheDocument()
    }
    expect(stepRow('service-token')).toHaveTextContent('✗')
    expect(stepRow('url')).toHaveTextContent('✓')
    expect(stepRow('https-probe')).toHaveTextContent('!')
    expect(stepRow('app-token')).toHaveTextContent('–')
    expect(within(stepRow('service-token')).getByRole('rowheader', { name: 'Service token' })).toBeInTheDocument()
    expect(stepRow('service-token')).toHaveTextContent('Access never recognised the service token')
    expect(stepRow('service-token')).toHaveTextContent('1.4 s')
    expect(stepRow('url')).toHaveTextContent('12 ms')

    // A failed check's details are open from the start, with the probe matrix.
    expect(within(stepRow('service-token')).getByRole('button', { name: 'Details of Service token' })).toHaveAttribute('aria-expanded', 'true')
    const probes = within(screen.getByTestId('doctor-probes'))
    expect(probes.getAllByRole('columnheader').map((th) => th.textContent)).toEqual(['Probe', 'HTTP status', 'service_token_status', 'Outcome'])
    const standard = probes.getByRole('rowheader', { name: 'CF-Access-Client-Id + CF-Access-Client-Secret' }).closest('tr')!
    expect(within(standard).getAllByRole('cell').map((td) => td.textContent)).toEqual(['302 (HTTP/2)', 'false', 'refused (ACCESS_SERVICE_TOKEN_REJECTED)'])
    const noAnswer = probes.getByRole('rowheader', { name: 'cf-access-token header' }).closest('tr')!
    expect(within(noAnswer).getAllByRole('cell').map((td) => td.textContent)).toEqual(['no answer', '–', 'error'])

    // Other details open on demand.
    const probeDetails = within(stepRow('https-probe')).getByRole('button', { name: 'Details of Request without credentials' })
    expect(probeDetails).toHaveAttribute('aria-expanded', 'false')
    expect(screen.queryByTestId('doctor-step-details-https-probe')).not.toBeInTheDocument()
    await user.click(probeDetails)
    expect(probeDetails).toHaveAttribute('aria-expanded', 'true')
    expect(within(screen.getByTestId('doctor-step-details-https-probe')).getByRole('rowheader', { name: 'cf-ray' }).nextElementSibling).toHaveTextContent(
      '8f1e2d3c4b5a6978-FRA'
    )

    // The verdict, then the causes ranked with their likelihood and evidence.
    const verdict = screen.getByTestId('doctor-verdict')
    expect(verdict).toHaveAttribute('data-ok', 'false')
    expect(verdict).toHaveClass('doctor-verdict--fail')
    expect(verdict).toHaveTextContent('Cloudflare Access does not accept this service token for gw.example.com.')
    const causes = within(screen.getByTestId('doctor-causes')).getAllByRole('listitem').filter((li) => li.hasAttribute('data-cause-id'))
    expect(causes.map((li) => li.getAttribute('data-cause-id'))).toEqual(['no-service-auth-policy', 'token-not-in-policy', 'token-expired', 'header-format'])
    const first = within(causes[0]!)
    expect(first.getByText('The application has no Service Auth policy')).toBeInTheDocument()
    expect(causes[0]).toHaveTextContent('likelihood: high')
    expect(within(first.getByRole('list', { name: 'Evidence for: The application has no Service Auth policy' })).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'service_token_status was false in every probe.',
      'The login page offers only one-time PIN by email.'
    ])
    expect(causes[3]).toHaveTextContent('likelihood: low')

    // The ways forward, each with its steps in order; a command comes with Copy.
    const ways = screen.getByTestId('doctor-ways-forward')
    const policy = within(ways).getByRole('region', { name: 'Add a Service Auth policy that includes this service token' })
    expect(within(policy).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'Open the Cloudflare Zero Trust dashboard (one.dash.cloudflare.com).',
      'Go to Access → Applications and open the application for gw.example.com.',
      'Set Action to "Service Auth".'
    ])
    expect(within(policy).queryByRole('button')).not.toBeInTheDocument()
    const email = within(ways).getByRole('region', { name: 'Sign in with email in the app' })
    expect(within(email).getByTestId('doctor-command')).toHaveTextContent('npm run cli -- login --url wss://gw.example.com --profile Edge')
    expect(within(email).getByRole('button', { name: 'Copy' })).toBeInTheDocument()
    expect(within(ways).getByRole('button', { name: 'Add service token' })).toBeInTheDocument()

    expect(screen.getByTestId('doctor-status')).toHaveTextContent('Diagnosis finished in 2.4 s: Cloudflare Access does not accept this service token')
  })

  it('from an error panel in the Session view opens the report in the Gateways view', async () => {
    const user = userEvent.setup()
    await openGateway()
    await user.click(screen.getByRole('tab', { name: 'Session' }))
    showAccessError()
    const panel = await screen.findByTestId('error-panel')

    await user.click(within(panel).getByRole('button', { name: 'Diagnose' }))

    expect(fake.callsTo('doctor.run')).toEqual([['p1']])
    expect(screen.getByRole('tab', { name: 'Gateways' })).toHaveAttribute('aria-selected', 'true')
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    expect(screen.getByTestId('doctor-verdict')).toHaveAttribute('data-ok', 'true')
    expect(screen.getByTestId('doctor-verdict')).toHaveClass('doctor-verdict--pass')
    expect(screen.queryByTestId('doctor-causes')).not.toBeInTheDocument()
    expect(within(report()).getByRole('heading', { name: 'Connection doctor' })).toHaveFocus()
  })

  it('is in every error panel of a saved gateway, and in none without one', () => {
    const { unmount } = render(<ErrorPanel error={accessLoginRequired()} profileId="p1" />)
    expect(within(screen.getByTestId('error-panel')).getByRole('button', { name: 'Diagnose' })).toBeInTheDocument()
    unmount()
    render(<ErrorPanel error={appError('TIMEOUT', 'No answer', 'The gateway did not answer.')} />)
    expect(screen.queryByRole('button', { name: 'Diagnose' })).not.toBeInTheDocument()
  })

  it('fills the list in live as the steps end, with a spinner on the one in progress, and says so politely', async () => {
    const user = userEvent.setup()
    fake.holdDoctorRuns = true
    const run = noServiceAuthPolicyRun()
    fake.doctorResult = () => ok(run)
    await openGateway()

    await user.click(editorDiagnose())
    expect(report()).toHaveAttribute('data-phase', 'running')
    const status = screen.getByTestId('doctor-status')
    expect(status).toHaveAttribute('role', 'status')
    expect(status).toHaveTextContent('Diagnosing Edge: 0 of 9 checks done.')
    expect(stepRow('url')).toHaveAttribute('data-status', 'running')
    expect(stepRow('url')).toHaveTextContent('Address: checking…')
    expect(stepRow('url').querySelector('.spinner')).not.toBeNull()
    expect(stepRow('dns')).toHaveAttribute('data-status', 'waiting')

    act(() => {
      fake.pushDoctorProgress('p1', run.report.steps[0]!)
      fake.pushDoctorProgress('p1', run.report.steps[1]!)
    })
    expect(stepRow('url')).toHaveAttribute('data-status', 'pass')
    expect(stepRow('url')).toHaveTextContent('wss://gw.example.com/ (host gw.example.com, port 443).')
    expect(within(stepRow('dns')).getByText('Passed')).toBeInTheDocument()
    expect(stepRow('tls')).toHaveAttribute('data-status', 'running')
    expect(stepRow('tls')).toHaveTextContent('TCP and TLS: checking…')
    expect(stepRow('handshake')).toHaveAttribute('data-status', 'waiting')
    expect(document.querySelectorAll('[data-testid="doctor-report"] .spinner')).toHaveLength(1)
    expect(status).toHaveTextContent('Diagnosing Edge: 2 of 9 checks done; DNS: passed.')

    // Another gateway's steps are not this run's.
    act(() => {
      fake.pushDoctorProgress('p2', doctorStep('tls', 'fail'))
    })
    expect(stepRow('tls')).toHaveAttribute('data-status', 'running')

    act(() => {
      for (const step of run.report.steps.slice(2, 6)) fake.pushDoctorProgress('p1', step)
    })
    expect(stepRow('service-token')).toHaveAttribute('data-status', 'fail')
    expect(stepRow('app-token')).toHaveAttribute('data-status', 'running')

    await act(async () => {
      fake.finishDoctorRun('p1')
    })
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    expect(screen.getByTestId('doctor-steps')).toBeInTheDocument()
    expect(screen.queryByTestId('doctor-live-steps')).not.toBeInTheDocument()
  })

  it('does not start a second run while one runs (double click, or Diagnose elsewhere)', async () => {
    const user = userEvent.setup()
    fake.holdDoctorRuns = true
    await openGateway()
    showAccessError()

    await user.dblClick(editorDiagnose())
    await user.click(within(screen.getByTestId('error-panel')).getByRole('button', { name: 'Diagnose' }))
    expect(fake.callsTo('doctor.run')).toEqual([['p1']])
    expect(screen.getAllByTestId('doctor-report')).toHaveLength(1)
    // Diagnose while it runs brings the report back into focus.
    expect(within(report()).getByRole('heading', { name: 'Connection doctor' })).toHaveFocus()

    await act(async () => {
      fake.finishDoctorRun('p1')
    })
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    fake.holdDoctorRuns = false
    await user.click(within(report()).getByRole('button', { name: 'Run again' }))
    expect(fake.callsTo('doctor.run')).toEqual([['p1'], ['p1']])
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
  })

  it('Cancel diagnosis asks the main process to stop; the report then shows the checks not run as skipped', async () => {
    const user = userEvent.setup()
    fake.holdDoctorRuns = true
    await openGateway()
    await user.click(editorDiagnose())
    act(() => {
      fake.pushDoctorProgress('p1', doctorStep('url', 'pass'))
    })

    await user.click(within(report()).getByRole('button', { name: 'Cancel diagnosis' }))

    expect(fake.callsTo('doctor.cancel')).toEqual([['p1']])
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    expect(stepRow('url')).toHaveAttribute('data-status', 'pass')
    expect(stepRow('dns')).toHaveAttribute('data-status', 'skip')
    expect(stepRow('dns')).toHaveTextContent('Not run: the check was cancelled.')
    expect(within(report()).queryByRole('button', { name: 'Cancel diagnosis' })).not.toBeInTheDocument()
  })

  it('shows why a run failed, and can run again', async () => {
    const user = userEvent.setup()
    fake.doctorResult = () => fail(appError('PROFILE_NOT_FOUND', 'No such gateway', 'This gateway profile no longer exists.'))
    await openGateway()

    await user.click(editorDiagnose())

    const error = await screen.findByTestId('doctor-error')
    expect(error).toHaveAttribute('role', 'alert')
    expect(error).toHaveAttribute('data-code', 'PROFILE_NOT_FOUND')
    expect(error).toHaveTextContent('No such gateway. This gateway profile no longer exists.')
    expect(report()).toHaveAttribute('data-phase', 'failed')
    expect(screen.getByTestId('doctor-status')).toHaveTextContent('Diagnosis failed: No such gateway.')

    fake.doctorResult = undefined
    await user.click(within(report()).getByRole('button', { name: 'Run again' }))
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    expect(fake.callsTo('doctor.run')).toHaveLength(2)
  })

  it('Copy as Markdown writes the report Markdown to the clipboard and says Copied', async () => {
    const user = userEvent.setup()
    const run = noServiceAuthPolicyRun()
    fake.doctorResult = () => ok(run)
    await openGateway()
    await user.click(editorDiagnose())
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    const writeText = stubClipboard()

    await user.click(within(report()).getByRole('button', { name: 'Copy as Markdown' }))

    expect(writeText).toHaveBeenCalledWith(run.markdown)
    expect(await within(report()).findByText('Copied')).toBeInTheDocument()
  })

  it('without clipboard access, Copy as Markdown shows the Markdown selected for the keyboard', async () => {
    const user = userEvent.setup()
    const run = noServiceAuthPolicyRun()
    fake.doctorResult = () => ok(run)
    await openGateway()
    await user.click(editorDiagnose())
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    stubClipboard(vi.fn().mockRejectedValue(new Error('denied')))

    await user.click(within(report()).getByRole('button', { name: 'Copy as Markdown' }))

    expect(await screen.findByTestId('doctor-copy-state')).toHaveTextContent('Could not copy to the clipboard')
    const fallback = screen.getByRole('textbox', { name: 'Report as Markdown' })
    expect(fallback).toHaveValue(run.markdown)
    expect(fallback).toHaveFocus()
    expect(screen.queryByText('Copied')).not.toBeInTheDocument()
  })

  it('the sign-in way forward starts the Cloudflare Access sign-in', async () => {
    const user = userEvent.setup()
    fake.doctorResult = () => ok(noServiceAuthPolicyRun())
    await openGateway()
    await user.click(editorDiagnose())
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))

    const email = within(screen.getByTestId('doctor-ways-forward')).getByRole('region', { name: 'Sign in with email in the app' })
    await user.click(within(email).getByRole('button', { name: 'Sign in with Cloudflare Access' }))

    expect(fake.callsTo('access.signIn')).toEqual([['p1']])
  })

  it('the add-service-token way forward opens the editor at the Client ID in service-token mode', async () => {
    const user = userEvent.setup()
    fake.doctorResult = () => ok(noServiceAuthPolicyRun())
    await openGateway({ access: { mode: 'none' } })
    await user.click(editorDiagnose())
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))

    await user.click(within(screen.getByTestId('doctor-ways-forward')).getByRole('button', { name: 'Add service token' }))

    await waitFor(() => expect(screen.getByLabelText('Client ID', { exact: true })).toHaveFocus())
    expect(screen.getByTestId('access-mode-service-token')).toBeChecked()
  })

  it('closes with Escape or Close report, and gives the focus back to Diagnose', async () => {
    const user = userEvent.setup()
    await openGateway()
    await user.click(editorDiagnose())
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))

    await user.keyboard('{Escape}')
    expect(screen.queryByTestId('doctor-report')).not.toBeInTheDocument()
    expect(editorDiagnose()).toHaveFocus()

    await user.keyboard('{Enter}')
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    expect(fake.callsTo('doctor.run')).toHaveLength(2)
    await user.tab()
    expect(within(report()).getByRole('button', { name: 'Close report' })).toHaveFocus()
    await user.keyboard('{Enter}')
    expect(screen.queryByTestId('doctor-report')).not.toBeInTheDocument()
    expect(editorDiagnose()).toHaveFocus()
  })

  it('stays with its gateway: hidden while another is selected, back without taking the focus', async () => {
    const user = userEvent.setup()
    await openGateway({}, [{ id: 'p2', name: 'Lab', url: 'ws://127.0.0.1:18789' }])
    await user.click(editorDiagnose())
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))

    const items = screen.getAllByTestId('profile-item')
    await user.click(items.find((item) => item.getAttribute('data-profile-id') === 'p2')!)
    expect(screen.queryByTestId('doctor-report')).not.toBeInTheDocument()
    const edge = items.find((item) => item.getAttribute('data-profile-id') === 'p1')!
    await user.click(edge)
    expect(report()).toHaveAttribute('data-phase', 'done')
    expect(edge).toHaveFocus()
    expect(fake.callsTo('doctor.run')).toHaveLength(1)
  })

  it('says when the editor has changes the doctor does not check', async () => {
    const user = userEvent.setup()
    await openGateway()
    await user.click(editorDiagnose())
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    expect(screen.queryByTestId('doctor-unsaved-note')).not.toBeInTheDocument()

    await user.type(screen.getByLabelText('Name', { exact: true }), ' 2')
    expect(screen.getByTestId('doctor-unsaved-note')).toHaveTextContent('The doctor checks the saved settings of this gateway')
  })

  it('shows the report text as text, never as HTML', async () => {
    const user = userEvent.setup()
    const base = passingRun()
    const hostile = '<img src=x onerror="alert(1)"><b>bold</b>'
    fake.doctorResult = () =>
      ok(
        doctorRun({
          ...base.report,
          steps: base.report.steps.map((s) => (s.id === 'dns' ? { ...s, summary: hostile, details: [{ label: '<i>label</i>', value: hostile }] } : s)),
          verdict: {
            ok: false,
            headline: hostile,
            causes: [{ id: 'x', title: hostile, likelihood: 'high', evidence: [hostile] }],
            waysForward: [{ id: 'y', title: hostile, steps: [hostile], command: hostile }]
          }
        })
      )
    await openGateway()
    await user.click(editorDiagnose())
    await waitFor(() => expect(report()).toHaveAttribute('data-phase', 'done'))
    await user.click(within(stepRow('dns')).getByRole('button', { name: /^Details of/ }))

    expect(report().querySelector('img, b, i')).toBeNull()
    expect(screen.getByTestId('doctor-verdict')).toHaveTextContent(hostile)
    expect(stepRow('dns')).toHaveTextContent(hostile)
    expect(screen.getByTestId('doctor-step-details-dns')).toHaveTextContent('<i>label</i>')
  })
})

describe('doctor store', () => {
  it('keeps the steps in the order the checks run, and drops steps when nothing runs', async () => {
    fake.holdDoctorRuns = true
    applyDoctorProgress({ profileId: 'p1', step: doctorStep('url', 'pass') })
    expect(useDoctor.getState().runs.p1).toBeUndefined()

    const running = runDiagnosis('p1')
    applyDoctorProgress({ profileId: 'p1', step: doctorStep('dns', 'pass') })
    applyDoctorProgress({ profileId: 'p1', step: doctorStep('url', 'warn') })
    applyDoctorProgress({ profileId: 'p1', step: doctorStep('url', 'pass') })
    const run = useDoctor.getState().runs.p1
    expect(run?.phase === 'running' && run.steps.map((s) => `${s.id}:${s.status}`)).toEqual(['url:pass', 'dns:pass'])

    // A second start while it runs does nothing.
    await runDiagnosis('p1')
    expect(fake.callsTo('doctor.run')).toHaveLength(1)

    fake.finishDoctorRun('p1')
    await running
    expect(useDoctor.getState().runs.p1?.phase).toBe('done')
    applyDoctorProgress({ profileId: 'p1', step: doctorStep('tls', 'fail') })
    const done = useDoctor.getState().runs.p1
    expect(done?.phase === 'done' && done.run.report.steps.find((s) => s.id === 'tls')?.status).toBe('pass')
  })

  it('a window without the doctor in its bridge fails the run with an error instead of throwing', async () => {
    setApi({ ...fake.api, doctor: undefined } as unknown as AetherApi)
    await runDiagnosis('p1')
    const run = useDoctor.getState().runs.p1
    expect(run?.phase).toBe('failed')
    expect(run?.phase === 'failed' && run.error.code).toBe('INTERNAL')
  })
})
