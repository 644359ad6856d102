/**
 * An in-memory AetherApi for the renderer tests: profiles, secrets (kept here, never in the
 * renderer), connection snapshots, session events and Access sign-in statuses that a test
 * pushes by hand, gateway links, and a log of every call.
 *
 * Access sign-in works like the main process's from the outside: `signIn` pushes `signing-in`,
 * then ends (at once, or when the test says so with `holdSignIns`) by storing an app token in
 * the fake keychain and answering `signed-in` with an email and an expiry. The token stays in
 * here; statuses never carry it.
 *
 * The connection doctor too: `doctor.run` pushes each step of the scripted run (`doctorResult`,
 * default: everything passes) as progress and answers the run; with `holdDoctorRuns` it waits
 * instead, the test pushes steps (`pushDoctorProgress`) and ends it (`finishDoctorRun`), and
 * `doctor.cancel` ends it with the steps not pushed yet skipped, as the main process does.
 */
import type {
  AccessSignInStatus,
  AetherApi,
  ChatMessage,
  DoctorProgress,
  DoctorRun,
  OpenGatewayRequest,
  ProfileDraft,
  ProfileView,
  SecretKind,
  SecretsStatus,
  SessionEvent,
  SessionSummary
} from '../../../src/shared/ipc-contract'
import type { ConnectionSnapshot, ConnectionState } from '../../../src/shared/connection-state'
import { appError, fail, ok, type AppError, type Result } from '../../../src/shared/errors'
import { DEFAULT_SESSION_KEY } from '../../../src/shared/profile'
import type { DoctorStep } from '../../../src/shared/doctor-report'
import { cancelledRun, passingRun } from './doctor-reports'

export interface FakeCall {
  method: string
  args: unknown[]
}

export class FakeApi {
  readonly calls: FakeCall[] = []
  readonly profiles = new Map<string, ProfileView>()
  readonly secrets = new Map<string, string>()
  readonly history = new Map<string, ChatMessage[]>()
  sessions: SessionSummary[] = []
  snapshots: ConnectionSnapshot[] = []
  /** What the next session.send answers (default: a new run id). */
  sendResult: (() => Result<{ runId: string }>) | undefined
  /** What the next profiles.save answers instead of saving. */
  saveResult: (() => Result<ProfileView>) | undefined
  /** Called inside connection.snapshots() before it answers (to push an event "in between"). */
  beforeSnapshotsAnswer: (() => void) | undefined
  /** What access.statuses() answers, per profile; kept up to date by the fake's own sign-ins. */
  readonly accessStatuses = new Map<string, AccessSignInStatus>()
  /** While true, access.signIn / signInWithBrowser stay in `signing-in` until finishSignIn or cancel. */
  holdSignIns = false
  /** How a sign-in ends (default: signed in as operator@example.com for an hour). */
  signInOutcome: ((profileId: string, via: 'window' | 'browser') => Partial<AccessSignInStatus>) | undefined
  /** What the next doctor.run answers (default: a run where everything passes). */
  doctorResult: ((profileId: string) => Result<DoctorRun>) | undefined
  /** While true, doctor.run keeps running until finishDoctorRun or doctor.cancel. */
  holdDoctorRuns = false
  private doctorListeners = new Set<(p: DoctorProgress) => void>()
  private heldDoctorRuns = new Map<string, (result: Result<DoctorRun> | undefined) => void>()
  private doctorStepsPushed = new Map<string, DoctorStep[]>()
  private stateListeners = new Set<(s: ConnectionSnapshot) => void>()
  private eventListeners = new Set<(e: SessionEvent) => void>()
  private accessListeners = new Set<(s: AccessSignInStatus) => void>()
  private linkListeners = new Set<(r: OpenGatewayRequest) => void>()
  private accessSeq = new Map<string, number>()
  private heldSignIns = new Map<string, (outcome: Partial<AccessSignInStatus>) => void>()
  private nextId = 1
  private seq = new Map<string, number>()
  private historyGate: Promise<void> | undefined

  /** The AetherApi object the renderer gets. */
  readonly api: AetherApi = {
    app: {
      info: async () => this.log('app.info', [], ok({ name: 'Aether Remote', version: '0.1.0', platform: 'linux', secretStorage: { kind: 'keychain' as const } })),
      onOpenGateway: (listener) => {
        this.calls.push({ method: 'app.onOpenGateway', args: [] })
        this.linkListeners.add(listener)
        return () => this.linkListeners.delete(listener)
      }
    },
    profiles: {
      list: async () => this.log('profiles.list', [], ok([...this.profiles.values()])),
      save: async (draft: ProfileDraft) => this.log('profiles.save', [draft], this.save(draft)),
      remove: async (id: string) => this.log('profiles.remove', [id], ok({ removed: this.profiles.delete(id) }))
    },
    secrets: {
      set: async (id: string, kind: SecretKind, value: string) => {
        this.secrets.set(`${id}/${kind}`, value)
        return this.log('secrets.set', [id, kind, value], this.status(id))
      },
      clear: async (id: string, kind: SecretKind) => {
        this.secrets.delete(`${id}/${kind}`)
        return this.log('secrets.clear', [id, kind], this.status(id))
      }
    },
    connection: {
      connect: async (id: string) => this.log('connection.connect', [id], ok(this.snapshot(id, { kind: 'connecting', attempt: 1, resuming: false }))),
      disconnect: async (id: string) => this.log('connection.disconnect', [id], ok(this.snapshot(id, { kind: 'idle' }))),
      snapshots: async () => {
        const answer = [...this.snapshots]
        this.beforeSnapshotsAnswer?.()
        return this.log('connection.snapshots', [], ok(answer))
      },
      onState: (listener) => {
        this.calls.push({ method: 'connection.onState', args: [] })
        this.stateListeners.add(listener)
        return () => this.stateListeners.delete(listener)
      }
    },
    session: {
      history: async (id: string, key: string) => {
        await this.historyGate
        return this.log('session.history', [id, key], ok(this.history.get(`${id}/${key}`) ?? []))
      },
      list: async (id: string) => this.log('session.list', [id], ok(this.sessions)),
      send: async (id: string, key: string, text: string, clientMessageId: string) =>
        this.log('session.send', [id, key, text, clientMessageId], this.sendResult ? this.sendResult() : ok({ runId: `run-${this.nextId++}` })),
      abort: async (id: string, key: string, runId?: string) => this.log('session.abort', [id, key, runId], ok({ aborted: true })),
      onEvent: (listener) => {
        this.calls.push({ method: 'session.onEvent', args: [] })
        this.eventListeners.add(listener)
        return () => this.eventListeners.delete(listener)
      }
    },
    shell: { openExternal: async (url: string) => this.log('shell.openExternal', [url], ok({ opened: true })) },
    access: {
      // Logged when called, not when answered: a held sign-in answers much later.
      signIn: (id: string) => this.log('access.signIn', [id], this.runSignIn(id, 'window')),
      signInWithBrowser: (id: string) => this.log('access.signInWithBrowser', [id], this.runSignIn(id, 'browser')),
      cancel: async (id: string) => {
        const held = this.heldSignIns.get(id)
        held?.({
          phase: this.secrets.has(`${id}/cfAppToken`) ? 'signed-in' : 'signed-out',
          error: appError('CANCELLED', 'Sign-in cancelled', 'The Cloudflare Access sign-in window was closed before the sign-in finished.')
        })
        return this.log('access.cancel', [id], ok({ cancelled: held !== undefined }))
      },
      signOut: async (id: string) => {
        this.secrets.delete(`${id}/cfAppToken`)
        this.status(id)
        return this.log('access.signOut', [id], ok(this.pushAccessStatus(id, { phase: 'signed-out' })))
      },
      statuses: async () => this.log('access.statuses', [], ok([...this.accessStatuses.values()])),
      onStatus: (listener) => {
        this.calls.push({ method: 'access.onStatus', args: [] })
        this.accessListeners.add(listener)
        return () => this.accessListeners.delete(listener)
      }
    },
    doctor: {
      // Logged when called: a held run answers much later.
      run: (id: string) => this.log('doctor.run', [id], this.runDoctor(id)),
      cancel: async (id: string) => {
        const held = this.heldDoctorRuns.get(id)
        if (held) held(ok(cancelledRun(this.scriptedDoctorRun(id), this.doctorStepsPushed.get(id) ?? [])))
        return this.log('doctor.cancel', [id], ok({ cancelled: held !== undefined }))
      },
      onProgress: (listener) => {
        this.calls.push({ method: 'doctor.onProgress', args: [] })
        this.doctorListeners.add(listener)
        return () => this.doctorListeners.delete(listener)
      }
    }
  }

  /** Push a finished doctor step of a profile's run to every subscriber. */
  pushDoctorProgress(profileId: string, step: DoctorStep): void {
    this.doctorStepsPushed.set(profileId, [...(this.doctorStepsPushed.get(profileId) ?? []), step])
    for (const l of this.doctorListeners) l({ profileId, step })
  }

  /** End a run held by `holdDoctorRuns` (default: the scripted result). */
  finishDoctorRun(profileId: string, result?: Result<DoctorRun>): void {
    this.heldDoctorRuns.get(profileId)?.(result)
  }

  private scriptedDoctorRun(profileId: string): DoctorRun {
    const scripted = this.doctorResult?.(profileId)
    return scripted?.ok ? scripted.value : passingRun()
  }

  private async runDoctor(profileId: string): Promise<Result<DoctorRun>> {
    this.doctorStepsPushed.set(profileId, [])
    if (this.holdDoctorRuns) {
      const override = await new Promise<Result<DoctorRun> | undefined>((resolve) => this.heldDoctorRuns.set(profileId, resolve))
      this.heldDoctorRuns.delete(profileId)
      return override ?? this.doctorResult?.(profileId) ?? ok(passingRun())
    }
    const result = this.doctorResult?.(profileId) ?? ok(passingRun())
    if (result.ok) for (const step of result.value.report.steps) this.pushDoctorProgress(profileId, step)
    return result
  }

  /** A JWT-looking value the fake keychain holds after a sign-in; the renderer must never show it. */
  static readonly APP_TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImZha2UifQ.eyJ0eXBlIjoiYXBwIiwiZW1haWwiOiJvcGVyYXRvckBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlLXRva2VuLXRhaWw'

  /**
   * Set and push a sign-in status for a profile (the fields given replace the previous ones;
   * seq defaults to the next one). Recorded for statuses() too, unless `seq` makes it stale.
   */
  pushAccessStatus(profileId: string, fields: Partial<AccessSignInStatus> & Pick<AccessSignInStatus, 'phase'>, seq?: number): AccessSignInStatus {
    const next = seq ?? (this.accessSeq.get(profileId) ?? 0) + 1
    if (next > (this.accessSeq.get(profileId) ?? 0)) this.accessSeq.set(profileId, next)
    const status: AccessSignInStatus = { profileId, ...fields, seq: next }
    if (next >= (this.accessStatuses.get(profileId)?.seq ?? 0)) this.accessStatuses.set(profileId, status)
    for (const l of this.accessListeners) l(status)
    return status
  }

  /** End a sign-in held by `holdSignIns` (default: the normal successful outcome). */
  finishSignIn(profileId: string, outcome?: Partial<AccessSignInStatus>): void {
    this.heldSignIns.get(profileId)?.(outcome ?? {})
  }

  /** The main process received an `aether-remote://connect` link. */
  openGatewayLink(request: OpenGatewayRequest): void {
    for (const l of this.linkListeners) l(request)
  }

  private async runSignIn(profileId: string, via: 'window' | 'browser'): Promise<Result<AccessSignInStatus>> {
    this.pushAccessStatus(profileId, { phase: 'signing-in', via })
    const override = this.holdSignIns
      ? await new Promise<Partial<AccessSignInStatus>>((resolve) => this.heldSignIns.set(profileId, resolve))
      : {}
    this.heldSignIns.delete(profileId)
    const outcome = { ...(this.signInOutcome?.(profileId, via) ?? {}), ...override }
    if ((outcome.phase ?? 'signed-in') === 'signed-in' && !outcome.error) {
      this.secrets.set(`${profileId}/cfAppToken`, FakeApi.APP_TOKEN)
      this.status(profileId)
      const expiresAt = Date.now() + 60 * 60_000
      return ok(this.pushAccessStatus(profileId, { phase: 'signed-in', email: 'operator@example.com', expiresAt, renewAt: expiresAt - 5 * 60_000, ...outcome }))
    }
    return ok(this.pushAccessStatus(profileId, { phase: 'signed-out', ...outcome }))
  }

  /** Add a saved profile directly (as if it existed before the app started). */
  addProfile(partial: Partial<ProfileView> & { name: string; url: string }): ProfileView {
    const id = partial.id ?? `profile-${this.nextId++}`
    const profile: ProfileView = {
      id,
      sessionKey: DEFAULT_SESSION_KEY,
      access: { mode: 'none' },
      options: {},
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      ...partial,
      secrets: partial.secrets ?? this.statusOf(id)
    }
    this.profiles.set(id, profile)
    return profile
  }

  /** Push a connection state change to every subscriber (seq defaults to the next one). */
  pushState(profileId: string, state: ConnectionState, seq?: number): ConnectionSnapshot {
    const snapshot = seq === undefined ? this.snapshot(profileId, state) : { profileId, seq, state }
    for (const l of this.stateListeners) l(snapshot)
    return snapshot
  }

  pushEvent(event: SessionEvent): void {
    for (const l of this.eventListeners) l(event)
  }

  /** Hold session.history answers until the returned function is called. */
  holdHistory(): () => void {
    let release!: () => void
    this.historyGate = new Promise<void>((resolve) => (release = resolve))
    return () => {
      this.historyGate = undefined
      release()
    }
  }

  callsTo(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args)
  }

  private log<T>(method: string, args: unknown[], result: T): T {
    this.calls.push({ method, args })
    return result
  }

  private snapshot(profileId: string, state: ConnectionState): ConnectionSnapshot {
    const seq = (this.seq.get(profileId) ?? 0) + 1
    this.seq.set(profileId, seq)
    return { profileId, seq, state }
  }

  private save(draft: ProfileDraft): Result<ProfileView> {
    if (this.saveResult) return this.saveResult()
    if (!/^wss?:\/\//.test(draft.url)) return fail(appError('INVALID_URL', 'Invalid gateway URL', 'url: must start with ws:// or wss://.'))
    const existing = draft.id ? this.profiles.get(draft.id) : undefined
    const id = existing?.id ?? `profile-${this.nextId++}`
    const profile: ProfileView = {
      id,
      name: draft.name,
      url: draft.url,
      sessionKey: draft.sessionKey ?? DEFAULT_SESSION_KEY,
      access: { ...draft.access },
      options: { ...draft.options },
      createdAt: existing?.createdAt ?? '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
      secrets: this.statusOf(id)
    }
    this.profiles.set(id, profile)
    return ok(profile)
  }

  private status(id: string): Result<SecretsStatus> {
    const status = this.statusOf(id)
    const profile = this.profiles.get(id)
    if (profile) this.profiles.set(id, { ...profile, secrets: status })
    return ok(status)
  }

  private statusOf(id: string): SecretsStatus {
    const one = (kind: SecretKind) => {
      const value = this.secrets.get(`${id}/${kind}`)
      if (!value) return { set: false, hint: 'not set' }
      return { set: true, hint: value.length >= 12 ? `set, ends in …${value.slice(-4)}` : 'set' }
    }
    return { gatewayToken: one('gatewayToken'), cfClientSecret: one('cfClientSecret'), cfAppToken: one('cfAppToken') }
  }
}

/** An error as the main process would build it for a refused Access login. */
export function accessLoginRequired(extra: Partial<AppError['details']> = {}): AppError {
  return appError('ACCESS_LOGIN_REQUIRED', 'Cloudflare Access wants a sign-in', 'The gateway is behind Cloudflare Access and this profile sent no credentials it accepts.', {
    nextSteps: [
      { action: 'add-service-token', label: 'Add a service token (Client ID and Client Secret) to this profile.' },
      { action: 'sign-in-email', label: 'Or sign in with your email.' },
      { action: 'retry', label: 'Then connect again.' }
    ],
    likelyCauses: ['No service token is configured for this gateway.', 'The Access policy does not include a Service Auth rule.'],
    details: {
      httpStatus: 302,
      accessTeamDomain: 'acme.cloudflareaccess.com',
      accessAud: 'a'.repeat(64),
      credentialsSent: [],
      accessClaims: {
        type: 'meta',
        audience: 'a'.repeat(64),
        hostname: 'gateway.acme.dev',
        authStatus: 'NONE',
        serviceTokenStatus: false,
        isWarp: false,
        country: 'DE',
        rayId: '8f1e2d3c4b5a6978'
      },
      ...extra
    }
  })
}
