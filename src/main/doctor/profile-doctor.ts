/**
 * The doctor for a saved gateway, as the app's "Diagnose" button runs it: the profile's own
 * credentials from the keychain, one run per profile at a time, each step pushed as it ends.
 *
 * A profile whose saved credentials cannot be used (no sign-in yet, half a service token) is
 * still diagnosed, without Access credentials and with a note saying why: the checks up to the
 * login page are what tells the operator what to set up.
 */
import { appError, fail, ok, type Result } from '../../shared/errors'
import type { DoctorStep } from '../../shared/doctor-report'
import type { DoctorRun } from '../../shared/ipc-contract'
import type { GatewayProfile } from '../../shared/profile'
import { targetFromProfile } from '../gateway/connect-target'
import type { ConnectorDeps } from '../gateway/gateway-connector'
import { secretKeys } from '../secrets/secret-store'
import type { DoctorInput } from './context'
import { renderDoctorMarkdown } from './markdown'
import { nodeDoctorPorts } from './node-ports'
import { doctorInputFromTarget, runDoctor } from './run-doctor'
import type { DoctorPorts } from './ports'

export interface ProfileDoctorDeps {
  connector: ConnectorDeps
  /** The network ports; default: Node's, with the connector's keychain for the handshake. */
  ports?: DoctorPorts
  onStep(profileId: string, step: DoctorStep): void
}

export class ProfileDoctor {
  private readonly running = new Map<string, AbortController>()

  constructor(private readonly deps: ProfileDoctorDeps) {}

  async run(profile: GatewayProfile): Promise<Result<DoctorRun>> {
    if (this.running.has(profile.id)) {
      return fail(appError('INVALID_INPUT', 'Already diagnosing', 'A diagnosis of this gateway is running; its report appears when it ends.'))
    }
    const abort = new AbortController()
    this.running.set(profile.id, abort)
    try {
      const input = await this.inputFor(profile)
      const report = await runDoctor(input, this.deps.ports ?? nodeDoctorPorts(this.deps.connector), {
        userAgent: this.deps.connector.userAgent,
        signal: abort.signal,
        onStep: (step) => this.deps.onStep(profile.id, step)
      })
      return ok({ report, markdown: renderDoctorMarkdown(report) })
    } finally {
      this.running.delete(profile.id)
    }
  }

  cancel(profileId: string): boolean {
    const abort = this.running.get(profileId)
    abort?.abort()
    return abort !== undefined
  }

  dispose(): void {
    for (const abort of this.running.values()) abort.abort()
    this.running.clear()
  }

  private async inputFor(profile: GatewayProfile): Promise<DoctorInput> {
    const resolved = await targetFromProfile(profile, this.deps.connector.secrets)
    if (resolved.ok) {
      return doctorInputFromTarget(resolved.value.target, { profileName: profile.name, rawUrl: profile.url, notes: resolved.value.warnings })
    }
    // The URL step reports a bad address itself; other problems are credentials the profile lacks.
    const note =
      resolved.error.code === 'INVALID_URL' ? [] : [`The saved Access credentials could not be used (${resolved.error.title}): checked without them.`]
    const gatewayToken = await this.deps.connector.secrets.get(secretKeys.gatewayToken(profile.id))
    return {
      url: profile.url,
      access: { kind: 'none' },
      ...(gatewayToken ? { gatewayToken } : {}),
      ...(profile.options.caFile ? { caFile: profile.options.caFile } : {}),
      ...(profile.access.aud ? { expectedAud: profile.access.aud } : {}),
      targetId: profile.id,
      profileName: profile.name,
      notes: note,
      // The connection would not even start with these credentials: the verdict says why.
      ...(resolved.error.code === 'INVALID_URL' ? {} : { credentialProblem: resolved.error })
    }
  }
}
