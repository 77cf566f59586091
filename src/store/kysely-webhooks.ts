/**
 * The Kysely queries of callbacks and webhooks, shared by the SQLite and PostgreSQL
 * engines. Written engine-neutral: claims are conditional UPDATEs (compare-and-set on
 * status, lease and token) rather than `FOR UPDATE SKIP LOCKED`, which SQLite lacks; on
 * PostgreSQL an UPDATE re-checks its WHERE after waiting for a concurrent writer of the
 * row, so of two processes claiming one delivery exactly one succeeds.
 */
import { compiledQuery, runCompiled } from './compiled-queries.js';
import { type Kysely, type Selectable, type Transaction, sql } from 'kysely';
import type { Database } from './schema.js';
import type { WebhookDeliveriesTable } from './webhook-schema.js';
import type { EngineOptions } from './kysely-store.js';
import type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryAttemptRecord,
  DeliveryFilter,
  DeliveryKind,
  DeliveryRecord,
  DeliveryResult,
  DeliveryStatus,
  SignatureSecretRecord,
  SubscriptionRecord,
  WebhookEventName,
  WebhookRepositories,
} from './webhook-store.js';

function toInt(value: number | string | bigint): number {
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(number)) throw new Error(`Stored integer out of range: ${String(value)}`);
  return number;
}

function deliveryFromRow(row: Selectable<WebhookDeliveriesTable>): DeliveryRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    transactionId: row.transaction_id,
    kind: row.kind as DeliveryKind,
    subscriptionId: row.subscription_id,
    target: row.target,
    event: row.event,
    eventSeq: toInt(row.event_seq),
    method: row.method === 'POST' ? 'POST' : 'GET',
    url: row.url,
    body: row.body,
    status: row.status as DeliveryStatus,
    attemptCount: toInt(row.attempt_count),
    maxAttempts: toInt(row.max_attempts),
    dueAtMs: toInt(row.due_at_ms),
    lastStatusCode: row.last_status_code === null ? null : toInt(row.last_status_code),
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

export function deliveryToRow(record: DeliveryRecord): WebhookDeliveriesTable {
  return {
    id: record.id,
    account_id: record.accountId,
    transaction_id: record.transactionId,
    kind: record.kind,
    subscription_id: record.subscriptionId,
    target: record.target,
    event: record.event,
    event_seq: record.eventSeq,
    method: record.method,
    url: record.url,
    body: record.body,
    status: record.status,
    attempt_count: record.attemptCount,
    max_attempts: record.maxAttempts,
    due_at_ms: record.dueAtMs,
    locked_until: null,
    claim_token: null,
    last_status_code: record.lastStatusCode,
    last_error: record.lastError,
    delivered_at: record.deliveredAt,
    created_at: record.createdAt,
  };
}

function subscriptionFromRow(row: Selectable<Database['webhook_subscriptions']>): SubscriptionRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    url: row.url,
    contentType: row.content_type,
    secret: row.secret,
    events: row.events.split(' ').filter(Boolean) as WebhookEventName[],
    createdAt: row.created_at,
  };
}

function attemptToRow(attempt: DeliveryAttemptRecord) {
  return {
    delivery_id: attempt.deliveryId,
    attempt: attempt.attempt,
    started_at: attempt.startedAt,
    status_code: attempt.statusCode,
    latency_ms: attempt.latencyMs,
    error: attempt.error,
    outcome: attempt.outcome,
  };
}

/** Base of the Kysely repositories: the webhook queries, over a database or a transaction. */
export abstract class KyselyWebhookRepositories implements WebhookRepositories {
  constructor(
    protected readonly db: Kysely<Database> | Transaction<Database>,
    protected readonly options: EngineOptions,
  ) {}

  async getSignatureSecret(accountId: string): Promise<SignatureSecretRecord | undefined> {
    const row = await this.db.selectFrom('signature_secrets').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return row && { accountId: row.account_id, secret: row.secret, createdAt: row.created_at };
  }

  async putSignatureSecret(record: SignatureSecretRecord): Promise<void> {
    await this.db
      .insertInto('signature_secrets')
      .values({ account_id: record.accountId, secret: record.secret, created_at: record.createdAt })
      .onConflict((conflict) => conflict.column('account_id').doUpdateSet({ secret: record.secret, created_at: record.createdAt }))
      .execute();
  }

  async insertSubscription(subscription: SubscriptionRecord): Promise<void> {
    await this.db
      .insertInto('webhook_subscriptions')
      .values({
        id: subscription.id,
        account_id: subscription.accountId,
        url: subscription.url,
        content_type: subscription.contentType,
        secret: subscription.secret,
        events: subscription.events.join(' '),
        created_at: subscription.createdAt,
      })
      .execute();
  }

  async listSubscriptions(accountId: string): Promise<SubscriptionRecord[]> {
    // Read on every transaction change (the outbox asks whom to notify): compiled once.
    const query = compiledQuery(this.options, 'listSubscriptions', () =>
      this.db.selectFrom('webhook_subscriptions').selectAll().where('account_id', '=', '').orderBy('created_at').orderBy('id'),
    );
    const { rows } = await runCompiled<Selectable<Database['webhook_subscriptions']>>(this.db, query, [accountId]);
    return rows.map(subscriptionFromRow);
  }

  async getSubscription(accountId: string, id: string): Promise<SubscriptionRecord | undefined> {
    const row = await this.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    return row && subscriptionFromRow(row);
  }

  async deleteSubscription(accountId: string, id: string, reason: string): Promise<boolean> {
    const result = await this.db.deleteFrom('webhook_subscriptions').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (Number(result.numDeletedRows) !== 1) return false;
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'cancelled', last_error: reason })
      .where('subscription_id', '=', id)
      .where('status', '=', 'pending')
      .execute();
    return true;
  }

  async insertDeliveries(deliveries: readonly DeliveryRecord[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.insertInto('webhook_deliveries').values(deliveries.map(deliveryToRow)).execute();
  }

  async getDelivery(accountId: string, id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    return row && deliveryFromRow(row);
  }

  async listDeliveries(filter: DeliveryFilter): Promise<DeliveryRecord[]> {
    let query = this.db.selectFrom('webhook_deliveries').selectAll().where('account_id', '=', filter.accountId);
    if (filter.transactionId !== undefined) query = query.where('transaction_id', '=', filter.transactionId);
    const after = filter.startingAfter;
    if (after) {
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(deliveryFromRow);
  }

  async listDeliveryAttempts(deliveryIds: readonly string[]): Promise<Map<string, DeliveryAttemptRecord[]>> {
    const result = new Map<string, DeliveryAttemptRecord[]>(deliveryIds.map((id) => [id, []]));
    if (deliveryIds.length === 0) return result;
    const rows = await this.db
      .selectFrom('webhook_delivery_attempts')
      .selectAll()
      .where('delivery_id', 'in', [...deliveryIds])
      .orderBy('delivery_id')
      .orderBy('attempt')
      .execute();
    for (const row of rows) {
      result.get(row.delivery_id)?.push({
        deliveryId: row.delivery_id,
        attempt: toInt(row.attempt),
        startedAt: row.started_at,
        statusCode: row.status_code === null ? null : toInt(row.status_code),
        latencyMs: row.latency_ms === null ? null : toInt(row.latency_ms),
        error: row.error,
        outcome: row.outcome as AttemptOutcome,
      });
    }
    return result;
  }

  async claimDueDeliveries(input: {
    readonly wallNowMs: number;
    readonly wallNow: string;
    readonly leaseUntil: string;
    readonly limit: number;
    readonly newToken: () => string;
  }): Promise<ClaimedDelivery[]> {
    const candidates = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('accounts as a', 'a.id', 'd.account_id')
      .selectAll('d')
      .select('a.clock_offset_ms')
      .where('d.status', '=', 'pending')
      // Due in the account's business time: the test clock moves delay_callback and retries.
      .where('d.due_at_ms', '<=', sql<number>`cast(${input.wallNowMs} as bigint) + a.clock_offset_ms`)
      .where((eb) => eb.or([eb('d.locked_until', 'is', null), eb('d.locked_until', '<=', input.wallNow)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('webhook_deliveries as e')
              .select('e.id')
              .whereRef('e.transaction_id', '=', 'd.transaction_id')
              .whereRef('e.target', '=', 'd.target')
              .whereRef('e.event_seq', '<', 'd.event_seq')
              .where('e.status', '=', 'pending'),
          ),
        ),
      )
      .orderBy('d.due_at_ms')
      .limit(input.limit)
      .execute();
    const claimed: ClaimedDelivery[] = [];
    for (const row of candidates) {
      const token = input.newToken();
      const result = await this.db
        .updateTable('webhook_deliveries')
        .set({ locked_until: input.leaseUntil, claim_token: token, attempt_count: sql`attempt_count + 1` })
        .where('id', '=', row.id)
        .where('status', '=', 'pending')
        .where('attempt_count', '=', row.attempt_count)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', input.wallNow)]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) continue; // another process got there first
      const delivery = deliveryFromRow(row);
      const attempt = delivery.attemptCount + 1;
      claimed.push({
        delivery: { ...delivery, attemptCount: attempt },
        claimToken: token,
        attempt,
        clockOffsetMs: toInt(row.clock_offset_ms),
        // A token left behind means the last claim never reported: its holder died or hung past the lease.
        ...(row.claim_token !== null && delivery.attemptCount > 0 ? { interruptedAttempt: delivery.attemptCount } : {}),
      });
    }
    return claimed;
  }

  async finishDeliveryAttempt(deliveryId: string, claimToken: string, attempt: DeliveryAttemptRecord | null, result: DeliveryResult): Promise<boolean> {
    if (attempt !== null) {
      const row = attemptToRow(attempt);
      const { delivery_id: _id, attempt: _attempt, ...changes } = row;
      // The sender's own report replaces an "interrupted" entry another process wrote meanwhile.
      await this.db
        .insertInto('webhook_delivery_attempts')
        .values(row)
        .onConflict((conflict) => conflict.columns(['delivery_id', 'attempt']).doUpdateSet(changes))
        .execute();
    }
    const updated = await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: result.status,
        due_at_ms: result.dueAtMs,
        last_status_code: result.lastStatusCode,
        last_error: result.lastError,
        delivered_at: result.deliveredAt,
        locked_until: null,
        claim_token: null,
      })
      .where('id', '=', deliveryId)
      .where('claim_token', '=', claimToken)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  async recordInterruptedAttempt(attempt: DeliveryAttemptRecord): Promise<void> {
    await this.db
      .insertInto('webhook_delivery_attempts')
      .values(attemptToRow(attempt))
      .onConflict((conflict) => conflict.columns(['delivery_id', 'attempt']).doNothing())
      .execute();
  }

  async requeueDelivery(accountId: string, id: string, dueAtMs: number, maxAttempts: number): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', due_at_ms: dueAtMs, max_attempts: maxAttempts, delivered_at: null })
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
