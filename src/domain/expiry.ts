/**
 * Authorization expiry, derived from stored facts and the (account's) clock, so that
 * correctness never depends on a background sweeper.
 *
 * Invariants: an expiry never exceeds the product's ceiling (Klarna: 180 days after
 * authorization); Klarna auto-extends by 28 days when 5 days remain (day 23 of 28),
 * so the effective expiry at `now` is the nominal expiry plus 23 days per extension
 * point already reached.
 */
import type { PaymentProductType } from './products.js';
import { capabilitiesOf } from './products.js';

export const DAY_MS = 24 * 60 * 60 * 1000;
const KLARNA_WINDOW_DAYS = 28;
const KLARNA_EXTEND_BEFORE_DAYS = 5;

export function addDays(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * DAY_MS).toISOString();
}

function minIso(a: string, b: string | null): string {
  return b !== null && Date.parse(b) < Date.parse(a) ? b : a;
}

/** The ceiling no extension may pass, or null for products without one. */
export function authorizationCeiling(type: PaymentProductType, authorizedAt: string): string | null {
  const max = capabilitiesOf(type).maxAuthorizationDays;
  return max === null ? null : addDays(authorizedAt, max);
}

/** Nominal expiry of a fresh authorization window that starts at `start`. */
export function freshExpiry(type: PaymentProductType, authorizedAt: string, start: string): string | null {
  const days = capabilitiesOf(type).authorizationDays;
  if (days === null) return null;
  return minIso(addDays(start, days), authorizationCeiling(type, authorizedAt));
}

/**
 * Klarna: the remainder after a partial capture gets a fresh window from `now`, but never a
 * shorter one than it already has (e.g. after an explicit extension).
 */
export function renewedExpiry(type: PaymentProductType, authorizedAt: string, nominalExpiry: string | null, now: string): string | null {
  const fresh = freshExpiry(type, authorizedAt, now);
  if (fresh === null || nominalExpiry === null) return fresh;
  return Date.parse(nominalExpiry) > Date.parse(fresh) ? nominalExpiry : fresh;
}

/** The expiry in force at `now`, applying Klarna's automatic extensions. */
export function effectiveExpiry(
  type: PaymentProductType,
  authorizedAt: string | null,
  nominalExpiry: string | null,
  now: string,
): string | null {
  if (nominalExpiry === null || authorizedAt === null || type !== 'klarna.klarna') return nominalExpiry;
  const firstExtension = Date.parse(nominalExpiry) - KLARNA_EXTEND_BEFORE_DAYS * DAY_MS;
  const elapsed = Date.parse(now) - firstExtension;
  if (elapsed < 0) return nominalExpiry;
  const ceiling = authorizationCeiling(type, authorizedAt);
  if (ceiling === null) return nominalExpiry;
  const step = (KLARNA_WINDOW_DAYS - KLARNA_EXTEND_BEFORE_DAYS) * DAY_MS;
  const extensions = Math.floor(elapsed / step) + 1;
  return minIso(new Date(Date.parse(nominalExpiry) + extensions * step).toISOString(), ceiling);
}

export function isExpired(expiry: string | null, now: string): boolean {
  return expiry !== null && Date.parse(now) >= Date.parse(expiry);
}

/** Explicit extension (update authorization without amount): 28 more days, within the ceiling. */
export function extendedExpiry(type: PaymentProductType, authorizedAt: string, currentExpiry: string): string {
  return minIso(addDays(currentExpiry, KLARNA_WINDOW_DAYS), authorizationCeiling(type, authorizedAt));
}
