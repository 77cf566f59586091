import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KasseError } from './errors.js';
import { addItemRequest, includedVat, newOrderLine, nextLineId, parseVatPercent } from './add-item.js';
import { capture, openTransaction, statusOf, updateAuthorization } from './transaction.js';

const T0 = '2025-03-01T12:00:00.000Z';
const klarna = () =>
  openTransaction({
    paymentProductType: 'klarna.klarna',
    amount: 1000,
    items: [
      { line_id: '1', description: 'Chair', quantity: 2, amount: 600 },
      { line_id: '2', description: 'Table', quantity: 1, amount: 400 },
    ],
    outcome: 'authorized',
    now: T0,
  }).state;

describe('parseVatPercent', () => {
  it('reads whole and decimal percentages exactly', () => {
    assert.equal(parseVatPercent('25'), 2500);
    assert.equal(parseVatPercent('12.5'), 1250);
    assert.equal(parseVatPercent('15,00'), 1500);
    assert.equal(parseVatPercent('0'), 0);
    assert.equal(parseVatPercent(' 6 % '), 600);
    assert.equal(parseVatPercent('100'), 10000);
  });
  it('refuses what is not a percentage from 0 to 100 with at most two decimals', () => {
    for (const text of ['', '-25', '25.125', 'abc', '101', '1e1', '25.5.5']) {
      assert.throws(() => parseVatPercent(text), KasseError, JSON.stringify(text));
    }
  });
});

describe('includedVat', () => {
  it('is the VAT inside a gross amount, rounded half up', () => {
    assert.equal(includedVat(12500, 2500), 2500);
    assert.equal(includedVat(1000, 2500), 200);
    assert.equal(includedVat(999, 2500), 200, '199.8 → 200');
    assert.equal(includedVat(10, 1500), 1, '1.30 → 1');
    assert.equal(includedVat(1000, 0), 0);
    assert.equal(includedVat(Number.MAX_SAFE_INTEGER, 2500), 1801439850948198, 'exact at the top of the range');
  });
});

describe('newOrderLine and addItemRequest', () => {
  it('prices the line as unit price × quantity and gives it a free line id', () => {
    const line = newOrderLine([{ line_id: '1' }, { line_id: '3' }], { description: ' Gift wrap ', quantity: 3, unitPrice: 4990, vatRate: 2500 });
    assert.deepEqual(line, { line_id: '4', description: 'Gift wrap', quantity: 3, amount: 14970, vat: 25, vat_amount: 2994 });
    assert.equal(nextLineId([{ line_id: '2' }, { line_id: 'ship' }]), '3');
    assert.equal(nextLineId([]), '1');
  });

  it('refuses an empty description, a bad quantity and an overflowing total', () => {
    const base = { description: 'x', quantity: 1, unitPrice: 100, vatRate: 2500 };
    assert.throws(() => newOrderLine([], { ...base, description: '  ' }), /Description/);
    for (const quantity of [0, -1, 1.5, Number.NaN]) assert.throws(() => newOrderLine([], { ...base, quantity }), /Quantity/);
    assert.throws(
      () => newOrderLine([], { ...base, unitPrice: Number.MAX_SAFE_INTEGER, quantity: 2 }),
      (error: unknown) => error instanceof KasseError && error.code === 'AMOUNT_OVERFLOW',
    );
  });

  it('asks for the old total plus the line with the complete item list, which the command accepts', () => {
    const state = capture(klarna(), { amount: 600, items: [{ line_id: '1', amount: 600 }] }, T0).state;
    const request = addItemRequest(state, { description: 'Cushion', quantity: 2, unitPrice: 150, vatRate: 2500 });
    assert.equal(request.amount, 1300);
    assert.deepEqual(request.items.map((item) => [item.line_id, item.amount]), [['1', 600], ['2', 400], ['3', 300]]);
    assert.ok(request.items.every((item) => !('captured_amount' in item)), 'sent as order items');
    const next = updateAuthorization(state, request, T0);
    assert.equal(next.state.amount, 1300);
    assert.equal(next.state.items.find((item) => item.line_id === '1')?.captured_amount, 600, 'captured lines keep their captures');
    assert.equal(statusOf(next.state), 'PARTIALLY_CAPTURED');
    assert.equal(next.events[0]?.event, 'AUTHORIZE');
  });
});
