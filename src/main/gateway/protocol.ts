/**
 * The OpenClaw gateway wire protocol, as this client speaks it.
 *
 * Inbound frames are parsed leniently (the gateway adds fields over time); outbound params are
 * closed: every gateway schema sets `additionalProperties: false`, so a field the negotiated
 * protocol does not know is a hard INVALID_REQUEST. `closedParams` enforces that here, before a
 * frame leaves, rather than letting the gateway find it.
 */
import { z } from 'zod'

/** We offer both generations; the gateway answers with the one it speaks in `hello-ok.protocol`. */
export const MIN_PROTOCOL = 3
export const MAX_PROTOCOL = 4
export type ProtocolVersion = 3 | 4

/**
 * Client identity sent in `connect.params.client`.
 *
 * `gateway-client` + `ui`: the protocol doc recommends it for third-party desktop apps, while the
 * recorded sessions used `openclaw-linux` + `ui`. Checked on a real 2026.9.6 gateway (see
 * tests/integration/gateway-client-identity.test.ts): once the signed device is paired,
 * `gateway-client`/`ui` keeps operator.read and operator.write and can call sessions.list and
 * chat.send. `openclaw-linux` exists only on protocol 4 (protocol-3 gateways reject it as an
 * unknown id), and `openclaw-macos` would claim to be the vendor's native app, so
 * `gateway-client` is the id that works on both generations. Mode `ui` (not `cli`/`backend`)
 * because those are treated as ephemeral or reserved internal paths.
 */
export const CLIENT_ID = 'gateway-client'
export const CLIENT_MODE = 'ui'
export const CLIENT_ROLE = 'operator'

/**
 * One fixed scope set: asking for more than the device was approved for triggers a new pairing
 * request (`scope-upgrade`), so it must never vary between connects.
 */
export const OPERATOR_SCOPES: readonly string[] = ['operator.read', 'operator.write']

/** Inbound frames can be large (history pages up to ~6 MB); outbound we keep to policy.maxPayload. */
export const MAX_INBOUND_FRAME_BYTES = 32 * 1024 * 1024

const errorShape = z.looseObject({
  code: z.string(),
  message: z.string().optional(),
  details: z.unknown().optional(),
  retryable: z.boolean().optional(),
  retryAfterMs: z.number().optional()
})
export type GatewayErrorShape = z.infer<typeof errorShape>

/**
 * The `error` of a res frame in the documented shape. Anything else a refusal carries (a bare
 * string, an object whose `code` is missing or not a string, null) is still a refusal: it
 * becomes code UNKNOWN with the text as its message, rather than making the whole frame junk
 * (which would leave the handshake waiting for its deadline).
 */
export function normaliseGatewayError(value: unknown): GatewayErrorShape {
  const parsed = errorShape.safeParse(value)
  if (parsed.success) return parsed.data
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const v = value as Record<string, unknown>
    const message = typeof v.message === 'string' ? v.message : safeJson(value)
    return {
      code: 'UNKNOWN',
      ...(message ? { message } : {}),
      ...(v.details !== undefined ? { details: v.details } : {}),
      ...(typeof v.retryable === 'boolean' ? { retryable: v.retryable } : {})
    }
  }
  if (value === null || value === undefined) return { code: 'UNKNOWN' }
  const message = typeof value === 'string' ? value : safeJson(value)
  return message ? { code: 'UNKNOWN', message } : { code: 'UNKNOWN' }
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)?.slice(0, 300)
  } catch {
    return undefined
  }
}

const resFrame = z.looseObject({
  type: z.literal('res'),
  id: z.string(),
  ok: z.boolean(),
  payload: z.unknown().optional(),
  // Lenient on purpose: see normaliseGatewayError. Absent stays absent.
  error: z
    .unknown()
    .optional()
    .transform((e) => (e === undefined ? undefined : normaliseGatewayError(e)))
})

const eventFrame = z.looseObject({
  type: z.literal('event'),
  event: z.string().min(1),
  payload: z.unknown().optional(),
  seq: z.number().int().nonnegative().optional()
})

export type ResFrame = z.infer<typeof resFrame>
export type EventFrame = z.infer<typeof eventFrame>

export type InboundFrame =
  | { kind: 'res'; frame: ResFrame }
  | { kind: 'event'; frame: EventFrame }
  | { kind: 'junk'; reason: string }

/** Parse one text frame; anything that is not a res or event frame is `junk` (never a throw). */
export function parseInboundFrame(text: string): InboundFrame {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { kind: 'junk', reason: 'not JSON' }
  }
  if (typeof value !== 'object' || value === null) return { kind: 'junk', reason: 'not an object' }
  const type = (value as { type?: unknown }).type
  if (type === 'res') {
    const parsed = resFrame.safeParse(value)
    return parsed.success ? { kind: 'res', frame: parsed.data } : { kind: 'junk', reason: 'malformed res frame' }
  }
  if (type === 'event') {
    const parsed = eventFrame.safeParse(value)
    return parsed.success ? { kind: 'event', frame: parsed.data } : { kind: 'junk', reason: 'malformed event frame' }
  }
  return { kind: 'junk', reason: `unknown frame type ${JSON.stringify(type)?.slice(0, 40)}` }
}

export const challengePayload = z.looseObject({
  nonce: z.string().min(1),
  ts: z.number().int().positive()
})

export const helloOkPayload = z.looseObject({
  type: z.literal('hello-ok'),
  protocol: z.number().int(),
  server: z.looseObject({ version: z.string().optional(), connId: z.string().optional() }).optional(),
  features: z
    .looseObject({ methods: z.array(z.string()).optional(), events: z.array(z.string()).optional() })
    .optional(),
  snapshot: z
    .looseObject({
      sessionDefaults: z
        .looseObject({
          mainSessionKey: z.string().optional(),
          defaultAgentId: z.string().optional(),
          mainKey: z.string().optional()
        })
        .optional()
    })
    .optional(),
  auth: z
    .looseObject({
      deviceToken: z.string().optional(),
      role: z.string().optional(),
      scopes: z.array(z.string()).optional(),
      method: z.string().optional()
    })
    .optional(),
  policy: z
    .looseObject({
      maxPayload: z.number().optional(),
      maxBufferedBytes: z.number().optional(),
      tickIntervalMs: z.number().optional()
    })
    .optional()
})
export type HelloOkPayload = z.infer<typeof helloOkPayload>

/**
 * Fields each request's params may carry, per protocol. Only what this client uses is listed;
 * both generations accept these names (protocol 4 adds many optional ones we never send).
 */
const PARAM_FIELDS: Record<string, Record<ProtocolVersion, readonly string[]>> = {
  'chat.send': {
    3: ['sessionKey', 'message', 'idempotencyKey', 'thinking', 'deliver', 'attachments', 'timeoutMs'],
    4: ['sessionKey', 'message', 'idempotencyKey', 'thinking', 'deliver', 'attachments', 'timeoutMs']
  },
  'chat.history': { 3: ['sessionKey', 'limit'], 4: ['sessionKey', 'limit'] },
  'chat.abort': { 3: ['sessionKey', 'runId'], 4: ['sessionKey', 'runId'] },
  'sessions.list': {
    3: ['limit', 'activeMinutes', 'includeGlobal', 'includeUnknown', 'includeDerivedTitles', 'includeLastMessage'],
    4: ['limit', 'activeMinutes', 'includeGlobal', 'includeUnknown', 'includeDerivedTitles', 'includeLastMessage']
  },
  health: { 3: ['probe'], 4: ['probe'] }
}

/** The methods this client knows how to call. */
export type GatewayMethod = keyof typeof PARAM_FIELDS

/**
 * Returns `params` without undefined values, after checking every field is known to `protocol`.
 * Throws on an unknown field: that is a bug in this client, not a user error.
 */
export function closedParams(
  method: string,
  protocol: ProtocolVersion,
  params: Record<string, unknown>
): Record<string, unknown> {
  const allowed = PARAM_FIELDS[method]?.[protocol]
  if (!allowed) throw new Error(`no params schema for ${method} on protocol ${protocol}`)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue
    if (!allowed.includes(key)) throw new Error(`${method} on protocol ${protocol} has no field "${key}"`)
    out[key] = value
  }
  return out
}

/** The description of this client that goes into `connect.params.client`. */
export interface ClientInfo {
  version: string
  /** `process.platform`; pinned by pairing, so it must stay stable per device. */
  platform: string
  deviceFamily: string
  displayName: string
  locale?: string
}

export interface ConnectAuth {
  /** The shared gateway token, or the device token issued at pairing (both generations read it here). */
  token?: string
}

export interface SignedDevice {
  id: string
  publicKey: string
  signature: string
  signedAt: number
  nonce: string
}

/**
 * The `connect` params: only fields both generations know, because the protocol is not
 * negotiated until the gateway answers.
 */
export function buildConnectParams(input: {
  client: ClientInfo
  auth: ConnectAuth
  device: SignedDevice
}): Record<string, unknown> {
  const client: Record<string, string> = {
    id: CLIENT_ID,
    version: input.client.version,
    platform: input.client.platform,
    mode: CLIENT_MODE,
    deviceFamily: input.client.deviceFamily
  }
  if (input.client.displayName) client.displayName = input.client.displayName
  const params: Record<string, unknown> = {
    minProtocol: MIN_PROTOCOL,
    maxProtocol: MAX_PROTOCOL,
    client,
    role: CLIENT_ROLE,
    scopes: [...OPERATOR_SCOPES],
    caps: [],
    device: input.device,
    userAgent: `aether-remote/${input.client.version}`
  }
  if (input.client.locale) params.locale = input.client.locale
  if (input.auth.token) params.auth = { token: input.auth.token }
  return params
}

/** The session key in canonical form (`agent:<id>:<rest>`), for comparing with event keys. */
export function canonicalSessionKey(key: string, mainSessionKey = 'agent:main:main'): string {
  const k = key.trim()
  if (k === '' || k === 'main') return mainSessionKey.toLowerCase()
  if (k === 'global' || k === 'unknown') return k
  if (k.toLowerCase().startsWith('agent:')) {
    const [, agent = '', ...rest] = k.split(':')
    return ['agent', agent.toLowerCase(), ...rest].join(':')
  }
  const agent = mainSessionKey.split(':')[1] ?? 'main'
  return `agent:${agent.toLowerCase()}:${k}`
}
