/**
 * The storage interface of callbacks and webhooks, part of `Repositories`.
 *
 * Deliveries are an outbox: rows are inserted in the storage transaction that appends the
 * events they announce, and a worker in any process claims the due ones. A claim is a
 * compare-and-set on the row (pending, lease free or expired → leased with a fresh token
 * and the attempt counter incremented), so two processes never hold the same delivery, and
 * an attempt number is used at most once, whatever crashes in between.
 */

export type DeliveryKind = 'callback' | 'webhook';
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';
export type AttemptOutcome = 'delivered' | 'retry' | 'failed';

export interface SignatureSecretRecord {
  readonly accountId: string;
  readonly secret: string;
  readonly createdAt: string;
}

export const webhookEventNames = ['checkout_transaction', 'checkout_authorization'] as const;
export type WebhookEventName = (typeof webhookEventNames)[number];

export interface SubscriptionRecord {
  readonly id: string;
  readonly accountId: string;
  readonly url: string;
  readonly contentType: string;
  readonly secret: string | null;
  readonly events: readonly WebhookEventName[];
  readonly createdAt: string;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly accountId: string;
  readonly transactionId: string;
  readonly kind: DeliveryKind;
  readonly subscriptionId: string | null;
  /** Ordering key: deliveries with the same transaction and target go out in `eventSeq` order. */
  readonly target: string;
  /** The transaction event (AUTHORIZE, CAPTURE...) for callbacks; the webhook event name for webhooks. */
  readonly event: string;
  /** Id of the transaction event that caused the delivery. */
  readonly eventSeq: number;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body: string | null;
  readonly status: DeliveryStatus;
  /** Attempts started so far (the next one is attemptCount + 1). */
  readonly attemptCount: number;
  readonly maxAttempts: number;
  /** Business time (epoch ms) from which the next attempt may start. */
  readonly dueAtMs: number;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: string | null;
  readonly createdAt: string;
}

export interface DeliveryAttemptRecord {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly startedAt: string;
  readonly statusCode: number | null;
  readonly latencyMs: number | null;
  readonly error: string | null;
  readonly outcome: AttemptOutcome;
}

/** A delivery this process now holds the lease on, for one attempt. */
export interface ClaimedDelivery {
  readonly delivery: DeliveryRecord;
  readonly claimToken: string;
  /** The attempt number this claim may make (delivery.attemptCount after the claim). */
  readonly attempt: number;
  /** The account's test-clock offset, to turn wall time into the account's business time. */
  readonly clockOffsetMs: number;
  /** Set when the previous claim's holder never recorded a result (it died or hung): that attempt's number. */
  readonly interruptedAttempt?: number;
}

export interface DeliveryFilter {
  readonly accountId: string;
  readonly limit: number;
  readonly transactionId?: string;
  readonly startingAfter?: { readonly createdAt: string; readonly id: string };
}

/** How an attempt ended, written with the attempt's log row. */
export interface DeliveryResult {
  readonly status: DeliveryStatus;
  readonly dueAtMs: number;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: string | null;
}

export interface WebhookRepositories {
  getSignatureSecret(accountId: string): Promise<SignatureSecretRecord | undefined>;
  /** Creates or replaces the account's callback signing secret. */
  putSignatureSecret(record: SignatureSecretRecord): Promise<void>;

  insertSubscription(subscription: SubscriptionRecord): Promise<void>;
  listSubscriptions(accountId: string): Promise<SubscriptionRecord[]>;
  getSubscription(accountId: string, id: string): Promise<SubscriptionRecord | undefined>;
  /** Deletes the subscription and cancels its pending deliveries; false when there was none. */
  deleteSubscription(accountId: string, id: string, reason: string): Promise<boolean>;

  insertDeliveries(deliveries: readonly DeliveryRecord[]): Promise<void>;
  getDelivery(accountId: string, id: string): Promise<DeliveryRecord | undefined>;
  /** Newest first, keyset-paged. */
  listDeliveries(filter: DeliveryFilter): Promise<DeliveryRecord[]>;
  /** Each delivery's attempts, oldest first. */
  listDeliveryAttempts(deliveryIds: readonly string[]): Promise<Map<string, DeliveryAttemptRecord[]>>;
  /**
   * Claims up to `limit` due deliveries: pending, due in their account's business time
   * (wall time + test-clock offset), lease free or expired, and with no earlier pending
   * delivery for the same transaction and target. Each claim holds a lease until `leaseUntil` (wall time).
   */
  claimDueDeliveries(input: { readonly wallNowMs: number; readonly wallNow: string; readonly leaseUntil: string; readonly limit: number; readonly newToken: () => string }): Promise<ClaimedDelivery[]>;
  /**
   * Logs an attempt (replacing an "interrupted" entry for it, should another process have
   * taken the delivery over meanwhile) and, only while `claimToken` still holds the claim,
   * writes the delivery's new state and releases the lease. False when the claim was lost.
   */
  finishDeliveryAttempt(deliveryId: string, claimToken: string, attempt: DeliveryAttemptRecord | null, result: DeliveryResult): Promise<boolean>;
  /** Logs an attempt whose process died before reporting it; does nothing if it was reported after all. */
  recordInterruptedAttempt(attempt: DeliveryAttemptRecord): Promise<void>;
  /** Makes a delivery pending again from `dueAtMs`, with attempts up to `maxAttempts`. */
  requeueDelivery(accountId: string, id: string, dueAtMs: number, maxAttempts: number): Promise<boolean>;
}
