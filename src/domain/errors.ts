/**
 * The one catalogue of every error the API can answer with.
 *
 * Each entry has a stable code (part of the public contract), an HTTP status and a
 * default message. Domain code raises these by code; the HTTP error handler turns them
 * into `{"error":{"code","message","errors"}}`. Nothing else invents error codes.
 */
export const errorCatalogue = {
  // 400: the request itself is wrong
  INVALID_REQUEST: { status: 400, message: 'The request does not match the expected shape.' },
  INVALID_AMOUNT: { status: 400, message: 'The amount must be a positive integer in minor units.' },
  AMOUNT_EXCEEDS_CAPTURABLE: { status: 400, message: 'The amount is larger than what remains to capture.' },
  AMOUNT_EXCEEDS_REFUNDABLE: { status: 400, message: 'The amount is larger than what remains to refund.' },
  AMOUNT_BELOW_CAPTURED: { status: 400, message: 'The new authorized amount is below what is already captured.' },
  ITEMS_AMOUNT_MISMATCH: { status: 400, message: 'The item amounts do not add up to the amount.' },
  ITEMS_REQUIRED: { status: 400, message: 'This operation needs the items it applies to.' },
  UNKNOWN_LINE_ID: { status: 400, message: 'An item names a line_id that the transaction does not have.' },
  DUPLICATE_LINE_ID: { status: 400, message: 'Each line_id may appear only once.' },
  LINE_AMOUNT_EXCEEDED: { status: 400, message: 'An item asks for more than remains on its line.' },
  WHOLE_LINES_REQUIRED: { status: 400, message: 'This payment product captures whole item lines only.' },
  CAPTURED_LINE_REMOVED: { status: 400, message: 'A line that is already captured must keep at least its captured amount.' },
  AMOUNT_OVERFLOW: { status: 400, message: 'The amounts add up to more than can be represented exactly.' },
  PAYMENT_PRODUCT_NOT_ENABLED: { status: 400, message: 'The session does not offer this payment product.' },
  UNKNOWN_PROFILE: { status: 400, message: 'The session profile does not exist.' },
  INVALID_AUDIENCE: { status: 400, message: 'The audience must name this account.' },
  UNSUPPORTED_GRANT_TYPE: { status: 400, message: 'Only grant_type client_credentials is supported.' },
  URL_NOT_ALLOWED: { status: 400, message: 'Kasse does not send to this URL: production accounts need https:// and a public address.' },
  // 401: who are you?
  UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required.' },
  INVALID_CLIENT: { status: 401, message: 'The client credentials are not valid.' },
  // 403: you may not
  INSUFFICIENT_SCOPE: { status: 403, message: 'The token does not have the scope this operation needs.' },
  // 404: not here (or not yours)
  NOT_FOUND: { status: 404, message: 'The resource does not exist.' },
  TRANSACTION_NOT_FOUND: { status: 404, message: 'The transaction does not exist.' },
  SESSION_NOT_FOUND: { status: 404, message: 'The session does not exist.' },
  // 409: not allowed now
  TRANSACTION_NOT_CAPTURABLE: { status: 409, message: 'The transaction cannot be captured in its current state.' },
  TRANSACTION_NOT_REFUNDABLE: { status: 409, message: 'The transaction has nothing captured left to refund.' },
  TRANSACTION_NOT_VOIDABLE: { status: 409, message: 'The transaction cannot be voided in its current state.' },
  AUTHORIZATION_NOT_UPDATABLE: { status: 409, message: 'The authorization cannot be updated in its current state.' },
  AUTHORIZATION_NOT_PENDING: { status: 409, message: 'Only an ON_HOLD or UNKNOWN authorization can be resolved.' },
  AUTHORIZATION_EXPIRED: { status: 409, message: 'The authorization has expired.' },
  OPERATION_NOT_SUPPORTED: { status: 409, message: 'The payment product does not support this operation.' },
  SESSION_NOT_PAYABLE: { status: 409, message: 'The session cannot be paid: it is paid, cancelled or expired.' },
  SESSION_NOT_CANCELLABLE: { status: 409, message: 'The session cannot be cancelled in its current state.' },
  PAYMENT_PRODUCT_UNAVAILABLE: { status: 409, message: 'No provider connector is configured for this payment product.' },
  SANDBOX_ONLY: { status: 409, message: 'This operation exists only for sandbox (T) accounts.' },
  IDEMPOTENCY_KEY_IN_USE: { status: 409, message: 'A request with this idempotency key is still in progress.' },
  DELIVERY_NOT_RESENDABLE: { status: 409, message: 'The delivery cannot be sent again: its webhook subscription was deleted.' },
  // 412, 413, 415, 422, 429
  PRECONDITION_FAILED: { status: 412, message: 'The transaction changed since the version named in If-Match.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be application/json.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'The idempotency key was used with a different request.' },
  TOO_MANY_REQUESTS: { status: 429, message: 'Too many requests; retry later.' },
  // 500: ours
  INTERNAL_ERROR: { status: 500, message: 'An unexpected error occurred.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/** A detail about one offending field or item. */
export interface ErrorDetail {
  readonly path?: string;
  readonly message: string;
}

/** An expected, catalogued failure. Thrown by domain and services, rendered by the HTTP layer. */
export class KasseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: readonly ErrorDetail[];
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message?: string, options: { errors?: ErrorDetail[]; headers?: Record<string, string> } = {}) {
    super(message ?? errorCatalogue[code].message);
    this.name = 'KasseError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.errors = options.errors ?? [];
    this.headers = options.headers ?? {};
  }
}

export function isKasseError(value: unknown): value is KasseError {
  return value instanceof KasseError;
}
