import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransactionEventRecord, TransactionRecord } from '../store/store.js';
import { transactionJson, transactionView } from './transaction-view.js';

const record: TransactionRecord = {
  id: 'T00000001.5JqkXk7r2x3zYvN9wQe1aB',
  accountId: 'T00000001',
  sessionId: 'T00000001.5JqkXk7r2x3zYvN9wQe1aC',
  currency: 'NOK',
  merchantReference: 'order-"1"',
  merchantReference2: 'ÆØÅ \u2028 ref',
  customerEmail: 'kari@example.no',
  customerPhone: null,
  status: 'PARTIALLY_CAPTURED',
  state: {
    paymentProductType: 'klarna.klarna',
    authorization: 'AUTHORIZED',
    amount: 2000,
    capturedAmount: 500,
    refundedAmount: 0,
    voidedAmount: 0,
    items: [{ line_id: '1', amount: 2000, quantity: 2, description: 'Stol "Oslo"', captured_amount: 500, refunded_amount: 0 }],
    authorizedAt: '2030-01-01T00:00:00.000Z',
    authorizationExpiresAt: '2030-01-29T00:00:00.000Z',
  },
  details: {
    url: { redirect_url: 'https://shop.example/return?a=1&b=2' },
    customer: { email: 'kari@example.no' },
    // A merchant's metadata may use any key, "events" too.
    metadata: { events: [], nested: { emoji: '🧾' } },
    sandbox: { capture: 'succeed' },
  },
  eventCount: 3,
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-02T00:00:00.000Z',
  version: 4,
};

const events: TransactionEventRecord[] = [
  { id: '1', event: 'INITIALIZE', success: true, amount: 2000, transaction_status: 'INITIATED', created_at: '2030-01-01T00:00:00.000Z' },
  { id: '2', event: 'AUTHORIZE', success: true, amount: 2000, transaction_status: 'AUTHORIZED', created_at: '2030-01-01T00:00:00.000Z' },
  { id: '3', event: 'CAPTURE', success: true, amount: 500, transaction_status: 'PARTIALLY_CAPTURED', created_at: '2030-01-02T00:00:00.000Z', created_by: 'ünïcode "quoted"' },
];

test('a transaction with its stored event texts embedded is the same JSON as the view serialised whole', () => {
  const now = '2030-01-05T00:00:00.000Z';
  const stored = events.map((event) => JSON.stringify(event));
  assert.equal(transactionJson(record, stored, now), JSON.stringify(transactionView(record, events, now)));
  assert.equal(transactionJson(record, [], now), JSON.stringify(transactionView(record, [], now)));
  assert.deepEqual(JSON.parse(transactionJson(record, stored, now)).events, events);
});
