/**
 * Charts as inline SVG drawn on the server: nothing to download, no script, readable by
 * screen readers (role="img" with a title and description; the pages add the figures as a
 * table). Colours and fonts come from the stylesheet, since the CSP forbids inline styles.
 * Values are integers (counts, minor units); only pixel positions are fractional.
 */
import { html, type SafeHtml } from './html.js';

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Tooltip text, e.g. "2026-03-01: NOK 1,234.00". */
  readonly title: string;
}

/** An integer step (1, 2 or 5 × 10^k) so that `ticks` steps reach at least `max`. */
export function niceStep(max: number, ticks: number): number {
  if (max <= ticks) return 1;
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    const step = factor * power;
    if (step >= raw && Number.isInteger(step)) return step;
  }
  return 10 * power;
}

const px = (value: number) => Math.round(value * 10) / 10;

export function columnChart(input: {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly bars: readonly Bar[];
  readonly axisLabel: (value: number) => string;
  readonly tone?: string;
}): SafeHtml {
  const width = 720;
  const height = 240;
  const left = 64;
  const right = 12;
  const top = 14;
  const bottom = 30;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const ticks = 4;
  const max = Math.max(0, ...input.bars.map((bar) => bar.value));
  const step = niceStep(max, ticks);
  const ceiling = step * ticks;
  const slot = plotWidth / Math.max(1, input.bars.length);
  const barWidth = Math.max(2, slot * 0.72);
  const labelEvery = Math.max(1, Math.ceil(input.bars.length / 8));
  const grid = Array.from({ length: ticks + 1 }, (_, index) => {
    const value = step * index;
    const y = px(top + plotHeight - (value / ceiling) * plotHeight);
    return html`<line class="grid" x1="${left}" x2="${width - right}" y1="${y}" y2="${y}"></line><text class="axis" x="${left - 8}" y="${px(y + 4)}" text-anchor="end">${input.axisLabel(value)}</text>`;
  });
  const bars = input.bars.map((bar, index) => {
    const h = ceiling === 0 ? 0 : (bar.value / ceiling) * plotHeight;
    const x = px(left + index * slot + (slot - barWidth) / 2);
    const label =
      index % labelEvery === 0
        ? html`<text class="axis" x="${px(left + index * slot + slot / 2)}" y="${height - 10}" text-anchor="middle">${bar.label}</text>`
        : '';
    return html`<g><rect class="bar ${input.tone ?? ''}" x="${x}" y="${px(top + plotHeight - h)}" width="${px(barWidth)}" height="${px(h)}" rx="2"><title>${bar.title}</title></rect>${label}</g>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${input.id}-title ${input.id}-desc" preserveAspectRatio="xMidYMid meet">
<title id="${input.id}-title">${input.title}</title>
<desc id="${input.id}-desc">${input.description}</desc>
${grid}
<line class="baseline" x1="${left}" x2="${width - right}" y1="${top + plotHeight}" y2="${top + plotHeight}"></line>
${bars}
</svg>`;
}

export interface Share {
  readonly label: string;
  readonly count: number;
  /** A CSS class for the bar's colour. */
  readonly tone: string;
}

/** Horizontal bars, one per category, with count and percentage. */
export function shareChart(input: { readonly id: string; readonly title: string; readonly description: string; readonly shares: readonly Share[] }): SafeHtml {
  const width = 520;
  const rowHeight = 30;
  const labelWidth = 190;
  const valueWidth = 110;
  const height = Math.max(1, input.shares.length) * rowHeight + 8;
  const total = input.shares.reduce((sum, share) => sum + share.count, 0);
  const max = Math.max(1, ...input.shares.map((share) => share.count));
  const plot = width - labelWidth - valueWidth;
  const rows = input.shares.map((share, index) => {
    const y = 4 + index * rowHeight;
    const w = px((share.count / max) * plot);
    const percent = total === 0 ? 0 : Math.round((share.count * 1000) / total) / 10;
    return html`<g>
<text class="label" x="0" y="${y + 19}">${share.label}</text>
<rect class="track" x="${labelWidth}" y="${y + 6}" width="${plot}" height="16" rx="3"></rect>
<rect class="bar ${share.tone}" x="${labelWidth}" y="${y + 6}" width="${Math.max(w, share.count > 0 ? 2 : 0)}" height="16" rx="3"><title>${share.label}: ${share.count} (${percent} %)</title></rect>
<text class="value" x="${width}" y="${y + 19}" text-anchor="end">${share.count.toLocaleString('en-GB')} · ${percent} %</text>
</g>`;
  });
  return html`<svg class="chart share" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${input.id}-title ${input.id}-desc">
<title id="${input.id}-title">${input.title}</title>
<desc id="${input.id}-desc">${input.description}</desc>
${rows}
</svg>`;
}
