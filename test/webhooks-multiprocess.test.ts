/**
 * The outbox across processes (§10, §12): two `kasse serve` processes on one PostgreSQL
 * database both run delivery workers. Every callback written to the outbox is delivered,
 * and none twice (no delivery is claimed by both). Needs a real PostgreSQL server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKasse, type KasseProcess } from './support/kasse-process.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { createDatabase, postgresServerReachable } from './support/test-store.js';

const SESSIONS = 60;
let skip: string | false = false;
let database: { url: string; drop(): Promise<void> } | undefined;
let servers: KasseProcess[] = [];
let receiver: Receiver;

before(async () => {
  if (!(await postgresServerReachable())) {
    skip = 'no PostgreSQL server reachable';
    return;
  }
  database = await createDatabase();
  receiver = await startReceiver();
  const env = { DATABASE_URL: database.url, KASSE_CLIENT_ID: 'hooks-client', KASSE_CLIENT_SECRET: 'hooks-secret' };
  // The first start migrates and bootstraps; the second joins the same database.
  servers = [await startKasse(env)];
  servers.push(await startKasse(env));
});

after(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await receiver?.close();
  await database?.drop();
});

async function token(base: string): Promise<string> {
  const response = await fetch(`${base}/v1/accounts/T00000001/auth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('hooks-client:hooks-secret').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', audience: `${base}/v1/accounts/T00000001` }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

test('two processes deliver every callback of the outbox exactly once', async (t) => {
  if (skip) return t.skip(skip);
  const tokens = await Promise.all(servers.map((server) => token(server.url)));
  const transactionIds = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, i) => {
      const server = servers[i % 2]!;
      const session = (await fetch(`${server.url}/v1/sessions-profile`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[i % 2]}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          profile_id: 'default',
          url: { return_url: 'https://shop.example/r', callback_url: `${receiver.origin}/callback?report_event=CAPTURE` },
          order: { amount: 1000, currency: 'NOK', merchant_reference: `multi-${i}` },
        }),
      }).then((response) => response.json())) as { id: string };
      const paid = (await fetch(`${server.url}/v1/sessions/${session.id}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ payment_product_type: 'vipps' }),
      }).then((response) => response.json())) as { transaction_id: string };
      // A capture through the other process adds a second delivery for the same transaction.
      const other = (i + 1) % 2;
      const captured = await fetch(`${servers[other]!.url}/v1/transactions/${paid.transaction_id}/capture`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[other]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 1000 }),
      });
      assert.equal(captured.status, 200);
      return paid.transaction_id;
    }),
  );
  const expected = SESSIONS * 2;
  const deadline = Date.now() + 60_000;
  while (receiver.requests.length < expected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  // Give a duplicate, if there were one, the chance to arrive.
  await new Promise((resolve) => setTimeout(resolve, 1500));

  const deliveryIds = receiver.requests.map((request) => String(request.headers['kasse-delivery-id']));
  assert.equal(receiver.requests.length, expected, `expected ${expected} callbacks, got ${receiver.requests.length}`);
  assert.equal(new Set(deliveryIds).size, expected, 'no delivery arrived twice');
  for (const id of transactionIds) {
    const events = receiver.requests
      .filter((request) => new URL(request.url, receiver.origin).searchParams.get('transaction_id') === id)
      .map((request) => new URL(request.url, receiver.origin).searchParams.get('event') ?? 'AUTHORIZE');
    assert.equal(events.length, 2, `${id}: ${events.join(',')}`);
  }
});
