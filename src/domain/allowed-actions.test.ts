import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KasseError } from './errors.js';
import type { PaymentProductType } from './products.js';
import { type OrderItem, type TransactionState, capture, openTransaction, planCapture, refund, settle, statusOf, voidTransaction } from './transaction.js';
import { allowedActions, fullCaptureRequest, fullRefundRequest, linesCaptureRequest, linesRefundRequest } from './allowed-actions.js';

const T0 = '2025-03-01T12:00:00.000Z';
const days = (n: number) => new Date(Date.parse(T0) + n * 24 * 60 * 60 * 1000).toISOString();
const chairAndTable: OrderItem[] = [
  { line_id: '1', description: 'Chair', quantity: 2, amount: 600, vat: 25, vat_amount: 120 },
  { line_id: '2', description: 'Table', quantity: 1, amount: 400, vat: 25, vat_amount: 80 },
];

function authorized(type: PaymentProductType, items: readonly OrderItem[] = chairAndTable, amount = 1000): TransactionState {
  return openTransaction({ paymentProductType: type, amount, items, outcome: 'authorized', now: T0 }).state;
}

describe('allowedActions', () => {
  it('an authorized Klarna transaction offers every capture choice, void of everything and + Add item; no refund', () => {
    const actions = allowedActions(authorized('klarna.klarna'), T0);
    assert.deepEqual(actions.capture, { full: true, byAmount: true, lines: ['1', '2'], remaining: 1000 });
    assert.equal(actions.refund, null);
    assert.deepEqual(actions.void, { amount: 1000 });
    assert.equal(actions.addItem, true);
  });

  it('after a partial capture: capture the rest, refund the captured part, void the remainder', () => {
    const state = capture(authorized('klarna.klarna'), { amount: 600, items: [{ line_id: '1', amount: 600 }] }, T0).state;
    const actions = allowedActions(state, T0);
    assert.deepEqual(actions.capture, { full: true, byAmount: true, lines: ['2'], remaining: 400 });
    assert.deepEqual(actions.refund, { full: true, byAmount: true, lines: ['1'], remaining: 600 });
    assert.deepEqual(actions.void, { amount: 400 });
  });

  it('a card acquirer cannot void the remainder after a partial capture', () => {
    const state = capture(authorized('bambora.creditcard'), { amount: 100 }, T0).state;
    assert.equal(allowedActions(state, T0).void, null);
    assert.throws(() => voidTransaction(state), KasseError, 'the command agrees');
  });

  it('nothing but refund once fully captured; nothing at all once refunded', () => {
    const captured = capture(authorized('vipps'), { amount: 1000 }, T0).state;
    const actions = allowedActions(captured, T0);
    assert.equal(actions.capture, null);
    assert.equal(actions.void, null);
    assert.equal(actions.addItem, false, 'vipps cannot update authorization anyway');
    assert.deepEqual(actions.refund, { full: true, byAmount: true, lines: ['1', '2'], remaining: 1000 });
    const refunded = refund(captured, { amount: 1000 }).state;
    assert.deepEqual(allowedActions(refunded, T0), { capture: null, refund: null, void: null, addItem: false });
  });

  it('a voided, declined or expired authorization offers nothing to capture', () => {
    assert.equal(allowedActions(voidTransaction(authorized('klarna.klarna')).state, T0).capture, null);
    const declined = openTransaction({ paymentProductType: 'vipps', amount: 1000, items: [], outcome: 'declined', now: T0 }).state;
    assert.deepEqual(allowedActions(declined, T0), { capture: null, refund: null, void: null, addItem: false });
    const vipps = authorized('vipps');
    assert.notEqual(allowedActions(vipps, days(6)).capture, null);
    assert.equal(allowedActions(vipps, days(7)).capture, null, 'vipps authorizations last 7 days');
    assert.throws(() => capture(vipps, { amount: 1000 }, days(7)), KasseError, 'the command agrees');
  });

  it('+ Add item only for Klarna and Billie transactions with items, not after a full capture', () => {
    assert.equal(allowedActions(authorized('klarna.billie'), T0).addItem, true);
    assert.equal(allowedActions(authorized('payex.creditcard'), T0).addItem, false);
    assert.equal(allowedActions(authorized('klarna.klarna', [], 1000), T0).addItem, false, 'no items to add to');
    const captured = capture(authorized('klarna.klarna'), { amount: 1000 }, T0).state;
    assert.equal(allowedActions(captured, T0).addItem, false);
  });

  it('Walley captures whole lines only: no amount choice, only uncaptured lines', () => {
    const state = authorized('collector.invoice');
    assert.deepEqual(allowedActions(state, T0).capture, { full: true, byAmount: false, lines: ['1', '2'], remaining: 1000 });
    const afterLine = capture(state, linesCaptureRequest(state, ['1']), T0).state;
    assert.deepEqual(allowedActions(afterLine, T0).capture, { full: true, byAmount: false, lines: ['2'], remaining: 400 });
  });

  it('Instabank needs items: no amount choice; full capture and refund carry the lines', () => {
    const state = authorized('instabank.invoice');
    assert.deepEqual(allowedActions(state, T0).capture, { full: true, byAmount: false, lines: ['1', '2'], remaining: 1000 });
    const full = fullCaptureRequest(state);
    assert.deepEqual(full?.items?.map((item) => [item.line_id, item.amount]), [['1', 600], ['2', 400]]);
    const captured = capture(state, full!, T0).state;
    assert.equal(statusOf(captured), 'CAPTURED');
    assert.deepEqual(allowedActions(captured, T0).refund, { full: true, byAmount: false, lines: ['1', '2'], remaining: 1000 });
    assert.equal(statusOf(refund(captured, fullRefundRequest(captured)!).state), 'REFUNDED');
  });

  it('Swish (captured at payment, no partial capture) offers refund only', () => {
    const state = authorized('swish.swish');
    assert.equal(statusOf(state), 'CAPTURED');
    const actions = allowedActions(state, T0);
    assert.equal(actions.capture, null);
    assert.equal(actions.void, null);
    assert.equal(actions.refund?.full, true);
  });

  it('money reserved by an in-flight (async) capture is not offered again; no item update meanwhile', () => {
    const state = authorized('klarna.klarna');
    const inFlight = settle(state, planCapture(state, linesCaptureRequest(state, ['1']), T0), 'async', T0, { requestId: 'r1', dueAt: days(0.01) }).state;
    const actions = allowedActions(inFlight, T0);
    assert.deepEqual(actions.capture, { full: true, byAmount: true, lines: ['2'], remaining: 400 });
    assert.deepEqual(actions.void, { amount: 400 });
    assert.equal(actions.addItem, false, 'the command refuses an update while an operation is in flight');
    assert.equal(actions.refund, null, 'nothing is captured yet');
  });

  it('every offered choice is accepted by the command, for every product', () => {
    const products: PaymentProductType[] = ['klarna.klarna', 'klarna.billie', 'vipps', 'payex.creditcard', 'bambora.creditcard', 'collector.invoice', 'instabank.invoice'];
    for (const type of products) {
      const state = authorized(type);
      const actions = allowedActions(state, T0);
      assert.ok(actions.capture, type);
      if (actions.capture.full) assert.doesNotThrow(() => capture(state, fullCaptureRequest(state)!, T0), type);
      for (const line of actions.capture.lines) assert.doesNotThrow(() => capture(state, linesCaptureRequest(state, [line]), T0), `${type} line ${line}`);
      if (actions.capture.byAmount) assert.doesNotThrow(() => capture(state, { amount: 1 }, T0), type);
      if (actions.void) assert.doesNotThrow(() => voidTransaction(state), type);
    }
  });
});

describe('request builders', () => {
  it('linesCaptureRequest takes what remains on each chosen line, whole lines with their quantity', () => {
    const state = authorized('klarna.klarna');
    assert.deepEqual(linesCaptureRequest(state, ['2']), {
      amount: 400,
      items: [{ line_id: '2', description: 'Table', quantity: 1, amount: 400, vat: 25, vat_amount: 80 }],
    });
    const partly = capture(state, { amount: 100, items: [{ line_id: '1', amount: 100 }] }, T0).state;
    const rest = linesCaptureRequest(partly, ['1', '1']);
    assert.equal(rest.amount, 500, 'a line chosen twice counts once');
    assert.deepEqual(rest.items, [{ line_id: '1', description: 'Chair', amount: 500, vat: 25 }], 'no quantity or VAT amount for part of a line');
  });

  it('refuses no lines, unknown lines and lines with nothing left', () => {
    const state = authorized('klarna.klarna');
    assert.throws(() => linesCaptureRequest(state, []), /at least one line/);
    assert.throws(() => linesCaptureRequest(state, ['9']), (error: unknown) => error instanceof KasseError && error.code === 'UNKNOWN_LINE_ID');
    assert.throws(() => linesRefundRequest(state, ['1']), /nothing left to refund/);
  });

  it('linesRefundRequest refunds what was captured and not yet refunded on the line', () => {
    const captured = capture(authorized('klarna.klarna'), { amount: 1000 }, T0).state;
    const once = refund(captured, { amount: 100, items: [{ line_id: '1', amount: 100 }] }).state;
    assert.deepEqual(linesRefundRequest(once, ['1']).amount, 500);
    assert.equal(statusOf(refund(once, linesRefundRequest(once, ['1', '2'])).state), 'REFUNDED');
  });
});
