/**
 * Money is an integer number of the currency's minor unit (NOK 100.00 = 10000).
 *
 * Invariants: every amount is a safe integer ≥ 0; sums are checked so a total never
 * silently loses precision. There is no floating point arithmetic on amounts anywhere.
 */
import { KasseError } from './errors.js';

export type Amount = number;

export function isAmount(value: unknown): value is Amount {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Adds amounts, refusing a total that is no longer exactly representable. */
export function addAmounts(...amounts: readonly Amount[]): Amount {
  let total = 0;
  for (const amount of amounts) {
    total += amount;
    if (!Number.isSafeInteger(total)) throw new KasseError('AMOUNT_OVERFLOW');
  }
  return total;
}

export function sumAmounts<T>(values: readonly T[], amountOf: (value: T) => Amount): Amount {
  return addAmounts(...values.map(amountOf));
}

/** ISO 4217 minor-unit exponents that differ from 2. Used only for display. */
const exponents: Record<string, number> = {
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0,
  RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
};

export function currencyExponent(currency: string): number {
  return exponents[currency] ?? 2;
}

/** Formats minor units as a decimal string (12345 NOK → "123.45") without floats. */
export function formatAmount(amount: Amount, currency: string): string {
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(amount);
  const digits = String(amount).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * Parses an amount as staff type it, in the currency's major unit ("1234.50", "1 234,50",
 * "400") into minor units (123450), by exact decimal string arithmetic — never through a
 * float. One decimal mark ('.' or ','), spaces as digit grouping, no sign, at most the
 * currency's decimals (trailing zeros beyond them are accepted: "100.00" JPY is 100).
 * Ambiguous text such as "1,234.50" is refused rather than guessed.
 */
export function parseDecimalAmount(text: string, currency: string): Amount {
  const exponent = currencyExponent(currency);
  const compact = text.replace(/[\s\u00a0\u202f]/g, '');
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(compact);
  if (match === null) {
    throw new KasseError('INVALID_AMOUNT', `"${text.trim()}" is not an amount: write digits with at most one decimal mark, such as 1234.50.`);
  }
  const whole = match[1]!;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > exponent) {
    throw new KasseError('INVALID_AMOUNT', `"${text.trim()}" has more decimals than ${currency} allows (${exponent}).`);
  }
  const minor = BigInt(whole) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw new KasseError('AMOUNT_OVERFLOW');
  return Number(minor);
}
