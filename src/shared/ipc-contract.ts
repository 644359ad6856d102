/**
 * The one IPC contract between the main process and the renderer.
 *
 * Channel names are declared here once (`domain:verb` for requests, `domain:noun` for pushed
 * events); the preload builds `window.api` from them and the main process registers a handler
 * for each. Every request's arguments have a zod schema that the main process checks before
 * the handler runs, and every response is a Result: errors cross as values with the engine's
 * stable codes, never as thrown exceptions (Electron keeps only `message` of a throw).
 *
 * Secrets are write-only from the renderer: it may set, replace or clear them and learn whether
 * one is set (with a hint of its last characters), never read one back.
 */
import { z } from 'zod'
import type { ConnectionSnapshot } from './connection-state'
import type { DoctorReport, DoctorStep } from './doctor-report'
import type { AppError, Result } from './errors'
import type { GatewayProfile } from './profile'
import { ACCESS_MODES, type AccessMode } from './profile'

/** The secrets a profile can hold (the device identity and device token are never exposed). */
export const SECRET_KINDS = ['gatewayToken', 'cfClientSecret', 'cfAppToken'] as const
export type SecretKind = (typeof SECRET_KINDS)[number]

export interface SecretStatus {
  set: boolean
  /** "set, ends in …abcd" style hint; never more than four characters of the value. */
  hint: string
}

export type SecretsStatus = Record<SecretKind, SecretStatus>

/** A profile as the renderer sees it: the profile plus which of its secrets are set. */
export interface ProfileView extends GatewayProfile {
  secrets: SecretsStatus
}

/** What the editor sends to save a profile; never carries a secret value. */
export interface ProfileDraft {
  id?: string
  name: string
  url: string
  sessionKey?: string
  access: { mode: AccessMode; clientId?: string; aud?: string }
  options?: { caFile?: string; connectTimeoutMs?: number }
}

export interface ChatMessage {
  id: string
  role: 'user' | 'assistant' | 'system' | 'tool'
  text: string
  timestamp?: number
  /** For assistant replies that are still streaming or ended abnormally. */
  status?: 'streaming' | 'final' | 'aborted' | 'error'
  runId?: string
  error?: string
}

export interface SessionSummary {
  key: string
  title: string
  preview?: string
  updatedAt?: number | null
}

/** Pushed while a reply streams; `text` is the whole reply so far (the renderer never concatenates). */
export type SessionEvent =
  | { type: 'run-started'; profileId: string; sessionKey: string; runId: string; userText: string; clientMessageId: string }
  | { type: 'status'; profileId: string; sessionKey: string; runId: string; phase: string }
  | { type: 'delta'; profileId: string; sessionKey: string; runId: string; text: string }
  | { type: 'final'; profileId: string; sessionKey: string; runId: string; text: string }
  | { type: 'aborted'; profileId: string; sessionKey: string; runId: string; text: string }
  | { type: 'error'; profileId: string; sessionKey: string; runId: string; text: string; message: string }

/**
 * The Cloudflare Access sign-in of one profile (access mode `email-otp`), as the renderer sees
 * it: who is signed in and until when, never the token itself.
 */
export interface AccessSignInStatus {
  profileId: string
  /**
   * `signed-out`: no app token stored; `signing-in`: a sign-in the user started is running;
   * `renewing`: an automatic renewal is running (hidden window first); `signed-in`: a token is
   * stored; `expired`: a token is stored but its `exp` has passed.
   */
  phase: 'signed-out' | 'signing-in' | 'renewing' | 'signed-in' | 'expired'
  /** Where the attempt in flight runs: the embedded window (shown or hidden) or the system browser. */
  via?: 'window' | 'hidden-window' | 'browser'
  /** Email (or common name) from the stored token's claims. */
  email?: string
  /** `exp` of the stored token, ms since the epoch. */
  expiresAt?: number
  /** When the app will renew it, ms since the epoch. */
  renewAt?: number
  /** The last attempt's failure (cancelled, timed out, needs the user...); cleared by a success. */
  error?: AppError
  /** The embedded window could not finish: offer the system-browser sign-in. */
  offerBrowser?: boolean
  /** Increases with every change of this profile's status; stale ones are dropped by seq. */
  seq: number
}

/** One run of the connection doctor: the report, and the same as Markdown (for "Copy as Markdown"). */
export interface DoctorRun {
  report: DoctorReport
  markdown: string
}

/** A doctor step that finished while the run goes on (the report view fills in live). */
export interface DoctorProgress {
  profileId: string
  step: DoctorStep
}

/** A gateway to open in the config view, from an `aether-remote://connect?url=…` link. Never carries a secret. */
export interface OpenGatewayRequest {
  url: string
  name?: string
}

export interface AppInfo {
  name: string
  version: string
  platform: string
  /** Where secrets are kept: the OS keychain, or memory only (with the reason). */
  secretStorage: { kind: 'keychain' | 'memory'; warning?: string }
}

const id = z.string().trim().min(1).max(200)
const sessionKey = z.string().trim().min(1).max(200)
const secretKind = z.enum(SECRET_KINDS)

const profileDraft = z.strictObject({
  id: id.optional(),
  name: z.string().max(100),
  url: z.string().max(2048),
  sessionKey: z.string().max(200).optional(),
  access: z.strictObject({
    mode: z.enum(ACCESS_MODES as readonly [AccessMode, ...AccessMode[]]),
    clientId: z.string().max(200).optional(),
    aud: z.string().max(200).optional()
  }),
  options: z
    .strictObject({
      caFile: z.string().max(4096).optional(),
      connectTimeoutMs: z.number().int().optional()
    })
    .optional()
})

/**
 * Request channels: argument schema (a tuple) and response type. The response types are in
 * `InvokeResponses`, the schemas here, both keyed by the same channel names.
 */
export const INVOKE_SCHEMAS = {
  'app:info': z.tuple([]),
  'profiles:list': z.tuple([]),
  'profiles:save': z.tuple([profileDraft]),
  'profiles:remove': z.tuple([id]),
  'secrets:set': z.tuple([id, secretKind, z.string().min(1).max(16_384)]),
  'secrets:clear': z.tuple([id, secretKind]),
  'connection:connect': z.tuple([id]),
  'connection:disconnect': z.tuple([id]),
  'connection:snapshots': z.tuple([]),
  'session:history': z.tuple([id, sessionKey]),
  'session:list': z.tuple([id]),
  'session:send': z.tuple([id, sessionKey, z.string().min(1).max(200_000), z.string().min(1).max(100)]),
  'session:abort': z.tuple([id, sessionKey, z.string().max(200).optional()]),
  'shell:open-external': z.tuple([z.string().max(4096)]),
  'access:sign-in': z.tuple([id]),
  'access:sign-in-browser': z.tuple([id]),
  'access:cancel': z.tuple([id]),
  'access:sign-out': z.tuple([id]),
  'access:status': z.tuple([]),
  'doctor:run': z.tuple([id]),
  'doctor:cancel': z.tuple([id])
} as const

export type InvokeChannel = keyof typeof INVOKE_SCHEMAS

export interface InvokeResponses {
  'app:info': AppInfo
  'profiles:list': ProfileView[]
  'profiles:save': ProfileView
  'profiles:remove': { removed: boolean }
  'secrets:set': SecretsStatus
  'secrets:clear': SecretsStatus
  'connection:connect': ConnectionSnapshot
  'connection:disconnect': ConnectionSnapshot
  'connection:snapshots': ConnectionSnapshot[]
  'session:history': ChatMessage[]
  'session:list': SessionSummary[]
  'session:send': { runId: string }
  'session:abort': { aborted: boolean }
  'shell:open-external': { opened: boolean }
  /** Resolves when the sign-in ends (success, cancel, timeout, failure); progress arrives as `access:status` events. */
  'access:sign-in': AccessSignInStatus
  'access:sign-in-browser': AccessSignInStatus
  'access:cancel': { cancelled: boolean }
  'access:sign-out': AccessSignInStatus
  'access:status': AccessSignInStatus[]
  /** Resolves when the run ends (30 s at most); steps arrive as `doctor:progress` events meanwhile. */
  'doctor:run': DoctorRun
  'doctor:cancel': { cancelled: boolean }
}

export type InvokeArgs<C extends InvokeChannel> = z.input<(typeof INVOKE_SCHEMAS)[C]>

/** Pushed events, main → renderer. */
export interface EventPayloads {
  'connection:state': ConnectionSnapshot
  'session:event': SessionEvent
  'access:status': AccessSignInStatus
  'app:open-gateway': OpenGatewayRequest
  'doctor:progress': DoctorProgress
}
export type EventChannel = keyof EventPayloads
export const EVENT_CHANNELS: readonly EventChannel[] = ['connection:state', 'session:event', 'access:status', 'app:open-gateway', 'doctor:progress']

export const INVOKE_CHANNELS = Object.keys(INVOKE_SCHEMAS) as InvokeChannel[]

/** What a handler returns for a channel. */
export type InvokeResult<C extends InvokeChannel> = Promise<Result<InvokeResponses[C]>>

/** The domain-shaped API the preload exposes as `window.api`. */
export interface AetherApi {
  app: {
    info(): InvokeResult<'app:info'>
    /** An `aether-remote://connect` link was opened: show the config view prefilled (never connect by itself). */
    onOpenGateway(listener: (request: OpenGatewayRequest) => void): () => void
  }
  profiles: {
    list(): InvokeResult<'profiles:list'>
    save(draft: ProfileDraft): InvokeResult<'profiles:save'>
    remove(profileId: string): InvokeResult<'profiles:remove'>
  }
  secrets: {
    set(profileId: string, kind: SecretKind, value: string): InvokeResult<'secrets:set'>
    clear(profileId: string, kind: SecretKind): InvokeResult<'secrets:clear'>
  }
  connection: {
    connect(profileId: string): InvokeResult<'connection:connect'>
    disconnect(profileId: string): InvokeResult<'connection:disconnect'>
    snapshots(): InvokeResult<'connection:snapshots'>
    onState(listener: (snapshot: ConnectionSnapshot) => void): () => void
  }
  session: {
    history(profileId: string, sessionKey: string): InvokeResult<'session:history'>
    list(profileId: string): InvokeResult<'session:list'>
    send(profileId: string, sessionKey: string, text: string, clientMessageId: string): InvokeResult<'session:send'>
    abort(profileId: string, sessionKey: string, runId?: string): InvokeResult<'session:abort'>
    onEvent(listener: (event: SessionEvent) => void): () => void
  }
  shell: { openExternal(url: string): InvokeResult<'shell:open-external'> }
  access: {
    /** Open the sign-in window for the profile; resolves when the sign-in ends. */
    signIn(profileId: string): InvokeResult<'access:sign-in'>
    /** Sign in in the system browser instead (the cloudflared-style transfer). */
    signInWithBrowser(profileId: string): InvokeResult<'access:sign-in-browser'>
    cancel(profileId: string): InvokeResult<'access:cancel'>
    signOut(profileId: string): InvokeResult<'access:sign-out'>
    statuses(): InvokeResult<'access:status'>
    onStatus(listener: (status: AccessSignInStatus) => void): () => void
  }
  doctor: {
    /** Diagnose the saved gateway: every check from DNS to the gateway handshake, and a verdict. */
    run(profileId: string): InvokeResult<'doctor:run'>
    cancel(profileId: string): InvokeResult<'doctor:cancel'>
    onProgress(listener: (progress: DoctorProgress) => void): () => void
  }
}

/**
 * The transport a `window.api` is built on: the preload passes ipcRenderer-backed functions,
 * the browser test bridge passes functions that forward to the handlers in the test process.
 */
export interface ApiTransport {
  invoke(channel: InvokeChannel, args: unknown[]): Promise<unknown>
  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void
}

/** Build the domain API from a transport; the only place channel names meet method names. */
export function buildApi(t: ApiTransport): AetherApi {
  const call = <C extends InvokeChannel>(channel: C, ...args: unknown[]) => t.invoke(channel, args) as InvokeResult<C>
  return {
    app: {
      info: () => call('app:info'),
      onOpenGateway: (listener) => t.subscribe('app:open-gateway', (p) => listener(p as OpenGatewayRequest))
    },
    profiles: {
      list: () => call('profiles:list'),
      save: (draft) => call('profiles:save', draft),
      remove: (profileId) => call('profiles:remove', profileId)
    },
    secrets: {
      set: (profileId, kind, value) => call('secrets:set', profileId, kind, value),
      clear: (profileId, kind) => call('secrets:clear', profileId, kind)
    },
    connection: {
      connect: (profileId) => call('connection:connect', profileId),
      disconnect: (profileId) => call('connection:disconnect', profileId),
      snapshots: () => call('connection:snapshots'),
      onState: (listener) => t.subscribe('connection:state', (p) => listener(p as ConnectionSnapshot))
    },
    session: {
      history: (profileId, key) => call('session:history', profileId, key),
      list: (profileId) => call('session:list', profileId),
      send: (profileId, key, text, clientMessageId) => call('session:send', profileId, key, text, clientMessageId),
      abort: (profileId, key, runId) => call('session:abort', profileId, key, ...(runId ? [runId] : [])),
      onEvent: (listener) => t.subscribe('session:event', (p) => listener(p as SessionEvent))
    },
    shell: { openExternal: (url) => call('shell:open-external', url) },
    access: {
      signIn: (profileId) => call('access:sign-in', profileId),
      signInWithBrowser: (profileId) => call('access:sign-in-browser', profileId),
      cancel: (profileId) => call('access:cancel', profileId),
      signOut: (profileId) => call('access:sign-out', profileId),
      statuses: () => call('access:status'),
      onStatus: (listener) => t.subscribe('access:status', (p) => listener(p as AccessSignInStatus))
    },
    doctor: {
      run: (profileId) => call('doctor:run', profileId),
      cancel: (profileId) => call('doctor:cancel', profileId),
      onProgress: (listener) => t.subscribe('doctor:progress', (p) => listener(p as DoctorProgress))
    }
  }
}

/**
 * The main-process side: one handler per channel. Handlers receive the raw argument list (they
 * validate it with INVOKE_SCHEMAS themselves) and always resolve with a Result, never throw.
 */
export type InvokeHandler = (args: unknown[]) => Promise<Result<unknown>>
export type InvokeHandlers = Record<InvokeChannel, InvokeHandler>

/** How the main process pushes an event to the renderer(s). */
export type EventSink = <C extends EventChannel>(channel: C, payload: EventPayloads[C]) => void
