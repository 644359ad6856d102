/**
 * The connection doctor's report: what each check found, the likely causes ranked by the
 * evidence, and the ways forward.
 *
 * Plain JSON data only (no class instances, no functions, no Date objects), so the report can
 * cross IPC to the window, be printed by the CLI as one JSON document and be rendered as
 * Markdown. It never holds a secret: credentials appear only as short hints ("set, ends in …abcd").
 *
 * This file imports nothing but types from ./errors: it is shared by the main process, the CLI
 * and the renderer.
 */
import type { ErrorCategory, ErrorCode, NextStep } from './errors'

/** The checks, in the order they run. */
export const DOCTOR_STEP_IDS = [
  'url',
  'dns',
  'tls',
  'https-probe',
  'login-page',
  'service-token',
  'app-token',
  'websocket',
  'handshake'
] as const

export type DoctorStepId = (typeof DOCTOR_STEP_IDS)[number]

/** Each check's title: the report's, and the window's list before a check's result arrives. */
export const DOCTOR_STEP_TITLES: Readonly<Record<DoctorStepId, string>> = {
  url: 'Address',
  dns: 'DNS',
  tls: 'TCP and TLS',
  'https-probe': 'Request without credentials',
  'login-page': 'Access login page',
  'service-token': 'Service token',
  'app-token': 'App token',
  websocket: 'WebSocket upgrade',
  handshake: 'Gateway handshake'
}

/** pass: works; fail: this is (part of) the problem; warn: works but needs attention; skip: not run. */
export type DoctorStepStatus = 'pass' | 'fail' | 'warn' | 'skip'

/** One fact a step observed, as a label and a short value. */
export interface DoctorFact {
  label: string
  value: string
}

/** One request of the service-token or app-token probe matrix. */
export interface DoctorProbe {
  /** Stable id, e.g. `standard`, `http1`, `add-access-suffix`, `swapped`, `single-header`, `cookie`, `header`. */
  id: string
  /** What was sent, in words (names only, never values). */
  label: string
  /** HTTP status, or null when the request failed before an answer. */
  httpStatus: number | null
  /** HTTP version that carried it (`1.1`, `2`), when known. */
  httpVersion?: string
  /** `meta.service_token_status` of the login redirect, when Access redirected. */
  serviceTokenStatus?: boolean
  /** admitted: Access let it through; refused: Access (or the WAF) turned it away; error: no answer. */
  outcome: 'admitted' | 'refused' | 'error'
  /** The classification of a refusal (error code), when there is one. */
  code?: ErrorCode
}

export interface DoctorStep {
  id: DoctorStepId
  title: string
  status: DoctorStepStatus
  /** One sentence: what this step found. */
  summary: string
  details: DoctorFact[]
  /** The probe matrix of the service-token and app-token steps. */
  probes?: DoctorProbe[]
  /** The error this step ran into, when it failed or warned. */
  code?: ErrorCode
  durationMs: number
}

export type DoctorLikelihood = 'high' | 'medium' | 'low'

/** A likely cause, with the evidence behind it. */
export interface DoctorCause {
  /** Stable id, e.g. `no-service-auth-policy`, `client-id-suffix`, `pairing-required`. */
  id: string
  title: string
  likelihood: DoctorLikelihood
  /** What the checks saw that points here. */
  evidence: string[]
  /** The error code this cause stands for, when there is one. */
  code?: ErrorCode
}

/** One way to fix it, with the exact steps (Zero Trust dashboard, gateway host, this app). */
export interface DoctorWayForward {
  /** Stable id, e.g. `add-service-auth-policy`, `sign-in-email`, `turn-off-access`. */
  id: string
  title: string
  /** For a UI button (the same actions as AppError next steps). */
  action?: NextStep['action']
  steps: string[]
  /** A command to copy, when there is one. */
  command?: string
}

export interface DoctorVerdict {
  /** True when the gateway was reached and the handshake worked. */
  ok: boolean
  /** One line: what is wrong (or that it works). */
  headline: string
  /** Most likely first. Empty when nothing is wrong. */
  causes: DoctorCause[]
  waysForward: DoctorWayForward[]
  /** The error behind the first cause (for exit codes and panel styles). */
  code?: ErrorCode
  category?: ErrorCategory
}

export interface DoctorReport {
  /** Shape version of this document. */
  version: 1
  /** The address as checked (normalised when it parsed; never with credentials). */
  url: string
  host?: string
  port?: number
  /** The saved gateway the credentials came from, when one was named. */
  profileName?: string
  /** Which Access credential was configured (the kind only). */
  accessMode: 'none' | 'service-token' | 'app-token'
  /** Hints of the credentials used ("set, ends in …abcd"), never values. */
  credentials: DoctorFact[]
  /** ISO time the run started. */
  startedAt: string
  durationMs: number
  steps: DoctorStep[]
  verdict: DoctorVerdict
  /** Remarks about the input (trimmed whitespace, a changed scheme...). */
  notes: string[]
}
