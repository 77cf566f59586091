import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, csvLine, csvRow, csvText } from './csv.js';
import type { TransactionView } from '../services/transaction-view.js';

describe('CSV', () => {
  it('quotes only what needs quoting and doubles quotes (RFC 4180)', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\rhere'), '"cr\rhere"');
    assert.equal(csvLine(['a', 'b']), 'a,b\r\n');
  });

  it('neutralises text a spreadsheet would run as a formula', () => {
    for (const text of ['=1+1', '+47 912', '-2', '@SUM(A1)', '\tx', '\rx']) assert.ok(csvText(text).replace(/^"/, '').startsWith("'"), JSON.stringify(text));
    assert.equal(csvText('order-1'), 'order-1');
    assert.equal(csvText(undefined), '');
    assert.equal(csvText('=a,b'), `"'=a,b"`);
  });

  it('writes amounts as exact decimal strings in the currency unit', () => {
    const view = {
      id: 'T00000001.x',
      session_id: 'T00000001.s',
      created_at: '2026-01-01T00:00:00.000Z',
      merchant_reference: 'r',
      status: 'CAPTURED',
      payment_product_type: 'vipps',
      currency: 'NOK',
      amount: Number.MAX_SAFE_INTEGER,
      captured_amount: 5,
      refunded_amount: 0,
      voided_amount: 0,
      remaining_capture_amount: 0,
      remaining_refund_amount: 5,
      authorization_expires_at: null,
      customer: { email: 'a@b.no', phone_number: '+4712345678' },
    } as unknown as TransactionView;
    assert.equal(csvRow(view), "T00000001.x,2026-01-01T00:00:00.000Z,r,,CAPTURED,vipps,NOK,90071992547409.91,0.05,0.00,0.00,0.00,0.05,a@b.no,'+4712345678,T00000001.s,\r\n");
    assert.match(csvRow({ ...view, currency: 'JPY', amount: 1500 } as TransactionView), /,JPY,1500,5,0,0,0,5,/);
  });
});
