/** The transaction list: filters, search, a page of transactions, keyset paging, CSV export. */
import { paymentProductTypes } from '../domain/products.js';
import { transactionStatuses } from '../domain/status.js';
import type { TransactionView } from '../services/transaction-view.js';
import { formatMoney, productLabel, shortTime, statusBadge, statusLabel } from './format.js';
import { attr, html, type SafeHtml } from './html.js';
import { renderPage, type Staff } from './layout.js';
import { PAGE_SIZES, filterParams, firstPageHref, nextPageHref, previousPageHref, type ListQuery } from './list-query.js';

export interface TransactionsPageInput {
  readonly staff: Staff;
  readonly query: ListQuery;
  readonly rows: readonly TransactionView[];
  readonly hasMore: boolean;
  readonly path: string;
  /** An error from the list service (e.g. a cursor from another account). */
  readonly error?: string;
}

const commonCurrencies = ['NOK', 'SEK', 'DKK', 'EUR', 'USD', 'GBP'];

function select(id: string, label: string, name: string, current: string, options: ReadonlyArray<readonly [string, string]>, any: string): SafeHtml {
  return html`<div class="field">
<label for="${id}">${label}</label>
<select id="${id}" name="${name}">
<option value="">${any}</option>
${options.map(([value, text]) => html`<option value="${value}"${attr('selected', value === current)}>${text}</option>`)}
</select>
</div>`;
}

function textField(id: string, label: string, name: string, value: string, extra: SafeHtml | string = ''): SafeHtml {
  return html`<div class="field">
<label for="${id}">${label}</label>
<input id="${id}" name="${name}" value="${value}"${extra}>
</div>`;
}

function filters(query: ListQuery): SafeHtml {
  const { form } = query;
  const activeCount = Object.entries(form).filter(([name, value]) => value !== '' && name !== 'limit' && name !== 'search').length;
  return html`<form method="get" action="/backoffice/transactions" class="filters" role="search" aria-label="Find transactions">
<div class="searchbar">
<label for="search" class="visually-hidden">Search</label>
<input id="search" name="search" type="search" value="${form.search}" placeholder="Search by transaction id, session id, reference, email or phone" maxlength="200">
<button type="submit" class="button primary">Search</button>
</div>
<fieldset class="filter-grid">
<legend>Filters${activeCount > 0 ? html` <span class="count">${activeCount} active</span>` : ''}</legend>
${select('f-status', 'Status', 'status', form.status, transactionStatuses.map((status) => [status, statusLabel(status)] as const), 'Any status')}
${select('f-product', 'Payment product', 'payment_product_type', form.payment_product_type, paymentProductTypes.map((type) => [type, productLabel(type)] as const), 'Any product')}
${textField('f-currency', 'Currency', 'currency', form.currency, html` list="currencies" maxlength="3" autocomplete="off" spellcheck="false" class="short"`)}
<datalist id="currencies">${commonCurrencies.map((code) => html`<option value="${code}">`)}</datalist>
${textField('f-reference', 'Merchant reference', 'merchant_reference', form.merchant_reference, html` maxlength="200" autocomplete="off"`)}
<div class="field pair">
<span class="pair-label" id="amount-range">Amount</span>
<div class="pair-inputs">
<label for="f-amount-from" class="visually-hidden">Amount from</label>
<input id="f-amount-from" name="amount_from" value="${form.amount_from}" inputmode="decimal" placeholder="from" autocomplete="off" aria-describedby="amount-range">
<span aria-hidden="true">–</span>
<label for="f-amount-to" class="visually-hidden">Amount to</label>
<input id="f-amount-to" name="amount_to" value="${form.amount_to}" inputmode="decimal" placeholder="to" autocomplete="off" aria-describedby="amount-range">
</div>
</div>
<div class="field pair">
<span class="pair-label" id="created-range">Created (UTC)</span>
<div class="pair-inputs">
<label for="f-created-from" class="visually-hidden">Created from</label>
<input id="f-created-from" name="created_from" type="date" value="${form.created_from}" aria-describedby="created-range">
<span aria-hidden="true">–</span>
<label for="f-created-to" class="visually-hidden">Created to</label>
<input id="f-created-to" name="created_to" type="date" value="${form.created_to}" aria-describedby="created-range">
</div>
</div>
${select('f-limit', 'Rows per page', 'limit', String(query.limit), PAGE_SIZES.map((size) => [String(size), String(size)] as const), 'Default')}
<div class="filter-actions">
<button type="submit" class="button">Apply filters</button>
<a href="/backoffice/transactions" class="button ghost">Clear</a>
</div>
</fieldset>
</form>`;
}

function row(view: TransactionView): SafeHtml {
  const customer = view.customer as { email?: unknown; phone_number?: unknown } | undefined;
  const who = customer?.email ?? customer?.phone_number ?? '';
  return html`<tr>
<td class="nowrap">${shortTime(view.created_at)}</td>
<td><a href="/backoffice/transactions/${view.id}">${view.merchant_reference}</a><div class="sub mono">${view.id}</div></td>
<td class="ellipsis">${String(who)}</td>
<td class="nowrap">${productLabel(view.payment_product_type)}</td>
<td>${statusBadge(view.status)}</td>
<td class="num nowrap">${formatMoney(view.amount, view.currency)}</td>
</tr>`;
}

export function renderTransactionsPage(input: TransactionsPageInput): string {
  const { query, rows } = input;
  const exportParams = filterParams(query.form);
  exportParams.delete('limit');
  const exportHref = `/backoffice/transactions.csv${exportParams.size > 0 ? `?${exportParams.toString()}` : ''}`;
  const previous = previousPageHref(query);
  const last = rows[rows.length - 1];
  const problems = [...query.errors, ...(input.error ? [input.error] : [])];
  const pageNumber = query.startingAfter === undefined ? 1 : query.trail.length + 2;
  const table =
    rows.length === 0
      ? html`<p class="empty" role="status">${problems.length > 0 ? 'Fix the filters above to see transactions.' : 'No transactions match these filters.'}</p>`
      : html`<div class="table-wrap"><table class="list">
<caption class="visually-hidden">Transactions, newest first</caption>
<thead><tr><th scope="col">Created (UTC)</th><th scope="col">Merchant reference</th><th scope="col">Customer</th><th scope="col">Payment product</th><th scope="col">Status</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>
${rows.map(row)}
</tbody>
</table></div>`;
  return renderPage({
    title: 'Transactions',
    staff: input.staff,
    section: 'transactions',
    path: input.path,
    body: html`<div class="page-head">
<h1>Transactions</h1>
<a class="button" href="${exportHref}" download>Export CSV</a>
</div>
${filters(query)}
${problems.length > 0 ? html`<div class="alert" role="alert"><p>${problems.length === 1 ? problems[0] : 'Some filters need fixing:'}</p>${problems.length > 1 ? html`<ul>${problems.map((problem) => html`<li>${problem}</li>`)}</ul>` : ''}</div>` : ''}
${table}
<nav class="pager" aria-label="Pages">
<span class="muted">Page ${pageNumber}${rows.length > 0 ? html` · ${rows.length} shown` : ''}</span>
${pageNumber > 2 ? html`<a class="button ghost" href="${firstPageHref(query)}">First page</a>` : ''}
${previous !== undefined ? html`<a class="button" href="${previous}" rel="prev">Previous</a>` : ''}
${input.hasMore && last ? html`<a class="button" href="${nextPageHref(query, last.id)}" rel="next">Next page</a>` : ''}
</nav>`,
  });
}
