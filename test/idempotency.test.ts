/** Idempotency keys (§9): replay, conflict, concurrency, per-account scope; If-Match. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizedTransaction, getTransaction, operation, startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

test('the same key replayed gives the same answer and one event', async () => {
  const id = await authorizedTransaction(h);
  const first = await operation(h, id, 'capture', { amount: 300 }, { 'idempotency-key': 'capture-1' });
  assert.equal(first.statusCode, 200);
  assert.equal(first.headers['idempotent-replayed'], undefined);
  const second = await operation(h, id, 'capture', { amount: 300 }, { 'idempotency-key': 'capture-1' });
  assert.equal(second.statusCode, 200);
  assert.equal(second.headers['idempotent-replayed'], 'true');
  assert.deepEqual(second.json(), first.json());
  const transaction = (await getTransaction(h, id)).json();
  assert.equal(transaction.captured_amount, 300);
  assert.equal(transaction.events.filter((event: any) => event.event === 'CAPTURE').length, 1);
});

test('the same key with another body is 422 and changes nothing', async () => {
  const id = await authorizedTransaction(h);
  assert.equal((await operation(h, id, 'capture', { amount: 300 }, { 'idempotency-key': 'k-422' })).statusCode, 200);
  const before = (await getTransaction(h, id)).json();
  const reused = await operation(h, id, 'capture', { amount: 400 }, { 'idempotency-key': 'k-422' });
  assert.equal(reused.statusCode, 422);
  assert.equal(reused.json().error.code, 'IDEMPOTENCY_KEY_REUSED');
  assert.deepEqual((await getTransaction(h, id)).json(), before);
});

test('the same key on another path is 422', async () => {
  const id = await authorizedTransaction(h);
  assert.equal((await operation(h, id, 'capture', { amount: 100 }, { 'idempotency-key': 'k-path' })).statusCode, 200);
  const other = await operation(h, id, 'refund', { amount: 100 }, { 'idempotency-key': 'k-path' });
  assert.equal(other.statusCode, 422);
});

test('a rejected request stores no answer: the key can be retried once the state allows it', async () => {
  const id = await authorizedTransaction(h);
  const refused = await operation(h, id, 'refund', { amount: 100 }, { 'idempotency-key': 'k-retry' });
  assert.equal(refused.statusCode, 409);
  assert.equal((await operation(h, id, 'capture', { amount: 500 })).statusCode, 200);
  const retried = await operation(h, id, 'refund', { amount: 100 }, { 'idempotency-key': 'k-retry' });
  assert.equal(retried.statusCode, 200);
  assert.equal(retried.json().refunded_amount, 100);
});

test('concurrent requests with one key apply once', async () => {
  const id = await authorizedTransaction(h);
  const results = await Promise.all(
    Array.from({ length: 20 }, () => operation(h, id, 'capture', { amount: 100 }, { 'idempotency-key': 'k-concurrent' })),
  );
  for (const result of results) assert.ok([200, 409].includes(result.statusCode), `status ${result.statusCode}`);
  for (const result of results.filter((r) => r.statusCode === 409)) assert.equal(result.json().error.code, 'IDEMPOTENCY_KEY_IN_USE');
  const transaction = (await getTransaction(h, id)).json();
  assert.equal(transaction.captured_amount, 100);
  assert.equal(transaction.events.filter((event: any) => event.event === 'CAPTURE').length, 1);
});

test('keys are per account', async () => {
  const otherToken = await h.tokenFor('T00000077');
  const mine = await authorizedTransaction(h);
  const theirs = await authorizedTransaction(h, { token: otherToken });
  assert.equal((await operation(h, mine, 'capture', { amount: 100 }, { 'idempotency-key': 'shared-key' })).statusCode, 200);
  const other = await operation(h, theirs, 'capture', { amount: 100 }, { 'idempotency-key': 'shared-key' }, otherToken);
  assert.equal(other.statusCode, 200);
  assert.equal(other.headers['idempotent-replayed'], undefined);
  assert.equal(other.json().id, theirs);
});

test('an empty or over-long key is 400', async () => {
  const id = await authorizedTransaction(h);
  assert.equal((await operation(h, id, 'capture', { amount: 100 }, { 'idempotency-key': 'x'.repeat(256) })).statusCode, 400);
  assert.equal((await operation(h, id, 'capture', { amount: 100 }, { 'idempotency-key': '' })).statusCode, 400);
});

test('session creation and pay replay with their keys', async () => {
  const payload = {
    profile_id: 'default',
    url: { return_url: 'https://shop.example/return' },
    order: { amount: 500, currency: 'NOK', merchant_reference: 'idem-session' },
  };
  const create = () =>
    h.request({ method: 'POST', url: '/v1/sessions-profile', headers: { authorization: `Bearer ${h.token}`, 'idempotency-key': 'sess-1' }, payload });
  const first = await create();
  const second = await create();
  assert.equal(second.json().id, first.json().id);
  const pay = () =>
    h.request({
      method: 'POST',
      url: `/v1/sessions/${first.json().id}/pay`,
      headers: { 'idempotency-key': 'pay-1' },
      payload: { payment_product_type: 'vipps' },
    });
  const paid = await pay();
  const again = await pay();
  assert.equal(paid.statusCode, 200);
  assert.equal(again.statusCode, 200);
  assert.equal(again.json().transaction_id, paid.json().transaction_id);
});

test('If-Match: the current ETag passes, a stale one is 412 and changes nothing', async () => {
  const id = await authorizedTransaction(h);
  const read = await getTransaction(h, id);
  const etag = read.headers.etag as string;
  assert.match(etag, /^"\d+"$/);
  const ok = await operation(h, id, 'capture', { amount: 100 }, { 'if-match': etag });
  assert.equal(ok.statusCode, 200);
  assert.notEqual(ok.headers.etag, etag);
  const stale = await operation(h, id, 'capture', { amount: 100 }, { 'if-match': etag });
  assert.equal(stale.statusCode, 412);
  assert.equal(stale.json().error.code, 'PRECONDITION_FAILED');
  assert.equal((await getTransaction(h, id)).json().captured_amount, 100);
});
