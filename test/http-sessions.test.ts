/**
 * Checkout sessions over HTTP (§4, §5): create from a profile or a configuration, read,
 * list with keyset paging, cancel, and the customer-facing pay for every sandbox product.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PUBLIC_URL,
  bearer,
  createSession,
  defaultItems,
  pay,
  readTransaction,
  sessionPayload,
  startHarness,
  type Harness,
  type OrderOptions,
} from './support/harness.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const SESSION_ID = /^T00000001\.[1-9A-HJ-NP-Za-km-z]{22}$/;

function assertError(response: { statusCode: number; json(): any }, status: number, code: string): void {
  assert.equal(response.statusCode, status, `expected ${status} ${code}, got ${response.statusCode} ${JSON.stringify(response.json())}`);
  assert.equal(response.json().error.code, code);
}

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

function createWithProfile(body: Record<string, unknown>) {
  return h.request({ method: 'POST', url: '/v1/sessions-profile', headers: bearer(h), payload: body });
}

function createWithConfiguration(configuration: Record<string, unknown>, options: OrderOptions = {}) {
  return h.request({ method: 'POST', url: '/v1/sessions', headers: bearer(h), payload: { ...sessionPayload(options), configuration } });
}

function getSession(id: string) {
  return h.request({ method: 'GET', url: `/v1/sessions/${id}`, headers: bearer(h) });
}

function cancel(id: string) {
  return h.request({ method: 'POST', url: `/v1/sessions/${id}/cancel`, headers: bearer(h) });
}

function listSessions(query = '') {
  return h.request({ method: 'GET', url: `/v1/sessions${query}`, headers: bearer(h) });
}

describe('creating sessions', () => {
  test('POST /v1/sessions-profile with the default profile answers id and hosted-page url', async () => {
    const response = await createWithProfile({ profile_id: 'default', ...sessionPayload({ merchantReference: 'profile-order' }) });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.match(body.id, SESSION_ID);
    assert.equal(body.url, `${PUBLIC_URL}/v1/view/${body.id}`);
    const session = (await getSession(body.id)).json();
    assert.equal(session.id, body.id);
    assert.equal(session.status, 'ACTIVE');
    assert.equal(session.order.merchant_reference, 'profile-order');
    assert.equal(session.order.amount, 1000);
    assert.equal(session.transaction_id, undefined);
    assert.equal(session.events.length, 1);
  });

  test('POST /v1/sessions takes an explicit payment configuration', async () => {
    const response = await createWithConfiguration({ klarna: { klarna: { enabled: true } }, vipps: { enabled: true } });
    assert.equal(response.statusCode, 200);
    const { id, url } = response.json();
    assert.match(id, SESSION_ID);
    assert.equal(url, `${PUBLIC_URL}/v1/view/${id}`);
    const session = (await getSession(id)).json();
    assert.deepEqual(session.configuration, { klarna: { klarna: { enabled: true } }, vipps: { enabled: true } });
  });

  test('a configuration that enables nothing is 400', async () => {
    assertError(await createWithConfiguration({ vipps: { enabled: false } }), 400, 'INVALID_REQUEST');
  });

  test('an unknown profile is 400 UNKNOWN_PROFILE', async () => {
    assertError(await createWithProfile({ profile_id: 'no-such-profile', ...sessionPayload() }), 400, 'UNKNOWN_PROFILE');
  });

  test('return_url and merchant_reference are required', async () => {
    const body = sessionPayload() as { url: Record<string, unknown>; order: Record<string, unknown> };
    assertError(await createWithProfile({ profile_id: 'default', order: body.order }), 400, 'INVALID_REQUEST');
    const { merchant_reference: _ref, ...order } = body.order;
    assertError(await createWithProfile({ profile_id: 'default', url: body.url, order }), 400, 'INVALID_REQUEST');
  });

  test('items plus shipping must equal the amount (400 ITEMS_AMOUNT_MISMATCH)', async () => {
    const shippingOption = { id: 'bring', line_id: 'ship-1', amount: 99, operator: 'Bring', title: 'Standard' };
    assertError(await createWithProfile({ profile_id: 'default', ...sessionPayload({ amount: 1001, items: defaultItems() }) }), 400, 'ITEMS_AMOUNT_MISMATCH');
    assertError(await createWithProfile({ profile_id: 'default', ...sessionPayload({ amount: 999, items: defaultItems() }) }), 400, 'ITEMS_AMOUNT_MISMATCH');
    assertError(
      await createWithProfile({ profile_id: 'default', ...sessionPayload({ amount: 1000, items: defaultItems(), shippingOption }) }),
      400,
      'ITEMS_AMOUNT_MISMATCH',
    );
    const exact = await createWithProfile({ profile_id: 'default', ...sessionPayload({ amount: 1099, items: defaultItems(), shippingOption }) });
    assert.equal(exact.statusCode, 200);
  });

  test('partial_payment allows an amount below the items total, never above', async () => {
    const lower = await createWithProfile({ profile_id: 'default', ...sessionPayload({ amount: 500, items: defaultItems(), partialPayment: true }) });
    assert.equal(lower.statusCode, 200);
    assertError(
      await createWithProfile({ profile_id: 'default', ...sessionPayload({ amount: 1001, items: defaultItems(), partialPayment: true }) }),
      400,
      'ITEMS_AMOUNT_MISMATCH',
    );
  });

  test('duplicate line_ids are 400', async () => {
    const items = [
      { line_id: '1', amount: 500 },
      { line_id: '1', amount: 500 },
    ];
    assertError(await createWithProfile({ profile_id: 'default', ...sessionPayload({ amount: 1000, items }) }), 400, 'DUPLICATE_LINE_ID');
  });
});

describe('reading and listing sessions', () => {
  test('GET an unknown session is 404 SESSION_NOT_FOUND', async () => {
    assertError(await getSession('T00000001.1111111111111111111111'), 404, 'SESSION_NOT_FOUND');
    assertError(await getSession('not-an-id'), 404, 'SESSION_NOT_FOUND');
  });

  test('the list is newest first and pages with limit and starting_after without duplicates', async () => {
    const local = await startHarness();
    try {
      const created: string[] = [];
      for (let i = 0; i < 7; i += 1) {
        created.push(await createSession(local, { merchantReference: `page-${i}` }));
        local.clock.advance(1000);
      }
      const newestFirst = [...created].reverse();
      const seen: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const response = await local.request({
          method: 'GET',
          url: `/v1/sessions?limit=3${cursor === undefined ? '' : `&starting_after=${cursor}`}`,
          headers: bearer(local),
        });
        assert.equal(response.statusCode, 200);
        const page = response.json() as Array<{ id: string }>;
        assert.ok(page.length <= 3);
        if (page.length === 0) break;
        seen.push(...page.map((session) => session.id));
        cursor = page.at(-1)!.id;
      }
      assert.deepEqual(seen, newestFirst);
      const byReference = await local.request({ method: 'GET', url: '/v1/sessions?merchant_reference=page-4', headers: bearer(local) });
      assert.deepEqual(byReference.json().map((s: { id: string }) => s.id), [created[4]]);
    } finally {
      await local.close();
    }
  });

  test('limit outside 1..100 and an unknown cursor are 400', async () => {
    assertError(await listSessions('?limit=0'), 400, 'INVALID_REQUEST');
    assertError(await listSessions('?limit=101'), 400, 'INVALID_REQUEST');
    assertError(await listSessions('?limit=ten'), 400, 'INVALID_REQUEST');
    assertError(await listSessions('?starting_after=T00000001.1111111111111111111111'), 400, 'INVALID_REQUEST');
  });

  test('the default page size is 10', async () => {
    for (let i = 0; i < 11; i += 1) await createSession(h);
    assert.equal((await listSessions()).json().length, 10);
  });
});

describe('cancelling sessions', () => {
  test('an unpaid session can be cancelled once; a second cancel is 409', async () => {
    const id = await createSession(h);
    const cancelled = await cancel(id);
    assert.equal(cancelled.statusCode, 200);
    assert.equal(cancelled.json().status, 'CANCELLED');
    assert.equal((await getSession(id)).json().status, 'CANCELLED');
    assertError(await cancel(id), 409, 'SESSION_NOT_CANCELLABLE');
  });

  test('a cancelled session cannot be paid (409) and gets no transaction', async () => {
    const id = await createSession(h);
    assert.equal((await cancel(id)).statusCode, 200);
    assertError(await pay(h, id), 409, 'SESSION_NOT_PAYABLE');
    assert.equal((await getSession(id)).json().transaction_id, undefined);
  });

  test('cancelling a paid, uncaptured session voids its authorization', async () => {
    const id = await createSession(h);
    const paid = await pay(h, id);
    assert.equal(paid.statusCode, 200);
    const transactionId = paid.json().transaction_id;
    const cancelled = await cancel(id);
    assert.equal(cancelled.statusCode, 200);
    assert.equal(cancelled.json().status, 'CANCELLED');
    assert.equal(cancelled.json().transaction_id, transactionId);
    const transaction = await readTransaction(h, transactionId);
    assert.equal(transaction.status, 'AUTHORIZATION_VOIDED');
    assert.equal(transaction.voided_amount, 1000);
    const last = transaction.events.at(-1)!;
    assert.equal(last.event, 'VOID');
    assert.equal(last.success, true);
    assert.equal(last.amount, 1000);
    assert.equal(last.created_by, 'test-client');
    assertError(await cancel(id), 409, 'SESSION_NOT_CANCELLABLE');
  });

  test('a session whose transaction is captured cannot be cancelled (409) and nothing changes', async () => {
    const id = await createSession(h);
    const transactionId = (await pay(h, id)).json().transaction_id;
    const captured = await h.request({ method: 'POST', url: `/v1/transactions/${transactionId}/capture`, headers: bearer(h), payload: { amount: 400 } });
    assert.equal(captured.statusCode, 200);
    const before = await readTransaction(h, transactionId);
    const sessionBefore = (await getSession(id)).json();
    assertError(await cancel(id), 409, 'SESSION_NOT_CANCELLABLE');
    assert.deepEqual(await readTransaction(h, transactionId), before);
    assert.deepEqual((await getSession(id)).json(), sessionBefore);
  });

  test('an unknown session is 404', async () => {
    assertError(await cancel('T00000001.1111111111111111111111'), 404, 'SESSION_NOT_FOUND');
  });
});

describe('paying', () => {
  test('paying needs no merchant token and redirects with transaction_id, merchant_reference and session_id', async () => {
    const id = await createSession(h, { merchantReference: 'redirect-order' });
    const response = await pay(h, id, { payment_product_type: 'vipps', sandbox: { outcome: 'authorized' } });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.success, true);
    assert.match(body.transaction_id, SESSION_ID);
    const redirect = new URL(body.redirect_url);
    assert.equal(`${redirect.origin}${redirect.pathname}`, 'https://shop.example/return');
    assert.equal(redirect.searchParams.get('transaction_id'), body.transaction_id);
    assert.equal(redirect.searchParams.get('merchant_reference'), 'redirect-order');
    assert.equal(redirect.searchParams.get('session_id'), id);
    assert.equal(redirect.searchParams.get('error'), null);
    const session = (await getSession(id)).json();
    assert.equal(session.status, 'PAID');
    assert.equal(session.transaction_id, body.transaction_id);
    const transaction = await readTransaction(h, body.transaction_id);
    assert.equal(transaction.session_id, id);
    assert.equal(transaction.merchant_reference, 'redirect-order');
    assert.equal(transaction.amount, 1000);
    assert.equal(transaction.currency, 'NOK');
  });

  test('a session is paid at most once: the second pay is 409', async () => {
    const id = await createSession(h);
    const first = await pay(h, id);
    assert.equal(first.statusCode, 200);
    assertError(await pay(h, id), 409, 'SESSION_NOT_PAYABLE');
    assertError(await pay(h, id, { payment_product_type: 'vipps' }), 409, 'SESSION_NOT_PAYABLE');
    assert.equal((await getSession(id)).json().transaction_id, first.json().transaction_id);
    const list = await h.request({ method: 'GET', url: `/v1/transactions?session_id=${id}`, headers: bearer(h) });
    assert.deepEqual(list.json().map((t: { id: string }) => t.id), [first.json().transaction_id]);
  });

  test('a product the configuration did not enable is 400 PAYMENT_PRODUCT_NOT_ENABLED', async () => {
    const created = await createWithConfiguration({ klarna: { klarna: { enabled: true } } });
    const id = created.json().id;
    assertError(await pay(h, id, { payment_product_type: 'vipps' }), 400, 'PAYMENT_PRODUCT_NOT_ENABLED');
    assertError(await pay(h, id, { payment_product_type: 'klarna.billie' }), 400, 'PAYMENT_PRODUCT_NOT_ENABLED');
    assert.equal((await getSession(id)).json().status, 'ACTIVE');
    assert.equal((await pay(h, id, { payment_product_type: 'klarna.klarna' })).statusCode, 200);
  });

  test('an unknown product type, outcome or session is refused', async () => {
    const id = await createSession(h);
    assertError(await pay(h, id, { payment_product_type: 'acme.cash' }), 400, 'INVALID_REQUEST');
    assertError(await pay(h, id, { payment_product_type: 'vipps', sandbox: { outcome: 'maybe' } }), 400, 'INVALID_REQUEST');
    assertError(await pay(h, id, {}), 400, 'INVALID_REQUEST');
    assertError(await pay(h, 'T00000001.1111111111111111111111'), 404, 'SESSION_NOT_FOUND');
    assertError(await pay(h, 'garbage'), 404, 'SESSION_NOT_FOUND');
    assert.equal((await getSession(id)).json().status, 'ACTIVE');
  });

  test('a declined payment answers success:false, redirects with error=authorization, and leaves the session payable', async () => {
    const id = await createSession(h, { merchantReference: 'declined-order' });
    const response = await pay(h, id, { payment_product_type: 'payex.creditcard', sandbox: { outcome: 'declined' } });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.success, false);
    const redirect = new URL(body.redirect_url);
    assert.equal(redirect.searchParams.get('error'), 'authorization');
    assert.equal(redirect.searchParams.get('merchant_reference'), 'declined-order');
    assert.equal(redirect.searchParams.get('session_id'), id);
    const transaction = await readTransaction(h, body.transaction_id);
    assert.equal(transaction.status, 'DECLINED');
    const authorize = transaction.events.find((event) => event.event === 'AUTHORIZE')!;
    assert.equal(authorize.success, false);
    assert.equal(authorize.transaction_status, 'DECLINED');
    assert.equal(typeof authorize.error?.message, 'string');
    assertError(await h.request({ method: 'POST', url: `/v1/transactions/${body.transaction_id}/capture`, headers: bearer(h), payload: { amount: 1000 } }), 409, 'TRANSACTION_NOT_CAPTURABLE');
    const session = (await getSession(id)).json();
    assert.equal(session.status, 'ACTIVE');
    assert.equal(session.transaction_id, undefined);
    const retry = await pay(h, id, { payment_product_type: 'vipps' });
    assert.equal(retry.statusCode, 200);
    assert.equal(retry.json().success, true);
    assert.equal((await getSession(id)).json().transaction_id, retry.json().transaction_id);
  });

  test('a failed payment redirects with error=failed and the transaction is FAILED', async () => {
    const id = await createSession(h);
    const body = (await pay(h, id, { payment_product_type: 'vipps', sandbox: { outcome: 'failed' } })).json();
    assert.equal(body.success, false);
    assert.equal(new URL(body.redirect_url).searchParams.get('error'), 'failed');
    assert.equal((await readTransaction(h, body.transaction_id)).status, 'FAILED');
  });

  test('the shipping option becomes a transaction line of type "shipping"', async () => {
    const shippingOption = { id: 'bring-1', line_id: 'ship-1', amount: 99, operator: 'Bring', title: 'Standard', vat: 25 };
    const id = await createSession(h, { amount: 1099, items: defaultItems(), shippingOption });
    const transaction = await readTransaction(h, (await pay(h, id)).json().transaction_id);
    assert.equal(transaction.amount, 1099);
    assert.deepEqual(transaction.items.map((item) => item.line_id), ['1', '2', 'ship-1']);
    const shipping = transaction.items.find((item) => item.line_id === 'ship-1')!;
    assert.equal(shipping.type, 'shipping');
    assert.equal(shipping.amount, 99);
    assert.equal(shipping.captured_amount, 0);
    assert.equal((transaction.shipping_option as { id: string }).id, 'bring-1');
    const captured = await h.request({
      method: 'POST',
      url: `/v1/transactions/${transaction.id}/capture`,
      headers: bearer(h),
      payload: { amount: 99, items: [{ line_id: 'ship-1', amount: 99 }] },
    });
    assert.equal(captured.statusCode, 200);
    assert.equal(captured.json().items.find((item: { line_id: string }) => item.line_id === 'ship-1').captured_amount, 99);
  });

  test('Dintero-System-* headers on pay are stored as initiating_system_request_headers', async () => {
    const id = await createSession(h);
    const headers = {
      'Dintero-System-Name': 'woocommerce',
      'Dintero-System-Version': '8.1.0',
      'Dintero-System-Plugin-Name': 'Dintero.Checkout.WooCommerce',
      'Dintero-System-Plugin-Version': '2024.07.01',
      'X-Other': 'not recorded',
    };
    const transaction = await readTransaction(h, (await pay(h, id, { payment_product_type: 'klarna.klarna' }, headers)).json().transaction_id);
    assert.deepEqual(transaction.initiating_system_request_headers, {
      'dintero-system-name': 'woocommerce',
      'dintero-system-version': '8.1.0',
      'dintero-system-plugin-name': 'Dintero.Checkout.WooCommerce',
      'dintero-system-plugin-version': '2024.07.01',
    });
  });
});

describe('every sandbox product', () => {
  const table: Array<{ type: string; product: string; days: number | null; card: boolean }> = [
    { type: 'klarna.klarna', product: 'klarna', days: 28, card: false },
    { type: 'klarna.billie', product: 'klarna', days: 28, card: false },
    { type: 'vipps', product: 'vipps', days: 7, card: false },
    { type: 'payex.creditcard', product: 'payex', days: 7, card: true },
    { type: 'payex.mobilepay', product: 'payex', days: 7, card: false },
    { type: 'payex.vipps', product: 'payex', days: 7, card: false },
    { type: 'payex.applepay', product: 'payex', days: 7, card: true },
    { type: 'payex.googlepay', product: 'payex', days: 7, card: true },
    { type: 'payex.clicktopay', product: 'payex', days: 7, card: true },
    { type: 'bambora.creditcard', product: 'bambora', days: 7, card: true },
    { type: 'netaxept.creditcard', product: 'netaxept', days: 7, card: true },
    { type: 'dintero_psp.creditcard', product: 'dintero_psp', days: 7, card: true },
    { type: 'collector.invoice', product: 'collector', days: 90, card: false },
    { type: 'collector.invoice_b2b', product: 'collector', days: 90, card: false },
    { type: 'collector.installment', product: 'collector', days: 90, card: false },
    { type: 'instabank.invoice', product: 'instabank', days: 28, card: false },
    { type: 'swish.swish', product: 'swish', days: null, card: false },
  ];

  for (const row of table) {
    test(`${row.type}: ${row.days === null ? 'captured at payment, no expiry' : `authorized for ${row.days} days`}${row.card ? ', with a masked card' : ''}`, async () => {
      const id = await createSession(h);
      const response = await pay(h, id, { payment_product_type: row.type, sandbox: { outcome: 'authorized' } });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().success, true);
      const transaction = await readTransaction(h, response.json().transaction_id);
      assert.equal(transaction.payment_product_type, row.type);
      assert.equal(transaction.payment_product, row.product);
      assert.equal(transaction.amount, 1000);
      if (row.days === null) {
        assert.equal(transaction.status, 'CAPTURED');
        assert.equal(transaction.authorization_expires_at, null);
        assert.equal(transaction.captured_amount, 1000);
        assert.deepEqual(transaction.events.map((event) => event.event), ['INITIALIZE', 'AUTHORIZE', 'CAPTURE']);
        assert.ok(transaction.items.every((item) => item.captured_amount === item.amount));
      } else {
        assert.equal(transaction.status, 'AUTHORIZED');
        assert.equal(transaction.captured_amount, 0);
        assert.equal(transaction.remaining_capture_amount, 1000);
        assert.deepEqual(transaction.events.map((event) => event.event), ['INITIALIZE', 'AUTHORIZE']);
        assert.equal(typeof transaction.authorization_expires_at, 'string');
        assert.equal(Date.parse(transaction.authorization_expires_at!) - Date.parse(transaction.created_at), row.days * DAY_MS);
      }
      if (row.card) {
        const card = transaction.card as Record<string, unknown> | undefined;
        assert.ok(card, 'card products carry a card');
        assert.match(String(card.masked_pan), /^\d{6}\*+\d{4}$/);
      } else {
        assert.equal(transaction.card, undefined);
      }
      assert.deepEqual(transaction.events.map((event) => event.id), transaction.events.map((_, index) => String(index + 1)));
    });
  }

  test('collector on_hold gives ON_HOLD; on_hold is refused for products without it', async () => {
    const held = (await pay(h, await createSession(h), { payment_product_type: 'collector.invoice', sandbox: { outcome: 'on_hold' } })).json();
    assert.equal((await readTransaction(h, held.transaction_id)).status, 'ON_HOLD');
    const id = await createSession(h);
    assertError(await pay(h, id, { payment_product_type: 'vipps', sandbox: { outcome: 'on_hold' } }), 400, 'INVALID_REQUEST');
    assert.equal((await getSession(id)).json().status, 'ACTIVE');
  });
});
