/**
 * A Kysely dialect over PGlite (real PostgreSQL compiled to WebAssembly, in-process), so the
 * PostgreSQL engine is tested on a machine without a PostgreSQL server.
 *
 * PGlite is one database session. Kysely asks for several connections (a pool); each one
 * here is a handle on that session, and a mutex gives a transaction the session from
 * BEGIN to COMMIT/ROLLBACK, while a statement outside a transaction holds it for that
 * statement only. Concurrent transactions therefore run one after another, which is one
 * correct way to serialise them; row locks themselves are only really contended on a
 * server. Session-level state (advisory locks, SET) is shared by all handles.
 */
import { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves once the caller holds the mutex, with the function that releases it. */
  lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return acquired;
  }
}

const INT8_OID = 20;

class PgliteConnection implements DatabaseConnection {
  private releaseTransaction: (() => void) | undefined;

  constructor(
    private readonly db: PGlite,
    private readonly mutex: Mutex,
  ) {}

  private async run<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.db.query<R>(query.sql, [...query.parameters]);
    const kind = query.query.kind;
    if (kind === 'InsertQueryNode' || kind === 'UpdateQueryNode' || kind === 'DeleteQueryNode' || kind === 'MergeQueryNode') {
      return { rows: result.rows, numAffectedRows: BigInt(result.affectedRows ?? 0) };
    }
    return { rows: result.rows };
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.releaseTransaction !== undefined) return this.run<R>(query);
    const release = await this.mutex.lock();
    try {
      return await this.run<R>(query);
    } finally {
      release();
    }
  }

  async begin(settings: TransactionSettings): Promise<void> {
    const release = await this.mutex.lock();
    this.releaseTransaction = release;
    let statement = 'begin';
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) statement += ` ${settings.accessMode}`;
    try {
      await this.run(CompiledQuery.raw(statement));
    } catch (error) {
      await this.end();
      throw error;
    }
  }

  async end(statement?: 'commit' | 'rollback'): Promise<void> {
    try {
      if (statement !== undefined) await this.run(CompiledQuery.raw(statement));
    } finally {
      const release = this.releaseTransaction;
      this.releaseTransaction = undefined;
      release?.();
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite dialect: streaming is not supported');
  }
}

class PgliteDriver implements Driver {
  private readonly mutex = new Mutex();

  constructor(private readonly db: PGlite) {}

  async init(): Promise<void> {
    await this.db.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new PgliteConnection(this.db, this.mutex);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as PgliteConnection).begin(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).end('commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).end('rollback');
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

export class PgliteDialect implements Dialect {
  constructor(private readonly db: PGlite) {}

  createDriver(): Driver {
    return new PgliteDriver(this.db);
  }

  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }

  createAdapter() {
    return new PostgresAdapter();
  }

  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
}

/**
 * A fresh in-memory PGlite database (empty, or loaded from a `dumpDataDir` image); int8
 * arrives as a number when it fits exactly, as with `pg`.
 */
export function newPglite(image?: Blob | File): PGlite {
  return new PGlite({
    ...(image ? { loadDataDir: image } : {}),
    parsers: {
      [INT8_OID]: (text: string) => {
        const number = Number(text);
        return Number.isSafeInteger(number) ? number : text;
      },
    },
  });
}
