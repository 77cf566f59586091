/**
 * WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the
 * COMMIT that crosses the WAL's size threshold: that COMMIT then copies a thousand pages
 * into the database file and syncs it, on the event loop (measured: 20–25 ms, against under
 * 1 ms for a plain commit of a batch). Here a worker thread with its own connection runs
 * passive checkpoints instead; a passive checkpoint never blocks the writer or the readers.
 * Committed transactions are durable in the WAL before they are answered either way;
 * checkpoints only move them into the database file.
 *
 * The writer keeps an automatic checkpoint at a larger threshold as a safety net, should
 * this thread fall behind or stop.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL pages after which the writer checkpoints inline anyway (about 40 MB at 4 KiB pages). */
export const INLINE_CHECKPOINT_PAGES = 10_000;

// Plain JavaScript, run with eval (no loader needed in the worker). A checkpoint that copied
// frames is followed at once by the next, so the WAL is fully copied as often as possible:
// only then can the writer start the WAL over from its beginning instead of growing it.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const database = new Database(workerData.file);
database.pragma('busy_timeout = 5000');
const checkpoint = database.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let timer;
function run() {
  let copied = 0;
  try {
    copied = checkpoint.get().checkpointed;
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
  timer = setTimeout(run, copied > 0 ? 0 : workerData.idleMs);
}
timer = setTimeout(run, workerData.idleMs);
parentPort.on('message', () => {
  clearTimeout(timer);
  database.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Starts the checkpoint thread for the database `file`; `idleMs` is the pause after a checkpoint that found nothing to copy. */
export function startCheckpointer(file: string, options: { idleMs?: number; onError?: (message: string) => void } = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, idleMs: options.idleMs ?? 10 } });
  worker.unref();
  let exited = false;
  const exit = new Promise<void>((resolve) => worker.once('exit', () => ((exited = true), resolve())));
  worker.on('message', (message: { error?: string }) => {
    if (message.error !== undefined) options.onError?.(message.error);
  });
  // A failing worker leaves the checkpoints to the writer's inline safety net.
  worker.on('error', (error) => options.onError?.(error.message));
  return {
    async stop() {
      if (exited) return;
      // Held while it closes its connection; terminated should it not finish in time.
      worker.ref();
      worker.postMessage('stop');
      const deadline = setTimeout(() => void worker.terminate(), 2000);
      await exit;
      clearTimeout(deadline);
    },
  };
}
