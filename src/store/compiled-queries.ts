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

export function runCompiled<R>(db: Pick<Kysely<any>, 'executeQuery'>, query: CompiledQuery, parameters: readonly unknown[]): Promise<QueryResult<R>> {
  return db.executeQuery<R>({ ...query, parameters });
}
