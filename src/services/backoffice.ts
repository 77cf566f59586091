/**
 * What the backoffice reads beyond the API's services: a transaction with the actions its
 * state and product allow, and the dashboard's per-day figures. Operations themselves go
 * through transactions.ts like any API call.
 */
import { KasseError } from '../domain/errors.js';
import { allowedActions, type AllowedActions } from '../domain/allowed-actions.js';
import { type Amount, addAmounts } from '../domain/money.js';
import type { TransactionRecord } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { businessNow } from './ledger.js';
import { etagOf, transactionView, type TransactionView } from './transaction-view.js';
import { listDeliveries, type DeliveryView } from './webhooks.js';

export interface TransactionDetail {
  readonly record: TransactionRecord;
  readonly view: TransactionView;
  readonly actions: AllowedActions;
  readonly etag: string;
  readonly now: string;
  /** Callbacks and webhooks sent for the transaction, newest first. */
  readonly deliveries?: readonly DeliveryView[];
}

export async function transactionDetail(ctx: ServiceContext, accountId: string, id: string): Promise<TransactionDetail> {
  const record = await ctx.store.getTransaction(accountId, id);
  if (record === undefined) throw new KasseError('TRANSACTION_NOT_FOUND');
  const events = (await ctx.store.listEvents([id])).get(id) ?? [];
  const now = await businessNow(ctx, ctx.store, accountId);
  const deliveries = await listDeliveries(ctx, accountId, { accountId, limit: 50, transactionId: id });
  return { record, view: transactionView(record, events, now), actions: allowedActions(record.state, now), etag: etagOf(record), now, deliveries };
}

export interface DaySeries {
  readonly day: string;
  readonly count: number;
  /** Authorized and captured volume per currency created that day. */
  readonly volume: ReadonlyMap<string, { readonly amount: Amount; readonly captured: Amount }>;
}

export interface DashboardStats {
  readonly from: string;
  readonly to: string;
  readonly days: readonly DaySeries[];
  /** Count per status over the whole range, largest first. */
  readonly statuses: ReadonlyArray<{ readonly status: string; readonly count: number }>;
  /** Totals per currency over the range, most transactions first. */
  readonly currencies: ReadonlyArray<{ readonly currency: string; readonly count: number; readonly amount: Amount; readonly captured: Amount; readonly refunded: Amount }>;
  readonly count: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The last `days` UTC days up to and including today (the account's business clock). */
export async function dashboardStats(ctx: ServiceContext, accountId: string, days: number): Promise<DashboardStats> {
  const now = await businessNow(ctx, ctx.store, accountId);
  const today = Date.parse(`${now.slice(0, 10)}T00:00:00.000Z`);
  const from = new Date(today - (days - 1) * DAY_MS).toISOString();
  const to = new Date(today + DAY_MS).toISOString();
  const rows = await ctx.store.transactionDailyStats(accountId, from, to);

  const byDay = new Map<string, { count: number; volume: Map<string, { amount: Amount; captured: Amount }> }>();
  for (let index = 0; index < days; index += 1) {
    byDay.set(new Date(today - (days - 1 - index) * DAY_MS).toISOString().slice(0, 10), { count: 0, volume: new Map() });
  }
  const statuses = new Map<string, number>();
  const currencies = new Map<string, { currency: string; count: number; amount: Amount; captured: Amount; refunded: Amount }>();
  let count = 0;
  for (const row of rows) {
    count += row.count;
    statuses.set(row.status, (statuses.get(row.status) ?? 0) + row.count);
    const totals = currencies.get(row.currency) ?? { currency: row.currency, count: 0, amount: 0, captured: 0, refunded: 0 };
    currencies.set(row.currency, {
      currency: row.currency,
      count: totals.count + row.count,
      amount: addAmounts(totals.amount, row.amount),
      captured: addAmounts(totals.captured, row.capturedAmount),
      refunded: addAmounts(totals.refunded, row.refundedAmount),
    });
    const day = byDay.get(row.day);
    if (day === undefined) continue;
    day.count += row.count;
    const volume = day.volume.get(row.currency) ?? { amount: 0, captured: 0 };
    day.volume.set(row.currency, { amount: addAmounts(volume.amount, row.amount), captured: addAmounts(volume.captured, row.capturedAmount) });
  }
  return {
    from,
    to,
    days: [...byDay].map(([day, value]) => ({ day, count: value.count, volume: value.volume })),
    statuses: [...statuses].map(([status, n]) => ({ status, count: n })).sort((a, b) => b.count - a.count || a.status.localeCompare(b.status)),
    currencies: [...currencies.values()].sort((a, b) => b.count - a.count || a.currency.localeCompare(b.currency)),
    count,
  };
}

/**
 * Whether an operation with this idempotency key already happened in the account, and the
 * last event of the transaction it answered with: a confirmation form sent twice is shown
 * its first outcome instead of being reviewed again against the changed transaction.
 */
export async function completedOperation(ctx: ServiceContext, accountId: string, key: string): Promise<{ eventId: string } | undefined> {
  const stored = await ctx.store.getIdempotency(accountId, key);
  if (stored === undefined || stored.statusCode >= 300) return undefined;
  const body = JSON.parse(stored.responseBody) as { events?: Array<{ id?: unknown }> };
  const last = body.events?.[body.events.length - 1];
  return typeof last?.id === 'string' ? { eventId: last.id } : undefined;
}
