/**
 * Group commit for the single SQLite writer: storage transactions that arrive while a
 * commit is under way wait and then run together inside one database transaction, each
 * in its own savepoint, so N requests cost one fsync instead of N.
 *
 * The COMMIT (and its fsync) blocks the event loop, so while one batch commits, the
 * requests arriving meanwhile wait in the socket buffers and then join the next batch:
 * the busier the server, the larger the batches.
 *
 * Invariants:
 * - every job runs alone (jobs never interleave), so serialisation is as strict as one
 *   transaction per request;
 * - a job that throws is rolled back to its savepoint and rejected; the others commit;
 * - no job's promise settles before the COMMIT of its batch has returned (with
 *   synchronous=FULL that is after the fsync), so no answer is sent for unsaved work;
 * - if the COMMIT itself fails, every job of the batch is rejected.
 */

/** The part of better-sqlite3's Database the committer needs. */
export interface SqlExecutor {
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
}

interface Job<T, R> {
  readonly fn: (repos: R) => Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitStats {
  batches: number;
  jobs: number;
  largestBatch: number;
}

export class GroupCommitter<R> {
  private queue: Array<Job<any, R>> = [];
  private draining = false;
  private scheduled = false;
  readonly stats: GroupCommitStats = { batches: 0, jobs: 0, largestBatch: 0 };

  constructor(
    private readonly db: SqlExecutor,
    private readonly repos: R,
    private readonly maxBatch = 256,
    /** Runs right after each successful COMMIT, before any job of the batch is answered. */
    private readonly onCommit: () => void = () => {},
  ) {}

  run<T>(fn: (repos: R) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject });
      // Starting on the next turn of the event loop lets the requests that arrived together
      // (one poll of the sockets) all join the first commit instead of queueing behind it.
      if (!this.draining && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.drain();
        });
      }
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const settled = await this.runBatch(batch);
        batch.forEach((job, index) => {
          const outcome = settled[index]!;
          if (outcome.ok) job.resolve(outcome.value);
          else job.reject(outcome.error);
        });
      }
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(batch: ReadonlyArray<Job<unknown, R>>): Promise<Settled[]> {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      return batch.map(() => ({ ok: false, error }));
    }
    const settled: Settled[] = [];
    for (const job of batch) {
      this.db.exec('SAVEPOINT job');
      try {
        const value = await job.fn(this.repos);
        this.db.exec('RELEASE job');
        settled.push({ ok: true, value });
      } catch (error) {
        this.db.exec('ROLLBACK TO job');
        this.db.exec('RELEASE job');
        settled.push({ ok: false, error });
      }
    }
    try {
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      return batch.map(() => ({ ok: false, error }));
    }
    this.onCommit();
    this.stats.batches += 1;
    this.stats.jobs += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    return settled;
  }
}
