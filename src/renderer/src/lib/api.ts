/**
 * The renderer's one door to the main process: the only module that reads `window.api`.
 *
 * Everything else calls `getApi()`, which returns a guarded copy of the preload's API: a call
 * that throws or rejects (no handler registered yet, the main process went away) still resolves
 * to a `Result` with an AppError, so components only ever branch on `ok`. Tests install an
 * in-memory fake with `setApi`.
 */
import type { AetherApi } from '../../../shared/ipc-contract'
import { appError, type AppError, type Result } from '../../../shared/errors'

let installed: AetherApi | undefined
let guardedWindowApi: AetherApi | undefined

/** The API every store and component uses. */
export function getApi(): AetherApi {
  if (installed) return installed
  if (!guardedWindowApi) {
    const raw = typeof window !== 'undefined' ? (window as { api?: unknown }).api : undefined
    guardedWindowApi = guardApi(isAetherApi(raw) ? raw : missingApi())
  }
  return guardedWindowApi
}

/** Replace the API (tests); `undefined` goes back to `window.api`. */
export function setApi(api: AetherApi | undefined): void {
  installed = api ? guardApi(api) : undefined
  guardedWindowApi = undefined
}

/** True when `value` has the domain shape the renderer needs (an older preload has less). */
function isAetherApi(value: unknown): value is AetherApi {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Partial<Record<keyof AetherApi, Record<string, unknown>>>
  return (
    typeof v.profiles?.list === 'function' &&
    typeof v.connection?.onState === 'function' &&
    typeof v.session?.onEvent === 'function' &&
    typeof v.secrets?.set === 'function' &&
    typeof v.shell?.openExternal === 'function' &&
    typeof v.app?.info === 'function'
  )
}

function bridgeError(what: string, cause?: unknown): AppError {
  const firstLine = cause instanceof Error ? cause.message.split('\n')[0]?.slice(0, 200) : undefined
  return appError('INTERNAL', 'The app could not reach its main process', `The request "${what}" got no answer. Restart Aether Remote; if it keeps happening, report it.`, {
    retryable: true,
    details: firstLine ? { notes: [firstLine] } : {}
  })
}

function isResult(value: unknown): value is Result<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean'
}

/** Wrap one request so that it always resolves to a Result. */
function guardInvoke<A extends unknown[], T>(what: string, fn: (...args: A) => Promise<Result<T>>): (...args: A) => Promise<Result<T>> {
  return async (...args: A) => {
    try {
      const result: unknown = await fn(...args)
      if (isResult(result)) return result as Result<T>
      return { ok: false, error: bridgeError(what) }
    } catch (cause) {
      return { ok: false, error: bridgeError(what, cause) }
    }
  }
}

/** Wrap a subscription so that a failing preload never breaks the caller (it just never fires). */
function guardSubscribe<T>(fn: (listener: (payload: T) => void) => () => void): (listener: (payload: T) => void) => () => void {
  return (listener) => {
    try {
      const off = fn(listener)
      return typeof off === 'function' ? off : () => {}
    } catch {
      return () => {}
    }
  }
}

function guardApi(api: AetherApi): AetherApi {
  return {
    app: {
      info: guardInvoke('app:info', () => api.app.info()),
      onOpenGateway: guardSubscribe((listener) => api.app.onOpenGateway(listener))
    },
    profiles: {
      list: guardInvoke('profiles:list', () => api.profiles.list()),
      save: guardInvoke('profiles:save', (draft) => api.profiles.save(draft)),
      remove: guardInvoke('profiles:remove', (id: string) => api.profiles.remove(id))
    },
    secrets: {
      set: guardInvoke('secrets:set', (id, kind, value) => api.secrets.set(id, kind, value)),
      clear: guardInvoke('secrets:clear', (id, kind) => api.secrets.clear(id, kind))
    },
    connection: {
      connect: guardInvoke('connection:connect', (id: string) => api.connection.connect(id)),
      disconnect: guardInvoke('connection:disconnect', (id: string) => api.connection.disconnect(id)),
      snapshots: guardInvoke('connection:snapshots', () => api.connection.snapshots()),
      onState: guardSubscribe((listener) => api.connection.onState(listener))
    },
    session: {
      history: guardInvoke('session:history', (id: string, key: string) => api.session.history(id, key)),
      list: guardInvoke('session:list', (id: string) => api.session.list(id)),
      send: guardInvoke('session:send', (id: string, key: string, text: string, clientMessageId: string) =>
        api.session.send(id, key, text, clientMessageId)
      ),
      abort: guardInvoke('session:abort', (id: string, key: string, runId?: string) => api.session.abort(id, key, runId)),
      onEvent: guardSubscribe((listener) => api.session.onEvent(listener))
    },
    shell: { openExternal: guardInvoke('shell:open-external', (url: string) => api.shell.openExternal(url)) },
    // An older preload without `access` still works: its calls resolve to a bridge error.
    access: {
      signIn: guardInvoke('access:sign-in', (id: string) => api.access.signIn(id)),
      signInWithBrowser: guardInvoke('access:sign-in-browser', (id: string) => api.access.signInWithBrowser(id)),
      cancel: guardInvoke('access:cancel', (id: string) => api.access.cancel(id)),
      signOut: guardInvoke('access:sign-out', (id: string) => api.access.signOut(id)),
      statuses: guardInvoke('access:status', () => api.access.statuses()),
      onStatus: guardSubscribe((listener) => api.access.onStatus(listener))
    },
    // Likewise `doctor`: Diagnose then shows the bridge error as the run's failure.
    doctor: {
      run: guardInvoke('doctor:run', (id: string) => api.doctor.run(id)),
      cancel: guardInvoke('doctor:cancel', (id: string) => api.doctor.cancel(id)),
      onProgress: guardSubscribe((listener) => api.doctor.onProgress(listener))
    }
  }
}

/** Stand-in when the preload does not expose the API (e.g. the page opened outside Electron). */
function missingApi(): AetherApi {
  const unavailable = async () => ({ ok: false as const, error: bridgeError('the app bridge') })
  const noSubscription = () => () => {}
  return {
    app: { info: unavailable, onOpenGateway: noSubscription },
    profiles: { list: unavailable, save: unavailable, remove: unavailable },
    secrets: { set: unavailable, clear: unavailable },
    connection: { connect: unavailable, disconnect: unavailable, snapshots: unavailable, onState: noSubscription },
    session: { history: unavailable, list: unavailable, send: unavailable, abort: unavailable, onEvent: noSubscription },
    shell: { openExternal: unavailable },
    access: { signIn: unavailable, signInWithBrowser: unavailable, cancel: unavailable, signOut: unavailable, statuses: unavailable, onStatus: noSubscription },
    doctor: { run: unavailable, cancel: unavailable, onProgress: noSubscription }
  }
}
