/**
 * Crash recovery (§12, §14): Kasse is killed with SIGKILL at random moments while clients
 * drive concurrent captures and refunds with idempotency keys. After each restart the
 * clients retry what went unanswered with the same keys. In the end every answered
 * operation is present exactly once, nothing unanswered-then-refused is present, and the
 * counters equal the sums of their events. On SQLite and (when reachable) PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKasse, type KasseProcess } from './support/kasse-process.js';
import { createDatabase, postgresServerReachable } from './support/test-store.js';

const KILLS = Number(process.env.KASSE_CRASH_KILLS ?? 4);
const MIN_ANSWERED = 1000;
const CLIENTS = 16;
const TRANSACTIONS = 12;

interface Operation {
  readonly key: string;
  readonly transactionId: string;
  readonly kind: 'capture' | 'refund';
  readonly amount: number;
  /** Final HTTP status once answered. */
  status?: number;
}

const env = (databaseUrl: string) => ({ DATABASE_URL: databaseUrl, KASSE_CLIENT_ID: 'crash-client', KASSE_CLIENT_SECRET: 'crash-secret' });

async function token(base: string): Promise<string> {
  const response = await fetch(`${base}/v1/accounts/T00000001/auth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('crash-client:crash-secret').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', audience: `${base}/v1/accounts/T00000001` }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function prepare(base: string, bearer: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < TRANSACTIONS; i += 1) {
    const session = await fetch(`${base}/v1/sessions-profile`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        profile_id: 'default',
        url: { return_url: 'https://shop.example/r' },
        order: { amount: 100_000_000, currency: 'NOK', merchant_reference: `crash-${i}`, items: [{ line_id: '1', amount: 100_000_000, quantity: 1 }] },
      }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const paid = await fetch(`${base}/v1/sessions/${session.id}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payment_product_type: 'klarna.klarna' }),
    }).then((r) => r.json() as Promise<{ transaction_id: string }>);
    ids.push(paid.transaction_id);
  }
  return ids;
}

/** Sends one operation; returns its status, or undefined when the server did not answer. */
async function send(base: string, bearer: string, operation: Operation): Promise<number | undefined> {
  const body =
    operation.kind === 'capture'
      ? { amount: operation.amount, capture_reference: operation.key }
      : { amount: operation.amount, refund_reference: operation.key };
  try {
    const response = await fetch(`${base}/v1/transactions/${operation.transactionId}/${operation.kind}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', 'idempotency-key': operation.key },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

async function scenario(databaseUrl: string): Promise<{ answered: number; kills: number; operations: number }> {
  const operations: Operation[] = [];
  let next = 0;
  let server: KasseProcess = await startKasse(env(databaseUrl));
  let bearer = await token(server.url);
  const ids = await prepare(server.url, bearer);

  const newOperation = (): Operation => {
    next += 1;
    const transactionId = ids[next % ids.length]!;
    const kind = next % 3 === 0 ? 'refund' : 'capture';
    const operation: Operation = { key: `op-${next}`, transactionId, kind, amount: kind === 'capture' ? 100 : 50 };
    operations.push(operation);
    return operation;
  };

  let kills = 0;
  for (let round = 0; round < KILLS; round += 1) {
    const unanswered = operations.filter((operation) => operation.status === undefined);
    let stop = false;
    const base = server.url;
    // The kill comes at a random moment: after a random number of answers in this round.
    const killAfter = 260 + Math.floor(Math.random() * 150);
    let answeredThisRound = 0;
    let reached: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => (reached = resolve));
    const client = async () => {
      while (!stop) {
        const operation = unanswered.pop() ?? newOperation();
        const status = await send(base, bearer, operation);
        if (status !== undefined && status < 500) operation.status = status;
        if (status === undefined) return; // the server is gone
        answeredThisRound += 1;
        if (answeredThisRound >= killAfter) reached();
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await Promise.race([enough, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    await server.kill();
    stop = true;
    kills += 1;
    await Promise.all(clients);
    server = await startKasse(env(databaseUrl));
    bearer = await token(server.url);
  }

  // Retry everything still unanswered, with the same keys, until answered.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const unanswered = operations.filter((operation) => operation.status === undefined);
    if (unanswered.length === 0) break;
    await Promise.all(
      unanswered.map(async (operation) => {
        const status = await send(server.url, bearer, operation);
        if (status !== undefined && status < 500) operation.status = status;
      }),
    );
  }
  assert.deepEqual(operations.filter((operation) => operation.status === undefined).map((o) => o.key), [], 'every operation is answered in the end');
  assert.equal(operations.filter((operation) => operation.status === 409 && operation.kind === 'capture').length, 0, 'no capture was refused as in flight');

  // Check the ledger.
  const byReference = new Map<string, number>();
  for (const id of ids) {
    const transaction = (await fetch(`${server.url}/v1/transactions/${id}`, { headers: { authorization: `Bearer ${bearer}` } }).then((r) => r.json())) as {
      amount: number;
      captured_amount: number;
      refunded_amount: number;
      voided_amount: number;
      events: Array<{ event: string; success: boolean; amount?: number; event_reference?: string; id: string }>;
    };
    const sum = (kind: string) => transaction.events.filter((e) => e.event === kind && e.success).reduce((total, e) => total + (e.amount ?? 0), 0);
    assert.equal(transaction.captured_amount, sum('CAPTURE'), `${id}: captured equals its CAPTURE events`);
    assert.equal(transaction.refunded_amount, sum('REFUND'), `${id}: refunded equals its REFUND events`);
    assert.ok(transaction.captured_amount + transaction.voided_amount <= transaction.amount);
    assert.ok(transaction.refunded_amount <= transaction.captured_amount);
    assert.deepEqual(transaction.events.map((e) => e.id), transaction.events.map((_, i) => String(i + 1)), 'event ids have no gaps');
    for (const event of transaction.events) {
      if (event.event_reference) byReference.set(event.event_reference, (byReference.get(event.event_reference) ?? 0) + 1);
    }
  }
  for (const operation of operations) {
    const applied = byReference.get(operation.key) ?? 0;
    if (operation.status === 200) assert.equal(applied, 1, `${operation.key} answered 200 is applied exactly once (found ${applied})`);
    else assert.equal(applied, 0, `${operation.key} answered ${operation.status} left no event`);
  }
  await server.stop();
  const answered = operations.filter((operation) => operation.status !== undefined).length;
  return { answered, kills, operations: operations.length };
}

test('SQLite: SIGKILL under load loses no answered operation and doubles none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kasse-crash-'));
  try {
    const result = await scenario(`sqlite:${join(dir, 'kasse.db')}`);
    console.log(`crash (sqlite): ${result.kills} kills, ${result.answered} answered operations`);
    assert.ok(result.kills >= 3);
    assert.ok(result.answered >= MIN_ANSWERED, `only ${result.answered} operations answered`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL: SIGKILL under load loses no answered operation and doubles none', async (t) => {
  if (!(await postgresServerReachable())) {
    t.skip('no PostgreSQL server reachable');
    return;
  }
  const database = await createDatabase();
  try {
    const result = await scenario(database.url);
    console.log(`crash (postgres): ${result.kills} kills, ${result.answered} answered operations`);
    assert.ok(result.kills >= 3);
    assert.ok(result.answered >= MIN_ANSWERED, `only ${result.answered} operations answered`);
  } finally {
    await database.drop();
  }
});
