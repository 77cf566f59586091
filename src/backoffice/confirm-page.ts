/**
 * The confirmation step of every action: what exactly will happen, in money and lines,
 * with one button to do it and a way back. The form carries the reviewed fields, the
 * transaction version (sent as If-Match) and an idempotency key, so a second click or a
 * resubmitted form never applies the action twice.
 */
import type { OrderItem } from '../domain/transaction.js';
import type { TransactionView } from '../services/transaction-view.js';
import type { ActionRequest, ReviewedAction } from './action-forms.js';
import { formatMoney, productLabel, statusBadge } from './format.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, renderPage, type Staff } from './layout.js';

export interface ConfirmPageInput {
  readonly staff: Staff;
  readonly view: TransactionView;
  readonly reviewed: ReviewedAction;
  readonly etag: string;
  readonly idempotencyKey: string;
  readonly path: string;
}

const titles: Record<ActionRequest['kind'], string> = {
  capture: 'Confirm capture',
  refund: 'Confirm refund',
  void: 'Confirm void',
  update: 'Confirm update',
};

function lineTable(lines: readonly OrderItem[], currency: string, caption: string, highlight?: string): SafeHtml {
  return html`<table class="items compact">
<caption>${caption}</caption>
<thead><tr><th scope="col">Line</th><th scope="col">Description</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>
${lines.map(
  (line) => html`<tr${line.line_id === highlight ? html` class="added"` : ''}>
<td class="mono">${line.line_id}</td><td>${String(line.description ?? line.id ?? '')}${line.line_id === highlight ? html` <span class="tag">new</span>` : ''}</td>
<td class="num">${line.quantity ?? ''}</td><td class="num nowrap">${formatMoney(line.amount, currency)}</td></tr>`,
)}
</tbody>
</table>`;
}

function summary(request: ActionRequest, view: TransactionView): SafeHtml {
  const c = view.currency;
  switch (request.kind) {
    case 'capture':
      return html`<p class="big">Capture <strong>${formatMoney(request.body.amount, c)}</strong> of ${formatMoney(view.remaining_capture_amount, c)} remaining.</p>
${request.body.items ? lineTable(request.body.items, c, 'Lines to capture') : ''}
${request.body.capture_reference ? html`<p>Reference: <strong>${request.body.capture_reference}</strong></p>` : ''}`;
    case 'refund':
      return html`<p class="big">Refund <strong>${formatMoney(request.body.amount, c)}</strong> of ${formatMoney(view.remaining_refund_amount, c)} refundable.</p>
${request.body.items ? lineTable(request.body.items, c, 'Lines to refund') : ''}
${request.body.reason ? html`<p>Reason: <strong>${request.body.reason}</strong></p>` : ''}
${request.body.refund_reference ? html`<p>Reference: <strong>${request.body.refund_reference}</strong></p>` : ''}`;
    case 'void': {
      const amount = view.status === 'AUTHORIZED' ? view.amount : view.remaining_capture_amount;
      return html`<p class="big">Void <strong>${formatMoney(amount, c)}</strong>: ${view.status === 'AUTHORIZED' ? 'the whole authorization' : 'the part that was not captured'}.</p>
<p>The customer's reserved money is released. This cannot be undone.</p>`;
    }
    case 'update':
      return html`<p class="big">Change the authorized total from ${formatMoney(view.amount, c)} to <strong>${formatMoney(request.body.amount, c)}</strong>.</p>
${lineTable(request.body.items, c, 'The new item list', request.added.line_id)}`;
  }
}

export function renderConfirmPage(input: ConfirmPageInput): string {
  const { view, reviewed } = input;
  const kind = reviewed.request.kind;
  const title = titles[kind];
  const back = `/backoffice/transactions/${view.id}`;
  return renderPage({
    title,
    staff: input.staff,
    section: 'transactions',
    path: input.path,
    body: html`<nav aria-label="Breadcrumb" class="crumbs"><a href="/backoffice/transactions">Transactions</a> <span aria-hidden="true">›</span> <a href="${back}">${view.merchant_reference}</a> <span aria-hidden="true">›</span> <span aria-current="page">${title}</span></nav>
<div class="narrow card confirm">
<h1>${title}</h1>
<p class="muted">${view.merchant_reference} ${statusBadge(view.status)} · ${productLabel(view.payment_product_type)} · <span class="mono">${view.id}</span></p>
${summary(reviewed.request, view)}
<form method="post" action="/backoffice/transactions/${view.id}/${kind}" class="confirm-actions">
${csrfField(input.staff)}
<input type="hidden" name="confirm" value="yes">
<input type="hidden" name="version" value="${input.etag}">
<input type="hidden" name="idempotency_key" value="${input.idempotencyKey}">
${reviewed.fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit" class="button ${kind === 'void' ? 'danger' : 'primary'}" autofocus>${title}</button>
<a class="button ghost" href="${back}">Cancel</a>
</form>
</div>`,
  });
}
