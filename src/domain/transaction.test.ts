import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ErrorCode, KasseError } from './errors.js';
import type { PaymentProductType } from './products.js';
import {
  type AuthorizationOutcome,
  type Decision,
  type OrderItem,
  type TransactionState,
  authorizationExpiresAt,
  capture,
  openTransaction,
  refund,
  remainingCaptureAmount,
  remainingRefundAmount,
  resolveAuthorization,
  statusOf,
  updateAuthorization,
  voidTransaction,
} from './transaction.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const T0 = '2025-03-01T12:00:00.000Z';
/** T0 plus a (possibly fractional) number of days, computed independently of expiry.ts. */
const day = (days: number): string => new Date(Date.parse(T0) + days * DAY_MS).toISOString();

/** Freezes recursively, so any mutation of the input by the domain throws (ES modules are strict). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

function expectKasseError(run: () => unknown, code: ErrorCode): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof KasseError, `expected a KasseError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

const lines = (...amounts: number[]): OrderItem[] =>
  amounts.map((amount, index) => ({ line_id: String(index + 1), amount, description: `line ${index + 1}`, quantity: 1 }));

function open(
  paymentProductType: PaymentProductType,
  amount: number,
  items: readonly OrderItem[] = [],
  outcome: AuthorizationOutcome = 'authorized',
  now: string = T0,
): Decision {
  return deepFreeze(openTransaction(deepFreeze({ paymentProductType, amount, items, outcome, now })));
}

function authorized(paymentProductType: PaymentProductType, amount: number, items: readonly OrderItem[] = []): TransactionState {
  const { state } = open(paymentProductType, amount, items);
  assert.equal(statusOf(state), 'AUTHORIZED');
  return state;
}

/** Runs a command and freezes its result, so the next command also proves it does not mutate. */
function step(run: () => Decision): TransactionState {
  const decision = deepFreeze(run());
  assert.equal(decision.events.length, 1);
  assert.equal(decision.events[0]?.transaction_status, statusOf(decision.state));
  return decision.state;
}

const lineCounters = (state: TransactionState) =>
  state.items.map((line) => ({ line_id: line.line_id, amount: line.amount, captured: line.captured_amount, refunded: line.refunded_amount }));

// ---------------------------------------------------------------- openTransaction

describe('openTransaction', () => {
  it('authorizes: INITIALIZE then AUTHORIZE, counters at zero, lines with nothing captured', () => {
    const { state, events } = open('klarna.klarna', 10000, lines(6000, 4000));
    assert.deepEqual(
      events.map((event) => [event.event, event.success, event.amount, event.transaction_status]),
      [
        ['INITIALIZE', true, 10000, 'INITIATED'],
        ['AUTHORIZE', true, 10000, 'AUTHORIZED'],
      ],
    );
    assert.equal(state.authorization, 'AUTHORIZED');
    assert.equal(state.amount, 10000);
    assert.equal(state.capturedAmount, 0);
    assert.equal(state.refundedAmount, 0);
    assert.equal(state.voidedAmount, 0);
    assert.equal(state.authorizedAt, T0);
    assert.equal(state.authorizationExpiresAt, day(28));
    assert.deepEqual(lineCounters(state), [
      { line_id: '1', amount: 6000, captured: 0, refunded: 0 },
      { line_id: '2', amount: 4000, captured: 0, refunded: 0 },
    ]);
    assert.equal(state.items[0]?.description, 'line 1', 'fields the domain does not use are kept');
    assert.equal(remainingCaptureAmount(state), 10000);
    assert.equal(remainingRefundAmount(state), 0);
  });

  it('sets the authorization window per product', () => {
    assert.equal(authorized('vipps', 100).authorizationExpiresAt, day(7));
    assert.equal(authorized('bambora.creditcard', 100).authorizationExpiresAt, day(7));
    assert.equal(authorized('klarna.billie', 100).authorizationExpiresAt, day(28));
    assert.equal(authorized('instabank.invoice', 100, lines(100)).authorizationExpiresAt, day(28));
    assert.equal(authorized('collector.invoice', 100).authorizationExpiresAt, day(90));
  });

  for (const [outcome, status] of [
    ['declined', 'DECLINED'],
    ['failed', 'FAILED'],
  ] as const) {
    it(`${outcome}: AUTHORIZE with success false and an error, nothing authorized`, () => {
      const { state, events } = open('vipps', 500, [], outcome);
      assert.equal(statusOf(state), status);
      assert.equal(state.authorizedAt, null);
      assert.equal(state.authorizationExpiresAt, null);
      assert.equal(events.length, 2);
      const authorize = events[1];
      assert.equal(authorize?.event, 'AUTHORIZE');
      assert.equal(authorize?.success, false);
      assert.equal(authorize?.error?.code, status);
      assert.equal(authorize?.transaction_status, status);
      assert.equal(remainingCaptureAmount(state), 0);
    });
  }

  it('on_hold is possible for collector and gives ON_HOLD', () => {
    const { state, events } = open('collector.invoice', 500, [], 'on_hold');
    assert.equal(statusOf(state), 'ON_HOLD');
    assert.deepEqual(
      events.map((event) => [event.event, event.success, event.transaction_status]),
      [
        ['INITIALIZE', true, 'INITIATED'],
        ['AUTHORIZE', true, 'ON_HOLD'],
      ],
    );
  });

  it('on_hold is refused for products that cannot be on hold', () => {
    expectKasseError(() => open('vipps', 500, [], 'on_hold'), 'INVALID_REQUEST');
    expectKasseError(() => open('klarna.klarna', 500, [], 'on_hold'), 'INVALID_REQUEST');
  });

  it('unknown gives UNKNOWN', () => {
    assert.equal(statusOf(open('vipps', 500, [], 'unknown').state), 'UNKNOWN');
  });

  it('refuses an amount that is not a positive safe integer', () => {
    for (const amount of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expectKasseError(() => open('vipps', amount), 'INVALID_AMOUNT');
    }
  });

  it('refuses a line amount that is not a non-negative safe integer', () => {
    expectKasseError(() => open('klarna.klarna', 300, [{ line_id: 'a', amount: 400 }, { line_id: 'b', amount: -100 }]), 'INVALID_AMOUNT');
    expectKasseError(() => open('klarna.klarna', 300, [{ line_id: 'a', amount: 150.5 }, { line_id: 'b', amount: 149.5 }]), 'INVALID_AMOUNT');
  });

  it('refuses duplicate line ids', () => {
    expectKasseError(
      () => open('klarna.klarna', 300, [{ line_id: 'a', amount: 100 }, { line_id: 'b', amount: 100 }, { line_id: 'a', amount: 100 }]),
      'DUPLICATE_LINE_ID',
    );
  });

  it('swish is captured at payment: INITIALIZE, AUTHORIZE, CAPTURE, every line captured, no expiry', () => {
    const { state, events } = open('swish.swish', 900, lines(500, 400));
    assert.deepEqual(
      events.map((event) => [event.event, event.amount, event.transaction_status]),
      [
        ['INITIALIZE', 900, 'INITIATED'],
        ['AUTHORIZE', 900, 'AUTHORIZED'],
        ['CAPTURE', 900, 'CAPTURED'],
      ],
    );
    assert.equal(statusOf(state), 'CAPTURED');
    assert.equal(state.capturedAmount, 900);
    assert.equal(state.authorizationExpiresAt, null);
    assert.equal(authorizationExpiresAt(state, day(1000)), null);
    assert.deepEqual(lineCounters(state), [
      { line_id: '1', amount: 500, captured: 500, refunded: 0 },
      { line_id: '2', amount: 400, captured: 400, refunded: 0 },
    ]);
    expectKasseError(() => capture(state, { amount: 1 }, day(1)), 'TRANSACTION_NOT_CAPTURABLE');
    expectKasseError(() => voidTransaction(state), 'TRANSACTION_NOT_VOIDABLE');
  });

  it('swish is cancelled by refund, also line by line', () => {
    let state = open('swish.swish', 900, lines(500, 400)).state;
    state = step(() => refund(state, { amount: 400, items: [{ line_id: '2', amount: 400 }] }));
    assert.equal(statusOf(state), 'PARTIALLY_REFUNDED');
    state = step(() => refund(state, { amount: 500 }));
    assert.equal(statusOf(state), 'REFUNDED');
    assert.deepEqual(lineCounters(state), [
      { line_id: '1', amount: 500, captured: 500, refunded: 500 },
      { line_id: '2', amount: 400, captured: 400, refunded: 400 },
    ]);
  });
});

// ---------------------------------------------------------------- resolveAuthorization

describe('resolveAuthorization', () => {
  it('ON_HOLD → authorized: AUTHORIZE event, window starts at resolution', () => {
    const held = open('collector.invoice', 1000, lines(1000), 'on_hold').state;
    const { state, events } = deepFreeze(resolveAuthorization(held, 'authorized', day(2)));
    assert.equal(statusOf(state), 'AUTHORIZED');
    assert.equal(state.authorizedAt, day(2));
    assert.equal(state.authorizationExpiresAt, day(92));
    assert.deepEqual(
      events.map((event) => [event.event, event.success, event.amount, event.transaction_status]),
      [['AUTHORIZE', true, 1000, 'AUTHORIZED']],
    );
    const captured = step(() => capture(state, { amount: 1000 }, day(91)));
    assert.equal(statusOf(captured), 'CAPTURED');
  });

  it('UNKNOWN → failed: AUTHORIZE with success false and FAILED', () => {
    const unknown = open('vipps', 1000, [], 'unknown').state;
    const { state, events } = resolveAuthorization(unknown, 'failed', day(1));
    assert.equal(statusOf(state), 'FAILED');
    assert.equal(state.authorizedAt, null);
    assert.equal(events[0]?.success, false);
    assert.equal(events[0]?.error?.code, 'FAILED');
    assert.equal(events[0]?.transaction_status, 'FAILED');
    expectKasseError(() => capture(state, { amount: 1000 }, day(1)), 'TRANSACTION_NOT_CAPTURABLE');
  });

  it('UNKNOWN swish → authorized is captured at once', () => {
    const unknown = open('swish.swish', 700, [], 'unknown').state;
    const { state, events } = resolveAuthorization(unknown, 'authorized', day(1));
    assert.equal(statusOf(state), 'CAPTURED');
    assert.equal(state.capturedAmount, 700);
    assert.deepEqual(
      events.map((event) => event.event),
      ['AUTHORIZE', 'CAPTURE'],
    );
  });

  it('refuses to resolve anything but ON_HOLD or UNKNOWN', () => {
    const state = authorized('collector.invoice', 1000);
    expectKasseError(() => resolveAuthorization(state, 'authorized', day(1)), 'AUTHORIZATION_NOT_PENDING');
    const declined = open('vipps', 1000, [], 'declined').state;
    expectKasseError(() => resolveAuthorization(declined, 'authorized', day(1)), 'AUTHORIZATION_NOT_PENDING');
    const resolved = resolveAuthorization(open('collector.invoice', 1000, [], 'on_hold').state, 'failed', day(1)).state;
    expectKasseError(() => resolveAuthorization(resolved, 'authorized', day(1)), 'AUTHORIZATION_NOT_PENDING');
  });
});

// ---------------------------------------------------------------- capture

describe('capture', () => {
  it('partial captures until fully captured, then nothing more', () => {
    let state = authorized('vipps', 10000);
    state = step(() => capture(state, { amount: 3000 }, day(1)));
    assert.equal(statusOf(state), 'PARTIALLY_CAPTURED');
    assert.equal(state.capturedAmount, 3000);
    assert.equal(state.amount, 10000, 'capture does not change the authorized total');
    assert.equal(remainingCaptureAmount(state), 7000);
    assert.equal(remainingRefundAmount(state), 3000);
    state = step(() => capture(state, { amount: 5000 }, day(2)));
    assert.equal(statusOf(state), 'PARTIALLY_CAPTURED');
    assert.equal(remainingCaptureAmount(state), 2000);
    state = step(() => capture(state, { amount: 2000 }, day(3)));
    assert.equal(statusOf(state), 'CAPTURED');
    assert.equal(state.capturedAmount, 10000);
    assert.equal(remainingCaptureAmount(state), 0);
    expectKasseError(() => capture(state, { amount: 1 }, day(3)), 'TRANSACTION_NOT_CAPTURABLE');
  });

  it('records the CAPTURE event with amount, reference and metadata', () => {
    const state = authorized('vipps', 10000);
    const { events } = capture(state, { amount: 2500, capture_reference: 'cap-1', metadata: { note: 'first' } }, day(1));
    assert.deepEqual(events, [
      { event: 'CAPTURE', success: true, amount: 2500, event_reference: 'cap-1', metadata: { note: 'first' }, transaction_status: 'PARTIALLY_CAPTURED' },
    ]);
  });

  it('refuses an amount above the remainder', () => {
    let state = authorized('vipps', 10000);
    expectKasseError(() => capture(state, { amount: 10001 }, day(1)), 'AMOUNT_EXCEEDS_CAPTURABLE');
    state = step(() => capture(state, { amount: 6000 }, day(1)));
    expectKasseError(() => capture(state, { amount: 4001 }, day(1)), 'AMOUNT_EXCEEDS_CAPTURABLE');
    assert.equal(statusOf(step(() => capture(state, { amount: 4000 }, day(1)))), 'CAPTURED');
  });

  it('refuses an amount that is not a positive safe integer', () => {
    const state = authorized('vipps', 10000);
    for (const amount of [0, -100, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
      expectKasseError(() => capture(state, { amount }, day(1)), 'INVALID_AMOUNT');
    }
  });

  it('refuses transactions that are not capturable', () => {
    expectKasseError(() => capture(open('vipps', 100, [], 'declined').state, { amount: 100 }, T0), 'TRANSACTION_NOT_CAPTURABLE');
    expectKasseError(() => capture(open('vipps', 100, [], 'failed').state, { amount: 100 }, T0), 'TRANSACTION_NOT_CAPTURABLE');
    expectKasseError(() => capture(open('vipps', 100, [], 'unknown').state, { amount: 100 }, T0), 'TRANSACTION_NOT_CAPTURABLE');
    expectKasseError(() => capture(open('collector.invoice', 100, [], 'on_hold').state, { amount: 100 }, T0), 'TRANSACTION_NOT_CAPTURABLE');
    const voided = step(() => voidTransaction(authorized('vipps', 100)));
    expectKasseError(() => capture(voided, { amount: 100 }, T0), 'TRANSACTION_NOT_CAPTURABLE');
  });

  it('captures from PARTIALLY_CAPTURED_REFUNDED', () => {
    let state = authorized('vipps', 1000);
    state = step(() => capture(state, { amount: 600 }, day(1)));
    state = step(() => refund(state, { amount: 100 }));
    assert.equal(statusOf(state), 'PARTIALLY_CAPTURED_REFUNDED');
    state = step(() => capture(state, { amount: 400 }, day(1)));
    assert.equal(statusOf(state), 'PARTIALLY_REFUNDED');
    assert.equal(state.capturedAmount, 1000);
    assert.equal(state.refundedAmount, 100);
  });

  describe('with items', () => {
    it('records the captured amount on each named line', () => {
      let state = authorized('klarna.klarna', 1000, lines(600, 300, 100));
      const decision = capture(state, { amount: 700, items: [{ line_id: '1', amount: 600 }, { line_id: '3', amount: 100 }] }, day(1));
      assert.deepEqual(decision.events[0]?.items, [{ line_id: '1', amount: 600 }, { line_id: '3', amount: 100 }]);
      state = step(() => decision);
      assert.equal(state.capturedAmount, 700);
      assert.deepEqual(lineCounters(state), [
        { line_id: '1', amount: 600, captured: 600, refunded: 0 },
        { line_id: '2', amount: 300, captured: 0, refunded: 0 },
        { line_id: '3', amount: 100, captured: 100, refunded: 0 },
      ]);
      state = step(() => capture(state, { amount: 100, items: [{ line_id: '2', amount: 100 }] }, day(1)));
      state = step(() => capture(state, { amount: 200, items: [{ line_id: '2', amount: 200 }] }, day(1)));
      assert.equal(statusOf(state), 'CAPTURED');
      assert.deepEqual(
        state.items.map((line) => line.captured_amount),
        [600, 300, 100],
      );
    });

    it('refuses an unknown line_id', () => {
      const state = authorized('klarna.klarna', 1000, lines(600, 400));
      expectKasseError(() => capture(state, { amount: 100, items: [{ line_id: 'nope', amount: 100 }] }, day(1)), 'UNKNOWN_LINE_ID');
      const withoutLines = authorized('vipps', 1000);
      expectKasseError(() => capture(withoutLines, { amount: 100, items: [{ line_id: '1', amount: 100 }] }, day(1)), 'UNKNOWN_LINE_ID');
    });

    it('refuses negative or fractional line amounts, even when they add up', () => {
      const state = authorized('klarna.klarna', 1000, lines(600, 400));
      const negative = [{ line_id: '1', amount: 150 }, { line_id: '2', amount: -50 }];
      const fractional = [{ line_id: '1', amount: 99.5 }, { line_id: '2', amount: 0.5 }];
      expectKasseError(() => capture(state, { amount: 100, items: negative }, day(1)), 'INVALID_AMOUNT');
      expectKasseError(() => capture(state, { amount: 100, items: fractional }, day(1)), 'INVALID_AMOUNT');
      const captured = step(() => capture(state, { amount: 1000 }, day(1)));
      expectKasseError(() => refund(captured, { amount: 100, items: negative }), 'INVALID_AMOUNT');
      expectKasseError(() => refund(captured, { amount: 100, items: fractional }), 'INVALID_AMOUNT');
      expectKasseError(
        () => updateAuthorization(state, { amount: 1000, items: [{ line_id: '1', amount: 1100 }, { line_id: '2', amount: -100 }] }, day(1)),
        'INVALID_AMOUNT',
      );
    });

    it('refuses duplicate line ids', () => {
      const state = authorized('klarna.klarna', 1000, lines(600, 400));
      expectKasseError(
        () => capture(state, { amount: 200, items: [{ line_id: '1', amount: 100 }, { line_id: '1', amount: 100 }] }, day(1)),
        'DUPLICATE_LINE_ID',
      );
    });

    it('refuses items that do not add up to the amount', () => {
      const state = authorized('klarna.klarna', 1000, lines(600, 400));
      expectKasseError(() => capture(state, { amount: 500, items: [{ line_id: '1', amount: 400 }] }, day(1)), 'ITEMS_AMOUNT_MISMATCH');
      expectKasseError(() => capture(state, { amount: 500, items: [] }, day(1)), 'ITEMS_AMOUNT_MISMATCH');
    });

    it('refuses to capture more than a line holds (LINE_AMOUNT_EXCEEDED)', () => {
      let state = authorized('klarna.klarna', 1000, lines(600, 400));
      expectKasseError(() => capture(state, { amount: 700, items: [{ line_id: '1', amount: 700 }] }, day(1)), 'LINE_AMOUNT_EXCEEDED');
      state = step(() => capture(state, { amount: 500, items: [{ line_id: '1', amount: 500 }] }, day(1)));
      expectKasseError(() => capture(state, { amount: 101, items: [{ line_id: '1', amount: 101 }] }, day(1)), 'LINE_AMOUNT_EXCEEDED');
      state = step(() => capture(state, { amount: 100, items: [{ line_id: '1', amount: 100 }] }, day(1)));
      assert.equal(state.items[0]?.captured_amount, 600);
      expectKasseError(() => capture(state, { amount: 1, items: [{ line_id: '1', amount: 1 }] }, day(1)), 'LINE_AMOUNT_EXCEEDED');
    });
  });

  describe('without items', () => {
    it('a capture of everything left on every line is attributed to the lines; refund by line then works', () => {
      let state = authorized('klarna.klarna', 1000, lines(600, 400));
      state = step(() => capture(state, { amount: 250, items: [{ line_id: '1', amount: 250 }] }, day(1)));
      const decision = capture(state, { amount: 750 }, day(2));
      assert.deepEqual(
        decision.events[0]?.items?.map((item) => [item.line_id, item.amount, item.description]),
        [
          ['1', 350, 'line 1'],
          ['2', 400, 'line 2'],
        ],
      );
      assert.equal(decision.events[0]?.items?.some((item) => 'captured_amount' in item), false);
      state = step(() => decision);
      assert.equal(statusOf(state), 'CAPTURED');
      assert.deepEqual(
        state.items.map((line) => line.captured_amount),
        [600, 400],
      );
      state = step(() => refund(state, { amount: 400, items: [{ line_id: '2', amount: 400 }] }));
      assert.equal(statusOf(state), 'PARTIALLY_REFUNDED');
      assert.deepEqual(lineCounters(state)[1], { line_id: '2', amount: 400, captured: 400, refunded: 400 });
      expectKasseError(() => refund(state, { amount: 1, items: [{ line_id: '2', amount: 1 }] }), 'LINE_AMOUNT_EXCEEDED');
    });

    it('any other amount is recorded on the transaction only, so refund by line is refused', () => {
      let state = authorized('klarna.klarna', 1000, lines(600, 400));
      const decision = capture(state, { amount: 600 }, day(1));
      assert.equal(decision.events[0]?.items, undefined);
      state = step(() => decision);
      assert.equal(state.capturedAmount, 600);
      assert.deepEqual(
        state.items.map((line) => line.captured_amount),
        [0, 0],
      );
      expectKasseError(() => refund(state, { amount: 100, items: [{ line_id: '1', amount: 100 }] }), 'LINE_AMOUNT_EXCEEDED');
      state = step(() => refund(state, { amount: 100 }));
      assert.equal(state.refundedAmount, 100);
    });
  });

  it('collector captures whole, not yet captured lines only', () => {
    let state = authorized('collector.invoice', 1000, lines(600, 300, 100));
    expectKasseError(() => capture(state, { amount: 300, items: [{ line_id: '1', amount: 300 }] }, day(1)), 'WHOLE_LINES_REQUIRED');
    expectKasseError(() => capture(state, { amount: 500 }, day(1)), 'WHOLE_LINES_REQUIRED');
    expectKasseError(
      () => capture(state, { amount: 600, items: [{ line_id: '1', amount: 600 }, { line_id: '3', amount: 0 }] }, day(1)),
      'WHOLE_LINES_REQUIRED',
    );
    state = step(() => capture(state, { amount: 700, items: [{ line_id: '1', amount: 600 }, { line_id: '3', amount: 100 }] }, day(1)));
    assert.equal(statusOf(state), 'PARTIALLY_CAPTURED');
    expectKasseError(() => capture(state, { amount: 100 }, day(1)), 'WHOLE_LINES_REQUIRED');
    // Without items, the whole remaining line set is a whole-line capture.
    state = step(() => capture(state, { amount: 300 }, day(2)));
    assert.equal(statusOf(state), 'CAPTURED');
    assert.deepEqual(
      state.items.map((line) => line.captured_amount),
      [600, 300, 100],
    );
  });

  it('collector without lines captures only the whole remainder', () => {
    const state = authorized('collector.installment', 1000);
    expectKasseError(() => capture(state, { amount: 999 }, day(1)), 'WHOLE_LINES_REQUIRED');
    assert.equal(statusOf(step(() => capture(state, { amount: 1000 }, day(1)))), 'CAPTURED');
  });

  it('instabank needs the items for capture and refund', () => {
    let state = authorized('instabank.invoice', 1000, lines(700, 300));
    expectKasseError(() => capture(state, { amount: 700 }, day(1)), 'ITEMS_REQUIRED');
    state = step(() => capture(state, { amount: 700, items: [{ line_id: '1', amount: 700 }] }, day(1)));
    expectKasseError(() => refund(state, { amount: 100 }), 'ITEMS_REQUIRED');
    state = step(() => refund(state, { amount: 100, items: [{ line_id: '1', amount: 100 }] }));
    assert.equal(statusOf(state), 'PARTIALLY_CAPTURED_REFUNDED');
    assert.deepEqual(lineCounters(state)[0], { line_id: '1', amount: 700, captured: 700, refunded: 100 });
  });

  describe('expiry', () => {
    it('vipps: capturable for 7 days, AUTHORIZATION_EXPIRED after', () => {
      const state = authorized('vipps', 1000);
      assert.equal(statusOf(step(() => capture(state, { amount: 1000 }, day(6.9)))), 'CAPTURED');
      expectKasseError(() => capture(state, { amount: 1000 }, day(7)), 'AUTHORIZATION_EXPIRED');
      expectKasseError(() => capture(state, { amount: 1000 }, day(8)), 'AUTHORIZATION_EXPIRED');
      expectKasseError(() => capture(state, { amount: 1 }, day(8)), 'AUTHORIZATION_EXPIRED');
    });

    it('expiry does not block refunds of what was captured in time', () => {
      let state = authorized('vipps', 1000);
      state = step(() => capture(state, { amount: 400 }, day(1)));
      expectKasseError(() => capture(state, { amount: 100 }, day(8)), 'AUTHORIZATION_EXPIRED');
      assert.equal(step(() => refund(state, { amount: 400 })).refundedAmount, 400);
    });

    it('collector lasts 90 days, billie 28 days without extension', () => {
      const collector = authorized('collector.invoice', 1000);
      assert.equal(statusOf(step(() => capture(collector, { amount: 1000 }, day(89)))), 'CAPTURED');
      expectKasseError(() => capture(collector, { amount: 1000 }, day(91)), 'AUTHORIZATION_EXPIRED');
      const billie = authorized('klarna.billie', 1000);
      assert.equal(authorizationExpiresAt(billie, day(27)), day(28));
      assert.equal(authorizationExpiresAt(billie, day(40)), day(28));
      expectKasseError(() => capture(billie, { amount: 1000 }, day(29)), 'AUTHORIZATION_EXPIRED');
    });

    it('klarna auto-extends: capturable at day 35 and day 179, not at day 180 or 181', () => {
      const state = authorized('klarna.klarna', 1000);
      assert.equal(authorizationExpiresAt(state, day(22)), day(28), 'no extension before day 23');
      assert.equal(authorizationExpiresAt(state, day(23)), day(51), 'extended by 28 days at day 23');
      assert.equal(authorizationExpiresAt(state, day(35)), day(51));
      assert.equal(authorizationExpiresAt(state, day(46)), day(74), 'next extension 5 days before the new expiry');
      assert.equal(authorizationExpiresAt(state, day(179)), day(180), 'never past 180 days');
      assert.equal(statusOf(step(() => capture(state, { amount: 500 }, day(35)))), 'PARTIALLY_CAPTURED');
      assert.equal(statusOf(step(() => capture(state, { amount: 1000 }, day(179)))), 'CAPTURED');
      expectKasseError(() => capture(state, { amount: 1000 }, day(180)), 'AUTHORIZATION_EXPIRED');
      expectKasseError(() => capture(state, { amount: 1000 }, day(181)), 'AUTHORIZATION_EXPIRED');
    });

    it('klarna: a partial capture gives the remainder a fresh 28 days; a full capture does not', () => {
      const state = authorized('klarna.klarna', 1000);
      const partial = step(() => capture(state, { amount: 400 }, day(20)));
      assert.equal(partial.authorizationExpiresAt, day(48));
      assert.equal(authorizationExpiresAt(partial, day(20)), day(48));
      assert.equal(authorizationExpiresAt(state, day(20)), day(28), 'the input keeps its window');
      const full = step(() => capture(state, { amount: 1000 }, day(20)));
      assert.equal(full.authorizationExpiresAt, day(28));
      // The fresh window never passes the 180-day ceiling.
      const late = step(() => capture(state, { amount: 400 }, day(170)));
      assert.equal(late.authorizationExpiresAt, day(180));
      expectKasseError(() => capture(late, { amount: 600 }, day(180)), 'AUTHORIZATION_EXPIRED');
    });

    it('klarna: a partial capture never shortens an explicitly extended window', () => {
      const extended = step(() => updateAuthorization(authorized('klarna.klarna', 1000), {}, day(1)));
      assert.equal(extended.authorizationExpiresAt, day(56));
      const early = step(() => capture(extended, { amount: 400 }, day(2)));
      assert.equal(early.authorizationExpiresAt, day(56), 'day 2 + 28 would cut the extension short');
      assert.equal(authorizationExpiresAt(early, day(2)), day(56));
      const later = step(() => capture(extended, { amount: 400 }, day(40)));
      assert.equal(later.authorizationExpiresAt, day(68), 'a fresh window that reaches further wins');
    });

    it('billie: a partial capture does not refresh the window', () => {
      const state = authorized('klarna.billie', 1000);
      const partial = step(() => capture(state, { amount: 400 }, day(20)));
      assert.equal(partial.authorizationExpiresAt, day(28));
      expectKasseError(() => capture(partial, { amount: 600 }, day(30)), 'AUTHORIZATION_EXPIRED');
    });
  });
});

// ---------------------------------------------------------------- refund

describe('refund', () => {
  it('refuses before any capture', () => {
    const state = authorized('vipps', 1000);
    expectKasseError(() => refund(state, { amount: 100 }), 'TRANSACTION_NOT_REFUNDABLE');
    expectKasseError(() => refund(open('vipps', 1000, [], 'declined').state, { amount: 100 }), 'TRANSACTION_NOT_REFUNDABLE');
    expectKasseError(() => refund(step(() => voidTransaction(state)), { amount: 100 }), 'TRANSACTION_NOT_REFUNDABLE');
  });

  it('refunds up to C − R, through every refund status', () => {
    let state = authorized('vipps', 1000);
    state = step(() => capture(state, { amount: 600 }, day(1)));
    expectKasseError(() => refund(state, { amount: 601 }), 'AMOUNT_EXCEEDS_REFUNDABLE');
    state = step(() => refund(state, { amount: 200 }));
    assert.equal(statusOf(state), 'PARTIALLY_CAPTURED_REFUNDED');
    assert.equal(remainingRefundAmount(state), 400);
    expectKasseError(() => refund(state, { amount: 401 }), 'AMOUNT_EXCEEDS_REFUNDABLE');
    state = step(() => capture(state, { amount: 400 }, day(1)));
    assert.equal(statusOf(state), 'PARTIALLY_REFUNDED');
    expectKasseError(() => refund(state, { amount: 801 }), 'AMOUNT_EXCEEDS_REFUNDABLE');
    state = step(() => refund(state, { amount: 800 }));
    assert.equal(statusOf(state), 'REFUNDED');
    assert.equal(state.refundedAmount, 1000);
    assert.equal(remainingRefundAmount(state), 0);
    expectKasseError(() => refund(state, { amount: 1 }), 'TRANSACTION_NOT_REFUNDABLE');
  });

  it('refuses an amount that is not a positive safe integer', () => {
    const state = step(() => capture(authorized('vipps', 1000), { amount: 1000 }, day(1)));
    for (const amount of [0, -1, 2.5]) expectKasseError(() => refund(state, { amount }), 'INVALID_AMOUNT');
  });

  it('records reason, reference and metadata on the REFUND event', () => {
    const state = step(() => capture(authorized('vipps', 1000), { amount: 1000 }, day(1)));
    const { events } = refund(state, { amount: 300, reason: 'damaged', refund_reference: 'r-1', metadata: { ticket: 7 } });
    assert.equal(events[0]?.event, 'REFUND');
    assert.equal(events[0]?.amount, 300);
    assert.equal(events[0]?.event_reference, 'r-1');
    assert.deepEqual(events[0]?.metadata, { ticket: 7, reason: 'damaged' });
    assert.equal(events[0]?.transaction_status, 'PARTIALLY_REFUNDED');
  });

  it('by line: never above what was captured on the line', () => {
    let state = authorized('klarna.klarna', 1000, lines(600, 400));
    state = step(() => capture(state, { amount: 600, items: [{ line_id: '1', amount: 600 }] }, day(1)));
    expectKasseError(() => refund(state, { amount: 100, items: [{ line_id: '2', amount: 100 }] }), 'LINE_AMOUNT_EXCEEDED');
    expectKasseError(() => refund(state, { amount: 100, items: [{ line_id: 'x', amount: 100 }] }), 'UNKNOWN_LINE_ID');
    expectKasseError(() => refund(state, { amount: 100, items: [{ line_id: '1', amount: 50 }] }), 'ITEMS_AMOUNT_MISMATCH');
    expectKasseError(
      () => refund(state, { amount: 100, items: [{ line_id: '1', amount: 50 }, { line_id: '1', amount: 50 }] }),
      'DUPLICATE_LINE_ID',
    );
    state = step(() => refund(state, { amount: 250, items: [{ line_id: '1', amount: 250 }] }));
    expectKasseError(() => refund(state, { amount: 351, items: [{ line_id: '1', amount: 351 }] }), 'AMOUNT_EXCEEDS_REFUNDABLE');
    state = step(() => refund(state, { amount: 350, items: [{ line_id: '1', amount: 350 }] }));
    assert.deepEqual(lineCounters(state), [
      { line_id: '1', amount: 600, captured: 600, refunded: 600 },
      { line_id: '2', amount: 400, captured: 0, refunded: 0 },
    ]);
    assert.equal(statusOf(state), 'PARTIALLY_CAPTURED_REFUNDED');
  });

  it('without items: refunding everything left on the lines is attributed to them', () => {
    let state = authorized('klarna.klarna', 1000, lines(600, 400));
    state = step(() => capture(state, { amount: 1000 }, day(1)));
    state = step(() => refund(state, { amount: 100, items: [{ line_id: '2', amount: 100 }] }));
    state = step(() => refund(state, { amount: 900 }));
    assert.equal(statusOf(state), 'REFUNDED');
    assert.deepEqual(
      state.items.map((line) => line.refunded_amount),
      [600, 400],
    );
  });

  it('after the remainder was voided', () => {
    let state = authorized('klarna.klarna', 1000);
    state = step(() => capture(state, { amount: 300 }, day(1)));
    state = step(() => voidTransaction(state));
    state = step(() => refund(state, { amount: 100 }));
    assert.equal(statusOf(state), 'PARTIALLY_REFUNDED');
    expectKasseError(() => refund(state, { amount: 201 }), 'AMOUNT_EXCEEDS_REFUNDABLE');
    state = step(() => refund(state, { amount: 200 }));
    assert.equal(statusOf(state), 'REFUNDED');
  });
});

// ---------------------------------------------------------------- void

describe('voidTransaction', () => {
  it('before any capture voids everything', () => {
    const state = authorized('bambora.creditcard', 1000);
    const { state: voided, events } = voidTransaction(state);
    assert.equal(statusOf(voided), 'AUTHORIZATION_VOIDED');
    assert.equal(voided.voidedAmount, 1000);
    assert.equal(remainingCaptureAmount(voided), 0);
    assert.deepEqual(events, [{ event: 'VOID', success: true, amount: 1000, transaction_status: 'AUTHORIZATION_VOIDED' }]);
    expectKasseError(() => voidTransaction(voided), 'TRANSACTION_NOT_VOIDABLE');
  });

  it('refuses after a full capture', () => {
    const state = step(() => capture(authorized('klarna.klarna', 1000), { amount: 1000 }, day(1)));
    expectKasseError(() => voidTransaction(state), 'TRANSACTION_NOT_VOIDABLE');
    const refunded = step(() => refund(state, { amount: 1000 }));
    expectKasseError(() => voidTransaction(refunded), 'TRANSACTION_NOT_VOIDABLE');
  });

  it('refuses transactions that were never authorized', () => {
    expectKasseError(() => voidTransaction(open('vipps', 1000, [], 'declined').state), 'TRANSACTION_NOT_VOIDABLE');
    expectKasseError(() => voidTransaction(open('collector.invoice', 1000, [], 'on_hold').state), 'TRANSACTION_NOT_VOIDABLE');
  });

  it('klarna: voids the remainder after a partial capture, leaving CAPTURED', () => {
    let state = authorized('klarna.klarna', 1000);
    state = step(() => capture(state, { amount: 300 }, day(1)));
    const decision = voidTransaction(state);
    assert.equal(decision.events[0]?.amount, 700);
    state = step(() => decision);
    assert.equal(state.voidedAmount, 700);
    assert.equal(state.capturedAmount, 300);
    assert.equal(statusOf(state), 'CAPTURED');
    assert.equal(remainingCaptureAmount(state), 0);
    expectKasseError(() => capture(state, { amount: 1 }, day(1)), 'TRANSACTION_NOT_CAPTURABLE');
    expectKasseError(() => voidTransaction(state), 'TRANSACTION_NOT_VOIDABLE');
  });

  it('voids the remainder from PARTIALLY_CAPTURED_REFUNDED, leaving PARTIALLY_REFUNDED', () => {
    let state = authorized('vipps', 1000);
    state = step(() => capture(state, { amount: 300 }, day(1)));
    state = step(() => refund(state, { amount: 100 }));
    state = step(() => voidTransaction(state));
    assert.equal(statusOf(state), 'PARTIALLY_REFUNDED');
    assert.equal(state.voidedAmount, 700);
  });

  for (const type of ['bambora.creditcard', 'netaxept.creditcard', 'dintero_psp.creditcard', 'collector.invoice', 'instabank.invoice'] as const) {
    it(`${type}: void of the remainder after a partial capture is OPERATION_NOT_SUPPORTED`, () => {
      let state = authorized(type, 1000, lines(600, 400));
      state = step(() => capture(state, { amount: 600, items: [{ line_id: '1', amount: 600 }] }, day(1)));
      expectKasseError(() => voidTransaction(state), 'OPERATION_NOT_SUPPORTED');
    });
  }
});

// ---------------------------------------------------------------- update authorization

describe('updateAuthorization', () => {
  for (const type of ['klarna.klarna', 'klarna.billie'] as const) {
    it(`${type}: raises the authorized total with the complete new item list`, () => {
      const state = authorized(type, 1000, lines(600, 400));
      const decision = updateAuthorization(
        state,
        { amount: 1500, items: [...lines(600, 400), { line_id: '3', amount: 500 }], reason: 'added', reference: 'u-1' },
        day(1),
      );
      const next = step(() => decision);
      assert.equal(next.amount, 1500);
      assert.equal(statusOf(next), 'AUTHORIZED');
      assert.equal(remainingCaptureAmount(next), 1500);
      assert.deepEqual(
        next.items.map((line) => [line.line_id, line.amount, line.captured_amount]),
        [
          ['1', 600, 0],
          ['2', 400, 0],
          ['3', 500, 0],
        ],
      );
      const event = decision.events[0];
      assert.equal(event?.event, 'AUTHORIZE');
      assert.equal(event?.amount, 1500);
      assert.equal(event?.items?.length, 3);
      assert.equal(event?.event_reference, 'u-1');
      assert.deepEqual(event?.metadata, { reason: 'added' });
    });

    it(`${type}: lowers the total after a partial capture, captured lines kept`, () => {
      let state = authorized(type, 1000, lines(600, 400));
      state = step(() => capture(state, { amount: 600, items: [{ line_id: '1', amount: 600 }] }, day(1)));
      state = step(() => refund(state, { amount: 50, items: [{ line_id: '1', amount: 50 }] }));
      state = step(() => updateAuthorization(state, { amount: 800, items: [{ line_id: '1', amount: 600 }, { line_id: '2', amount: 200 }] }, day(2)));
      assert.equal(state.amount, 800);
      assert.equal(statusOf(state), 'PARTIALLY_CAPTURED_REFUNDED');
      assert.equal(remainingCaptureAmount(state), 200);
      assert.deepEqual(lineCounters(state), [
        { line_id: '1', amount: 600, captured: 600, refunded: 50 },
        { line_id: '2', amount: 200, captured: 0, refunded: 0 },
      ]);
      expectKasseError(() => capture(state, { amount: 201 }, day(2)), 'AMOUNT_EXCEEDS_CAPTURABLE');
      state = step(() => capture(state, { amount: 200 }, day(2)));
      assert.equal(statusOf(state), 'PARTIALLY_REFUNDED');
    });

    it(`${type}: enforces the items rule`, () => {
      let state = authorized(type, 1000, lines(600, 400));
      expectKasseError(() => updateAuthorization(state, { amount: 900 }, day(1)), 'ITEMS_REQUIRED');
      expectKasseError(() => updateAuthorization(state, { amount: 900, items: lines(600, 400) }, day(1)), 'ITEMS_AMOUNT_MISMATCH');
      expectKasseError(
        () => updateAuthorization(state, { amount: 900, items: [{ line_id: 'a', amount: 450 }, { line_id: 'a', amount: 450 }] }, day(1)),
        'DUPLICATE_LINE_ID',
      );
      state = step(() => capture(state, { amount: 500, items: [{ line_id: '1', amount: 500 }] }, day(1)));
      expectKasseError(
        () => updateAuthorization(state, { amount: 900, items: [{ line_id: '2', amount: 400 }, { line_id: '3', amount: 500 }] }, day(1)),
        'CAPTURED_LINE_REMOVED',
      );
      expectKasseError(
        () => updateAuthorization(state, { amount: 900, items: [{ line_id: '1', amount: 499 }, { line_id: '2', amount: 401 }] }, day(1)),
        'CAPTURED_LINE_REMOVED',
      );
      expectKasseError(() => updateAuthorization(state, { amount: 499, items: [{ line_id: '1', amount: 499 }] }, day(1)), 'AMOUNT_BELOW_CAPTURED');
      // Down to exactly what was captured: nothing left to capture.
      const exact = step(() => updateAuthorization(state, { amount: 500, items: [{ line_id: '1', amount: 500 }] }, day(1)));
      assert.equal(statusOf(exact), 'CAPTURED');
      assert.deepEqual(lineCounters(exact), [{ line_id: '1', amount: 500, captured: 500, refunded: 0 }]);
    });

    it(`${type}: refuses an amount that is not a positive safe integer`, () => {
      const state = authorized(type, 1000);
      for (const amount of [0, -5, 10.5]) expectKasseError(() => updateAuthorization(state, { amount }, day(1)), 'INVALID_AMOUNT');
    });

    it(`${type}: refused after full capture and after void`, () => {
      const state = authorized(type, 1000);
      const captured = step(() => capture(state, { amount: 1000 }, day(1)));
      expectKasseError(() => updateAuthorization(captured, { amount: 2000 }, day(1)), 'AUTHORIZATION_NOT_UPDATABLE');
      const voided = step(() => voidTransaction(state));
      expectKasseError(() => updateAuthorization(voided, { amount: 2000 }, day(1)), 'AUTHORIZATION_NOT_UPDATABLE');
      const partial = step(() => capture(state, { amount: 400 }, day(1)));
      const remainderVoided = step(() => voidTransaction(partial));
      expectKasseError(() => updateAuthorization(remainderVoided, { amount: 2000 }, day(1)), 'AUTHORIZATION_NOT_UPDATABLE');
    });
  }

  it('without items on the transaction, amount alone is enough', () => {
    const state = step(() => updateAuthorization(authorized('klarna.billie', 1000), { amount: 1200, description: 'upsell' }, day(1)));
    assert.equal(state.amount, 1200);
    assert.deepEqual(state.items, []);
  });

  it('refused for products without update authorization', () => {
    for (const type of ['vipps', 'payex.creditcard', 'bambora.creditcard', 'collector.invoice', 'instabank.invoice'] as const) {
      const state = authorized(type, 1000, lines(1000));
      expectKasseError(() => updateAuthorization(state, { amount: 1200, items: lines(1200) }, day(1)), 'OPERATION_NOT_SUPPORTED');
      expectKasseError(() => updateAuthorization(state, {}, day(1)), 'OPERATION_NOT_SUPPORTED');
    }
    expectKasseError(() => updateAuthorization(open('swish.swish', 1000).state, { amount: 1200 }, day(1)), 'OPERATION_NOT_SUPPORTED');
  });

  it('refused once expired', () => {
    expectKasseError(() => updateAuthorization(authorized('klarna.billie', 1000), { amount: 900 }, day(28)), 'AUTHORIZATION_EXPIRED');
    expectKasseError(() => updateAuthorization(authorized('klarna.klarna', 1000), {}, day(180)), 'AUTHORIZATION_EXPIRED');
  });

  it('klarna without amount extends the authorization by 28 days', () => {
    const state = authorized('klarna.klarna', 1000, lines(1000));
    const decision = updateAuthorization(state, { reason: 'delivery delayed' }, day(1));
    const next = step(() => decision);
    assert.equal(next.amount, 1000);
    assert.equal(next.authorizationExpiresAt, day(56));
    assert.equal(authorizationExpiresAt(next, day(1)), day(56));
    assert.deepEqual(decision.events[0], {
      event: 'AUTHORIZE',
      success: true,
      amount: 1000,
      metadata: { reason: 'delivery delayed' },
      transaction_status: 'AUTHORIZED',
    });
    // Extending from an auto-extended window adds 28 days to the effective expiry.
    assert.equal(step(() => updateAuthorization(state, {}, day(30))).authorizationExpiresAt, day(79));
  });

  it('klarna extension stays within 180 days', () => {
    const state = authorized('klarna.klarna', 1000);
    const next = step(() => updateAuthorization(state, {}, day(170)));
    assert.equal(next.authorizationExpiresAt, day(180));
    expectKasseError(() => capture(next, { amount: 1000 }, day(180)), 'AUTHORIZATION_EXPIRED');
  });

  it('without amount: billie cannot extend, and items need an amount', () => {
    expectKasseError(() => updateAuthorization(authorized('klarna.billie', 1000), {}, day(1)), 'INVALID_REQUEST');
    expectKasseError(() => updateAuthorization(authorized('klarna.klarna', 1000, lines(1000)), { items: lines(1000) }, day(1)), 'INVALID_REQUEST');
  });
});
