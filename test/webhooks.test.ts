/**
 * §10 account webhooks and the delivery log against a real HTTP receiver on 127.0.0.1:
 * subscriptions (create, list, delete, per account), deliveries with Dintero's
 * `event-signature` and the Standard Webhooks signature (both recomputed here), retries
 * with backoff (500, 500, 200), a 404 that stops them, a timeout, resend, and the
 * production-account URL rules (SSRF), also re-checked at delivery time after DNS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { authorizedTransaction, bearer, createSession, operation, startHarness, type Harness } from './support/harness.js';
import { startReceiver, type Received, type Receiver } from './support/receiver.js';
import type { ResolvedAddress } from '../src/webhooks/url-guard.js';
import { BackofficeClient, createStaff } from './support/backoffice.js';

const ACCOUNT = 'T00000001';

interface DeliveryBody {
  readonly id: string;
  readonly transaction_id: string;
  readonly kind: string;
  readonly event: string;
  readonly status: string;
  readonly attempt_count: number;
  readonly next_attempt_at?: string;
  readonly last_error?: string;
  readonly attempts: Array<{ attempt: number; status_code: number | null; latency_ms: number | null; error: string | null; outcome: string; started_at: string }>;
}

describe('webhook subscriptions and the delivery log', () => {
  let h: Harness;
  let receiver: Receiver;
  /** What the fake DNS answers for production-account URLs at delivery time. */
  const dns = new Map<string, ResolvedAddress[]>();

  before(async () => {
    h = await startHarness({
      webhooks: {
        retryBaseMs: 1000,
        retryMaxMs: 8000,
        timeoutMs: 300,
        random: () => 1,
        resolver: async (hostname) => {
          const answer = dns.get(hostname);
          if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          return answer;
        },
      },
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  /**
   * Runs the worker; returns what the receiver got since the last call (the background loop
   * may have sent some of it already: due times hold either way, so nothing comes early).
   */
  async function deliver(): Promise<Received[]> {
    await h.app.deliveryWorker.sweep();
    return receiver.unread();
  }

  async function subscribe(path: string, secret?: string, events = ['checkout_transaction', 'checkout_authorization'], token = h.token, account = ACCOUNT) {
    return h.request({
      method: 'POST',
      url: `/v1/accounts/${account}/hooks/subscriptions`,
      headers: bearer(h, token),
      payload: { config: { url: `${receiver.origin}${path}`, content_type: 'application/json', ...(secret ? { secret } : {}) }, events },
    });
  }

  async function unsubscribe(id: string) {
    const response = await h.request({ method: 'DELETE', url: `/v1/accounts/${ACCOUNT}/hooks/subscriptions/${id}`, headers: bearer(h) });
    assert.equal(response.statusCode, 204, response.body);
  }

  async function log(transactionId: string): Promise<DeliveryBody[]> {
    const response = await h.request({ method: 'GET', url: `/v1/accounts/${ACCOUNT}/hooks/deliveries?transaction_id=${transactionId}`, headers: bearer(h) });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  }

  /** A transaction whose callback goes to the receiver's path. */
  async function withCallback(path: string): Promise<string> {
    return authorizedTransaction(h, { sessionExtra: { url: { return_url: 'https://shop.example/return', callback_url: `${receiver.origin}${path}` } } });
  }

  test('a subscription gets checkout_transaction and checkout_authorization, signed both ways', async () => {
    const secret = 'dintero-style free-form secret';
    const created = await subscribe('/hooks', secret);
    assert.equal(created.statusCode, 200, created.body);
    const subscription = created.json();
    assert.equal(subscription.config.url, `${receiver.origin}/hooks`);
    assert.equal(subscription.config.secret, undefined, 'the secret is never shown');
    assert.deepEqual(subscription.events, ['checkout_transaction', 'checkout_authorization']);
    const listed = await h.request({ method: 'GET', url: `/v1/accounts/${ACCOUNT}/hooks/subscriptions`, headers: bearer(h) });
    assert.deepEqual(listed.json().map((s: { id: string }) => s.id), [subscription.id]);

    const transactionId = await authorizedTransaction(h);
    assert.equal((await operation(h, transactionId, 'capture', { amount: 1000 })).statusCode, 200);
    const received = await deliver();
    assert.deepEqual(
      received.map((request) => [request.headers.event, JSON.parse(request.body).transaction.status]),
      [
        ['checkout_transaction', 'AUTHORIZED'],
        ['checkout_authorization', 'AUTHORIZED'],
        ['checkout_transaction', 'CAPTURED'],
      ],
    );
    for (const request of received) {
      assert.equal(request.method, 'POST');
      const body = JSON.parse(request.body);
      assert.equal(body.account_id, ACCOUNT);
      assert.equal(body.event, request.headers.event);
      assert.equal(body.event_delivery, request.headers['event-delivery']);
      assert.equal(body.transaction.id, transactionId);
      assert.equal(request.headers['event-signature'], createHmac('sha1', secret).update(request.body).digest('hex'));
      const id = String(request.headers['webhook-id']);
      const timestamp = String(request.headers['webhook-timestamp']);
      assert.equal(id, body.event_delivery);
      assert.match(timestamp, /^\d{10}$/);
      const expected = createHmac('sha256', Buffer.from(secret)).update(`${id}.${timestamp}.${request.body}`).digest('base64');
      assert.equal(request.headers['webhook-signature'], `v1,${expected}`);
    }
    await unsubscribe(subscription.id);
    await authorizedTransaction(h);
    assert.deepEqual(await deliver(), [], 'nothing after the subscription is deleted');
  });

  test('a whsec_ secret is a base64 key for the Standard Webhooks signature', async () => {
    const key = Buffer.from(randomUUID());
    const secret = `whsec_${key.toString('base64')}`;
    const subscription = (await subscribe('/std', secret, ['checkout_authorization'])).json();
    await authorizedTransaction(h);
    const [request, ...rest] = await deliver();
    assert.equal(rest.length, 0);
    const signed = `${request!.headers['webhook-id']}.${request!.headers['webhook-timestamp']}.${request!.body}`;
    assert.equal(request!.headers['webhook-signature'], `v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
    await unsubscribe(subscription.id);
  });

  test("subscriptions are per account: another account's URL is a 404, and its deliveries are not listed", async () => {
    const other = await h.tokenFor('T00000077');
    assert.equal((await subscribe('/x', undefined, undefined, other, ACCOUNT)).statusCode, 404);
    assert.equal((await h.request({ method: 'GET', url: `/v1/accounts/${ACCOUNT}/hooks/subscriptions`, headers: bearer(h, other) })).statusCode, 404);
    assert.equal((await h.request({ method: 'GET', url: `/v1/accounts/${ACCOUNT}/hooks/deliveries`, headers: bearer(h, other) })).statusCode, 404);
    const mine = (await subscribe('/x', undefined, undefined, other, 'T00000077')).json();
    assert.equal((await h.request({ method: 'DELETE', url: `/v1/accounts/${ACCOUNT}/hooks/subscriptions/${mine.id}`, headers: bearer(h) })).statusCode, 404);
    assert.equal(
      (await h.request({ method: 'DELETE', url: `/v1/accounts/T00000077/hooks/subscriptions/${mine.id}`, headers: bearer(h, other) })).statusCode,
      204,
    );
    const reader = await h.tokenFor(ACCOUNT, ['read:checkout']);
    assert.equal((await h.request({ method: 'GET', url: '/v1/admin/signature', headers: bearer(h, reader) })).statusCode, 403);
    assert.equal((await subscribe('/x', undefined, undefined, reader)).statusCode, 403);
  });

  test('500, 500, 200: retried with growing waits, delivered on the third attempt; the log shows every attempt', async () => {
    receiver.answerNext(500, 500, 200);
    const transactionId = await withCallback('/flaky');
    assert.equal((await deliver()).length, 1);
    let [delivery] = await log(transactionId);
    assert.equal(delivery!.status, 'pending');
    assert.equal(delivery!.attempts[0]!.status_code, 500);
    assert.equal(delivery!.attempts[0]!.outcome, 'retry');
    // random() = 1: waits are exactly 1 s, then 2 s.
    assert.equal(Date.parse(delivery!.next_attempt_at!) - Date.parse(delivery!.attempts[0]!.started_at) >= 1000, true);
    assert.equal((await deliver()).length, 0, 'not before the wait');
    h.clock.advance(1000);
    assert.equal((await deliver()).length, 1);
    h.clock.advance(1000);
    assert.equal((await deliver()).length, 0, 'the second wait is longer');
    h.clock.advance(1000);
    assert.equal((await deliver()).length, 1);
    [delivery] = await log(transactionId);
    assert.equal(delivery!.status, 'delivered');
    assert.equal(delivery!.attempt_count, 3);
    assert.deepEqual(
      delivery!.attempts.map((attempt) => [attempt.attempt, attempt.status_code, attempt.outcome]),
      [
        [1, 500, 'retry'],
        [2, 500, 'retry'],
        [3, 200, 'delivered'],
      ],
    );
    for (const attempt of delivery!.attempts) assert.ok(Number.isInteger(attempt.latency_ms) && attempt.latency_ms! >= 0);
    const attemptHeaders = receiver.requests.filter((request) => request.url.startsWith('/flaky')).map((request) => request.headers['kasse-delivery-attempt']);
    assert.deepEqual(attemptHeaders, ['1', '2', '3']);

    // The backoffice's transaction page lists the delivery with its attempts.
    await createStaff(h);
    const staff = new BackofficeClient(h);
    await staff.login();
    const page = (await staff.get(`/backoffice/transactions/${transactionId}`)).body;
    const section = page.slice(page.indexOf('id="deliveries-h"'));
    assert.match(section, /Callbacks and webhooks/);
    assert.match(section, /#1 HTTP 500 · \d+ ms[\s\S]*#2 HTTP 500 · \d+ ms[\s\S]*#3 HTTP 200 · \d+ ms/);
    assert.match(section, />delivered</);
  });

  test('a 404 stops the delivery; resend sends it again and the log continues', async () => {
    receiver.answerNext(404);
    const transactionId = await withCallback('/gone');
    await deliver();
    h.clock.advance(3_600_000);
    assert.equal((await deliver()).length, 0, 'a 4xx is permanent');
    let [delivery] = await log(transactionId);
    assert.equal(delivery!.status, 'failed');
    assert.deepEqual(delivery!.attempts.map((attempt) => attempt.status_code), [404]);

    const resent = await h.request({ method: 'POST', url: `/v1/accounts/${ACCOUNT}/hooks/deliveries/${delivery!.id}/resend`, headers: bearer(h) });
    assert.equal(resent.statusCode, 200, resent.body);
    assert.equal(resent.json().status, 'pending');
    assert.equal((await deliver()).length, 1);
    [delivery] = await log(transactionId);
    assert.equal(delivery!.status, 'delivered');
    assert.deepEqual(
      delivery!.attempts.map((attempt) => [attempt.attempt, attempt.status_code, attempt.outcome]),
      [
        [1, 404, 'failed'],
        [2, 200, 'delivered'],
      ],
    );
    const missing = await h.request({ method: 'POST', url: `/v1/accounts/${ACCOUNT}/hooks/deliveries/${randomUUID()}/resend`, headers: bearer(h) });
    assert.equal(missing.statusCode, 404);
  });

  test('no answer within the timeout is a failed attempt that is retried; a later event waits for it', async () => {
    receiver.answerNext('hang');
    const sessionUrl = `${receiver.origin}/slow?report_event=CAPTURE`;
    const transactionId = await authorizedTransaction(h, { sessionExtra: { url: { return_url: 'https://shop.example/return', callback_url: sessionUrl } } });
    await deliver();
    assert.equal((await operation(h, transactionId, 'capture', { amount: 1000 })).statusCode, 200);
    assert.equal((await deliver()).length, 0, 'the capture callback waits for the authorization callback');
    const deliveries = await log(transactionId);
    const authorization = deliveries.find((delivery) => delivery.event === 'AUTHORIZE')!;
    assert.equal(authorization.attempts[0]!.status_code, null);
    assert.match(authorization.attempts[0]!.error!, /no answer within 300 ms/);
    h.clock.advance(1000);
    const sent = await deliver();
    assert.deepEqual(
      sent.map((request) => new URL(request.url, 'http://x').searchParams.get('event')),
      [null, 'CAPTURE'],
    );
  });

  test('production accounts: https only, and never to loopback, private or link-local addresses', async () => {
    const production = await h.tokenFor('P00000001');
    const refused = [
      'http://shop.example/hooks',
      'https://127.0.0.1/hooks',
      'https://localhost/hooks',
      'https://[::1]/hooks',
      'https://10.0.0.8/hooks',
      'https://192.168.1.10/hooks',
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:127.0.0.1]/hooks',
      'https://2130706433/hooks',
    ];
    for (const url of refused) {
      const response = await h.request({
        method: 'POST',
        url: '/v1/accounts/P00000001/hooks/subscriptions',
        headers: bearer(h, production),
        payload: { config: { url }, events: ['checkout_transaction'] },
      });
      assert.equal(response.statusCode, 400, `${url}: ${response.body}`);
      assert.equal(response.json().error.code, 'URL_NOT_ALLOWED');
    }
    const session = await h.request({
      method: 'POST',
      url: '/v1/sessions-profile',
      headers: bearer(h, production),
      payload: {
        profile_id: 'default',
        url: { return_url: 'https://shop.example/return', callback_url: 'http://shop.example/callback' },
        order: { amount: 100, currency: 'NOK', merchant_reference: 'p-callback' },
      },
    });
    assert.equal(session.statusCode, 400);
    assert.equal(session.json().error.code, 'URL_NOT_ALLOWED');
    // Sandbox accounts may use http and loopback.
    const sandbox = await createSession(h, { sessionExtra: { url: { return_url: 'https://shop.example/return', callback_url: 'http://localhost:1/cb' } } });
    assert.ok(sandbox);
  });

  test('production deliveries are checked again after DNS resolution (rebinding)', async () => {
    // A production account cannot pay in the sandbox, so its outbox row is written directly.
    dns.set('rebind.example', [{ address: '127.0.0.1', family: 4 }]);
    const id = randomUUID();
    const now = h.clock.now();
    await h.store.insertDeliveries([
      {
        id,
        accountId: 'P00000001',
        transactionId: 'P00000001.1111111111111111111111',
        kind: 'callback',
        subscriptionId: null,
        target: 'callback',
        event: 'AUTHORIZE',
        eventSeq: 2,
        method: 'GET',
        url: 'https://rebind.example/callback?transaction_id=P00000001.1111111111111111111111',
        body: null,
        status: 'pending',
        attemptCount: 0,
        maxAttempts: 20,
        dueAtMs: now.getTime(),
        lastStatusCode: null,
        lastError: null,
        deliveredAt: null,
        createdAt: now.toISOString(),
      },
    ]);
    const before = receiver.requests.length;
    await h.app.deliveryWorker.sweep();
    assert.equal(receiver.requests.length, before);
    const delivery = await h.store.getDelivery('P00000001', id);
    assert.equal(delivery!.status, 'failed');
    assert.match(delivery!.lastError!, /127\.0\.0\.1, which is not a public address/);
  });
});
