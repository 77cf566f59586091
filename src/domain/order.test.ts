import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ErrorCode, KasseError } from './errors.js';
import { type OrderAmounts, checkOrderAmounts, transactionItems } from './order.js';

function expectKasseError(run: () => unknown, code: ErrorCode): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof KasseError, `expected a KasseError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

const items = [
  { line_id: '1', amount: 6000, description: 'Shoes', quantity: 1 },
  { line_id: '2', amount: 2000, description: 'Socks', quantity: 2 },
];
const shipping = { id: 'bring-pickup', line_id: 'ship-1', amount: 1500, operator: 'Bring', title: 'Pick-up point', vat: 25 };

describe('checkOrderAmounts', () => {
  it('accepts an amount equal to the items', () => {
    assert.doesNotThrow(() => checkOrderAmounts({ amount: 8000, items }));
  });

  it('accepts an order without items', () => {
    assert.doesNotThrow(() => checkOrderAmounts({ amount: 8000 }));
  });

  it('refuses an amount that differs from the items (strict session amounts)', () => {
    expectKasseError(() => checkOrderAmounts({ amount: 7999, items }), 'ITEMS_AMOUNT_MISMATCH');
    expectKasseError(() => checkOrderAmounts({ amount: 8001, items }), 'ITEMS_AMOUNT_MISMATCH');
  });

  it('counts the shipping option', () => {
    assert.doesNotThrow(() => checkOrderAmounts({ amount: 9500, items, shipping_option: shipping }));
    expectKasseError(() => checkOrderAmounts({ amount: 8000, items, shipping_option: shipping }), 'ITEMS_AMOUNT_MISMATCH');
  });

  it('partial_payment allows an amount below the total, never above', () => {
    assert.doesNotThrow(() => checkOrderAmounts({ amount: 5000, items, shipping_option: shipping, partial_payment: true }));
    assert.doesNotThrow(() => checkOrderAmounts({ amount: 9500, items, shipping_option: shipping, partial_payment: true }));
    expectKasseError(() => checkOrderAmounts({ amount: 9501, items, shipping_option: shipping, partial_payment: true }), 'ITEMS_AMOUNT_MISMATCH');
    expectKasseError(() => checkOrderAmounts({ amount: 5000, items, partial_payment: false }), 'ITEMS_AMOUNT_MISMATCH');
  });

  it('refuses duplicate line ids, including the shipping line', () => {
    expectKasseError(() => checkOrderAmounts({ amount: 12000, items: [...items, { line_id: '1', amount: 4000 }] }), 'DUPLICATE_LINE_ID');
    expectKasseError(
      () => checkOrderAmounts({ amount: 9500, items, shipping_option: { ...shipping, line_id: '2' } }),
      'DUPLICATE_LINE_ID',
    );
  });

  it('refuses an order amount that is not a positive safe integer', () => {
    for (const amount of [0, -1, 1.5]) expectKasseError(() => checkOrderAmounts({ amount, items }), 'INVALID_AMOUNT');
  });

  it('refuses totals that overflow', () => {
    expectKasseError(
      () => checkOrderAmounts({ amount: 1, items: [{ line_id: 'a', amount: Number.MAX_SAFE_INTEGER }, { line_id: 'b', amount: 1 }] }),
      'AMOUNT_OVERFLOW',
    );
  });
});

describe('transactionItems', () => {
  it('moves the shipping option into a type "shipping" line', () => {
    const order: OrderAmounts = { amount: 9500, items, shipping_option: shipping };
    const result = transactionItems(order);
    assert.equal(result.length, 3);
    assert.deepEqual(result.slice(0, 2), items);
    assert.deepEqual(result[2], {
      id: 'bring-pickup',
      line_id: 'ship-1',
      amount: 1500,
      operator: 'Bring',
      title: 'Pick-up point',
      vat: 25,
      quantity: 1,
      type: 'shipping',
      description: 'Pick-up point',
    });
    assert.equal(result.reduce((total, item) => total + item.amount, 0), order.amount, 'the lines add up to the order amount');
    assert.equal(order.items?.length, 2, 'the order itself is not changed');
  });

  it('names the shipping line after its id, or "shipping", when it has no line_id', () => {
    assert.equal(transactionItems({ amount: 100, items: [], shipping_option: { id: 'express', amount: 100 } })[0]?.line_id, 'express');
    const [line] = transactionItems({ amount: 100, shipping_option: { amount: 100 } });
    assert.equal(line?.line_id, 'shipping');
    assert.equal(line?.description, 'Shipping');
    assert.equal(line?.type, 'shipping');
  });

  it('without a shipping option returns the items as they are', () => {
    assert.deepEqual(transactionItems({ amount: 8000, items }), items);
    assert.deepEqual(transactionItems({ amount: 8000 }), []);
  });
});
