/**
 * Which operations a transaction allows right now, and the requests that express the
 * common choices (capture everything, capture chosen lines, refund chosen lines). The
 * backoffice asks this module what to offer. Each choice is offered exactly when the pure
 * command in transaction.ts accepts a request of that kind at `now` (a dry run: nothing is
 * stored), so this module holds no second copy of the money rules; the command still
 * decides again when the action is confirmed, on the state of that moment.
 *
 * Invariants: every request built here asks for no more than what remains, in total and per
 * line (money reserved by in-flight provider operations excluded), and sends items
 * whenever the product needs them.
 */
import { KasseError } from './errors.js';
import { type Amount, sumAmounts } from './money.js';
import { capabilitiesOf } from './products.js';
import {
  type CaptureRequest,
  type OrderItem,
  type RefundRequest,
  type TransactionItem,
  type TransactionState,
  capture,
  pendingAmount,
  refund,
  remainingCaptureAmount,
  remainingRefundAmount,
  updateAuthorization,
  voidTransaction,
} from './transaction.js';

/** How an amount may be chosen for a capture or a refund. */
export interface AmountChoices {
  /** Everything that remains, in one operation. */
  readonly full: boolean;
  /** Any amount up to what remains. */
  readonly byAmount: boolean;
  /** Lines that may be chosen; each is taken with all that remains on it. */
  readonly lines: readonly string[];
  /** What remains (to capture, or to refund). */
  readonly remaining: Amount;
}

export interface AllowedActions {
  readonly capture: AmountChoices | null;
  readonly refund: AmountChoices | null;
  /** Void: the amount it would void (the whole authorization, or the remainder). */
  readonly void: { readonly amount: Amount } | null;
  /** Update authorization with a new line added (Klarna, Billie; transactions with items). */
  readonly addItem: boolean;
}

function leftToCapture(state: TransactionState, line: TransactionItem): Amount {
  return line.amount - line.captured_amount - pendingAmount(state, 'CAPTURE', line.line_id);
}

function leftToRefund(state: TransactionState, line: TransactionItem): Amount {
  return line.captured_amount - line.refunded_amount - pendingAmount(state, 'REFUND', line.line_id);
}

/** Whether the command accepts the request: a dry run of pure code. */
function accepts(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    if (error instanceof KasseError) return false;
    throw error;
  }
}

export function allowedActions(state: TransactionState, now: string): AllowedActions {
  return {
    capture: captureChoices(state, now),
    refund: refundChoices(state),
    void: accepts(() => voidTransaction(state)) ? { amount: remainingCaptureAmount(state) } : null,
    addItem: state.items.length > 0 && accepts(() => updateAuthorization(state, probeItemRequest(state), now)),
  };
}

function captureChoices(state: TransactionState, now: string): AmountChoices | null {
  const remaining = remainingCaptureAmount(state);
  if (remaining <= 0) return null;
  const full = fullCaptureRequest(state);
  const choices: AmountChoices = {
    full: full !== null && accepts(() => capture(state, full, now)),
    byAmount: accepts(() => capture(state, { amount: 1 }, now)),
    lines: state.items
      .filter((line) => leftToCapture(state, line) > 0 && accepts(() => capture(state, linesCaptureRequest(state, [line.line_id]), now)))
      .map((line) => line.line_id),
    remaining,
  };
  return choices.full || choices.byAmount || choices.lines.length > 0 ? choices : null;
}

function refundChoices(state: TransactionState): AmountChoices | null {
  const remaining = remainingRefundAmount(state);
  if (remaining <= 0) return null;
  const full = fullRefundRequest(state);
  const choices: AmountChoices = {
    full: full !== null && accepts(() => refund(state, full)),
    byAmount: accepts(() => refund(state, { amount: 1 })),
    lines: state.items
      .filter((line) => leftToRefund(state, line) > 0 && accepts(() => refund(state, linesRefundRequest(state, [line.line_id]))))
      .map((line) => line.line_id),
    remaining,
  };
  return choices.full || choices.byAmount || choices.lines.length > 0 ? choices : null;
}

/** The smallest item update: the current lines plus one of 1 minor unit. */
function probeItemRequest(state: TransactionState) {
  const items: OrderItem[] = state.items.map(({ captured_amount: _c, refunded_amount: _r, ...item }) => item);
  const taken = new Set(items.map((item) => item.line_id));
  let lineId = items.length + 1;
  while (taken.has(String(lineId))) lineId += 1;
  items.push({ line_id: String(lineId), amount: 1, quantity: 1 });
  return { amount: state.amount + 1, items };
}

/** A transaction line as a request item for `amount` of it (quantity and VAT amount only when the whole line is meant). */
function requestItem(line: TransactionItem, amount: Amount): OrderItem {
  const { captured_amount: _captured, refunded_amount: _refunded, quantity, vat_amount, ...rest } = line;
  const whole = amount === line.amount;
  return {
    ...rest,
    amount,
    ...(whole && quantity !== undefined ? { quantity } : {}),
    ...(whole && vat_amount !== undefined ? { vat_amount } : {}),
  };
}

/** Items for every line with something left, when together they cover exactly `remaining`. */
function allLines(state: TransactionState, left: (state: TransactionState, line: TransactionItem) => Amount, remaining: Amount): OrderItem[] | null {
  const leftOn = (line: TransactionItem) => left(state, line);
  if (state.items.length === 0 || sumAmounts(state.items, leftOn) !== remaining) return null;
  return state.items.filter((line) => leftOn(line) > 0).map((line) => requestItem(line, leftOn(line)));
}

/**
 * Capture of everything that remains, or null when the product cannot express it (for
 * example instalment lines already partly captured). Items are sent when the product
 * needs them (Instabank, or Walley's whole lines).
 */
export function fullCaptureRequest(state: TransactionState): CaptureRequest | null {
  const remaining = remainingCaptureAmount(state);
  if (remaining <= 0) return null;
  const capabilities = capabilitiesOf(state.paymentProductType);
  if (!capabilities.partialCapture && remaining !== state.amount) return null;
  const needsItems = capabilities.itemsRequired || (capabilities.wholeLineCaptureOnly && state.items.length > 0);
  if (!needsItems) return { amount: remaining };
  const items = allLines(state, leftToCapture, remaining);
  if (items === null) return null;
  return { amount: remaining, items };
}

/** Refund of everything captured and not yet refunded; items when the product needs them. */
export function fullRefundRequest(state: TransactionState): RefundRequest | null {
  const remaining = remainingRefundAmount(state);
  if (remaining <= 0) return null;
  if (!capabilitiesOf(state.paymentProductType).itemsRequired) return { amount: remaining };
  const items = allLines(state, leftToRefund, remaining);
  return items === null ? null : { amount: remaining, items };
}

function chosenLines(
  state: TransactionState,
  lineIds: readonly string[],
  left: (state: TransactionState, line: TransactionItem) => Amount,
  verb: string,
): OrderItem[] {
  const unique = [...new Set(lineIds)];
  if (unique.length === 0) throw new KasseError('INVALID_REQUEST', `Choose at least one line to ${verb}.`);
  return unique.map((lineId) => {
    const line = state.items.find((candidate) => candidate.line_id === lineId);
    if (line === undefined) throw new KasseError('UNKNOWN_LINE_ID', `The transaction has no line ${lineId}.`);
    const amount = left(state, line);
    if (amount <= 0) throw new KasseError('LINE_AMOUNT_EXCEEDED', `Line ${lineId} has nothing left to ${verb}.`);
    return requestItem(line, amount);
  });
}

/** Capture of the chosen lines, each with all that remains on it. */
export function linesCaptureRequest(state: TransactionState, lineIds: readonly string[]): CaptureRequest {
  const items = chosenLines(state, lineIds, leftToCapture, 'capture');
  return { amount: sumAmounts(items, (item) => item.amount), items };
}

/** Refund of the chosen lines, each with all that is captured and not yet refunded on it. */
export function linesRefundRequest(state: TransactionState, lineIds: readonly string[]): RefundRequest {
  const items = chosenLines(state, lineIds, leftToRefund, 'refund');
  return { amount: sumAmounts(items, (item) => item.amount), items };
}
