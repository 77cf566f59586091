/**
 * Retry waits: exponential (base × 2^(attempt − 1), capped) with "equal jitter" — half the
 * wait fixed, half random — so retries of many deliveries after an outage spread out
 * instead of arriving together, while each still waits at least half its step.
 */
export interface BackoffPolicy {
  /** Wait after the first failed attempt (before jitter). */
  readonly baseMs: number;
  /** Longest wait. */
  readonly maxMs: number;
}

export function retryDelayMs(policy: BackoffPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(failedAttempt - 1, 0), 40));
  return Math.round(step / 2 + random() * (step / 2));
}
