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
