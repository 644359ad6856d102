/**
 * Turning the gateway's refusals into AppErrors.
 *
 * Classification uses `error.details.code`, then `error.code`, then the WebSocket close code,
 * never the message text: proxies in front of gateways (a Cloudflare Worker, for one) rewrite
 * messages, and protocol-3 gateways have no detail codes at all.
 */
import { appError, type AppError, type ErrorDetails } from '../../shared/errors'
import { pastedTokenProblem } from '../../shared/pasted-token'
import type { GatewayErrorShape } from './protocol'

export interface CloseInfo {
  code: number
  reason: string
}

function detailsOf(err: GatewayErrorShape): Record<string, unknown> {
  return typeof err.details === 'object' && err.details !== null ? (err.details as Record<string, unknown>) : {}
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined
}

/**
 * What a pairing request id may look like to be used at all. It is the gateway's text and ends
 * up in a command the operator is told to paste into a shell, so anything beyond plain id
 * characters (spaces, `;`, `$(...)`, quotes, control characters) is not trusted.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The request id when it is safe to show and put in a command, else undefined. */
export function safePairingRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && SAFE_REQUEST_ID.test(value) ? value : undefined
}

/** The approval command an operator runs on the gateway host (`openclaw devices list` for an unsafe id). */
export function pairingApprovalCommand(requestId: string): string {
  const id = safePairingRequestId(requestId)
  return id ? `openclaw devices approve ${id}` : 'openclaw devices list'
}

/**
 * Classify an `ok:false` answer to `connect` (or any request), with the close that followed it
 * when there was one. `sentToken` says what we put in auth.token, which changes the advice.
 */
export function classifyGatewayError(
  err: GatewayErrorShape,
  ctx: { close?: CloseInfo; sentToken?: 'gateway' | 'device' | 'none'; method?: string } = {}
): AppError {
  const d = detailsOf(err)
  const detailCode = str(d.code)
  const base: ErrorDetails = {
    gatewayCode: err.code,
    ...(detailCode ? { gatewayDetailCode: detailCode } : {}),
    ...(err.message ? { gatewayMessage: err.message.slice(0, 300) } : {}),
    ...(ctx.close ? { closeCode: ctx.close.code, closeReason: ctx.close.reason.slice(0, 123) } : {}),
    ...(typeof err.retryAfterMs === 'number' ? { retryAfterMs: err.retryAfterMs } : {})
  }

  switch (detailCode) {
    case 'AUTH_TOKEN_MISMATCH':
      return appError(
        'GATEWAY_TOKEN_MISMATCH',
        'The gateway refused the token',
        ctx.sentToken === 'device'
          ? 'The gateway did not accept the device token this app stored for it. It may have been revoked on the gateway.'
          : 'The gateway token does not match the one configured on the gateway.',
        {
          details: base,
          nextSteps: [
            {
              action: 'check-gateway-token',
              label:
                'Copy the token from the gateway host (gateway.auth.token in its openclaw.json, or OPENCLAW_GATEWAY_TOKEN) and enter it again.'
            }
          ]
        }
      )
    case 'AUTH_TOKEN_MISSING':
      return appError(
        'GATEWAY_TOKEN_MISSING',
        'The gateway needs a token',
        'This gateway uses token authentication and no gateway token was sent.',
        {
          details: base,
          nextSteps: [{ action: 'check-gateway-token', label: 'Enter the gateway token for this gateway.' }]
        }
      )
    case 'AUTH_TOKEN_NOT_CONFIGURED':
      return appError(
        'GATEWAY_TOKEN_NOT_CONFIGURED',
        'The gateway has no token configured',
        'A token was sent, but the gateway itself has no token configured, so it cannot check it.',
        {
          details: base,
          nextSteps: [
            { action: 'check-dashboard', label: 'Set gateway.auth.token on the gateway host, or switch its auth mode.' }
          ]
        }
      )
    case 'AUTH_RATE_LIMITED':
      return appError(
        'GATEWAY_AUTH_RATE_LIMITED',
        'Too many failed sign-in attempts',
        'The gateway is refusing connections for a while after repeated wrong tokens.',
        {
          details: base,
          retryable: true,
          nextSteps: [
            { action: 'check-gateway-token', label: 'Check the gateway token before trying again.' },
            { action: 'wait', label: 'Wait for the lockout to pass, then retry.' }
          ]
        }
      )
    case 'AUTH_DEVICE_TOKEN_MISMATCH':
    case 'AUTH_SCOPE_MISMATCH':
      return appError(
        'DEVICE_TOKEN_MISMATCH',
        'The gateway no longer accepts this device',
        'The device token stored for this gateway was rejected (revoked, rotated, or issued for other scopes).',
        {
          details: base,
          nextSteps: [{ action: 'check-gateway-token', label: 'Connect with the gateway token so the device can pair again.' }]
        }
      )
    case 'PAIRING_REQUIRED':
      return pairingError(d, base)
    case 'DEVICE_IDENTITY_REQUIRED':
      return appError(
        'DEVICE_IDENTITY_REQUIRED',
        'The gateway needs a device identity',
        'The gateway refused the connection because no valid credential or device identity was presented.',
        { details: base, nextSteps: [{ action: 'check-gateway-token', label: 'Enter the gateway token.' }] }
      )
    case 'PROTOCOL_MISMATCH':
      return protocolMismatch(d, base)
    case 'CONTROL_UI_ORIGIN_NOT_ALLOWED':
      return appError(
        'GATEWAY_ORIGIN_NOT_ALLOWED',
        'The gateway refused the connection origin',
        'The gateway checks the Origin header and did not accept it. Something between the app and the gateway added one.',
        {
          details: base,
          nextSteps: [
            {
              action: 'check-dashboard',
              label: 'Add the origin to gateway.controlUi.allowedOrigins, or stop the proxy from adding an Origin header.'
            }
          ]
        }
      )
    case 'MISSING_SCOPE':
      return missingScope(d, base)
  }
  if (detailCode?.startsWith('DEVICE_AUTH_')) {
    return appError(
      'DEVICE_AUTH_FAILED',
      'The gateway rejected the device signature',
      deviceAuthMessage(detailCode),
      {
        details: base,
        nextSteps: [{ action: 'retry', label: 'Retry; if it keeps failing, check the clock of the gateway host.' }]
      }
    )
  }

  switch (err.code) {
    case 'NOT_PAIRED':
      // Protocol 3 (and protocol 4 without details): pairing, or a missing device identity.
      if (str(d.requestId)) return pairingError(d, base)
      return appError(
        'DEVICE_IDENTITY_REQUIRED',
        'The gateway needs a device identity',
        'The gateway refused the connection because this device is not paired and presented no usable credential.',
        { details: base, nextSteps: [{ action: 'check-gateway-token', label: 'Enter the gateway token.' }] }
      )
    case 'UNAVAILABLE':
      return appError(
        'GATEWAY_UNAVAILABLE',
        'The gateway is not ready',
        'The gateway is still starting up or is too busy to accept the connection right now.',
        {
          details: base,
          retryable: err.retryable !== false,
          nextSteps: [{ action: 'retry', label: 'Wait a moment and connect again.' }]
        }
      )
    case 'FORBIDDEN':
      return missingScope(d, base)
  }
  if (ctx.close?.code === 1002) return protocolMismatch(d, base)
  if (ctx.close?.code === 1013) {
    return appError('GATEWAY_UNAVAILABLE', 'The gateway is not ready', 'The gateway asked to try again later.', {
      details: base,
      retryable: true,
      nextSteps: [{ action: 'retry', label: 'Wait a moment and connect again.' }]
    })
  }
  return appError(
    ctx.method && ctx.method !== 'connect' ? 'REQUEST_FAILED' : 'GATEWAY_REJECTED',
    ctx.method && ctx.method !== 'connect' ? `The gateway refused ${ctx.method}` : 'The gateway refused the connection',
    err.code === 'UNKNOWN' && !detailCode
      ? 'The gateway refused with an error that carries no code.'
      : `The gateway answered ${err.code}${detailCode ? ` (${detailCode})` : ''}.`,
    { details: base, retryable: err.retryable === true, nextSteps: [{ action: 'retry', label: 'Retry.' }] }
  )
}

function pairingError(d: Record<string, unknown>, base: ErrorDetails): AppError {
  const requestId = safePairingRequestId(d.requestId)
  const reason = str(d.reason)
  const why: Record<string, string> = {
    'not-paired': 'This device has not been approved on the gateway yet.',
    'scope-upgrade': 'This device asks for more permissions than it was approved for.',
    'role-upgrade': 'This device asks for a different role than it was approved for.',
    'metadata-upgrade': 'This device identified itself differently from when it was approved.'
  }
  return appError(
    'PAIRING_REQUIRED',
    'Approve this device on the gateway',
    `${(reason && why[reason]) ?? 'The gateway wants this device approved before it may connect.'} An operator must approve the pairing request on the gateway host.`,
    {
      details: {
        ...base,
        ...(requestId ? { pairingRequestId: requestId } : {}),
        ...(str(d.deviceId) ? { deviceId: str(d.deviceId) } : {}),
        ...(reason ? { pairingReason: reason } : {})
      },
      retryable: true,
      nextSteps: [
        requestId
          ? {
              action: 'approve-pairing',
              label: 'On the gateway host, approve the request (or use the Control UI\u2019s device list):',
              command: pairingApprovalCommand(requestId)
            }
          : {
              action: 'approve-pairing',
              label: 'On the gateway host, list pending devices and approve this one:',
              command: 'openclaw devices list'
            },
        { action: 'retry', label: 'Then connect again (or let the app wait for the approval).' }
      ]
    }
  )
}

function protocolMismatch(d: Record<string, unknown>, base: ErrorDetails): AppError {
  const expected = typeof d.expectedProtocol === 'number' ? d.expectedProtocol : undefined
  return appError(
    'PROTOCOL_MISMATCH',
    'The gateway speaks another protocol version',
    `This app speaks gateway protocol 3 and 4${expected ? `; the gateway expects ${expected}` : ''}.`,
    {
      details: { ...base, ...(expected ? { expectedProtocol: expected } : {}) },
      nextSteps: [
        {
          action: 'update-app',
          label: expected && expected > 4 ? 'Update Aether Remote.' : 'Update the gateway (openclaw) on the host.'
        }
      ]
    }
  )
}

function missingScope(d: Record<string, unknown>, base: ErrorDetails): AppError {
  const scope = str(d.missingScope)
  return appError(
    'MISSING_SCOPE',
    'The gateway did not grant the needed permission',
    `The connection lacks the ${scope ?? 'required'} permission. A device that is not paired gets no permissions.`,
    {
      details: { ...base, ...(scope ? { missingScope: scope } : {}) },
      nextSteps: [{ action: 'approve-pairing', label: 'Approve this device on the gateway, then connect again.' }]
    }
  )
}

function deviceAuthMessage(detailCode: string): string {
  switch (detailCode) {
    case 'DEVICE_AUTH_SIGNATURE_EXPIRED':
      return 'The gateway considered the signature too old; the gateway host clock may be far off.'
    case 'DEVICE_AUTH_NONCE_MISMATCH':
    case 'DEVICE_AUTH_NONCE_REQUIRED':
      return 'The signature did not cover the challenge the gateway issued.'
    case 'DEVICE_AUTH_DEVICE_ID_MISMATCH':
      return 'The device id did not match its public key.'
    default:
      return 'The gateway could not verify this device\u2019s signature.'
  }
}

/** A close without any `res` (junk sent, handshake deadline, server restart). */
export function classifyBareClose(close: CloseInfo, phase: 'handshake' | 'ready'): AppError {
  if (close.code === 1013) {
    return appError('GATEWAY_UNAVAILABLE', 'The gateway is not ready', 'The gateway asked to try again later.', {
      details: { closeCode: close.code, closeReason: close.reason.slice(0, 123) },
      retryable: true,
      nextSteps: [{ action: 'retry', label: 'Wait a moment and connect again.' }]
    })
  }
  if (close.code === 1002) return protocolMismatch({}, { closeCode: close.code, closeReason: close.reason.slice(0, 123) })
  return appError(
    'CONNECTION_CLOSED',
    phase === 'handshake' ? 'The gateway closed the connection during the handshake' : 'The connection to the gateway closed',
    phase === 'handshake'
      ? 'The gateway closed the connection before accepting it.'
      : 'The gateway or a proxy between closed the connection.',
    {
      details: { closeCode: close.code, ...(close.reason ? { closeReason: close.reason.slice(0, 123) } : {}) },
      retryable: true,
      nextSteps: [{ action: 'retry', label: 'Connect again.' }]
    }
  )
}

/** Plain words for the `ws` library's frame errors (its `code`s all start with WS_ERR_). */
function webSocketFault(code: string, maxMessageBytes: number): string {
  switch (code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
      return `a message larger than ${Math.round(maxMessageBytes / (1024 * 1024))} MB`
    case 'WS_ERR_INVALID_UTF8':
      return 'text that is not valid UTF-8'
    case 'WS_ERR_INVALID_OPCODE':
      return 'a frame of an unknown type'
    case 'WS_ERR_EXPECTED_MASK':
    case 'WS_ERR_UNEXPECTED_MASK':
      return 'a frame masked the wrong way'
    case 'WS_ERR_UNEXPECTED_RSV_1':
    case 'WS_ERR_UNEXPECTED_RSV_2_3':
      return 'a frame with reserved bits set'
    case 'WS_ERR_EXPECTED_FIN':
      return 'a fragmented control frame'
    case 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH':
      return 'a control frame that is too long'
    case 'WS_ERR_INVALID_CLOSE_CODE':
      return 'a close frame with an invalid code'
    default:
      return 'a malformed frame'
  }
}

/**
 * A connection that ended because the peer's bytes were not valid WebSocket (bad frame, bad
 * UTF-8, a message over the size limit), told by the last `ws` error seen before the close.
 * Undefined when that error was not a WebSocket framing error (then the close explains it).
 */
export function classifyStreamError(
  err: { code?: unknown } | undefined,
  ctx: { close?: CloseInfo; phase: 'handshake' | 'ready'; maxMessageBytes: number }
): AppError | undefined {
  const code = typeof err?.code === 'string' ? err.code : undefined
  if (!code || !code.startsWith('WS_ERR_')) return undefined
  const details: ErrorDetails = { systemCode: code }
  if (ctx.close) {
    details.closeCode = ctx.close.code
    if (ctx.close.reason) details.closeReason = ctx.close.reason.slice(0, 123)
  }
  return appError(
    'PROTOCOL_ERROR',
    ctx.phase === 'handshake' ? 'The gateway broke the connection during the handshake' : 'The gateway broke the connection',
    `The gateway sent data that is not valid WebSocket (${webSocketFault(code, ctx.maxMessageBytes)}), so the connection was closed.`,
    {
      details,
      likelyCauses: [
        'A proxy between this computer and the gateway corrupts or truncates WebSocket traffic.',
        'The gateway (or the service at this address) has a bug.'
      ],
      retryable: true,
      nextSteps: [
        { action: 'retry', label: 'Connect again.' },
        { action: 'check-url', label: 'If it keeps happening, check what sits between this computer and the gateway.' }
      ]
    }
  )
}

/** A refused gateway token that holds a paste error: that is said first, before the usual advice. */
export function withPastedTokenCause(error: AppError, token: string | undefined): AppError {
  const problem = error.code === 'GATEWAY_TOKEN_MISMATCH' || error.code === 'DEVICE_TOKEN_MISMATCH' ? pastedTokenProblem(token) : undefined
  if (!problem) return error
  return { ...error, likelyCauses: [problem, ...(error.likelyCauses ?? [])] }
}
