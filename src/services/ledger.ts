/**
 * The ledger: the one place a transaction's changes are written. The row is inserted or
 * updated with a version check and its events appended in the caller's storage
 * transaction, so the money, the events (and whatever is derived from events, such as
 * outgoing notifications) commit together or not at all.
 */
import { statusOf, type EventDraft, type TransactionState } from '../domain/transaction.js';
import { accountNow } from '../clock.js';
import type { Repositories, TransactionEventRecord, TransactionRecord } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { enqueueNotifications } from '../webhooks/outbox.js';

/** Thrown inside a storage transaction when the row changed under us; the store retries. */
export class VersionConflict extends Error {
  readonly retryable = true;
}

/** How long a read outside a storage transaction may use a remembered test-clock offset. */
const CLOCK_OFFSET_TTL_MS = 1000;
const clockOffsets = new WeakMap<ServiceContext, Map<string, { offsetMs: number; untilMs: number }>>();

/**
 * The account's business time (real time plus its sandbox test-clock offset). Inside a
 * storage transaction the offset is read with the change; plain reads may use one read
 * within the last second (a clock moved by this process is forgotten at once).
 */
export async function businessNow(ctx: ServiceContext, repos: Repositories, accountId: string): Promise<string> {
  const nowMs = ctx.clock.now().getTime();
  const cache = clockOffsets.get(ctx) ?? new Map<string, { offsetMs: number; untilMs: number }>();
  clockOffsets.set(ctx, cache);
  const remembered = repos === ctx.store ? cache.get(accountId) : undefined;
  if (remembered !== undefined && remembered.untilMs > nowMs) return accountNow(ctx.clock, remembered.offsetMs);
  const account = await repos.getAccount(accountId);
  const offsetMs = account?.clockOffsetMs ?? 0;
  if (cache.size > 10_000) cache.clear();
  cache.set(accountId, { offsetMs, untilMs: nowMs + CLOCK_OFFSET_TTL_MS });
  return accountNow(ctx.clock, offsetMs);
}

/** After this process moves an account's clock, plain reads must not use the old offset. */
export function forgetClockOffset(ctx: ServiceContext, accountId: string): void {
  clockOffsets.get(ctx)?.delete(accountId);
}

/** Turns domain event drafts into stored events with ids, author, time and request headers. */
export function eventRecords(
  drafts: readonly EventDraft[],
  firstSeq: number,
  now: string,
  meta: { requestId: string; actor?: string; systemHeaders?: Readonly<Record<string, string>> },
): TransactionEventRecord[] {
  return drafts.map((draft, index) => ({
    id: String(firstSeq + index),
    ...draft,
    request_id: index === 0 ? meta.requestId : crypto.randomUUID(),
    created_at: now,
    ...(meta.actor ? { created_by: meta.actor } : {}),
    ...(meta.systemHeaders && Object.keys(meta.systemHeaders).length > 0 ? { request_headers: meta.systemHeaders } : {}),
  }));
}

/** Applies a decision to a record: new state, status, version, event count. */
export function applyDecision(record: TransactionRecord, state: TransactionState, eventCount: number, now: string): TransactionRecord {
  return { ...record, state, status: statusOf(state), eventCount: record.eventCount + eventCount, version: record.version + 1, updatedAt: now };
}

/**
 * Writes a change: `before` is the row as read (locked) in this storage transaction, or
 * null for a new transaction. A lost race surfaces as VersionConflict, which the store retries.
 */
export async function recordChange(
  tx: Repositories,
  before: TransactionRecord | null,
  next: TransactionRecord,
  events: readonly TransactionEventRecord[],
): Promise<void> {
  if (before === null) await tx.insertTransaction(next);
  else if (!(await tx.updateTransaction(next, before))) throw new VersionConflict('transaction changed concurrently');
  await tx.appendEvents(next.id, events);
  await enqueueNotifications(tx, before, next, events);
}
