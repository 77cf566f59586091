/**
 * Session order rules: items have unique line ids, and the order amount equals the sum of
 * the item amounts plus the shipping option (strict session amounts), or is lower when
 * the session allows partial payment.
 */
import { KasseError } from './errors.js';
import { type Amount, addAmounts, sumAmounts } from './money.js';
import type { OrderItem } from './transaction.js';

export interface ShippingOption {
  readonly id?: string;
  readonly line_id?: string;
  readonly amount: Amount;
  readonly [field: string]: unknown;
}

export interface OrderAmounts {
  readonly amount: Amount;
  readonly items?: readonly OrderItem[];
  readonly shipping_option?: ShippingOption;
  readonly partial_payment?: boolean;
}

export function checkOrderAmounts(order: OrderAmounts): void {
  if (!Number.isSafeInteger(order.amount) || order.amount <= 0) throw new KasseError('INVALID_AMOUNT');
  if (order.items === undefined) return;
  const lineIds = new Set<string>();
  for (const item of [...order.items, ...(order.shipping_option ? [{ line_id: shippingLineId(order.shipping_option) }] : [])]) {
    if (lineIds.has(item.line_id)) throw new KasseError('DUPLICATE_LINE_ID', `line_id ${item.line_id} appears more than once.`);
    lineIds.add(item.line_id);
  }
  const total = addAmounts(sumAmounts(order.items, (item) => item.amount), order.shipping_option?.amount ?? 0);
  if (order.partial_payment === true ? order.amount > total : order.amount !== total) {
    throw new KasseError(
      'ITEMS_AMOUNT_MISMATCH',
      `order.amount ${order.amount} must ${order.partial_payment === true ? 'not exceed' : 'equal'} the items and shipping total ${total}.`,
    );
  }
}

function shippingLineId(option: ShippingOption): string {
  return option.line_id ?? option.id ?? 'shipping';
}

/** The transaction's lines: the order items, with the shipping option moved in as a `shipping` line. */
export function transactionItems(order: OrderAmounts): OrderItem[] {
  const items = [...(order.items ?? [])];
  const option = order.shipping_option;
  if (option !== undefined) {
    const { line_id: _line, amount, ...rest } = option;
    items.push({ ...rest, line_id: shippingLineId(option), amount, quantity: 1, type: 'shipping', description: String(option.title ?? 'Shipping') });
  }
  return items;
}
