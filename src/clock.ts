/** Wall-clock time, injectable so tests and the sandbox test clock can move it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: Date | string = '2026-01-01T00:00:00.000Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** Business time of an account: real time plus its sandbox test-clock offset. */
export function accountNow(clock: Clock, clockOffsetMs: number): string {
  return new Date(clock.now().getTime() + clockOffsetMs).toISOString();
}
