/** How the backoffice shows statuses, products, money and times. */
import { isSandboxAccount } from '../domain/ids.js';
import type { TransactionStatus } from '../domain/status.js';
import type { PaymentProductType } from '../domain/products.js';
import { formatMoney } from '../sandbox/hosted-page.js';
import { html, type SafeHtml } from './html.js';

export { formatMoney };

type Tone = 'info' | 'good' | 'partial' | 'closed' | 'bad' | 'pending';

const statusTone: Record<TransactionStatus, Tone> = {
  INITIATED: 'pending',
  ON_HOLD: 'pending',
  UNKNOWN: 'pending',
  DECLINED: 'bad',
  FAILED: 'bad',
  AUTHORIZED: 'info',
  AUTHORIZATION_VOIDED: 'closed',
  PARTIALLY_CAPTURED: 'partial',
  PARTIALLY_CAPTURED_REFUNDED: 'partial',
  CAPTURED: 'good',
  PARTIALLY_REFUNDED: 'partial',
  REFUNDED: 'closed',
};

/** "PARTIALLY_CAPTURED" → "Partially captured". */
export function statusLabel(status: string): string {
  const text = status.toLowerCase().replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function statusBadge(status: string): SafeHtml {
  const tone = statusTone[status as TransactionStatus] ?? 'pending';
  return html`<span class="badge badge-${tone}" data-status="${status}">${statusLabel(status)}</span>`;
}

export const productLabels: Record<PaymentProductType, string> = {
  'klarna.klarna': 'Klarna',
  'klarna.billie': 'Billie',
  vipps: 'Vipps',
  'payex.creditcard': 'PayEx card',
  'payex.mobilepay': 'PayEx MobilePay',
  'payex.vipps': 'PayEx Vipps',
  'payex.applepay': 'PayEx Apple Pay',
  'payex.googlepay': 'PayEx Google Pay',
  'payex.clicktopay': 'PayEx Click to Pay',
  'bambora.creditcard': 'Bambora card',
  'netaxept.creditcard': 'Netaxept card',
  'dintero_psp.creditcard': 'Dintero card',
  'collector.invoice': 'Walley invoice',
  'collector.invoice_b2b': 'Walley B2B invoice',
  'collector.installment': 'Walley installment',
  'instabank.invoice': 'Instabank invoice',
  'swish.swish': 'Swish',
};

export function productLabel(type: string): string {
  return productLabels[type as PaymentProductType] ?? type;
}

/** "2026-03-01T12:34:56.789Z" → "2026-03-01 12:34" (UTC, as stored). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

export function longTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export function accountLabel(accountId: string): string {
  return `${accountId} (${isSandboxAccount(accountId) ? 'test' : 'production'})`;
}
