/**
 * The profiles file format (`profiles.json`), its validation and its migrations.
 *
 * Every object is strict: an unknown key is an error, not silently kept. That is what stops a
 * secret from ever being written into the file: there is no field for one, and a
 * `token`/`clientSecret`/... key is refused with a message pointing at the keychain.
 */
import { z } from 'zod'
import { parseGatewayUrl } from '../../shared/gateway-url'
import { appError, fail, ok, type NextStep, type Result } from '../../shared/errors'
import {
  ACCESS_MODES,
  DEFAULT_SESSION_KEY,
  type AccessMode,
  type GatewayProfile,
  type ProfileOptions
} from '../../shared/profile'

/** The only profiles file version this build reads and writes. */
export const PROFILES_SCHEMA_VERSION = 1

/** Limits of `options.connectTimeoutMs`. */
export const CONNECT_TIMEOUT_LIMITS = { min: 1000, max: 120_000 } as const

/** Field names that look like they hold a secret; used to explain why such a key is refused. */
const SECRET_LOOKING_KEY = /token|secret|passw|pwd|jwt|cookie|credential|private|apikey|api_key|bearer|authorization|otp/i

/** Query parameter names that carry credentials in a URL (`?token=…`). */

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/

/** True when `key` looks like the name of a secret field (token, secret, password, ...). */
export function isSecretLookingKey(key: string): boolean {
  return SECRET_LOOKING_KEY.test(key)
}

/** Form fields arrive as '' when left blank; an optional field treats that as absent. */
const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value

const text = (what = 'text') =>
  z.string({ error: (iss) => (iss.input === undefined ? 'is required' : `must be ${what}`) })

const noControlChars = (value: string): boolean => !CONTROL_CHARS.test(value)

/**
 * Why `value` is not an acceptable gateway URL for the profiles file, or null when it is.
 *
 * The rules are the shared ones of parseGatewayUrl (the same the CLI and the connection form
 * apply); on top, a stored URL must already be in its final ws:// or wss:// form, so nothing
 * the parser would silently change (an https:// scheme, a #fragment) is written to the file.
 */
export function gatewayUrlProblem(value: string): string | null {
  const parsed = parseGatewayUrl(value)
  if (!parsed.ok) return parsed.error.message
  const url = parsed.value
  if (!/^wss?:\/\//i.test(value.trim())) return `must start with ws:// or wss://; for this host use ${url.href}`
  if (value.includes('#')) return 'must not contain a #fragment'
  return null
}

const nameSchema = text()
  .trim()
  .min(1, 'is required')
  .max(100, 'must be at most 100 characters')
  .refine(noControlChars, 'must not contain control characters')

const urlSchema = text()
  .trim()
  .min(1, 'is required')
  .max(2048, 'must be at most 2048 characters')
  .superRefine((value, ctx) => {
    const problem = gatewayUrlProblem(value)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  })

const sessionKeySchema = z.preprocess(
  blankToUndefined,
  text()
    .trim()
    .max(200, 'must be at most 200 characters')
    .refine(noControlChars, 'must not contain control characters')
    .default(DEFAULT_SESSION_KEY)
)

const accessModeSchema = z.enum(ACCESS_MODES as readonly [AccessMode, ...AccessMode[]], {
  error: (iss) =>
    iss.input === undefined ? 'is required' : `must be one of ${ACCESS_MODES.map((m) => `"${m}"`).join(', ')}`
})

// A Client ID normally ends in ".access" (older ones in ".access.<zone>"); a missing suffix is
// only flagged (by validateServiceTokenInput), since the shape is Cloudflare's to change. What is
// refused is a value shaped like a Client Secret: pasted into the wrong field, it would land in
// the plain-text profiles file.
const clientIdSchema = z.preprocess(
  blankToUndefined,
  text()
    .trim()
    .max(200, 'must be at most 200 characters')
    .refine((v) => !/^([0-9a-f]{64}|cfast_\w+)$/i.test(v), 'looks like a Client Secret, not a Client ID ("<id>.access"); the Client Secret belongs in its own field, which is stored in the keychain')
    .refine((v) => !/\s/.test(v) && noControlChars(v), 'must be one value without spaces')
    .optional()
)

const audSchema = z.preprocess(
  blankToUndefined,
  text()
    .trim()
    .toLowerCase()
    .regex(/^[0-9a-f]{64}$/, 'must be the application AUD tag: 64 hexadecimal characters')
    .optional()
)

const accessSchema = z
  .strictObject({ mode: accessModeSchema, clientId: clientIdSchema, aud: audSchema }, { error: objectError })
  .superRefine((access, ctx) => {
    // A service-token gateway without its Client ID can never connect; say so when saving.
    if (access.mode === 'service-token' && !access.clientId) {
      ctx.addIssue({ code: 'custom', path: ['clientId'], message: 'is required for a service token (the "<id>.access" value)' })
    }
  })

const optionsSchema = z.strictObject(
  {
    caFile: z.preprocess(
      blankToUndefined,
      text('a file path')
        .trim()
        .max(4096, 'must be at most 4096 characters')
        .refine(noControlChars, 'must not contain control characters')
        .optional()
    ),
    connectTimeoutMs: z
      .number({ error: () => 'must be a whole number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(CONNECT_TIMEOUT_LIMITS.min, `must be at least ${CONNECT_TIMEOUT_LIMITS.min} ms`)
      .max(CONNECT_TIMEOUT_LIMITS.max, `must be at most ${CONNECT_TIMEOUT_LIMITS.max} ms`)
      .optional()
  },
  { error: objectError }
)

const timestampSchema = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time' })

function objectError(iss: { input?: unknown }): string {
  return iss.input === undefined ? 'is required' : 'must be an object'
}

/** One profile as stored in the file: exactly the fields of GatewayProfile. */
export const gatewayProfileSchema = z.strictObject(
  {
    id: text().trim().min(1, 'is required').max(200, 'must be at most 200 characters'),
    name: nameSchema,
    url: urlSchema,
    sessionKey: sessionKeySchema,
    access: accessSchema,
    options: optionsSchema.default({}),
    createdAt: timestampSchema,
    updatedAt: timestampSchema
  },
  { error: objectError }
)

/**
 * What a caller passes to save a profile: GatewayProfile without the fields the repo assigns.
 *
 * `id` selects the profile to update; without it a new profile is created. `createdAt` and
 * `updatedAt` are accepted (so a UI can send back a profile it loaded) but ignored.
 */
export const profileInputSchema = z.strictObject(
  {
    id: z.preprocess(blankToUndefined, text().trim().max(200, 'must be at most 200 characters').optional()),
    name: nameSchema,
    url: urlSchema,
    sessionKey: sessionKeySchema,
    access: accessSchema.default({ mode: 'none' }),
    options: optionsSchema.default({}),
    createdAt: z.unknown().optional(),
    updatedAt: z.unknown().optional()
  },
  { error: objectError }
)

/** Input to ProfileRepo.save (see {@link profileInputSchema}). */
export interface ProfileInput {
  id?: string
  name: string
  url: string
  sessionKey?: string
  access?: { mode: AccessMode; clientId?: string; aud?: string }
  options?: ProfileOptions
  /** Ignored: the repo assigns timestamps. */
  createdAt?: string
  /** Ignored: the repo assigns timestamps. */
  updatedAt?: string
}

/** The validated form of a ProfileInput. */
export type ParsedProfileInput = z.output<typeof profileInputSchema>

/** The profiles file, version 1. Ids must be unique. */
export const profilesFileSchema = z
  .strictObject(
    {
      schemaVersion: z.literal(PROFILES_SCHEMA_VERSION),
      profiles: z.array(gatewayProfileSchema, { error: (iss) => (iss.input === undefined ? 'is required' : 'must be a list') })
    },
    { error: objectError }
  )
  .superRefine((doc, ctx) => {
    const seen = new Set<string>()
    doc.profiles.forEach((p, i) => {
      if (seen.has(p.id)) ctx.addIssue({ code: 'custom', path: ['profiles', i, 'id'], message: 'is used by two profiles' })
      seen.add(p.id)
    })
  })

/** The profiles file as this build writes it. */
export interface ProfilesFile {
  schemaVersion: typeof PROFILES_SCHEMA_VERSION
  profiles: GatewayProfile[]
}

// Compile-time guard: the schema and GatewayProfile (src/shared/profile.ts) must describe the
// same object, so adding a field to one without the other fails the typecheck.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const _schemaMatchesProfile: Same<z.output<typeof gatewayProfileSchema>, GatewayProfile> = true
void _schemaMatchesProfile

/**
 * Upgrades from older file versions: `MIGRATIONS[n]` turns a version-n document into a
 * version n+1 document. Version 1 is the first, so the table is empty; when version 2 comes,
 * add `1: (doc) => ({ ...doc, schemaVersion: 2, ... })` and bump PROFILES_SCHEMA_VERSION.
 */
const MIGRATIONS: Readonly<Record<number, (doc: Record<string, unknown>) => Record<string, unknown>>> = {}

/** The outcome of reading a profiles file's parsed JSON. */
export type ProfilesFileParse =
  | { kind: 'ok'; file: ProfilesFile; migratedFrom?: number }
  /** Written by a newer build: must be neither read as v1 nor overwritten. */
  | { kind: 'newer'; version: number }
  /** Not a profiles file this build can use; `reason` names the field, never a value. */
  | { kind: 'invalid'; reason: string }

/**
 * Validate (and migrate, when older) the parsed JSON of a profiles file.
 *
 * Never throws. Reasons quote field paths and rules, never file contents, since a broken file
 * may hold a secret someone pasted into it by hand.
 */
export function parseProfilesFile(raw: unknown): ProfilesFileParse {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { kind: 'invalid', reason: 'the file does not hold a JSON object' }
  }
  let doc = raw as Record<string, unknown>
  const version = doc.schemaVersion
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    return { kind: 'invalid', reason: 'schemaVersion is missing or not a whole number' }
  }
  if (version > PROFILES_SCHEMA_VERSION) return { kind: 'newer', version }
  for (let v = version; v < PROFILES_SCHEMA_VERSION; v++) {
    const migrate = MIGRATIONS[v]
    if (!migrate) return { kind: 'invalid', reason: `schemaVersion ${version} is not a known version` }
    doc = migrate(doc)
  }
  const parsed = profilesFileSchema.safeParse(doc)
  if (!parsed.success) return { kind: 'invalid', reason: describeIssue(parsed.error.issues[0]) }
  const file: ProfilesFile = { schemaVersion: PROFILES_SCHEMA_VERSION, profiles: parsed.data.profiles.map(cleanProfile) }
  return version < PROFILES_SCHEMA_VERSION ? { kind: 'ok', file, migratedFrom: version } : { kind: 'ok', file }
}

/** A copy of `profile` without `undefined`-valued optional keys, in a stable key order. */
export function cleanProfile(profile: GatewayProfile): GatewayProfile {
  const access: GatewayProfile['access'] = { mode: profile.access.mode }
  if (profile.access.clientId !== undefined) access.clientId = profile.access.clientId
  if (profile.access.aud !== undefined) access.aud = profile.access.aud
  const options: GatewayProfile['options'] = {}
  if (profile.options.caFile !== undefined) options.caFile = profile.options.caFile
  if (profile.options.connectTimeoutMs !== undefined) options.connectTimeoutMs = profile.options.connectTimeoutMs
  return {
    id: profile.id,
    name: profile.name,
    url: profile.url,
    sessionKey: profile.sessionKey,
    access,
    options,
    createdAt: profile.createdAt,
    updatedAt: profile.updatedAt
  }
}

type Issue = z.core.$ZodIssue

function fieldPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

/** "field: problem" for one zod issue; unknown keys get an explanation when they look secret. */
function describeIssue(issue: Issue | undefined): string {
  if (!issue) return 'the file is not valid'
  const where = fieldPath(issue.path)
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys
    const secret = keys.find(isSecretLookingKey)
    const prefix = where === '' ? '' : `${where}: `
    if (secret !== undefined) {
      return `${prefix}"${secret}" is not a profile field. Secrets such as tokens and client secrets are stored in the system keychain, never in the profiles file`
    }
    return `${prefix}unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`
  }
  return where === '' ? issue.message : `${where}: ${issue.message}`
}

/**
 * Validate a save request. On failure, the AppError is INVALID_URL for a bad `url`, and
 * INVALID_INPUT otherwise; its message names the field ("url: must start with ws:// or wss://").
 */
/** One sentence: a full stop added unless the text already ends with one (URL messages do). */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`
}

export function parseProfileInput(input: unknown): Result<ParsedProfileInput> {
  const parsed = profileInputSchema.safeParse(input)
  if (parsed.success) return ok(parsed.data)
  const issues = parsed.error.issues
  const first = issues[0]
  const isUrl = first?.path[0] === 'url'
  const nextSteps: NextStep[] = isUrl
    ? [{ action: 'check-url', label: 'Enter the gateway address as wss://host[:port][/path].' }]
    : []
  const notes = issues.slice(0, 10).map(describeIssue)
  return fail(
    appError(isUrl ? 'INVALID_URL' : 'INVALID_INPUT', isUrl ? 'Invalid gateway URL' : 'Invalid profile', sentence(describeIssue(first)), {
      nextSteps,
      details: notes.length > 1 ? { notes } : {}
    })
  )
}
