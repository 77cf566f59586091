/**
 * `kasse serve --workers N`: one primary and N worker processes sharing the listen socket
 * (node:cluster). PostgreSQL only: the workers share nothing but the database, which must
 * serialise their writes; SQLite has one writer and is refused.
 *
 * The primary migrates and bootstraps once, before forking, so workers start on a ready
 * database and never race on it; it then only supervises (re-forks a worker that dies,
 * forwards SIGTERM/SIGINT for a graceful stop).
 */
import cluster, { type Worker } from 'node:cluster';
import pino from 'pino';
import type { Config } from './config.js';
import { engineOf } from './store/open-store.js';
import { prepareStore } from './server.js';

/** Why --workers cannot be used with this DATABASE_URL, or undefined when it can. */
export function workersRefusal(databaseUrl: string): string | undefined {
  if (engineOf(databaseUrl) === 'postgres') return undefined;
  return (
    '--workers needs a PostgreSQL DATABASE_URL (postgres://...). SQLite allows one writing ' +
    'process per database file; run a single `kasse serve` on SQLite, or move to PostgreSQL to scale out.'
  );
}

const RESTART_DELAY_MS = 1000;

export async function runPrimary(config: Config, workers: number): Promise<void> {
  const refusal = workersRefusal(config.databaseUrl);
  if (refusal !== undefined) throw new Error(refusal);
  const logger = pino({ level: config.logLevel });
  const store = await prepareStore(config);
  await store.close();

  let stopping = false;
  const fork = (): Worker => cluster.fork({ KASSE_CLUSTER_WORKER: '1' });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'Kasse worker died; starting another');
    setTimeout(fork, RESTART_DELAY_MS).unref();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const running = Object.values(cluster.workers ?? {});
    if (running.length === 0) process.exit(0);
    for (const worker of running) worker?.process.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  for (let i = 0; i < workers; i += 1) fork();
  logger.info({ workers }, `Kasse primary started ${workers} workers`);
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}
