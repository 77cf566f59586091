/**
 * "+ Add item" on an authorized Klarna or Billie transaction: a new order line priced as
 * unit price × quantity, and the update-authorization request that carries the new total
 * with the complete item list.
 *
 * Invariants: the line amount is exactly unit price × quantity (a safe integer in minor
 * units); its VAT amount is the VAT included in that gross amount, rounded half up; the
 * request's amount is the old total plus the line and equals the sum of its items; existing
 * lines are sent unchanged (the command keeps what was captured and refunded on them).
 */
import { KasseError } from './errors.js';
import { type Amount, addAmounts } from './money.js';
import type { OrderItem, TransactionState, UpdateAuthorizationRequest } from './transaction.js';

/** A VAT rate in hundredths of a percent: 25 % is 2500, 12.5 % is 1250. */
export type VatRate = number;

/** "25", "12.5", "0", "15,00" → hundredths of a percent, exactly; at most two decimals, 0 to 100 %. */
export function parseVatPercent(text: string): VatRate {
  const match = /^(\d{1,3})(?:[.,](\d{0,2})0*)?$/.exec(text.trim().replace(/\s*%$/, ''));
  if (match === null) throw new KasseError('INVALID_REQUEST', `VAT % "${text.trim()}" is not a percentage such as 25 or 12.5.`);
  const rate = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  if (rate > 10000) throw new KasseError('INVALID_REQUEST', 'VAT % cannot be above 100.');
  return rate;
}

/** The VAT included in a gross amount at `rate`, rounded half up: amount × rate / (10000 + rate). */
export function includedVat(amount: Amount, rate: VatRate): Amount {
  const numerator = BigInt(amount) * BigInt(rate);
  const denominator = 10000n + BigInt(rate);
  return Number((2n * numerator + denominator) / (2n * denominator));
}

export interface NewLine {
  readonly description: string;
  readonly quantity: number;
  /** Price of one unit, VAT included, in minor units. */
  readonly unitPrice: Amount;
  readonly vatRate: VatRate;
}

/** A line id not used by any existing line: the next free number. */
export function nextLineId(items: readonly { readonly line_id: string }[]): string {
  const taken = new Set(items.map((item) => item.line_id));
  let candidate = items.length + 1;
  while (taken.has(String(candidate))) candidate += 1;
  return String(candidate);
}

/** The order line for a new item; refuses an empty description, a quantity that is not a positive whole number, or an overflowing total. */
export function newOrderLine(existing: readonly { readonly line_id: string }[], line: NewLine): OrderItem {
  const description = line.description.trim();
  if (description === '') throw new KasseError('INVALID_REQUEST', 'Description is required.');
  if (!Number.isSafeInteger(line.quantity) || line.quantity < 1) throw new KasseError('INVALID_REQUEST', 'Quantity must be a whole number of at least 1.');
  if (!Number.isSafeInteger(line.unitPrice) || line.unitPrice < 0) throw new KasseError('INVALID_AMOUNT');
  const amount = line.unitPrice * line.quantity;
  if (!Number.isSafeInteger(amount)) throw new KasseError('AMOUNT_OVERFLOW');
  return {
    line_id: nextLineId(existing),
    description,
    quantity: line.quantity,
    amount,
    vat: line.vatRate / 100,
    vat_amount: includedVat(amount, line.vatRate),
  };
}

/** Update authorization to the current total plus the new line, with the complete item list. */
export function addItemRequest(state: TransactionState, line: NewLine): UpdateAuthorizationRequest & { amount: Amount; items: readonly OrderItem[] } {
  const added = newOrderLine(state.items, line);
  const items: OrderItem[] = state.items.map(({ captured_amount: _captured, refunded_amount: _refunded, ...item }) => item);
  items.push(added);
  return { amount: addAmounts(state.amount, added.amount), items };
}
