/**
 * CSV export of transactions (RFC 4180: comma-separated, CRLF, fields with a comma, quote
 * or line break quoted, quotes doubled). Amounts are decimal strings in the currency's
 * major unit ("1234.50"), made from the integer minor units without floats. Free-text
 * cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) get a
 * leading apostrophe.
 */
import { formatAmount } from '../domain/money.js';
import type { TransactionView } from '../services/transaction-view.js';

export const csvColumns = [
  'id',
  'created_at',
  'merchant_reference',
  'merchant_reference_2',
  'status',
  'payment_product_type',
  'currency',
  'amount',
  'captured_amount',
  'refunded_amount',
  'voided_amount',
  'remaining_capture_amount',
  'remaining_refund_amount',
  'customer_email',
  'customer_phone',
  'session_id',
  'authorization_expires_at',
] as const;

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Text typed by people (references, email, phone): neutralised against spreadsheet formulas. */
export function csvText(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value);
  return csvField(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.join(',')}\r\n`;
}

export function csvHeader(): string {
  return csvLine([...csvColumns]);
}

export function csvRow(view: TransactionView): string {
  const customer = (view.customer ?? {}) as { email?: unknown; phone_number?: unknown };
  const money = (amount: number) => formatAmount(amount, view.currency);
  return csvLine([
    csvField(view.id),
    csvField(view.created_at),
    csvText(view.merchant_reference),
    csvText(view.merchant_reference_2),
    csvField(view.status),
    csvField(view.payment_product_type),
    csvField(view.currency),
    money(view.amount),
    money(view.captured_amount),
    money(view.refunded_amount),
    money(view.voided_amount),
    money(view.remaining_capture_amount),
    money(view.remaining_refund_amount),
    csvText(customer.email),
    csvText(customer.phone_number),
    csvField(view.session_id),
    csvField(view.authorization_expires_at ?? ''),
  ]);
}
