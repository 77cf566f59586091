/**
 * Every row of §5's product table, through HTTP: what a product allows works, what it
 * does not is refused with 409 (state/product) or 400 (request shape).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizedTransaction, getTransaction, operation, startHarness, type Harness } from './support/harness.js';

interface Row {
  readonly type: string;
  readonly days: number | null;
  readonly voidRemainder: boolean;
  readonly updateAuthorization: boolean;
  readonly card: boolean;
  readonly wholeLines?: boolean;
  readonly itemsRequired?: boolean;
  readonly capturedAtPayment?: boolean;
}

const table: Row[] = [
  { type: 'klarna.klarna', days: 28, voidRemainder: true, updateAuthorization: true, card: false },
  { type: 'klarna.billie', days: 28, voidRemainder: true, updateAuthorization: true, card: false },
  { type: 'vipps', days: 7, voidRemainder: true, updateAuthorization: false, card: false },
  { type: 'payex.creditcard', days: 7, voidRemainder: true, updateAuthorization: false, card: true },
  { type: 'payex.mobilepay', days: 7, voidRemainder: true, updateAuthorization: false, card: false },
  { type: 'payex.vipps', days: 7, voidRemainder: true, updateAuthorization: false, card: false },
  { type: 'payex.applepay', days: 7, voidRemainder: true, updateAuthorization: false, card: true },
  { type: 'payex.googlepay', days: 7, voidRemainder: true, updateAuthorization: false, card: true },
  { type: 'payex.clicktopay', days: 7, voidRemainder: true, updateAuthorization: false, card: true },
  { type: 'bambora.creditcard', days: 7, voidRemainder: false, updateAuthorization: false, card: true },
  { type: 'netaxept.creditcard', days: 7, voidRemainder: false, updateAuthorization: false, card: true },
  { type: 'dintero_psp.creditcard', days: 7, voidRemainder: false, updateAuthorization: false, card: true },
  { type: 'collector.invoice', days: 90, voidRemainder: false, updateAuthorization: false, card: false, wholeLines: true },
  { type: 'collector.invoice_b2b', days: 90, voidRemainder: false, updateAuthorization: false, card: false, wholeLines: true },
  { type: 'collector.installment', days: 90, voidRemainder: false, updateAuthorization: false, card: false, wholeLines: true },
  { type: 'instabank.invoice', days: 28, voidRemainder: false, updateAuthorization: false, card: false, itemsRequired: true },
  { type: 'swish.swish', days: null, voidRemainder: false, updateAuthorization: false, card: false, capturedAtPayment: true },
];

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const line2 = { amount: 400, items: [{ line_id: '2', amount: 400, quantity: 1 }] };
const newItems = {
  amount: 1200,
  items: [
    { line_id: '1', amount: 600, quantity: 2 },
    { line_id: '2', amount: 400, quantity: 1 },
    { line_id: '3', amount: 200, quantity: 1, description: 'Gift wrap' },
  ],
};

for (const row of table) {
  describe(row.type, () => {
    test('pays with the right status, expiry and card', async () => {
      const id = await authorizedTransaction(h, { productType: row.type });
      const transaction = (await getTransaction(h, id)).json();
      assert.equal(transaction.payment_product_type, row.type);
      assert.equal(transaction.status, row.capturedAtPayment ? 'CAPTURED' : 'AUTHORIZED');
      if (row.days === null) assert.equal(transaction.authorization_expires_at, null);
      else assert.equal(Date.parse(transaction.authorization_expires_at) - Date.parse(transaction.created_at), row.days * 86_400_000);
      assert.equal(transaction.card !== undefined, row.card);
      if (row.card) assert.match(transaction.card.masked_pan, /^\d{6}\*+\d{4}$/);
    });

    if (row.capturedAtPayment) {
      test('cannot be captured, voided or updated; is cancelled by refund', async () => {
        const id = await authorizedTransaction(h, { productType: row.type });
        assert.equal((await operation(h, id, 'capture', line2)).statusCode, 409);
        assert.equal((await operation(h, id, 'void')).statusCode, 409);
        assert.equal((await operation(h, id, 'authorization', newItems)).statusCode, 409);
        const refunded = await operation(h, id, 'refund', { amount: 1000 });
        assert.equal(refunded.statusCode, 200);
        assert.equal(refunded.json().status, 'REFUNDED');
      });
      return;
    }

    test(`partial capture by line, then void of the remainder is ${row.voidRemainder ? 'allowed' : 'refused (409)'}`, async () => {
      const id = await authorizedTransaction(h, { productType: row.type });
      const partial = await operation(h, id, 'capture', line2);
      assert.equal(partial.statusCode, 200, partial.body);
      assert.equal(partial.json().status, 'PARTIALLY_CAPTURED');
      const voided = await operation(h, id, 'void');
      if (row.voidRemainder) {
        assert.equal(voided.statusCode, 200);
        assert.equal(voided.json().status, 'CAPTURED');
        assert.equal(voided.json().voided_amount, 600);
      } else {
        assert.equal(voided.statusCode, 409);
        assert.equal(voided.json().error.code, 'OPERATION_NOT_SUPPORTED');
        assert.equal((await getTransaction(h, id)).json().voided_amount, 0);
      }
    });

    test(`update authorization is ${row.updateAuthorization ? 'allowed' : 'refused (409)'}`, async () => {
      const id = await authorizedTransaction(h, { productType: row.type });
      const updated = await operation(h, id, 'authorization', newItems);
      if (row.updateAuthorization) {
        assert.equal(updated.statusCode, 200, updated.body);
        assert.equal(updated.json().amount, 1200);
        assert.equal(updated.json().items.length, 3);
      } else {
        assert.equal(updated.statusCode, 409);
        assert.equal(updated.json().error.code, 'OPERATION_NOT_SUPPORTED');
      }
    });

    test('a void before any capture releases everything', async () => {
      const id = await authorizedTransaction(h, { productType: row.type });
      const voided = await operation(h, id, 'void');
      assert.equal(voided.statusCode, 200);
      assert.equal(voided.json().status, 'AUTHORIZATION_VOIDED');
    });

    if (row.wholeLines) {
      test('captures whole item lines only (400 for part of a line or an amount without lines)', async () => {
        const id = await authorizedTransaction(h, { productType: row.type });
        const part = await operation(h, id, 'capture', { amount: 300, items: [{ line_id: '1', amount: 300 }] });
        assert.equal(part.statusCode, 400);
        assert.equal(part.json().error.code, 'WHOLE_LINES_REQUIRED');
        assert.equal((await operation(h, id, 'capture', { amount: 300 })).json().error.code, 'WHOLE_LINES_REQUIRED');
        assert.equal((await operation(h, id, 'capture', { amount: 1000 })).statusCode, 200, 'the whole order is whole lines');
      });
    } else if (row.itemsRequired) {
      test('capture and refund need items (400 without)', async () => {
        const id = await authorizedTransaction(h, { productType: row.type });
        const bare = await operation(h, id, 'capture', { amount: 400 });
        assert.equal(bare.statusCode, 400);
        assert.equal(bare.json().error.code, 'ITEMS_REQUIRED');
        assert.equal((await operation(h, id, 'capture', line2)).statusCode, 200);
        assert.equal((await operation(h, id, 'refund', { amount: 100 })).json().error.code, 'ITEMS_REQUIRED');
        assert.equal((await operation(h, id, 'refund', { amount: 100, items: [{ line_id: '2', amount: 100 }] })).statusCode, 200);
      });
      test('cannot be paid for an order without items', async () => {
        const session = await h.request({
          method: 'POST',
          url: '/v1/sessions-profile',
          headers: { authorization: `Bearer ${h.token}` },
          payload: { profile_id: 'default', url: { return_url: 'https://shop.example/r' }, order: { amount: 100, currency: 'NOK', merchant_reference: 'no-items' } },
        });
        const paid = await h.request({ method: 'POST', url: `/v1/sessions/${session.json().id}/pay`, payload: { payment_product_type: row.type } });
        assert.equal(paid.statusCode, 400);
        assert.equal(paid.json().error.code, 'ITEMS_REQUIRED');
      });
    } else {
      test('partial captures by amount, several times', async () => {
        const id = await authorizedTransaction(h, { productType: row.type });
        assert.equal((await operation(h, id, 'capture', { amount: 250 })).statusCode, 200);
        const second = await operation(h, id, 'capture', { amount: 750 });
        assert.equal(second.statusCode, 200);
        assert.equal(second.json().status, 'CAPTURED');
      });
    }
  });
}
