/**
 * A session's `url.callback_url` and the options Dintero reads from its own query:
 *
 * - `method=POST`: POST the transaction as a JSON body (default GET, no body);
 * - `report_event=CAPTURE|REFUND|VOID` (repeatable): also call on those events, with `event` and `event_id`;
 * - `report_error=true`: also call when the payment failed, with `error`;
 * - `delay_callback=<seconds>`: wait before the first attempt (Dintero's maximum, 60 s, applies);
 * - `sid_parameter_name=<name>`: send the session id under that name instead of `session_id`.
 *
 * The options stay in the URL that is called, as Dintero leaves them; the callback's own
 * parameters (`transaction_id`, `merchant_reference`, `time`...) are set on top.
 */
import { KasseError } from '../domain/errors.js';

export const reportableEvents = ['CAPTURE', 'REFUND', 'VOID'] as const;
export type ReportableEvent = (typeof reportableEvents)[number];

export const MAX_CALLBACK_DELAY_SECONDS = 60;

export interface CallbackOptions {
  readonly method: 'GET' | 'POST';
  readonly reportEvents: ReadonlySet<ReportableEvent>;
  readonly reportError: boolean;
  readonly delaySeconds: number;
  readonly sessionIdParameter: string;
}

/** Parameters the callback sets itself; sid_parameter_name may not name one of them. */
const callbackParameters = new Set(['transaction_id', 'merchant_reference', 'time', 'event', 'event_id', 'error']);

function isReportable(value: string): value is ReportableEvent {
  return (reportableEvents as readonly string[]).includes(value);
}

function invalid(message: string): never {
  throw new KasseError('INVALID_REQUEST', `url.callback_url: ${message}`, { errors: [{ path: '/url/callback_url', message }] });
}

/** Refuses option values Kasse would otherwise have to guess about (called when a session is created). */
export function checkCallbackOptions(url: URL): void {
  const query = url.searchParams;
  for (const value of query.getAll('report_event')) {
    if (!isReportable(value.toUpperCase())) invalid(`report_event must be one of ${reportableEvents.join(', ')}, not ${JSON.stringify(value)}.`);
  }
  const delay = query.get('delay_callback');
  if (delay !== null && !/^\d{1,9}$/.test(delay)) invalid('delay_callback must be a whole number of seconds.');
  const method = query.get('method');
  if (method !== null && !/^(GET|POST)$/i.test(method)) invalid('method must be GET or POST.');
  const sid = query.get('sid_parameter_name');
  if (sid !== null && (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(sid) || callbackParameters.has(sid))) {
    invalid('sid_parameter_name must be a plain parameter name such as sid, and not one the callback sets itself.');
  }
  const reportError = query.get('report_error');
  if (reportError !== null && !/^(true|false)$/i.test(reportError)) invalid('report_error must be true or false.');
}

/** The options of a callback URL; lenient, for URLs accepted earlier. */
export function callbackOptions(url: URL): CallbackOptions {
  const query = url.searchParams;
  const reportEvents = new Set<ReportableEvent>();
  for (const value of query.getAll('report_event')) {
    const upper = value.toUpperCase();
    if (isReportable(upper)) reportEvents.add(upper);
  }
  const delay = Number(query.get('delay_callback') ?? 0);
  const sid = query.get('sid_parameter_name');
  return {
    method: query.get('method')?.toUpperCase() === 'POST' ? 'POST' : 'GET',
    reportEvents,
    reportError: query.get('report_error')?.toLowerCase() === 'true',
    delaySeconds: Number.isSafeInteger(delay) && delay > 0 ? Math.min(delay, MAX_CALLBACK_DELAY_SECONDS) : 0,
    sessionIdParameter: sid !== null && /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(sid) && !callbackParameters.has(sid) ? sid : 'session_id',
  };
}

export interface CallbackFields {
  readonly transactionId: string;
  readonly sessionId: string;
  readonly merchantReference: string;
  /** When the transaction was created (ISO 8601). */
  readonly time: string;
  readonly event?: string;
  readonly eventId?: string;
  readonly error?: string;
}

/** The URL a callback calls: the merchant's URL with the callback's parameters set. */
export function callbackRequestUrl(callbackUrl: URL, options: CallbackOptions, fields: CallbackFields): string {
  const url = new URL(callbackUrl.href);
  url.hash = '';
  const query = url.searchParams;
  query.set('transaction_id', fields.transactionId);
  query.set(options.sessionIdParameter, fields.sessionId);
  query.set('merchant_reference', fields.merchantReference);
  query.set('time', fields.time);
  if (fields.event !== undefined) query.set('event', fields.event);
  if (fields.eventId !== undefined) query.set('event_id', fields.eventId);
  if (fields.error !== undefined) query.set('error', fields.error);
  return url.href;
}
