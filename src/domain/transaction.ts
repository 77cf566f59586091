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
import { assertNever } from './assert-never.js';
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
  /** Operations the provider accepted asynchronously and has not completed: their money is reserved. */
  readonly pending?: readonly PendingOperation[];
}

export type OperationKind = 'CAPTURE' | 'REFUND' | 'VOID';

/** What an accepted capture, refund or void does to the money: decided once, applied when the provider completes. */
export interface Effect {
  readonly kind: OperationKind;
  readonly amount: Amount;
  /** Amount per line_id attributed to the transaction's lines. */
  readonly lineAmounts: Readonly<Record<string, Amount>>;
  /** The items as the event shows them. */
  readonly items?: readonly OrderItem[];
  readonly eventReference?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** An asynchronous operation in flight, identified by the request id of its INITIATE_* event. */
export interface PendingOperation extends Effect {
  readonly requestId: string;
  /** Wall-clock time at which the simulated provider completes it. */
  readonly dueAt: string;
  readonly actor?: string;
}

/** How the (simulated) provider answers an operation. */
export type ProviderAnswer = 'succeed' | 'fail' | 'async';

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
  /** On the event completing an asynchronous operation: the request id of its INITIATE_* event. */
  readonly correlation_request_id?: string;
}

export interface Decision {
  readonly state: TransactionState;
  readonly events: readonly EventDraft[];
}

export type AuthorizationOutcome = 'authorized' | 'declined' | 'failed' | 'on_hold' | 'unknown';

export function statusOf(state: TransactionState): TransactionStatus {
  return deriveStatus(state.authorization, state);
}

/** Money reserved by in-flight operations of one kind, in total or on one line. */
export function pendingAmount(state: TransactionState, kind: OperationKind, lineId?: string): Amount {
  let total = 0;
  for (const operation of state.pending ?? []) {
    if (operation.kind !== kind) continue;
    total += lineId === undefined ? operation.amount : (operation.lineAmounts[lineId] ?? 0);
  }
  return total;
}

/** A − C − V, less what in-flight captures and voids have reserved. */
export function remainingCaptureAmount(state: TransactionState): Amount {
  if (state.authorization !== 'AUTHORIZED') return 0;
  return state.amount - state.capturedAmount - state.voidedAmount - pendingAmount(state, 'CAPTURE') - pendingAmount(state, 'VOID');
}

/** C − R, less what in-flight refunds have reserved. */
export function remainingRefundAmount(state: TransactionState): Amount {
  return state.capturedAmount - state.refundedAmount - pendingAmount(state, 'REFUND');
}

/** What is left to capture on one line, less what in-flight captures reserve on it. */
export function capturableOnLine(state: TransactionState, line: TransactionItem): Amount {
  return line.amount - line.captured_amount - pendingAmount(state, 'CAPTURE', line.line_id);
}

/** What is left to refund on one line, less what in-flight refunds reserve on it. */
export function refundableOnLine(state: TransactionState, line: TransactionItem): Amount {
  return line.captured_amount - line.refunded_amount - pendingAmount(state, 'REFUND', line.line_id);
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
  /** Session `configuration.auto_capture`: capture everything as soon as it is authorized. */
  readonly autoCapture?: boolean;
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
  if (capabilities.itemsRequired && input.items.length === 0) {
    throw new KasseError('ITEMS_REQUIRED', `${input.paymentProductType} needs an order with item lines.`);
  }
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
  if (input.autoCapture !== true || statusOf(state) !== 'AUTHORIZED') return { state, events };
  const effect = planCapture(state, { amount: state.amount }, input.now);
  const captured = applyEffect(state, effect, input.now);
  events.push(withStatusEvent(captured, { event: 'CAPTURE', success: true, amount: effect.amount, ...(effect.items ? { items: effect.items } : {}) }));
  return { state: captured, events };
}

/** Settles a pending (ON_HOLD / UNKNOWN) authorization, as the sandbox resolve endpoint does. */
export function resolveAuthorization(state: TransactionState, outcome: 'authorized' | 'failed', now: string): Decision {
  if (state.authorization !== 'ON_HOLD' && state.authorization !== 'UNKNOWN') {
    throw new KasseError('AUTHORIZATION_NOT_PENDING', `Only ON_HOLD or UNKNOWN transactions can be resolved; this one is ${statusOf(state)}.`);
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

/** Checks a capture against the rules and decides its effect; throws and changes nothing when refused. */
export function planCapture(state: TransactionState, request: CaptureRequest, now: string): Effect {
  const status = statusOf(state);
  const capabilities = capabilitiesOf(state.paymentProductType);
  if (!isCapturableStatus(status)) {
    throw new KasseError('TRANSACTION_NOT_CAPTURABLE', `The transaction is ${status}: it cannot be captured.`);
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
  const available = (line: TransactionItem) => capturableOnLine(state, line);
  const lineAmounts = request.items
    ? checkedLineAmounts(state, request.items, request.amount, available)
    : attributeToLines(state, request.amount, available);
  if (capabilities.wholeLineCaptureOnly) checkWholeLines(state, request, lineAmounts);
  return {
    kind: 'CAPTURE',
    amount: request.amount,
    lineAmounts: Object.fromEntries(lineAmounts),
    ...optional('items', eventItems(state, request.items, lineAmounts)),
    ...optional('eventReference', request.capture_reference),
    ...optional('metadata', request.metadata),
  };
}

export function capture(state: TransactionState, request: CaptureRequest, now: string): Decision {
  return settle(state, planCapture(state, request, now), 'succeed', now);
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
    const untouched = line !== undefined && line.captured_amount === 0 && pendingAmount(state, 'CAPTURE', lineId) === 0;
    if (!untouched || amount !== line.amount) {
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

export function planRefund(state: TransactionState, request: RefundRequest): Effect {
  const status = statusOf(state);
  const remaining = remainingRefundAmount(state);
  if (state.authorization !== 'AUTHORIZED' || remaining === 0) {
    throw new KasseError('TRANSACTION_NOT_REFUNDABLE', `The transaction is ${status}: nothing captured is left to refund.`);
  }
  checkPositive(request.amount);
  if (request.amount > remaining) {
    throw new KasseError('AMOUNT_EXCEEDS_REFUNDABLE', `Amount ${request.amount} is above the ${remaining} that remains to refund.`);
  }
  if (capabilitiesOf(state.paymentProductType).itemsRequired && request.items === undefined) {
    throw new KasseError('ITEMS_REQUIRED', `${state.paymentProductType} needs the refunded items.`);
  }
  const available = (line: TransactionItem) => refundableOnLine(state, line);
  const lineAmounts = request.items
    ? checkedLineAmounts(state, request.items, request.amount, available)
    : attributeToLines(state, request.amount, available);
  const metadata = request.reason === undefined ? request.metadata : { ...request.metadata, reason: request.reason };
  return {
    kind: 'REFUND',
    amount: request.amount,
    lineAmounts: Object.fromEntries(lineAmounts),
    ...optional('items', eventItems(state, request.items, lineAmounts)),
    ...optional('eventReference', request.refund_reference),
    ...optional('metadata', metadata),
  };
}

export function refund(state: TransactionState, request: RefundRequest): Decision {
  // Only captures look at the time (Klarna's window), so refunds and voids need none.
  return settle(state, planRefund(state, request), 'succeed', '');
}

// ---------------------------------------------------------------- void

/** Voids the whole authorization before any capture, or what is left after a partial capture. */
export function planVoid(state: TransactionState): Effect {
  const status = statusOf(state);
  const remaining = remainingCaptureAmount(state);
  if (!isCapturableStatus(status) || remaining === 0) {
    throw new KasseError('TRANSACTION_NOT_VOIDABLE', `The transaction is ${status}: nothing is left to void.`);
  }
  const afterCapture = state.capturedAmount > 0 || pendingAmount(state, 'CAPTURE') > 0;
  if (afterCapture && !capabilitiesOf(state.paymentProductType).voidRemainder) {
    throw new KasseError('OPERATION_NOT_SUPPORTED', `${state.paymentProductType} cannot void the remainder after a partial capture.`);
  }
  return { kind: 'VOID', amount: remaining, lineAmounts: {} };
}

export function voidTransaction(state: TransactionState): Decision {
  return settle(state, planVoid(state), 'succeed', '');
}

// ---------------------------------------------------------------- provider answers

/** The money an effect moves, applied to the counters (and lines). */
export function applyEffect(state: TransactionState, effect: Effect, now: string): TransactionState {
  const lineAmounts = new Map(Object.entries(effect.lineAmounts));
  switch (effect.kind) {
    case 'CAPTURE': {
      const capturedAmount = addAmounts(state.capturedAmount, effect.amount);
      const leftToCapture = capturedAmount + state.voidedAmount < state.amount;
      return {
        ...state,
        capturedAmount,
        items: applyToLines(state.items, lineAmounts, (line, amount) => ({ ...line, captured_amount: line.captured_amount + amount })),
        authorizationExpiresAt:
          leftToCapture && state.paymentProductType === 'klarna.klarna' && state.authorizedAt !== null
            ? renewedExpiry(state.paymentProductType, state.authorizedAt, state.authorizationExpiresAt, now)
            : state.authorizationExpiresAt,
      };
    }
    case 'REFUND':
      return {
        ...state,
        refundedAmount: addAmounts(state.refundedAmount, effect.amount),
        items: applyToLines(state.items, lineAmounts, (line, amount) => ({ ...line, refunded_amount: line.refunded_amount + amount })),
      };
    case 'VOID':
      return { ...state, voidedAmount: addAmounts(state.voidedAmount, effect.amount) };
    default:
      return assertNever(effect.kind);
  }
}

function effectEvent(effect: Effect): Omit<EventDraft, 'transaction_status' | 'event' | 'success'> {
  return {
    amount: effect.amount,
    ...optional('items', effect.items),
    ...optional('event_reference', effect.eventReference),
    ...optional('metadata', effect.metadata),
  };
}

/**
 * Settles a planned operation as the provider answered it: `succeed` applies it now;
 * `fail` records a failed event and changes no money; `async` reserves its money and
 * records an INITIATE_* event until completePending applies it.
 */
export function settle(
  state: TransactionState,
  effect: Effect,
  answer: ProviderAnswer,
  now: string,
  inFlight?: { readonly requestId: string; readonly dueAt: string; readonly actor?: string },
): Decision {
  switch (answer) {
    case 'succeed': {
      const next = applyEffect(state, effect, now);
      return { state: next, events: [withStatusEvent(next, { event: effect.kind, success: true, ...effectEvent(effect) })] };
    }
    case 'fail':
      return {
        state,
        events: [
          withStatusEvent(state, {
            event: effect.kind,
            success: false,
            ...effectEvent(effect),
            error: { code: 'PROVIDER_REFUSED', message: `The payment provider refused the ${effect.kind.toLowerCase()}.` },
          }),
        ],
      };
    case 'async': {
      if (inFlight === undefined) throw new Error('An async answer needs the request id and due time of the operation.');
      const next: TransactionState = { ...state, pending: [...(state.pending ?? []), { ...effect, ...inFlight }] };
      return { state: next, events: [withStatusEvent(next, { event: `INITIATE_${effect.kind}`, success: true, ...effectEvent(effect) })] };
    }
    default:
      return assertNever(answer);
  }
}

/** The provider completed an in-flight operation: its reserved money moves for real. */
export function completePending(state: TransactionState, requestId: string, now: string): Decision {
  const operation = (state.pending ?? []).find((candidate) => candidate.requestId === requestId);
  if (operation === undefined) throw new Error(`No operation ${requestId} is in flight`);
  const released: TransactionState = { ...state, pending: (state.pending ?? []).filter((candidate) => candidate !== operation) };
  const next = applyEffect(released, operation, now);
  return {
    state: next,
    events: [withStatusEvent(next, { event: operation.kind, success: true, ...effectEvent(operation), correlation_request_id: operation.requestId })],
  };
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
    throw new KasseError('AUTHORIZATION_NOT_UPDATABLE', `The transaction is ${status}: its authorization cannot be updated.`);
  }
  if ((state.pending ?? []).length > 0) {
    throw new KasseError('AUTHORIZATION_NOT_UPDATABLE', 'An operation is still in flight with the provider; update the authorization when it completes.');
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
 * amount is recorded on the transaction only, since which lines it paid is unknown.
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
