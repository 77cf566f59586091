/**
 * The storage interface. Services depend on this and nothing else; SQLite and
 * PostgreSQL implement it and pass the same test suite.
 *
 * Rules every implementation keeps:
 * - `transaction(fn)` runs fn atomically: all of its writes commit together or none do.
 * - `getTransaction(..., { forUpdate: true })` inside a transaction serialises concurrent
 *   writers of that transaction (a row lock, or the single SQLite writer).
 * - `updateTransaction` checks the expected version and reports a lost race as false.
 * - Records returned are plain objects, never rows.
 */
import type { TransactionState } from '../domain/transaction.js';
import type { TransactionStatus } from '../domain/status.js';
import type { WebhookRepositories } from './webhook-store.js';

export interface AccountRecord {
  readonly id: string;
  readonly name: string;
  /** Test clock offset for sandbox accounts (milliseconds ahead of real time). */
  readonly clockOffsetMs: number;
  readonly createdAt: string;
}

export interface ClientRecord {
  readonly id: string;
  readonly accountId: string;
  readonly name: string;
  readonly secretHash: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
}

export interface UserRecord {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly accountIds: readonly string[];
  readonly createdAt: string;
}

export interface SigningKeyRecord {
  readonly kid: string;
  readonly alg: string;
  readonly privateJwk: string;
  readonly publicJwk: string;
  readonly createdAt: string;
}

export type SessionStatus = 'ACTIVE' | 'PAID' | 'CANCELLED';

export interface SessionRecord {
  readonly id: string;
  readonly accountId: string;
  readonly status: SessionStatus;
  readonly transactionId: string | null;
  readonly merchantReference: string;
  /** The session as created (Dintero's shape), plus its events. */
  readonly data: SessionData;
  readonly expiresAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

export interface SessionData {
  readonly url: Record<string, unknown>;
  readonly order: Record<string, unknown>;
  readonly customer?: Record<string, unknown>;
  readonly configuration: Record<string, unknown>;
  readonly profile_id?: string;
  readonly metadata?: Record<string, unknown>;
  readonly events: readonly SessionEvent[];
}

export interface SessionEvent {
  readonly id: string;
  readonly name: string;
  readonly created_at: string;
  readonly details?: Record<string, unknown>;
}

/** Transaction facts that are not money: copied from the session at payment. */
export interface TransactionDetails {
  readonly customer?: Record<string, unknown>;
  readonly shipping_address?: Record<string, unknown>;
  readonly billing_address?: Record<string, unknown>;
  readonly shipping_option?: Record<string, unknown>;
  readonly card?: Record<string, unknown>;
  readonly url: { readonly callback_url?: string; readonly redirect_url?: string };
  readonly metadata?: Record<string, unknown>;
  readonly initiating_system_request_headers?: Record<string, string>;
  /** Sandbox settings chosen at payment (provider answers for later operations). */
  readonly sandbox?: Record<string, unknown>;
}

export interface TransactionRecord {
  readonly id: string;
  readonly accountId: string;
  readonly sessionId: string;
  readonly currency: string;
  readonly merchantReference: string;
  readonly merchantReference2: string | null;
  readonly customerEmail: string | null;
  readonly customerPhone: string | null;
  readonly status: TransactionStatus;
  readonly state: TransactionState;
  readonly details: TransactionDetails;
  /** Events appended so far; the next event's id is eventCount + 1. */
  readonly eventCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

/** A stored event, in Dintero's TransactionEvent shape. Append-only. */
export interface TransactionEventRecord {
  readonly id: string;
  readonly event: string;
  readonly success: boolean;
  readonly transaction_status: string;
  readonly created_at: string;
  readonly [field: string]: unknown;
}

/** A transaction as an operation reads it: the row, its events so far, its account's test-clock offset. */
export interface TransactionWithEvents {
  readonly record: TransactionRecord;
  readonly events: TransactionEventRecord[];
  readonly clockOffsetMs: number;
}

export interface IdempotencyRecord {
  readonly accountId: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly statusCode: number;
  readonly responseBody: string;
  readonly createdAt: string;
}

export interface TransactionFilter {
  readonly accountId: string;
  readonly limit: number;
  readonly startingAfter?: { readonly createdAt: string; readonly id: string };
  readonly status?: readonly string[];
  readonly paymentProduct?: readonly string[];
  readonly paymentProductType?: readonly string[];
  readonly currency?: readonly string[];
  readonly merchantReference?: string;
  readonly merchantReference2?: string;
  readonly sessionId?: string;
  readonly amount?: number;
  readonly amountGte?: number;
  readonly amountLte?: number;
  readonly createdAtGte?: string;
  readonly createdAtLte?: string;
  readonly search?: string;
}

export interface SessionFilter {
  readonly accountId: string;
  readonly limit: number;
  readonly startingAfter?: { readonly createdAt: string; readonly id: string };
  readonly merchantReference?: string;
}

/** A signed-in backoffice user; `id` is the SHA-256 of the cookie's token, never the token. */
export interface BackofficeSessionRecord {
  readonly id: string;
  readonly userId: string;
  /** The account the user is looking at (one of the user's accounts). */
  readonly accountId: string;
  /** Synchronizer token every backoffice form must send back. */
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** Transactions created on one UTC day, in one currency and status (the dashboard's figures). */
export interface DailyTransactionStats {
  /** YYYY-MM-DD (UTC). */
  readonly day: string;
  readonly currency: string;
  readonly status: string;
  readonly count: number;
  readonly amount: number;
  readonly capturedAmount: number;
  readonly refundedAmount: number;
}

/** Everything a service may read or write; the same methods inside and outside a transaction. */
export interface Repositories extends WebhookRepositories {
  getAccount(id: string): Promise<AccountRecord | undefined>;
  listAccounts(): Promise<AccountRecord[]>;
  insertAccount(account: AccountRecord): Promise<void>;
  setClockOffset(accountId: string, clockOffsetMs: number): Promise<void>;

  getClient(id: string): Promise<ClientRecord | undefined>;
  insertClient(client: ClientRecord): Promise<void>;

  getUserByEmail(email: string): Promise<UserRecord | undefined>;
  insertUser(user: UserRecord): Promise<void>;

  listSigningKeys(): Promise<SigningKeyRecord[]>;
  insertSigningKey(key: SigningKeyRecord): Promise<void>;

  getSession(accountId: string, id: string, options?: { forUpdate?: boolean }): Promise<SessionRecord | undefined>;
  insertSession(session: SessionRecord): Promise<void>;
  updateSession(session: SessionRecord, expectedVersion: number): Promise<boolean>;
  listSessions(filter: SessionFilter): Promise<SessionRecord[]>;

  getTransaction(accountId: string, id: string, options?: { forUpdate?: boolean }): Promise<TransactionRecord | undefined>;
  /** The row with its events and its account's test-clock offset, in as few statements as the engine allows. */
  getTransactionWithEvents(accountId: string, id: string, options?: { forUpdate?: boolean }): Promise<TransactionWithEvents | undefined>;
  insertTransaction(transaction: TransactionRecord): Promise<void>;
  /**
   * Writes the row if its version is still `previous`'s (or the number given); false when it moved on.
   * Given the row as read, only the columns that differ from it are written.
   */
  updateTransaction(transaction: TransactionRecord, previous: TransactionRecord | number): Promise<boolean>;
  listTransactions(filter: TransactionFilter): Promise<TransactionRecord[]>;
  /** Transactions with an asynchronous provider operation due at or before `now` (wall clock), earliest first. */
  listDuePending(now: string, limit: number): Promise<Array<{ accountId: string; id: string }>>;
  appendEvents(transactionId: string, events: readonly TransactionEventRecord[]): Promise<void>;
  listEvents(transactionIds: readonly string[]): Promise<Map<string, TransactionEventRecord[]>>;
  /** The same events as stored: each one's JSON text (what JSON.stringify made of it), for answers that embed them unparsed. */
  listEventJson(transactionIds: readonly string[]): Promise<Map<string, string[]>>;

  getIdempotency(accountId: string, key: string): Promise<IdempotencyRecord | undefined>;
  insertIdempotency(record: IdempotencyRecord): Promise<void>;

  /** The unexpired session with its user, or undefined. */
  getBackofficeSession(id: string, now: string): Promise<{ session: BackofficeSessionRecord; user: UserRecord } | undefined>;
  insertBackofficeSession(session: BackofficeSessionRecord): Promise<void>;
  setBackofficeSessionAccount(id: string, accountId: string): Promise<void>;
  deleteBackofficeSession(id: string): Promise<void>;
  deleteExpiredBackofficeSessions(now: string): Promise<void>;
  insertLoginFailure(throttleKey: string, failedAt: string): Promise<void>;
  /** Failure times for the key at or after `since`, oldest first. */
  listLoginFailures(throttleKey: string, since: string): Promise<string[]>;
  /** Forgets the key's failures; with `before`, only those older than it. */
  deleteLoginFailures(throttleKey: string, before?: string): Promise<void>;
  /** Counts and sums per UTC day, currency and status of transactions created in [from, to). */
  transactionDailyStats(accountId: string, from: string, to: string): Promise<DailyTransactionStats[]>;
}

/**
 * Raised by `insertIdempotency` when the account already has a record for the key: another
 * writer (possibly another process) stored its answer first. Inside `transaction()` the
 * attempt is lost; the caller reads the stored answer once it has rolled back.
 */
export class IdempotencyKeyTaken extends Error {
  constructor(
    readonly accountId: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`Idempotency key already stored for account ${accountId}`, options);
    this.name = 'IdempotencyKeyTaken';
  }
}

/** How a storage transaction may be run. */
export interface TransactionOptions {
  /**
   * The job reads one transaction (`getTransactionWithEvents`) and writes one change to it
   * through the ledger (and may first look up an idempotency key, then store its answer). An
   * engine may then first run it on the content it remembers, without locks, and write the
   * change in one statement (with others decided meanwhile) guarded by what it read; when the
   * guard finds anything changed, or the job needs more, it runs the job again the usual way.
   */
  readonly optimistic?: boolean;
}

export interface Store extends Repositories {
  readonly engine: 'sqlite' | 'postgres';
  /** Runs fn in one database transaction; retries it when the engine reports a serialization failure. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs fn (start-up work: migrations, bootstrap) while no other start-up section runs on
   * the same database, in this process or, where the engine is shared, in another. Not
   * reentrant: fn must not call it again.
   */
  withStartupLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Brings the schema up to date, under the start-up lock. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
