/**
 * Stores for tests, on whichever engine the run asks for:
 *
 * - `sqlite:...` as in production;
 * - `postgres://...` (a server): each store gets a fresh schema in that database, dropped
 *   when the store is released, so suites running side by side never see each other's rows;
 * - `pglite:` a fresh in-memory PGlite database (PostgreSQL in WebAssembly) per store, for
 *   machines without a PostgreSQL server.
 *
 * `KASSE_TEST_DATABASE_URL` chooses it for the HTTP suites (default `sqlite::memory:`);
 * `KASSE_TEST_POSTGRES_URL` names the server the PostgreSQL-only suites create their
 * databases on (default the local one, trust auth).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, engineOf } from '../../src/store/open-store.js';
import { postgresStore, STARTUP_LOCK_KEY } from '../../src/store/postgres/open-postgres.js';
import type { Store } from '../../src/store/store.js';

export const POSTGRES_SERVER_URL = process.env.KASSE_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestStore {
  readonly store: Store;
  /** What the store runs on, for test logs: `sqlite`, `postgres (server)` or `postgres (PGlite)`. */
  readonly backend: string;
  /** Closes the store and drops whatever was created for it. */
  release(): Promise<void>;
}

function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Runs statements on a short-lived connection (database and schema administration). */
async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let reachable: Promise<boolean> | undefined;

/** Whether the PostgreSQL server of KASSE_TEST_POSTGRES_URL answers (asked once per process). */
export function postgresServerReachable(): Promise<boolean> {
  reachable ??= admin(POSTGRES_SERVER_URL, async (client) => {
    await client.query('select 1');
    return true;
  }).catch(() => false);
  return reachable;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A fresh, empty database `kasse_test_<random>` on the server; drop() removes it. */
export async function createDatabase(serverUrl = POSTGRES_SERVER_URL): Promise<{ url: string; drop(): Promise<void> }> {
  const name = randomName('kasse_test');
  await admin(serverUrl, (client) => client.query(`create database ${name}`));
  return {
    url: withDatabase(serverUrl, name),
    drop: () => admin(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

// Loaded only when asked for: the WebAssembly build is large and most runs use a server.
const pglite = () => import('./pglite-dialect.js');
let migratedImage: Promise<Blob | File> | undefined;

/** A data directory with every migration applied, made once per process: loading it is faster than initdb + migrate. */
function migratedPgliteImage(): Promise<Blob | File> {
  migratedImage ??= (async () => {
    const { PgliteDialect, newPglite } = await pglite();
    const template = newPglite();
    const store = postgresStore(new PgliteDialect(template));
    await store.migrate();
    const image = await template.dumpDataDir('none');
    await store.close();
    return image;
  })();
  return migratedImage;
}

/** A fresh in-memory PGlite database with the PostgreSQL engine over it, migrated. */
export async function openPgliteStore(): Promise<Store> {
  const { PgliteDialect, newPglite } = await pglite();
  const store = postgresStore(new PgliteDialect(newPglite(await migratedPgliteImage())));
  await store.migrate();
  return store;
}

/** Opens a store for one test suite or harness on the engine the URL names (see above). */
export async function openTestStore(url: string): Promise<TestStore> {
  if (url.startsWith('pglite:')) {
    const store = await openPgliteStore();
    return { store, backend: 'postgres (PGlite)', release: () => store.close() };
  }
  if (engineOf(url) === 'sqlite') {
    const store = await openStore(url);
    return { store, backend: 'sqlite', release: () => store.close() };
  }
  const schema = randomName('kasse_h');
  await admin(url, (client) => client.query(`create schema ${schema}`));
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${schema}`);
  const store = await openStore(scoped.toString(), { poolSize: 4 });
  return {
    store,
    backend: 'postgres (server)',
    async release() {
      await store.close();
      // Under the engine's start-up lock: another store migrating at this moment introspects
      // the catalog, and a schema vanishing mid-query fails its migration.
      await admin(url, async (client) => {
        await client.query(`select pg_advisory_lock(${STARTUP_LOCK_KEY})`);
        try {
          await client.query(`drop schema if exists ${schema} cascade`);
        } finally {
          await client.query(`select pg_advisory_unlock(${STARTUP_LOCK_KEY})`);
        }
      });
    },
  };
}
