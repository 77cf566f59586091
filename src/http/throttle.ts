/**
 * Failure throttling for credential checks (the token endpoint): after `limit` failures
 * for one key within `windowMs`, further attempts are refused with 429 and Retry-After
 * until the oldest failure leaves the window. In memory: each process guards itself,
 * which bounds a brute force to `limit × processes` guesses per window.
 */
import { KasseError } from '../domain/errors.js';
import type { Clock } from '../clock.js';

export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly limit = 10,
    private readonly windowMs = 60_000,
  ) {}

  private recent(key: string, now: number): number[] {
    const kept = (this.failures.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  /** Throws 429 when the key has used up its failures. */
  check(key: string): void {
    const now = this.clock.now().getTime();
    const recent = this.recent(key, now);
    if (recent.length < this.limit) return;
    const retryAfter = Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
    throw new KasseError('TOO_MANY_REQUESTS', 'Too many failed attempts; retry later.', { headers: { 'retry-after': String(retryAfter) } });
  }

  fail(key: string): void {
    const now = this.clock.now().getTime();
    if (this.failures.size > 100_000) this.failures.clear();
    this.failures.set(key, [...this.recent(key, now), now]);
  }
}
