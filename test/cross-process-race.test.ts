/**
 * §9 and §12 across processes: real `kasse serve` processes, started together on one fresh
 * PostgreSQL database, share the work of many concurrent clients on one transaction: a
 * plain `kasse serve` and a `kasse serve --workers 2` (a cluster primary and two workers on
 * one port), three serving processes in all. The money rules must hold exactly as in one
 * process, and an idempotency key used through one process is answered from storage
 * through another.
 *
 * Needs a real PostgreSQL server (PGlite lives inside one process); skipped without one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, postgresServerReachable, POSTGRES_SERVER_URL } from './support/test-store.js';

function freshConnectionGet(url: string): Promise<void> {
  return new Promise((resolveGet, reject) => {
    get(url, { agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolveGet());
    }).on('error', reject);
  });
}

const bin = resolve(fileURLToPath(new URL('../bin/kasse.js', import.meta.url)));
const CLIENT = { id: 'race-client', secret: 'race-secret' };
const ACCOUNT = 'T00000001';

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  token: string;
}

function serve(databaseUrl: string, args: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], {
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl,
      KASSE_CLIENT_ID: CLIENT.id,
      KASSE_CLIENT_SECRET: CLIENT.secret,
      KASSE_ADMIN_EMAIL: 'admin@race.test',
      KASSE_ADMIN_PASSWORD: 'race-password',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"publicUrl":"(http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, url: match[1]!, output: () => output, token: '' });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolvePromise) => {
    if (server.child.exitCode !== null) return resolvePromise();
    server.child.removeAllListeners('exit');
    server.child.on('exit', () => resolvePromise());
    server.child.kill('SIGTERM');
  });
}

async function call(server: Server, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

async function authorizedTransaction(create: Server, payThrough: Server, amount = 1000): Promise<string> {
  const session = await call(create, 'POST', '/v1/sessions-profile', {
    profile_id: 'default',
    url: { return_url: 'https://shop.example/return' },
    order: { amount, currency: 'NOK', merchant_reference: `race-${Math.random().toString(36).slice(2)}` },
  });
  assert.equal(session.status, 200, JSON.stringify(session.body));
  const paid = await call(payThrough, 'POST', `/v1/sessions/${session.body.id}/pay`, { payment_product_type: 'klarna.klarna' });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  return paid.body.transaction_id;
}

const reachable = await postgresServerReachable();

describe('kasse serve processes on one PostgreSQL database', { skip: reachable ? false : `no PostgreSQL server reachable at ${new URL(POSTGRES_SERVER_URL).host}` }, () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let servers: Server[] = [];

  before(async () => {
    database = await createDatabase();
    // Started together on an empty database: migrations and bootstrap must happen once.
    servers = await Promise.all([serve(database.url), serve(database.url, ['--workers', '2'])]);
    for (const server of servers) {
      const response = await fetch(`${server.url}/v1/accounts/${ACCOUNT}/auth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', audience: `${server.url}/v1/accounts/${ACCOUNT}` }),
      });
      assert.equal(response.status, 200);
      server.token = ((await response.json()) as { access_token: string }).access_token;
    }
  });

  after(async () => {
    await Promise.all(servers.map(stop));
    await database?.drop();
  });

  test('starting together, the processes bootstrap the account once', () => {
    const created = servers.filter((server) => /Created account T00000001/.test(server.output()));
    assert.equal(created.length, 1, servers.map((server) => server.output().slice(0, 400)).join('\n---\n'));
  });

  test('--workers 2: both workers of the cluster answer on its one port', async () => {
    const cluster = servers[1]!;
    const answering = () => new Set([...cluster.output().matchAll(/"pid":(\d+)[^\n]*"msg":"request completed"/g)].map((match) => match[1]));
    // The second worker may still be starting when the first logs its URL.
    const deadline = Date.now() + 20_000;
    while (answering().size < 2 && Date.now() < deadline) {
      // A new connection each time (fetch would reuse the first worker's keep-alive sockets).
      await Promise.all(Array.from({ length: 20 }, () => freshConnectionGet(`${cluster.url}/healthz`)));
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
    }
    assert.equal(answering().size, 2, cluster.output().slice(-2000));
  });

  test('60 captures of 100 split across the servers against 1 000: exactly 10 succeed', async () => {
    const id = await authorizedTransaction(servers[0]!, servers[1]!);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(servers[i % 2]!, 'POST', `/v1/transactions/${id}/capture`, { amount: 100 })),
    );
    const succeeded = results.filter((result) => result.status === 200);
    assert.equal(succeeded.length, 10, JSON.stringify(results.map((result) => result.status)));
    for (const refused of results.filter((result) => result.status !== 200)) {
      assert.ok([400, 409].includes(refused.status), `unexpected ${refused.status} ${JSON.stringify(refused.body)}`);
      assert.ok(['TRANSACTION_NOT_CAPTURABLE', 'AMOUNT_EXCEEDS_CAPTURABLE'].includes(refused.body.error.code), refused.body.error.code);
    }
    for (const server of servers) {
      const transaction = (await call(server, 'GET', `/v1/transactions/${id}`)).body;
      assert.equal(transaction.captured_amount, 1000);
      assert.equal(transaction.status, 'CAPTURED');
      const captures = transaction.events.filter((event: any) => event.event === 'CAPTURE');
      assert.equal(captures.length, 10);
      assert.deepEqual(transaction.events.map((event: any) => event.id), transaction.events.map((_: unknown, i: number) => String(i + 1)));
    }
  });

  test('60 refunds of 100 split across the servers against 1 000 captured: exactly 10 succeed', async () => {
    const id = await authorizedTransaction(servers[1]!, servers[0]!);
    assert.equal((await call(servers[0]!, 'POST', `/v1/transactions/${id}/capture`, { amount: 1000 })).status, 200);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => call(servers[i % 2]!, 'POST', `/v1/transactions/${id}/refund`, { amount: 100 })),
    );
    assert.equal(results.filter((result) => result.status === 200).length, 10);
    for (const refused of results.filter((result) => result.status !== 200)) assert.ok([400, 409].includes(refused.status), `unexpected ${refused.status}`);
    const transaction = (await call(servers[1]!, 'GET', `/v1/transactions/${id}`)).body;
    assert.equal(transaction.refunded_amount, 1000);
    assert.equal(transaction.status, 'REFUNDED');
    assert.equal(transaction.events.filter((event: any) => event.event === 'REFUND').length, 10);
  });

  test('a key used through one process is answered from storage through the other', async () => {
    const id = await authorizedTransaction(servers[0]!, servers[0]!);
    const key = { 'idempotency-key': `cross-${id}` };
    const first = await call(servers[0]!, 'POST', `/v1/transactions/${id}/capture`, { amount: 300 }, key);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const replayed = await call(servers[1]!, 'POST', `/v1/transactions/${id}/capture`, { amount: 300 }, key);
    assert.equal(replayed.status, 200);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.body, first.body);
    const reused = await call(servers[1]!, 'POST', `/v1/transactions/${id}/capture`, { amount: 400 }, key);
    assert.equal(reused.status, 422);
    assert.equal(reused.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
    const transaction = (await call(servers[1]!, 'GET', `/v1/transactions/${id}`)).body;
    assert.equal(transaction.captured_amount, 300);
    assert.equal(transaction.events.filter((event: any) => event.event === 'CAPTURE').length, 1);
  });

  test('one key sent to both servers at once applies once; both answer with it', async () => {
    // A full capture: had the later request run its own capture, it would be refused
    // (nothing left to capture) instead of replaying the first one's answer.
    for (let round = 0; round < 5; round += 1) {
      const id = await authorizedTransaction(servers[round % 2]!, servers[(round + 1) % 2]!);
      const key = { 'idempotency-key': `both-${id}` };
      const [a, b] = await Promise.all(servers.map((server) => call(server, 'POST', `/v1/transactions/${id}/capture`, { amount: 1000 }, key)));
      assert.equal(a!.status, 200, JSON.stringify(a!.body));
      assert.equal(b!.status, 200, JSON.stringify(b!.body));
      assert.deepEqual(a!.body, b!.body);
      assert.deepEqual([a!.headers.get('idempotent-replayed'), b!.headers.get('idempotent-replayed')].sort(), ['true', null].sort());
      const transaction = (await call(servers[0]!, 'GET', `/v1/transactions/${id}`)).body;
      assert.equal(transaction.captured_amount, 1000);
      assert.equal(transaction.events.filter((event: any) => event.event === 'CAPTURE').length, 1);
    }
  });
});
