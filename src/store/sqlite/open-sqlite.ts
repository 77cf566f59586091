/**
 * The embedded SQLite engine: better-sqlite3 12, WAL, synchronous=FULL so that an
 * answered operation survives power loss. One connection: writers are serial by
 * construction, which is what keeps concurrent captures on one transaction exact.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { KyselyStore } from '../kysely-store.js';

export function openSqliteStore(path: string): KyselyStore {
  const file = path === ':memory:' ? ':memory:' : resolve(path);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new BetterSqlite3(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new KyselyStore(kysely, {
    engine: 'sqlite',
    rowLocks: false,
    isRetryable: (error) => (error as { code?: string } | null)?.code === 'SQLITE_BUSY',
    isUniqueViolation: (error) => {
      const code = (error as { code?: string } | null)?.code;
      return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
    },
  });
}
