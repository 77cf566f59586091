/**
 * The delivery worker: claims due deliveries from the outbox and sends them, one attempt
 * per claim, recording every attempt in the delivery log.
 *
 * - At-least-once: a delivery stays pending until a 2xx is recorded. A process that dies
 *   mid-attempt leaves a lease that expires; the next claim logs that attempt as
 *   interrupted and makes a new one with the next attempt number, so an attempt number is
 *   never sent twice.
 * - 2xx acknowledges; 4xx is permanent; anything else (1xx, 3xx, 5xx, a timeout, a
 *   connection error) is retried after an exponential, jittered wait, up to the delivery's
 *   `max_attempts` (20).
 * - Per transaction and target, deliveries go out in event order (the claim skips one
 *   while an earlier one is pending).
 * - Several processes may run workers on one database: claims are compare-and-set.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import { isKasseError } from '../domain/errors.js';
import type { ServiceContext } from '../services/context.js';
import type { ClaimedDelivery, DeliveryAttemptRecord, DeliveryResult, AttemptOutcome } from '../store/webhook-store.js';
import { retryDelayMs } from './backoff.js';
import { sendRequest } from './http-sender.js';
import { dinteroSignature, eventSignature, standardWebhookSignature } from './signature.js';
import { checkUrlForm, resolveAllowedAddresses, systemResolver, type ResolvedAddress, type Resolver } from './url-guard.js';
import { startSweeper } from '../sweeper.js';

export interface DeliveryOptions {
  /** Wait after the first failed attempt, doubled per attempt (default 10 s). */
  readonly retryBaseMs: number;
  /** Longest wait between attempts (default 1 h). */
  readonly retryMaxMs: number;
  /** Deadline for an attempt's response headers (default 10 s). */
  readonly timeoutMs: number;
  /** How long a claim is held; must outlast the timeout (default three timeouts). */
  readonly leaseMs: number;
  /** How often the background loop looks for due deliveries (default 250 ms). */
  readonly intervalMs: number;
  /** Deliveries claimed and sent at a time (default 20). */
  readonly batchSize: number;
  readonly resolver: Resolver;
  readonly random: () => number;
}

export interface DeliveryWorker {
  /** Sends everything due now (retries that fall due meanwhile included); resolves with the number of attempts made. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function deliveryOptions(overrides: Partial<DeliveryOptions> = {}): DeliveryOptions {
  const timeoutMs = overrides.timeoutMs ?? 10_000;
  return {
    retryBaseMs: 10_000,
    retryMaxMs: 3_600_000,
    intervalMs: 250,
    batchSize: 20,
    resolver: systemResolver,
    random: Math.random,
    ...overrides,
    timeoutMs,
    leaseMs: overrides.leaseMs ?? timeoutMs * 3,
  };
}

const USER_AGENT = 'Kasse-Webhooks/0.1';

interface Prepared {
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly addresses?: readonly ResolvedAddress[];
}

/** Why an attempt ends without a request: the subscription is gone, or the URL may not be called. */
class NotSendable extends Error {
  constructor(
    message: string,
    readonly status: 'failed' | 'cancelled',
  ) {
    super(message);
  }
}

export function startDeliveryWorker(ctx: ServiceContext, logger: FastifyBaseLogger, overrides: Partial<DeliveryOptions> = {}): DeliveryWorker {
  const options = deliveryOptions(overrides);
  const inFlight = new Set<AbortController>();

  const wallNow = () => ctx.clock.now().getTime();

  async function prepare(claim: ClaimedDelivery, unixSeconds: number): Promise<Prepared> {
    const { delivery } = claim;
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      'kasse-delivery-id': delivery.id,
      'kasse-delivery-attempt': String(claim.attempt),
    };
    if (delivery.kind === 'callback') {
      if (delivery.body !== null) headers['content-type'] = 'application/json';
      const secret = await ctx.store.getSignatureSecret(delivery.accountId);
      if (secret) {
        headers['dintero-signature'] = dinteroSignature({
          secret: secret.secret,
          timestamp: unixSeconds,
          accountId: delivery.accountId,
          method: delivery.method,
          url: delivery.url,
        });
      }
    } else {
      const subscription = delivery.subscriptionId === null ? undefined : await ctx.store.getSubscription(delivery.accountId, delivery.subscriptionId);
      if (subscription === undefined) throw new NotSendable('The webhook subscription was deleted.', 'cancelled');
      const body = delivery.body ?? '';
      headers['content-type'] = subscription.contentType;
      headers.event = delivery.event;
      headers['event-delivery'] = delivery.id;
      headers['webhook-id'] = delivery.id;
      headers['webhook-timestamp'] = String(unixSeconds);
      if (subscription.secret) {
        headers['event-signature'] = eventSignature(subscription.secret, body);
        headers['webhook-signature'] = standardWebhookSignature({ secret: subscription.secret, id: delivery.id, timestamp: unixSeconds, body });
      }
    }
    let url: URL;
    let addresses: ResolvedAddress[] | undefined;
    try {
      url = checkUrlForm(delivery.accountId, delivery.url);
      // Checked again now, after resolution, and the connection goes to what was checked.
      addresses = await resolveAllowedAddresses(delivery.accountId, url, options.resolver);
    } catch (error) {
      if (isKasseError(error)) throw new NotSendable(error.message, 'failed');
      throw error; // the name did not resolve: a connection error, retried
    }
    return { url, headers, ...(addresses ? { addresses } : {}) };
  }

  async function attemptOne(claim: ClaimedDelivery): Promise<void> {
    const { delivery, claimToken, attempt, clockOffsetMs } = claim;
    const businessNow = () => wallNow() + clockOffsetMs;
    const iso = (ms: number) => new Date(ms).toISOString();
    if (claim.interruptedAttempt !== undefined) {
      await ctx.store.recordInterruptedAttempt({
        deliveryId: delivery.id,
        attempt: claim.interruptedAttempt,
        startedAt: iso(businessNow()),
        statusCode: null,
        latencyMs: null,
        error: 'Interrupted: the sending process stopped before recording a result.',
        outcome: 'retry',
      });
    }
    const finish = (record: DeliveryAttemptRecord | null, result: DeliveryResult) =>
      ctx.store.transaction((tx) => tx.finishDeliveryAttempt(delivery.id, claimToken, record, result));
    const unchanged = { dueAtMs: delivery.dueAtMs, lastStatusCode: delivery.lastStatusCode, deliveredAt: null };
    if (attempt > delivery.maxAttempts) {
      await finish(null, { ...unchanged, status: 'failed', lastError: `Gave up after ${delivery.maxAttempts} attempts.` });
      return;
    }

    const startedAt = iso(businessNow());
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    let outcome: AttemptOutcome;
    try {
      const prepared = await prepare(claim, Math.floor(wallNow() / 1000));
      const controller = new AbortController();
      inFlight.add(controller);
      try {
        ({ statusCode } = await sendRequest({
          url: prepared.url,
          method: delivery.method,
          headers: prepared.headers,
          ...(delivery.body !== null ? { body: delivery.body } : {}),
          timeoutMs: options.timeoutMs,
          ...(prepared.addresses ? { addresses: prepared.addresses } : {}),
          signal: controller.signal,
        }));
      } finally {
        inFlight.delete(controller);
      }
      if (statusCode >= 200 && statusCode < 300) outcome = 'delivered';
      else if (statusCode >= 400 && statusCode < 500) outcome = 'failed';
      else outcome = 'retry';
      if (outcome !== 'delivered') error = `HTTP ${statusCode}`;
    } catch (cause) {
      if (cause instanceof NotSendable) {
        await finish(null, { ...unchanged, status: cause.status, lastError: cause.message });
        logger.warn({ delivery: delivery.id, reason: cause.message }, 'delivery not sent');
        return;
      }
      error = cause instanceof Error ? cause.message || cause.name : String(cause);
      outcome = 'retry';
    }
    const latencyMs = Math.round(performance.now() - started);
    if (outcome === 'retry' && attempt >= delivery.maxAttempts) outcome = 'failed';
    const record: DeliveryAttemptRecord = { deliveryId: delivery.id, attempt, startedAt, statusCode, latencyMs, error, outcome };
    const result: DeliveryResult = {
      status: outcome === 'delivered' ? 'delivered' : outcome === 'failed' ? 'failed' : 'pending',
      dueAtMs: outcome === 'retry' ? businessNow() + retryDelayMs({ baseMs: options.retryBaseMs, maxMs: options.retryMaxMs }, attempt, options.random) : delivery.dueAtMs,
      lastStatusCode: statusCode,
      lastError: error,
      deliveredAt: outcome === 'delivered' ? iso(businessNow()) : null,
    };
    const stillOurs = await finish(record, result);
    if (outcome !== 'delivered') {
      logger.warn({ delivery: delivery.id, kind: delivery.kind, attempt, statusCode, error, outcome }, 'delivery attempt failed');
    }
    if (!stillOurs) logger.warn({ delivery: delivery.id, attempt }, 'delivery lease expired before the attempt was recorded');
  }

  async function sweepOnce(): Promise<number> {
    let attempts = 0;
    while (!sweeper.stopped) {
      const now = wallNow();
      const claims = await ctx.store.claimDueDeliveries({
        wallNowMs: now,
        wallNow: new Date(now).toISOString(),
        leaseUntil: new Date(now + options.leaseMs).toISOString(),
        limit: options.batchSize,
        newToken: randomUUID,
      });
      if (claims.length === 0) break;
      const results = await Promise.allSettled(claims.map(attemptOne));
      for (const result of results) {
        if (result.status === 'rejected') logger.error({ err: result.reason }, 'delivery attempt could not be recorded');
      }
      attempts += claims.length;
    }
    return attempts;
  }

  const sweeper = startSweeper('delivery worker', options.intervalMs, logger, sweepOnce);
  return {
    sweep: () => sweeper.sweep(),
    // In-flight requests are aborted, so a stop never waits out a slow receiver.
    stop: () => sweeper.stop(() => inFlight.forEach((controller) => controller.abort())),
  };
}
