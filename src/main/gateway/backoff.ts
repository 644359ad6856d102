/**
 * Capped exponential backoff with jitter, as a pure function of the attempt number.
 *
 * Jitter spreads the retries of many clients after a gateway restart; the cap keeps a waiting
 * client (pairing, reconnect) responsive once the gateway is back.
 */
export interface BackoffPolicy {
  baseMs: number
  factor: number
  maxMs: number
  /** 0..1: the share of the delay that is randomised. */
  jitter: number
}

export const PAIRING_BACKOFF: BackoffPolicy = { baseMs: 2_000, factor: 1.5, maxMs: 15_000, jitter: 0.2 }
export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 1_000, factor: 2, maxMs: 30_000, jitter: 0.3 }

/** Delay before retry number `attempt` (0-based). `random` is injectable for tests. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * Math.pow(policy.factor, Math.max(0, attempt)))
  const spread = raw * policy.jitter
  return Math.round(raw - spread + spread * 2 * random())
}
