/**
 * Property-based fuzzing of the HTTP surface (§8, §14): random and malformed methods,
 * paths, query strings, headers and bodies. Whatever arrives, the answer is never a 5xx,
 * every error has the catalogue's shape, and a 4xx changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { authorizedTransaction, createSession, startHarness, type Harness } from './support/harness.js';

const RUNS = Number(process.env.KASSE_FUZZ_RUNS ?? 10_000);

let h: Harness;
let transactionIds: string[];
let sessionIds: string[];
let stats = { requests: 0, byStatus: new Map<number, number>() };

before(async () => {
  h = await startHarness();
  transactionIds = [
    await authorizedTransaction(h, { productType: 'klarna.klarna' }),
    await authorizedTransaction(h, { productType: 'bambora.creditcard' }),
    await authorizedTransaction(h, { productType: 'collector.invoice' }),
    await authorizedTransaction(h, { productType: 'swish.swish' }),
  ];
  sessionIds = [await createSession(h), await createSession(h)];
});

after(async () => {
  await h.close();
  const statuses = [...stats.byStatus.entries()].sort().map(([status, count]) => `${status}×${count}`).join(' ');
  console.log(`fuzz: ${stats.requests} requests, statuses ${statuses}`);
});

/** Everything a request could change, reduced to one comparable value. */
async function fingerprint(): Promise<string> {
  const transactions = await h.store.listTransactions({ accountId: 'T00000001', limit: 1000 });
  const sessions = await h.store.listSessions({ accountId: 'T00000001', limit: 1000 });
  const accounts = await h.store.listAccounts();
  return JSON.stringify([
    transactions.map((t) => [t.id, t.version, t.eventCount, t.state.capturedAmount, t.state.refundedAmount, t.state.voidedAmount, t.state.amount]),
    sessions.map((s) => [s.id, s.version]),
    accounts.map((a) => [a.id, a.clockOffsetMs]),
  ]);
}

const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '../../etc/passwd', '%00', '%E0%A4%A', '__proto__', 'constructor', "' OR 1=1 --", '<script>', '💳', 'x'.repeat(300)),
);

const weirdNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1.5, 2 ** 53, 2 ** 53 + 1, 2 ** 63, -0, 1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
);

const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdNumber,
  weirdString,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.integer(), { maxLength: 3 }),
);

const items = fc.oneof(
  weirdValue,
  fc.array(
    fc.record(
      { line_id: fc.oneof(fc.constantFrom('1', '2', 'ship', 'nope'), weirdString), amount: fc.oneof(fc.integer({ min: 0, max: 2000 }), weirdNumber), quantity: weirdValue },
      { requiredKeys: [] },
    ),
    { maxLength: 4 },
  ),
);

/** Bodies near the real shapes, so validation and the domain both get exercised. */
const operationBody = fc.record(
  {
    amount: fc.oneof(fc.integer({ min: 0, max: 1500 }), weirdNumber, weirdValue),
    items,
    capture_reference: weirdValue,
    refund_reference: weirdValue,
    reason: weirdValue,
    metadata: weirdValue,
    merchant_reference_2: weirdValue,
    payment_product_type: fc.oneof(fc.constantFrom('klarna.klarna', 'vipps', 'swish.swish', 'nope'), weirdValue),
    sandbox: weirdValue,
    profile_id: fc.oneof(fc.constant('default'), weirdValue),
    url: fc.oneof(fc.constant({ return_url: 'https://shop.example/r' }), weirdValue),
    order: fc.oneof(fc.record({ amount: weirdNumber, currency: fc.constantFrom('NOK', 'nok', 'XXXX'), merchant_reference: weirdValue }), weirdValue),
    grant_type: weirdValue,
    advance_seconds: weirdNumber,
    outcome: weirdValue,
  },
  { requiredKeys: [] },
);

function deepNesting(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Raw bodies JSON.stringify cannot make: duplicate keys, prototype keys, broken JSON, deep nesting. */
const rawBody = fc.oneof(
  fc.constantFrom(
    '{"amount":100,"amount":"100"}',
    '{"__proto__":{"admin":true},"amount":100}',
    '{"constructor":{"prototype":{"polluted":true}},"amount":100}',
    '{"amount":100',
    '{"amount":1e400}',
    '{"amount":100}garbage',
    'null',
    '[]',
    '"string"',
    '\u0000',
    '{"amount":"\\u0000"}',
    deepNesting(5000),
    `{"a":${deepNesting(2000)}}`,
  ),
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  operationBody.map((value) => JSON.stringify(value)),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
  'application/json; charset=latin1',
);

interface Generated {
  readonly options: InjectOptions;
  readonly label: string;
}

function requestArbitrary(): fc.Arbitrary<Generated> {
  const id = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...transactionIds) },
    { weight: 2, arbitrary: fc.constantFrom(...sessionIds) },
    { weight: 1, arbitrary: fc.constantFrom('T00000002.46YfHXWtmk5ChbxXZ3Rx8A', 'P00000001.46YfHXWtmk5ChbxXZ3Rx8A') },
    { weight: 2, arbitrary: weirdString.map((value) => encodeURIComponent(value) || 'x') },
  );
  const path = fc.oneof(
    id.map((value) => `/v1/transactions/${value}`),
    fc.tuple(id, fc.constantFrom('capture', 'refund', 'void', 'authorization', 'nope')).map(([value, op]) => `/v1/transactions/${value}/${op}`),
    id.map((value) => `/v1/sessions/${value}`),
    fc.tuple(id, fc.constantFrom('pay', 'cancel')).map(([value, op]) => `/v1/sessions/${value}/${op}`),
    fc.constantFrom(
      '/v1/transactions',
      '/v1/sessions',
      '/v1/sessions-profile',
      '/v1/accounts/T00000001/auth/token',
      '/v1/accounts/T00000001/sandbox/clock',
      '/v1/accounts/T00000002/sandbox/clock',
      '/v1/accounts/../auth/token',
      '/healthz',
      '/v1/view/x',
      '//v1//transactions',
    ),
    id.map((value) => `/v1/accounts/T00000001/sandbox/transactions/${value}/resolve`),
  );
  const query = fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    {
      weight: 2,
      arbitrary: fc
        .array(
          fc.tuple(
            fc.constantFrom('limit', 'starting_after', 'status', 'currency', 'amount', 'amount.gte', 'created_at.lte', 'search', 'payment_product_type', 'x', '__proto__'),
            fc.oneof(weirdString, weirdNumber.map(String)),
          ),
          { maxLength: 4 },
        )
        .map((pairs) => `?${pairs.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&')}`),
    },
    { weight: 1, arbitrary: fc.constantFrom('?limit=1e2', '?limit=-1', '?limit=%00', '?status=&status=', '?amount=9007199254740993', '?created_at.gte=2026-12-31T23:59:60Z', '?a[b]=c') },
  );
  const authorization = fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${h.token}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('Bearer ', 'Bearer x.y.z', 'Basic dGVzdC1jbGllbnQ6dGVzdC1zZWNyZXQ=', 'Basic ::::', 'bearer ' + h.token, `Bearer ${h.token}x`) },
  );
  const transaction = fc.constantFrom(...transactionIds);
  const session = fc.constantFrom(...sessionIds);
  // Real routes with their own method, so most requests get past routing into validation and the domain.
  const route = fc.oneof(
    fc.tuple(fc.constant('POST'), transaction, fc.constantFrom('capture', 'refund', 'void', 'authorization')).map(([m, t, op]) => [m, `/v1/transactions/${t}/${op}`] as const),
    fc.tuple(fc.constantFrom('GET', 'PUT'), transaction).map(([m, t]) => [m, `/v1/transactions/${t}`] as const),
    fc.tuple(fc.constant('POST'), session, fc.constantFrom('pay', 'cancel')).map(([m, id, op]) => [m, `/v1/sessions/${id}/${op}`] as const),
    fc.tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('/v1/transactions', '/v1/sessions', '/v1/sessions-profile', '/v1/accounts/T00000001/sandbox/clock', '/v1/accounts/T00000001/auth/token')).map(([m, p]) => [m, p] as const),
    fc.tuple(fc.constant('POST'), transaction).map(([m, t]) => [m, `/v1/accounts/T00000001/sandbox/transactions/${t}/resolve`] as const),
  );
  const anyRoute = fc.tuple(fc.constantFrom('GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), path);
  return fc
    .record({
      target: fc.oneof(
        { weight: 3, arbitrary: route.map(([method, target]): [string, string] => [method, target]) },
        { weight: 1, arbitrary: anyRoute.map(([method, target]): [string, string] => [method, target]) },
      ),
      query,
      authorization,
      contentType,
      body: fc.option(rawBody, { nil: undefined }),
      idempotencyKey: fc.option(fc.oneof(weirdString, fc.constantFrom('k1', 'k2')), { nil: undefined }),
      ifMatch: fc.option(fc.constantFrom('"1"', '"2"', '*', 'W/"3"', 'garbage'), { nil: undefined }),
    })
    .map(({ target: [method, path], query, authorization, contentType, body, idempotencyKey, ifMatch }) => {
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (body !== undefined && contentType !== '') headers['content-type'] = contentType;
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey.replace(/[\r\n\u0000]/g, '');
      if (ifMatch !== undefined) headers['if-match'] = ifMatch;
      const options: InjectOptions = { method: method as InjectOptions['method'], url: `${path}${query}`, headers, ...(body === undefined ? {} : { payload: body }) };
      return { options, label: `${method} ${path}${query} ${body === undefined ? '' : body.slice(0, 120)}` };
    });
}

test(`${RUNS} generated requests: never a 5xx, errors in the catalogue's shape, no change on a 4xx`, async () => {
  let baseline = await fingerprint();
  await fc.assert(
    fc.asyncProperty(requestArbitrary(), async ({ options, label }) => {
      const response = await h.request(options);
      stats.requests += 1;
      stats.byStatus.set(response.statusCode, (stats.byStatus.get(response.statusCode) ?? 0) + 1);
      assert.ok(response.statusCode < 500, `${response.statusCode} for ${label}: ${response.body.slice(0, 300)}`);
      const current = await fingerprint();
      if (response.statusCode >= 400) {
        const html = String(response.headers['content-type'] ?? '').startsWith('text/html');
        // Pages for people (the hosted checkout page, the backoffice) answer errors as HTML.
        if (options.method !== 'HEAD' && !html) {
          const body = response.json();
          assert.equal(typeof body.error?.code, 'string', `error shape for ${label}: ${response.body.slice(0, 200)}`);
          assert.equal(typeof body.error?.message, 'string');
        }
        assert.equal(current, baseline, `a ${response.statusCode} changed state: ${label}`);
      }
      baseline = current;
    }),
    { numRuns: RUNS },
  );
  assert.ok((stats.byStatus.get(200) ?? 0) > 0, 'some generated requests succeed, so the fuzzer reaches the handlers');
});

test('a 12 MB body is 413 and changes nothing', async () => {
  const before = await fingerprint();
  const response = await h.request({
    method: 'POST',
    url: `/v1/transactions/${transactionIds[0]}/capture`,
    headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ amount: 1, padding: 'x'.repeat(12 * 1024 * 1024) }),
  });
  assert.equal(response.statusCode, 413);
  assert.equal(response.json().error.code, 'PAYLOAD_TOO_LARGE');
  assert.equal(await fingerprint(), before);
});
