/**
 * The bare durable capture: about the least a durable capture costs on this machine with
 * Kasse's stack, measured beside Kasse's captures as the bare route (the ceiling) is measured
 * beside every answer.
 *
 * One Fastify route, `POST /bare/:id/capture` (and `GET /bare`, the ids) with `{"amount": n}`. The body is checked by
 * a JSON schema and the transaction is found in memory. The amount is checked against what
 * is left to capture. The row is updated under a version check and one event is inserted.
 * Those writes are committed durably together with the captures that arrived meanwhile (one
 * commit per turn of the event loop, as Kasse's group commit and PostgreSQL batches do), and
 * only then is the transaction answered with all its events. SQLite is WAL with
 * synchronous=FULL; PostgreSQL keeps its durable defaults (fsync, synchronous_commit).
 *
 * Nothing else a payments API does is here: no authentication, idempotency keys, webhook
 * outbox, audit trail, metrics, logging, list indexes, or row-per-column transaction state.
 *
 * Environment: DATABASE_URL (`sqlite:<file>` or `postgres://…`, a database of its own), PORT,
 * BARE_TRANSACTIONS (authorized transactions to capture from, default 2000).
 */
import BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';

interface BareEvent {
  readonly id: string;
  readonly event: 'AUTHORIZE' | 'CAPTURE';
  readonly amount: number;
  readonly created_at: string;
  readonly success: true;
  readonly transaction_status: 'AUTHORIZED' | 'PARTIALLY_CAPTURED' | 'CAPTURED';
}

interface BareTransaction {
  readonly id: string;
  readonly amount: number;
  readonly captured_amount: number;
  readonly status: BareEvent['transaction_status'];
  readonly version: number;
  readonly updated_at: string;
  readonly events: readonly BareEvent[];
}

/** One capture's writes: the row's new state under the version it was decided on, and its event. */
interface BareChange {
  readonly next: BareTransaction;
  readonly expectedVersion: number;
  readonly event: BareEvent;
}

/** Writes a batch of changes in one durable commit; false for a change whose version check failed. */
type WriteBatch = (changes: readonly BareChange[]) => Promise<boolean[]>;

const AMOUNT = 1_000_000_000;
const transactions = new Map<string, BareTransaction>();

function authorized(index: number, now: string): BareTransaction {
  const id = `T00000001.bare${String(index).padStart(18, '0')}`;
  const event: BareEvent = { id: `${id}.1`, event: 'AUTHORIZE', amount: AMOUNT, created_at: now, success: true, transaction_status: 'AUTHORIZED' };
  return { id, amount: AMOUNT, captured_amount: 0, status: 'AUTHORIZED', version: 1, updated_at: now, events: [event] };
}

async function openSqlite(file: string, seed: readonly BareTransaction[]): Promise<WriteBatch> {
  const database = new BetterSqlite3(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('cache_size = -65536');
  database.exec(`CREATE TABLE bare_transactions (id TEXT PRIMARY KEY, amount INTEGER NOT NULL, captured_amount INTEGER NOT NULL,
      status TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE bare_events (transaction_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (transaction_id, seq));`);
  const insertTransaction = database.prepare('INSERT INTO bare_transactions VALUES (?, ?, ?, ?, ?, ?)');
  const insertEvent = database.prepare('INSERT INTO bare_events VALUES (?, ?, ?)');
  const update = database.prepare('UPDATE bare_transactions SET captured_amount = ?, status = ?, version = ?, updated_at = ? WHERE id = ? AND version = ?');
  database.transaction(() => {
    for (const t of seed) {
      insertTransaction.run(t.id, t.amount, t.captured_amount, t.status, t.version, t.updated_at);
      insertEvent.run(t.id, 1, JSON.stringify(t.events[0]));
    }
  })();
  return async (changes) => {
    database.exec('BEGIN IMMEDIATE');
    try {
      const written = changes.map(({ next, expectedVersion, event }) => {
        if (update.run(next.captured_amount, next.status, next.version, next.updated_at, next.id, expectedVersion).changes !== 1) return false;
        insertEvent.run(next.id, next.events.length, JSON.stringify(event));
        return true;
      });
      database.exec('COMMIT');
      return written;
    } catch (error) {
      if (database.inTransaction) database.exec('ROLLBACK');
      throw error;
    }
  };
}

/** One statement per batch: the rows updated where their version still holds, and the events of those rows. */
const POSTGRES_BATCH = `
WITH v AS (
  SELECT * FROM json_to_recordset($1::json) AS v(id text, captured_amount bigint, status text, version int, expected_version int, updated_at text, seq int, body text)
), u AS (
  UPDATE bare_transactions t SET captured_amount = v.captured_amount, status = v.status, version = v.version, updated_at = v.updated_at
  FROM v WHERE t.id = v.id AND t.version = v.expected_version RETURNING t.id
), e AS (
  INSERT INTO bare_events (transaction_id, seq, body) SELECT v.id, v.seq, v.body FROM v WHERE v.id IN (SELECT id FROM u)
)
SELECT id FROM u`;

async function openPostgres(url: string, seed: readonly BareTransaction[]): Promise<WriteBatch> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  await pool.query(`CREATE TABLE bare_transactions (id text PRIMARY KEY, amount bigint NOT NULL, captured_amount bigint NOT NULL,
      status text NOT NULL, version int NOT NULL, updated_at text NOT NULL);
    CREATE TABLE bare_events (transaction_id text NOT NULL, seq int NOT NULL, body text NOT NULL, PRIMARY KEY (transaction_id, seq))`);
  await pool.query(
    `WITH s AS (SELECT * FROM json_to_recordset($1::json) AS s(id text, amount bigint, status text, updated_at text, body text)),
     t AS (INSERT INTO bare_transactions SELECT id, amount, 0, status, 1, updated_at FROM s)
     INSERT INTO bare_events SELECT id, 1, body FROM s`,
    [JSON.stringify(seed.map((t) => ({ id: t.id, amount: t.amount, status: t.status, updated_at: t.updated_at, body: JSON.stringify(t.events[0]) })))],
  );
  return async (changes) => {
    const values = changes.map(({ next, expectedVersion, event }) => ({
      id: next.id,
      captured_amount: next.captured_amount,
      status: next.status,
      version: next.version,
      expected_version: expectedVersion,
      updated_at: next.updated_at,
      seq: next.events.length,
      body: JSON.stringify(event),
    }));
    const result = await pool.query<{ id: string }>({ name: 'bare-batch', text: POSTGRES_BATCH, values: [JSON.stringify(values)] });
    const updated = new Set(result.rows.map((row) => row.id));
    return changes.map(({ next }) => updated.has(next.id));
  };
}

/**
 * Group commit: the changes decided in one turn of the event loop go to the database
 * together, up to `inFlight` batches at once; each change's promise settles after its commit.
 */
function groupCommit(write: WriteBatch, inFlight: number): (change: BareChange) => Promise<boolean> {
  let queue: Array<{ change: BareChange; settle: (written: boolean) => void; fail: (error: unknown) => void }> = [];
  let running = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (queue.length === 0 || running >= inFlight) return;
    const batch = queue;
    queue = [];
    running += 1;
    write(batch.map((job) => job.change)).then(
      (written) => batch.forEach((job, index) => job.settle(written[index]!)),
      (error: unknown) => batch.forEach((job) => job.fail(error)),
    ).finally(() => {
      running -= 1;
      flush();
    });
  };
  return (change) =>
    new Promise((settle, fail) => {
      queue.push({ change, settle, fail });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

const now = new Date().toISOString();
const seed = Array.from({ length: Number(process.env.BARE_TRANSACTIONS ?? 2000) }, (_, index) => authorized(index, now));
for (const t of seed) transactions.set(t.id, t);
const url = process.env.DATABASE_URL ?? 'sqlite:bare.db';
const postgres = url.startsWith('postgres');
const write = postgres ? await openPostgres(url, seed) : await openSqlite(url.slice('sqlite:'.length), seed);
// SQLite's commit blocks the event loop, so one batch at a time; PostgreSQL's run on a pool.
const commit = groupCommit(write, postgres ? 4 : 1);
/** A transaction's capture being written: the next capture of it waits, so it decides on the written state. */
const writing = new Map<string, Promise<unknown>>();

const app = Fastify({ logger: false });
app.get('/bare', async () => [...transactions.keys()]);
app.post<{ Params: { id: string }; Body: { amount: number } }>(
  '/bare/:id/capture',
  { schema: { body: { type: 'object', required: ['amount'], additionalProperties: false, properties: { amount: { type: 'integer', minimum: 1 } } } } },
  async (request, reply) => {
    const { id } = request.params;
    while (writing.has(id)) await writing.get(id)!.catch(() => undefined);
    const current = transactions.get(id);
    if (current === undefined) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'No such transaction' } });
    const amount = request.body.amount;
    if (current.captured_amount + amount > current.amount) return reply.code(400).send({ error: { code: 'AMOUNT_TOO_LARGE', message: 'More than is left to capture' } });
    const at = new Date().toISOString();
    const captured = current.captured_amount + amount;
    const status = captured === current.amount ? 'CAPTURED' : 'PARTIALLY_CAPTURED';
    const event: BareEvent = { id: `${id}.${current.events.length + 1}`, event: 'CAPTURE', amount, created_at: at, success: true, transaction_status: status };
    const next: BareTransaction = { ...current, captured_amount: captured, status, version: current.version + 1, updated_at: at, events: [...current.events, event] };
    const written = commit({ next, expectedVersion: current.version, event });
    writing.set(id, written);
    try {
      if (!(await written)) return reply.code(409).send({ error: { code: 'CONFLICT', message: 'Changed meanwhile' } });
    } finally {
      writing.delete(id);
    }
    transactions.set(id, next);
    return next;
  },
);
const address = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${address}\n`);
