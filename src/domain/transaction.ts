/**
 * The transaction state machine. Every command is a pure function of
 * (current state, request, now) that returns the new state and the event to append,
 * or throws a catalogued KasseError and changes nothing.
 *
 * Invariants (A authorized, C captured, R refunded, V voided):
 *   0 ≤ C + V ≤ A;  0 ≤ R ≤ C;
 *   for every line: 0 ≤ captured ≤ line amount and 0 ≤ refunded ≤ captured;
 *   the status is always deriveStatus(authorization, counters).
 */
import { KasseError } from './errors.js';
import { type Amount, addAmounts, isAmount, sumAmounts } from './money.js';
import { capabilitiesOf, type PaymentProductType } from './products.js';
import { type AuthorizationStatus, type TransactionStatus, deriveStatus, isCapturableStatus } from './status.js';
import { effectiveExpiry, extendedExpiry, freshExpiry, isExpired, renewedExpiry } from './expiry.js';

/** An order line as Dintero sends it; fields the domain does not use are kept as given. */
export interface OrderItem {
  readonly line_id: string;
  readonly amount: Amount;
  readonly quantity?: number;
  readonly description?: string;
  readonly id?: string;
  readonly vat?: number;
  readonly vat_amount?: Amount;
  readonly type?: string;
  readonly [field: string]: unknown;
}

/** A line on a transaction, with what has been captured and refunded on it. */
export interface TransactionItem extends OrderItem {
  readonly captured_amount: Amount;
  readonly refunded_amount: Amount;
}

export interface TransactionState {
  readonly paymentProductType: PaymentProductType;
  readonly authorization: AuthorizationStatus;
  /** The authorized total (A). Capture never changes it; update authorization does. */
  readonly amount: Amount;
  readonly capturedAmount: Amount;
  readonly refundedAmount: Amount;
  readonly voidedAmount: Amount;
  readonly items: readonly TransactionItem[];
  readonly authorizedAt: string | null;
  /** Nominal expiry of the current authorization window (see expiry.ts for the effective one). */
  readonly authorizationExpiresAt: string | null;
}

export const eventKinds = [
  'INITIALIZE',
  'AUTHORIZE',
  'CAPTURE',
  'REFUND',
  'VOID',
  'INITIATE_CAPTURE',
  'INITIATE_REFUND',
  'INITIATE_VOID',
] as const;
export type EventKind = (typeof eventKinds)[number];

/** An event as the domain decides it; the service adds id, request id, author and time. */
export interface EventDraft {
  readonly event: EventKind;
  readonly success: boolean;
  readonly amount?: Amount;
  readonly items?: readonly OrderItem[];
  readonly transaction_status: TransactionStatus;
  readonly event_reference?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface Decision {
  readonly state: TransactionState;
  readonly events: readonly EventDraft[];
}

export type AuthorizationOutcome = 'authorized' | 'declined' | 'failed' | 'on_hold' | 'unknown';

export function statusOf(state: TransactionState): TransactionStatus {
  return deriveStatus(state.authorization, state);
}

export function remainingCaptureAmount(state: TransactionState): Amount {
  if (state.authorization !== 'AUTHORIZED') return 0;
  return state.amount - state.capturedAmount - state.voidedAmount;
}

export function remainingRefundAmount(state: TransactionState): Amount {
  return state.capturedAmount - state.refundedAmount;
}

export function authorizationExpiresAt(state: TransactionState, now: string): string | null {
  return effectiveExpiry(state.paymentProductType, state.authorizedAt, state.authorizationExpiresAt, now);
}

function withStatusEvent(state: TransactionState, draft: Omit<EventDraft, 'transaction_status'>): EventDraft {
  return { ...draft, transaction_status: statusOf(state) };
}

// ---------------------------------------------------------------- opening

export interface OpenTransactionInput {
  readonly paymentProductType: PaymentProductType;
  readonly amount: Amount;
  readonly items: readonly OrderItem[];
  readonly outcome: AuthorizationOutcome;
  readonly now: string;
}

const outcomeStatus: Record<AuthorizationOutcome, AuthorizationStatus> = {
  authorized: 'AUTHORIZED',
  declined: 'DECLINED',
  failed: 'FAILED',
  on_hold: 'ON_HOLD',
  unknown: 'UNKNOWN',
};

/** A paid session becomes a transaction: INITIALIZE, then AUTHORIZE (and CAPTURE for products captured at payment). */
export function openTransaction(input: OpenTransactionInput): Decision {
  const capabilities = capabilitiesOf(input.paymentProductType);
  if (input.outcome === 'on_hold' && !capabilities.onHold) {
    throw new KasseError('INVALID_REQUEST', `Outcome on_hold is not possible for ${input.paymentProductType}.`);
  }
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0) throw new KasseError('INVALID_AMOUNT');
  checkItemAmounts(input.items);
  checkUniqueLines(input.items);
  const initiated: TransactionState = {
    paymentProductType: input.paymentProductType,
    authorization: 'INITIATED',
    amount: input.amount,
    capturedAmount: 0,
    refundedAmount: 0,
    voidedAmount: 0,
    items: input.items.map((item) => ({ ...item, captured_amount: 0, refunded_amount: 0 })),
    authorizedAt: null,
    authorizationExpiresAt: null,
  };
  const events: EventDraft[] = [withStatusEvent(initiated, { event: 'INITIALIZE', success: true, amount: input.amount })];
  const state = settleAuthorization(initiated, input.outcome, input.now, events);
  return { state, events };
}

/** Settles a pending (ON_HOLD / UNKNOWN) authorization, as the sandbox resolve endpoint does. */
export function resolveAuthorization(state: TransactionState, outcome: 'authorized' | 'failed', now: string): Decision {
  if (state.authorization !== 'ON_HOLD' && state.authorization !== 'UNKNOWN') {
    throw new KasseError('TRANSACTION_NOT_CAPTURABLE', `Only ON_HOLD or UNKNOWN transactions can be resolved; this one is ${statusOf(state)}.`);
  }
  const events: EventDraft[] = [];
  const next = settleAuthorization(state, outcome, now, events);
  return { state: next, events };
}

function settleAuthorization(
  state: TransactionState,
  outcome: AuthorizationOutcome,
  now: string,
  events: EventDraft[],
): TransactionState {
  const authorization = outcomeStatus[outcome];
  if (authorization !== 'AUTHORIZED') {
    const pending: TransactionState = { ...state, authorization };
    const failed = authorization === 'DECLINED' || authorization === 'FAILED';
    events.push(
      withStatusEvent(pending, {
        event: 'AUTHORIZE',
        success: !failed,
        amount: state.amount,
        ...(failed ? { error: { code: authorization, message: failureMessage(authorization) } } : {}),
      }),
    );
    return pending;
  }
  const capabilities = capabilitiesOf(state.paymentProductType);
  const authorized: TransactionState = {
    ...state,
    authorization,
    authorizedAt: now,
    authorizationExpiresAt: freshExpiry(state.paymentProductType, now, now),
  };
  events.push(withStatusEvent(authorized, { event: 'AUTHORIZE', success: true, amount: state.amount }));
  if (!capabilities.capturedAtPayment) return authorized;
  const captured: TransactionState = {
    ...authorized,
    capturedAmount: authorized.amount,
    items: authorized.items.map((line) => ({ ...line, captured_amount: line.amount })),
  };
  events.push(withStatusEvent(captured, { event: 'CAPTURE', success: true, amount: captured.amount }));
  return captured;
}

function failureMessage(status: AuthorizationStatus): string {
  return status === 'DECLINED' ? 'The payment was declined.' : 'The payment failed.';
}

// ---------------------------------------------------------------- capture

export interface CaptureRequest {
  readonly amount: Amount;
  readonly items?: readonly OrderItem[];
  readonly capture_reference?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export function capture(state: TransactionState, request: CaptureRequest, now: string): Decision {
  const status = statusOf(state);
  const capabilities = capabilitiesOf(state.paymentProductType);
  if (!isCapturableStatus(status)) {
    throw new KasseError('TRANSACTION_NOT_CAPTURABLE', `A ${status} transaction cannot be captured.`);
  }
  if (isExpired(authorizationExpiresAt(state, now), now)) throw new KasseError('AUTHORIZATION_EXPIRED');
  checkPositive(request.amount);
  const remaining = remainingCaptureAmount(state);
  if (request.amount > remaining) {
    throw new KasseError('AMOUNT_EXCEEDS_CAPTURABLE', `Amount ${request.amount} is above the ${remaining} that remains to capture.`);
  }
  if (!capabilities.partialCapture && request.amount !== state.amount) {
    throw new KasseError('OPERATION_NOT_SUPPORTED', `${state.paymentProductType} does not support partial capture.`);
  }
  if (capabilities.itemsRequired && request.items === undefined) {
    throw new KasseError('ITEMS_REQUIRED', `${state.paymentProductType} needs the captured items.`);
  }
  const lineAmounts = request.items
    ? checkedLineAmounts(state, request.items, request.amount, (line) => line.amount - line.captured_amount)
    : attributeToLines(state, request.amount, (line) => line.amount - line.captured_amount);
  if (capabilities.wholeLineCaptureOnly) checkWholeLines(state, request, lineAmounts);

  const capturedAmount = addAmounts(state.capturedAmount, request.amount);
  const leftToCapture = capturedAmount + state.voidedAmount < state.amount;
  const next: TransactionState = {
    ...state,
    capturedAmount,
    items: applyToLines(state.items, lineAmounts, (line, amount) => ({ ...line, captured_amount: line.captured_amount + amount })),
    authorizationExpiresAt:
      leftToCapture && state.paymentProductType === 'klarna.klarna' && state.authorizedAt !== null
        ? renewedExpiry(state.paymentProductType, state.authorizedAt, state.authorizationExpiresAt, now)
        : state.authorizationExpiresAt,
  };
  return {
    state: next,
    events: [
      withStatusEvent(next, {
        event: 'CAPTURE',
        success: true,
        amount: request.amount,
        items: eventItems(state, request.items, lineAmounts),
        ...optional('event_reference', request.capture_reference),
        ...optional('metadata', request.metadata),
      }),
    ],
  };
}

function checkWholeLines(state: TransactionState, request: CaptureRequest, lineAmounts: ReadonlyMap<string, Amount>): void {
  if (state.items.length === 0) {
    if (request.amount !== remainingCaptureAmount(state)) {
      throw new KasseError('WHOLE_LINES_REQUIRED', 'Without item lines only the whole remaining amount can be captured.');
    }
    return;
  }
  if (lineAmounts.size === 0) throw new KasseError('WHOLE_LINES_REQUIRED');
  for (const [lineId, amount] of lineAmounts) {
    const line = state.items.find((item) => item.line_id === lineId);
    if (line === undefined || line.captured_amount !== 0 || amount !== line.amount) {
      throw new KasseError('WHOLE_LINES_REQUIRED', `Line ${lineId} must be captured whole (${line?.amount ?? 0}).`);
    }
  }
}

// ---------------------------------------------------------------- refund

export interface RefundRequest {
  readonly amount: Amount;
  readonly items?: readonly OrderItem[];
  readonly reason?: string;
  readonly refund_reference?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export function refund(state: TransactionState, request: RefundRequest): Decision {
  const status = statusOf(state);
  const remaining = remainingRefundAmount(state);
  if (state.authorization !== 'AUTHORIZED' || remaining === 0) {
    throw new KasseError('TRANSACTION_NOT_REFUNDABLE', `A ${status} transaction has nothing captured left to refund.`);
  }
  checkPositive(request.amount);
  if (request.amount > remaining) {
    throw new KasseError('AMOUNT_EXCEEDS_REFUNDABLE', `Amount ${request.amount} is above the ${remaining} that remains to refund.`);
  }
  if (capabilitiesOf(state.paymentProductType).itemsRequired && request.items === undefined) {
    throw new KasseError('ITEMS_REQUIRED', `${state.paymentProductType} needs the refunded items.`);
  }
  const refundable = (line: TransactionItem): Amount => line.captured_amount - line.refunded_amount;
  const lineAmounts = request.items
    ? checkedLineAmounts(state, request.items, request.amount, refundable)
    : attributeToLines(state, request.amount, refundable);
  const next: TransactionState = {
    ...state,
    refundedAmount: addAmounts(state.refundedAmount, request.amount),
    items: applyToLines(state.items, lineAmounts, (line, amount) => ({ ...line, refunded_amount: line.refunded_amount + amount })),
  };
  return {
    state: next,
    events: [
      withStatusEvent(next, {
        event: 'REFUND',
        success: true,
        amount: request.amount,
        items: eventItems(state, request.items, lineAmounts),
        ...optional('event_reference', request.refund_reference),
        ...optional('metadata', request.reason === undefined ? request.metadata : { ...request.metadata, reason: request.reason }),
      }),
    ],
  };
}

// ---------------------------------------------------------------- void

/** Voids the whole authorization before any capture, or the remainder after a partial capture. */
export function voidTransaction(state: TransactionState): Decision {
  const status = statusOf(state);
  if (status === 'AUTHORIZED') {
    const next: TransactionState = { ...state, voidedAmount: state.amount };
    return { state: next, events: [withStatusEvent(next, { event: 'VOID', success: true, amount: state.amount })] };
  }
  if (status === 'PARTIALLY_CAPTURED' || status === 'PARTIALLY_CAPTURED_REFUNDED') {
    if (!capabilitiesOf(state.paymentProductType).voidRemainder) {
      throw new KasseError('OPERATION_NOT_SUPPORTED', `${state.paymentProductType} cannot void the remainder after a partial capture.`);
    }
    const remainder = remainingCaptureAmount(state);
    const next: TransactionState = { ...state, voidedAmount: state.voidedAmount + remainder };
    return { state: next, events: [withStatusEvent(next, { event: 'VOID', success: true, amount: remainder })] };
  }
  throw new KasseError('TRANSACTION_NOT_VOIDABLE', `A ${status} transaction cannot be voided.`);
}

// ---------------------------------------------------------------- update authorization

export interface UpdateAuthorizationRequest {
  readonly amount?: Amount;
  readonly items?: readonly OrderItem[];
  readonly reason?: string;
  readonly reference?: string;
  readonly description?: string;
}

export function updateAuthorization(state: TransactionState, request: UpdateAuthorizationRequest, now: string): Decision {
  const capabilities = capabilitiesOf(state.paymentProductType);
  const status = statusOf(state);
  if (!capabilities.updateAuthorization) {
    throw new KasseError('OPERATION_NOT_SUPPORTED', `${state.paymentProductType} does not support updating the authorization.`);
  }
  if (!isCapturableStatus(status)) {
    throw new KasseError('AUTHORIZATION_NOT_UPDATABLE', `The authorization of a ${status} transaction cannot be updated.`);
  }
  const expiry = authorizationExpiresAt(state, now);
  if (isExpired(expiry, now)) throw new KasseError('AUTHORIZATION_EXPIRED');
  const metadata = pickDefined({ reason: request.reason, description: request.description });
  const reference = optional('event_reference', request.reference);

  if (request.amount === undefined) {
    if (request.items !== undefined) throw new KasseError('INVALID_REQUEST', 'items need an amount: the new authorized total.');
    if (!capabilities.extendAuthorization || expiry === null || state.authorizedAt === null) {
      throw new KasseError('INVALID_REQUEST', 'amount is required: the new authorized total.');
    }
    const next: TransactionState = { ...state, authorizationExpiresAt: extendedExpiry(state.paymentProductType, state.authorizedAt, expiry) };
    return { state: next, events: [withStatusEvent(next, { event: 'AUTHORIZE', success: true, amount: state.amount, ...reference, ...metadataField(metadata) })] };
  }

  checkPositive(request.amount);
  if (request.amount < state.capturedAmount) {
    throw new KasseError('AMOUNT_BELOW_CAPTURED', `Amount ${request.amount} is below the ${state.capturedAmount} already captured.`);
  }
  if (state.items.length > 0 && request.items === undefined) {
    throw new KasseError('ITEMS_REQUIRED', 'The transaction has items: send the complete new item list.');
  }
  const items = request.items === undefined ? state.items : replaceItems(state, request.items, request.amount);
  const next: TransactionState = { ...state, amount: request.amount, items };
  return {
    state: next,
    events: [
      withStatusEvent(next, {
        event: 'AUTHORIZE',
        success: true,
        amount: request.amount,
        ...(request.items ? { items: request.items } : {}),
        ...reference,
        ...metadataField(metadata),
      }),
    ],
  };
}

function replaceItems(state: TransactionState, items: readonly OrderItem[], amount: Amount): TransactionItem[] {
  checkItemAmounts(items);
  checkUniqueLines(items);
  if (sumAmounts(items, (item) => item.amount) !== amount) {
    throw new KasseError('ITEMS_AMOUNT_MISMATCH', `The items add up to ${sumAmounts(items, (item) => item.amount)}, not ${amount}.`);
  }
  const previous = new Map(state.items.map((line) => [line.line_id, line]));
  for (const line of state.items) {
    if (line.captured_amount === 0) continue;
    const replacement = items.find((item) => item.line_id === line.line_id);
    if (replacement === undefined || replacement.amount < line.captured_amount) {
      throw new KasseError('CAPTURED_LINE_REMOVED', `Line ${line.line_id} has ${line.captured_amount} captured and must keep at least that.`);
    }
  }
  return items.map((item) => {
    const old = previous.get(item.line_id);
    return { ...item, captured_amount: old?.captured_amount ?? 0, refunded_amount: old?.refunded_amount ?? 0 };
  });
}

// ---------------------------------------------------------------- helpers

function checkPositive(amount: Amount): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new KasseError('INVALID_AMOUNT');
}

/** Line amounts are money too: a negative or fractional one would break the per-line counters. */
function checkItemAmounts(items: readonly OrderItem[]): void {
  for (const item of items) {
    if (!isAmount(item.amount)) throw new KasseError('INVALID_AMOUNT', `Line ${item.line_id} has amount ${item.amount}: not an integer amount of minor units.`);
  }
}

function checkUniqueLines(items: readonly OrderItem[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.line_id)) throw new KasseError('DUPLICATE_LINE_ID', `line_id ${item.line_id} appears more than once.`);
    seen.add(item.line_id);
  }
}

/** Validates request items against the transaction's lines; returns the amount per line. */
function checkedLineAmounts(
  state: TransactionState,
  items: readonly OrderItem[],
  amount: Amount,
  available: (line: TransactionItem) => Amount,
): Map<string, Amount> {
  checkItemAmounts(items);
  checkUniqueLines(items);
  const total = sumAmounts(items, (item) => item.amount);
  if (total !== amount) throw new KasseError('ITEMS_AMOUNT_MISMATCH', `The items add up to ${total}, not ${amount}.`);
  const result = new Map<string, Amount>();
  for (const item of items) {
    const line = state.items.find((candidate) => candidate.line_id === item.line_id);
    if (line === undefined) throw new KasseError('UNKNOWN_LINE_ID', `The transaction has no line ${item.line_id}.`);
    if (item.amount > available(line)) {
      throw new KasseError('LINE_AMOUNT_EXCEEDED', `Line ${item.line_id} has ${available(line)} left, not ${item.amount}.`);
    }
    result.set(item.line_id, item.amount);
  }
  return result;
}

/**
 * Without items, an operation covering exactly what is left on every line is attributed
 * to those lines (so a full capture can later be refunded line by line); any other
 * amount is recorded on the transaction only.
 */
function attributeToLines(state: TransactionState, amount: Amount, available: (line: TransactionItem) => Amount): Map<string, Amount> {
  const result = new Map<string, Amount>();
  if (state.items.length === 0 || sumAmounts(state.items, available) !== amount) return result;
  for (const line of state.items) if (available(line) > 0) result.set(line.line_id, available(line));
  return result;
}

function applyToLines(
  lines: readonly TransactionItem[],
  amounts: ReadonlyMap<string, Amount>,
  apply: (line: TransactionItem, amount: Amount) => TransactionItem,
): readonly TransactionItem[] {
  if (amounts.size === 0) return lines;
  return lines.map((line) => {
    const amount = amounts.get(line.line_id);
    return amount === undefined ? line : apply(line, amount);
  });
}

function eventItems(
  state: TransactionState,
  requested: readonly OrderItem[] | undefined,
  lineAmounts: ReadonlyMap<string, Amount>,
): readonly OrderItem[] | undefined {
  if (requested !== undefined) return requested;
  if (lineAmounts.size === 0) return undefined;
  return state.items
    .filter((line) => lineAmounts.has(line.line_id))
    .map(({ captured_amount: _c, refunded_amount: _r, ...line }) => ({ ...line, amount: lineAmounts.get(line.line_id) ?? 0 }));
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function pickDefined(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function metadataField(metadata: Record<string, string>): { metadata?: Record<string, string> } {
  return Object.keys(metadata).length === 0 ? {} : { metadata };
}
