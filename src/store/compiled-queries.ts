/**
 * Hot-path queries are built and compiled once per engine and then run with new
 * parameters: building a Kysely query costs more than running a primary-key lookup.
 * A compiled query takes its parameters in the order the builder placed them.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';

const cache = new WeakMap<object, Map<string, CompiledQuery>>();
/** The SQL of every compiled query: fixed statements that are worth preparing by name. */
const compiledSql = new Set<string>();

/** Whether `sql` is a compiled hot-path query (equality lookups and inserts, safe under a generic plan). */
export function isCompiledSql(sql: string): boolean {
  return compiledSql.has(sql);
}

/** `build()` compiled once for this engine (identified by its options object) under `name`. */
export function compiledQuery(engine: object, name: string, build: () => Compilable): CompiledQuery {
  let queries = cache.get(engine);
  if (queries === undefined) cache.set(engine, (queries = new Map()));
  let query = queries.get(name);
  if (query === undefined) {
    queries.set(name, (query = build().compile()));
    compiledSql.add(query.sql);
  }
  return query;
}

/** Runs a statement at once on the connection behind a Kysely instance (SQLite: synchronous). */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => QueryResult<any>;
const directRunners = new WeakMap<object, DirectRunner>();

/**
 * Compiled queries on `db` run through `runner` instead of Kysely's driver. Only for a
 * connection that Kysely never holds across awaits (no Kysely transactions on it): the
 * driver's mutex and promise hops cost about 4.5 µs per statement, more than a key lookup.
 */
export function runCompiledDirectly(db: object, runner: DirectRunner): void {
  directRunners.set(db, runner);
}

export function runCompiled<R>(db: Pick<Kysely<any>, 'executeQuery'>, query: CompiledQuery, parameters: readonly unknown[]): Promise<QueryResult<R>> {
  const direct = directRunners.get(db);
  if (direct === undefined) return db.executeQuery<R>({ ...query, parameters });
  try {
    return Promise.resolve(direct(query.sql, parameters));
  } catch (error) {
    return Promise.reject(error);
  }
}
