import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { firstPageHref, nextPageHref, parseListQuery, previousPageHref } from './list-query.js';

const A = 'T00000001.AAAAAAAAAAAAAAAAAAAAAA';
const B = 'T00000001.BBBBBBBBBBBBBBBBBBBBBB';
const C = 'T00000001.CCCCCCCCCCCCCCCCCCCCCC';

describe('parseListQuery', () => {
  it('turns typed filters into the list service filter', () => {
    const query = parseListQuery({
      search: ' kari@example.com ',
      status: 'CAPTURED',
      payment_product_type: 'klarna.klarna',
      currency: 'nok',
      merchant_reference: 'web-1',
      amount_from: '100',
      amount_to: '1 234,50',
      created_from: '2026-03-01',
      created_to: '2026-03-31',
      limit: '100',
    });
    assert.deepEqual(query.errors, []);
    assert.deepEqual(query.filter, {
      search: 'kari@example.com',
      status: ['CAPTURED'],
      paymentProductType: ['klarna.klarna'],
      currency: ['NOK'],
      merchantReference: 'web-1',
      amountGte: 10000,
      amountLte: 123450,
      createdAtGte: '2026-03-01T00:00:00.000Z',
      createdAtLte: '2026-03-31T23:59:59.999Z',
    });
    assert.equal(query.limit, 100);
  });

  it('reads amounts in the chosen currency unit', () => {
    assert.equal(parseListQuery({ currency: 'JPY', amount_from: '1500' }).filter.amountGte, 1500);
    assert.equal(parseListQuery({ currency: 'KWD', amount_from: '1.5' }).filter.amountGte, 1500);
  });

  it('reports what cannot be read instead of guessing', () => {
    const query = parseListQuery({ status: 'PAID', currency: 'kroner', amount_to: '1e3', created_from: '2026-02-30', payment_product_type: 'paypal', starting_after: 'x' });
    assert.equal(query.errors.length, 6);
    assert.equal(query.startingAfter, undefined);
  });

  it('falls back to the default page size', () => {
    assert.equal(parseListQuery({ limit: '1000000' }).limit, 50);
    assert.equal(parseListQuery({}).limit, 50);
  });
});

describe('keyset paging links', () => {
  it('Next carries the trail of earlier cursors; Previous walks it back to the first page', () => {
    const page1 = parseListQuery({ status: 'CAPTURED' });
    assert.equal(previousPageHref(page1), undefined);
    const page2 = parseListQuery(Object.fromEntries(new URL(`http://x${nextPageHref(page1, A)}`).searchParams));
    assert.equal(page2.startingAfter, A);
    assert.deepEqual(page2.trail, []);
    const page3 = parseListQuery(Object.fromEntries(new URL(`http://x${nextPageHref(page2, B)}`).searchParams));
    assert.equal(page3.startingAfter, B);
    assert.deepEqual(page3.trail, [A]);
    const page4 = parseListQuery(Object.fromEntries(new URL(`http://x${nextPageHref(page3, C)}`).searchParams));
    assert.deepEqual(page4.trail, [A, B]);
    assert.equal(previousPageHref(page4), `/backoffice/transactions?status=CAPTURED&starting_after=${encodeURIComponent(B)}&prev=${encodeURIComponent(A)}`);
    assert.equal(previousPageHref(page2), '/backoffice/transactions?status=CAPTURED', 'page 2 goes back to the first page');
    assert.equal(firstPageHref(page4), '/backoffice/transactions?status=CAPTURED');
  });
});
