/**
 * The simulated provider's background side: completes asynchronous captures, refunds and
 * voids when they fall due. Due work is found in the database, so it survives restarts
 * and is shared safely by several processes (each completion re-checks under a row lock).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ServiceContext } from '../services/context.js';
import { completeDueOperations } from '../services/transactions.js';

export interface ProviderWorker {
  /** Completes everything due now; resolves when done. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startProviderWorker(ctx: ServiceContext, logger: FastifyBaseLogger, intervalMs = 100): ProviderWorker {
  let queue: Promise<unknown> = Promise.resolve();
  let queued = 0;
  let stopped = false;

  async function sweepOnce(): Promise<number> {
    let completed = 0;
    for (;;) {
      const due = await ctx.store.listDuePending(ctx.clock.now().toISOString(), 50);
      if (due.length === 0) return completed;
      for (const { accountId, id } of due) completed += await completeDueOperations(ctx, accountId, id);
      if (due.length < 50) return completed;
    }
  }

  function sweep(): Promise<number> {
    // A sweep asked for while another runs starts after it: joining the running one could
    // miss work that fell due after it looked (a test that has just moved the clock, say).
    queued += 1;
    const run = queue.then(sweepOnce, sweepOnce).finally(() => {
      queued -= 1;
    });
    queue = run.catch(() => undefined);
    return run;
  }

  const timer = setInterval(() => {
    if (stopped || queued > 0) return;
    sweep().catch((error: unknown) => logger.error({ err: error }, 'provider worker sweep failed'));
  }, intervalMs);
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await queue;
    },
  };
}
