import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { html, trusted } from './html.js';
import { niceStep, columnChart } from './charts.js';

describe('html templates', () => {
  it('escape every interpolated value unless it is already markup', () => {
    const name = '<img src=x onerror=alert(1)> & "quotes" \'too\'';
    assert.equal(html`<p title="${name}">${name}</p>`.value, '<p title="&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot; &#39;too&#39;">&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot; &#39;too&#39;</p>');
    assert.equal(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.value, '<ul>&lt;a&gt;<li>ok</li></ul>');
    assert.equal(html`${null}${undefined}${false}${0}`.value, '0');
    assert.equal(html`${trusted('<b>')}`.value, '<b>');
  });
});

describe('charts', () => {
  it('pick integer axis steps so tick labels are exact', () => {
    assert.equal(niceStep(0, 4), 1);
    assert.equal(niceStep(3, 4), 1);
    assert.equal(niceStep(17, 4), 5);
    assert.equal(niceStep(80, 4), 20);
    assert.equal(niceStep(4_321_000, 4), 2_000_000);
    for (const max of [5, 99, 1001, 123457, 98765432]) {
      const step = niceStep(max, 4);
      assert.ok(Number.isInteger(step) && step * 4 >= max, `${max} → ${step}`);
    }
  });

  it('draw accessible SVG with escaped labels', () => {
    const svg = columnChart({ id: 'c', title: 'Volume <x>', description: 'd', bars: [{ label: '01.03', value: 5, title: 'a & b' }], axisLabel: String }).value;
    assert.match(svg, /^<svg class="chart" viewBox="0 0 720 240" role="img" aria-labelledby="c-title c-desc"/);
    assert.match(svg, /<title id="c-title">Volume &lt;x&gt;<\/title>/);
    assert.match(svg, /<title>a &amp; b<\/title>/);
    assert.doesNotMatch(svg, /style=/);
  });
});
