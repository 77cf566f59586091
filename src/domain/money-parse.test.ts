import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KasseError } from './errors.js';
import { formatAmount, parseDecimalAmount } from './money.js';

const refusedWith = (code: string) => (error: unknown) => error instanceof KasseError && error.code === code;

describe('parseDecimalAmount (staff input in major units → minor units, no floats)', () => {
  it('reads NOK amounts with a point or a comma and spaces as grouping', () => {
    assert.equal(parseDecimalAmount('400', 'NOK'), 40000);
    assert.equal(parseDecimalAmount('400.5', 'NOK'), 40050);
    assert.equal(parseDecimalAmount('1234.56', 'NOK'), 123456);
    assert.equal(parseDecimalAmount('1 234,56', 'NOK'), 123456);
    assert.equal(parseDecimalAmount('1\u00a0234,56', 'NOK'), 123456);
    assert.equal(parseDecimalAmount(' 0.01 ', 'NOK'), 1);
    assert.equal(parseDecimalAmount('12.', 'NOK'), 1200);
    assert.equal(parseDecimalAmount('0', 'NOK'), 0);
  });

  it('is exact where a float is not (0.29 × 100 = 28.999999999999996)', () => {
    assert.notEqual(0.29 * 100, 29);
    assert.equal(parseDecimalAmount('0.29', 'NOK'), 29);
    assert.equal(parseDecimalAmount('1.15', 'NOK'), 115);
    assert.equal(parseDecimalAmount('4.35', 'NOK'), 435);
  });

  it('follows the currency exponent (JPY 0, KWD 3)', () => {
    assert.equal(parseDecimalAmount('1500', 'JPY'), 1500);
    assert.equal(parseDecimalAmount('1500.00', 'JPY'), 1500, 'trailing zeros beyond the exponent are harmless');
    assert.equal(parseDecimalAmount('1.234', 'KWD'), 1234);
    assert.equal(parseDecimalAmount('1.2', 'KWD'), 1200);
  });

  it('round-trips with formatAmount for every NOK amount in a range', () => {
    for (let minor = 0; minor < 3000; minor += 7) assert.equal(parseDecimalAmount(formatAmount(minor, 'NOK'), 'NOK'), minor);
    assert.equal(parseDecimalAmount(formatAmount(Number.MAX_SAFE_INTEGER, 'NOK'), 'NOK'), Number.MAX_SAFE_INTEGER);
  });

  it('refuses too many decimals instead of rounding', () => {
    assert.throws(() => parseDecimalAmount('12.345', 'NOK'), refusedWith('INVALID_AMOUNT'));
    assert.throws(() => parseDecimalAmount('1500.5', 'JPY'), refusedWith('INVALID_AMOUNT'));
    assert.throws(() => parseDecimalAmount('1,234', 'NOK'), refusedWith('INVALID_AMOUNT'), 'a comma is a decimal mark, never grouping');
  });

  it('refuses signs, ambiguity, exponents and words', () => {
    for (const text of ['', ' ', '-5', '+5', '1,234.50', '1.234,50', '1e3', '0x10', 'NaN', 'Infinity', '12 kr', '.5', '1..2', '١٢']) {
      assert.throws(() => parseDecimalAmount(text, 'NOK'), refusedWith('INVALID_AMOUNT'), JSON.stringify(text));
    }
  });

  it('refuses amounts beyond the safe integer range', () => {
    assert.throws(() => parseDecimalAmount('90071992547409.92', 'NOK'), refusedWith('AMOUNT_OVERFLOW'));
    assert.throws(() => parseDecimalAmount('1'.repeat(40), 'NOK'), refusedWith('AMOUNT_OVERFLOW'));
  });
});
