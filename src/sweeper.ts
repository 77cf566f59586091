/**
 * A background sweep over work kept in the database (due provider operations, due
 * deliveries): one sweep at a time, on a timer and on demand. A sweep asked for while
 * one runs starts after it, so it sees what was committed meanwhile (joining the running
 * one could miss work that fell due after it looked).
 */
import type { FastifyBaseLogger } from 'fastify';

export interface Sweeper {
  /** Runs a sweep (after any running one); resolves with what it handled. */
  sweep(): Promise<number>;
  /** Whether stop() was called: long sweeps check it to end early. */
  readonly stopped: boolean;
  /** Stops the timer and waits for the running sweep. */
  stop(beforeWaiting?: () => void): Promise<void>;
}

export function startSweeper(name: string, intervalMs: number, logger: FastifyBaseLogger, sweepOnce: () => Promise<number>): Sweeper {
  let queue: Promise<unknown> = Promise.resolve();
  let queued = 0;
  let stopped = false;

  function sweep(): Promise<number> {
    queued += 1;
    const run = queue.then(sweepOnce, sweepOnce).finally(() => {
      queued -= 1;
    });
    queue = run.catch(() => undefined);
    return run;
  }

  const timer = setInterval(() => {
    if (stopped || queued > 0) return;
    sweep().catch((error: unknown) => logger.error({ err: error }, `${name} sweep failed`));
  }, intervalMs);
  timer.unref();

  return {
    sweep,
    get stopped() {
      return stopped;
    },
    async stop(beforeWaiting) {
      stopped = true;
      clearInterval(timer);
      beforeWaiting?.();
      await queue;
    },
  };
}
