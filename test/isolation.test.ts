/**
 * One account never sees another's data (§2, §14): every endpoint, called with the second
 * account's credentials on the first account's resources, is a 404 (never a 403 that would
 * confirm the resource exists) and changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { authorizedTransaction, bearer, createSession, startHarness, type Harness } from './support/harness.js';
import { BackofficeClient, createStaff } from './support/backoffice.js';

const A = 'T00000001';
const B = 'T00000002';
let h: Harness;
let tokenB: string;
let transactionId: string;
let heldId: string;
let sessionId: string;
let subscriptionId: string;
let deliveryId: string;

async function snapshot(): Promise<string> {
  const transactions = await h.store.listTransactions({ accountId: A, limit: 100 });
  const sessions = await h.store.listSessions({ accountId: A, limit: 100 });
  const subscriptions = await h.store.listSubscriptions(A);
  const account = await h.store.getAccount(A);
  return JSON.stringify([transactions.map((t) => [t.id, t.version]), sessions.map((s) => [s.id, s.version]), subscriptions.map((s) => s.id), account?.clockOffsetMs]);
}

before(async () => {
  h = await startHarness();
  tokenB = await h.tokenFor(B);
  transactionId = await authorizedTransaction(h, { customer: { email: 'owner@example.com', phone_number: '+4799999999' }, merchantReference: 'secret-order' });
  heldId = await authorizedTransaction(h, { productType: 'collector.invoice', outcome: 'on_hold' });
  sessionId = await createSession(h);
  const subscription = await h.request({
    method: 'POST',
    url: `/v1/accounts/${A}/hooks/subscriptions`,
    headers: bearer(h),
    payload: { config: { url: 'http://127.0.0.1:9/hook', content_type: 'application/json', secret: 'hook-secret' }, events: ['checkout_transaction'] },
  });
  assert.ok(subscription.statusCode < 300, subscription.body);
  subscriptionId = subscription.json().id;
  await h.request({ method: 'POST', url: `/v1/transactions/${transactionId}/capture`, headers: bearer(h), payload: { amount: 100 } });
  const deliveries = await h.request({ method: 'GET', url: `/v1/accounts/${A}/hooks/deliveries?transaction_id=${transactionId}`, headers: bearer(h) });
  const list = deliveries.json();
  deliveryId = (Array.isArray(list) ? list : list.deliveries)[0].id;
  assert.ok(deliveryId);
  await h.request({ method: 'POST', url: '/v1/admin/signature', headers: bearer(h) });
});

after(() => h.close());

test("every API endpoint refuses account B on account A's resources with 404 and changes nothing", async () => {
  const before = await snapshot();
  const calls: InjectOptions[] = [
    { method: 'GET', url: `/v1/transactions/${transactionId}` },
    { method: 'PUT', url: `/v1/transactions/${transactionId}`, payload: { merchant_reference_2: 'x' } },
    { method: 'POST', url: `/v1/transactions/${transactionId}/capture`, payload: { amount: 100 } },
    { method: 'POST', url: `/v1/transactions/${transactionId}/refund`, payload: { amount: 50 } },
    { method: 'POST', url: `/v1/transactions/${transactionId}/void` },
    { method: 'POST', url: `/v1/transactions/${transactionId}/authorization`, payload: { amount: 2000, items: [{ line_id: '1', amount: 2000 }] } },
    { method: 'GET', url: `/v1/sessions/${sessionId}` },
    { method: 'POST', url: `/v1/sessions/${sessionId}/cancel` },
    { method: 'GET', url: `/v1/accounts/${A}/sandbox/clock` },
    { method: 'POST', url: `/v1/accounts/${A}/sandbox/clock`, payload: { advance_seconds: 86_400 } },
    { method: 'POST', url: `/v1/accounts/${A}/sandbox/transactions/${heldId}/resolve`, payload: { outcome: 'authorized' } },
    { method: 'POST', url: `/v1/accounts/${B}/sandbox/transactions/${heldId}/resolve`, payload: { outcome: 'authorized' } },
    { method: 'GET', url: `/v1/accounts/${A}/hooks/subscriptions` },
    { method: 'POST', url: `/v1/accounts/${A}/hooks/subscriptions`, payload: { config: { url: 'http://127.0.0.1:9/x', content_type: 'application/json' }, events: ['checkout_transaction'] } },
    { method: 'DELETE', url: `/v1/accounts/${A}/hooks/subscriptions/${subscriptionId}` },
    { method: 'DELETE', url: `/v1/accounts/${B}/hooks/subscriptions/${subscriptionId}` },
    { method: 'GET', url: `/v1/accounts/${A}/hooks/deliveries?transaction_id=${transactionId}` },
    { method: 'POST', url: `/v1/accounts/${A}/hooks/deliveries/${deliveryId}/resend` },
    { method: 'POST', url: `/v1/accounts/${B}/hooks/deliveries/${deliveryId}/resend` },
  ];
  for (const call of calls) {
    const response = await h.request({ ...call, headers: bearer(h, tokenB) });
    assert.equal(response.statusCode, 404, `${call.method} ${call.url} answered ${response.statusCode}: ${response.body.slice(0, 200)}`);
  }
  assert.equal(await snapshot(), before);
});

test("lists and search under account B never show account A's data", async () => {
  for (const search of [transactionId, sessionId, 'secret-order', 'owner@example.com', '+4799999999']) {
    const response = await h.request({ method: 'GET', url: `/v1/transactions?search=${encodeURIComponent(search)}`, headers: bearer(h, tokenB) });
    assert.deepEqual(response.json(), [], search);
  }
  assert.deepEqual((await h.request({ method: 'GET', url: `/v1/transactions?session_id=${sessionId}`, headers: bearer(h, tokenB) })).json(), []);
  assert.deepEqual((await h.request({ method: 'GET', url: '/v1/sessions', headers: bearer(h, tokenB) })).json(), []);
  const deliveries = (await h.request({ method: 'GET', url: `/v1/accounts/${B}/hooks/deliveries?transaction_id=${transactionId}`, headers: bearer(h, tokenB) })).json();
  assert.equal((Array.isArray(deliveries) ? deliveries : deliveries.deliveries).length, 0);
  assert.deepEqual((await h.request({ method: 'GET', url: `/v1/accounts/${B}/hooks/subscriptions`, headers: bearer(h, tokenB) })).json().length ?? 0, 0);
  // The cursor of another account's transaction is not a valid cursor here.
  assert.equal((await h.request({ method: 'GET', url: `/v1/transactions?starting_after=${transactionId}`, headers: bearer(h, tokenB) })).statusCode, 400);
});

test("account B's signing secret is its own", async () => {
  const mine = await h.request({ method: 'GET', url: '/v1/admin/signature', headers: bearer(h) });
  const theirs = await h.request({ method: 'GET', url: '/v1/admin/signature', headers: bearer(h, tokenB) });
  assert.equal(mine.statusCode, 200);
  assert.notEqual(theirs.statusCode === 200 ? JSON.stringify(theirs.json()) : '', JSON.stringify(mine.json()));
});

test("a backoffice user of account B cannot open, act on or switch to account A's transactions", async () => {
  await createStaff(h, [B], 'only-b@example.com', 'b password long enough');
  const staff = new BackofficeClient(h);
  assert.equal((await staff.login('only-b@example.com', 'b password long enough')).statusCode, 303);
  const page = await staff.get(`/backoffice/transactions/${transactionId}`);
  assert.equal(page.statusCode, 404);
  assert.ok(!page.body.includes('secret-order'));
  const list = await staff.get(`/backoffice/transactions?search=${transactionId}`);
  assert.equal(list.statusCode, 200);
  assert.ok(!list.body.includes(`href="/backoffice/transactions/${transactionId}"`), 'the list links to nothing of account A');
  const csv = await staff.get('/backoffice/transactions.csv');
  assert.ok(!csv.body.includes('secret-order'));
  const before = await snapshot();
  const csrf = await staff.csrf();
  const action = await staff.post(`/backoffice/transactions/${transactionId}/capture`, { _csrf: csrf, mode: 'full', confirm: '1' });
  assert.ok([403, 404].includes(action.statusCode), `capture answered ${action.statusCode}`);
  const switched = await staff.post('/backoffice/account', { _csrf: csrf, account: A });
  assert.ok(switched.statusCode >= 400 || !(await staff.get('/backoffice/transactions')).body.includes('secret-order'), 'switching to account A is refused');
  assert.equal(await snapshot(), before);
});
