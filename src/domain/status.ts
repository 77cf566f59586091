/**
 * Transaction status is derived, never stored on its own: with authorized total A,
 * captured C, refunded R and voided V (all ≥ 0, C + V ≤ A, R ≤ C) the status follows
 * from the counters and the authorization outcome alone.
 */
import type { Amount } from './money.js';

/** Where the authorization stands, before any capture, refund or void. */
export const authorizationStatuses = ['INITIATED', 'ON_HOLD', 'DECLINED', 'FAILED', 'UNKNOWN', 'AUTHORIZED'] as const;
export type AuthorizationStatus = (typeof authorizationStatuses)[number];

export const transactionStatuses = [
  'INITIATED',
  'ON_HOLD',
  'DECLINED',
  'FAILED',
  'UNKNOWN',
  'AUTHORIZED',
  'AUTHORIZATION_VOIDED',
  'PARTIALLY_CAPTURED',
  'PARTIALLY_CAPTURED_REFUNDED',
  'CAPTURED',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
] as const;
export type TransactionStatus = (typeof transactionStatuses)[number];

export function isTransactionStatus(value: unknown): value is TransactionStatus {
  return typeof value === 'string' && (transactionStatuses as readonly string[]).includes(value);
}

export interface MoneyCounters {
  readonly amount: Amount;
  readonly capturedAmount: Amount;
  readonly refundedAmount: Amount;
  readonly voidedAmount: Amount;
}

export function deriveStatus(authorization: AuthorizationStatus, counters: MoneyCounters): TransactionStatus {
  if (authorization !== 'AUTHORIZED') return authorization;
  const { amount, capturedAmount, refundedAmount, voidedAmount } = counters;
  if (capturedAmount === 0) return voidedAmount > 0 ? 'AUTHORIZATION_VOIDED' : 'AUTHORIZED';
  if (capturedAmount + voidedAmount < amount) {
    return refundedAmount === 0 ? 'PARTIALLY_CAPTURED' : 'PARTIALLY_CAPTURED_REFUNDED';
  }
  if (refundedAmount === 0) return 'CAPTURED';
  return refundedAmount < capturedAmount ? 'PARTIALLY_REFUNDED' : 'REFUNDED';
}

/** Statuses from which a capture may be attempted (amount rules still apply). */
export function isCapturableStatus(status: TransactionStatus): boolean {
  return status === 'AUTHORIZED' || status === 'PARTIALLY_CAPTURED' || status === 'PARTIALLY_CAPTURED_REFUNDED';
}
