/**
 * Random operation sequences against the transaction state machine. After every step the
 * money invariants must hold; a refused command must leave its input untouched; the domain
 * never mutates its input and never throws anything but a KasseError.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KasseError } from './errors.js';
import { capabilitiesOf, type PaymentProductType, paymentProductTypes } from './products.js';
import { deriveStatus, isCapturableStatus, isTransactionStatus } from './status.js';
import {
  type AuthorizationOutcome,
  type Decision,
  type OrderItem,
  type TransactionItem,
  type TransactionState,
  type ProviderAnswer,
  authorizationExpiresAt,
  completePending,
  openTransaction,
  pendingAmount,
  planCapture,
  planRefund,
  planVoid,
  remainingCaptureAmount,
  remainingRefundAmount,
  resolveAuthorization,
  settle,
  statusOf,
  updateAuthorization,
} from './transaction.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const T0 = Date.parse('2025-01-01T00:00:00.000Z');

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

// ---------------------------------------------------------------- generators

/** Picks from [value, weight] pairs. */
function weighted<T>(...choices: ReadonlyArray<readonly [T, number]>): fc.Arbitrary<T> {
  return fc.oneof(...choices.map(([value, weight]) => ({ arbitrary: fc.constant(value), weight })));
}

const commandKinds = ['capture', 'refund', 'void', 'update', 'extend', 'resolve', 'complete'] as const;
/** How the simulated provider answers a capture, refund or void. */
const answers = ['succeed', 'fail', 'async'] as const;
/** How the amount is picked relative to the state; see `pickAmount`. */
const amountChoices = ['edge', 'part', 'zero', 'beyond', 'huge', 'random'] as const;
/** How the items are picked relative to the lines; see `captureOrRefundItems` and `updateItems`. */
const itemsChoices = ['none', 'all', 'subset', 'subsetPart', 'unknown', 'duplicate', 'overLine', 'mismatch', 'badLineAmount'] as const;

interface Command {
  readonly kind: (typeof commandKinds)[number];
  readonly answer: ProviderAnswer;
  readonly amountChoice: (typeof amountChoices)[number];
  readonly itemsChoice: (typeof itemsChoices)[number];
  /** Bit i selects line i. */
  readonly mask: number;
  /** Per mille, for "part of" amounts. */
  readonly part: number;
  readonly random: number;
  readonly advanceMs: number;
}

const commandArbitrary: fc.Arbitrary<Command> = fc.record({
  // Voids and refunds end a transaction's capturing life, so they come less often than captures.
  kind: weighted<Command['kind']>(['capture', 8], ['refund', 4], ['update', 3], ['extend', 1], ['void', 1], ['resolve', 1], ['complete', 2]),
  answer: weighted<ProviderAnswer>(['succeed', 6], ['fail', 1], ['async', 2]),
  amountChoice: weighted<Command['amountChoice']>(['edge', 2], ['part', 5], ['zero', 1], ['beyond', 1], ['huge', 1], ['random', 1]),
  itemsChoice: weighted<Command['itemsChoice']>(['none', 4], ['all', 1], ['subset', 2], ['subsetPart', 3], ['unknown', 1], ['duplicate', 1], ['overLine', 1], ['mismatch', 1], ['badLineAmount', 1]),
  mask: fc.integer({ min: 0, max: 31 }),
  part: fc.integer({ min: 0, max: 1000 }),
  random: fc.integer({ min: 1, max: 2_000_000 }),
  advanceMs: fc.oneof(
    { weight: 20, arbitrary: fc.integer({ min: 0, max: 60 * 60 * 1000 }) },
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 2 * DAY_MS }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 * DAY_MS }) },
  ),
});

interface Opening {
  readonly paymentProductType: PaymentProductType;
  readonly amount: number;
  readonly items: readonly OrderItem[];
  readonly outcome: AuthorizationOutcome;
}

/** 0–5 lines whose amounts add up to the total exactly (lines of 0 included). */
function itemsSummingTo(total: number, required: boolean): fc.Arbitrary<OrderItem[]> {
  return fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 4 }).chain((cuts) =>
    fc.boolean().map((withItems) => {
      if (!withItems && !required) return [];
      const bounds = [0, ...cuts.map((cut) => Math.floor((total * cut) / 1000)).sort((a, b) => a - b), total];
      return bounds.slice(1).map((bound, index) => ({
        line_id: `L${index}`,
        amount: bound - (bounds[index] ?? 0),
        description: `line ${index}`,
        quantity: 1,
      }));
    }),
  );
}

const openingArbitrary: fc.Arbitrary<Opening> = fc
  .record({
    // Klarna and Billie are the only products with update authorization: give them more runs.
    paymentProductType: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...paymentProductTypes) },
      { weight: 1, arbitrary: fc.constantFrom<PaymentProductType>('klarna.klarna', 'klarna.billie') },
    ),
    amount: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
    ),
    pending: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .chain(({ paymentProductType, amount, pending }) =>
    itemsSummingTo(amount, capabilitiesOf(paymentProductType).itemsRequired).map((items): Opening => {
      const outcome: AuthorizationOutcome = !pending ? 'authorized' : capabilitiesOf(paymentProductType).onHold ? 'on_hold' : 'unknown';
      return { paymentProductType, amount, items, outcome };
    }),
  );

// ---------------------------------------------------------------- turning a command into a request

function pickAmount(command: Command, edge: number, beyond: number, scale: number): number {
  switch (command.amountChoice) {
    case 'edge':
      return edge;
    case 'part':
      return Math.floor((scale * command.part) / 1000);
    case 'zero':
      return 0;
    case 'beyond':
      return beyond;
    case 'huge':
      return Number.MAX_SAFE_INTEGER;
    case 'random':
      return command.random;
  }
}

const selected = (lines: readonly TransactionItem[], mask: number) => lines.filter((_, index) => (mask & (1 << index)) !== 0);
const total = (items: readonly OrderItem[]) => items.reduce((sum, item) => sum + item.amount, 0);

/** Items and amount for a capture or refund, `available` being what a line has left for it. */
function captureOrRefundItems(
  state: TransactionState,
  command: Command,
  amount: number,
  available: (line: TransactionItem) => number,
): { amount: number; items?: OrderItem[] } {
  const lines = state.items;
  const whole = (line: TransactionItem): OrderItem => ({ line_id: line.line_id, amount: available(line) });
  switch (command.itemsChoice) {
    case 'none':
      return { amount };
    case 'all': {
      const items = lines.filter((line) => available(line) > 0).map(whole);
      return { amount: total(items), items };
    }
    case 'subset': {
      const items = selected(lines, command.mask).map(whole);
      return { amount: total(items), items };
    }
    case 'subsetPart': {
      const items = selected(lines, command.mask).map((line) => ({ line_id: line.line_id, amount: Math.floor((available(line) * command.part) / 1000) }));
      return { amount: total(items), items };
    }
    case 'unknown':
      return { amount, items: [{ line_id: 'no-such-line', amount }] };
    case 'duplicate': {
      const line = lines[command.mask % Math.max(lines.length, 1)];
      if (line === undefined) return { amount, items: [{ line_id: 'x', amount }, { line_id: 'x', amount: 0 }] };
      const half = Math.floor(available(line) / 2);
      return { amount: half * 2, items: [{ line_id: line.line_id, amount: half }, { line_id: line.line_id, amount: half }] };
    }
    case 'overLine': {
      const line = lines[command.mask % Math.max(lines.length, 1)];
      if (line === undefined) return { amount, items: [] };
      return { amount: available(line) + 1, items: [{ line_id: line.line_id, amount: available(line) + 1 }] };
    }
    case 'mismatch': {
      const items = selected(lines, command.mask).map(whole);
      return { amount: total(items) + 1 + (command.part % 3), items };
    }
    case 'badLineAmount':
      return { amount, items: badLineAmounts(lines, amount, command) };
  }
}

/** Items that add up to `amount` but with a negative or fractional line (what the HTTP schema refuses). */
function badLineAmounts(lines: readonly TransactionItem[], amount: number, command: Command): OrderItem[] {
  const [first, second] = [lines[0]?.line_id ?? 'x', lines[1]?.line_id ?? 'y'];
  const offset = command.part % 2 === 0 ? 1 + (command.random % 100) : 0.5;
  return [
    { line_id: first, amount: amount + offset },
    { line_id: second, amount: -offset },
  ];
}

/** The complete new item list for an update of the authorization to `amount`. */
function updateItems(state: TransactionState, command: Command, amount: number, index: number): OrderItem[] | undefined {
  const lines = state.items;
  const keep = (chosen: readonly TransactionItem[], extra: (line: TransactionItem) => number) =>
    chosen.map((line): OrderItem => ({ line_id: line.line_id, amount: line.captured_amount + extra(line), description: line.description }));
  const topUp = (items: OrderItem[], offset = 0): OrderItem[] => [
    ...items,
    { line_id: `N${index}`, amount: Math.max(0, amount - total(items)) + offset, description: `added at step ${index}` },
  ];
  switch (command.itemsChoice) {
    case 'none':
      return undefined;
    case 'all':
      return topUp(keep(lines, () => 0));
    case 'subset':
      return topUp(keep(selected(lines, command.mask), () => 0));
    case 'subsetPart':
      return topUp(keep(selected(lines, command.mask), (line) => Math.floor(((line.amount - line.captured_amount) * command.part) / 1000)));
    case 'unknown':
      return [{ line_id: `N${index}`, amount }];
    case 'duplicate': {
      const items = topUp(keep(lines, () => 0));
      const first = items[0];
      return first === undefined ? items : [...items, { ...first, amount: 0 }];
    }
    case 'overLine':
      return topUp(keep(lines, (line) => (line.captured_amount > 0 ? -1 : 0)));
    case 'mismatch':
      return topUp(keep(lines, () => 0), 1);
    case 'badLineAmount':
      return badLineAmounts(lines, amount, command);
  }
}

type Applied =
  | { readonly kind: 'capture' | 'refund'; readonly answer: ProviderAnswer; readonly amount: number; readonly items: readonly OrderItem[] | undefined; readonly mustSucceed: boolean; readonly run: () => Decision }
  | { readonly kind: 'void'; readonly answer: ProviderAnswer; readonly mustSucceed: boolean; readonly run: () => Decision }
  | { readonly kind: 'complete'; readonly mustSucceed: boolean; readonly run: () => Decision }
  | { readonly kind: 'update'; readonly amount: number | undefined; readonly items: readonly OrderItem[] | undefined; readonly mustSucceed: boolean; readonly run: () => Decision }
  | { readonly kind: 'resolve'; readonly mustSucceed: boolean; readonly run: () => Decision };

/** Runs a planned capture, refund or void through the provider's answer. */
function answered(state: TransactionState, command: Command, now: string, index: number, effect: () => ReturnType<typeof planVoid>): Decision {
  const inFlight = { requestId: `op-${index}`, dueAt: now };
  return settle(state, effect(), command.answer, now, command.answer === 'async' ? inFlight : undefined);
}

function plan(state: TransactionState, command: Command, now: string, index: number): Applied {
  const status = statusOf(state);
  const capabilities = capabilitiesOf(state.paymentProductType);
  const expired = (() => {
    const expiry = authorizationExpiresAt(state, now);
    return expiry !== null && Date.parse(now) >= Date.parse(expiry);
  })();
  switch (command.kind) {
    case 'capture': {
      const remaining = remainingCaptureAmount(state);
      const amount = pickAmount(command, remaining, remaining + 1, remaining);
      const request = deepFreeze(
        captureOrRefundItems(state, command, amount, (line) => line.amount - line.captured_amount - pendingAmount(state, 'CAPTURE', line.line_id)),
      );
      // The whole remainder, without items, before expiry, is always capturable (instabank excepted: it needs items).
      const mustSucceed =
        isCapturableStatus(status) && !expired && command.itemsChoice === 'none' && command.amountChoice === 'edge' && remaining > 0 && !capabilities.itemsRequired;
      return {
        kind: 'capture',
        answer: command.answer,
        amount: request.amount,
        items: request.items,
        mustSucceed,
        run: () => answered(state, command, now, index, () => planCapture(state, request, now)),
      };
    }
    case 'refund': {
      const remaining = remainingRefundAmount(state);
      const amount = pickAmount(command, remaining, remaining + 1, state.capturedAmount);
      const request = deepFreeze({
        ...captureOrRefundItems(state, command, amount, (line) => line.captured_amount - line.refunded_amount - pendingAmount(state, 'REFUND', line.line_id)),
        ...(command.part % 2 === 0 ? { reason: 'changed mind' } : {}),
      });
      const mustSucceed = command.itemsChoice === 'none' && command.amountChoice === 'edge' && remaining > 0 && !capabilities.itemsRequired;
      return {
        kind: 'refund',
        answer: command.answer,
        amount: request.amount,
        items: request.items,
        mustSucceed,
        run: () => answered(state, command, now, index, () => planRefund(state, request)),
      };
    }
    case 'void':
      return {
        kind: 'void',
        answer: command.answer,
        mustSucceed: status === 'AUTHORIZED' && (state.pending ?? []).length === 0,
        run: () => answered(state, command, now, index, () => planVoid(state)),
      };
    case 'complete': {
      const oldest = (state.pending ?? [])[0];
      return {
        kind: 'complete',
        mustSucceed: false,
        run: () => {
          if (oldest === undefined) throw new KasseError('INVALID_REQUEST', 'nothing in flight');
          return completePending(state, oldest.requestId, now);
        },
      };
    }
    case 'update': {
      const amount = pickAmount(command, state.capturedAmount, state.capturedAmount - 1, state.amount + state.capturedAmount);
      const items = updateItems(state, command, amount, index);
      const request = deepFreeze(items === undefined ? { amount } : { amount, items });
      return { kind: 'update', amount, items, mustSucceed: false, run: () => updateAuthorization(state, request, now) };
    }
    case 'extend': {
      const request = deepFreeze({
        ...(command.part % 2 === 0 ? { reason: 'delivery delayed' } : {}),
        ...(command.itemsChoice === 'unknown' ? { items: state.items.map(({ line_id, amount }) => ({ line_id, amount })) } : {}),
      });
      const mustSucceed =
        state.paymentProductType === 'klarna.klarna' && isCapturableStatus(status) && !expired && command.itemsChoice !== 'unknown' && (state.pending ?? []).length === 0;
      return { kind: 'update', amount: undefined, items: undefined, mustSucceed, run: () => updateAuthorization(state, request, now) };
    }
    case 'resolve': {
      const pending = state.authorization === 'ON_HOLD' || state.authorization === 'UNKNOWN';
      return { kind: 'resolve', mustSucceed: pending, run: () => resolveAuthorization(state, command.part % 3 === 0 ? 'failed' : 'authorized', now) };
    }
  }
}

// ---------------------------------------------------------------- invariants

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function checkInvariants(state: TransactionState, now: string): void {
  const { amount: A, capturedAmount: C, refundedAmount: R, voidedAmount: V } = state;
  for (const [name, value] of Object.entries({ A, C, R, V })) assert.ok(isCount(value), `${name} = ${value} is not a non-negative safe integer`);
  assert.ok(A > 0, `A = ${A}`);
  const [PC, PR, PV] = [pendingAmount(state, 'CAPTURE'), pendingAmount(state, 'REFUND'), pendingAmount(state, 'VOID')];
  assert.ok(C + V + PC + PV <= A, `C + V + in flight = ${C} + ${V} + ${PC} + ${PV} > A = ${A}`);
  assert.ok(R + PR <= C, `R + in flight = ${R} + ${PR} > C = ${C}`);
  if (state.authorization !== 'AUTHORIZED') assert.deepEqual({ C, R, V }, { C: 0, R: 0, V: 0 });

  const lineIds = new Set(state.items.map((line) => line.line_id));
  assert.equal(lineIds.size, state.items.length, 'line ids are unique');
  let linesCaptured = 0;
  let linesRefunded = 0;
  for (const line of state.items) {
    assert.ok(isCount(line.amount), `line ${line.line_id} amount ${line.amount}`);
    assert.ok(isCount(line.captured_amount), `line ${line.line_id} captured ${line.captured_amount}`);
    assert.ok(isCount(line.refunded_amount), `line ${line.line_id} refunded ${line.refunded_amount}`);
    const lineCaptureInFlight = pendingAmount(state, 'CAPTURE', line.line_id);
    const lineRefundInFlight = pendingAmount(state, 'REFUND', line.line_id);
    assert.ok(line.captured_amount + lineCaptureInFlight <= line.amount, `line ${line.line_id}: captured ${line.captured_amount} (+${lineCaptureInFlight}) > amount ${line.amount}`);
    assert.ok(line.refunded_amount + lineRefundInFlight <= line.captured_amount, `line ${line.line_id}: refunded ${line.refunded_amount} (+${lineRefundInFlight}) > captured ${line.captured_amount}`);
    linesCaptured += line.captured_amount;
    linesRefunded += line.refunded_amount;
  }
  assert.ok(linesCaptured <= C, `lines captured ${linesCaptured} > C = ${C}`);
  assert.ok(linesRefunded <= R, `lines refunded ${linesRefunded} > R = ${R}`);

  const status = statusOf(state);
  assert.equal(status, deriveStatus(state.authorization, { amount: A, capturedAmount: C, refundedAmount: R, voidedAmount: V }));
  assert.ok(isTransactionStatus(status));
  assert.equal(remainingCaptureAmount(state), state.authorization === 'AUTHORIZED' ? A - C - V - PC - PV : 0);
  assert.equal(remainingRefundAmount(state), C - R - PR);

  if (state.authorizedAt !== null) {
    const expiry = authorizationExpiresAt(state, now);
    const max = capabilitiesOf(state.paymentProductType).maxAuthorizationDays;
    if (expiry !== null && max !== null) {
      assert.ok(Date.parse(expiry) <= Date.parse(state.authorizedAt) + max * DAY_MS, `expiry ${expiry} beyond the ${max}-day ceiling`);
    }
  }
}

function checkStep(before: TransactionState, applied: Applied, decision: Decision, now: string): void {
  const after = decision.state;
  const statusBefore = statusOf(before);
  const capabilities = capabilitiesOf(before.paymentProductType);
  const expiry = authorizationExpiresAt(before, now);
  const expired = expiry !== null && Date.parse(now) >= Date.parse(expiry);
  assert.ok(decision.events.length >= 1, 'a successful command records an event');
  const refusedByProvider = 'answer' in applied && applied.answer === 'fail';
  for (const event of decision.events) {
    const failed = event.transaction_status === 'DECLINED' || event.transaction_status === 'FAILED' || refusedByProvider;
    assert.equal(event.success, !failed, `${event.event} → ${event.transaction_status} with success ${event.success}`);
    assert.equal(event.error !== undefined, failed);
    assert.ok(isTransactionStatus(event.transaction_status));
  }
  const last = decision.events[decision.events.length - 1];
  assert.equal(last?.transaction_status, statusOf(after), 'the event carries the status after it');
  if (applied.kind !== 'resolve' && expiry !== null) {
    const expiryAfter = authorizationExpiresAt(after, now);
    assert.ok(expiryAfter !== null && Date.parse(expiryAfter) >= Date.parse(expiry), `${applied.kind} shortened the authorization from ${expiry} to ${expiryAfter}`);
  }
  const delta = {
    A: after.amount - before.amount,
    C: after.capturedAmount - before.capturedAmount,
    R: after.refundedAmount - before.refundedAmount,
    V: after.voidedAmount - before.voidedAmount,
  };
  if ('answer' in applied && applied.answer !== 'succeed') {
    // A refusal moves nothing; an operation in flight reserves its money and moves nothing yet.
    assert.equal(decision.events.length, 1);
    assert.deepEqual(delta, { A: 0, C: 0, R: 0, V: 0 });
    assert.deepEqual(after.items, before.items);
    const inFlightBefore = (before.pending ?? []).length;
    if (applied.answer === 'fail') {
      assert.equal(last?.event, applied.kind.toUpperCase());
      assert.deepEqual(after, before);
    } else {
      assert.equal(last?.event, `INITIATE_${applied.kind.toUpperCase()}`);
      assert.equal((after.pending ?? []).length, inFlightBefore + 1);
    }
    return;
  }
  switch (applied.kind) {
    case 'complete': {
      const operation = (before.pending ?? [])[0];
      assert.ok(operation !== undefined);
      assert.equal(decision.events.length, 1);
      assert.equal(last?.event, operation.kind);
      assert.equal(last?.correlation_request_id, operation.requestId);
      assert.equal((after.pending ?? []).length, (before.pending ?? []).length - 1);
      assert.deepEqual(delta, {
        A: 0,
        C: operation.kind === 'CAPTURE' ? operation.amount : 0,
        R: operation.kind === 'REFUND' ? operation.amount : 0,
        V: operation.kind === 'VOID' ? operation.amount : 0,
      });
      return;
    }
    case 'capture':
    case 'refund': {
      const isCapture = applied.kind === 'capture';
      if (isCapture) {
        assert.ok(isCapturableStatus(statusBefore) && !expired, `captured from ${statusBefore} with expiry ${expiry} at ${now}`);
        assert.ok(capabilities.partialCapture || applied.amount === before.amount, 'partial capture for a product without it');
        assert.ok(!capabilities.itemsRequired || applied.items !== undefined, 'captured without the items the product needs');
      } else {
        assert.ok(!capabilities.itemsRequired || applied.items !== undefined, 'refunded without the items the product needs');
      }
      assert.equal(decision.events.length, 1);
      assert.equal(last?.event, isCapture ? 'CAPTURE' : 'REFUND');
      assert.ok(applied.amount > 0);
      assert.equal(last?.amount, applied.amount);
      assert.deepEqual(delta, { A: 0, C: isCapture ? applied.amount : 0, R: isCapture ? 0 : applied.amount, V: 0 });
      // Per line: only the counter of this operation moves, by what the items asked for, or
      // (without items) either on no line or by exactly the whole amount.
      assert.deepEqual(
        after.items.map((line) => line.line_id),
        before.items.map((line) => line.line_id),
      );
      const lineDeltas = new Map<string, number>();
      after.items.forEach((line, index) => {
        const old = before.items[index];
        assert.ok(old !== undefined);
        assert.equal(line.amount, old.amount);
        const moved = isCapture ? line.captured_amount - old.captured_amount : line.refunded_amount - old.refunded_amount;
        const unmoved = isCapture ? line.refunded_amount - old.refunded_amount : line.captured_amount - old.captured_amount;
        assert.equal(unmoved, 0);
        assert.ok(moved >= 0, `line ${line.line_id} moved by ${moved}`);
        if (moved > 0) lineDeltas.set(line.line_id, moved);
      });
      const attributed = [...lineDeltas.values()].reduce((sum, amount) => sum + amount, 0);
      if (applied.items !== undefined) {
        assert.deepEqual(lineDeltas, new Map(applied.items.filter((item) => item.amount > 0).map((item) => [item.line_id, item.amount])));
      } else {
        assert.ok(attributed === 0 || attributed === applied.amount, `attributed ${attributed} of ${applied.amount}`);
      }
      return;
    }
    case 'void':
      assert.equal(decision.events.length, 1);
      assert.equal(last?.event, 'VOID');
      assert.ok(statusBefore === 'AUTHORIZED' || capabilities.voidRemainder, `${before.paymentProductType} voided its remainder`);
      assert.ok((last?.amount ?? 0) > 0);
      assert.deepEqual(delta, { A: 0, C: 0, R: 0, V: last?.amount });
      assert.equal(remainingCaptureAmount(after), 0, 'a void leaves nothing to capture');
      assert.deepEqual(after.items, before.items);
      return;
    case 'update': {
      assert.equal(decision.events.length, 1);
      assert.equal(last?.event, 'AUTHORIZE');
      assert.equal(last?.amount, after.amount);
      assert.ok(capabilities.updateAuthorization && isCapturableStatus(statusBefore) && !expired, `authorization updated from ${statusBefore}`);
      assert.ok(applied.amount !== undefined || capabilities.extendAuthorization, 'extended without the capability');
      assert.deepEqual(delta, { A: applied.amount === undefined ? 0 : applied.amount - before.amount, C: 0, R: 0, V: 0 });
      if (applied.items === undefined) {
        assert.deepEqual(after.items, before.items);
        return;
      }
      assert.equal(total(after.items), after.amount, 'the new item list adds up to the new total');
      assert.deepEqual(
        after.items.map((line) => [line.line_id, line.amount]),
        applied.items.map((item) => [item.line_id, item.amount]),
      );
      // Lines that stay keep their counters; new lines start at zero; only uncaptured lines may go.
      const previous = new Map(before.items.map((line) => [line.line_id, line]));
      for (const line of after.items) {
        const old = previous.get(line.line_id);
        assert.equal(line.captured_amount, old?.captured_amount ?? 0);
        assert.equal(line.refunded_amount, old?.refunded_amount ?? 0);
        previous.delete(line.line_id);
      }
      for (const dropped of previous.values()) assert.equal(dropped.captured_amount, 0, `captured line ${dropped.line_id} was dropped`);
      return;
    }
    case 'resolve':
      assert.equal(decision.events[0]?.event, 'AUTHORIZE');
      assert.equal(after.amount, before.amount);
      return;
  }
}

// ---------------------------------------------------------------- the property

it('random operation sequences keep every money invariant', () => {
  const successes = { capture: 0, refund: 0, void: 0, update: 0, extend: 0, resolve: 0, complete: 0 };
  const rejections = new Map<string, number>();

  fc.assert(
    fc.property(openingArbitrary, fc.array(commandArbitrary, { maxLength: 30, size: 'max' }), (opening, commands) => {
      let now = T0;
      let state = deepFreeze(openTransaction(deepFreeze({ ...opening, now: new Date(now).toISOString() }))).state;
      checkInvariants(state, new Date(now).toISOString());

      commands.forEach((command, index) => {
        now += command.advanceMs;
        const nowIso = new Date(now).toISOString();
        const snapshot = structuredClone(state);
        const applied = plan(state, command, nowIso, index);
        let decision: Decision;
        try {
          decision = applied.run();
        } catch (error) {
          if (!(error instanceof KasseError)) throw error;
          assert.ok(!applied.mustSucceed, `${command.kind} was refused with ${error.code} (${error.message}) from ${statusOf(state)}`);
          assert.deepEqual(state, snapshot, 'a refused command leaves the state as it was');
          rejections.set(`${command.kind}:${error.code}`, (rejections.get(`${command.kind}:${error.code}`) ?? 0) + 1);
          return;
        }
        assert.deepEqual(state, snapshot, 'the input state is never mutated');
        deepFreeze(decision);
        checkInvariants(decision.state, nowIso);
        checkStep(state, applied, decision, nowIso);
        successes[command.kind] += 1;
        state = decision.state;
      });
    }),
    { numRuns: 1000 },
  );

  // The property is only worth something if the sequences actually move money.
  assert.ok(successes.capture >= 300, `only ${successes.capture} captures succeeded`);
  assert.ok(successes.refund >= 150, `only ${successes.refund} refunds succeeded`);
  assert.ok(successes.void >= 100, `only ${successes.void} voids succeeded`);
  assert.ok(successes.update >= 50, `only ${successes.update} authorization updates succeeded`);
  assert.ok(successes.extend >= 20, `only ${successes.extend} extensions succeeded`);
  assert.ok(successes.complete >= 50, `only ${successes.complete} in-flight operations completed`);
  const refusedWith = new Set([...rejections.keys()].map((key) => key.slice(key.indexOf(':') + 1)));
  for (const code of [
    'AMOUNT_EXCEEDS_CAPTURABLE',
    'AMOUNT_EXCEEDS_REFUNDABLE',
    'AMOUNT_BELOW_CAPTURED',
    'LINE_AMOUNT_EXCEEDED',
    'UNKNOWN_LINE_ID',
    'DUPLICATE_LINE_ID',
    'ITEMS_AMOUNT_MISMATCH',
    'ITEMS_REQUIRED',
    'WHOLE_LINES_REQUIRED',
    'AUTHORIZATION_EXPIRED',
    'INVALID_AMOUNT',
  ]) {
    assert.ok(refusedWith.has(code), `no command was refused with ${code}; the generators no longer reach that rule`);
  }
});
