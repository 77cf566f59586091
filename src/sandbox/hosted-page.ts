/**
 * The hosted payment page (`/v1/view/{session_id}`): plain server-rendered HTML with no
 * script and no external asset, so it works offline, with a keyboard and a screen reader.
 * Rendering only; paying goes through the same service as the API.
 */
import { formatAmount } from '../domain/money.js';
import type { PaymentProductType } from '../domain/products.js';
import type { SessionRecord } from '../store/store.js';

const productNames: Record<PaymentProductType, string> = {
  'klarna.klarna': 'Klarna',
  'klarna.billie': 'Billie (invoice for businesses)',
  vipps: 'Vipps',
  'payex.creditcard': 'Card (PayEx)',
  'payex.mobilepay': 'MobilePay (PayEx)',
  'payex.vipps': 'Vipps (PayEx)',
  'payex.applepay': 'Apple Pay (PayEx)',
  'payex.googlepay': 'Google Pay (PayEx)',
  'payex.clicktopay': 'Click to Pay (PayEx)',
  'bambora.creditcard': 'Card (Bambora)',
  'netaxept.creditcard': 'Card (Netaxept)',
  'dintero_psp.creditcard': 'Card (Dintero)',
  'collector.invoice': 'Walley invoice',
  'collector.invoice_b2b': 'Walley invoice for businesses',
  'collector.installment': 'Walley installments',
  'instabank.invoice': 'Instabank invoice',
  'swish.swish': 'Swish',
};

const outcomes: Array<[string, string]> = [
  ['authorized', 'Authorized'],
  ['declined', 'Declined'],
  ['failed', 'Failed'],
  ['on_hold', 'On hold (Walley only)'],
  ['unknown', 'Unknown'],
];

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** "1234.50 NOK" → "NOK 1,234.50", formatted from the decimal string, never through a float. */
export function formatMoney(amount: number, currency: string): string {
  const decimal = formatAmount(amount, currency);
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency, currencyDisplay: 'code' }).format(decimal as unknown as number);
  } catch {
    return `${currency} ${decimal}`;
  }
}

interface PageLine {
  readonly description: string;
  readonly quantity: unknown;
  readonly amount: number;
}

function orderLines(session: SessionRecord): PageLine[] {
  const order = session.data.order as { items?: Array<Record<string, unknown>>; shipping_option?: Record<string, unknown> };
  const lines: PageLine[] = (order.items ?? []).map((item) => ({
    description: String(item.description ?? item.id ?? item.line_id),
    quantity: item.quantity ?? 1,
    amount: Number(item.amount),
  }));
  if (order.shipping_option) {
    lines.push({
      description: `Shipping: ${String(order.shipping_option.title ?? order.shipping_option.operator ?? 'delivery')}`,
      quantity: 1,
      amount: Number(order.shipping_option.amount),
    });
  }
  return lines;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/v1/view/assets/checkout.css">
</head>
<body>
<main class="checkout">
${body}
</main>
</body>
</html>`;
}

export interface CheckoutPageInput {
  readonly session: SessionRecord;
  readonly products: readonly PaymentProductType[];
  readonly sandbox: boolean;
  readonly error?: string;
  /** Why the session cannot be paid, when it cannot. */
  readonly closedReason?: string;
}

export function renderCheckoutPage(input: CheckoutPageInput): string {
  const { session } = input;
  const order = session.data.order as { amount: number; currency: string; merchant_reference: string };
  const total = formatMoney(order.amount, order.currency);
  const rows = orderLines(session)
    .map(
      (line) =>
        `<tr><td>${escapeHtml(line.description)}</td><td class="num">${escapeHtml(line.quantity)}</td><td class="num">${escapeHtml(formatMoney(line.amount, order.currency))}</td></tr>`,
    )
    .join('\n');
  const summary = `<h1>Pay ${escapeHtml(total)}</h1>
<p class="reference">Order <strong>${escapeHtml(order.merchant_reference)}</strong>${input.sandbox ? ' <span class="badge">Sandbox</span>' : ''}</p>
<table class="order" aria-label="Order summary">
<thead><tr><th scope="col">Item</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><th scope="row" colspan="2">Total</th><td class="num total">${escapeHtml(total)}</td></tr></tfoot>
</table>`;
  if (input.closedReason !== undefined) {
    return layout(`Order ${order.merchant_reference}`, `${summary}\n<p class="notice" role="status">${escapeHtml(input.closedReason)}</p>`);
  }
  const products = input.products
    .map(
      (type, index) =>
        `<label class="option"><input type="radio" name="payment_product_type" value="${escapeHtml(type)}"${index === 0 ? ' checked' : ''} required> ${escapeHtml(productNames[type])}</label>`,
    )
    .join('\n');
  const outcomePicker = input.sandbox
    ? `<fieldset>
<legend>Sandbox outcome</legend>
${outcomes
  .map(
    ([value, label]) =>
      `<label class="option"><input type="radio" name="outcome" value="${value}"${value === 'authorized' ? ' checked' : ''}> ${escapeHtml(label)}</label>`,
  )
  .join('\n')}
</fieldset>`
    : '';
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : '';
  return layout(
    `Pay ${total} — ${order.merchant_reference}`,
    `${summary}
${error}
<form method="post" action="/v1/view/${escapeHtml(session.id)}/pay" class="pay">
<fieldset>
<legend>Payment method</legend>
${products}
</fieldset>
${outcomePicker}
<button type="submit" class="primary">Pay ${escapeHtml(total)}</button>
</form>
<form method="post" action="/v1/view/${escapeHtml(session.id)}/cancel" class="cancel">
<button type="submit" class="secondary">Cancel payment</button>
</form>`,
  );
}

export function renderNotFoundPage(): string {
  return layout('Payment not found', '<h1>Payment not found</h1>\n<p>This payment link is not valid.</p>');
}

export const checkoutCss = `:root { color-scheme: light; --ink: #1b1f24; --muted: #5b6570; --line: #d6dbe1; --accent: #0b5fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f4f6f8; }
.checkout { max-width: 34rem; margin: 2rem auto; padding: 1.5rem 2rem; background: #fff; border: 1px solid var(--line); border-radius: 12px; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
.reference { color: var(--muted); margin: 0 0 1rem; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; background: #fff4d6; color: #7a5400; font-size: .8rem; }
table.order { width: 100%; border-collapse: collapse; margin-bottom: 1.25rem; }
.order th, .order td { padding: .4rem 0; border-bottom: 1px solid var(--line); text-align: left; }
.order .num { text-align: right; }
.order tfoot th, .order tfoot td { border-bottom: 0; font-weight: 700; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 1rem; padding: .75rem 1rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.option { display: block; padding: .3rem 0; cursor: pointer; }
input[type=radio] { accent-color: var(--accent); }
button { font: inherit; border-radius: 8px; padding: .7rem 1.2rem; cursor: pointer; width: 100%; }
button.primary { background: var(--accent); color: #fff; border: 0; font-weight: 600; }
button.secondary { background: #fff; color: var(--ink); border: 1px solid var(--line); margin-top: .5rem; }
button:focus-visible, input:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.error { background: #fdecec; color: #8a1c1c; padding: .6rem .8rem; border-radius: 8px; }
.notice { background: #eef4ff; padding: .6rem .8rem; border-radius: 8px; }
`;
