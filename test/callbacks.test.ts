/**
 * §10 session callbacks against a real HTTP receiver on 127.0.0.1: the authorization
 * callback with Dintero's query and signature (checked here by recomputing the HMAC),
 * `method=POST`, `report_event`, `report_error`, `delay_callback` (on the wall clock and
 * the sandbox test clock), held transactions announced again when they resolve, and a
 * rolled-back change sending nothing. The delivery worker is driven with `sweep()`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { bearer, createSession, operation, pay, readTransaction, startHarness, type Harness } from './support/harness.js';
import { startReceiver, type Received, type Receiver } from './support/receiver.js';

const ACCOUNT = 'T00000001';

/** application/x-www-form-urlencoded, as the signature's query is written. */
function formEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Dintero's scheme, written out independently of src/webhooks/signature.ts. */
function expectedSignature(secret: string, method: string, received: Received, t: string): string {
  const url = new URL(received.url, 'http://127.0.0.1');
  const pairs = [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = pairs.map(([name, value]) => `${formEncode(name)}=${formEncode(value)}`).join('&');
  const payload = `${t}\n${ACCOUNT}\n${method}\n127.0.0.1\n${url.pathname}\n${query}`;
  return createHmac('sha256', secret).update(payload).digest('hex');
}

function queryOf(received: Received): URLSearchParams {
  return new URL(received.url, 'http://127.0.0.1').searchParams;
}

describe('session callbacks', () => {
  let h: Harness;
  let receiver: Receiver;

  before(async () => {
    h = await startHarness({ webhooks: { retryBaseMs: 1000, retryMaxMs: 8000 } });
    receiver = await startReceiver();
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  /** Pays a new session whose callback_url is the receiver's path + options; returns the transaction id. */
  async function paid(path: string, outcome = 'authorized', productType = 'klarna.klarna', extra: Record<string, unknown> = {}): Promise<string> {
    const sessionId = await createSession(h, {
      sessionExtra: { url: { return_url: 'https://shop.example/return', callback_url: `${receiver.origin}${path}` }, ...extra },
    });
    const response = await pay(h, sessionId, { payment_product_type: productType, sandbox: { outcome } });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().transaction_id;
  }

  /**
   * Runs the worker; returns what the receiver got since the last call (the background loop
   * may have sent some of it already: due times hold either way, so nothing comes early).
   */
  async function deliver(): Promise<Received[]> {
    await h.app.deliveryWorker.sweep();
    return receiver.unread();
  }

  test('the authorization callback: GET with transaction_id, session_id, merchant_reference, time; signed', async () => {
    const created = await h.request({ method: 'POST', url: '/v1/admin/signature', headers: bearer(h) });
    assert.equal(created.statusCode, 200, created.body);
    const { secret } = created.json() as { secret: string };
    assert.ok(secret.length >= 32);
    const read = await h.request({ method: 'GET', url: '/v1/admin/signature', headers: bearer(h) });
    assert.equal(read.json().secret, secret);

    const transactionId = await paid('/callback?shop=kasse');
    const transaction = await readTransaction(h, transactionId);
    const [callback, ...rest] = await deliver();
    assert.equal(rest.length, 0);
    assert.ok(callback);
    assert.equal(callback.method, 'GET');
    assert.equal(callback.body, '');
    const query = queryOf(callback);
    assert.equal(query.get('transaction_id'), transactionId);
    assert.equal(query.get('session_id'), transaction.session_id);
    assert.equal(query.get('merchant_reference'), transaction.merchant_reference);
    assert.equal(query.get('time'), transaction.created_at);
    assert.equal(query.get('shop'), 'kasse', "the URL's own query is kept");
    assert.equal(query.get('event'), null);

    const header = String(callback.headers['dintero-signature']);
    const match = /^t=(\d+),v0-hmac-sha256=([0-9a-f]{64})$/.exec(header);
    assert.ok(match, header);
    assert.ok(Math.abs(Number(match[1]) - h.clock.now().getTime() / 1000) < 5, 't is the sending time in unix seconds');
    assert.equal(match[2], expectedSignature(secret, 'GET', callback, match[1]!));
    assert.notEqual(match[2], expectedSignature(`${secret}x`, 'GET', callback, match[1]!), 'the check can fail');
  });

  test('method=POST sends the transaction as a JSON body, signed with POST', async () => {
    const { secret } = (await h.request({ method: 'GET', url: '/v1/admin/signature', headers: bearer(h) })).json() as { secret: string };
    const transactionId = await paid('/hooks/post?method=POST');
    const [callback] = await deliver();
    assert.ok(callback);
    assert.equal(callback.method, 'POST');
    assert.match(String(callback.headers['content-type']), /^application\/json/);
    const body = JSON.parse(callback.body);
    assert.equal(body.id, transactionId);
    assert.equal(body.status, 'AUTHORIZED');
    assert.deepEqual(body.events.map((event: { event: string }) => event.event), ['INITIALIZE', 'AUTHORIZE']);
    const [, t, hex] = /^t=(\d+),v0-hmac-sha256=(\w+)$/.exec(String(callback.headers['dintero-signature']))!;
    assert.equal(hex, expectedSignature(secret, 'POST', callback, t!));
  });

  test('report_event=CAPTURE and REFUND: one callback per event, in order, with event and event_id; VOID not reported', async () => {
    const transactionId = await paid('/events?report_event=CAPTURE&report_event=REFUND');
    assert.equal((await operation(h, transactionId, 'capture', { amount: 600, items: [{ line_id: '1', amount: 600 }] })).statusCode, 200);
    assert.equal((await operation(h, transactionId, 'refund', { amount: 100 })).statusCode, 200);
    assert.equal((await operation(h, transactionId, 'void')).statusCode, 200);
    // Everything is pending at once: the worker must still send them in event order.
    const callbacks = (await deliver()).filter((callback) => queryOf(callback).get('transaction_id') === transactionId);
    assert.deepEqual(
      callbacks.map((callback) => [queryOf(callback).get('event'), queryOf(callback).get('event_id')]),
      [
        [null, null],
        ['CAPTURE', '3'],
        ['REFUND', '4'],
      ],
    );
    const events = (await readTransaction(h, transactionId)).events;
    assert.equal(events[2]!.event, 'CAPTURE');
    assert.equal(events[3]!.event, 'REFUND');
    assert.equal(events[4]!.event, 'VOID');
  });

  test('report_error=true announces a declined payment with error=authorization; without it nothing is sent', async () => {
    const declined = await paid('/errors?report_error=true', 'declined');
    const silent = await paid('/quiet', 'declined');
    const callbacks = await deliver();
    assert.equal(callbacks.length, 1);
    const query = queryOf(callbacks[0]!);
    assert.equal(query.get('error'), 'authorization');
    assert.equal(query.get('transaction_id'), declined);
    assert.ok(!callbacks.some((callback) => queryOf(callback).get('transaction_id') === silent));
  });

  test('sid_parameter_name=sid sends the session id as sid', async () => {
    const transactionId = await paid('/sid?sid_parameter_name=sid');
    const [callback] = await deliver();
    const query = queryOf(callback!);
    assert.equal(query.get('sid'), (await readTransaction(h, transactionId)).session_id);
    assert.equal(query.get('session_id'), null);
  });

  test('delay_callback waits that long, on the wall clock and the account test clock together', async () => {
    const transactionId = await paid('/delayed?delay_callback=60');
    assert.deepEqual(await deliver(), [], 'not before the delay');
    h.clock.advance(20_000);
    assert.deepEqual(await deliver(), [], '20 of 60 seconds');
    const advanced = await h.request({
      method: 'POST',
      url: `/v1/accounts/${ACCOUNT}/sandbox/clock`,
      headers: bearer(h),
      payload: { advance_seconds: 39 },
    });
    assert.equal(advanced.statusCode, 200);
    assert.deepEqual(await deliver(), [], '59 of 60 seconds');
    h.clock.advance(1000);
    const [callback] = await deliver();
    assert.equal(queryOf(callback!).get('transaction_id'), transactionId);
  });

  test('a held transaction is announced when paid and again when it resolves', async () => {
    const transactionId = await paid('/held', 'on_hold', 'collector.invoice');
    const [first] = await deliver();
    assert.equal(queryOf(first!).get('transaction_id'), transactionId);
    const resolved = await h.request({
      method: 'POST',
      url: `/v1/accounts/${ACCOUNT}/sandbox/transactions/${transactionId}/resolve`,
      headers: bearer(h),
      payload: { outcome: 'failed' },
    });
    assert.equal(resolved.statusCode, 200, resolved.body);
    const [second, ...rest] = await deliver();
    assert.equal(rest.length, 0);
    assert.equal(queryOf(second!).get('transaction_id'), transactionId);
    assert.equal(queryOf(second!).get('error'), 'failed');
  });

  test('a refused operation sends nothing; the callback URL is checked when the session is created', async () => {
    const transactionId = await paid('/refused?report_event=CAPTURE');
    await deliver();
    const refused = await operation(h, transactionId, 'capture', { amount: 999_999 });
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(await deliver(), []);

    for (const callbackUrl of [`${receiver.origin}/x?report_event=SETTLE`, `${receiver.origin}/x?delay_callback=soon`, 'ftp://example.com/cb']) {
      const response = await h.request({
        method: 'POST',
        url: '/v1/sessions-profile',
        headers: bearer(h),
        payload: {
          profile_id: 'default',
          url: { return_url: 'https://shop.example/return', callback_url: callbackUrl },
          order: { amount: 100, currency: 'NOK', merchant_reference: 'bad-callback' },
        },
      });
      assert.equal(response.statusCode, 400, `${callbackUrl}: ${response.body}`);
    }
  });
});
