/**
 * Authentication and authorization over HTTP (§2): the client-credentials token endpoint,
 * bearer tokens (missing, forged, expired), scopes, and account isolation (404, never 403).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, decodeProtectedHeader, generateKeyPair } from 'jose';
import { createClient } from '../src/services/accounts.js';
import {
  PUBLIC_URL,
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

const ACCOUNT = 'T00000001';
const OTHER_ACCOUNT = 'T00000002';

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
}

function requestToken(h: Harness, options: { accountId?: string; authorization?: string; body?: Record<string, unknown> } = {}) {
  const accountId = options.accountId ?? ACCOUNT;
  return h.request({
    method: 'POST',
    url: `/v1/accounts/${accountId}/auth/token`,
    headers: options.authorization === undefined ? {} : { authorization: options.authorization },
    payload: options.body ?? { grant_type: 'client_credentials', audience: `${PUBLIC_URL}/v1/accounts/${accountId}` },
  });
}

function assertError(response: { statusCode: number; json(): any }, status: number, code: string): void {
  assert.equal(response.statusCode, status, `expected ${status} ${code}, got ${response.statusCode} ${JSON.stringify(response.json())}`);
  const body = response.json();
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
}

function listTransactions(h: Harness, token: string, query = '') {
  return h.request({ method: 'GET', url: `/v1/transactions${query}`, headers: bearer(h, token) });
}

let h: Harness;
before(async () => {
  h = await startHarness();
  await createClient(h.store, { accountId: ACCOUNT, clientId: 'reader', secret: 'reader-secret', scopes: ['read:checkout'], now: h.clock.now().toISOString() });
});
after(() => h.close());

describe('token endpoint', () => {
  test('client credentials with HTTP Basic give a 4-hour bearer JWT that works', async () => {
    const response = await requestToken(h, { authorization: basic('test-client', 'test-secret') });
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 14400);
    assert.match(body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const list = await listTransactions(h, body.access_token);
    assert.equal(list.statusCode, 200);
    assert.ok(Array.isArray(list.json()));
  });

  test('the audience origin is not checked, only that its path names the account', async () => {
    for (const audience of [
      `https://checkout.dintero.com/v1/accounts/${ACCOUNT}`,
      `http://localhost:9999/v1/accounts/${ACCOUNT}/`,
      `https://api.example.org/some/prefix/v1/accounts/${ACCOUNT}`,
    ]) {
      const response = await requestToken(h, { authorization: basic('test-client', 'test-secret'), body: { grant_type: 'client_credentials', audience } });
      assert.equal(response.statusCode, 200, `${audience}: ${response.body}`);
    }
  });

  test('an audience naming another account, or no URL at all, is 400 INVALID_AUDIENCE', async () => {
    for (const audience of [`${PUBLIC_URL}/v1/accounts/${OTHER_ACCOUNT}`, `${PUBLIC_URL}/v1/accounts/${ACCOUNT}9`, 'not a url', `${PUBLIC_URL}/`]) {
      const response = await requestToken(h, { authorization: basic('test-client', 'test-secret'), body: { grant_type: 'client_credentials', audience } });
      assertError(response, 400, 'INVALID_AUDIENCE');
    }
  });

  test('a grant_type other than client_credentials is 400 UNSUPPORTED_GRANT_TYPE', async () => {
    const response = await requestToken(h, {
      authorization: basic('test-client', 'test-secret'),
      body: { grant_type: 'password', audience: `${PUBLIC_URL}/v1/accounts/${ACCOUNT}` },
    });
    assertError(response, 400, 'UNSUPPORTED_GRANT_TYPE');
  });

  test('a body without grant_type is 400 INVALID_REQUEST', async () => {
    const response = await requestToken(h, { authorization: basic('test-client', 'test-secret'), body: { audience: `${PUBLIC_URL}/v1/accounts/${ACCOUNT}` } });
    assertError(response, 400, 'INVALID_REQUEST');
  });

  test('a wrong secret is 401 INVALID_CLIENT', async () => {
    assertError(await requestToken(h, { authorization: basic('test-client', 'wrong-secret') }), 401, 'INVALID_CLIENT');
  });

  test('an unknown client, a missing or garbled Basic header is 401 INVALID_CLIENT', async () => {
    assertError(await requestToken(h, { authorization: basic('nobody', 'test-secret') }), 401, 'INVALID_CLIENT');
    assertError(await requestToken(h, {}), 401, 'INVALID_CLIENT');
    assertError(await requestToken(h, { authorization: 'Basic !!!not-base64!!!' }), 401, 'INVALID_CLIENT');
    assertError(await requestToken(h, { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }), 401, 'INVALID_CLIENT');
    assertError(await requestToken(h, { authorization: `Bearer ${h.token}` }), 401, 'INVALID_CLIENT');
  });

  test('a client of another account cannot get a token for this one (401)', async () => {
    await h.tokenFor(OTHER_ACCOUNT);
    await createClient(h.store, { accountId: OTHER_ACCOUNT, clientId: 'other-client', secret: 'other-secret', now: h.clock.now().toISOString() });
    const own = await requestToken(h, { accountId: OTHER_ACCOUNT, authorization: basic('other-client', 'other-secret') });
    assert.equal(own.statusCode, 200);
    assertError(await requestToken(h, { accountId: ACCOUNT, authorization: basic('other-client', 'other-secret') }), 401, 'INVALID_CLIENT');
  });
});

describe('bearer tokens', () => {
  test('a missing bearer token is 401 UNAUTHORIZED on reads, creates and operations', async () => {
    const id = await authorizedTransaction(h);
    assertError(await h.request({ method: 'GET', url: '/v1/transactions' }), 401, 'UNAUTHORIZED');
    assertError(await h.request({ method: 'GET', url: `/v1/transactions/${id}` }), 401, 'UNAUTHORIZED');
    assertError(await h.request({ method: 'POST', url: '/v1/sessions-profile', payload: { profile_id: 'default', ...sessionPayload() } }), 401, 'UNAUTHORIZED');
    assertError(await h.request({ method: 'POST', url: `/v1/transactions/${id}/capture`, payload: { amount: 100 } }), 401, 'UNAUTHORIZED');
    assert.equal((await readTransaction(h, id)).captured_amount, 0);
  });

  test('garbage in the Authorization header is 401 UNAUTHORIZED', async () => {
    for (const authorization of ['Bearer', 'Bearer abc', 'Bearer a.b.c', `Basic ${Buffer.from('test-client:test-secret').toString('base64')}`, h.token, `Token ${h.token}`]) {
      assertError(await h.request({ method: 'GET', url: '/v1/transactions', headers: { authorization } }), 401, 'UNAUTHORIZED');
    }
  });

  test('a token signed by another key is 401, even with the right kid', async () => {
    const { kid } = decodeProtectedHeader(h.token);
    assert.equal(typeof kid, 'string');
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(h.clock.now().getTime() / 1000);
    const forged = await new SignJWT({ scope: 'admin:checkout', aid: ACCOUNT })
      .setProtectedHeader({ alg: 'ES256', kid: kid!, typ: 'JWT' })
      .setIssuer('kasse')
      .setSubject('test-client')
      .setAudience(`${PUBLIC_URL}/v1/accounts/${ACCOUNT}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
    assertError(await listTransactions(h, forged), 401, 'UNAUTHORIZED');
  });

  test('a real token with its payload edited (another account) is 401', async () => {
    const [header, payload, signature] = h.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    assert.equal(claims.aid, ACCOUNT);
    const edited = Buffer.from(JSON.stringify({ ...claims, aid: OTHER_ACCOUNT, aud: `${PUBLIC_URL}/v1/accounts/${OTHER_ACCOUNT}` })).toString('base64url');
    assertError(await listTransactions(h, `${header}.${edited}.${signature}`), 401, 'UNAUTHORIZED');
  });

  test('an unsigned (alg none) token is 401', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ aid: ACCOUNT, sub: 'test-client', scope: 'admin:checkout', aud: `${PUBLIC_URL}/v1/accounts/${ACCOUNT}`, exp: 9999999999 })).toString('base64url');
    assertError(await listTransactions(h, `${header}.${payload}.`), 401, 'UNAUTHORIZED');
  });

  test('a token is valid for 14400 seconds and 401 UNAUTHORIZED after', async () => {
    // Own harness: moving its clock must not expire the tokens the other tests use.
    const local = await startHarness();
    try {
      local.clock.advance(14399 * 1000);
      assert.equal((await listTransactions(local, local.token)).statusCode, 200);
      local.clock.advance(2 * 1000);
      assertError(await listTransactions(local, local.token), 401, 'UNAUTHORIZED');
      const fresh = await requestToken(local, { authorization: basic('test-client', 'test-secret') });
      assert.equal(fresh.statusCode, 200);
      assert.equal((await listTransactions(local, fresh.json().access_token)).statusCode, 200);
    } finally {
      await local.close();
    }
  });
});

describe('scopes', () => {
  let readToken: string;
  let writeToken: string;
  before(async () => {
    const response = await requestToken(h, { authorization: basic('reader', 'reader-secret') });
    assert.equal(response.statusCode, 200);
    readToken = response.json().access_token;
    writeToken = await h.tokenFor(ACCOUNT, ['write:checkout']);
  });

  test('read:checkout can read transactions and sessions', async () => {
    const id = await authorizedTransaction(h);
    const transaction = await readTransaction(h, id, readToken);
    assert.equal(transaction.id, id);
    const list = await listTransactions(h, readToken, `?search=${id}`);
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json().map((t: { id: string }) => t.id), [id]);
    const session = await h.request({ method: 'GET', url: `/v1/sessions/${transaction.session_id}`, headers: bearer(h, readToken) });
    assert.equal(session.statusCode, 200);
    assert.equal(session.json().transaction_id, id);
  });

  test('read:checkout cannot capture, refund, void, update or create sessions (403 INSUFFICIENT_SCOPE, nothing changed)', async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    assertError(await operation(h, id, 'capture', { amount: 100 }, {}, readToken), 403, 'INSUFFICIENT_SCOPE');
    assertError(await operation(h, id, 'refund', { amount: 100 }, {}, readToken), 403, 'INSUFFICIENT_SCOPE');
    assertError(await operation(h, id, 'void', undefined, {}, readToken), 403, 'INSUFFICIENT_SCOPE');
    assertError(await operation(h, id, 'authorization', { amount: 900, items: [{ line_id: '1', amount: 900 }] }, {}, readToken), 403, 'INSUFFICIENT_SCOPE');
    assertError(
      await h.request({ method: 'PUT', url: `/v1/transactions/${id}`, headers: bearer(h, readToken), payload: { merchant_reference_2: 'x' } }),
      403,
      'INSUFFICIENT_SCOPE',
    );
    assertError(
      await h.request({ method: 'POST', url: '/v1/sessions-profile', headers: bearer(h, readToken), payload: { profile_id: 'default', ...sessionPayload() } }),
      403,
      'INSUFFICIENT_SCOPE',
    );
    assertError(
      await h.request({ method: 'POST', url: `/v1/sessions/${before.session_id}/cancel`, headers: bearer(h, readToken) }),
      403,
      'INSUFFICIENT_SCOPE',
    );
    assert.deepEqual(await readTransaction(h, id), before);
  });

  test('write:checkout can create sessions, capture and read', async () => {
    const id = await authorizedTransaction(h, { token: writeToken });
    const captured = await operation(h, id, 'capture', { amount: 1000 }, {}, writeToken);
    assert.equal(captured.statusCode, 200);
    assert.equal(captured.json().status, 'CAPTURED');
    assert.equal((await readTransaction(h, id, writeToken)).captured_amount, 1000);
  });
});

describe('account isolation', () => {
  let otherToken: string;
  before(async () => {
    otherToken = await h.tokenFor(OTHER_ACCOUNT);
  });

  test("another account's transaction is 404 for every operation, and nothing changes", async () => {
    const id = await authorizedTransaction(h);
    const before = await readTransaction(h, id);
    assertError(await getTransaction(h, id, otherToken), 404, 'TRANSACTION_NOT_FOUND');
    for (const [name, body] of [
      ['capture', { amount: 100 }],
      ['refund', { amount: 100 }],
      ['void', undefined],
      ['authorization', { amount: 900, items: [{ line_id: '1', amount: 900 }] }],
    ] as const) {
      assertError(await operation(h, id, name, body, {}, otherToken), 404, 'TRANSACTION_NOT_FOUND');
    }
    assertError(
      await h.request({ method: 'PUT', url: `/v1/transactions/${id}`, headers: bearer(h, otherToken), payload: { merchant_reference_2: 'x' } }),
      404,
      'TRANSACTION_NOT_FOUND',
    );
    assert.deepEqual(await readTransaction(h, id), before);
  });

  test("another account's session is 404 to read and to cancel", async () => {
    const sessionId = await createSession(h);
    assertError(await h.request({ method: 'GET', url: `/v1/sessions/${sessionId}`, headers: bearer(h, otherToken) }), 404, 'SESSION_NOT_FOUND');
    assertError(await h.request({ method: 'POST', url: `/v1/sessions/${sessionId}/cancel`, headers: bearer(h, otherToken) }), 404, 'SESSION_NOT_FOUND');
    const own = await h.request({ method: 'GET', url: `/v1/sessions/${sessionId}`, headers: bearer(h) });
    assert.equal(own.statusCode, 200);
    assert.equal(own.json().status, 'ACTIVE');
  });

  test("lists and search show only the token's own account", async () => {
    const mine = await authorizedTransaction(h);
    const theirs = await authorizedTransaction(h, { token: otherToken });
    const theirList = (await listTransactions(h, otherToken, '?limit=100')).json() as Array<{ id: string }>;
    assert.ok(theirList.some((t) => t.id === theirs));
    assert.ok(theirList.every((t) => t.id.startsWith(`${OTHER_ACCOUNT}.`)));
    assert.deepEqual((await listTransactions(h, otherToken, `?search=${mine}`)).json(), []);
    const sessions = (await h.request({ method: 'GET', url: '/v1/sessions?limit=100', headers: bearer(h, otherToken) })).json() as Array<{ id: string }>;
    assert.ok(sessions.length > 0);
    assert.ok(sessions.every((s) => s.id.startsWith(`${OTHER_ACCOUNT}.`)));
    // A cursor from another account is not a way in either.
    const cursor = await listTransactions(h, otherToken, `?starting_after=${mine}`);
    assert.equal(cursor.statusCode, 400);
  });
});
