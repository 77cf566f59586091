/**
 * Callbacks and webhooks as the API exposes them: the account's callback signing secret,
 * webhook subscriptions, and the delivery log with resend. What is delivered, and when, is
 * decided in the ledger's transaction (src/webhooks/outbox.ts); the sending is the
 * delivery worker's (src/webhooks/delivery-worker.ts).
 */
import { randomUUID } from 'node:crypto';
import { KasseError } from '../domain/errors.js';
import { generateSecret } from '../auth/secrets.js';
import { accountNow } from '../clock.js';
import type { DeliveryAttemptRecord, DeliveryRecord, SubscriptionRecord, WebhookEventName } from '../store/webhook-store.js';
import { checkCallbackOptions } from '../webhooks/callback-url.js';
import { MAX_DELIVERY_ATTEMPTS } from '../webhooks/outbox.js';
import { checkNotificationUrl } from '../webhooks/url-guard.js';
import type { OperationRequest, ServiceContext } from './context.js';
import { idempotentMutation, type MutationResult } from './idempotency.js';

/** Checks a session's callback_url when the session is created: where it points (§10) and its options. */
export async function checkCallbackUrl(accountId: string, callbackUrl: string): Promise<void> {
  checkCallbackOptions(await checkNotificationUrl(accountId, callbackUrl));
}

/** The URL's account must be the caller's; another account's resources do not exist for it. */
function checkAccount(principalAccountId: string, accountId: string): void {
  if (principalAccountId !== accountId) throw new KasseError('NOT_FOUND');
}

// ---------------------------------------------------------------- signing secret

export interface SignatureSecretView {
  readonly secret: string;
  readonly created_at: string;
}

/** Creates the account's callback signing secret, replacing any earlier one. */
export function createSignatureSecret(ctx: ServiceContext, request: OperationRequest): Promise<MutationResult<SignatureSecretView>> {
  const { accountId } = request.principal;
  return idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const record = { accountId, secret: generateSecret(32), createdAt: ctx.clock.now().toISOString() };
    await tx.putSignatureSecret(record);
    return { statusCode: 200, body: { secret: record.secret, created_at: record.createdAt } };
  });
}

export async function getSignatureSecret(ctx: ServiceContext, accountId: string): Promise<SignatureSecretView> {
  const record = await ctx.store.getSignatureSecret(accountId);
  if (record === undefined) throw new KasseError('NOT_FOUND', 'The account has no signature secret; POST /v1/admin/signature creates one.');
  return { secret: record.secret, created_at: record.createdAt };
}

// ---------------------------------------------------------------- subscriptions

export interface SubscriptionView {
  readonly id: string;
  readonly account_id: string;
  readonly config: { readonly url: string; readonly content_type: string };
  readonly events: readonly WebhookEventName[];
  readonly created_at: string;
}

export interface CreateSubscriptionBody {
  readonly config: { readonly url: string; readonly content_type?: string; readonly secret?: string };
  readonly events: readonly WebhookEventName[];
}

/** The secret is write-only: it signs deliveries and is never shown again. */
function subscriptionView(record: SubscriptionRecord): SubscriptionView {
  return {
    id: record.id,
    account_id: record.accountId,
    config: { url: record.url, content_type: record.contentType },
    events: record.events,
    created_at: record.createdAt,
  };
}

export async function createSubscription(
  ctx: ServiceContext,
  accountId: string,
  body: CreateSubscriptionBody,
  request: OperationRequest,
): Promise<MutationResult<SubscriptionView>> {
  checkAccount(request.principal.accountId, accountId);
  const url = await checkNotificationUrl(accountId, body.config.url);
  return idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const record: SubscriptionRecord = {
      id: randomUUID(),
      accountId,
      url: url.href,
      contentType: body.config.content_type ?? 'application/json',
      secret: body.config.secret === undefined || body.config.secret === '' ? null : body.config.secret,
      events: [...new Set(body.events)],
      createdAt: ctx.clock.now().toISOString(),
    };
    await tx.insertSubscription(record);
    return { statusCode: 200, body: subscriptionView(record) };
  });
}

export async function listSubscriptions(ctx: ServiceContext, principalAccountId: string, accountId: string): Promise<SubscriptionView[]> {
  checkAccount(principalAccountId, accountId);
  return (await ctx.store.listSubscriptions(accountId)).map(subscriptionView);
}

/** Deletes a subscription; its deliveries still pending are cancelled. */
export async function deleteSubscription(ctx: ServiceContext, principalAccountId: string, accountId: string, id: string): Promise<void> {
  checkAccount(principalAccountId, accountId);
  const deleted = await ctx.store.transaction((tx) => tx.deleteSubscription(accountId, id, 'Cancelled: the webhook subscription was deleted.'));
  if (!deleted) throw new KasseError('NOT_FOUND', 'The webhook subscription does not exist.');
}

// ---------------------------------------------------------------- delivery log

export interface DeliveryAttemptView {
  readonly attempt: number;
  readonly started_at: string;
  readonly status_code: number | null;
  readonly latency_ms: number | null;
  readonly error: string | null;
  readonly outcome: DeliveryAttemptRecord['outcome'];
}

export interface DeliveryView {
  readonly id: string;
  readonly account_id: string;
  readonly transaction_id: string;
  readonly kind: DeliveryRecord['kind'];
  readonly subscription_id?: string;
  readonly event: string;
  readonly event_id: string;
  readonly method: string;
  readonly url: string;
  readonly status: DeliveryRecord['status'];
  readonly attempt_count: number;
  readonly max_attempts: number;
  readonly next_attempt_at?: string;
  readonly last_status_code?: number;
  readonly last_error?: string;
  readonly delivered_at?: string;
  readonly created_at: string;
  readonly attempts: readonly DeliveryAttemptView[];
}

function deliveryView(record: DeliveryRecord, attempts: readonly DeliveryAttemptRecord[]): DeliveryView {
  return {
    id: record.id,
    account_id: record.accountId,
    transaction_id: record.transactionId,
    kind: record.kind,
    ...(record.subscriptionId === null ? {} : { subscription_id: record.subscriptionId }),
    event: record.event,
    event_id: String(record.eventSeq),
    method: record.method,
    url: record.url,
    status: record.status,
    attempt_count: record.attemptCount,
    max_attempts: record.maxAttempts,
    ...(record.status === 'pending' ? { next_attempt_at: new Date(record.dueAtMs).toISOString() } : {}),
    ...(record.lastStatusCode === null ? {} : { last_status_code: record.lastStatusCode }),
    ...(record.lastError === null ? {} : { last_error: record.lastError }),
    ...(record.deliveredAt === null ? {} : { delivered_at: record.deliveredAt }),
    created_at: record.createdAt,
    attempts: attempts.map((attempt) => ({
      attempt: attempt.attempt,
      started_at: attempt.startedAt,
      status_code: attempt.statusCode,
      latency_ms: attempt.latencyMs,
      error: attempt.error,
      outcome: attempt.outcome,
    })),
  };
}

/** The delivery log of an account, newest first, with every attempt. */
export async function listDeliveries(
  ctx: ServiceContext,
  principalAccountId: string,
  filter: { accountId: string; limit: number; transactionId?: string; startingAfterId?: string },
): Promise<DeliveryView[]> {
  checkAccount(principalAccountId, filter.accountId);
  let startingAfter;
  if (filter.startingAfterId !== undefined) {
    const cursor = await ctx.store.getDelivery(filter.accountId, filter.startingAfterId);
    if (cursor === undefined) throw new KasseError('INVALID_REQUEST', 'starting_after names no delivery of this account.');
    startingAfter = { createdAt: cursor.createdAt, id: cursor.id };
  }
  const records = await ctx.store.listDeliveries({
    accountId: filter.accountId,
    limit: filter.limit,
    ...(filter.transactionId === undefined ? {} : { transactionId: filter.transactionId }),
    ...(startingAfter ? { startingAfter } : {}),
  });
  const attempts = await ctx.store.listDeliveryAttempts(records.map((record) => record.id));
  return records.map((record) => deliveryView(record, attempts.get(record.id) ?? []));
}

/** Sends a delivery again now, with a fresh allowance of attempts; its log continues. */
export async function resendDelivery(ctx: ServiceContext, accountId: string, id: string, request: OperationRequest): Promise<MutationResult<DeliveryView>> {
  checkAccount(request.principal.accountId, accountId);
  return idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const record = await tx.getDelivery(accountId, id);
    if (record === undefined) throw new KasseError('NOT_FOUND', 'The delivery does not exist.');
    if (record.kind === 'webhook' && (record.subscriptionId === null || (await tx.getSubscription(accountId, record.subscriptionId)) === undefined)) {
      throw new KasseError('DELIVERY_NOT_RESENDABLE');
    }
    const account = await tx.getAccount(accountId);
    const dueAtMs = Date.parse(accountNow(ctx.clock, account?.clockOffsetMs ?? 0));
    await tx.requeueDelivery(accountId, id, dueAtMs, record.attemptCount + MAX_DELIVERY_ATTEMPTS);
    const updated = (await tx.getDelivery(accountId, id))!;
    const attempts = (await tx.listDeliveryAttempts([id])).get(id) ?? [];
    return { statusCode: 200, body: deliveryView(updated, attempts) };
  });
}
