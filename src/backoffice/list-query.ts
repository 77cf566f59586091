/**
 * The transaction list's query string: §7.6's filters as staff type them (amounts in the
 * currency's major unit, dates as days), turned into the list service's filter, plus
 * keyset paging links.
 *
 * Paging only ever goes forward with `starting_after` (no OFFSET, so page 1 000 is as fast
 * as page 1). "Previous" works by carrying the cursors of the pages before in `prev`;
 * the trail keeps the last MAX_TRAIL of them.
 */
import { isKasseError } from '../domain/errors.js';
import { resourceIdPattern } from '../domain/ids.js';
import { parseDecimalAmount } from '../domain/money.js';
import { isPaymentProductType } from '../domain/products.js';
import { isTransactionStatus } from '../domain/status.js';
import type { TransactionFilter } from '../store/store.js';

export const PAGE_SIZES = [25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 50;
const MAX_TRAIL = 50;

/** The filter fields as typed, to refill the form and to build links. */
export interface ListForm {
  readonly search: string;
  readonly status: string;
  readonly payment_product_type: string;
  readonly currency: string;
  readonly merchant_reference: string;
  readonly amount_from: string;
  readonly amount_to: string;
  readonly created_from: string;
  readonly created_to: string;
  readonly limit: string;
}

export type ServiceFilter = Omit<TransactionFilter, 'accountId' | 'limit' | 'startingAfter'>;

export interface ListQuery {
  readonly form: ListForm;
  readonly filter: ServiceFilter;
  readonly limit: number;
  readonly startingAfter?: string;
  /** Cursors of the pages before this one (the first page has none). */
  readonly trail: readonly string[];
  /** Problems with what was typed; the list is not run when there are any. */
  readonly errors: readonly string[];
}

export type RawQuery = Record<string, string | string[] | undefined>;

function first(query: RawQuery, name: string): string {
  const value = query[name];
  return (Array.isArray(value) ? (value[0] ?? '') : (value ?? '')).trim().slice(0, 200);
}

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

function dayBound(text: string, end: boolean): string | undefined {
  if (!dayPattern.test(text)) return undefined;
  const iso = `${text}T${end ? '23:59:59.999' : '00:00:00.000'}Z`;
  const parsed = Date.parse(iso);
  return Number.isFinite(parsed) && new Date(parsed).toISOString() === iso ? iso : undefined;
}

export function parseListQuery(query: RawQuery): ListQuery {
  const form: ListForm = {
    search: first(query, 'search'),
    status: first(query, 'status'),
    payment_product_type: first(query, 'payment_product_type'),
    currency: first(query, 'currency').toUpperCase(),
    merchant_reference: first(query, 'merchant_reference'),
    amount_from: first(query, 'amount_from'),
    amount_to: first(query, 'amount_to'),
    created_from: first(query, 'created_from'),
    created_to: first(query, 'created_to'),
    limit: first(query, 'limit'),
  };
  const errors: string[] = [];
  const filter: { -readonly [K in keyof ServiceFilter]: ServiceFilter[K] } = {};
  if (form.search !== '') filter.search = form.search;
  if (form.status !== '') {
    if (isTransactionStatus(form.status)) filter.status = [form.status];
    else errors.push(`Unknown status ${form.status}.`);
  }
  if (form.payment_product_type !== '') {
    if (isPaymentProductType(form.payment_product_type)) filter.paymentProductType = [form.payment_product_type];
    else errors.push(`Unknown payment product ${form.payment_product_type}.`);
  }
  if (form.currency !== '') {
    if (/^[A-Z]{3}$/.test(form.currency)) filter.currency = [form.currency];
    else errors.push('Currency must be a three-letter code such as NOK.');
  }
  if (form.merchant_reference !== '') filter.merchantReference = form.merchant_reference;
  // Amounts are typed in the chosen currency's major unit (two decimals when none is chosen).
  const unitCurrency = filter.currency?.[0] ?? 'XXX';
  for (const [field, label, key] of [
    ['amount_from', 'Amount from', 'amountGte'],
    ['amount_to', 'Amount to', 'amountLte'],
  ] as const) {
    if (form[field] === '') continue;
    try {
      filter[key] = parseDecimalAmount(form[field], unitCurrency);
    } catch (error) {
      if (!isKasseError(error)) throw error;
      errors.push(`${label}: ${error.message}`);
    }
  }
  for (const [field, label, key, end] of [
    ['created_from', 'Created from', 'createdAtGte', false],
    ['created_to', 'Created to', 'createdAtLte', true],
  ] as const) {
    if (form[field] === '') continue;
    const bound = dayBound(form[field], end);
    if (bound === undefined) errors.push(`${label} must be a date such as 2026-03-01.`);
    else filter[key] = bound;
  }
  const size = Number(form.limit);
  const limit = (PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_PAGE_SIZE;
  const cursor = first(query, 'starting_after');
  if (cursor !== '' && !resourceIdPattern.test(cursor)) errors.push('The page cursor is not a transaction id.');
  const trail = first(query, 'prev')
    .split(',')
    .filter((id) => resourceIdPattern.test(id))
    .slice(-MAX_TRAIL);
  return { form, filter, limit, ...(cursor !== '' && resourceIdPattern.test(cursor) ? { startingAfter: cursor } : {}), trail, errors };
}

/** The query string for the same filters (no paging), e.g. for the CSV link. */
export function filterParams(form: ListForm): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) {
    if (value !== '' && !(name === 'limit' && Number(value) === DEFAULT_PAGE_SIZE)) params.set(name, value);
  }
  return params;
}

function withPaging(form: ListForm, startingAfter: string | undefined, trail: readonly string[]): string {
  const params = filterParams(form);
  if (startingAfter !== undefined) params.set('starting_after', startingAfter);
  if (trail.length > 0) params.set('prev', trail.join(','));
  const text = params.toString();
  return `/backoffice/transactions${text ? `?${text}` : ''}`;
}

export function nextPageHref(query: ListQuery, lastId: string): string {
  const trail = query.startingAfter === undefined ? [] : [...query.trail, query.startingAfter].slice(-MAX_TRAIL);
  return withPaging(query.form, lastId, trail);
}

/** Undefined on the first page. */
export function previousPageHref(query: ListQuery): string | undefined {
  if (query.startingAfter === undefined) return undefined;
  const trail = [...query.trail];
  const previous = trail.pop();
  return withPaging(query.form, previous, trail);
}

export function firstPageHref(query: ListQuery): string {
  return withPaging(query.form, undefined, []);
}
