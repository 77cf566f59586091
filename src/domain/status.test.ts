import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type AuthorizationStatus,
  type MoneyCounters,
  type TransactionStatus,
  deriveStatus,
  isCapturableStatus,
  isTransactionStatus,
  transactionStatuses,
} from './status.js';

const counters = (amount: number, capturedAmount: number, refundedAmount: number, voidedAmount: number): MoneyCounters => ({
  amount,
  capturedAmount,
  refundedAmount,
  voidedAmount,
});

describe('deriveStatus (contract §6)', () => {
  describe('before authorization the outcome is the status, whatever the counters', () => {
    for (const authorization of ['INITIATED', 'ON_HOLD', 'DECLINED', 'FAILED', 'UNKNOWN'] as const) {
      it(authorization, () => {
        assert.equal(deriveStatus(authorization, counters(1000, 0, 0, 0)), authorization);
        assert.equal(deriveStatus(authorization, counters(1000, 1000, 0, 0)), authorization);
      });
    }
  });

  // [A, C, R, V, expected]
  const rows: ReadonlyArray<readonly [number, number, number, number, TransactionStatus, string]> = [
    [1000, 0, 0, 1000, 'AUTHORIZATION_VOIDED', 'whole authorization voided, C = 0'],
    [1000, 0, 0, 0, 'AUTHORIZED', 'C = 0, nothing voided'],
    [1000, 1, 0, 0, 'PARTIALLY_CAPTURED', 'C + V < A, R = 0 (smallest capture)'],
    [1000, 999, 0, 0, 'PARTIALLY_CAPTURED', 'C + V < A, R = 0 (one unit left)'],
    [1000, 600, 1, 0, 'PARTIALLY_CAPTURED_REFUNDED', 'C + V < A, R > 0'],
    [1000, 600, 600, 0, 'PARTIALLY_CAPTURED_REFUNDED', 'C + V < A, R = C'],
    [1000, 1000, 0, 0, 'CAPTURED', 'C = A, R = 0'],
    [1000, 400, 0, 600, 'CAPTURED', 'remainder voided, R = 0 (§15)'],
    [1000, 1000, 1, 0, 'PARTIALLY_REFUNDED', 'C = A, 0 < R < C'],
    [1000, 1000, 999, 0, 'PARTIALLY_REFUNDED', 'C = A, R = C − 1'],
    [1000, 400, 100, 600, 'PARTIALLY_REFUNDED', 'remainder voided, 0 < R < C'],
    [1000, 1000, 1000, 0, 'REFUNDED', 'C = A, R = C'],
    [1000, 400, 400, 600, 'REFUNDED', 'remainder voided, R = C'],
  ];
  for (const [amount, captured, refunded, voided, expected, why] of rows) {
    it(`${expected}: ${why} (A=${amount} C=${captured} R=${refunded} V=${voided})`, () => {
      assert.equal(deriveStatus('AUTHORIZED', counters(amount, captured, refunded, voided)), expected);
    });
  }

  it('yields every transaction status', () => {
    const derived = new Set<TransactionStatus>([
      ...(['INITIATED', 'ON_HOLD', 'DECLINED', 'FAILED', 'UNKNOWN'] as const satisfies readonly AuthorizationStatus[]),
      ...rows.map((row) => row[4]),
    ]);
    assert.deepEqual([...derived].sort(), [...transactionStatuses].sort());
  });
});

describe('isCapturableStatus', () => {
  it('is true exactly for AUTHORIZED, PARTIALLY_CAPTURED and PARTIALLY_CAPTURED_REFUNDED', () => {
    assert.deepEqual(
      transactionStatuses.filter((status) => isCapturableStatus(status)),
      ['AUTHORIZED', 'PARTIALLY_CAPTURED', 'PARTIALLY_CAPTURED_REFUNDED'],
    );
  });
});

describe('isTransactionStatus', () => {
  it('accepts the statuses and nothing else', () => {
    for (const status of transactionStatuses) assert.equal(isTransactionStatus(status), true);
    for (const value of ['authorized', 'VOIDED', '', null, undefined, 1, {}]) assert.equal(isTransactionStatus(value), false);
  });
});
