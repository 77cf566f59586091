/**
 * §10 and §14: deliveries survive a crash. A real `kasse serve` has callbacks and webhooks
 * pending for a receiver that is down (every attempt fails), is killed with SIGKILL,
 * restarted on the same database with the receiver back up, and every delivery arrives,
 * each once, no attempt number sent twice, per transaction in event order, and the delivery
 * log accounts for every attempt. Runs on SQLite, and on PostgreSQL when a server answers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKasse, type KasseProcess } from './support/kasse-process.js';
import { startReceiver, type Receiver } from './support/receiver.js';
import { createDatabase, postgresServerReachable } from './support/test-store.js';

const ACCOUNT = 'T00000001';
const CLIENT = { id: 'crash-client', secret: 'crash-secret' };
const TRANSACTIONS = 4;

type Server = KasseProcess;

function serve(databaseUrl: string, cwd: string): Promise<Server> {
  return startKasse(
    {
      DATABASE_URL: databaseUrl,
      KASSE_CLIENT_ID: CLIENT.id,
      KASSE_CLIENT_SECRET: CLIENT.secret,
      KASSE_ADMIN_EMAIL: 'admin@crash.test',
      KASSE_ADMIN_PASSWORD: 'crash-password',
      // Fast retries and a short lease, so the test takes seconds.
      KASSE_WEBHOOK_RETRY_BASE_MS: '100',
      KASSE_WEBHOOK_RETRY_MAX_MS: '400',
      KASSE_WEBHOOK_TIMEOUT_MS: '1000',
    },
    { cwd },
  );
}

async function api(server: Server, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

async function tokenFor(server: Server): Promise<string> {
  const response = await fetch(`${server.url}/v1/accounts/${ACCOUNT}/auth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', audience: `${server.url}/v1/accounts/${ACCOUNT}` }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

interface Delivery {
  readonly id: string;
  readonly transaction_id: string;
  readonly kind: string;
  readonly event: string;
  readonly event_id: string;
  readonly status: string;
  readonly attempt_count: number;
  readonly attempts: Array<{ attempt: number; status_code: number | null; error: string | null; outcome: string; latency_ms: number | null }>;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
}

async function crashAndRecover(databaseUrl: string): Promise<void> {
  const cwd = mkdtempSync(join(tmpdir(), 'kasse-webhook-crash-'));
  // A port for the receiver, which stays down until after the crash.
  const probe = await startReceiver();
  const port = probe.port;
  await probe.close();
  let receiver: Receiver | undefined;
  let server = await serve(databaseUrl, cwd);
  try {
    let token = await tokenFor(server);
    await api(server, token, 'POST', '/v1/admin/signature');
    await api(server, token, 'POST', `/v1/accounts/${ACCOUNT}/hooks/subscriptions`, {
      config: { url: `http://127.0.0.1:${port}/hooks`, content_type: 'application/json', secret: 'crash-secret' },
      events: ['checkout_transaction', 'checkout_authorization'],
    });
    const transactionIds: string[] = [];
    for (let i = 0; i < TRANSACTIONS; i += 1) {
      const session = await api(server, token, 'POST', '/v1/sessions-profile', {
        profile_id: 'default',
        url: { return_url: 'https://shop.example/return', callback_url: `http://127.0.0.1:${port}/callback?method=POST&report_event=CAPTURE` },
        order: { amount: 1000, currency: 'NOK', merchant_reference: `crash-${i}` },
      });
      const paid = await api(server, token, 'POST', `/v1/sessions/${session.id}/pay`, { payment_product_type: 'vipps' });
      await api(server, token, 'POST', `/v1/transactions/${paid.transaction_id}/capture`, { amount: 1000 });
      transactionIds.push(paid.transaction_id);
    }
    // Per transaction: 2 callbacks (authorization, capture) and 3 webhooks (two changes, one authorization).
    const expected = TRANSACTIONS * 5;
    const log = () => api(server, token, 'GET', `/v1/accounts/${ACCOUNT}/hooks/deliveries?limit=100`) as Promise<Delivery[]>;
    // Wait until the first delivery of every transaction and target has failed at least twice: the worker is busy retrying.
    const before = await waitFor('failed attempts', async () => {
      const deliveries = await log();
      const firsts = deliveries.filter((d) => d.event === 'AUTHORIZE' || (d.event === 'checkout_transaction' && d.event_id === '1'));
      return deliveries.length === expected && firsts.length === TRANSACTIONS * 2 && firsts.every((d) => d.attempt_count >= 2) ? deliveries : undefined;
    });
    assert.ok(before.every((d) => d.status === 'pending'));
    assert.ok(before.flatMap((d) => d.attempts).every((a) => a.outcome === 'retry' && a.status_code === null && /ECONNREFUSED/.test(a.error ?? '')));

    await server.kill();
    receiver = await startReceiver(port);
    server = await serve(databaseUrl, cwd);
    token = await tokenFor(server);
    const after = await waitFor('every delivery delivered', async () => {
      const deliveries = await log();
      return deliveries.length === expected && deliveries.every((d) => d.status === 'delivered') ? deliveries : undefined;
    });

    // Every delivery arrived exactly once (the receiver was down at the crash), at the attempt the log names.
    const received = receiver.requests.map((request) => ({
      id: String(request.headers['kasse-delivery-id']),
      attempt: Number(request.headers['kasse-delivery-attempt']),
      request,
    }));
    assert.equal(received.length, expected, 'one request per delivery');
    assert.deepEqual(new Set(received.map((r) => r.id)), new Set(after.map((d) => d.id)));
    assert.equal(new Set(received.map((r) => `${r.id}#${r.attempt}`)).size, received.length, 'no attempt sent twice');
    for (const delivery of after) {
      const numbers = delivery.attempts.map((a) => a.attempt);
      assert.deepEqual(numbers, Array.from({ length: delivery.attempt_count }, (_, i) => i + 1), `every attempt of ${delivery.id} is logged`);
      const last = delivery.attempts.at(-1)!;
      assert.equal(last.status_code, 200);
      assert.equal(last.outcome, 'delivered');
      assert.ok(Number.isInteger(last.latency_ms));
      assert.ok(delivery.attempts.slice(0, -1).every((a) => a.outcome === 'retry' && a.status_code === null));
      assert.equal(received.find((r) => r.id === delivery.id)!.attempt, delivery.attempt_count);
    }
    // Per transaction, the callbacks arrived in event order: the authorization before the capture.
    for (const transactionId of transactionIds) {
      const events = received
        .filter((r) => r.request.url.startsWith('/callback') && new URL(r.request.url, 'http://x').searchParams.get('transaction_id') === transactionId)
        .map((r) => new URL(r.request.url, 'http://x').searchParams.get('event'));
      assert.deepEqual(events, [null, 'CAPTURE']);
    }
    assert.ok(received.every((r) => !r.request.url.startsWith('/callback') || typeof r.request.headers['dintero-signature'] === 'string'));
  } finally {
    await server.stop();
    await receiver?.close();
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe('deliveries survive SIGKILL', async () => {
  test('on SQLite', { timeout: 90_000 }, () => crashAndRecover('sqlite:kasse.db'));

  const reachable = await postgresServerReachable();
  test('on PostgreSQL', { timeout: 90_000, skip: reachable ? false : 'no PostgreSQL server reachable' }, async () => {
    const database = await createDatabase();
    try {
      await crashAndRecover(database.url);
    } finally {
      await database.drop();
    }
  });
});
