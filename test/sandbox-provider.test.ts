/**
 * Simulated provider answers (§5, §7): `fail` records a failed event and moves no money;
 * `async` answers 202 with an event-request-id, reserves the money, and completes later
 * with a correlated event. Plus auto_capture at payment and resolving held payments.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizedTransaction, bearer, getTransaction, operation, startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

/** Lets the simulated provider's due time pass and runs its worker. */
async function providerCompletes(ms: number): Promise<void> {
  h.clock.advance(ms);
  await h.app.providerWorker.sweep();
}

describe('async answers', () => {
  test('capture: 202 with event-request-id, INITIATE_CAPTURE, reserved money, then CAPTURE correlated', async () => {
    const id = await authorizedTransaction(h, { sandbox: { capture: 'async', async_delay_ms: 500 } });
    const initiated = await operation(h, id, 'capture', { amount: 600, capture_reference: 'ship-1' });
    assert.equal(initiated.statusCode, 202);
    const requestId = initiated.headers['event-request-id'] as string;
    assert.match(requestId, /^[0-9a-f-]{36}$/);
    const body = initiated.json();
    assert.equal(body.status, 'AUTHORIZED', 'the transaction is unchanged while in flight');
    assert.equal(body.captured_amount, 0);
    assert.equal(body.remaining_capture_amount, 400, 'the in-flight capture is reserved');
    const initiate = body.events.at(-1);
    assert.equal(initiate.event, 'INITIATE_CAPTURE');
    assert.equal(initiate.request_id, requestId);
    assert.equal(initiate.amount, 600);

    // Beyond the unreserved remainder: refused while the first is in flight.
    const beyond = await operation(h, id, 'capture', { amount: 500 });
    assert.equal(beyond.statusCode, 400);
    assert.equal(beyond.json().error.code, 'AMOUNT_EXCEEDS_CAPTURABLE');
    // Update authorization waits for the provider too.
    assert.equal((await operation(h, id, 'authorization', { amount: 2000, items: [{ line_id: '1', amount: 2000 }] })).statusCode, 409);

    await providerCompletes(100);
    assert.equal((await getTransaction(h, id)).json().captured_amount, 0, 'not before its delay');
    await providerCompletes(500);
    const completed = (await getTransaction(h, id)).json();
    assert.equal(completed.status, 'PARTIALLY_CAPTURED');
    assert.equal(completed.captured_amount, 600);
    assert.equal(completed.remaining_capture_amount, 400);
    const capture = completed.events.at(-1);
    assert.equal(capture.event, 'CAPTURE');
    assert.equal(capture.success, true);
    assert.equal(capture.correlation_request_id, requestId);
    assert.equal(capture.event_reference, 'ship-1');
    assert.equal(capture.created_by, 'test-client');
    assert.notEqual(capture.request_id, requestId);
  });

  test('refund and void in flight reserve their amounts too', async () => {
    const id = await authorizedTransaction(h, { sandbox: { refund: 'async', void: 'async', async_delay_ms: 50 } });
    assert.equal((await operation(h, id, 'capture', { amount: 600 })).statusCode, 200);
    const refunding = await operation(h, id, 'refund', { amount: 500 });
    assert.equal(refunding.statusCode, 202);
    assert.equal(refunding.json().remaining_refund_amount, 100);
    assert.equal((await operation(h, id, 'refund', { amount: 200 })).json().error.code, 'AMOUNT_EXCEEDS_REFUNDABLE');
    const voiding = await operation(h, id, 'void');
    assert.equal(voiding.statusCode, 202);
    assert.equal(voiding.json().events.at(-1).event, 'INITIATE_VOID');
    assert.equal(voiding.json().remaining_capture_amount, 0);
    await providerCompletes(60);
    const done = (await getTransaction(h, id)).json();
    assert.equal(done.refunded_amount, 500);
    assert.equal(done.voided_amount, 400);
    assert.equal(done.status, 'PARTIALLY_REFUNDED');
  });

  test('an in-flight operation survives a restart of the app: the worker finds it in the database', async () => {
    const id = await authorizedTransaction(h, { sandbox: { capture: 'async', async_delay_ms: 1000 } });
    assert.equal((await operation(h, id, 'capture', { amount: 1000 })).statusCode, 202);
    // A second app on the same store (as after a restart) completes it.
    const { buildApp } = await import('../src/http/app.js');
    const second = await buildApp({ store: h.store, clock: h.clock, logger: false, publicUrl: 'http://kasse.test' });
    h.clock.advance(1000);
    await second.providerWorker.sweep();
    await second.server.close();
    assert.equal((await getTransaction(h, id)).json().status, 'CAPTURED');
  });
});

describe('fail answers', () => {
  for (const [name, setup, payload] of [
    ['capture', async (_id: string) => undefined, { amount: 300 }],
    ['refund', async (id: string) => void (await operation(h, id, 'capture', { amount: 1000 })), { amount: 300 }],
    ['void', async (_id: string) => undefined, undefined],
  ] as const) {
    test(`${name}: 200, a failed event with an error, amounts and status unchanged`, async () => {
      const id = await authorizedTransaction(h, { sandbox: { [name]: 'fail' } });
      await setup(id);
      const before = (await getTransaction(h, id)).json();
      const response = await operation(h, id, name, payload);
      assert.equal(response.statusCode, 200);
      const after = response.json();
      const event = after.events.at(-1);
      assert.equal(event.event, name.toUpperCase());
      assert.equal(event.success, false);
      assert.equal(typeof event.error.code, 'string');
      assert.equal(typeof event.error.message, 'string');
      assert.equal(event.transaction_status, before.status);
      for (const field of ['status', 'amount', 'captured_amount', 'refunded_amount', 'voided_amount', 'remaining_capture_amount', 'remaining_refund_amount']) {
        assert.deepEqual(after[field], before[field], field);
      }
      assert.equal(after.events.length, before.events.length + 1);
    });
  }
});

describe('payment outcomes', () => {
  test('auto_capture captures at payment', async () => {
    const id = await authorizedTransaction(h, { sessionExtra: { configuration: { auto_capture: true } } });
    const transaction = (await getTransaction(h, id)).json();
    assert.equal(transaction.status, 'CAPTURED');
    assert.deepEqual(transaction.events.map((event: { event: string }) => event.event), ['INITIALIZE', 'AUTHORIZE', 'CAPTURE']);
    assert.deepEqual(transaction.items.map((item: { captured_amount: number }) => item.captured_amount), [600, 400]);
  });

  test('collector on_hold is ON_HOLD until resolved; resolving twice is 409', async () => {
    const id = await authorizedTransaction(h, { productType: 'collector.invoice', outcome: 'on_hold' });
    assert.equal((await getTransaction(h, id)).json().status, 'ON_HOLD');
    assert.equal((await operation(h, id, 'capture', { amount: 1000 })).statusCode, 409);
    const resolve = (outcome: string) =>
      h.request({ method: 'POST', url: `/v1/accounts/T00000001/sandbox/transactions/${id}/resolve`, headers: bearer(h), payload: { outcome } });
    const resolved = await resolve('authorized');
    assert.equal(resolved.statusCode, 200);
    assert.equal(resolved.json().status, 'AUTHORIZED');
    assert.equal(resolved.json().events.at(-1).event, 'AUTHORIZE');
    assert.equal((await resolve('failed')).json().error.code, 'AUTHORIZATION_NOT_PENDING');
    assert.equal((await operation(h, id, 'capture', { amount: 600, items: [{ line_id: '1', amount: 600 }] })).statusCode, 200);
  });

  test('unknown resolved as failed is FAILED', async () => {
    const id = await authorizedTransaction(h, { productType: 'vipps', outcome: 'unknown' });
    assert.equal((await getTransaction(h, id)).json().status, 'UNKNOWN');
    const resolved = await h.request({
      method: 'POST',
      url: `/v1/accounts/T00000001/sandbox/transactions/${id}/resolve`,
      headers: bearer(h),
      payload: { outcome: 'failed' },
    });
    assert.equal(resolved.json().status, 'FAILED');
    assert.equal(resolved.json().events.at(-1).success, false);
  });

  test('on_hold is refused for products that never hold', async () => {
    const session = await h.request({
      method: 'POST',
      url: '/v1/sessions-profile',
      headers: bearer(h),
      payload: { profile_id: 'default', url: { return_url: 'https://shop.example/r' }, order: { amount: 100, currency: 'NOK', merchant_reference: 'x' } },
    });
    const paid = await h.request({
      method: 'POST',
      url: `/v1/sessions/${session.json().id}/pay`,
      payload: { payment_product_type: 'vipps', sandbox: { outcome: 'on_hold' } },
    });
    assert.equal(paid.statusCode, 400);
  });
});
