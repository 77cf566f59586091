/** The per-account test clock (§5): authorizations expire on demand, Klarna extends, windows renew. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authorizedTransaction, bearer, getTransaction, operation, startHarness, type Harness } from './support/harness.js';

const DAY = 24 * 60 * 60;
let h: Harness;

before(async () => {
  h = await startHarness();
});
after(() => h.close());

/** Each test gets its own sandbox account, so moving its clock touches nothing else. */
let accounts = 0;
async function account(): Promise<{ token: string; accountId: string }> {
  accounts += 1;
  const accountId = `T${String(20_000_000 + accounts).padStart(8, '0')}`;
  return { token: await h.tokenFor(accountId), accountId };
}

async function advance(accountId: string, token: string, seconds: number) {
  const response = await h.request({
    method: 'POST',
    url: `/v1/accounts/${accountId}/sandbox/clock`,
    headers: bearer(h, token),
    payload: { advance_seconds: seconds },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

describe('the clock endpoint', () => {
  test('GET shows the business time; POST moves it forward only', async () => {
    const { token, accountId } = await account();
    const before = await h.request({ method: 'GET', url: `/v1/accounts/${accountId}/sandbox/clock`, headers: bearer(h, token) });
    assert.equal(before.statusCode, 200);
    assert.equal(before.json().offset_seconds, 0);
    const moved = await advance(accountId, token, 3 * DAY);
    assert.equal(moved.offset_seconds, 3 * DAY);
    assert.equal(Date.parse(moved.now) - Date.parse(before.json().now), 3 * DAY * 1000);
    const back = await h.request({
      method: 'POST',
      url: `/v1/accounts/${accountId}/sandbox/clock`,
      headers: bearer(h, token),
      payload: { advance_seconds: -60 },
    });
    assert.equal(back.statusCode, 400);
    assert.equal((await h.request({ method: 'GET', url: `/v1/accounts/${accountId}/sandbox/clock`, headers: bearer(h, token) })).json().offset_seconds, 3 * DAY);
  });

  test("another account's clock is 404; a production account has none (409); read scope cannot move it", async () => {
    const { accountId } = await account();
    const mine = await h.request({ method: 'POST', url: `/v1/accounts/${accountId}/sandbox/clock`, headers: bearer(h), payload: { advance_seconds: 1 } });
    assert.equal(mine.statusCode, 404);
    const production = await h.tokenFor('P00000042');
    const refused = await h.request({ method: 'GET', url: '/v1/accounts/P00000042/sandbox/clock', headers: bearer(h, production) });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'SANDBOX_ONLY');
    const reader = await h.tokenFor(accountId, ['read:checkout']);
    const forbidden = await h.request({ method: 'POST', url: `/v1/accounts/${accountId}/sandbox/clock`, headers: bearer(h, reader), payload: { advance_seconds: 1 } });
    assert.equal(forbidden.statusCode, 403);
  });

  test('the clock of one account does not move another', async () => {
    const first = await account();
    const second = await account();
    const id = await authorizedTransaction(h, { productType: 'vipps', token: second.token });
    await advance(first.accountId, first.token, 30 * DAY);
    assert.equal((await operation(h, id, 'capture', { amount: 100 }, {}, second.token)).statusCode, 200);
  });
});

describe('authorization expiry', () => {
  test('a vipps capture after 8 days is 409 AUTHORIZATION_EXPIRED and changes nothing', async () => {
    const { token, accountId } = await account();
    const id = await authorizedTransaction(h, { productType: 'vipps', token });
    const authorized = (await getTransaction(h, id, token)).json();
    await advance(accountId, token, 8 * DAY);
    const refused = await operation(h, id, 'capture', { amount: 100 }, {}, token);
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error.code, 'AUTHORIZATION_EXPIRED');
    const after = (await getTransaction(h, id, token)).json();
    assert.equal(after.captured_amount, 0);
    assert.equal(after.events.length, authorized.events.length);
    // A void still releases an expired authorization.
    assert.equal((await operation(h, id, 'void', undefined, {}, token)).statusCode, 200);
  });

  test('vipps is still capturable on day 6', async () => {
    const { token, accountId } = await account();
    const id = await authorizedTransaction(h, { productType: 'vipps', token });
    await advance(accountId, token, 6 * DAY);
    assert.equal((await operation(h, id, 'capture', { amount: 1000 }, {}, token)).statusCode, 200);
  });

  test('Klarna is capturable at day 35 after auto-extension, and not after day 180', async () => {
    const { token, accountId } = await account();
    const early = await authorizedTransaction(h, { productType: 'klarna.klarna', token });
    const late = await authorizedTransaction(h, { productType: 'klarna.klarna', token });
    const created = Date.parse((await getTransaction(h, early, token)).json().created_at);
    assert.equal(Date.parse((await getTransaction(h, early, token)).json().authorization_expires_at) - created, 28 * DAY * 1000);

    await advance(accountId, token, 35 * DAY);
    const extended = (await getTransaction(h, early, token)).json();
    assert.ok(Date.parse(extended.authorization_expires_at) > created + 35 * DAY * 1000, 'the expiry moved past day 35');
    assert.equal((await operation(h, early, 'capture', { amount: 1000 }, {}, token)).statusCode, 200);

    await advance(accountId, token, 146 * DAY); // day 181
    const expired = await operation(h, late, 'capture', { amount: 100 }, {}, token);
    assert.equal(expired.statusCode, 409);
    assert.equal(expired.json().error.code, 'AUTHORIZATION_EXPIRED');
    const ceiling = (await getTransaction(h, late, token)).json().authorization_expires_at;
    assert.equal(Date.parse(ceiling) - created, 180 * DAY * 1000, 'the ceiling is 180 days');
  });

  test('Billie is not auto-extended: 28 days', async () => {
    const { token, accountId } = await account();
    const id = await authorizedTransaction(h, { productType: 'klarna.billie', token });
    await advance(accountId, token, 29 * DAY);
    const refused = await operation(h, id, 'capture', { amount: 100 }, {}, token);
    assert.equal(refused.json().error.code, 'AUTHORIZATION_EXPIRED');
  });

  test('a Klarna partial capture gives the remainder a fresh 28 days', async () => {
    const { token, accountId } = await account();
    const id = await authorizedTransaction(h, { productType: 'klarna.klarna', token });
    const created = Date.parse((await getTransaction(h, id, token)).json().created_at);
    await advance(accountId, token, 10 * DAY);
    const partial = await operation(h, id, 'capture', { amount: 400 }, {}, token);
    assert.equal(partial.statusCode, 200);
    assert.equal(Date.parse(partial.json().authorization_expires_at) - created, 38 * DAY * 1000);
  });

  test('Klarna update authorization without amount extends by 28 days', async () => {
    const { token } = await account();
    const id = await authorizedTransaction(h, { productType: 'klarna.klarna', token });
    const before = Date.parse((await getTransaction(h, id, token)).json().authorization_expires_at);
    const extended = await operation(h, id, 'authorization', { reason: 'delivery delayed' }, {}, token);
    assert.equal(extended.statusCode, 200);
    assert.equal(Date.parse(extended.json().authorization_expires_at) - before, 28 * DAY * 1000);
    const event = extended.json().events.at(-1);
    assert.equal(event.event, 'AUTHORIZE');
    assert.equal(event.amount, 1000);
  });

  test('a session past its expires_at cannot be paid', async () => {
    const { token, accountId } = await account();
    const expiresAt = new Date(h.clock.now().getTime() + 3600_000).toISOString();
    const created = await h.request({
      method: 'POST',
      url: '/v1/sessions-profile',
      headers: bearer(h, token),
      payload: {
        profile_id: 'default',
        url: { return_url: 'https://shop.example/return' },
        order: { amount: 100, currency: 'NOK', merchant_reference: 'expiring' },
        expires_at: expiresAt,
      },
    });
    assert.equal(created.statusCode, 200);
    await advance(accountId, token, 2 * 3600);
    const paid = await h.request({ method: 'POST', url: `/v1/sessions/${created.json().id}/pay`, payload: { payment_product_type: 'vipps' } });
    assert.equal(paid.statusCode, 409);
    assert.equal(paid.json().error.code, 'SESSION_NOT_PAYABLE');
  });
});

describe('on a SQLite file (GETs answered from recently read transactions)', () => {
  let dir: string;
  let file: Harness;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kasse-clock-'));
    file = await startHarness({ databaseUrl: `sqlite:${join(dir, 'kasse.db')}` });
  });
  after(async () => {
    await file.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an unchanged transaction read again after the clock moved shows the expiry as of the new time', async () => {
    const accountId = 'T29000001';
    const token = await file.tokenFor(accountId);
    const id = await authorizedTransaction(file, { productType: 'klarna.klarna', token });
    const first = await getTransaction(file, id, token);
    const again = await getTransaction(file, id, token);
    assert.equal(again.body, first.body, 'nothing changed: the same answer');
    const created = Date.parse(first.json().created_at);
    assert.equal(Date.parse(first.json().authorization_expires_at) - created, 28 * DAY * 1000);
    const moved = await file.request({ method: 'POST', url: `/v1/accounts/${accountId}/sandbox/clock`, headers: bearer(file, token), payload: { advance_seconds: 35 * DAY } });
    assert.equal(moved.statusCode, 200, moved.body);
    const later = await getTransaction(file, id, token);
    assert.equal(later.headers.etag, first.headers.etag, 'the same version');
    assert.ok(Date.parse(later.json().authorization_expires_at) > created + 35 * DAY * 1000, 'the expiry moved past day 35');
  });

  test('an unchanged transaction listed again after the clock moved shows the expiry as of the new time', async () => {
    const accountId = 'T29000002';
    const token = await file.tokenFor(accountId);
    const id = await authorizedTransaction(file, { productType: 'klarna.klarna', token });
    const list = async () => {
      const answer = await file.request({ method: 'GET', url: '/v1/transactions?payment_product_type=klarna.klarna', headers: bearer(file, token) });
      assert.equal(answer.statusCode, 200, answer.body);
      return (answer.json() as Array<{ id: string; created_at: string; authorization_expires_at: string }>).find((transaction) => transaction.id === id)!;
    };
    const first = await list();
    assert.deepEqual(await list(), first, 'nothing changed: the same answer');
    const created = Date.parse(first.created_at);
    assert.equal(Date.parse(first.authorization_expires_at) - created, 28 * DAY * 1000);
    const moved = await file.request({ method: 'POST', url: `/v1/accounts/${accountId}/sandbox/clock`, headers: bearer(file, token), payload: { advance_seconds: 35 * DAY } });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.ok(Date.parse((await list()).authorization_expires_at) > created + 35 * DAY * 1000, 'the expiry moved past day 35');
  });
});
