/**
 * Forged credentials (§2, §14): every token Kasse did not issue, or issued for something
 * else, is 401; guessing client secrets is throttled (429 + Retry-After); secrets and
 * tokens never reach the log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { SignJWT, exportSPKI, generateKeyPair, importJWK, type CryptoKey } from 'jose';
import pino from 'pino';
import { buildApp } from '../src/http/app.js';
import { authorizedTransaction, bearer, startHarness, type Harness } from './support/harness.js';

let h: Harness;
let transactionId: string;

before(async () => {
  h = await startHarness();
  transactionId = await authorizedTransaction(h);
});
after(() => h.close());

async function read(token: string) {
  return h.request({ method: 'GET', url: `/v1/transactions/${transactionId}`, headers: { authorization: `Bearer ${token}` } });
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}

describe('forged tokens are 401', () => {
  test('alg none, with and without a signature', async () => {
    const [header, payload] = h.token.split('.');
    const none = b64({ alg: 'none', typ: 'JWT', kid: JSON.parse(Buffer.from(header!, 'base64url').toString()).kid });
    for (const token of [`${none}.${payload}.`, `${none}.${payload}`, `${b64({ alg: 'None' })}.${payload}.`]) {
      const response = await read(token);
      assert.equal(response.statusCode, 401, token);
      assert.equal(response.json().error.code, 'UNAUTHORIZED');
    }
  });

  test('HMAC confusion: HS256 signed with the server public key (JWK and PEM)', async () => {
    const [key] = await h.store.listSigningKeys();
    assert.ok(key);
    const claims = claimsOf(h.token);
    const publicJwk = JSON.parse(key.publicJwk);
    const pem = await exportSPKI((await importJWK(publicJwk, 'ES256', { extractable: true })) as CryptoKey);
    for (const secret of [key.publicJwk, pem]) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
      assert.equal((await read(forged)).statusCode, 401);
    }
  });

  test('re-signed with another ES256 key, under the server kid or a new one', async () => {
    const [key] = await h.store.listSigningKeys();
    const { privateKey } = await generateKeyPair('ES256');
    for (const kid of [key!.kid, 'attacker-key']) {
      const forged = await new SignJWT(claimsOf(h.token)).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
      assert.equal((await read(forged)).statusCode, 401);
    }
    // A token from another Kasse installation (its own keys) is not accepted either.
    const other = await startHarness();
    try {
      assert.equal((await read(other.token)).statusCode, 401);
    } finally {
      await other.close();
    }
  });

  test('tampered claims: another account, more scope, later expiry, other issuer', async () => {
    const [header, payload, signature] = h.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    for (const change of [
      { aid: 'T00000002' },
      { scope: 'admin:checkout write:checkout read:checkout' },
      { exp: claims.exp + 86_400 },
      { iss: 'someone-else' },
      { aud: 'https://evil.example/v1/accounts/T00000001' },
    ]) {
      const token = `${header}.${b64({ ...claims, ...change })}.${signature}`;
      assert.equal((await read(token)).statusCode, 401, JSON.stringify(change));
    }
  });

  test('a correctly signed token whose audience names another account is 401', async () => {
    const [key] = await h.store.listSigningKeys();
    const privateKey = (await importJWK(JSON.parse(key!.privateJwk), 'ES256')) as CryptoKey;
    const claims = { ...claimsOf(h.token), aud: 'http://kasse.test/v1/accounts/T00000009' };
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key!.kid, typ: 'JWT' }).sign(privateKey);
    assert.equal((await read(token)).statusCode, 401, 'a token is only for the account its audience names');
    // The same key with this account's audience works, so the refusal above is about the audience.
    const valid = await new SignJWT(claimsOf(h.token)).setProtectedHeader({ alg: 'ES256', kid: key!.kid, typ: 'JWT' }).sign(privateKey);
    assert.equal((await read(valid)).statusCode, 200);
  });

  test('expired by one second is 401', async () => {
    const other = await startHarness();
    try {
      const exp = claimsOf(other.token).exp as number;
      other.clock.advance((exp * 1000 - other.clock.now().getTime()) + 1000);
      const response = await other.request({ method: 'GET', url: '/v1/transactions', headers: bearer(other) });
      assert.equal(response.statusCode, 401);
    } finally {
      await other.close();
    }
  });
});

describe('brute force on the token endpoint', () => {
  const attempt = (secret: string, clientId = 'test-client') =>
    h.request({
      method: 'POST',
      url: '/v1/accounts/T00000001/auth/token',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      payload: { grant_type: 'client_credentials', audience: 'http://kasse.test/v1/accounts/T00000001' },
    });

  test('10 wrong secrets for a client, then 429 with Retry-After, even for the right secret', async () => {
    for (let i = 0; i < 10; i += 1) assert.equal((await attempt(`guess-${i}`)).statusCode, 401);
    const throttled = await attempt('guess-10');
    assert.equal(throttled.statusCode, 429);
    assert.equal(throttled.json().error.code, 'TOO_MANY_REQUESTS');
    const retryAfter = Number(throttled.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal((await attempt('test-secret')).statusCode, 429, 'no oracle while throttled');
    h.clock.advance(61_000);
    assert.equal((await attempt('test-secret')).statusCode, 200, 'the window passes');
  });

  test('spraying many client ids from one address is throttled too', async () => {
    let last = 0;
    for (let i = 0; i < 60 && last !== 429; i += 1) last = (await attempt('x', `sprayed-${i}`)).statusCode;
    assert.equal(last, 429);
    h.clock.advance(61_000);
  });
});

test('secrets and tokens never reach the log', async () => {
  let logged = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  const logger = pino({ level: 'trace' }, sink);
  const app = await buildApp({ store: h.store, clock: h.clock, logger, publicUrl: 'http://kasse.test' });
  try {
    const basic = Buffer.from('test-client:test-secret').toString('base64');
    const token = await app.server.inject({
      method: 'POST',
      url: '/v1/accounts/T00000001/auth/token',
      headers: { authorization: `Basic ${basic}` },
      payload: { grant_type: 'client_credentials', audience: 'http://kasse.test/v1/accounts/T00000001' },
    });
    assert.equal(token.statusCode, 200);
    const accessToken = token.json().access_token as string;
    await app.server.inject({ method: 'GET', url: `/v1/transactions/${transactionId}`, headers: { authorization: `Bearer ${accessToken}` } });
    await app.server.inject({ method: 'GET', url: '/v1/transactions', headers: { authorization: 'Bearer not-a-token' } });
    await app.server.inject({ method: 'POST', url: '/v1/accounts/T00000001/auth/token', headers: { authorization: `Basic ${Buffer.from('test-client:wrong-guess').toString('base64')}` }, payload: { grant_type: 'client_credentials' } });
    assert.ok(logged.length > 0, 'the logger was used');
    for (const secret of ['test-secret', 'wrong-guess', basic, accessToken, accessToken.split('.')[2]!, 'not-a-token']) {
      assert.ok(!logged.includes(secret), `the log contains ${secret.slice(0, 12)}…`);
    }
  } finally {
    await app.server.close();
  }
});
