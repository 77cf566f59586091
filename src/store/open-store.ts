import type { Store } from './store.js';
import { openSqliteStore } from './sqlite/open-sqlite.js';
import { openPostgresStore, type PostgresOptions } from './postgres/open-postgres.js';

export type Engine = Store['engine'];

export interface OpenStoreOptions extends PostgresOptions {
  /** Apply migrations before returning (default). Cluster workers skip it: the primary has done it. */
  readonly migrate?: boolean;
}

/** Which engine a DATABASE_URL names, without opening anything. */
export function engineOf(databaseUrl: string): Engine {
  if (databaseUrl.startsWith('sqlite:')) return 'sqlite';
  if (databaseUrl.startsWith('postgres://') || databaseUrl.startsWith('postgresql://')) return 'postgres';
  throw new Error(`DATABASE_URL must start with sqlite:, postgres:// or postgresql://, not ${JSON.stringify(databaseUrl.split(':')[0])}`);
}

/** Opens the store named by a DATABASE_URL (`sqlite:<path>`, `sqlite::memory:`, `postgres://...`). */
export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  const store =
    engineOf(databaseUrl) === 'sqlite'
      ? openSqliteStore(databaseUrl.slice('sqlite:'.length) || ':memory:')
      : openPostgresStore(databaseUrl, options);
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}
