/**
 * Transaction operations over HTTP (§6, §7): capture, refund, void, update authorization,
 * update and list. Every refusal is checked for its status, its error code, and that the
 * transaction is exactly as it was before (amounts, items, events, status, ETag).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authorizedTransaction,
  bearer,
  createSession,
  defaultItems,
  operation,
  pay,
  readTransaction,
  startHarness,
  type Harness,
  type OrderOptions,
  type TransactionBody,
} from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

type Response = Awaited<ReturnType<typeof operation>>;

function assertError(response: Response, status: number, code: string): void {
  assert.equal(response.statusCode, status, `expected ${status} ${code}, got ${response.statusCode} ${response.body}`);
  assert.equal(response.json().error.code, code);
}

/** Asserts the operation is refused with status and code, and that the transaction did not change. */
async function assertRefused(id: string, name: string, body: unknown, status: number, code: string): Promise<void> {
  const before = await readTransaction(h, id);
  assertError(await operation(h, id, name, body), status, code);
  assert.deepEqual(await readTransaction(h, id), before, `${name} ${JSON.stringify(body)} changed the transaction`);
}

async function ok(response: Response): Promise<TransactionBody> {
  assert.equal(response.statusCode, 200, response.body);
  return response.json() as TransactionBody;
}

function line(transaction: TransactionBody, lineId: string) {
  const found = transaction.items.find((item) => item.line_id === lineId);
  assert.ok(found, `line ${lineId}`);
  return found;
}

describe('capture', () => {
  test('partial captures until fully captured: PARTIALLY_CAPTURED then CAPTURED', async () => {
    const id = await authorizedTransaction(h);
    const first = await ok(await operation(h, id, 'capture', { amount: 300 }));
    assert.equal(first.status, 'PARTIALLY_CAPTURED');
    assert.equal(first.amount, 1000, 'capture never changes the authorized amount');
    assert.equal(first.captured_amount, 300);
    assert.equal(first.remaining_capture_amount, 700);
    assert.equal(first.remaining_refund_amount, 300);
    const second = await ok(await operation(h, id, 'capture', { amount: 200 }));
    assert.equal(second.status, 'PARTIALLY_CAPTURED');
    assert.equal(second.captured_amount, 500);
    const last = await ok(await operation(h, id, 'capture', { amount: 500 }));
    assert.equal(last.status, 'CAPTURED');
    assert.equal(last.captured_amount, 1000);
    assert.equal(last.remaining_capture_amount, 0);
    const captures = last.events.filter((event) => event.event === 'CAPTURE');
    assert.deepEqual(captures.map((event) => [event.amount, event.transaction_status, event.success]), [
      [300, 'PARTIALLY_CAPTURED', true],
      [200, 'PARTIALLY_CAPTURED', true],
      [500, 'CAPTURED', true],
    ]);
    assert.deepEqual(last.events.map((event) => event.id), ['1', '2', '3', '4', '5']);
    assert.deepEqual(await readTransaction(h, id).then(({ etag: _etag, ...rest }) => rest), last);
  });

  test('capture above the remainder is 400 AMOUNT_EXCEEDS_CAPTURABLE and changes nothing', async () => {
    const id = await authorizedTransaction(h);
    await assertRefused(id, 'capture', { amount: 1001 }, 400, 'AMOUNT_EXCEEDS_CAPTURABLE');
    await ok(await operation(h, id, 'capture', { amount: 600 }));
    await assertRefused(id, 'capture', { amount: 401 }, 400, 'AMOUNT_EXCEEDS_CAPTURABLE');
    assert.equal((await ok(await operation(h, id, 'capture', { amount: 400 }))).status, 'CAPTURED');
  });

  test('capture of zero is 400 and capture of a fully captured transaction is 409', async () => {
    const id = await authorizedTransaction(h);
    await assertRefused(id, 'capture', { amount: 0 }, 400, 'INVALID_AMOUNT');
    await ok(await operation(h, id, 'capture', { amount: 1000 }));
    await assertRefused(id, 'capture', { amount: 1 }, 409, 'TRANSACTION_NOT_CAPTURABLE');
  });

  test('capture items that do not sum to the amount are 400 ITEMS_AMOUNT_MISMATCH', async () => {
    const id = await authorizedTransaction(h);
    await assertRefused(id, 'capture', { amount: 600, items: [{ line_id: '1', amount: 500 }] }, 400, 'ITEMS_AMOUNT_MISMATCH');
    await assertRefused(id, 'capture', { amount: 600, items: [{ line_id: '1', amount: 600 }, { line_id: '2', amount: 100 }] }, 400, 'ITEMS_AMOUNT_MISMATCH');
  });

  test('an unknown line_id is 400 UNKNOWN_LINE_ID', async () => {
    const id = await authorizedTransaction(h);
    await assertRefused(id, 'capture', { amount: 100, items: [{ line_id: 'nope', amount: 100 }] }, 400, 'UNKNOWN_LINE_ID');
    await ok(await operation(h, id, 'capture', { amount: 1000 }));
    await assertRefused(id, 'refund', { amount: 100, items: [{ line_id: 'nope', amount: 100 }] }, 400, 'UNKNOWN_LINE_ID');
  });

  test('a line is never captured beyond its amount (400 LINE_AMOUNT_EXCEEDED)', async () => {
    const id = await authorizedTransaction(h);
    await assertRefused(id, 'capture', { amount: 700, items: [{ line_id: '1', amount: 700 }] }, 400, 'LINE_AMOUNT_EXCEEDED');
    await ok(await operation(h, id, 'capture', { amount: 500, items: [{ line_id: '1', amount: 500 }] }));
    await assertRefused(id, 'capture', { amount: 200, items: [{ line_id: '1', amount: 200 }] }, 400, 'LINE_AMOUNT_EXCEEDED');
  });

  test('capture by lines reports captured_amount per line and on the event', async () => {
    const id = await authorizedTransaction(h);
    const first = await ok(await operation(h, id, 'capture', { amount: 400, items: [{ line_id: '2', amount: 400 }] }));
    assert.equal(first.status, 'PARTIALLY_CAPTURED');
    assert.equal(line(first, '1').captured_amount, 0);
    assert.equal(line(first, '2').captured_amount, 400);
    const event = first.events.at(-1)!;
    assert.equal(event.event, 'CAPTURE');
    assert.deepEqual(event.items?.map((item) => [item.line_id, item.amount]), [['2', 400]]);
    await assertRefused(id, 'capture', { amount: 600, items: [{ line_id: '1', amount: 300 }, { line_id: '1', amount: 300 }] }, 400, 'DUPLICATE_LINE_ID');
    const rest = await ok(await operation(h, id, 'capture', { amount: 600, items: [{ line_id: '1', amount: 600 }] }));
    assert.equal(rest.status, 'CAPTURED');
    assert.deepEqual(rest.items.map((item) => [item.line_id, item.captured_amount, item.refunded_amount]), [
      ['1', 600, 0],
      ['2', 400, 0],
    ]);
  });

  test('capture_reference becomes event_reference; Dintero-System-* headers and created_by are recorded', async () => {
    const id = await authorizedTransaction(h);
    const transaction = await ok(
      await operation(h, id, 'capture', { amount: 1000, capture_reference: 'cap-ref-1' }, {
        'Dintero-System-Name': 'magento',
        'Dintero-System-Version': '2.4.7',
        'Dintero-System-Plugin-Name': 'Dintero_Checkout',
        'Dintero-System-Plugin-Version': '1.2.3',
        'User-Agent': 'not-a-system-header',
      }),
    );
    const event = transaction.events.at(-1)!;
    assert.equal(event.event, 'CAPTURE');
    assert.equal(event.event_reference, 'cap-ref-1');
    assert.equal(event.created_by, 'test-client');
    assert.equal(typeof event.request_id, 'string');
    assert.deepEqual(event.request_headers, {
      'dintero-system-name': 'magento',
      'dintero-system-version': '2.4.7',
      'dintero-system-plugin-name': 'Dintero_Checkout',
      'dintero-system-plugin-version': '1.2.3',
    });
  });

  test('created_by is the client id of the token used', async () => {
    const token = await h.tokenFor('T00000001', ['write:checkout']);
    const id = await authorizedTransaction(h);
    const transaction = await ok(await operation(h, id, 'capture', { amount: 100 }, {}, token));
    assert.match(String(transaction.events.at(-1)!.created_by), /^client-T00000001-\d+$/);
    assert.notEqual(transaction.events.at(-1)!.created_by, 'test-client');
  });

  test('an unknown transaction is 404', async () => {
    assertError(await operation(h, 'T00000001.1111111111111111111111', 'capture', { amount: 100 }), 404, 'TRANSACTION_NOT_FOUND');
    assertError(await h.request({ method: 'GET', url: '/v1/transactions/T00000001.1111111111111111111111', headers: bearer(h) }), 404, 'TRANSACTION_NOT_FOUND');
  });
});

describe('refund', () => {
  test('refund before any capture is 409 TRANSACTION_NOT_REFUNDABLE', async () => {
    const id = await authorizedTransaction(h);
    await assertRefused(id, 'refund', { amount: 100 }, 409, 'TRANSACTION_NOT_REFUNDABLE');
  });

  test('refund above captured − refunded is 400 AMOUNT_EXCEEDS_REFUNDABLE', async () => {
    const id = await authorizedTransaction(h);
    await ok(await operation(h, id, 'capture', { amount: 600 }));
    await assertRefused(id, 'refund', { amount: 601 }, 400, 'AMOUNT_EXCEEDS_REFUNDABLE');
    await ok(await operation(h, id, 'refund', { amount: 200 }));
    await assertRefused(id, 'refund', { amount: 401 }, 400, 'AMOUNT_EXCEEDS_REFUNDABLE');
  });

  test('refunds after a partial capture give PARTIALLY_CAPTURED_REFUNDED, and capture continues from there', async () => {
    const id = await authorizedTransaction(h);
    await ok(await operation(h, id, 'capture', { amount: 500 }));
    const refunded = await ok(await operation(h, id, 'refund', { amount: 100, refund_reference: 'rf-1', reason: 'damaged' }));
    assert.equal(refunded.status, 'PARTIALLY_CAPTURED_REFUNDED');
    assert.equal(refunded.refunded_amount, 100);
    assert.equal(refunded.remaining_refund_amount, 400);
    assert.equal(refunded.remaining_capture_amount, 500);
    const event = refunded.events.at(-1)!;
    assert.equal(event.event, 'REFUND');
    assert.equal(event.amount, 100);
    assert.equal(event.event_reference, 'rf-1');
    assert.equal(event.transaction_status, 'PARTIALLY_CAPTURED_REFUNDED');
    const captured = await ok(await operation(h, id, 'capture', { amount: 500 }));
    assert.equal(captured.status, 'PARTIALLY_REFUNDED');
    assert.equal(captured.captured_amount, 1000);
  });

  test('refunds until REFUNDED, then nothing is left to refund (409)', async () => {
    const id = await authorizedTransaction(h);
    await ok(await operation(h, id, 'capture', { amount: 1000 }));
    const partial = await ok(await operation(h, id, 'refund', { amount: 250 }));
    assert.equal(partial.status, 'PARTIALLY_REFUNDED');
    const more = await ok(await operation(h, id, 'refund', { amount: 250 }));
    assert.equal(more.status, 'PARTIALLY_REFUNDED');
    const full = await ok(await operation(h, id, 'refund', { amount: 500 }));
    assert.equal(full.status, 'REFUNDED');
    assert.equal(full.refunded_amount, 1000);
    assert.equal(full.remaining_refund_amount, 0);
    await assertRefused(id, 'refund', { amount: 1 }, 409, 'TRANSACTION_NOT_REFUNDABLE');
    await assertRefused(id, 'void', undefined, 409, 'TRANSACTION_NOT_VOIDABLE');
  });

  test('refund by lines reports refunded_amount per line, never above what the line captured', async () => {
    const id = await authorizedTransaction(h);
    await ok(await operation(h, id, 'capture', { amount: 1000 }));
    const first = await ok(await operation(h, id, 'refund', { amount: 150, items: [{ line_id: '1', amount: 150 }] }));
    assert.equal(line(first, '1').refunded_amount, 150);
    assert.equal(line(first, '2').refunded_amount, 0);
    assert.deepEqual(first.events.at(-1)!.items?.map((item) => [item.line_id, item.amount]), [['1', 150]]);
    await assertRefused(id, 'refund', { amount: 451, items: [{ line_id: '1', amount: 451 }] }, 400, 'LINE_AMOUNT_EXCEEDED');
    await assertRefused(id, 'refund', { amount: 100, items: [{ line_id: '2', amount: 50 }] }, 400, 'ITEMS_AMOUNT_MISMATCH');
    const rest = await ok(await operation(h, id, 'refund', { amount: 850, items: [{ line_id: '1', amount: 450 }, { line_id: '2', amount: 400 }] }));
    assert.equal(rest.status, 'REFUNDED');
    assert.deepEqual(rest.items.map((item) => [item.line_id, item.captured_amount, item.refunded_amount]), [
      ['1', 600, 600],
      ['2', 400, 400],
    ]);
  });

  test('a line captured in part can only be refunded up to its captured amount', async () => {
    const id = await authorizedTransaction(h);
    await ok(await operation(h, id, 'capture', { amount: 400, items: [{ line_id: '2', amount: 400 }] }));
    await assertRefused(id, 'refund', { amount: 100, items: [{ line_id: '1', amount: 100 }] }, 400, 'LINE_AMOUNT_EXCEEDED');
    const refunded = await ok(await operation(h, id, 'refund', { amount: 400, items: [{ line_id: '2', amount: 400 }] }));
    assert.equal(line(refunded, '2').refunded_amount, 400);
    assert.equal(refunded.status, 'PARTIALLY_CAPTURED_REFUNDED');
  });
});

describe('void', () => {
  test('void before capture voids everything: AUTHORIZATION_VOIDED, then capture and void are 409', async () => {
    const id = await authorizedTransaction(h);
    const voided = await ok(await operation(h, id, 'void'));
    assert.equal(voided.status, 'AUTHORIZATION_VOIDED');
    assert.equal(voided.voided_amount, 1000);
    assert.equal(voided.remaining_capture_amount, 0);
    assert.equal(voided.events.at(-1)!.event, 'VOID');
    assert.equal(voided.events.at(-1)!.amount, 1000);
    await assertRefused(id, 'capture', { amount: 100 }, 409, 'TRANSACTION_NOT_CAPTURABLE');
    await assertRefused(id, 'void', undefined, 409, 'TRANSACTION_NOT_VOIDABLE');
    await assertRefused(id, 'refund', { amount: 100 }, 409, 'TRANSACTION_NOT_REFUNDABLE');
  });

  test('void ignores an unexpected body', async () => {
    const id = await authorizedTransaction(h);
    const voided = await ok(await operation(h, id, 'void', { id }));
    assert.equal(voided.status, 'AUTHORIZATION_VOIDED');
  });

  test('void after full capture is 409 TRANSACTION_NOT_VOIDABLE', async () => {
    const id = await authorizedTransaction(h);
    await ok(await operation(h, id, 'capture', { amount: 1000 }));
    await assertRefused(id, 'void', undefined, 409, 'TRANSACTION_NOT_VOIDABLE');
  });

  test('klarna.klarna voids the remainder after a partial capture: status CAPTURED', async () => {
    const id = await authorizedTransaction(h, { productType: 'klarna.klarna' });
    await ok(await operation(h, id, 'capture', { amount: 300 }));
    const voided = await ok(await operation(h, id, 'void'));
    assert.equal(voided.status, 'CAPTURED');
    assert.equal(voided.voided_amount, 700);
    assert.equal(voided.captured_amount, 300);
    assert.equal(voided.remaining_capture_amount, 0);
    assert.equal(voided.events.at(-1)!.amount, 700);
    assert.equal(voided.events.at(-1)!.transaction_status, 'CAPTURED');
    await assertRefused(id, 'capture', { amount: 1 }, 409, 'TRANSACTION_NOT_CAPTURABLE');
    const refunded = await ok(await operation(h, id, 'refund', { amount: 300 }));
    assert.equal(refunded.status, 'REFUNDED');
  });

  test('bambora.creditcard refuses to void the remainder after a partial capture (409)', async () => {
    const id = await authorizedTransaction(h, { productType: 'bambora.creditcard' });
    await ok(await operation(h, id, 'capture', { amount: 300 }));
    await assertRefused(id, 'void', undefined, 409, 'OPERATION_NOT_SUPPORTED');
    assert.equal((await ok(await operation(h, id, 'capture', { amount: 700 }))).status, 'CAPTURED');
  });
});

describe('update authorization', () => {
  const newItems = (first: number, second: number) => [
    { line_id: '1', id: 'sku-1', description: 'Chair', quantity: 2, amount: first },
    { line_id: '2', id: 'sku-2', description: 'Table', quantity: 1, amount: second },
  ];

  for (const productType of ['klarna.klarna', 'klarna.billie']) {
    test(`${productType}: raising and lowering the total with the complete item list`, async () => {
      const id = await authorizedTransaction(h, { productType });
      const raised = await ok(
        await operation(h, id, 'authorization', { amount: 1500, items: [...newItems(600, 400), { line_id: '3', description: 'Lamp', quantity: 1, amount: 500 }], reason: 'added lamp' }),
      );
      assert.equal(raised.amount, 1500);
      assert.equal(raised.status, 'AUTHORIZED');
      assert.equal(raised.remaining_capture_amount, 1500);
      assert.deepEqual(raised.items.map((item) => [item.line_id, item.amount]), [['1', 600], ['2', 400], ['3', 500]]);
      const event = raised.events.at(-1)!;
      assert.equal(event.event, 'AUTHORIZE');
      assert.equal(event.amount, 1500);
      assert.equal(event.success, true);
      const lowered = await ok(await operation(h, id, 'authorization', { amount: 700, items: newItems(300, 400) }));
      assert.equal(lowered.amount, 700);
      assert.deepEqual(lowered.items.map((item) => [item.line_id, item.amount]), [['1', 300], ['2', 400]]);
      assert.equal((await ok(await operation(h, id, 'capture', { amount: 700 }))).status, 'CAPTURED');
    });

    test(`${productType}: the items rule (required, must sum to amount, captured lines kept)`, async () => {
      const id = await authorizedTransaction(h, { productType });
      await assertRefused(id, 'authorization', { amount: 1200 }, 400, 'ITEMS_REQUIRED');
      await assertRefused(id, 'authorization', { amount: 1200, items: newItems(600, 400) }, 400, 'ITEMS_AMOUNT_MISMATCH');
      await ok(await operation(h, id, 'capture', { amount: 400, items: [{ line_id: '2', amount: 400 }] }));
      await assertRefused(id, 'authorization', { amount: 600, items: newItems(600, 0).slice(0, 1) }, 400, 'CAPTURED_LINE_REMOVED');
      await assertRefused(id, 'authorization', { amount: 900, items: newItems(600, 300) }, 400, 'CAPTURED_LINE_REMOVED');
      await assertRefused(id, 'authorization', { amount: 399, items: [{ line_id: '2', amount: 399 }] }, 400, 'AMOUNT_BELOW_CAPTURED');
      const updated = await ok(await operation(h, id, 'authorization', { amount: 900, items: newItems(500, 400) }));
      assert.equal(updated.amount, 900);
      assert.equal(updated.status, 'PARTIALLY_CAPTURED');
      assert.equal(line(updated, '2').captured_amount, 400, 'the captured line keeps its captured amount');
      assert.equal(line(updated, '1').captured_amount, 0);
      assert.equal(updated.remaining_capture_amount, 500);
    });
  }

  test('without items on the transaction, amount alone is enough', async () => {
    const id = await authorizedTransaction(h, { amount: 1000, productType: 'klarna.billie' });
    const updated = await ok(await operation(h, id, 'authorization', { amount: 1300 }));
    assert.equal(updated.amount, 1300);
    assert.deepEqual(updated.items, []);
  });

  test('vipps cannot update its authorization (409) and nothing changes', async () => {
    const id = await authorizedTransaction(h, { productType: 'vipps' });
    await assertRefused(id, 'authorization', { amount: 1200, items: newItems(800, 400) }, 409, 'OPERATION_NOT_SUPPORTED');
  });

  test('after full capture the authorization cannot be updated (409)', async () => {
    const id = await authorizedTransaction(h, { productType: 'klarna.klarna' });
    await ok(await operation(h, id, 'capture', { amount: 1000 }));
    await assertRefused(id, 'authorization', { amount: 1200, items: newItems(800, 400) }, 409, 'AUTHORIZATION_NOT_UPDATABLE');
  });

  test('klarna.klarna without amount extends the authorization by 28 days; billie cannot (400)', async () => {
    const id = await authorizedTransaction(h, { productType: 'klarna.klarna' });
    const before = await readTransaction(h, id);
    const extended = await ok(await operation(h, id, 'authorization', { reason: 'slow delivery', reference: 'ext-1' }));
    assert.equal(Date.parse(extended.authorization_expires_at!) - Date.parse(before.authorization_expires_at!), 28 * 24 * 3600 * 1000);
    assert.equal(extended.amount, 1000);
    assert.equal(extended.events.at(-1)!.event, 'AUTHORIZE');
    assert.equal(extended.events.at(-1)!.event_reference, 'ext-1');
    const billie = await authorizedTransaction(h, { productType: 'klarna.billie' });
    await assertRefused(billie, 'authorization', { reason: 'extend' }, 400, 'INVALID_REQUEST');
  });
});

describe('update (PUT) and read', () => {
  test('PUT changes merchant_reference_2 only, and the ETag moves', async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    const response = await h.request({ method: 'PUT', url: `/v1/transactions/${id}`, headers: bearer(h), payload: { merchant_reference_2: 'ref-2-new', amount: 1 } });
    const updated = await ok(response);
    assert.equal(updated.merchant_reference_2, 'ref-2-new');
    assert.equal(updated.amount, before.amount);
    assert.equal(updated.events.length, before.events.length);
    const after = await readTransaction(h, id);
    assert.equal(after.merchant_reference_2, 'ref-2-new');
    assert.notEqual(after.etag, before.etag);
    assert.equal(response.headers.etag, after.etag);
  });

  test('PUT without merchant_reference_2 is 400', async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    assertError(await h.request({ method: 'PUT', url: `/v1/transactions/${id}`, headers: bearer(h), payload: { merchant_reference: 'x' } }), 400, 'INVALID_REQUEST');
    assert.deepEqual(await readTransaction(h, id), before);
  });
});

describe('list', () => {
  // A separate harness so that the filters see exactly these transactions.
  let l: Harness;
  const made: Record<string, string> = {};
  const createdAt: Record<string, string> = {};

  async function make(name: string, options: OrderOptions & { captureAmount?: number }) {
    const id = await authorizedTransaction(l, options);
    if (options.captureAmount !== undefined) {
      const response = await operation(l, id, 'capture', { amount: options.captureAmount });
      assert.equal(response.statusCode, 200);
    }
    made[name] = id;
    createdAt[name] = (await readTransaction(l, id)).created_at;
    l.clock.advance(60_000);
  }

  before(async () => {
    l = await startHarness();
    await make('a', { amount: 1000, currency: 'NOK', merchantReference: 'ref-a', productType: 'klarna.klarna', customer: { email: 'Ada@Example.com', phone_number: '+4799990001' } });
    await make('b', { amount: 2500, currency: 'SEK', merchantReference: 'ref-b', productType: 'swish.swish' });
    await make('c', { amount: 4000, currency: 'NOK', merchantReference: 'ref-c', productType: 'vipps', captureAmount: 1000 });
    await make('d', { amount: 7000, currency: 'DKK', merchantReference: 'ref-d', productType: 'payex.creditcard' });
    await make('e', { amount: 2500, currency: 'EUR', merchantReference: 'ref-shared', productType: 'klarna.billie', customer: { email: 'eve@example.com', phone_number: '+4799990005' } });
    await make('f', { amount: 9000, currency: 'NOK', merchantReference: 'ref-shared', productType: 'payex.vipps', captureAmount: 9000 });
    const put = await l.request({ method: 'PUT', url: `/v1/transactions/${made.d}`, headers: bearer(l), payload: { merchant_reference_2: 'batch-7' } });
    assert.equal(put.statusCode, 200);
  });
  after(() => l.close());

  const ids = (...names: string[]) => names.map((name) => made[name]!);
  const listOn = async (q: string) => {
    const response = await l.request({ method: 'GET', url: `/v1/transactions${q}`, headers: bearer(l) });
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as TransactionBody[]).map((t) => t.id);
  };

  test('a bare JSON array, newest first, default limit 10', async () => {
    assert.deepEqual(await listOn('?limit=100'), ids('f', 'e', 'd', 'c', 'b', 'a'));
    for (let i = 0; i < 6; i += 1) await authorizedTransaction(l, { merchantReference: `filler-${i}` });
    assert.equal((await listOn('')).length, 10);
  });

  test('status, payment_product, payment_product_type and currency filters, each repeatable', async () => {
    assert.deepEqual(await listOn('?status=PARTIALLY_CAPTURED'), ids('c'));
    assert.deepEqual(await listOn('?status=CAPTURED&limit=100'), ids('f', 'b'));
    assert.deepEqual(await listOn('?status=CAPTURED&status=PARTIALLY_CAPTURED&limit=100'), ids('f', 'c', 'b'));
    assert.deepEqual(await listOn('?payment_product=payex'), ids('f', 'd'));
    assert.deepEqual(await listOn('?payment_product=swish&payment_product=vipps'), ids('c', 'b'));
    assert.deepEqual(await listOn('?payment_product_type=klarna.billie'), ids('e'));
    assert.deepEqual(await listOn('?payment_product_type=klarna.billie&payment_product_type=payex.creditcard'), ids('e', 'd'));
    assert.deepEqual(await listOn('?currency=SEK'), ids('b'));
    assert.deepEqual(await listOn('?currency=DKK&currency=EUR'), ids('e', 'd'));
  });

  test('merchant_reference, merchant_reference_2 and session_id filters', async () => {
    assert.deepEqual(await listOn('?merchant_reference=ref-shared'), ids('f', 'e'));
    assert.deepEqual(await listOn('?merchant_reference=ref-a'), ids('a'));
    assert.deepEqual(await listOn('?merchant_reference_2=batch-7'), ids('d'));
    const sessionOfC = (await readTransaction(l, made.c!)).session_id;
    assert.deepEqual(await listOn(`?session_id=${sessionOfC}`), ids('c'));
    assert.deepEqual(await listOn('?merchant_reference=nothing-like-this'), []);
  });

  test('amount, amount.gte and amount.lte filters (on the authorized amount)', async () => {
    assert.deepEqual(await listOn('?amount=2500'), ids('e', 'b'));
    assert.deepEqual(await listOn('?amount.gte=7000'), ids('f', 'd'));
    assert.deepEqual(await listOn('?amount.gte=2500&amount.lte=4000'), ids('e', 'c', 'b'));
    assertError(await l.request({ method: 'GET', url: '/v1/transactions?amount=-1', headers: bearer(l) }), 400, 'INVALID_REQUEST');
    assertError(await l.request({ method: 'GET', url: '/v1/transactions?amount=1.5', headers: bearer(l) }), 400, 'INVALID_REQUEST');
  });

  test('created_at.gte and created_at.lte filters', async () => {
    const range = `?created_at.gte=${encodeURIComponent(createdAt.b!)}&created_at.lte=${encodeURIComponent(createdAt.d!)}`;
    assert.deepEqual(await listOn(range), ids('d', 'c', 'b'));
    assert.deepEqual(await listOn(`?created_at.lte=${encodeURIComponent(createdAt.a!)}`), ids('a'));
    // Another notation of the same instant.
    const offset = createdAt.e!.replace(/\.\d{3}Z$/, '+00:00');
    assert.deepEqual(await listOn(`?created_at.gte=${encodeURIComponent(offset)}&limit=2&merchant_reference=ref-shared`), ids('f', 'e'));
    assertError(await l.request({ method: 'GET', url: '/v1/transactions?created_at.gte=yesterday', headers: bearer(l) }), 400, 'INVALID_REQUEST');
  });

  test('search by id, session id, merchant reference, reference 2, email and phone', async () => {
    const a = await readTransaction(l, made.a!);
    assert.deepEqual(await listOn(`?search=${made.a}`), ids('a'));
    assert.deepEqual(await listOn(`?search=${a.session_id}`), ids('a'));
    assert.deepEqual(await listOn('?search=ref-c'), ids('c'));
    assert.deepEqual(await listOn('?search=batch-7'), ids('d'));
    assert.deepEqual(await listOn('?search=ada%40example.com'), ids('a'));
    assert.deepEqual(await listOn('?search=EVE%40EXAMPLE.COM'), ids('e'));
    assert.deepEqual(await listOn(`?search=${encodeURIComponent('+4799990005')}`), ids('e'));
    assert.deepEqual(await listOn('?search=nobody%40example.com'), []);
  });

  test('starting_after pages newest first without duplicates or gaps', async () => {
    const all = await listOn('?limit=100');
    assert.ok(all.length >= 12);
    const paged: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages += 1) {
      const page = await listOn(`?limit=5${cursor === undefined ? '' : `&starting_after=${cursor}`}`);
      if (page.length === 0) break;
      paged.push(...page);
      cursor = page.at(-1);
    }
    assert.deepEqual(paged, all);
    assert.equal(new Set(paged).size, paged.length);
    const created = await Promise.all(all.map(async (id) => (await readTransaction(l, id)).created_at));
    assert.deepEqual(created, [...created].sort().reverse(), 'newest first');
    // Filters and the cursor combine.
    assert.deepEqual(await listOn(`?currency=NOK&limit=100&starting_after=${made.f}`).then((found) => found.filter((id) => Object.values(made).includes(id))), ids('c', 'a'));
  });

  test('paging is stable for transactions created in the same millisecond', async () => {
    const local = await startHarness();
    try {
      const created: string[] = [];
      for (let i = 0; i < 6; i += 1) created.push(await authorizedTransaction(local));
      const paged: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages += 1) {
        const response = await local.request({ method: 'GET', url: `/v1/transactions?limit=4${cursor ? `&starting_after=${cursor}` : ''}`, headers: bearer(local) });
        const page = (response.json() as TransactionBody[]).map((t) => t.id);
        if (page.length === 0) break;
        paged.push(...page);
        cursor = page.at(-1);
      }
      assert.deepEqual([...paged].sort(), [...created].sort());
      assert.equal(new Set(paged).size, 6);
    } finally {
      await local.close();
    }
  });

  test('limit outside 1..100, an unknown cursor and an unknown filter are 400', async () => {
    for (const q of ['?limit=0', '?limit=101', '?limit=x', '?starting_after=T00000001.1111111111111111111111', '?colour=red']) {
      assertError(await l.request({ method: 'GET', url: `/v1/transactions${q}`, headers: bearer(l) }), 400, 'INVALID_REQUEST');
    }
  });
});

describe('products with item rules', () => {
  test('instabank.invoice needs items to capture and refund (400 ITEMS_REQUIRED)', async () => {
    const id = await authorizedTransaction(h, { productType: 'instabank.invoice' });
    await assertRefused(id, 'capture', { amount: 600 }, 400, 'ITEMS_REQUIRED');
    await ok(await operation(h, id, 'capture', { amount: 600, items: [{ line_id: '1', amount: 600 }] }));
    await assertRefused(id, 'refund', { amount: 100 }, 400, 'ITEMS_REQUIRED');
    assert.equal((await ok(await operation(h, id, 'refund', { amount: 100, items: [{ line_id: '1', amount: 100 }] }))).refunded_amount, 100);
  });

  test('collector captures whole lines only (400 WHOLE_LINES_REQUIRED)', async () => {
    const id = await authorizedTransaction(h, { productType: 'collector.invoice' });
    await assertRefused(id, 'capture', { amount: 300, items: [{ line_id: '1', amount: 300 }] }, 400, 'WHOLE_LINES_REQUIRED');
    await assertRefused(id, 'capture', { amount: 300 }, 400, 'WHOLE_LINES_REQUIRED');
    const captured = await ok(await operation(h, id, 'capture', { amount: 600, items: [{ line_id: '1', amount: 600 }] }));
    assert.equal(captured.status, 'PARTIALLY_CAPTURED');
    await assertRefused(id, 'void', undefined, 409, 'OPERATION_NOT_SUPPORTED');
  });

  test('swish cannot be voided; cancel by refund', async () => {
    const id = await authorizedTransaction(h, { productType: 'swish.swish' });
    await assertRefused(id, 'void', undefined, 409, 'TRANSACTION_NOT_VOIDABLE');
    assert.equal((await ok(await operation(h, id, 'refund', { amount: 1000 }))).status, 'REFUNDED');
  });
});

describe('expiry', () => {
  test('capturing after authorization_expires_at is 409 AUTHORIZATION_EXPIRED', async () => {
    const local = await startHarness();
    try {
      const sessionId = await createSession(local, { amount: 1000, items: defaultItems() });
      const id = (await pay(local, sessionId, { payment_product_type: 'vipps' })).json().transaction_id as string;
      local.clock.advance(7 * 24 * 3600 * 1000);
      // The 7-day vipps authorization is over; refresh the token, which expired too.
      const token = await local.tokenFor('T00000001', ['write:checkout']);
      const before = await readTransaction(local, id, token);
      const response = await operation(local, id, 'capture', { amount: 100 }, {}, token);
      assertError(response, 409, 'AUTHORIZATION_EXPIRED');
      assert.deepEqual(await readTransaction(local, id, token), before);
    } finally {
      await local.close();
    }
  });
});
