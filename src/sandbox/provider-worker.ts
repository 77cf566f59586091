/**
 * The simulated provider's background side: completes asynchronous captures, refunds and
 * voids when they fall due. Due work is found in the database, so it survives restarts
 * and is shared safely by several processes (each completion re-checks under a row lock).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ServiceContext } from '../services/context.js';
import { completeDueOperations } from '../services/transactions.js';
import { startSweeper } from '../sweeper.js';

export interface ProviderWorker {
  /** Completes everything due now; resolves when done. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startProviderWorker(ctx: ServiceContext, logger: FastifyBaseLogger, intervalMs = 100): ProviderWorker {
  const sweeper = startSweeper('provider worker', intervalMs, logger, async () => {
    let completed = 0;
    for (;;) {
      const due = await ctx.store.listDuePending(ctx.clock.now().toISOString(), 50);
      if (due.length === 0) return completed;
      for (const { accountId, id } of due) completed += await completeDueOperations(ctx, accountId, id);
      if (due.length < 50) return completed;
    }
  });
  return { sweep: () => sweeper.sweep(), stop: () => sweeper.stop() };
}
