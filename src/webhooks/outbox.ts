/**
 * The outbox: which notifications a transaction change causes, written as delivery rows in
 * the same storage transaction as the change (called from the ledger's recordChange). A
 * rolled-back change therefore sends nothing, and a committed one is never lost: the
 * delivery worker finds the rows in the database, in this process or another, now or
 * after a restart.
 *
 * Session callback (`details.url.callback_url`), as Dintero sends it:
 * - when the payment completes with a transaction: authorized (also when captured at once),
 *   or held / unknown, which is announced again when it resolves (either way);
 * - with `report_error=true`, also when the payment was declined or failed (`error`);
 * - with `report_event=X`, on every successful X event (CAPTURE, REFUND, VOID), with
 *   `event` and `event_id`.
 * Webhook subscriptions of the account:
 * - `checkout_authorization`: when the session callback's authorization notice would go out;
 * - `checkout_transaction`: on every change of the transaction (one delivery per change).
 *
 * Due times are in the account's business time, so `delay_callback` and retry waits follow
 * the sandbox test clock.
 */
import { randomUUID } from 'node:crypto';
import type { AuthorizationStatus } from '../domain/status.js';
import type { Repositories, TransactionEventRecord, TransactionRecord } from '../store/store.js';
import type { DeliveryRecord, WebhookEventName } from '../store/webhook-store.js';
import { transactionView } from '../services/transaction-view.js';
import { callbackOptions, callbackRequestUrl, type CallbackFields } from './callback-url.js';

/** Attempts per delivery before it is given up (Dintero retries a failed callback 20 times). */
export const MAX_DELIVERY_ATTEMPTS = 20;

/** What a change did to the authorization, as the callback announces it. */
type AuthorizationNotice = { readonly kind: 'completed' } | { readonly kind: 'error'; readonly error: 'authorization' | 'failed'; readonly always: boolean };

function authorizationNotice(before: AuthorizationStatus, after: AuthorizationStatus): AuthorizationNotice | undefined {
  if (before === after) return undefined;
  const wasOpen = before === 'INITIATED';
  const wasPending = before === 'ON_HOLD' || before === 'UNKNOWN';
  if (!wasOpen && !wasPending) return undefined;
  switch (after) {
    case 'AUTHORIZED':
    case 'ON_HOLD':
    case 'UNKNOWN':
      return { kind: 'completed' };
    case 'DECLINED':
      return { kind: 'error', error: 'authorization', always: wasPending };
    case 'FAILED':
      // A held or unknown payment that fails is announced like its earlier callback; a payment failing outright only on report_error.
      return { kind: 'error', error: 'failed', always: wasPending };
    case 'INITIATED':
      return undefined;
  }
}

/** A delivery before it is written: the record's addressing fields, a delay and a body to build. */
interface Draft extends Pick<DeliveryRecord, 'kind' | 'subscriptionId' | 'target' | 'event' | 'eventSeq' | 'method' | 'url'> {
  readonly delayMs: number;
  /** Builds the body once the transaction view is known (and the delivery id, for webhooks). */
  readonly body?: (transaction: unknown, id: string) => string;
}

/** Appends the deliveries a change causes. `events` are the change's new events, already appended. */
export async function enqueueNotifications(
  tx: Repositories,
  before: TransactionRecord | null,
  next: TransactionRecord,
  events: readonly TransactionEventRecord[],
): Promise<void> {
  if (events.length === 0) return;
  const drafts: Draft[] = [];
  const notice = authorizationNotice(before?.state.authorization ?? 'INITIATED', next.state.authorization);
  const authorizeEvent = [...events].reverse().find((event) => event.event === 'AUTHORIZE');
  const noticeSeq = Number((authorizeEvent ?? events[0]!).id);

  const callbackUrl = parseUrl(next.details.url.callback_url);
  if (callbackUrl !== undefined) {
    const options = callbackOptions(callbackUrl);
    const fields: CallbackFields = {
      transactionId: next.id,
      sessionId: next.sessionId,
      merchantReference: next.merchantReference,
      time: next.createdAt,
    };
    const callback = (event: string, seq: number, extra: Partial<CallbackFields>): Draft => ({
      kind: 'callback',
      subscriptionId: null,
      target: 'callback',
      event,
      eventSeq: seq,
      method: options.method,
      url: callbackRequestUrl(callbackUrl, options, { ...fields, ...extra }),
      delayMs: options.delaySeconds * 1000,
      ...(options.method === 'POST' ? { body: (transaction: unknown) => JSON.stringify(transaction) } : {}),
    });
    if (notice?.kind === 'completed') drafts.push(callback('AUTHORIZE', noticeSeq, {}));
    if (notice?.kind === 'error' && (notice.always || options.reportError)) drafts.push(callback('AUTHORIZE', noticeSeq, { error: notice.error }));
    for (const event of events) {
      if (event.success && (options.reportEvents as ReadonlySet<string>).has(event.event)) {
        drafts.push(callback(event.event, Number(event.id), { event: event.event, eventId: event.id }));
      }
    }
  }

  const subscriptions = await tx.listSubscriptions(next.accountId);
  for (const subscription of subscriptions) {
    const webhook = (event: WebhookEventName, seq: number): Draft => ({
      kind: 'webhook',
      subscriptionId: subscription.id,
      target: subscription.id,
      event,
      eventSeq: seq,
      method: 'POST',
      url: subscription.url,
      delayMs: 0,
      body: (transaction, id) => JSON.stringify({ account_id: next.accountId, event, event_delivery: id, transaction }),
    });
    if (subscription.events.includes('checkout_authorization') && notice !== undefined && (notice.kind === 'completed' || notice.always)) {
      drafts.push(webhook('checkout_authorization', noticeSeq));
    }
    if (subscription.events.includes('checkout_transaction')) drafts.push(webhook('checkout_transaction', Number(events[0]!.id)));
  }
  if (drafts.length === 0) return;

  // The transaction as of this change, for bodies: the same view the API answers with.
  let transaction: unknown;
  if (drafts.some((draft) => draft.body !== undefined)) {
    const allEvents = (await tx.listEvents([next.id])).get(next.id) ?? [];
    transaction = transactionView(next, allEvents, next.updatedAt);
  }
  const now = Date.parse(next.updatedAt);
  await tx.insertDeliveries(
    drafts.map((draft): DeliveryRecord => {
      const id = randomUUID();
      return {
        id,
        accountId: next.accountId,
        transactionId: next.id,
        kind: draft.kind,
        subscriptionId: draft.subscriptionId,
        target: draft.target,
        event: draft.event,
        eventSeq: draft.eventSeq,
        method: draft.method,
        url: draft.url,
        body: draft.body ? draft.body(transaction, id) : null,
        status: 'pending',
        attemptCount: 0,
        maxAttempts: MAX_DELIVERY_ATTEMPTS,
        dueAtMs: now + draft.delayMs,
        lastStatusCode: null,
        lastError: null,
        deliveredAt: null,
        createdAt: next.updatedAt,
      };
    }),
  );
}

function parseUrl(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
