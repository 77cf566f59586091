/**
 * One transaction: amounts, the actions its state and product allow (each leading to a
 * confirmation step), items with what was captured and refunded per line, the event
 * timeline, customer and addresses.
 */
import type { AmountChoices } from '../domain/allowed-actions.js';
import { formatAmount } from '../domain/money.js';
import { capturableOnLine, refundableOnLine, type TransactionItem } from '../domain/transaction.js';
import type { TransactionDetail } from '../services/backoffice.js';
import type { TransactionEventRecord } from '../store/store.js';
import { formatMoney, longTime, productLabel, shortTime, statusBadge, statusLabel } from './format.js';
import { attr, html, type SafeHtml } from './html.js';
import { csrfField, renderPage, type Staff } from './layout.js';
import { deliveriesSection } from './deliveries-section.js';

export type ActionKind = 'capture' | 'refund' | 'void' | 'update';

/** A message at the top of the page: the outcome of an action, or why it was refused. */
export interface Flash {
  readonly tone: 'notice' | 'alert';
  readonly text: string;
}

/** What staff typed into an action form that was refused, to show it again. */
export interface TypedAction {
  readonly kind: ActionKind;
  readonly fields: URLSearchParams;
  readonly error: string;
}

export interface TransactionPageInput {
  readonly staff: Staff;
  readonly detail: TransactionDetail;
  readonly flash?: Flash;
  readonly typed?: TypedAction;
  /** Show the + Add item form open (the no-script path). */
  readonly addItemOpen?: boolean;
  readonly path: string;
}

function money(amount: number, currency: string): string {
  return formatMoney(amount, currency);
}

function figure(label: string, value: SafeHtml | string, tone = ''): SafeHtml {
  return html`<div class="figure ${tone}"><dt>${label}</dt><dd>${value}</dd></div>`;
}

function amounts(detail: TransactionDetail): SafeHtml {
  const { view } = detail;
  const c = view.currency;
  const expiry = view.authorization_expires_at;
  const expired = expiry !== null && Date.parse(expiry) <= Date.parse(detail.now);
  return html`<section aria-labelledby="amounts-h" class="card">
<h2 id="amounts-h">Amounts</h2>
<dl class="figures">
${figure('Authorized', money(view.amount, c))}
${figure('Captured', money(view.captured_amount, c))}
${figure('Refunded', money(view.refunded_amount, c))}
${figure('Voided', money(view.voided_amount, c))}
${figure('Remaining to capture', money(view.remaining_capture_amount, c), view.remaining_capture_amount > 0 ? 'highlight' : '')}
${figure('Remaining to refund', money(view.remaining_refund_amount, c), view.remaining_refund_amount > 0 ? 'highlight' : '')}
${figure('Authorization expires', expiry === null ? '—' : html`${longTime(expiry)}${expired ? html` <span class="badge badge-bad">Expired</span>` : ''}`)}
</dl>
</section>`;
}

function lineName(line: TransactionItem): string {
  return String(line.description ?? line.id ?? `Line ${line.line_id}`);
}

function typedValue(input: TransactionPageInput, kind: ActionKind, name: string): string {
  return input.typed?.kind === kind ? (input.typed.fields.get(name) ?? '') : '';
}

function typedLines(input: TransactionPageInput, kind: ActionKind): string[] {
  return input.typed?.kind === kind ? input.typed.fields.getAll('line') : [];
}

function actionError(input: TransactionPageInput, kind: ActionKind): SafeHtml {
  return input.typed?.kind === kind ? html`<p class="alert" role="alert" id="${kind}-error">${input.typed.error}</p>` : html``;
}

/** Capture and refund share a shape: everything, an amount, or chosen lines. */
function amountForm(input: TransactionPageInput, kind: 'capture' | 'refund', choices: AmountChoices): SafeHtml {
  const { view, record } = input.detail;
  const c = view.currency;
  const title = kind === 'capture' ? 'Capture' : 'Refund';
  const left = (line: TransactionItem) => (kind === 'capture' ? capturableOnLine(record.state, line) : refundableOnLine(record.state, line));
  const lines = record.state.items.filter((line) => choices.lines.includes(line.line_id));
  const typedMode = typedValue(input, kind, 'mode');
  const mode = typedMode || (choices.full ? 'full' : choices.byAmount ? 'amount' : 'lines');
  const chosen = typedLines(input, kind);
  return html`<form method="post" action="/backoffice/transactions/${view.id}/${kind}" class="action" aria-labelledby="${kind}-h" data-modes${input.typed?.kind === kind ? html` aria-describedby="${kind}-error"` : ''}>
<h3 id="${kind}-h">${title}</h3>
<p class="hint">${money(choices.remaining, c)} ${kind === 'capture' ? 'remains to capture' : 'can be refunded'}.</p>
${actionError(input, kind)}
${csrfField(input.staff)}
<fieldset class="modes">
<legend>What to ${kind}</legend>
${
  choices.full
    ? html`<label class="option"><input type="radio" name="mode" value="full"${attr('checked', mode === 'full')}>Everything: ${money(choices.remaining, c)}</label>`
    : ''
}
${
  choices.byAmount
    ? html`<label class="option"><input type="radio" name="mode" value="amount"${attr('checked', mode === 'amount')}>Part of it</label>
<div class="sub field inline">
<label for="${kind}-amount">Amount</label>
<input id="${kind}-amount" name="amount" inputmode="decimal" autocomplete="off" value="${typedValue(input, kind, 'amount')}" data-mode="amount" aria-describedby="${kind}-amount-unit" placeholder="${formatAmount(0, c)}">
<span class="unit" id="${kind}-amount-unit">${c}</span>
</div>`
    : ''
}
${
  lines.length > 0
    ? html`<label class="option"><input type="radio" name="mode" value="lines"${attr('checked', mode === 'lines')}>Chosen lines</label>
<div class="sub lines" role="group" aria-label="Lines to ${kind}">
${lines.map(
  (line) =>
    html`<label class="option"><input type="checkbox" name="line" value="${line.line_id}" data-mode="lines"${attr('checked', chosen.includes(line.line_id))}><span>${lineName(line)}</span> <span class="muted amount">${money(left(line), c)}</span></label>`,
)}
</div>`
    : ''
}
</fieldset>
${
  kind === 'refund'
    ? html`<div class="field"><label for="refund-reason">Reason <span class="muted">(optional)</span></label><input id="refund-reason" name="reason" maxlength="1000" value="${typedValue(input, kind, 'reason')}" autocomplete="off"></div>`
    : ''
}
<div class="field"><label for="${kind}-reference">Reference <span class="muted">(optional)</span></label><input id="${kind}-reference" name="reference" maxlength="200" value="${typedValue(input, kind, 'reference')}" autocomplete="off"></div>
<button type="submit" class="button primary">${title}</button>
</form>`;
}

function voidForm(input: TransactionPageInput, amount: number): SafeHtml {
  const { view } = input.detail;
  const whole = view.status === 'AUTHORIZED';
  return html`<form method="post" action="/backoffice/transactions/${view.id}/void" class="action" aria-labelledby="void-h">
<h3 id="void-h">Void</h3>
<p class="hint">${whole ? 'Releases the whole authorization' : 'Releases the part that was not captured'}: ${money(amount, view.currency)}.</p>
${actionError(input, 'void')}
${csrfField(input.staff)}
<button type="submit" class="button danger">Void</button>
</form>`;
}

function addItemForm(input: TransactionPageInput): SafeHtml {
  const { view } = input.detail;
  const open = input.addItemOpen === true || input.typed?.kind === 'update';
  const value = (name: string, fallback = '') => (input.typed?.kind === 'update' ? typedValue(input, 'update', name) : fallback);
  return html`<div class="action wide" role="group" aria-labelledby="update-h">
<h3 id="update-h">Update authorization</h3>
<p class="hint">Add a line to the order; the authorized total grows by its amount (now ${money(view.amount, view.currency)}).</p>
<form method="get" action="/backoffice/transactions/${view.id}" class="reveal"${attr('hidden', open)}>
<input type="hidden" name="add" value="item">
<button type="submit" class="button" data-reveal="add-item" aria-controls="add-item" aria-expanded="false">+ Add item</button>
</form>
<form method="post" action="/backoffice/transactions/${view.id}/update" id="add-item" class="stack" aria-label="New item"${attr('hidden', !open)}>
${actionError(input, 'update')}
${csrfField(input.staff)}
<div class="item-row">
<div class="field"><label for="item-description">Description</label><input id="item-description" name="description" required maxlength="1000" value="${value('description')}" autocomplete="off"></div>
<div class="field"><label for="item-quantity">Quantity</label><input id="item-quantity" name="quantity" type="number" min="1" step="1" required value="${value('quantity', '1')}"></div>
<div class="field"><label for="item-price">Unit price</label><div class="with-unit"><input id="item-price" name="unit_price" inputmode="decimal" required autocomplete="off" value="${value('unit_price')}" aria-describedby="item-price-unit" placeholder="${formatAmount(0, view.currency)}"><span class="unit" id="item-price-unit">${view.currency}</span></div></div>
<div class="field"><label for="item-vat">VAT %</label><input id="item-vat" name="vat" inputmode="decimal" required value="${value('vat', '25')}" autocomplete="off"></div>
<button type="submit" class="button primary">Update</button>
</div>
</form>
</div>`;
}

function actions(input: TransactionPageInput): SafeHtml {
  const { actions: allowed, view } = input.detail;
  const forms: SafeHtml[] = [];
  if (allowed.capture) forms.push(amountForm(input, 'capture', allowed.capture));
  if (allowed.refund) forms.push(amountForm(input, 'refund', allowed.refund));
  if (allowed.void) forms.push(voidForm(input, allowed.void.amount));
  if (allowed.addItem) forms.push(addItemForm(input));
  return html`<section aria-labelledby="actions-h" class="card">
<h2 id="actions-h">Actions</h2>
${
  forms.length === 0
    ? html`<p class="muted">No action is possible on this ${productLabel(view.payment_product_type)} transaction: it is ${statusLabel(view.status).toLowerCase()}${
        view.authorization_expires_at !== null && Date.parse(view.authorization_expires_at) <= Date.parse(input.detail.now) ? ' and its authorization has expired' : ''
      }.</p>`
    : html`<div class="actions">${forms}</div>`
}
</section>`;
}

function items(detail: TransactionDetail): SafeHtml {
  const { view } = detail;
  const c = view.currency;
  if (view.items.length === 0) {
    return html`<section aria-labelledby="items-h" class="card"><h2 id="items-h">Items</h2><p class="muted">The order has no item lines.</p></section>`;
  }
  return html`<section aria-labelledby="items-h" class="card">
<h2 id="items-h">Items</h2>
<div class="table-wrap"><table class="items">
<thead><tr><th scope="col">Line</th><th scope="col">Description</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">VAT</th><th scope="col" class="num">Amount</th><th scope="col" class="num">Captured</th><th scope="col" class="num">Refunded</th></tr></thead>
<tbody>
${view.items.map(
  (line) => html`<tr>
<td class="mono">${line.line_id}</td>
<td>${lineName(line)}${line.type === 'shipping' ? html` <span class="tag">shipping</span>` : ''}</td>
<td class="num">${line.quantity ?? ''}</td>
<td class="num">${line.vat === undefined ? '' : `${line.vat} %`}</td>
<td class="num nowrap">${money(line.amount, c)}</td>
<td class="num nowrap${line.captured_amount === line.amount && line.amount > 0 ? ' done' : ''}">${money(line.captured_amount, c)}</td>
<td class="num nowrap">${money(line.refunded_amount, c)}</td>
</tr>`,
)}
</tbody>
</table></div>
</section>`;
}

function eventReason(event: TransactionEventRecord): string {
  const error = event.error as { code?: unknown; message?: unknown } | undefined;
  if (error) return `${String(error.message ?? '')}${error.code ? ` (${String(error.code)})` : ''}`;
  const metadata = event.metadata as Record<string, unknown> | undefined;
  const parts = [metadata?.reason, metadata?.description].filter((part) => typeof part === 'string' && part !== '');
  return parts.join(' · ');
}

function events(detail: TransactionDetail): SafeHtml {
  const { view } = detail;
  const newestFirst = [...view.events].reverse();
  return html`<section aria-labelledby="events-h" class="card">
<h2 id="events-h">Events</h2>
<div class="table-wrap"><table class="events">
<thead><tr><th scope="col">#</th><th scope="col">Event</th><th scope="col" class="num">Amount</th><th scope="col">Status after</th><th scope="col">Created by</th><th scope="col">Created at (UTC)</th><th scope="col">Reference and details</th></tr></thead>
<tbody>
${newestFirst.map(
  (event) => html`<tr>
<td class="mono">${event.id}</td>
<td class="nowrap"><strong>${event.event}</strong><br>${event.success ? html`<span class="result ok">Success</span>` : html`<span class="result err">Error</span>`}</td>
<td class="num nowrap">${typeof event.amount === 'number' ? money(event.amount, view.currency) : ''}</td>
<td>${statusLabel(event.transaction_status)}</td>
<td class="ellipsis">${typeof event.created_by === 'string' ? event.created_by : html`<span class="muted">system</span>`}</td>
<td class="nowrap">${event.created_at.slice(0, 10)}<br><span class="muted">${event.created_at.slice(11, 19)}</span></td>
<td>${typeof event.event_reference === 'string' ? html`<span class="mono">${event.event_reference}</span>` : ''}${typeof event.event_reference === 'string' && eventReason(event) ? html`<br>` : ''}${eventReason(event)}</td>
</tr>`,
)}
</tbody>
</table></div>
</section>`;
}

const addressFields = ['first_name', 'last_name', 'business_name', 'co_address', 'address_line', 'address_line_2', 'postal_code', 'postal_place', 'country', 'email', 'phone_number'];

function address(title: string, value: unknown): SafeHtml {
  if (typeof value !== 'object' || value === null) return html``;
  const record = value as Record<string, unknown>;
  const name = [record.first_name, record.last_name].filter(Boolean).join(' ');
  const lines = [
    name,
    record.business_name,
    record.co_address ? `c/o ${String(record.co_address)}` : '',
    record.address_line,
    record.address_line_2,
    [record.postal_code, record.postal_place].filter(Boolean).join(' '),
    record.country,
  ].filter((line) => typeof line === 'string' && line !== '') as string[];
  const other = Object.entries(record).filter(([key, v]) => !addressFields.includes(key) && (typeof v === 'string' || typeof v === 'number'));
  return html`<h3>${title}</h3>
<address>${lines.map((line, index) => html`${index > 0 ? html`<br>` : ''}${line}`)}${lines.length === 0 ? html`<span class="muted">—</span>` : ''}</address>
${typeof record.email === 'string' || typeof record.phone_number === 'string' ? html`<p class="sub">${[record.email, record.phone_number].filter(Boolean).join(' · ')}</p>` : ''}
${other.length > 0 ? html`<p class="sub">${other.map(([key, v]) => `${key}: ${String(v)}`).join(' · ')}</p>` : ''}`;
}

function customer(detail: TransactionDetail): SafeHtml {
  const { view } = detail;
  const person = (view.customer ?? {}) as Record<string, unknown>;
  const entries = Object.entries(person).filter(([, v]) => typeof v === 'string' || typeof v === 'number');
  const hasAddress = view.shipping_address !== undefined || view.billing_address !== undefined;
  return html`<section aria-labelledby="customer-h" class="card">
<h2 id="customer-h">Customer</h2>
${
  entries.length > 0
    ? html`<dl class="pairs">${entries.map(([key, v]) => html`<div><dt>${key.replace(/_/g, ' ')}</dt><dd>${String(v)}</dd></div>`)}</dl>`
    : html`<p class="muted">No customer details.</p>`
}
${address('Shipping address', view.shipping_address)}
${address('Billing address', view.billing_address)}
${!hasAddress ? html`<p class="muted">No addresses.</p>` : ''}
</section>`;
}

function details(detail: TransactionDetail): SafeHtml {
  const { view } = detail;
  const card = view.card as Record<string, unknown> | undefined;
  const url = (view.url ?? {}) as Record<string, unknown>;
  const rows: Array<[string, string | SafeHtml]> = [
    ['Transaction id', html`<span class="mono">${view.id}</span>`],
    ['Session id', html`<span class="mono">${view.session_id}</span>`],
    ['Merchant reference', view.merchant_reference],
    ['Merchant reference 2', view.merchant_reference_2 ?? '—'],
    ['Payment product', `${productLabel(view.payment_product_type)} (${view.payment_product_type})`],
    ['Currency', view.currency],
    ['Created', longTime(view.created_at)],
    ['Updated', longTime(view.updated_at)],
  ];
  if (card) rows.push(['Card', [card.brand, card.masked_pan, card.expiry_date].filter(Boolean).join(' · ')]);
  if (typeof url.callback_url === 'string') rows.push(['Callback URL', html`<span class="mono break">${url.callback_url}</span>`]);
  return html`<section aria-labelledby="details-h" class="card">
<h2 id="details-h">Details</h2>
<dl class="pairs">${rows.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`)}</dl>
</section>`;
}

export function renderTransactionPage(input: TransactionPageInput): string {
  const { view } = input.detail;
  const flash = input.flash
    ? html`<p class="${input.flash.tone}" role="${input.flash.tone === 'alert' ? 'alert' : 'status'}">${input.flash.text}</p>`
    : '';
  return renderPage({
    title: `${view.merchant_reference} · ${statusLabel(view.status)}`,
    staff: input.staff,
    section: 'transactions',
    path: input.path,
    body: html`<nav aria-label="Breadcrumb" class="crumbs"><a href="/backoffice/transactions">Transactions</a> <span aria-hidden="true">›</span> <span aria-current="page">${view.merchant_reference}</span></nav>
<div class="page-head">
<div>
<h1>${view.merchant_reference} ${statusBadge(view.status)}</h1>
<p class="muted">${productLabel(view.payment_product_type)} · ${money(view.amount, view.currency)} · created ${shortTime(view.created_at)} UTC · <span class="mono">${view.id}</span></p>
</div>
</div>
${flash}
<div class="detail">
<div class="main-col">
${amounts(input.detail)}
${actions(input)}
${items(input.detail)}
${events(input.detail)}
${deliveriesSection(input.detail.deliveries)}
</div>
<div class="side-col">
${customer(input.detail)}
${details(input.detail)}
</div>
</div>`,
  });
}
