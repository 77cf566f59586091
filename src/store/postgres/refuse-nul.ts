/**
 * PostgreSQL text cannot hold U+0000 (the server answers "invalid byte sequence", SQLSTATE
 * 22021), while SQLite stores it. Left alone, a NUL in an id, a query filter or a
 * reference would be a 500 on PostgreSQL only. This dialect wrapper refuses such a value
 * as bad input before it reaches the server, so it is a 400 like any other malformed input.
 */
import type { CompiledQuery, DatabaseConnection, Dialect, Driver, Kysely, TransactionSettings, QueryCompiler } from 'kysely';
import { KasseError } from '../../domain/errors.js';

function refuseNul(query: CompiledQuery): void {
  for (const parameter of query.parameters) {
    if (typeof parameter === 'string' && parameter.includes('\u0000')) {
      throw new KasseError('INVALID_REQUEST', 'Text values must not contain the NUL character (U+0000).');
    }
  }
}

class NulRefusingDriver implements Driver {
  private readonly inner = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(private readonly driver: Driver) {}

  private unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.inner.get(connection) ?? connection;
  }

  init(): Promise<void> {
    return this.driver.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.driver.acquireConnection();
    const checked: DatabaseConnection = {
      executeQuery(query) {
        refuseNul(query);
        return connection.executeQuery(query);
      },
      streamQuery(query, chunkSize) {
        refuseNul(query);
        return connection.streamQuery(query, chunkSize);
      },
    };
    this.inner.set(checked, connection);
    return checked;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.driver.beginTransaction(this.unwrap(connection), settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.commitTransaction(this.unwrap(connection));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.rollbackTransaction(this.unwrap(connection));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.driver.savepoint?.(this.unwrap(connection), name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.driver.rollbackToSavepoint?.(this.unwrap(connection), name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.driver.releaseSavepoint?.(this.unwrap(connection), name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.driver.releaseConnection(this.unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.driver.destroy();
  }
}

export function refusingNul(dialect: Dialect): Dialect {
  return {
    createDriver: () => new NulRefusingDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db: Kysely<any>) => dialect.createIntrospector(db),
  };
}
