/**
 * The saved gateways: `profiles.json` in the config dir, read and written by the app and CLI.
 *
 * Guarantees:
 * - Writes are atomic (temp file in the same directory, mode 0600, fsync, rename), so a crash
 *   leaves either the old or the new file, never half of one.
 * - Every operation runs through one promise queue, so two saves started together both land.
 *   (The queue is per ProfileRepo instance; two processes writing at the same moment can still
 *   lose one update, which is acceptable for a file people edit by hand and rarely.)
 * - A corrupt or unreadable file is never overwritten silently: it is renamed aside to
 *   `profiles.json.corrupt-<timestamp>` and reported as a warning.
 * - A file from a newer build is left untouched: reads come back empty with a warning, and
 *   writes are refused with an error that says to update the app.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { appError, fail, ok, type AppError, type Result } from '../../shared/errors'
import type { GatewayProfile } from '../../shared/profile'
import {
  PROFILES_SCHEMA_VERSION,
  cleanProfile,
  parseProfileInput,
  parseProfilesFile,
  type ProfileInput,
  type ProfilesFile
} from './profile-schema'

export type { ProfileInput } from './profile-schema'

/** Something about the profiles file the user should be told about. */
export interface ProfileFileWarning {
  /**
   * `moved-aside`: the file was corrupt or unreadable and was renamed to `movedTo` (reported once).
   * `newer-version`: written by a newer build; left untouched, writes refused (reported on every load).
   * `unreadable`: could not be read nor moved aside; left untouched, writes refused (every load).
   */
  kind: 'moved-aside' | 'newer-version' | 'unreadable'
  /** Ready to show: says what happened, where the file is and what to do. */
  error: AppError
  /** Where the broken file now is, for `moved-aside`. */
  movedTo?: string
}

/** The result of {@link ProfileRepo.load}. */
export interface ProfileLoad {
  profiles: GatewayProfile[]
  /** Problems found with the file since the previous load(); empty when all is well. */
  warnings: ProfileFileWarning[]
}

/** Options for {@link ProfileRepo}; all optional, mostly for tests. */
export interface ProfileRepoOptions {
  /** Called as soon as a warning arises, whichever operation found it. */
  onWarning?: (warning: ProfileFileWarning) => void
  /** Clock for timestamps and the `.corrupt-<timestamp>` suffix. */
  now?: () => Date
  /** Id generator for new profiles (default: random UUID). */
  newId?: () => string
}

/** Thrown by {@link ProfileRepo.remove} when the file cannot be changed; carries the AppError to show. */
export class ProfileRepoError extends Error {
  readonly appError: AppError

  constructor(appError: AppError) {
    super(appError.message)
    this.name = 'ProfileRepoError'
    this.appError = appError
  }
}

type FileState =
  | { kind: 'ok'; file: ProfilesFile }
  /** Reading worked or failed in a way that forbids writing (newer version, unreadable in place). */
  | { kind: 'blocked'; warning: ProfileFileWarning }

/** Read errors that mean "this file cannot be used" rather than "try again later". */
const UNUSABLE_FILE_CODES = new Set(['EACCES', 'EPERM', 'EISDIR'])

/** Profiles names are unique without regard to case, as `get(name)` matches them. */
function sameName(a: string, b: string): boolean {
  return a.normalize('NFC').toLowerCase() === b.normalize('NFC').toLowerCase()
}

function systemCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}

/**
 * Saved gateway profiles in one JSON file.
 *
 * Reads return plain data; writes return a Result (validation and I/O errors as AppErrors).
 * File problems are surfaced through {@link load} warnings and the `onWarning` option.
 */
export class ProfileRepo {
  /** The profiles file this repo owns. */
  readonly filePath: string
  private readonly onWarning: ((warning: ProfileFileWarning) => void) | undefined
  private readonly now: () => Date
  private readonly newId: () => string
  private tail: Promise<unknown> = Promise.resolve()
  private pendingWarnings: ProfileFileWarning[] = []
  private lastBlockedMessage: string | undefined

  constructor(filePath: string, opts: ProfileRepoOptions = {}) {
    this.filePath = path.resolve(filePath)
    this.onWarning = opts.onWarning
    this.now = opts.now ?? (() => new Date())
    this.newId = opts.newId ?? randomUUID
  }

  /**
   * All profiles plus any warnings about the file.
   *
   * One-off warnings (a file moved aside) are returned by the first load() after they arose,
   * even when another call found them; ongoing ones (newer version) by every load().
   */
  async load(): Promise<ProfileLoad> {
    return this.enqueue(async () => {
      const state = await this.readState()
      const warnings = this.pendingWarnings
      this.pendingWarnings = []
      if (state.kind === 'blocked') return { profiles: [], warnings: [...warnings, state.warning] }
      return { profiles: state.file.profiles, warnings }
    })
  }

  /** All profiles, in the order they were created. Warnings go to load() and onWarning. */
  async list(): Promise<GatewayProfile[]> {
    return (await this.load()).profiles
  }

  /** The profile whose id is `idOrName`, else the one whose name matches it ignoring case; or null. */
  async get(idOrName: string): Promise<GatewayProfile | null> {
    const wanted = idOrName.trim()
    if (wanted === '') return null
    const profiles = await this.enqueue(async () => {
      const state = await this.readState()
      return state.kind === 'ok' ? state.file.profiles : []
    })
    return profiles.find((p) => p.id === wanted) ?? profiles.find((p) => sameName(p.name, wanted)) ?? null
  }

  /**
   * Create (no `id`) or update (with `id`) a profile.
   *
   * Assigns the id and timestamps, trims text fields and checks that the name is unique.
   * Errors: INVALID_URL / INVALID_INPUT naming the field, PROFILE_NOT_FOUND for an unknown id,
   * INTERNAL when the file cannot be written or belongs to a newer build.
   */
  async save(input: ProfileInput): Promise<Result<GatewayProfile>> {
    const parsed = parseProfileInput(input)
    if (!parsed.ok) return fail(parsed.error)
    const data = parsed.value
    return this.enqueue(async () => {
      const state = await this.readState()
      if (state.kind === 'blocked') return fail(state.warning.error)
      const profiles = state.file.profiles
      const index = data.id === undefined ? -1 : profiles.findIndex((p) => p.id === data.id)
      const existing = index >= 0 ? profiles[index] : undefined
      if (data.id !== undefined && !existing) {
        return fail(
          appError('PROFILE_NOT_FOUND', 'Profile not found', `No saved gateway has the id "${data.id}"; it may have been removed.`)
        )
      }
      const clash = profiles.find((p) => p !== existing && sameName(p.name, data.name))
      if (clash) {
        return fail(
          appError('INVALID_INPUT', 'Invalid profile', `name: a saved gateway is already called "${clash.name}"; choose another name.`)
        )
      }
      const stamp = this.now().toISOString()
      const profile = cleanProfile({
        id: existing?.id ?? this.newId(),
        name: data.name,
        url: data.url,
        sessionKey: data.sessionKey,
        access: data.access,
        options: data.options,
        createdAt: existing?.createdAt ?? stamp,
        updatedAt: stamp
      })
      const next = existing ? profiles.map((p, i) => (i === index ? profile : p)) : [...profiles, profile]
      const written = await this.write(next)
      return written.ok ? ok(profile) : fail(written.error)
    })
  }

  /**
   * Remove the profile with this id; false when there is none.
   *
   * Throws ProfileRepoError when the file cannot be written or belongs to a newer build
   * (secrets of the profile are the caller's to delete from the SecretStore).
   */
  async remove(id: string): Promise<boolean> {
    return this.enqueue(async () => {
      const state = await this.readState()
      if (state.kind === 'blocked') throw new ProfileRepoError(state.warning.error)
      const profiles = state.file.profiles
      if (!profiles.some((p) => p.id === id)) return false
      const written = await this.write(profiles.filter((p) => p.id !== id))
      if (!written.ok) throw new ProfileRepoError(written.error)
      return true
    })
  }

  /** Runs `op` after every earlier operation has finished, whatever their outcome. */
  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op)
    this.tail = result.catch(() => undefined)
    return result
  }

  private warn(warning: ProfileFileWarning, oneOff: boolean): void {
    if (oneOff) {
      this.pendingWarnings.push(warning)
    } else {
      // An ongoing condition is seen on every read; tell the listener once per condition.
      if (warning.error.message === this.lastBlockedMessage) return
      this.lastBlockedMessage = warning.error.message
    }
    this.onWarning?.(warning)
  }

  /** Reads the file; moves it aside when broken. Only called from inside the queue. */
  private async readState(): Promise<FileState> {
    const empty: FileState = { kind: 'ok', file: { schemaVersion: PROFILES_SCHEMA_VERSION, profiles: [] } }
    let text: string
    try {
      text = await readFile(this.filePath, 'utf8')
    } catch (err) {
      const code = systemCode(err)
      // ENOTDIR: a parent is a regular file, so there is no profiles file; a write will say why.
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        this.lastBlockedMessage = undefined
        return empty
      }
      if (code && UNUSABLE_FILE_CODES.has(code)) return this.moveAside(`could not be read (${code})`)
      // EIO, EMFILE...: the file may be fine, so leave it alone and refuse to write over it.
      return this.blocked(
        'unreadable',
        appError(
          'INTERNAL',
          'Saved gateways could not be read',
          `The profiles file (${this.filePath}) could not be read (${code ?? 'unknown error'}). It was left untouched and changes are not saved until it can be read.`,
          {
            nextSteps: [{ action: 'retry', label: 'Try again.' }],
            details: code ? { systemCode: code } : {},
            retryable: true
          }
        )
      )
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      // The parser's message quotes file contents, which may include a pasted secret: not used.
      return this.moveAside(text.trim() === '' ? 'is empty' : 'is not valid JSON')
    }
    const parsed = parseProfilesFile(json)
    switch (parsed.kind) {
      case 'ok':
        this.lastBlockedMessage = undefined
        return { kind: 'ok', file: parsed.file }
      case 'invalid':
        return this.moveAside(`is not a valid profiles file (${parsed.reason})`)
      case 'newer':
        return this.blocked(
          'newer-version',
          appError(
            'INTERNAL',
            'Saved gateways need a newer Aether Remote',
            `The profiles file (${this.filePath}) was written by a newer version of Aether Remote (file version ${parsed.version}; this version understands ${PROFILES_SCHEMA_VERSION}). Update Aether Remote to see or change your saved gateways; the file was left untouched.`,
            { nextSteps: [{ action: 'update-app', label: 'Update Aether Remote.' }] }
          )
        )
    }
  }

  private blocked(kind: ProfileFileWarning['kind'], error: AppError): FileState {
    const warning: ProfileFileWarning = { kind, error }
    this.warn(warning, false)
    return { kind: 'blocked', warning }
  }

  /** Renames the broken file to `<file>.corrupt-<timestamp>` and reports it; empty list after. */
  private async moveAside(reason: string): Promise<FileState> {
    const stamp = this.now().toISOString().replace(/[:.]/g, '-')
    let target = `${this.filePath}.corrupt-${stamp}`
    for (let n = 2; await exists(target); n++) target = `${this.filePath}.corrupt-${stamp}-${n}`
    try {
      await rename(this.filePath, target)
    } catch (err) {
      const code = systemCode(err)
      return this.blocked(
        'unreadable',
        appError(
          'INTERNAL',
          'Saved gateways could not be read',
          `The profiles file (${this.filePath}) ${reason}, and it could not be moved aside (${code ?? 'unknown error'}). It was left untouched and changes are not saved: move or repair it, then try again.`,
          {
            nextSteps: [{ action: 'retry', label: 'Move or repair the file, then try again.' }],
            details: { notes: [reason], ...(code ? { systemCode: code } : {}) }
          }
        )
      )
    }
    this.lastBlockedMessage = undefined
    this.warn(
      {
        kind: 'moved-aside',
        movedTo: target,
        error: appError(
          'INTERNAL',
          'Saved gateways could not be read',
          `The profiles file ${reason}, so it was moved aside to ${target} and the list of saved gateways starts empty. Nothing was deleted: open that file to recover your gateways.`,
          { details: { notes: [reason] } }
        )
      },
      true
    )
    return { kind: 'ok', file: { schemaVersion: PROFILES_SCHEMA_VERSION, profiles: [] } }
  }

  /** Atomically replaces the file with `profiles`. */
  private async write(profiles: GatewayProfile[]): Promise<Result<void>> {
    const file: ProfilesFile = { schemaVersion: PROFILES_SCHEMA_VERSION, profiles }
    try {
      await writeFileAtomic(this.filePath, `${JSON.stringify(file, null, 2)}\n`)
      return ok(undefined)
    } catch (err) {
      const code = systemCode(err)
      return fail(
        appError(
          'INTERNAL',
          'Gateway not saved',
          `The profiles file (${this.filePath}) could not be written (${code ?? 'unknown error'}); nothing was changed.`,
          {
            nextSteps: [{ action: 'retry', label: 'Check the folder is writable and has free space, then try again.' }],
            details: code ? { systemCode: code } : {},
            retryable: true
          }
        )
      )
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file)
    return true
  } catch {
    return false
  }
}

/**
 * Write `data` to `file` so that readers see either the old or the complete new content.
 *
 * The temp file lives in the same directory because rename is only atomic within one file
 * system; it is created 0600 (the file reveals which gateways the user reaches) and fsynced
 * before the rename so a power cut cannot leave an empty file behind the new name.
 */
async function writeFileAtomic(file: string, data: string): Promise<void> {
  const dir = path.dirname(file)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  let handle: Awaited<ReturnType<typeof open>> | undefined
  try {
    handle = await open(tmp, 'wx', 0o600)
    await handle.writeFile(data, 'utf8')
    await handle.sync()
    await handle.close()
    handle = undefined
    await renameWithRetry(tmp, file)
  } catch (err) {
    await handle?.close().catch(() => undefined)
    await rm(tmp, { force: true }).catch(() => undefined)
    throw err
  }
  await fsyncDir(dir)
}

/** Windows refuses a rename while a virus scanner or indexer briefly holds the target open. */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to)
      return
    } catch (err) {
      const code = systemCode(err)
      const transient = code === 'EPERM' || code === 'EACCES' || code === 'EBUSY'
      if (process.platform !== 'win32' || attempt >= 5 || !transient) throw err
      await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt))
    }
  }
}

/** Makes the rename itself durable on POSIX; directories cannot be opened for sync on Windows. */
async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // Best effort: the data itself is already synced, only the directory entry may lag.
  }
}
