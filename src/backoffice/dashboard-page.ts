/** The dashboard: volume and counts per day and the status mix of the selected account. */
import { formatAmount } from '../domain/money.js';
import type { DashboardStats } from '../services/backoffice.js';
import { columnChart, shareChart } from './charts.js';
import { formatMoney, statusLabel } from './format.js';
import { attr, html } from './html.js';
import { renderPage, type Staff } from './layout.js';

export const DASHBOARD_RANGES = [7, 30, 90] as const;

export interface DashboardPageInput {
  readonly staff: Staff;
  readonly stats: DashboardStats;
  readonly days: number;
  readonly currency: string | undefined;
  readonly path: string;
}

const tones: Record<string, string> = {
  AUTHORIZED: 'tone-info',
  CAPTURED: 'tone-good',
  PARTIALLY_CAPTURED: 'tone-partial',
  PARTIALLY_CAPTURED_REFUNDED: 'tone-partial',
  PARTIALLY_REFUNDED: 'tone-partial',
  REFUNDED: 'tone-closed',
  AUTHORIZATION_VOIDED: 'tone-closed',
  DECLINED: 'tone-bad',
  FAILED: 'tone-bad',
};

const compact = new Intl.NumberFormat('en-GB', { notation: 'compact', maximumFractionDigits: 1 });

/** Axis label for minor units: the exact decimal string, shortened ("12.5K"). */
function compactMoney(minor: number, currency: string): string {
  return compact.format(formatAmount(minor, currency) as unknown as number);
}

function shortDay(day: string): string {
  return `${day.slice(8, 10)}.${day.slice(5, 7)}`;
}

export function renderDashboardPage(input: DashboardPageInput): string {
  const { stats, currency } = input;
  const totals = stats.currencies.find((entry) => entry.currency === currency);
  const volumeBars = stats.days.map((day) => {
    const volume = currency ? day.volume.get(currency) : undefined;
    const amount = volume?.amount ?? 0;
    return {
      label: shortDay(day.day),
      value: amount,
      title: `${day.day}: ${currency ? formatMoney(amount, currency) : '0'} authorized, ${currency ? formatMoney(volume?.captured ?? 0, currency) : '0'} captured`,
    };
  });
  const countBars = stats.days.map((day) => ({ label: shortDay(day.day), value: day.count, title: `${day.day}: ${day.count} transactions` }));
  const range = html`<nav class="segmented" aria-label="Period">
${DASHBOARD_RANGES.map(
  (days) =>
    html`<a href="/backoffice/dashboard?days=${days}${currency ? `&currency=${currency}` : ''}"${days === input.days ? html` aria-current="page"` : ''}>${days} days</a>`,
)}
</nav>`;
  const currencyPicker =
    stats.currencies.length > 1
      ? html`<form method="get" action="/backoffice/dashboard" class="inline-form">
<input type="hidden" name="days" value="${input.days}">
<label for="d-currency">Currency</label>
<select id="d-currency" name="currency" data-autosubmit>
${stats.currencies.map((entry) => html`<option value="${entry.currency}"${attr('selected', entry.currency === currency)}>${entry.currency}</option>`)}
</select>
<button type="submit" class="button small" data-js-hide>Show</button>
</form>`
      : '';
  const tiles = html`<dl class="tiles">
<div><dt>Transactions</dt><dd>${stats.count.toLocaleString('en-GB')}</dd></div>
<div><dt>Authorized${currency ? ` (${currency})` : ''}</dt><dd>${totals ? formatMoney(totals.amount, totals.currency) : '—'}</dd></div>
<div><dt>Captured${currency ? ` (${currency})` : ''}</dt><dd>${totals ? formatMoney(totals.captured, totals.currency) : '—'}</dd></div>
<div><dt>Refunded${currency ? ` (${currency})` : ''}</dt><dd>${totals ? formatMoney(totals.refunded, totals.currency) : '—'}</dd></div>
</dl>`;
  const body = html`<div class="page-head">
<div><h1>Dashboard</h1><p class="muted">Transactions created ${stats.from.slice(0, 10)} to ${stats.days[stats.days.length - 1]?.day ?? ''} (UTC), account ${input.staff.accountId}.</p></div>
<div class="head-tools">${currencyPicker}${range}</div>
</div>
${tiles}
<div class="charts">
<section class="card" aria-labelledby="volume-h">
<h2 id="volume-h">Volume per day${currency ? html` <span class="muted">${currency}, authorized</span>` : ''}</h2>
${columnChart({
  id: 'volume',
  title: `Authorized volume per day${currency ? ` in ${currency}` : ''}`,
  description: `Bars for each day from ${stats.days[0]?.day ?? ''} to ${stats.days[stats.days.length - 1]?.day ?? ''}; the table below has the figures.`,
  bars: volumeBars,
  axisLabel: (value) => (currency ? compactMoney(value, currency) : String(value)),
})}
</section>
<section class="card" aria-labelledby="count-h">
<h2 id="count-h">Transactions per day <span class="muted">all currencies</span></h2>
${columnChart({
  id: 'count',
  title: 'Number of transactions per day',
  description: 'Bars for each day; the table below has the figures.',
  bars: countBars,
  axisLabel: (value) => compact.format(value),
  tone: 'tone-count',
})}
</section>
<section class="card" aria-labelledby="mix-h">
<h2 id="mix-h">Status mix</h2>
${
  stats.statuses.length === 0
    ? html`<p class="muted">No transactions in this period.</p>`
    : shareChart({
        id: 'mix',
        title: 'Transactions by status',
        description: stats.statuses.map((entry) => `${statusLabel(entry.status)}: ${entry.count}`).join(', '),
        shares: stats.statuses.map((entry) => ({ label: statusLabel(entry.status), count: entry.count, tone: tones[entry.status] ?? 'tone-pending' })),
      })
}
</section>
${
  stats.currencies.length > 0
    ? html`<section class="card" aria-labelledby="currencies-h">
<h2 id="currencies-h">By currency</h2>
<div class="table-wrap"><table class="compact">
<thead><tr><th scope="col">Currency</th><th scope="col" class="num">Count</th><th scope="col" class="num">Authorized</th><th scope="col" class="num">Captured</th><th scope="col" class="num">Refunded</th></tr></thead>
<tbody>${stats.currencies.map(
        (entry) =>
          html`<tr><th scope="row">${entry.currency}</th><td class="num">${entry.count.toLocaleString('en-GB')}</td><td class="num nowrap">${formatMoney(entry.amount, entry.currency)}</td><td class="num nowrap">${formatMoney(entry.captured, entry.currency)}</td><td class="num nowrap">${formatMoney(entry.refunded, entry.currency)}</td></tr>`,
      )}</tbody>
</table></div>
</section>`
    : ''
}
</div>
<details class="card figures-table">
<summary>Figures per day</summary>
<div class="table-wrap"><table class="compact">
<thead><tr><th scope="col">Day (UTC)</th><th scope="col" class="num">Transactions</th>${currency ? html`<th scope="col" class="num">Authorized ${currency}</th><th scope="col" class="num">Captured ${currency}</th>` : ''}</tr></thead>
<tbody>${[...stats.days].reverse().map((day) => {
    const volume = currency ? day.volume.get(currency) : undefined;
    return html`<tr><th scope="row">${day.day}</th><td class="num">${day.count}</td>${currency ? html`<td class="num">${formatMoney(volume?.amount ?? 0, currency)}</td><td class="num">${formatMoney(volume?.captured ?? 0, currency)}</td>` : ''}</tr>`;
  })}</tbody>
</table></div>
</details>`;
  return renderPage({ title: 'Dashboard', staff: input.staff, section: 'dashboard', path: input.path, body });
}
