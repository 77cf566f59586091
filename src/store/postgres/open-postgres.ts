/**
 * The PostgreSQL engine: the shared Kysely store over a `pg` pool, for several Kasse
 * processes on one database.
 *
 * - Concurrent writers of one transaction or session are serialised by row locks
 *   (`SELECT ... FOR UPDATE`), held until commit; the version check stays as a second guard.
 *   An optimistic change (the store's, see KyselyStore) takes no lock before its single
 *   statement, whose update applies only at the version it read.
 * - Serialization failures and deadlocks (SQLSTATE 40001, 40P01) make the store re-run
 *   the whole storage transaction.
 * - Start-up work (migrations, bootstrap) runs under a session-level advisory lock, so
 *   processes that start together take turns instead of racing.
 * - Every connection carries a statement timeout and an idle-in-transaction timeout, so a
 *   stuck client cannot hold row locks for ever.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type Dialect } from 'kysely';
import type { Database } from '../schema.js';
import { KyselyStore } from '../kysely-store.js';
import { refusingNul } from './refuse-nul.js';
import { isCompiledSql } from '../compiled-queries.js';

export interface PostgresOptions {
  /** Connections in this process's pool (at least 2: start-up holds one while using another). Default 10. */
  readonly poolSize?: number;
  /** Per-statement limit, lock waits included; 0 disables. Default 30 s. */
  readonly statementTimeoutMs?: number;
  /** A transaction left idle this long is ended by the server, releasing its locks. Default 60 s. */
  readonly idleInTransactionTimeoutMs?: number;
  /** Prepare repeated queries by name on each connection. Default true; false behind a transaction pooler that cannot keep them. */
  readonly preparedStatements?: boolean | undefined;
}

export const DEFAULT_POOL_SIZE = 10;
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
/** Advisory lock key for start-up work: the bytes of "kasseup" as an integer. */
export const STARTUP_LOCK_KEY = 0x6b61737365757n;
const INT8_OID = 20;

/** int8 as a number when it fits exactly; otherwise the text, which the store refuses loudly. */
function parseInt8(text: string): number | string {
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : text;
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return parseInt8;
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
} as pg.CustomTypesConfig;

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * An error the server sent in answer to a statement: it has a severity as well as an SQLSTATE.
 * Errors of the connection have a code too (ECONNRESET, EPIPE), but no severity.
 */
function isServerError(error: unknown): boolean {
  return sqlState(error) !== undefined && typeof (error as { severity?: unknown }).severity === 'string';
}

/** SQL text → statement name, shared by the pool's connections (each prepares a name once). */
const statementNames = new Map<string, string>();
let statementSerial = 0;

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `kasse_${++statementSerial}`));
  return name;
}

/** A statement prepared before the schema changed (another process migrated): PostgreSQL refuses to run it. */
export function isStalePreparedStatement(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');
}

/**
 * Kysely sends every query as an unnamed statement, which the server parses and plans each
 * time. The store's hot-path queries are compiled once (compiled-queries.ts), so each
 * connection prepares those under a name on first use and then only binds and executes them.
 * Only they are named: they are key lookups and inserts, whose generic plan is as good as a
 * custom one. The list's filter queries stay unnamed and are planned with their values: after
 * five runs PostgreSQL may switch a named statement to a generic plan, which for an amount
 * range on a million rows measured 70–100 ms instead of 5 ms.
 *
 * When a newer version's migration changes a table under a running process, PostgreSQL
 * refuses the statements prepared before ("cached plan must not change result type"): the
 * text is then prepared afresh under a new name, at once outside a transaction, and by the
 * store's retry of the whole storage transaction inside one (the error aborts it).
 */
function preparingStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  let inTransaction = false;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values] = args;
    if (args.length !== 2 || typeof text !== 'string' || !Array.isArray(values)) return query(...args);
    const control = /^\s*(begin|start\s+transaction|commit|end|rollback)\b(\s+to\b)?/i.exec(text);
    if (control !== null && control[2] === undefined) inTransaction = /^(begin|start)/i.test(control[1]!);
    if (!isCompiledSql(text)) return query(...args);
    const run = () => query({ name: statementName(text), text, values });
    return run().catch((error: unknown) => {
      if (!isStalePreparedStatement(error)) throw error;
      statementNames.delete(text);
      if (inTransaction) throw error;
      return run();
    });
  };
}

/** Opens a pool on a `postgres://` or `postgresql://` URL. Migrations are the caller's call. */
export function openPostgresStore(url: string, options: PostgresOptions = {}): KyselyStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: Math.max(2, options.poolSize ?? DEFAULT_POOL_SIZE),
    statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    connectionTimeoutMillis: 10_000,
    application_name: 'kasse',
    types,
  });
  // An idle connection dropped by the server (restart, failover) must not take the process
  // down; the pool discards it and the next query opens a fresh one.
  pool.on('error', () => {});
  // A connection lost while it runs a statement fails that statement (the caller sees the
  // error), and the pool discards the connection when it is released; the client's own
  // 'error' event, which nothing else listens to while it is checked out, must not end the
  // process too.
  pool.on('connect', (client) => client.on('error', () => {}));
  if (options.preparedStatements !== false) pool.on('connect', preparingStatements);
  return postgresStore(new PostgresDialect({ pool }));
}

/**
 * The store over any dialect that speaks PostgreSQL (a `pg` pool, or PGlite in tests):
 * the engine rules above, independent of how connections are made.
 */
export function postgresStore(dialect: Dialect): KyselyStore {
  const kysely = new Kysely<Database>({ dialect: refusingNul(dialect) });
  return new KyselyStore(kysely, {
    engine: 'postgres',
    rowLocks: true,
    isRetryable: (error) => {
      const state = sqlState(error);
      return state === '40001' || state === '40P01' || isStalePreparedStatement(error);
    },
    isUniqueViolation: (error) => sqlState(error) === '23505',
    isRefusal: isServerError,
    async withStartupLock(fn) {
      return kysely.connection().execute(async (connection) => {
        // Waiting for another process's migrations must not hit the statement timeout, nor
        // may the migrations themselves (an index build on a large table takes a while).
        await sql`select set_config('statement_timeout', '0', false)`.execute(connection);
        await sql`select pg_advisory_lock(${sql.lit(STARTUP_LOCK_KEY)})`.execute(connection);
        try {
          return await fn(connection);
        } finally {
          await sql`select pg_advisory_unlock(${sql.lit(STARTUP_LOCK_KEY)})`.execute(connection);
          await sql`reset statement_timeout`.execute(connection);
        }
      });
    },
    async migrationTableSchema(db) {
      // Kysely finds its bookkeeping tables by name in any schema; name ours, so another
      // schema's `kysely_migration` (another app, another test) is never mistaken for it.
      const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
      return rows[0]?.schema ?? undefined;
    },
  });
}
