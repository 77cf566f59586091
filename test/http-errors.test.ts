/**
 * Every error class of §8 over HTTP, each in the one body shape
 * `{"error":{"code","message"[,"errors"]}}`, and no input that produces a 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { errorCatalogue } from '../src/domain/errors.js';
import {
  authorizedTransaction,
  bearer,
  createSession,
  getTransaction,
  operation,
  readTransaction,
  sessionPayload,
  startHarness,
  type Harness,
} from './support/harness.js';

type Response = Awaited<ReturnType<Harness['request']>>;

/** Asserts status, code, and the error body shape: only `error`, with a catalogued code and a message. */
function assertError(response: Response, status: number, code: string): void {
  assert.equal(response.statusCode, status, `expected ${status} ${code}, got ${response.statusCode} ${response.body}`);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const body = response.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code);
  assert.ok(code in errorCatalogue, `${code} is in the catalogue`);
  assert.equal(errorCatalogue[code as keyof typeof errorCatalogue].status, status, `${code} has status ${status} in the catalogue`);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  for (const key of Object.keys(body.error)) assert.ok(['code', 'message', 'errors', 'request_id'].includes(key), `unexpected error field ${key}`);
  if (body.error.errors !== undefined) {
    assert.ok(Array.isArray(body.error.errors));
    for (const detail of body.error.errors) assert.equal(typeof detail.message, 'string');
  }
}

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

function rawCapture(id: string, payload: string, contentType = 'application/json') {
  return h.request({
    method: 'POST',
    url: `/v1/transactions/${id}/capture`,
    headers: { ...bearer(h), 'content-type': contentType },
    payload,
  });
}

describe('400 invalid request', () => {
  test('amounts must be non-negative safe integers: strings, floats, negatives and 2^53 are refused', async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    for (const amount of ['100', 1.5, -1, 2 ** 53, 1e300, null, true, [100], { value: 100 }]) {
      const response = await operation(h, id, 'capture', { amount });
      assertError(response, 400, 'INVALID_REQUEST');
      assert.ok(response.json().error.errors.some((detail: { path?: string }) => detail.path?.includes('amount')), `${JSON.stringify(amount)}: names the field`);
    }
    assertError(await rawCapture(id, '{"amount":100.0000000000001}'), 400, 'INVALID_REQUEST');
    assertError(await rawCapture(id, '{"amount":9007199254740993}'), 400, 'INVALID_REQUEST');
    assert.deepEqual(await readTransaction(h, id), before);
  });

  test('session amounts follow the same rules', async () => {
    for (const amount of ['1000', 10.5, -1000, 2 ** 53]) {
      const body = sessionPayload({ amount: 1000 }) as { order: Record<string, unknown> };
      const response = await h.request({
        method: 'POST',
        url: '/v1/sessions-profile',
        headers: bearer(h),
        payload: { profile_id: 'default', ...body, order: { ...body.order, amount } },
      });
      assertError(response, 400, 'INVALID_REQUEST');
    }
  });

  test('missing required fields are 400 with details', async () => {
    const id = await authorizedTransaction(h);
    const response = await operation(h, id, 'capture', { capture_reference: 'no amount' });
    assertError(response, 400, 'INVALID_REQUEST');
    assert.ok(response.json().error.errors.length > 0);
    assertError(await operation(h, id, 'capture', {}), 400, 'INVALID_REQUEST');
    assertError(await operation(h, id, 'refund', { reason: 'no amount' }), 400, 'INVALID_REQUEST');
    assertError(await operation(h, id, 'capture', { amount: 100, items: [{ amount: 100 }] }), 400, 'INVALID_REQUEST');
    assertError(await operation(h, id, 'capture', { amount: 100, items: { line_id: '1', amount: 100 } }), 400, 'INVALID_REQUEST');
    assertError(await operation(h, id, 'capture', { amount: 100, items: [{ line_id: '', amount: 100 }] }), 400, 'INVALID_REQUEST');
  });

  test('a capture without a body at all is 400', async () => {
    const id = await authorizedTransaction(h);
    assertError(await h.request({ method: 'POST', url: `/v1/transactions/${id}/capture`, headers: bearer(h) }), 400, 'INVALID_REQUEST');
    assertError(await rawCapture(id, ''), 400, 'INVALID_REQUEST');
  });

  test('invalid JSON and non-object JSON bodies are 400', async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    for (const payload of ['{"amount":', '{amount: 100}', "{'amount': 100}", '{"amount":100}}', 'null', '[]', '[{"amount":100}]', '"100"', '100', 'true', '\u0000']) {
      assertError(await rawCapture(id, payload), 400, 'INVALID_REQUEST');
    }
    const invalid = await rawCapture(id, '{"amount":');
    assert.equal(invalid.json().error.message, 'The body is not valid JSON.');
    assert.deepEqual(await readTransaction(h, id), before);
  });

  test('__proto__ and constructor.prototype keys are refused, not merged', async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    assertError(await rawCapture(id, '{"amount":100,"__proto__":{"amount":1}}'), 400, 'INVALID_REQUEST');
    assertError(await rawCapture(id, '{"amount":100,"metadata":{"__proto__":{"polluted":true}}}'), 400, 'INVALID_REQUEST');
    assertError(await rawCapture(id, '{"amount":100,"constructor":{"prototype":{"polluted":true}}}'), 400, 'INVALID_REQUEST');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(await readTransaction(h, id), before);
  });

  test('ids, query strings and headers out of shape are 400', async () => {
    const id = await authorizedTransaction(h);
    assertError(await h.request({ method: 'GET', url: `/v1/transactions/${'x'.repeat(150)}`, headers: bearer(h) }), 400, 'INVALID_REQUEST');
    assertError(await h.request({ method: 'GET', url: '/v1/transactions?limit=-5', headers: bearer(h) }), 400, 'INVALID_REQUEST');
    assertError(await operation(h, id, 'capture', { amount: 100 }, { 'idempotency-key': 'k'.repeat(256) }), 400, 'INVALID_REQUEST');
  });
});

describe('401, 403, 404', () => {
  test('401 UNAUTHORIZED without a token, 401 INVALID_CLIENT with bad credentials', async () => {
    assertError(await h.request({ method: 'GET', url: '/v1/transactions' }), 401, 'UNAUTHORIZED');
    assertError(
      await h.request({
        method: 'POST',
        url: '/v1/accounts/T00000001/auth/token',
        headers: { authorization: `Basic ${Buffer.from('test-client:nope').toString('base64')}` },
        payload: { grant_type: 'client_credentials', audience: 'http://kasse.test/v1/accounts/T00000001' },
      }),
      401,
      'INVALID_CLIENT',
    );
  });

  test('403 INSUFFICIENT_SCOPE for a read-only token that tries to change something', async () => {
    const readToken = await h.tokenFor('T00000001', ['read:checkout']);
    const id = await authorizedTransaction(h);
    assertError(await operation(h, id, 'capture', { amount: 100 }, {}, readToken), 403, 'INSUFFICIENT_SCOPE');
  });

  test('404 for unknown ids and unknown routes', async () => {
    assertError(await getTransaction(h, 'T00000001.1111111111111111111111'), 404, 'TRANSACTION_NOT_FOUND');
    assertError(await h.request({ method: 'GET', url: '/v1/sessions/T00000001.1111111111111111111111', headers: bearer(h) }), 404, 'SESSION_NOT_FOUND');
    assertError(await h.request({ method: 'GET', url: '/v1/nothing-here', headers: bearer(h) }), 404, 'NOT_FOUND');
    assertError(await h.request({ method: 'DELETE', url: '/v1/transactions', headers: bearer(h) }), 404, 'NOT_FOUND');
    assertError(await h.request({ method: 'POST', url: '/v1/transactions/T00000001.1111111111111111111111/explode', headers: bearer(h), payload: {} }), 404, 'NOT_FOUND');
  });
});

describe('409, 412, 413, 415, 422', () => {
  test('409 for an operation the state does not allow', async () => {
    const id = await authorizedTransaction(h);
    assertError(await operation(h, id, 'refund', { amount: 100 }), 409, 'TRANSACTION_NOT_REFUNDABLE');
  });

  test('412 PRECONDITION_FAILED for a stale If-Match; the current ETag works', async () => {
    const id = await authorizedTransaction(h);
    const first = await getTransaction(h, id);
    const staleTag = String(first.headers.etag);
    assert.ok(staleTag.length > 0);
    const captured = await operation(h, id, 'capture', { amount: 100 }, { 'if-match': staleTag });
    assert.equal(captured.statusCode, 200);
    assert.notEqual(captured.headers.etag, staleTag);
    const before = await readTransaction(h, id);
    assertError(await operation(h, id, 'capture', { amount: 100 }, { 'if-match': staleTag }), 412, 'PRECONDITION_FAILED');
    assertError(await operation(h, id, 'void', undefined, { 'if-match': staleTag }), 412, 'PRECONDITION_FAILED');
    assertError(
      await h.request({ method: 'PUT', url: `/v1/transactions/${id}`, headers: { ...bearer(h), 'if-match': staleTag }, payload: { merchant_reference_2: 'x' } }),
      412,
      'PRECONDITION_FAILED',
    );
    assert.deepEqual(await readTransaction(h, id), before);
    assert.equal((await operation(h, id, 'capture', { amount: 100 }, { 'if-match': before.etag })).statusCode, 200);
  });

  test('413 PAYLOAD_TOO_LARGE for a body over 1 MiB, and nothing changes', async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    const payload = JSON.stringify({ amount: 100, capture_reference: 'x', metadata: { padding: 'x'.repeat(1024 * 1024) } });
    assertError(await rawCapture(id, payload), 413, 'PAYLOAD_TOO_LARGE');
    assert.deepEqual(await readTransaction(h, id), before);
  });

  test('415 UNSUPPORTED_MEDIA_TYPE for a text/plain body on capture', async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    assertError(await rawCapture(id, '{"amount":100}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    assertError(await rawCapture(id, 'amount=100', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.deepEqual(await readTransaction(h, id), before);
  });

  test('422 IDEMPOTENCY_KEY_REUSED for a key used with another body', async () => {
    const id = await authorizedTransaction(h);
    assert.equal((await operation(h, id, 'capture', { amount: 100 }, { 'idempotency-key': 'errors-422' })).statusCode, 200);
    const before = await readTransaction(h, id);
    assertError(await operation(h, id, 'capture', { amount: 200 }, { 'idempotency-key': 'errors-422' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    assert.deepEqual(await readTransaction(h, id), before);
  });
});

describe('500', () => {
  test('an unexpected fault is a 500 with a request id and no internals', async () => {
    const id = await authorizedTransaction(h);
    const store = h.store as unknown as Record<string, unknown>;
    store.getTransactionWithEvents = async () => {
      throw new Error('SQLITE_CORRUPT: /var/lib/kasse/secret-path.db');
    };
    try {
      const response = await getTransaction(h, id);
      assertError(response, 500, 'INTERNAL_ERROR');
      assert.equal(response.json().error.request_id, response.headers['request-id']);
      assert.doesNotMatch(response.body, /SQLITE|secret-path|at .*\.ts/);
    } finally {
      delete store.getTransactionWithEvents;
    }
    assert.equal((await getTransaction(h, id)).statusCode, 200);
  });
});

describe('no input gives a 500', () => {
  test('malformed requests across the API are all 4xx with the error shape', async () => {
    const transactionId = await authorizedTransaction(h);
    const sessionId = await createSession(h);
    const auth = bearer(h);
    const json = { ...auth, 'content-type': 'application/json' };
    const requests: InjectOptions[] = [
      { method: 'POST', url: '/v1/sessions-profile', headers: json, payload: '{"profile_id":"default","url":{"return_url":"not a url"},"order":{}}' },
      { method: 'POST', url: '/v1/sessions-profile', headers: auth, payload: { profile_id: 'default', ...sessionPayload(), expires_at: 'tomorrow' } },
      { method: 'POST', url: '/v1/sessions-profile', headers: auth, payload: { profile_id: 'default', ...sessionPayload(), expires_at: '2026-12-31T23:59:60Z' } },
      { method: 'POST', url: '/v1/sessions-profile', headers: auth, payload: { profile_id: 'default', ...sessionPayload(), order: { amount: 1, currency: 'nok', merchant_reference: 'x' } } },
      { method: 'POST', url: '/v1/sessions-profile', headers: auth, payload: { profile_id: 'default', ...sessionPayload({ amount: 100, items: [{ line_id: '1', amount: Number.MAX_SAFE_INTEGER }, { line_id: '2', amount: Number.MAX_SAFE_INTEGER }] }) } },
      { method: 'POST', url: '/v1/sessions', headers: auth, payload: { ...sessionPayload(), configuration: 'everything' } },
      { method: 'POST', url: '/v1/sessions', headers: auth, payload: sessionPayload() },
      { method: 'POST', url: `/v1/sessions/${sessionId}/pay`, headers: json, payload: '{"payment_product_type":"vipps","sandbox":{"async_delay_ms":-1}}' },
      { method: 'POST', url: `/v1/sessions/${sessionId}/pay`, headers: json, payload: '{"payment_product_type":["vipps"]}' },
      { method: 'POST', url: '/v1/sessions/%E0%A4%A/pay', payload: { payment_product_type: 'vipps' } },
      { method: 'GET', url: '/v1/sessions/%E0%A4%A', headers: auth },
      { method: 'GET', url: `/v1/transactions/${'x'.repeat(250)}`, headers: auth },
      { method: 'POST', url: `/v1/transactions/${'x'.repeat(250)}/capture`, headers: auth, payload: { amount: 1 } },
      { method: 'GET', url: '/v1/sessions?starting_after=%00', headers: auth },
      { method: 'GET', url: '/v1/transactions?created_at.gte=2026-12-31T23:59:60Z', headers: auth },
      { method: 'GET', url: '/v1/transactions?created_at.lte=2026-02-30T00:00:00Z', headers: auth },
      { method: 'GET', url: '/v1/transactions?status=' + 'S'.repeat(5000), headers: auth },
      { method: 'GET', url: '/v1/transactions?amount=99999999999999999999', headers: auth },
      { method: 'GET', url: `/v1/transactions/${encodeURIComponent("' OR 1=1 --")}`, headers: auth },
      { method: 'POST', url: `/v1/transactions/${transactionId}/capture`, headers: auth, payload: { amount: 100, metadata: 'text' } },
      { method: 'POST', url: `/v1/transactions/${transactionId}/capture`, headers: auth, payload: { amount: 100, items: [{ line_id: '1', amount: 50 }, { line_id: '2', amount: 50 }, { line_id: '1', amount: 0 }] } },
      { method: 'POST', url: `/v1/transactions/${transactionId}/authorization`, headers: auth, payload: { amount: 0 } },
      { method: 'POST', url: `/v1/transactions/${transactionId}/authorization`, headers: auth, payload: { items: [] } },
      { method: 'POST', url: `/v1/transactions/${transactionId}/authorization`, headers: auth, payload: { amount: Number.MAX_SAFE_INTEGER, items: [{ line_id: 'a', amount: Number.MAX_SAFE_INTEGER }, { line_id: 'b', amount: 1 }] } },
      { method: 'PUT', url: `/v1/transactions/${transactionId}`, headers: auth, payload: { merchant_reference_2: 42 } },
      { method: 'POST', url: `/v1/transactions/${transactionId}/void`, headers: { ...auth, 'content-type': 'application/json' }, payload: '{not json' },
      { method: 'POST', url: `/v1/transactions/${transactionId}/refund`, headers: { ...auth, 'content-type': 'application/json; charset=latin1' }, payload: '{"amount":1}' },
      { method: 'POST', url: '/v1/accounts/T00000001/auth/token', headers: { authorization: 'Basic', 'content-type': 'application/json' }, payload: '{}' },
      { method: 'POST', url: '/v1/accounts/not-an-account-id-at-all/auth/token', headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, payload: { grant_type: 'client_credentials' } },
      { method: 'POST', url: '/v1/accounts/T00000001/auth/token', headers: { authorization: `Basic ${Buffer.from('test-client:test-secret').toString('base64')}` }, payload: { grant_type: 'client_credentials', audience: 42 } },
    ];
    for (const request of requests) {
      const response = await h.request(request);
      const label = `${request.method} ${request.url}: ${response.statusCode} ${response.body.slice(0, 300)}`;
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, label);
      const body = response.json();
      assert.equal(typeof body.error?.code, 'string', label);
      assert.equal(typeof body.error?.message, 'string', label);
    }
    const transaction = await readTransaction(h, transactionId);
    assert.equal(transaction.captured_amount, 0);
    assert.equal(transaction.amount, 1000);
    assert.equal(transaction.events.length, 2);
  });
});
