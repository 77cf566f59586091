/**
 * Many clients, one transaction: concurrent captures and refunds over real HTTP against
 * a file-backed SQLite store (or the run's KASSE_TEST_DATABASE_URL). The money rules must
 * hold exactly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authorizedTransaction, startHarness, type Harness } from './support/harness.js';

let h: Harness;
let base: string;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kasse-race-'));
  h = await startHarness({ databaseUrl: process.env.KASSE_TEST_DATABASE_URL || `sqlite:${join(dir, 'kasse.db')}` });
  base = await h.app.server.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function get(id: string): Promise<any> {
  const response = await fetch(`${base}/v1/transactions/${id}`, { headers: { authorization: `Bearer ${h.token}` } });
  return response.json();
}

test('50 concurrent captures of 100 against 1 000 remaining: exactly 10 succeed', async () => {
  const id = await authorizedTransaction(h, { amount: 1000, items: [{ line_id: '1', amount: 1000, quantity: 1 }] });
  const results = await Promise.all(Array.from({ length: 50 }, () => post(`/v1/transactions/${id}/capture`, { amount: 100 })));
  const succeeded = results.filter((result) => result.status === 200);
  assert.equal(succeeded.length, 10);
  for (const result of results.filter((r) => r.status !== 200)) {
    assert.ok([400, 409].includes(result.status), `unexpected status ${result.status}`);
    assert.ok(['TRANSACTION_NOT_CAPTURABLE', 'AMOUNT_EXCEEDS_CAPTURABLE'].includes(result.body.error.code));
  }
  const transaction = await get(id);
  assert.equal(transaction.captured_amount, 1000);
  assert.equal(transaction.status, 'CAPTURED');
  const captures = transaction.events.filter((event: any) => event.event === 'CAPTURE');
  assert.equal(captures.length, 10);
  assert.equal(captures.reduce((sum: number, event: any) => sum + event.amount, 0), 1000);
  // Event ids stay a gapless per-transaction sequence under contention.
  assert.deepEqual(transaction.events.map((event: any) => event.id), transaction.events.map((_: unknown, i: number) => String(i + 1)));
});

test('50 concurrent refunds of 100 against 1 000 captured: exactly 10 succeed', async () => {
  const id = await authorizedTransaction(h, { amount: 1000 });
  assert.equal((await post(`/v1/transactions/${id}/capture`, { amount: 1000 })).status, 200);
  const results = await Promise.all(Array.from({ length: 50 }, () => post(`/v1/transactions/${id}/refund`, { amount: 100 })));
  assert.equal(results.filter((result) => result.status === 200).length, 10);
  const transaction = await get(id);
  assert.equal(transaction.refunded_amount, 1000);
  assert.equal(transaction.status, 'REFUNDED');
  assert.equal(transaction.events.filter((event: any) => event.event === 'REFUND').length, 10);
});

test('captures, refunds and a void racing on one transaction keep every rule', async () => {
  const id = await authorizedTransaction(h, { amount: 1000, productType: 'klarna.klarna' });
  const operations = Array.from({ length: 60 }, (_, i) => {
    if (i % 3 === 0) return post(`/v1/transactions/${id}/capture`, { amount: 70 });
    if (i % 3 === 1) return post(`/v1/transactions/${id}/refund`, { amount: 30 });
    return i === 29 ? post(`/v1/transactions/${id}/void`, {}) : post(`/v1/transactions/${id}/capture`, { amount: 50 });
  });
  const results = await Promise.all(operations);
  assert.ok(results.every((result) => result.status < 500));
  const transaction = await get(id);
  const sum = (kind: string) =>
    transaction.events.filter((e: any) => e.event === kind && e.success).reduce((total: number, e: any) => total + e.amount, 0);
  assert.equal(transaction.captured_amount, sum('CAPTURE'));
  assert.equal(transaction.refunded_amount, sum('REFUND'));
  assert.equal(transaction.voided_amount, sum('VOID'));
  assert.ok(transaction.captured_amount + transaction.voided_amount <= transaction.amount);
  assert.ok(transaction.refunded_amount <= transaction.captured_amount);
});
