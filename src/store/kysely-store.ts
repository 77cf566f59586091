/**
 * The storage interface over Kysely: one implementation of the queries, shared by the
 * SQLite and PostgreSQL engines. Engine differences (row locks, retryable errors) are
 * passed in by the engine module.
 */
import { type Compilable, CompiledQuery, type ExpressionBuilder, type Kysely, type Selectable, type SelectQueryBuilder, type Transaction, Migrator, sql } from 'kysely';
import { IdempotencyKeyTaken, type TransactionOptions } from './store.js';
import type {
  AccountRecord,
  BackofficeSessionRecord,
  ClientRecord,
  DailyTransactionStats,
  IdempotencyRecord,
  Repositories,
  SessionFilter,
  SessionRecord,
  SessionStatus,
  SigningKeyRecord,
  Store,
  TransactionEventRecord,
  TransactionFilter,
  TransactionRecord,
  TransactionWithEvents,
  UserRecord,
} from './store.js';
import type { Database, SessionsTable, TransactionsTable } from './schema.js';
import { compiledQuery, runCompiled } from './compiled-queries.js';
import { GroupCommitter, type GroupCommitStats, type SqlExecutor } from './sqlite/group-commit.js';
import { migrationProvider } from './migrations/index.js';
import { deliveryToRow, KyselyWebhookRepositories } from './kysely-webhooks.js';
import type { DeliveryRecord, SubscriptionRecord } from './webhook-store.js';
import type { TransactionStatus, AuthorizationStatus } from '../domain/status.js';
import type { PaymentProductType } from '../domain/products.js';
import { paymentProductOf } from '../domain/products.js';

export interface EngineOptions {
  readonly engine: 'sqlite' | 'postgres';
  /** Whether `SELECT ... FOR UPDATE` is understood (PostgreSQL) or writers are already serial (SQLite). */
  readonly rowLocks: boolean;
  readonly isRetryable: (error: unknown) => boolean;
  /** Whether the error is a unique-constraint violation (another writer stored the same key first). */
  readonly isUniqueViolation: (error: unknown) => boolean;
  /**
   * Whether the error is the server's refusal of a statement, which then wrote nothing; not a
   * failure of the connection, after which the statement may have committed (PostgreSQL's
   * optimistic changes). Absent: no error is known to be a refusal.
   */
  readonly isRefusal?: (error: unknown) => boolean;
  /**
   * Runs fn while holding a lock that every process sharing the database respects, handing
   * it the connection to use for work that needs it (migrations). Without one, start-up work
   * is only serialised within this process, which is all a one-process engine needs.
   */
  readonly withStartupLock?: <T>(fn: (db: Kysely<Database>) => Promise<T>) => Promise<T>;
  /** Where Kysely keeps its migration bookkeeping, when the engine has schemas. */
  readonly migrationTableSchema?: (db: Kysely<Database>) => Promise<string | undefined>;
  readonly onClose?: () => Promise<void>;
}

/** Transactions in an amount range above which the list reads newest first instead of sorting the range. */
const WIDE_AMOUNT_RANGE = 5000;

/**
 * How long a measured amount range is taken as wide or narrow. The answer only picks the
 * plan (both plans return the same page), so a range that has changed width since costs
 * time, never correctness; measuring costs up to 5 000 index entries (~250 µs) per list.
 */
const AMOUNT_RANGE_MEMORY_MS = 60_000;
const amountRanges = new WeakMap<EngineOptions, Map<string, { readonly wide: boolean; readonly measuredAt: number }>>();

/** Numbers from bigint columns arrive as strings from pg; amounts must stay exact. */
function toInt(value: number | string | bigint): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`Stored integer out of range: ${String(value)}`);
  return number;
}

function transactionFromRow(row: Selectable<TransactionsTable>): TransactionRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    sessionId: row.session_id,
    currency: row.currency,
    merchantReference: row.merchant_reference,
    merchantReference2: row.merchant_reference_2,
    customerEmail: row.customer_email,
    customerPhone: row.customer_phone,
    status: row.status as TransactionStatus,
    state: {
      paymentProductType: row.payment_product_type as PaymentProductType,
      authorization: row.authorization_status as AuthorizationStatus,
      amount: toInt(row.amount),
      capturedAmount: toInt(row.captured_amount),
      refundedAmount: toInt(row.refunded_amount),
      voidedAmount: toInt(row.voided_amount),
      items: JSON.parse(row.items),
      authorizedAt: row.authorized_at,
      authorizationExpiresAt: row.authorization_expires_at,
      ...(row.pending === '[]' ? {} : { pending: JSON.parse(row.pending) }),
    },
    details: JSON.parse(row.details),
    eventCount: toInt(row.event_count),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: toInt(row.version),
  };
}

function transactionToRow(record: TransactionRecord): TransactionsTable {
  const { state } = record;
  return {
    id: record.id,
    account_id: record.accountId,
    session_id: record.sessionId,
    status: record.status,
    authorization_status: state.authorization,
    payment_product: paymentProductOf(state.paymentProductType),
    payment_product_type: state.paymentProductType,
    currency: record.currency,
    amount: state.amount,
    captured_amount: state.capturedAmount,
    refunded_amount: state.refundedAmount,
    voided_amount: state.voidedAmount,
    merchant_reference: record.merchantReference,
    merchant_reference_2: record.merchantReference2,
    customer_email: record.customerEmail,
    customer_phone: record.customerPhone,
    authorized_at: state.authorizedAt,
    authorization_expires_at: state.authorizationExpiresAt,
    items: JSON.stringify(state.items),
    details: JSON.stringify(record.details),
    event_count: record.eventCount,
    pending: JSON.stringify(state.pending ?? []),
    pending_due_at: (state.pending ?? []).reduce<string | null>((earliest, op) => (earliest === null || op.dueAt < earliest ? op.dueAt : earliest), null),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    version: record.version,
  };
}

/**
 * The columns an update of a transaction writes, and the version it expects to replace. Given
 * the row as read, only the columns that changed are written: SQLite rewrites an index whenever
 * the statement sets one of its columns, and a capture changes none of the list keys.
 */
function transactionUpdate(transaction: TransactionRecord, previous: TransactionRecord | number): { changes: Record<string, unknown>; expectedVersion: number } {
  const { id: _id, account_id: _account, created_at: _created, ...row } = transactionToRow(transaction);
  let columns = Object.keys(row) as Array<keyof typeof row>;
  if (typeof previous !== 'number') {
    const before = transactionToRow(previous) as unknown as Record<string, unknown>;
    columns = columns.filter((column) => column === 'version' || (row[column] ?? null) !== (before[column] ?? null));
  }
  const expectedVersion = typeof previous === 'number' ? previous : previous.version;
  checkVersionMovesOn(transaction, expectedVersion);
  // undefined would drop a column from the compiled statement, so it is stored as null.
  return { changes: Object.fromEntries(columns.map((column) => [column, row[column] ?? null])), expectedVersion };
}

/** Every change moves the version on: caches of committed rows (see KyselyStore) rely on it. */
function checkVersionMovesOn(transaction: TransactionRecord, expectedVersion: number): void {
  if (transaction.version <= expectedVersion) throw new Error(`A transaction update must move its version past ${expectedVersion}`);
}

/** An event as stored: its JSON text is what every answer embeds (see transactionJson). */
function eventRow(transactionId: string, event: TransactionEventRecord) {
  return { transaction_id: transactionId, seq: Number(event.id), data: JSON.stringify(event), created_at: event.created_at };
}

/** An event row's values in the order of its columns (transaction_id, seq, data, created_at). */
function eventRowValues(row: ReturnType<typeof eventRow>): unknown[] {
  return [row.transaction_id, row.seq, row.data, row.created_at];
}

/** An idempotency record as stored, by column (account_id first). */
function idempotencyToRow(record: IdempotencyRecord) {
  return { account_id: record.accountId, key: record.key, fingerprint: record.fingerprint, status_code: record.statusCode, response_body: record.responseBody, created_at: record.createdAt };
}

function sessionFromRow(row: Selectable<SessionsTable>): SessionRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    status: row.status as SessionStatus,
    transactionId: row.transaction_id,
    merchantReference: row.merchant_reference,
    data: JSON.parse(row.data),
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: toInt(row.version),
  };
}

function sessionToRow(record: SessionRecord): SessionsTable {
  return {
    id: record.id,
    account_id: record.accountId,
    status: record.status,
    transaction_id: record.transactionId,
    merchant_reference: record.merchantReference,
    data: JSON.stringify(record.data),
    expires_at: record.expiresAt,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    version: record.version,
  };
}

type ListPage = SelectQueryBuilder<Database, 'transactions', { id: string }>;

class KyselyRepositories extends KyselyWebhookRepositories implements Repositories {
  /** The store's own reads (PostgreSQL, a SQLite file's reader): records as last listed (see ListedRecords). */
  protected listedRecords: ListedRecords | undefined;

  #compiled(name: string, build: () => Compilable): CompiledQuery {
    return compiledQuery(this.options, name, build);
  }

  #run<R>(query: CompiledQuery, parameters: readonly unknown[]) {
    return runCompiled<R>(this.db, query, parameters);
  }

  async getAccount(id: string): Promise<AccountRecord | undefined> {
    const query = this.#compiled('getAccount', () => this.db.selectFrom('accounts').selectAll().where('id', '=', ''));
    const [row] = (await this.#run<Selectable<Database['accounts']>>(query, [id])).rows;
    return row && { id: row.id, name: row.name, clockOffsetMs: toInt(row.clock_offset_ms), createdAt: row.created_at };
  }

  async listAccounts(): Promise<AccountRecord[]> {
    const rows = await this.db.selectFrom('accounts').selectAll().orderBy('id').execute();
    return rows.map((row) => ({ id: row.id, name: row.name, clockOffsetMs: toInt(row.clock_offset_ms), createdAt: row.created_at }));
  }

  async insertAccount(account: AccountRecord): Promise<void> {
    await this.db
      .insertInto('accounts')
      .values({ id: account.id, name: account.name, clock_offset_ms: account.clockOffsetMs, created_at: account.createdAt })
      .execute();
  }

  async setClockOffset(accountId: string, clockOffsetMs: number): Promise<void> {
    await this.db.updateTable('accounts').set({ clock_offset_ms: clockOffsetMs }).where('id', '=', accountId).execute();
  }

  async getClient(id: string): Promise<ClientRecord | undefined> {
    const row = await this.db.selectFrom('api_clients').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      row && {
        id: row.id,
        accountId: row.account_id,
        name: row.name,
        secretHash: row.secret_hash,
        scopes: row.scopes.split(' ').filter(Boolean),
        createdAt: row.created_at,
      }
    );
  }

  async insertClient(client: ClientRecord): Promise<void> {
    await this.db
      .insertInto('api_clients')
      .values({
        id: client.id,
        account_id: client.accountId,
        name: client.name,
        secret_hash: client.secretHash,
        scopes: client.scopes.join(' '),
        created_at: client.createdAt,
      })
      .execute();
  }

  async getUserByEmail(email: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    return (
      row && {
        id: row.id,
        email: row.email,
        passwordHash: row.password_hash,
        accountIds: row.account_ids.split(' ').filter(Boolean),
        createdAt: row.created_at,
      }
    );
  }

  async insertUser(user: UserRecord): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: user.id,
        email: user.email.toLowerCase(),
        password_hash: user.passwordHash,
        account_ids: user.accountIds.join(' '),
        created_at: user.createdAt,
      })
      .execute();
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
    return rows.map((row) => ({
      kid: row.kid,
      alg: row.alg,
      privateJwk: row.private_jwk,
      publicJwk: row.public_jwk,
      createdAt: row.created_at,
    }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({ kid: key.kid, alg: key.alg, private_jwk: key.privateJwk, public_jwk: key.publicJwk, created_at: key.createdAt })
      .execute();
  }

  async getSession(accountId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<SessionRecord | undefined> {
    let query = this.db.selectFrom('sessions').selectAll().where('id', '=', id).where('account_id', '=', accountId);
    if (options.forUpdate && this.options.rowLocks) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && sessionFromRow(row);
  }

  async insertSession(session: SessionRecord): Promise<void> {
    await this.db.insertInto('sessions').values(sessionToRow(session)).execute();
  }

  async updateSession(session: SessionRecord, expectedVersion: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sessions')
      .set(sessionToRow(session))
      .where('id', '=', session.id)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async listSessions(filter: SessionFilter): Promise<SessionRecord[]> {
    let query = this.db.selectFrom('sessions').selectAll().where('account_id', '=', filter.accountId);
    if (filter.merchantReference !== undefined) query = query.where('merchant_reference', '=', filter.merchantReference);
    const after = filter.startingAfter;
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(sessionFromRow);
  }

  async getTransaction(accountId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<TransactionRecord | undefined> {
    const forUpdate = options.forUpdate === true && this.options.rowLocks;
    const query = this.#compiled(forUpdate ? 'getTransactionForUpdate' : 'getTransaction', () => {
      const select = this.db.selectFrom('transactions').selectAll().where('id', '=', '').where('account_id', '=', '');
      return forUpdate ? select.forUpdate() : select;
    });
    const [row] = (await this.#run<Selectable<TransactionsTable>>(query, [id, accountId])).rows;
    return row && transactionFromRow(row);
  }

  async getTransactionWithEvents(
    accountId: string,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<TransactionWithEvents | undefined> {
    return this.readWithEvents(accountId, id, options.forUpdate === true);
  }

  /**
   * The row, its account's clock offset and its events. `known` (PostgreSQL) are the first
   * events of the transaction as read before: events are only ever appended, so only the ones
   * after them are read and parsed (a transaction another process changed since costs its new
   * events, not all of them).
   */
  protected async readWithEvents(accountId: string, id: string, lock: boolean, known?: readonly TransactionEventRecord[]): Promise<TransactionWithEvents | undefined> {
    const forUpdate = lock && this.options.rowLocks;
    const postgres = this.options.engine === 'postgres';
    const since = postgres && known !== undefined;
    // One statement for the row, its account's clock offset and (PostgreSQL, where every
    // statement is a round trip) its events; SQLite reads the events with a second statement.
    const query = this.#compiled(`getTransactionWithEvents${forUpdate ? 'ForUpdate' : ''}${since ? 'Since' : ''}`, () => {
      const events = since
        ? sql<string[] | null>`(select array_agg(e.data order by e.seq) from transaction_events e where e.transaction_id = t.id and e.seq > ${0})`
        : sql<string[] | null>`(select array_agg(e.data order by e.seq) from transaction_events e where e.transaction_id = t.id)`;
      const select = this.db
        .selectFrom('transactions as t')
        .selectAll('t')
        .select(accountClockOffset)
        .$if(postgres, (qb) => qb.select(events.as('event_data')))
        .where('t.id', '=', '')
        .where('t.account_id', '=', '');
      return forUpdate ? select.forUpdate('t') : select;
    });
    type Row = Selectable<TransactionsTable> & { account_clock_offset_ms: number | string | null; event_data?: string[] | null };
    const [row] = (await this.#run<Row>(query, since ? [known.length, id, accountId] : [id, accountId])).rows;
    if (row === undefined) return undefined;
    const record = transactionFromRow(row);
    let events = postgres ? (row.event_data ?? []).map((data) => JSON.parse(data) as TransactionEventRecord) : ((await this.listEvents([id])).get(id) ?? []);
    if (since) events = [...known, ...events];
    // PostgreSQL: a locking read that waited for another transaction's commit returns the row as
    // that commit left it, but its events subquery still sees the snapshot taken before the wait.
    // The row's event count tells; the events are then read again, under the lock now held.
    if (postgres && events.length !== record.eventCount) events = (await this.listEvents([id])).get(id) ?? [];
    return { record, events, clockOffsetMs: toInt(row.account_clock_offset_ms ?? 0) };
  }

  async insertTransaction(transaction: TransactionRecord): Promise<void> {
    await this.db.insertInto('transactions').values(transactionToRow(transaction)).execute();
  }

  async updateTransaction(transaction: TransactionRecord, previous: TransactionRecord | number): Promise<boolean> {
    const { changes, expectedVersion } = transactionUpdate(transaction, previous);
    const query = this.#compiled(`updateTransaction:${Object.keys(changes).join(',')}`, () =>
      this.db.updateTable('transactions').set(changes).where('id', '=', '').where('version', '=', 0),
    );
    const result = await this.#run(query, [...Object.values(changes), transaction.id, expectedVersion]);
    return Number(result.numAffectedRows ?? 0) === 1;
  }

  /** Whether at least WIDE_AMOUNT_RANGE transactions of the account fall in the range (an index-only count). */
  private async isWideAmountRange(accountId: string, gte: number | undefined, lte: number | undefined): Promise<boolean> {
    let measured = amountRanges.get(this.options);
    if (measured === undefined) amountRanges.set(this.options, (measured = new Map()));
    const key = `${accountId} ${gte ?? ''} ${lte ?? ''}`;
    const known = measured.get(key);
    if (known !== undefined && Date.now() - known.measuredAt < AMOUNT_RANGE_MEMORY_MS) return known.wide;
    let probe = this.db.selectFrom('transactions').select('id').where('account_id', '=', accountId);
    if (gte !== undefined) probe = probe.where('amount', '>=', gte);
    if (lte !== undefined) probe = probe.where('amount', '<=', lte);
    const row = await this.db
      .selectFrom(probe.limit(WIDE_AMOUNT_RANGE).as('probe'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirst();
    const wide = toInt(row?.n ?? 0) >= WIDE_AMOUNT_RANGE;
    if (measured.size >= 1000) measured.clear();
    measured.set(key, { wide, measuredAt: Date.now() });
    return wide;
  }

  async listTransactions(filter: TransactionFilter): Promise<TransactionRecord[]> {
    const page = await this.#listPage(filter);
    if (this.listedRecords !== undefined) {
      const listed = await this.#listThroughKeptRecords(page, this.listedRecords);
      if (listed !== undefined) return listed;
    }
    // SQLite: the page's keys first, its rows after. Where the filter needs a sort (a narrow amount
    // range), SQLite's sorter would otherwise copy every candidate row whole, JSON columns included
    // (prominent in a profile of the benchmark's list). PostgreSQL keeps only the top rows while
    // sorting, and the second step measured slower there (list 748 → 530 req/s).
    const rows = (
      this.options.engine === 'sqlite'
        ? this.db.selectFrom('transactions').selectAll().where('id', 'in', page).orderBy('created_at', 'desc').orderBy('id', 'desc')
        : page.clearSelect().selectAll()
    ).compile();
    // Through runCompiled: on SQLite the rows are then built from raw arrays (see open-sqlite.ts).
    return (await this.#run<Selectable<TransactionsTable>>(rows, rows.parameters)).rows.map(transactionFromRow);
  }

  /**
   * The page's ids and versions (the page's index walk, then two columns of each row), its
   * records from `kept` where the version is the one kept, and only the others read whole.
   * Undefined should rows keep changing between the two reads (a commit can come between
   * them): the caller then reads the page in one statement.
   */
  async #listThroughKeptRecords(page: ListPage, kept: ListedRecords): Promise<TransactionRecord[] | undefined> {
    // Two narrow columns: SQLite may sort candidates (a narrow amount range) without copying whole rows.
    const keys = page.clearSelect().select(['id', 'version']).compile();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const found = (await this.#run<{ id: string; version: number | string }>(keys, keys.parameters)).rows.map((row) => ({ id: row.id, version: toInt(row.version) }));
      const known = found.map(({ id, version }) => kept.get(id, version));
      const missing = found.filter((_, index) => known[index] === undefined).map(({ id }) => id);
      if (missing.length === 0) return known as TransactionRecord[];
      const rows = this.db.selectFrom('transactions').selectAll().where('id', 'in', missing).compile();
      const read = new Map((await this.#run<Selectable<TransactionsTable>>(rows, rows.parameters)).rows.map((row) => [row.id, transactionFromRow(row)]));
      const records = found.map(({ id, version }, index) => {
        const record = known[index] ?? read.get(id);
        return record?.version === version ? record : undefined;
      });
      if (records.every((record) => record !== undefined)) {
        for (const record of read.values()) kept.keep(record);
        return records;
      }
    }
    return undefined;
  }

  /** The query of a list page: the ids of the filter's transactions, newest first, `limit` of them. */
  async #listPage(filter: TransactionFilter): Promise<ListPage> {
    const { accountId, search } = filter;
    // A search names the account in each alternative, (account, id) OR (account, session) OR ..., so each
    // is answered from its own index on both engines; with a separate account_id term SQLite scans the account.
    let query =
      search === undefined
        ? this.db.selectFrom('transactions').select('id').where('account_id', '=', accountId)
        : this.db
            .selectFrom('transactions')
            .select('id')
            .where((eb) =>
              eb.or([
                eb.and([eb('account_id', '=', accountId), eb('id', '=', search)]),
                eb.and([eb('account_id', '=', accountId), eb('session_id', '=', search)]),
                eb.and([eb('account_id', '=', accountId), eb('merchant_reference', '=', search)]),
                eb.and([eb('account_id', '=', accountId), eb('merchant_reference_2', '=', search)]),
                eb.and([eb('account_id', '=', accountId), eb('customer_email', '=', search.toLowerCase())]),
                eb.and([eb('account_id', '=', accountId), eb('customer_phone', '=', search)]),
              ]),
            );
    // SQLite has no statistics (Kasse runs no ANALYZE) and takes any one index of an equality filter:
    // for currency + status it walked the newest rows of the currency, the status read row by row
    // (thousands of lookups when the newest rows of that currency have another status). So on
    // SQLite one index serves the list: the most selective filter's, by a fixed order; the other
    // category filters are written `+column`, which SQLite cannot answer from an index.
    const categories = [
      ['payment_product_type', filter.paymentProductType],
      ['payment_product', filter.paymentProduct],
      ['status', filter.status],
      ['currency', filter.currency],
    ] as const;
    const narrower =
      search !== undefined ||
      filter.merchantReference !== undefined ||
      filter.merchantReference2 !== undefined ||
      filter.sessionId !== undefined ||
      filter.amount !== undefined;
    const indexed = this.options.engine !== 'sqlite' || narrower ? undefined : categories.find(([, values]) => values !== undefined && values.length > 0)?.[0];
    for (const [column, values] of categories) {
      if (values === undefined || values.length === 0) continue;
      const target = this.options.engine === 'sqlite' && column !== indexed ? sql<string>`+${sql.ref(column)}` : sql.ref<string>(column);
      query = values.length === 1 ? query.where((eb) => eb(target, '=', values[0]!)) : query.where((eb) => eb(target, 'in', [...values]));
    }
    if (filter.merchantReference !== undefined) query = query.where('merchant_reference', '=', filter.merchantReference);
    if (filter.merchantReference2 !== undefined) query = query.where('merchant_reference_2', '=', filter.merchantReference2);
    if (filter.sessionId !== undefined) query = query.where('session_id', '=', filter.sessionId);
    if (filter.amount !== undefined) query = query.where('amount', '=', filter.amount);
    if (filter.amountGte !== undefined || filter.amountLte !== undefined) {
      // A wide amount range is read newest first and filtered (`amount + 0` keeps the amount index out of it);
      // a narrow one from the amount index, sorting the few rows it holds. Without statistics SQLite cannot tell
      // them apart and sorts a million rows for "amount ≥ 1", so the store measures the range first.
      const wide = await this.isWideAmountRange(accountId, filter.amountGte, filter.amountLte);
      const amount = wide ? sql<number>`${sql.ref('amount')} + 0` : sql.ref<number>('amount');
      const { amountGte, amountLte } = filter;
      if (amountGte !== undefined) query = query.where((eb) => eb(amount, '>=', amountGte));
      if (amountLte !== undefined) query = query.where((eb) => eb(amount, '<=', amountLte));
    }
    if (filter.createdAtGte !== undefined) query = query.where('created_at', '>=', filter.createdAtGte);
    if (filter.createdAtLte !== undefined) query = query.where('created_at', '<=', filter.createdAtLte);
    const after = filter.startingAfter;
    if (after) {
      // (created_at, id) < cursor, with created_at <= cursor spelled out so the index range starts at the
      // cursor; the OR alone makes SQLite walk every newer row first (page 10 000 as slow as a scan).
      query = query
        .where('created_at', '<=', after.createdAt)
        .where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb('id', '<', after.id)]));
    }
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit);
  }

  async listDuePending(now: string, limit: number): Promise<Array<{ accountId: string; id: string }>> {
    const rows = await this.db
      .selectFrom('transactions')
      .select(['account_id', 'id'])
      .where('pending_due_at', '<=', now)
      .orderBy('pending_due_at')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ accountId: row.account_id, id: row.id }));
  }

  async appendEvents(transactionId: string, events: readonly TransactionEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((event) => eventRow(transactionId, event));
    const query = this.#compiled(`appendEvents${rows.length}`, () => this.db.insertInto('transaction_events').values(rows));
    await this.#run(query, rows.flatMap(eventRowValues));
  }

  async listEvents(transactionIds: readonly string[]): Promise<Map<string, TransactionEventRecord[]>> {
    const result = new Map<string, TransactionEventRecord[]>(transactionIds.map((id) => [id, []]));
    for (const row of await this.#eventRows(transactionIds)) result.get(row.transaction_id)?.push(JSON.parse(row.data));
    return result;
  }

  async listEventJson(transactionIds: readonly string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>(transactionIds.map((id) => [id, []]));
    for (const row of await this.#eventRows(transactionIds)) result.get(row.transaction_id)?.push(row.data);
    return result;
  }

  /** The stored events of the transactions, each one's in order. */
  async #eventRows(transactionIds: readonly string[]): Promise<Array<{ transaction_id: string; data: string }>> {
    if (transactionIds.length === 0) return [];
    const select = () =>
      this.db
        .selectFrom('transaction_events')
        .select(['transaction_id', 'data'])
        .where('transaction_id', 'in', [...transactionIds])
        .orderBy('transaction_id')
        .orderBy('seq');
    // One compiled statement per list size up to a page (100): GETs, operations and list pages.
    return transactionIds.length <= 100
      ? (await this.#run<{ transaction_id: string; data: string }>(this.#compiled(`listEvents${transactionIds.length}`, select), transactionIds)).rows
      : await select().execute();
  }

  async getIdempotency(accountId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const query = this.#compiled('getIdempotency', () =>
      this.db.selectFrom('idempotency_keys').selectAll().where('account_id', '=', '').where('key', '=', ''),
    );
    const [row] = (await this.#run<Selectable<Database['idempotency_keys']>>(query, [accountId, key])).rows;
    return (
      row && {
        accountId: row.account_id,
        key: row.key,
        fingerprint: row.fingerprint,
        statusCode: toInt(row.status_code),
        responseBody: row.response_body,
        createdAt: row.created_at,
      }
    );
  }

  async insertIdempotency(record: IdempotencyRecord): Promise<void> {
    // Written with every keyed operation: compiled once.
    const row = idempotencyToRow(record);
    const query = this.#compiled('insertIdempotency', () => this.db.insertInto('idempotency_keys').values(row));
    try {
      await this.#run(query, Object.values(row));
    } catch (error) {
      if (this.options.isUniqueViolation(error)) throw new IdempotencyKeyTaken(record.accountId, record.key, { cause: error });
      throw error;
    }
  }

  async getBackofficeSession(id: string, now: string): Promise<{ session: BackofficeSessionRecord; user: UserRecord } | undefined> {
    const row = await this.db
      .selectFrom('backoffice_sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.id', 's.user_id', 's.account_id', 's.csrf_token', 's.created_at', 's.expires_at', 'u.email', 'u.password_hash', 'u.account_ids', 'u.created_at as user_created_at'])
      .where('s.id', '=', id)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      session: { id: row.id, userId: row.user_id, accountId: row.account_id, csrfToken: row.csrf_token, createdAt: row.created_at, expiresAt: row.expires_at },
      user: {
        id: row.user_id,
        email: row.email,
        passwordHash: row.password_hash,
        accountIds: row.account_ids.split(' ').filter(Boolean),
        createdAt: row.user_created_at,
      },
    };
  }

  async insertBackofficeSession(session: BackofficeSessionRecord): Promise<void> {
    await this.db
      .insertInto('backoffice_sessions')
      .values({
        id: session.id,
        user_id: session.userId,
        account_id: session.accountId,
        csrf_token: session.csrfToken,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
      })
      .execute();
  }

  async setBackofficeSessionAccount(id: string, accountId: string): Promise<void> {
    await this.db.updateTable('backoffice_sessions').set({ account_id: accountId }).where('id', '=', id).execute();
  }

  async deleteBackofficeSession(id: string): Promise<void> {
    await this.db.deleteFrom('backoffice_sessions').where('id', '=', id).execute();
  }

  async deleteExpiredBackofficeSessions(now: string): Promise<void> {
    await this.db.deleteFrom('backoffice_sessions').where('expires_at', '<=', now).execute();
  }

  async insertLoginFailure(throttleKey: string, failedAt: string): Promise<void> {
    await this.db.insertInto('backoffice_login_failures').values({ throttle_key: throttleKey, failed_at: failedAt }).execute();
  }

  async listLoginFailures(throttleKey: string, since: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('backoffice_login_failures')
      .select('failed_at')
      .where('throttle_key', '=', throttleKey)
      .where('failed_at', '>=', since)
      .orderBy('failed_at')
      .limit(1000)
      .execute();
    return rows.map((row) => row.failed_at);
  }

  async deleteLoginFailures(throttleKey: string, before?: string): Promise<void> {
    let query = this.db.deleteFrom('backoffice_login_failures').where('throttle_key', '=', throttleKey);
    if (before !== undefined) query = query.where('failed_at', '<', before);
    await query.execute();
  }

  async transactionDailyStats(accountId: string, from: string, to: string): Promise<DailyTransactionStats[]> {
    // Range on (account_id, created_at): the transactions_account_created index; substr is plain SQL on both engines.
    const day = sql<string>`substr(created_at, 1, 10)`;
    const rows = await this.db
      .selectFrom('transactions')
      .select((eb) => [
        day.as('day'),
        'currency',
        'status',
        eb.fn.countAll<number | string>().as('count'),
        eb.fn.sum<number | string>('amount').as('amount'),
        eb.fn.sum<number | string>('captured_amount').as('captured_amount'),
        eb.fn.sum<number | string>('refunded_amount').as('refunded_amount'),
      ])
      .where('account_id', '=', accountId)
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .groupBy([day, 'currency', 'status'])
      .orderBy('day')
      .execute();
    return rows.map((row) => ({
      day: row.day,
      currency: row.currency,
      status: row.status,
      count: toInt(row.count),
      amount: toInt(row.amount),
      capturedAmount: toInt(row.captured_amount),
      refundedAmount: toInt(row.refunded_amount),
    }));
  }
}

/**
 * A dedicated writer connection (SQLite on a file): every write goes through its group
 * committer, and the store's own connection only reads committed data.
 */
export interface GroupCommitWriter {
  readonly kysely: Kysely<Database>;
  readonly executor: SqlExecutor;
  /** Called after each COMMIT of the writer (the reader drops its snapshot). */
  readonly onCommit?: () => void;
  /** The reader connection's `PRAGMA data_version`: it moves with every commit of another connection. */
  readonly dataVersion: () => number;
}

/** The test-clock offset of a transaction row's (`t`) account, as `account_clock_offset_ms`. */
function accountClockOffset(eb: ExpressionBuilder<Database & { t: TransactionsTable }, 't'>) {
  return eb.selectFrom('accounts as a').select('a.clock_offset_ms').whereRef('a.id', '=', 't.account_id').as('account_clock_offset_ms');
}

/** Sets `key` as the newest entry of `map`, dropping the oldest once `limit` entries are kept. */
function keepNewest<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.delete(key);
  if (map.size >= limit) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** How long the writer must have been without a commit before the reader confirms entries (see readCommitted). */
const QUIET_MS = 10;

/** Transactions a SQLite store remembers as last committed (a few MB for typical ones). */
const RECENT_TRANSACTIONS = 5000;

type Remembered = Omit<TransactionWithEvents, 'clockOffsetMs'>;

/**
 * Transactions as last committed, by id (SQLite on a file, PostgreSQL). A read of a remembered
 * transaction first asks the database for the row's current version (with its account's clock
 * offset: one small statement) and answers from here when the version is the one remembered.
 * Every change moves the version on, and only committed content is remembered (the store's own
 * reads: a SQLite file's reader connection, PostgreSQL outside transactions; and what a SQLite
 * writer job read and changed once its batch has committed), so a version names one committed
 * content, whichever process wrote it. Entries are shared: read-only, like every record the
 * store returns.
 *
 * The reader can also skip that statement: an entry the database confirmed current while the
 * reader connection's `PRAGMA data_version` stood at some value stays current while it still
 * stands there, for SQLite moves that value with every commit of any other connection (this
 * process's writer and other processes alike).
 */
class RecentTransactions {
  readonly #entries = new Map<string, Remembered>();
  /** For optimistic changes (PostgreSQL): each account's clock offset and webhook subscriptions as last read, checked again when written. */
  readonly clockOffsets = new Map<string, number>();
  readonly subscriptions = new Map<string, readonly SubscriptionRecord[]>();
  /** Entries the reader found current, with the data_version of that moment and the clock offset read then. */
  readonly #confirmed = new WeakMap<Remembered, { readonly dataVersion: number; readonly clockOffsetMs: number }>();

  /**
   * A read through what is remembered: the row's current version and its account's clock
   * offset (one small statement on `db`), then the content remembered for that version —
   * `own` first, a job's uncommitted view of its own change — or else `fullRead`. `entry` is
   * the remembered content that answered, if one did.
   */
  async read(
    db: Kysely<Database>,
    options: EngineOptions,
    accountId: string,
    id: string,
    fullRead: (known?: readonly TransactionEventRecord[]) => Promise<TransactionWithEvents | undefined>,
    own?: Remembered,
    lock = false,
  ): Promise<{ found: TransactionWithEvents; entry?: Remembered } | undefined> {
    if (own === undefined && !this.#entries.has(id)) {
      // Nothing to check against: the full read at once.
      const found = await fullRead();
      if (found !== undefined) this.#rememberClockOffset(options, accountId, found.clockOffsetMs);
      return found && { found };
    }
    // With `lock` the version statement locks the row (PostgreSQL), as the full read would.
    const current = await currentVersion(db, options, accountId, id, lock);
    if (current === undefined) return undefined;
    this.#rememberClockOffset(options, accountId, current.clockOffsetMs);
    const remembered = this.#entries.get(id);
    const known = isAt(own, current.version, accountId) ? own : isAt(remembered, current.version, accountId) ? remembered : undefined;
    if (known !== undefined) return { found: { record: known.record, events: known.events, clockOffsetMs: current.clockOffsetMs }, entry: known };
    // Changed since: the events remembered (all of an older version, seq 1..n) need not be read again.
    const older = remembered !== undefined && remembered.record.accountId === accountId && remembered.events.length === remembered.record.eventCount;
    const found = await fullRead(older ? remembered.events : undefined);
    return found && { found };
  }

  /**
   * The store's own read (committed data only), remembering a full read. With `dataVersion`
   * (a SQLite file's reader) a confirmed entry is answered without any statement while the
   * data_version is unchanged, and with `confirm` the entry answered is confirmed at the
   * data_version taken before the version statement, so that content and mark can only err
   * towards a needless check.
   */
  async readCommitted(
    db: Kysely<Database>,
    options: EngineOptions,
    accountId: string,
    id: string,
    fullRead: (known?: readonly TransactionEventRecord[]) => Promise<TransactionWithEvents | undefined>,
    dataVersion?: () => number,
    confirm = false,
  ): Promise<TransactionWithEvents | undefined> {
    const entry = this.#entries.get(id);
    const confirmed = entry && this.#confirmed.get(entry);
    if (confirmed !== undefined && entry!.record.accountId === accountId && confirmed.dataVersion === dataVersion?.()) {
      return { record: entry!.record, events: entry!.events, clockOffsetMs: confirmed.clockOffsetMs };
    }
    const before = confirm ? dataVersion?.() : undefined;
    const read = await this.read(db, options, accountId, id, fullRead);
    if (read === undefined) return undefined;
    const { record, events, clockOffsetMs } = read.found;
    const answered = read.entry ?? { record, events };
    if (read.entry === undefined) this.remember(answered);
    if (before !== undefined) this.#confirmed.set(answered, { dataVersion: before, clockOffsetMs });
    return read.found;
  }

  /** Only for content known to be committed. */
  remember(entry: Remembered): void {
    keepNewest(this.#entries, entry.record.id, entry, RECENT_TRANSACTIONS);
  }

  /** Optimistic changes are PostgreSQL's only: elsewhere nothing is kept for them. */
  #rememberClockOffset(options: EngineOptions, accountId: string, clockOffsetMs: number): void {
    if (options.engine === 'postgres') keepNewest(this.clockOffsets, accountId, clockOffsetMs, ACCOUNTS_REMEMBERED);
  }

  /** The remembered content of a transaction, unchecked (an optimistic change checks it when it writes). */
  peek(id: string): Remembered | undefined {
    return this.#entries.get(id);
  }
}

/** Whether `entry` is the account's transaction at `version`. */
function isAt(entry: Remembered | undefined, version: number, accountId: string): entry is Remembered {
  return entry !== undefined && entry.record.version === version && entry.record.accountId === accountId;
}

/** Accounts whose clock offset and subscriptions are remembered for optimistic changes. */
const ACCOUNTS_REMEMBERED = 1000;

/** The current version of the account's transaction and the account's clock offset, or undefined; `forUpdate` locks the row (PostgreSQL). */
async function currentVersion(
  db: Kysely<Database> | Transaction<Database>,
  options: EngineOptions,
  accountId: string,
  id: string,
  forUpdate = false,
): Promise<{ version: number; clockOffsetMs: number } | undefined> {
  const query = compiledQuery(options, forUpdate ? 'getTransactionVersionForUpdate' : 'getTransactionVersion', () => {
    const select = db.selectFrom('transactions as t').select('t.version').select(accountClockOffset).where('t.id', '=', '').where('t.account_id', '=', '');
    return forUpdate ? select.forUpdate('t') : select;
  });
  const [row] = (await runCompiled<{ version: number; account_clock_offset_ms: number | null }>(db, query, [id, accountId])).rows;
  return row && { version: toInt(row.version), clockOffsetMs: toInt(row.account_clock_offset_ms ?? 0) };
}

/**
 * Repositories of the storage transactions that change transactions: the group committer's
 * (SQLite on a file) and each PostgreSQL transaction's. A read for a change answers from the
 * recently committed transactions while the row's version is unchanged (on PostgreSQL the
 * version statement locks the row, as the full read would), and what a job read and changed
 * is remembered once it has committed: the next capture of the same transaction then reads
 * one small statement instead of the row and all its events.
 */
class WriterRepositories extends KyselyRepositories {
  /** What the running job read, and how it changed it, by id (jobs run one at a time). */
  #job: Map<string, Remembered & { readonly changed: boolean }> | undefined;

  constructor(
    private readonly writer: Kysely<Database> | Transaction<Database>,
    options: EngineOptions,
    private readonly recent: RecentTransactions,
  ) {
    super(writer, options);
  }

  /** Runs one job; its result and the transactions it saw, to remember after the COMMIT. */
  async runJob<T>(fn: (repos: Repositories) => Promise<T>): Promise<{ value: T; seen: Remembered[] }> {
    const job = (this.#job = new Map());
    try {
      const value = await fn(this);
      return { value, seen: [...job.values()].map(({ record, events }) => ({ record, events })) };
    } finally {
      this.#job = undefined;
    }
  }

  override async getTransactionWithEvents(accountId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<TransactionWithEvents | undefined> {
    const lock = options.forUpdate === true;
    // The full read is passed inline: a named closure costs a name property per call under tsx.
    const read = await this.recent.read(this.writer, this.options, accountId, id, (known) => this.readWithEvents(accountId, id, lock, known), this.#job?.get(id), lock && this.options.rowLocks);
    if (read !== undefined) this.#job?.set(id, { record: read.found.record, events: read.found.events, changed: false });
    return read?.found;
  }

  override async updateTransaction(transaction: TransactionRecord, previous: TransactionRecord | number): Promise<boolean> {
    const updated = await super.updateTransaction(transaction, previous);
    const seen = this.#job?.get(transaction.id);
    if (updated && seen !== undefined) this.#job!.set(transaction.id, { record: transaction, events: seen.events, changed: true });
    else this.#job?.delete(transaction.id);
    return updated;
  }

  /** A new transaction is known whole: remembered with the events the job appends to it (the first capture after a payment needs no read). */
  override async insertTransaction(transaction: TransactionRecord): Promise<void> {
    await super.insertTransaction(transaction);
    this.#job?.set(transaction.id, { record: transaction, events: [], changed: true });
  }

  override async listSubscriptions(accountId: string): Promise<SubscriptionRecord[]> {
    const subscriptions = await super.listSubscriptions(accountId);
    // For optimistic changes, PostgreSQL's only.
    if (this.options.engine === 'postgres') keepNewest(this.recent.subscriptions, accountId, subscriptions, ACCOUNTS_REMEMBERED);
    return subscriptions;
  }

  override async appendEvents(transactionId: string, events: readonly TransactionEventRecord[]): Promise<void> {
    await super.appendEvents(transactionId, events);
    const seen = this.#job?.get(transactionId);
    if (seen === undefined || events.length === 0) return;
    // Events belong to the version the job wrote; without one, the content is no longer named by a version.
    if (seen.changed) this.#job!.set(transactionId, { ...seen, events: [...seen.events, ...events] });
    else this.#job!.delete(transactionId);
  }
}

/** An optimistic change needs what it cannot have (a read not remembered, another kind of write): it runs locked instead. */
class NotOptimistic extends Error {}

/** Methods an optimistic change may call: the ledger's read, write and outbox steps. */
const OPTIMISTIC_METHODS = new Set([
  'getTransactionWithEvents',
  'updateTransaction',
  'appendEvents',
  'listSubscriptions',
  'listEvents',
  'insertDeliveries',
  'getIdempotency',
  'insertIdempotency',
]);

/**
 * Repositories of an optimistic change (PostgreSQL; see TransactionOptions): the transaction
 * and the account's clock offset and webhook subscriptions come from what the store remembers,
 * without a statement; the change (the row's new columns, its events, its deliveries) is kept
 * and written by OptimisticWrites in one statement that applies only if the row still has the version
 * read, the account the clock offset used and the subscriptions consulted. Nothing is locked and
 * nothing is written before that statement, so a job that cannot finish here is simply run again
 * the usual way. Every other method refuses (NotOptimistic).
 */
class OptimisticRepositories extends KyselyRepositories {
  #read: (Remembered & { readonly clockOffsetMs: number }) | undefined;
  #next: TransactionRecord | undefined;
  readonly #events: TransactionEventRecord[] = [];
  readonly #deliveries: DeliveryRecord[] = [];
  #subscriptions: readonly SubscriptionRecord[] | undefined;
  /** The idempotency key the job found unused (it was not read: the statement checks it), and the answer it stores. */
  #idempotency: { readonly accountId: string; readonly key: string; record?: IdempotencyRecord } | undefined;

  constructor(
    db: Kysely<Database>,
    options: EngineOptions,
    private readonly recent: RecentTransactions,
  ) {
    super(db, options);
  }

  override async getTransactionWithEvents(accountId: string, id: string): Promise<TransactionWithEvents | undefined> {
    const entry = this.recent.peek(id);
    const clockOffsetMs = this.recent.clockOffsets.get(accountId);
    if (this.#read !== undefined || entry === undefined || entry.record.accountId !== accountId || clockOffsetMs === undefined) throw new NotOptimistic();
    this.#read = { ...entry, clockOffsetMs };
    return { record: entry.record, events: entry.events, clockOffsetMs };
  }

  override async updateTransaction(transaction: TransactionRecord, previous: TransactionRecord | number): Promise<boolean> {
    if (this.#read === undefined || this.#next !== undefined || previous !== this.#read.record) throw new NotOptimistic();
    this.#next = transaction;
    return true;
  }

  override async appendEvents(transactionId: string, events: readonly TransactionEventRecord[]): Promise<void> {
    if (this.#next?.id !== transactionId) throw new NotOptimistic();
    this.#events.push(...events);
  }

  override async listSubscriptions(accountId: string): Promise<SubscriptionRecord[]> {
    const subscriptions = this.recent.subscriptions.get(accountId);
    if (this.#read?.record.accountId !== accountId || subscriptions === undefined) throw new NotOptimistic();
    this.#subscriptions = subscriptions;
    return [...subscriptions];
  }

  override async listEvents(transactionIds: readonly string[]): Promise<Map<string, TransactionEventRecord[]>> {
    const id = this.#next?.id;
    if (id === undefined || transactionIds.length !== 1 || transactionIds[0] !== id) throw new NotOptimistic();
    return new Map([[id, [...this.#read!.events, ...this.#events]]]);
  }

  /** No answer stored under the key, as far as the job knows: the statement writes only if that holds. */
  override async getIdempotency(accountId: string, key: string): Promise<IdempotencyRecord | undefined> {
    if (this.#idempotency !== undefined || this.#read !== undefined) throw new NotOptimistic();
    this.#idempotency = { accountId, key };
    return undefined;
  }

  override async insertIdempotency(record: IdempotencyRecord): Promise<void> {
    const idempotency = this.#idempotency;
    if (idempotency === undefined || idempotency.record !== undefined || record.key !== idempotency.key || record.accountId !== idempotency.accountId) throw new NotOptimistic();
    idempotency.record = record;
  }

  override async insertDeliveries(deliveries: readonly DeliveryRecord[]): Promise<void> {
    if (this.#next === undefined || deliveries.some((delivery) => delivery.transactionId !== this.#next!.id)) throw new NotOptimistic();
    this.#deliveries.push(...deliveries);
  }

  /**
   * The change the job made, to be written by OptimisticWrites; undefined when the job changed
   * nothing (or stored no answer for its key) and must run locked.
   */
  change(): OptimisticChange | undefined {
    const read = this.#read;
    const next = this.#next;
    const idempotency = this.#idempotency;
    if (read === undefined || next === undefined) return undefined;
    if (idempotency !== undefined && (idempotency.record === undefined || idempotency.accountId !== next.accountId)) return undefined;
    checkVersionMovesOn(next, read.record.version);
    return {
      read,
      next,
      events: this.#events,
      deliveries: this.#deliveries,
      // Subscriptions are compared only when the job consulted them (null: not compared).
      subscriptions: this.#subscriptions?.map(subscriptionFingerprint) ?? null,
      idempotency: idempotency?.record,
    };
  }
}

/** A change decided optimistically: the transaction as read and as changed, and what the change inserts. */
interface OptimisticChange {
  readonly read: Remembered & { readonly clockOffsetMs: number };
  readonly next: TransactionRecord;
  readonly events: readonly TransactionEventRecord[];
  readonly deliveries: readonly DeliveryRecord[];
  /** The fingerprints of the subscriptions consulted, or null when the job did not consult them. */
  readonly subscriptions: readonly string[] | null;
  readonly idempotency: IdempotencyRecord | undefined;
}

/** A change waiting on another of its transaction runs locked once that one is settled, whatever its outcome. */
const NOT_WRITTEN = () => false;

/** Changes in one statement at most, and statements of optimistic changes under way at once. */
const OPTIMISTIC_BATCH = 64;
const OPTIMISTIC_STATEMENTS = 4;

/**
 * Writes optimistic changes (PostgreSQL): the changes decided while a statement is under way
 * (or within one turn of the event loop) go together in the next one, which updates each row
 * only where all of that change's conditions hold (see optimisticChangesSql) and answers the
 * ids it changed. One statement, one COMMIT and one round trip for many requests, as the
 * SQLite writer's group commit.
 */
class OptimisticWrites {
  readonly #queue: Array<{ readonly change: OptimisticChange; readonly settle: (written: boolean) => void; readonly fail: (error: unknown) => void }> = [];
  /** Transactions with a change queued or being written: whether it was. */
  readonly #busy = new Map<string, Promise<boolean>>();
  #writing = 0;
  #scheduled = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: EngineOptions,
    private readonly stats: { statements: number },
  ) {}

  /**
   * Whether the change was written; false when it must run locked. A change of a transaction
   * that already has one queued or under way was decided on the version that one replaces: it
   * answers false once that one is settled, so the changes keep their order. Throws when the
   * statement's outcome is unknown (the connection failed).
   */
  write(change: OptimisticChange): Promise<boolean> {
    const { id } = change.next;
    const busy = this.#busy.get(id);
    if (busy !== undefined) return busy.then(NOT_WRITTEN, NOT_WRITTEN);
    const written = new Promise<boolean>((settle, fail) => {
      this.#queue.push({ change, settle, fail });
      this.#schedule();
    });
    this.#busy.set(id, written);
    return written;
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing >= OPTIMISTIC_STATEMENTS || this.#queue.length === 0) return;
    this.#scheduled = true;
    // On the next turn: the changes decided in this one go together.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0, OPTIMISTIC_BATCH);
    if (batch.length === 0) return;
    this.#writing += 1;
    this.stats.statements += 1;
    try {
      const written = await this.#run(batch.map((entry) => entry.change));
      for (const entry of batch) entry.settle(written.has(entry.change.next.id));
    } catch (error) {
      // Refused by the server (e.g. a key stored meanwhile): nothing was written, all run locked.
      // A lost connection (ECONNRESET...) is thrown: the statement may have committed, and a
      // locked run would then apply the change a second time.
      const refused = this.options.isRefusal?.(error) === true;
      for (const entry of batch) {
        if (refused) entry.settle(false);
        else entry.fail(error);
      }
    } finally {
      for (const entry of batch) this.#busy.delete(entry.change.next.id);
      this.#writing -= 1;
      this.#schedule();
    }
  }

  async #run(changes: readonly OptimisticChange[]): Promise<Set<string>> {
    const transactions = changes.map((change) => transactionToRow(change.next));
    const query = compiledQuery(this.options, 'optimisticChanges', () => ({ compile: () => CompiledQuery.raw(optimisticChangesSql(transactionSetColumns(transactions[0]!))) }));
    const rows = changes.map((change, index) => ({
      ...transactions[index],
      expected_version: change.read.record.version,
      clock_offset_ms: change.read.clockOffsetMs,
      subscriptions: change.subscriptions,
      ...(change.idempotency === undefined
        ? {}
        : Object.fromEntries(Object.entries(idempotencyToRow(change.idempotency)).map(([column, value]) => [`idempotency_${column}`, value]))),
    }));
    // JSON, one parameter per table: serialised natively here and parsed by the server; text
    // arrays cost more to build (node-postgres escapes each element) and to parse.
    const { rows: written } = await runCompiled<{ id: string }>(this.db, query, [
      JSON.stringify(rows),
      JSON.stringify(changes.flatMap((change) => change.events.map((event) => eventRow(change.next.id, event)))),
      JSON.stringify(changes.flatMap((change) => change.deliveries.map((delivery) => deliveryToRow(delivery)))),
    ]);
    return new Set(written.map((row) => row.id));
  }
}

// Every other method of the repositories refuses.
for (let proto = KyselyRepositories.prototype; proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor' || OPTIMISTIC_METHODS.has(name) || Object.hasOwn(OptimisticRepositories.prototype, name)) continue;
    Object.defineProperty(OptimisticRepositories.prototype, name, { value: () => Promise.reject(new NotOptimistic()), writable: true, configurable: true });
  }
}

/** How an optimistic change compares the subscriptions it consulted with the stored ones. */
function subscriptionFingerprint(subscription: SubscriptionRecord): string {
  return `${subscription.id} ${subscription.url} ${subscription.events.join(' ')}`;
}

/** The delivery columns and their SQL types, as an optimistic change inserts them. */
const DELIVERY_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['id', 'text'], ['account_id', 'text'], ['transaction_id', 'text'], ['kind', 'text'], ['subscription_id', 'text'], ['target', 'text'],
  ['event', 'text'], ['event_seq', 'integer'], ['method', 'text'], ['url', 'text'], ['body', 'text'], ['status', 'text'],
  ['attempt_count', 'integer'], ['max_attempts', 'integer'], ['due_at_ms', 'bigint'], ['locked_until', 'text'], ['claim_token', 'text'],
  ['last_status_code', 'integer'], ['last_error', 'text'], ['delivered_at', 'text'], ['created_at', 'text'],
];

/** SQL types of the transaction columns that are not text. */
const TRANSACTION_COLUMN_TYPES: Readonly<Record<string, string>> = {
  amount: 'bigint', captured_amount: 'bigint', refunded_amount: 'bigint', voided_amount: 'bigint', event_count: 'integer', version: 'integer',
};

/** The columns an optimistic change sets (all but the row's identity and creation), with their SQL types. */
function transactionSetColumns(row: TransactionsTable): ReadonlyArray<readonly [string, string]> {
  return Object.keys(row)
    .filter((column) => column !== 'id' && column !== 'account_id' && column !== 'created_at')
    .map((column) => [column, TRANSACTION_COLUMN_TYPES[column] ?? 'text'] as const);
}

/** The idempotency record's columns after its account, with their SQL types (as idempotencyToRow orders them). */
const IDEMPOTENCY_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['key', 'text'], ['fingerprint', 'text'], ['status_code', 'integer'], ['response_body', 'text'], ['created_at', 'text'],
];

/**
 * The statement of a batch of optimistic changes (PostgreSQL). Its three parameters are JSON
 * arrays: $1 one object per change — the transaction's id, account and every column it sets,
 * the version read (`expected_version`), the account's clock offset as read, the fingerprints
 * of the subscriptions consulted (a JSON array, or null when not consulted) and any
 * idempotency key with its answer — $2 the events and $3 the deliveries, as rows. A row is
 * updated only where all of its change's conditions still hold (under READ COMMITTED a
 * concurrent update of the row is waited for and the condition checked again on the row it
 * left): the version, the clock offset, the subscriptions and an unused key. Events,
 * deliveries and keys are inserted only for the rows updated, and the statement answers their
 * ids. Setting a column to its value again keeps an update HOT on PostgreSQL, so all columns
 * are set and one text serves every batch.
 */
function optimisticChangesSql(columns: ReadonlyArray<readonly [string, string]>): string {
  const definitions = (typed: ReadonlyArray<readonly [string, string]>) => typed.map(([column, type]) => `"${column}" ${type}`).join(', ');
  const names = (typed: ReadonlyArray<readonly [string, string]>) => typed.map(([column]) => column).join(', ');
  const changeColumns: ReadonlyArray<readonly [string, string]> = [
    ['id', 'text'], ['account_id', 'text'], ['expected_version', 'integer'], ['clock_offset_ms', 'bigint'], ['subscriptions', 'jsonb'],
    ...IDEMPOTENCY_COLUMNS.map(([column, type]) => [`idempotency_${column}`, type] as const),
    ...columns,
  ];
  const eventColumns = [['transaction_id', 'text'], ['seq', 'integer'], ['data', 'text'], ['created_at', 'text']] as const;
  return [
    `WITH v AS (SELECT * FROM json_to_recordset($1::json) AS v (${definitions(changeColumns)})),`,
    `u AS (UPDATE transactions t SET ${columns.map(([column]) => `"${column}" = v."${column}"`).join(', ')}`,
    '  FROM v WHERE t.id = v.id AND t.account_id = v.account_id AND t.version = v.expected_version',
    // The other conditions are scalar subqueries on the change (v), not joins: the only way to a row is then its primary
    // key, whatever the statistics said when the plan was cached (joined to accounts, a plan cached on a young table's
    // statistics reached the row through the account's index, reading all of its transactions for every change).
    '  AND (SELECT a.clock_offset_ms FROM accounts a WHERE a.id = v.account_id) = v.clock_offset_ms',
    "  AND (v.subscriptions IS NULL OR v.subscriptions = (SELECT coalesce(jsonb_agg(s.id || ' ' || s.url || ' ' || s.events ORDER BY s.created_at, s.id), '[]'::jsonb) FROM webhook_subscriptions s WHERE s.account_id = v.account_id))",
    // Without a key (null) nothing matches. A scalar subquery, not NOT EXISTS: that one becomes an anti-join (or a hashed
    // subplan), whose plan, cached while the table was small, then scans every stored key per change; this one is one
    // primary-key lookup per change whatever the table's size.
    '  AND (SELECT count(*) FROM idempotency_keys k WHERE k.account_id = v.account_id AND k.key = v.idempotency_key) = 0',
    '  RETURNING t.id),',
    `e AS (INSERT INTO transaction_events (${names(eventColumns)}) SELECT ${names(eventColumns)} FROM json_to_recordset($2::json) AS e (${definitions(eventColumns)}) WHERE e.transaction_id IN (SELECT id FROM u)),`,
    `d AS (INSERT INTO webhook_deliveries (${names(DELIVERY_COLUMNS)}) SELECT ${names(DELIVERY_COLUMNS)} FROM json_to_recordset($3::json) AS d (${definitions(DELIVERY_COLUMNS)}) WHERE d.transaction_id IN (SELECT id FROM u)),`,
    `i AS (INSERT INTO idempotency_keys (account_id, ${names(IDEMPOTENCY_COLUMNS)})`,
    `  SELECT v.account_id, ${IDEMPOTENCY_COLUMNS.map(([column]) => `v.idempotency_${column}`).join(', ')}`,
    '  FROM v WHERE v.idempotency_key IS NOT NULL AND v.id IN (SELECT id FROM u))',
    'SELECT id FROM u',
  ].join('\n');
}

/** Records a store keeps as last listed. */
const LISTED_RECORDS = 5000;

/**
 * Transaction records as last listed by the store's own reads (PostgreSQL's, a SQLite file's
 * reader's: committed data only), by id. A version names one committed content (see
 * RecentTransactions), so a kept record stands for its row while the version is unchanged: a
 * list page reads ids and versions and decodes only the rows it has not kept (the same object
 * comes back, so what the service keeps per record applies too).
 */
class ListedRecords {
  readonly #records = new Map<string, TransactionRecord>();

  get(id: string, version: number): TransactionRecord | undefined {
    const record = this.#records.get(id);
    return record?.version === version ? record : undefined;
  }

  keep(record: TransactionRecord): void {
    keepNewest(this.#records, record.id, record, LISTED_RECORDS);
  }
}

/** Store methods that only read; every other method writes. */
const READ_METHOD = /^(get|list|count|find|is|has)|Stats$/;

export class KyselyStore extends KyselyRepositories implements Store {
  readonly engine: 'sqlite' | 'postgres';
  /** Start-up sections of this process, one after another (the engine's lock covers other processes). */
  private startupQueue: Promise<unknown> = Promise.resolve();
  private readonly committer: GroupCommitter<WriterRepositories> | undefined;
  readonly #recent = new RecentTransactions();
  /** PostgreSQL's only (see TransactionOptions). */
  readonly #optimisticWrites: OptimisticWrites | undefined;
  #lastCommitAt = 0;

  constructor(
    private readonly kysely: Kysely<Database>,
    options: EngineOptions,
    private readonly writer?: GroupCommitWriter,
  ) {
    super(kysely, options);
    this.engine = options.engine;
    this.#optimisticWrites = options.engine === 'postgres' ? new OptimisticWrites(kysely, options, this.optimisticStats) : undefined;
    // The store's own reads see committed data only: on PostgreSQL (each outside a transaction), on a
    // SQLite file (the reader connection). One in-memory SQLite connection also runs the transactions.
    if (writer !== undefined || options.engine === 'postgres') this.listedRecords = new ListedRecords();
    if (writer !== undefined) {
      const onCommit = () => {
        this.#lastCommitAt = performance.now();
        writer.onCommit?.();
      };
      this.committer = new GroupCommitter(writer.executor, new WriterRepositories(writer.kysely, options, this.#recent), 256, onCommit);
      this.routeWritesThroughCommitter();
    }
  }

  /** SQLite on a file and PostgreSQL: answers from the recently committed transactions (see RecentTransactions). */
  override async getTransactionWithEvents(
    accountId: string,
    id: string,
    options: { forUpdate?: boolean } = {},
  ): Promise<TransactionWithEvents | undefined> {
    // On PostgreSQL each read of the store's own is committed data, on a SQLite file the reader's.
    // An in-memory SQLite connection also runs the storage transactions: it reads as it is.
    if (this.writer === undefined && this.engine !== 'postgres') return super.getTransactionWithEvents(accountId, id, options);
    // Entries are confirmed only while this process's writer is quiet: under a stream of
    // commits the data_version moves before the next read and the mark would be wasted work.
    const quiet = performance.now() - this.#lastCommitAt > QUIET_MS;
    return this.#recent.readCommitted(
      this.kysely,
      this.options,
      accountId,
      id,
      // Inline: a named closure costs a name property per call under tsx.
      (known) => this.readWithEvents(accountId, id, options.forUpdate === true, known),
      this.writer?.dataVersion,
      quiet,
    );
  }

  /** Optimistic changes (PostgreSQL): written, or run locked after all; and the statements that wrote them (batches). */
  readonly optimisticStats = { written: 0, ranLocked: 0, statements: 0 };

  /** How many commits carried how many storage transactions (group commit only). */
  get groupCommitStats(): GroupCommitStats | undefined {
    return this.committer?.stats;
  }

  /**
   * With a separate writer, a write called on the store itself (outside `transaction`) must
   * not run on the read connection: it becomes a one-statement transaction on the writer.
   */
  private routeWritesThroughCommitter(): void {
    const self = this as unknown as Record<string, unknown>;
    for (let proto = Object.getPrototypeOf(this); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      if (proto === KyselyStore.prototype) continue;
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor' || READ_METHOD.test(name) || typeof self[name] !== 'function' || Object.hasOwn(self, name)) continue;
        self[name] = (...args: unknown[]) => this.transaction((tx) => (tx as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args));
      }
    }
  }

  async transaction<T>(fn: (tx: Repositories) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (options.optimistic === true && this.#optimisticWrites !== undefined) {
      const done = await this.#optimistically(fn, this.#optimisticWrites);
      if (done !== undefined) return done.value;
    }
    if (this.committer !== undefined) {
      // Settles only after the batch's COMMIT: what the job saw is committed content now.
      const { value, seen } = await this.committer.run((repos) => repos.runJob(fn));
      for (const entry of seen) this.#recent.remember(entry);
      return value;
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        if (this.engine !== 'postgres') return await this.kysely.transaction().execute((trx) => fn(new KyselyRepositories(trx, this.options)));
        // PostgreSQL: reads for a change answer from the recently committed transactions once the
        // row is locked at the remembered version; what the transaction saw is remembered after its COMMIT.
        const { value, seen } = await this.kysely.transaction().execute((trx) => new WriterRepositories(trx, this.options, this.#recent).runJob(fn));
        for (const entry of seen) this.#recent.remember(entry);
        return value;
      } catch (error) {
        const versionConflict = (error as { retryable?: unknown } | null)?.retryable === true;
        if (attempt >= 5 || !(versionConflict || this.options.isRetryable(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      }
    }
  }

  /**
   * An optimistic change (see OptimisticRepositories); undefined when it must run locked. A job
   * that throws is run locked too: what it refused may have been the remembered content.
   */
  async #optimistically<T>(fn: (tx: Repositories) => Promise<T>, writes: OptimisticWrites): Promise<{ value: T } | undefined> {
    const repos = new OptimisticRepositories(this.kysely, this.options, this.#recent);
    let value: T;
    try {
      value = await fn(repos);
    } catch {
      this.optimisticStats.ranLocked += 1;
      return undefined;
    }
    const change = repos.change();
    if (change === undefined || !(await writes.write(change))) {
      this.optimisticStats.ranLocked += 1;
      return undefined;
    }
    this.#recent.remember({ record: change.next, events: [...change.read.events, ...change.events] });
    this.optimisticStats.written += 1;
    return { value };
  }

  withStartupLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.startupSection(() => fn());
  }

  private startupSection<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const locked = this.options.withStartupLock;
    const run = () => (locked ? locked(fn) : fn(this.writer?.kysely ?? this.kysely));
    const result = this.startupQueue.then(run, run);
    this.startupQueue = result.catch(() => undefined);
    return result;
  }

  async migrate(): Promise<void> {
    await this.startupSection(async (db) => {
      const migrationTableSchema = await this.options.migrationTableSchema?.(db);
      const migrator = new Migrator({ db, provider: migrationProvider, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
      const { error } = await migrator.migrateToLatest();
      if (error) throw error;
    });
  }

  async close(): Promise<void> {
    await this.kysely.destroy();
    await this.writer?.kysely.destroy();
    await this.options.onClose?.();
  }
}
