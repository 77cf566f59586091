import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KasseError } from './errors.js';
import { addAmounts, currencyExponent, formatAmount, isAmount, sumAmounts } from './money.js';

const isOverflow = (error: unknown): boolean => error instanceof KasseError && error.code === 'AMOUNT_OVERFLOW';

describe('addAmounts', () => {
  it('adds exactly', () => {
    assert.equal(addAmounts(), 0);
    assert.equal(addAmounts(10000, 2550, 1), 12551);
    assert.equal(addAmounts(Number.MAX_SAFE_INTEGER - 1, 1), Number.MAX_SAFE_INTEGER);
  });

  it('refuses a total that is no longer a safe integer (AMOUNT_OVERFLOW)', () => {
    assert.throws(() => addAmounts(Number.MAX_SAFE_INTEGER, 1), isOverflow);
    assert.throws(() => addAmounts(2 ** 52, 2 ** 52), isOverflow);
    assert.throws(() => addAmounts(1, Number.MAX_SAFE_INTEGER, -5), isOverflow, 'an intermediate overflow is not hidden by a later term');
  });

  it('sumAmounts sums a field and checks overflow too', () => {
    assert.equal(sumAmounts([{ amount: 600 }, { amount: 400 }], (item) => item.amount), 1000);
    assert.equal(sumAmounts([], (item: { amount: number }) => item.amount), 0);
    assert.throws(() => sumAmounts([{ amount: Number.MAX_SAFE_INTEGER }, { amount: 1 }], (item) => item.amount), isOverflow);
  });
});

describe('isAmount', () => {
  it('accepts non-negative safe integers only', () => {
    for (const value of [0, 1, 10000, Number.MAX_SAFE_INTEGER]) assert.equal(isAmount(value), true, String(value));
    for (const value of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, '100', null]) {
      assert.equal(isAmount(value), false, String(value));
    }
  });
});

describe('formatAmount', () => {
  it('NOK has two decimals', () => {
    assert.equal(currencyExponent('NOK'), 2);
    assert.equal(formatAmount(12345, 'NOK'), '123.45');
    assert.equal(formatAmount(10000, 'NOK'), '100.00');
    assert.equal(formatAmount(5, 'NOK'), '0.05');
    assert.equal(formatAmount(0, 'NOK'), '0.00');
  });

  it('JPY has none', () => {
    assert.equal(currencyExponent('JPY'), 0);
    assert.equal(formatAmount(12345, 'JPY'), '12345');
    assert.equal(formatAmount(0, 'JPY'), '0');
  });

  it('KWD has three', () => {
    assert.equal(currencyExponent('KWD'), 3);
    assert.equal(formatAmount(12345, 'KWD'), '12.345');
    assert.equal(formatAmount(5, 'KWD'), '0.005');
    assert.equal(formatAmount(1000, 'KWD'), '1.000');
  });

  it('stays exact for the largest amount', () => {
    assert.equal(formatAmount(Number.MAX_SAFE_INTEGER, 'NOK'), '90071992547409.91');
  });
});
