/**
 * From an action form to the request the service gets. The same parser runs when the
 * action is reviewed and when it is confirmed, on the fields the confirmation page carries,
 * so what is confirmed is what was reviewed (and If-Match refuses it if the transaction
 * changed in between). Amounts are parsed from the decimal text staff typed, never floats.
 */
import {
  type AllowedActions,
  fullCaptureRequest,
  fullRefundRequest,
  linesCaptureRequest,
  linesRefundRequest,
} from '../domain/allowed-actions.js';
import { addItemRequest, parseVatPercent } from '../domain/add-item.js';
import { KasseError } from '../domain/errors.js';
import { type Amount, parseDecimalAmount } from '../domain/money.js';
import type { CaptureRequest, OrderItem, RefundRequest, TransactionState, UpdateAuthorizationRequest } from '../domain/transaction.js';
import type { ActionKind } from './transaction-page.js';

export type ActionRequest =
  | { readonly kind: 'capture'; readonly body: CaptureRequest }
  | { readonly kind: 'refund'; readonly body: RefundRequest }
  | { readonly kind: 'void' }
  | { readonly kind: 'update'; readonly body: UpdateAuthorizationRequest & { amount: Amount; items: readonly OrderItem[] }; readonly added: OrderItem };

export interface ReviewedAction {
  readonly request: ActionRequest;
  /** The form fields that produced the request, carried through the confirmation step. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
}

export function isActionKind(value: string): value is ActionKind {
  return value === 'capture' || value === 'refund' || value === 'void' || value === 'update';
}

function refuse(message: string): never {
  throw new KasseError('INVALID_REQUEST', message);
}

function text(form: URLSearchParams, name: string, max: number, label: string): string | undefined {
  const value = (form.get(name) ?? '').trim();
  if (value === '') return undefined;
  if (value.length > max) refuse(`${label} can be at most ${max} characters.`);
  return value;
}

function positiveAmount(form: URLSearchParams, currency: string): Amount {
  const typed = (form.get('amount') ?? '').trim();
  if (typed === '') refuse('Enter the amount.');
  const amount = parseDecimalAmount(typed, currency);
  if (amount <= 0) refuse('The amount must be more than zero.');
  return amount;
}

/** The mode chosen, or the one the typed fields imply (a form sent without script). */
function modeOf(form: URLSearchParams): 'full' | 'amount' | 'lines' {
  const mode = form.get('mode');
  if (mode === 'full' || mode === 'amount' || mode === 'lines') return mode;
  if ((form.get('amount') ?? '').trim() !== '') return 'amount';
  if (form.getAll('line').length > 0) return 'lines';
  return 'full';
}

function carried(form: URLSearchParams, names: readonly string[]): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const name of names) for (const value of form.getAll(name)) fields.push([name, value]);
  return fields;
}

export function reviewAction(
  kind: ActionKind,
  state: TransactionState,
  actions: AllowedActions,
  currency: string,
  form: URLSearchParams,
): ReviewedAction {
  switch (kind) {
    case 'capture': {
      const choices = actions.capture ?? refuse('This transaction cannot be captured now.');
      const mode = modeOf(form);
      const reference = text(form, 'reference', 200, 'Reference');
      let body: CaptureRequest;
      if (mode === 'full') body = (choices.full ? fullCaptureRequest(state) : null) ?? refuse('Capturing everything at once is not possible here; choose lines.');
      else if (mode === 'amount') body = choices.byAmount ? { amount: positiveAmount(form, currency) } : refuse(`This payment product does not capture by amount; choose ${choices.lines.length > 0 ? 'lines' : 'everything'}.`);
      else body = linesCaptureRequest(state, form.getAll('line').filter((line) => choices.lines.includes(line) || refuse(`Line ${line} cannot be captured.`)));
      return {
        request: { kind, body: { ...body, ...(reference ? { capture_reference: reference } : {}) } },
        fields: [['mode', mode], ...carried(form, mode === 'amount' ? ['amount'] : mode === 'lines' ? ['line'] : []), ...carried(form, ['reference'])],
      };
    }
    case 'refund': {
      const choices = actions.refund ?? refuse('This transaction has nothing to refund.');
      const mode = modeOf(form);
      const reference = text(form, 'reference', 200, 'Reference');
      const reason = text(form, 'reason', 1000, 'Reason');
      let body: RefundRequest;
      if (mode === 'full') body = (choices.full ? fullRefundRequest(state) : null) ?? refuse('Refunding everything at once is not possible here; choose lines.');
      else if (mode === 'amount') body = choices.byAmount ? { amount: positiveAmount(form, currency) } : refuse('This payment product refunds by lines; choose lines.');
      else body = linesRefundRequest(state, form.getAll('line').filter((line) => choices.lines.includes(line) || refuse(`Line ${line} cannot be refunded.`)));
      return {
        request: { kind, body: { ...body, ...(reference ? { refund_reference: reference } : {}), ...(reason ? { reason } : {}) } },
        fields: [['mode', mode], ...carried(form, mode === 'amount' ? ['amount'] : mode === 'lines' ? ['line'] : []), ...carried(form, ['reference', 'reason'])],
      };
    }
    case 'void': {
      if (actions.void === null) refuse('This transaction cannot be voided now.');
      return { request: { kind }, fields: [] };
    }
    case 'update': {
      if (!actions.addItem) refuse('Items cannot be added to this transaction now.');
      const description = text(form, 'description', 1000, 'Description') ?? refuse('Enter a description.');
      const quantityText = (form.get('quantity') ?? '').trim();
      if (!/^\d{1,9}$/.test(quantityText) || Number(quantityText) < 1) refuse('Quantity must be a whole number of at least 1.');
      const unitPriceText = (form.get('unit_price') ?? '').trim();
      if (unitPriceText === '') refuse('Enter the unit price.');
      const unitPrice = parseDecimalAmount(unitPriceText, currency);
      const vatRate = parseVatPercent(form.get('vat') ?? '');
      const body = addItemRequest(state, { description, quantity: Number(quantityText), unitPrice, vatRate });
      const added = body.items[body.items.length - 1]!;
      if (added.amount <= 0) refuse('The new item must cost something: enter a unit price above zero.');
      return { request: { kind, body, added }, fields: carried(form, ['description', 'quantity', 'unit_price', 'vat']) };
    }
  }
}
