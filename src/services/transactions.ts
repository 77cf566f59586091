/**
 * Transaction operations. Each one opens a single storage transaction:
 * read (locked) → decide (pure domain) → append events and update the row with a
 * version check → store the idempotency answer → commit. The operations let the store try
 * them optimistically first (TransactionOptions: PostgreSQL decides on the content it
 * remembers and writes only if nothing changed meanwhile and the idempotency key is unused,
 * else runs them locked).
 */
import {
  type Decision,
  type TransactionState,
  type Effect,
  planCapture,
  planRefund,
  planVoid,
  settle,
  completePending,
  updateAuthorization as decideUpdateAuthorization,
  type CaptureRequest,
  type RefundRequest,
  type UpdateAuthorizationRequest,
  authorizationExpiresAt,
} from '../domain/transaction.js';
import { KasseError } from '../domain/errors.js';
import { asyncDelayMs, providerAnswer } from '../sandbox/acquirer.js';
import type { Repositories, TransactionEventRecord, TransactionFilter, TransactionRecord } from '../store/store.js';
import type { OperationRequest, ServiceContext } from './context.js';
import { idempotentMutation, type MutationResult } from './idempotency.js';
import { applyDecision, businessNow, eventRecords, recordChange, VersionConflict } from './ledger.js';
import { etagOf, transactionJson, transactionView, type TransactionView } from './transaction-view.js';
import { accountNow } from '../clock.js';

function checkIfMatch(record: TransactionRecord, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const accepted = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (!accepted.includes('*') && !accepted.includes(etagOf(record))) throw new KasseError('PRECONDITION_FAILED');
}

/** The transaction a change starts from: read locked with its events, If-Match checked, and the account's business time. */
async function readForChange(ctx: ServiceContext, tx: Repositories, accountId: string, id: string, ifMatch: string | undefined) {
  const found = await tx.getTransactionWithEvents(accountId, id, { forUpdate: true });
  if (found === undefined) throw new KasseError('TRANSACTION_NOT_FOUND');
  checkIfMatch(found.record, ifMatch);
  return { found, record: found.record, now: accountNow(ctx.clock, found.clockOffsetMs) };
}

interface Outcome {
  readonly decision: Decision;
  readonly statusCode?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * One operation on one transaction: read it locked, check If-Match, let `decide` ask the
 * domain, write the change through the ledger, answer with the whole transaction.
 */
export async function operate(
  ctx: ServiceContext,
  transactionId: string,
  request: OperationRequest,
  decide: (record: TransactionRecord, now: string) => Outcome,
): Promise<MutationResult<TransactionView>> {
  const { accountId } = request.principal;
  return idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const { found, record, now } = await readForChange(ctx, tx, accountId, transactionId, request.ifMatch);
    const { decision, statusCode = 200, headers = {} } = decide(record, now);
    const events = eventRecords(decision.events, record.eventCount + 1, now, {
      requestId: request.requestId,
      actor: request.principal.actor,
      systemHeaders: request.systemHeaders,
    });
    const next = applyDecision(record, decision.state, events.length, now);
    await recordChange(tx, record, next, events);
    // The events read under the row's lock plus the ones just appended: what a re-read would return.
    return { statusCode, body: transactionView(next, [...found.events, ...events], now), headers: { ...headers, etag: etagOf(next) } };
  }, OPTIMISTIC);
}

/** One transaction read and changed through the ledger: the store may try it optimistically (TransactionOptions). */
const OPTIMISTIC = { optimistic: true } as const;

/**
 * Capture, refund and void go through the transaction's provider: the domain plans the
 * effect, then the provider's answer settles it now (200), refuses it (200 with a failed
 * event) or takes it in flight (202 with `event-request-id`, completed by the provider worker).
 */
function operateWithProvider(
  ctx: ServiceContext,
  transactionId: string,
  request: OperationRequest,
  plan: (state: TransactionState, now: string) => Effect,
): Promise<MutationResult<TransactionView>> {
  return operate(ctx, transactionId, request, (record, now) => {
    const effect = plan(record.state, now);
    const answer = providerAnswer(record.details.sandbox, effect.kind);
    if (answer !== 'async') return { decision: settle(record.state, effect, answer, now) };
    const dueAt = new Date(ctx.clock.now().getTime() + asyncDelayMs(record.details.sandbox)).toISOString();
    const inFlight = { requestId: request.requestId, dueAt, actor: request.principal.actor };
    return {
      decision: settle(record.state, effect, answer, now, inFlight),
      statusCode: 202,
      headers: { 'event-request-id': request.requestId },
    };
  });
}

export function capture(ctx: ServiceContext, id: string, body: CaptureRequest, request: OperationRequest) {
  return operateWithProvider(ctx, id, request, (state, now) => planCapture(state, body, now));
}

export function refund(ctx: ServiceContext, id: string, body: RefundRequest, request: OperationRequest) {
  return operateWithProvider(ctx, id, request, (state) => planRefund(state, body));
}

export function voidTransaction(ctx: ServiceContext, id: string, request: OperationRequest) {
  return operateWithProvider(ctx, id, request, (state) => planVoid(state));
}

/** The provider completes what is due on one transaction (called by the provider worker). */
export async function completeDueOperations(ctx: ServiceContext, accountId: string, transactionId: string): Promise<number> {
  return ctx.store.transaction(async (tx) => {
    const record = await tx.getTransaction(accountId, transactionId, { forUpdate: true });
    const wallNow = ctx.clock.now().toISOString();
    const due = (record?.state.pending ?? []).filter((operation) => operation.dueAt <= wallNow);
    if (record === undefined || due.length === 0) return 0;
    const now = await businessNow(ctx, tx, accountId);
    let state = record.state;
    const events: TransactionEventRecord[] = [];
    for (const operation of due) {
      const decision = completePending(state, operation.requestId, now);
      state = decision.state;
      events.push(
        ...eventRecords(decision.events, record.eventCount + events.length + 1, now, {
          requestId: ctx.newRequestId(),
          ...(operation.actor ? { actor: operation.actor } : {}),
        }),
      );
    }
    const next = applyDecision(record, state, events.length, now);
    await recordChange(tx, record, next, events);
    return events.length;
  });
}

export function updateAuthorization(ctx: ServiceContext, id: string, body: UpdateAuthorizationRequest, request: OperationRequest) {
  return operate(ctx, id, request, (record, now) => ({ decision: decideUpdateAuthorization(record.state, body, now) }));
}

/** PUT: only merchant_reference_2 may change; no event, a new version. */
export async function updateTransaction(
  ctx: ServiceContext,
  id: string,
  body: { merchant_reference_2: string },
  request: OperationRequest,
): Promise<MutationResult<TransactionView>> {
  const { accountId } = request.principal;
  return idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const { found, record, now } = await readForChange(ctx, tx, accountId, id, request.ifMatch);
    const next: TransactionRecord = { ...record, merchantReference2: body.merchant_reference_2, version: record.version + 1, updatedAt: now };
    if (!(await tx.updateTransaction(next, record))) throw new VersionConflict('transaction changed concurrently');
    return { statusCode: 200, body: transactionView(next, found.events, now), headers: { etag: etagOf(next) } };
  });
}

/**
 * A transaction's answer as JSON (UTF-8 bytes), kept per stored record: the store hands out
 * the same record object while the transaction is unchanged (its recently read and listed
 * transactions, on both engines), and the answer then differs only by the
 * authorization's expiry as of now, which is compared. Kept as bytes: the answers of a list
 * page are joined with one copy, not encoded anew for every request.
 */
const answers = new WeakMap<TransactionRecord, { readonly expiresAt: string | null; readonly bytes: Buffer }>();

/** The kept answer of `record` with the expiry as of now, or undefined. */
function keptAnswer(record: TransactionRecord, expiresAt: string | null): Buffer | undefined {
  const answer = answers.get(record);
  return answer?.expiresAt === expiresAt ? answer.bytes : undefined;
}

function keepAnswer(record: TransactionRecord, expiresAt: string | null, json: string): Buffer {
  const bytes = Buffer.from(json);
  answers.set(record, { expiresAt, bytes });
  return bytes;
}

/** A transaction's answer as JSON bytes, with the ETag of its version. */
export async function getTransaction(ctx: ServiceContext, accountId: string, id: string): Promise<{ body: Buffer; etag: string }> {
  const found = await ctx.store.getTransactionWithEvents(accountId, id);
  if (found === undefined) throw new KasseError('TRANSACTION_NOT_FOUND');
  const { record } = found;
  const now = accountNow(ctx.clock, found.clockOffsetMs);
  const expiresAt = authorizationExpiresAt(record.state, now);
  const body = keptAnswer(record, expiresAt) ?? keepAnswer(record, expiresAt, JSON.stringify(transactionView(record, found.events, now)));
  return { body, etag: etagOf(record) };
}

type ListFilter = Omit<TransactionFilter, 'startingAfter'> & { startingAfterId?: string };

/** A page of the account's transactions, newest first, and the account's business time. */
async function listPage(ctx: ServiceContext, filter: ListFilter): Promise<{ records: TransactionRecord[]; now: string }> {
  const { startingAfterId, ...rest } = filter;
  let startingAfter: TransactionFilter['startingAfter'];
  if (startingAfterId !== undefined) {
    const cursor = await ctx.store.getTransaction(filter.accountId, startingAfterId);
    if (cursor === undefined) throw new KasseError('INVALID_REQUEST', 'starting_after names no transaction of this account.');
    startingAfter = { createdAt: cursor.createdAt, id: cursor.id };
  }
  const records = await ctx.store.listTransactions({ ...rest, startingAfter });
  return { records, now: await businessNow(ctx, ctx.store, filter.accountId) };
}

export async function listTransactions(ctx: ServiceContext, filter: ListFilter): Promise<TransactionView[]> {
  const { records, now } = await listPage(ctx, filter);
  const events = await ctx.store.listEvents(records.map((record) => record.id));
  return records.map((record) => transactionView(record, events.get(record.id) ?? [], now));
}

const OPEN: Buffer = Buffer.from('[');
const COMMA: Buffer = Buffer.from(',');
const CLOSE: Buffer = Buffer.from(']');

/** The API's list answer as JSON bytes: answers kept per record where current, the others with their events embedded as stored (see transactionJson). */
export async function listTransactionsJson(ctx: ServiceContext, filter: ListFilter): Promise<Buffer> {
  const { records, now } = await listPage(ctx, filter);
  const expiries = records.map((record) => authorizationExpiresAt(record.state, now));
  const kept = records.map((record, index) => keptAnswer(record, expiries[index]!));
  const missing = records.filter((_, index) => kept[index] === undefined).map((record) => record.id);
  const events = missing.length > 0 ? await ctx.store.listEventJson(missing) : new Map<string, string[]>();
  const parts: Buffer[] = [OPEN];
  records.forEach((record, index) => {
    if (index > 0) parts.push(COMMA);
    parts.push(kept[index] ?? keepAnswer(record, expiries[index]!, transactionJson(record, events.get(record.id) ?? [], now)));
  });
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
