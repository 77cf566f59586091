import type { Store } from './store.js';
import { openSqliteStore } from './sqlite/open-sqlite.js';

/** Opens the store named by a DATABASE_URL (`sqlite:<path>`, `sqlite::memory:`, `postgres://...`). */
export async function openStore(databaseUrl: string): Promise<Store> {
  if (databaseUrl.startsWith('sqlite:')) {
    const store = openSqliteStore(databaseUrl.slice('sqlite:'.length) || ':memory:');
    await store.migrate();
    return store;
  }
  if (databaseUrl.startsWith('postgres://') || databaseUrl.startsWith('postgresql://')) {
    throw new Error('PostgreSQL support is not built yet (see the PostgreSQL issue); use a sqlite: DATABASE_URL.');
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres://, not ${JSON.stringify(databaseUrl.split(':')[0])}`);
}
