/**
 * The embedded SQLite engine: better-sqlite3 12, WAL, synchronous=FULL so that an
 * answered operation survives power loss. One writer connection: storage transactions
 * run one at a time (batched into shared commits, see group-commit.ts), which is what keeps
 * concurrent captures on one transaction exact.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { KyselyStore } from '../kysely-store.js';
import { runCompiledDirectly, type DirectRunner } from '../compiled-queries.js';
import { INLINE_CHECKPOINT_PAGES, startCheckpointer } from './checkpointer.js';

function connect(file: string): BetterSqlite3.Database {
  const database = new BetterSqlite3(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // Savepoint journals (one per group-committed request) in memory, not temporary files.
  database.pragma('temp_store = MEMORY');
  // 64 MiB of page cache per connection (better-sqlite3's build defaults to 16 MB): on a million transactions
  // the pages a capture touches (random leaves of the event and list indexes) stay in memory.
  database.pragma('cache_size = -65536');
  return cachingStatements(database);
}

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares each query it
 * runs. The SQL of Kysely's queries repeats, so compiled statements are kept by SQL text.
 */
function cachingStatements(database: BetterSqlite3.Database): BetterSqlite3.Database {
  const prepare = database.prepare.bind(database);
  const cache = new Map<string, BetterSqlite3.Statement>();
  database.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (cache.size < 2000) cache.set(sql, statement);
    }
    return statement;
  }) as typeof database.prepare;
  return database;
}

/**
 * The reader connection's reads share one read transaction per turn of the event loop: in
 * WAL mode every statement outside a transaction takes and drops the read lock itself (file
 * locks, a few microseconds each), which concurrent GETs arriving together can share. The
 * snapshot ends at the end of the turn, and at once whenever the writer commits, so a read
 * that starts after an answered write always sees that write.
 *
 * `dataVersion` is the snapshot's `PRAGMA data_version` (read once per snapshot): SQLite
 * moves it with every commit of any other connection, this process's writer included.
 */
function readingInSnapshots(database: BetterSqlite3.Database): { endSnapshot(): void; dataVersion(): number } {
  const begin = database.prepare('BEGIN');
  const commit = database.prepare('COMMIT');
  const version = database.prepare('PRAGMA data_version').pluck();
  let open = false;
  let snapshotVersion: number | undefined;
  const endSnapshot = () => {
    snapshotVersion = undefined;
    if (!open) return;
    open = false;
    if (database.inTransaction) commit.run();
  };
  const startSnapshot = () => {
    if (open || database.inTransaction) return;
    begin.run();
    open = true;
    setImmediate(endSnapshot);
  };
  const prepare = database.prepare.bind(database);
  const wrapped = new WeakSet<BetterSqlite3.Statement>();
  database.prepare = ((sql: string) => {
    const statement = prepare(sql);
    if (statement.reader && !wrapped.has(statement)) {
      wrapped.add(statement);
      const all = statement.all.bind(statement);
      statement.all = ((...parameters: unknown[]) => {
        startSnapshot();
        return all(...parameters);
      }) as typeof statement.all;
    }
    return statement;
  }) as typeof database.prepare;
  const dataVersion = () => {
    startSnapshot();
    // Inside a transaction that is not a snapshot of ours (a migration's): read, never kept.
    if (!open) return version.get() as number;
    return (snapshotVersion ??= version.get() as number);
  };
  return { endSnapshot, dataVersion };
}

/**
 * Builds a statement's result rows in JavaScript from better-sqlite3's raw arrays: objects
 * made natively get their properties one by one (a transaction row, 26 columns: ~2.8 µs),
 * an object literal of one fixed shape costs a fraction of that. Undefined for column names
 * an object literal cannot carry as own properties.
 */
function rowMaker(statement: BetterSqlite3.Statement): ((values: unknown[]) => Record<string, unknown>) | undefined {
  const names = statement.columns().map((column) => column.name);
  if (names.includes('__proto__')) return undefined;
  const fields = names.map((name, index) => `${JSON.stringify(name)}: values[${index}]`);
  return new Function('values', `return { ${fields.join(', ')} };`) as (values: unknown[]) => Record<string, unknown>;
}

/** A compiled query run as Kysely's SQLite driver would run it, without the driver's mutex and promises. */
function directRunner(database: BetterSqlite3.Database): DirectRunner {
  const makers = new WeakMap<BetterSqlite3.Statement, ReturnType<typeof rowMaker>>();
  return (sql, parameters) => {
    const statement = database.prepare(sql);
    if (statement.reader) {
      if (!makers.has(statement)) makers.set(statement, rowMaker(statement));
      const make = makers.get(statement);
      if (make === undefined) return { rows: statement.all(parameters) };
      // Statements are shared by SQL text with Kysely's own driver: raw only for this call.
      statement.raw(true);
      try {
        return { rows: (statement.all(parameters) as unknown[][]).map(make) };
      } finally {
        statement.raw(false);
      }
    }
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  };
}

export function openSqliteStore(path: string): KyselyStore {
  const file = path === ':memory:' ? ':memory:' : resolve(path);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const options = {
    engine: 'sqlite' as const,
    rowLocks: false,
    isRetryable: (error: unknown) => (error as { code?: string } | null)?.code === 'SQLITE_BUSY',
    isUniqueViolation: (error: unknown) => {
      const code = (error as { code?: string } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
    },
  };
  const main = connect(file);
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: main }) });
  // An in-memory database exists on one connection only: it keeps plain transactions.
  if (file === ':memory:') return new KyselyStore(kysely, options);
  // On a file, one connection writes with group commit and the store's own connection reads
  // committed data only (WAL readers never see an open batch).
  const writer = connect(file);
  writer.pragma(`wal_autocheckpoint = ${INLINE_CHECKPOINT_PAGES}`);
  // Each failure is reported once (the thread retries every few milliseconds).
  const reported = new Set<string>();
  const checkpointer = startCheckpointer(file, {
    onError: (message) => {
      if (reported.has(message)) return;
      reported.add(message);
      process.emitWarning(`WAL checkpoint failed (the writer checkpoints past ${INLINE_CHECKPOINT_PAGES} pages itself): ${message}`);
    },
  });
  const reader = readingInSnapshots(main);
  // Neither connection is held by a Kysely transaction while requests run: the reader only
  // reads, the writer's transactions are the group committer's own BEGIN and COMMIT.
  const writerKysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: writer }) });
  runCompiledDirectly(kysely, directRunner(main));
  runCompiledDirectly(writerKysely, directRunner(writer));
  return new KyselyStore(kysely, { ...options, onClose: () => checkpointer.stop() }, {
    kysely: writerKysely,
    executor: writer,
    onCommit: reader.endSnapshot,
    dataVersion: reader.dataVersion,
  });
}
