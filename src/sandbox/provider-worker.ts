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
  let running: Promise<number> | null = null;
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
    running ??= sweepOnce().finally(() => {
      running = null;
    });
    return running;
  }

  const timer = setInterval(() => {
    if (stopped) return;
    sweep().catch((error: unknown) => logger.error({ err: error }, 'provider worker sweep failed'));
  }, intervalMs);
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
