/**
 * The storage interface's contract, written once and run against every engine: SQLite,
 * and PostgreSQL (the real server in a fresh database when one is reachable, else PGlite).
 * Services rely on exactly these behaviours; an engine that passes here can carry them.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import { openStore } from '../src/store/open-store.js';
import {
  IdempotencyKeyTaken,
  type IdempotencyRecord,
  type Repositories,
  type SessionRecord,
  type Store,
  type TransactionEventRecord,
  type TransactionRecord,
} from '../src/store/store.js';
import type { TransactionStatus } from '../src/domain/status.js';
import { isKasseError } from '../src/domain/errors.js';
import type { DeliveryRecord } from '../src/store/webhook-store.js';
import type { PaymentProductType } from '../src/domain/products.js';
import { createDatabase, openPgliteStore, openTestStore, postgresServerReachable } from './support/test-store.js';

interface Engine {
  readonly name: string;
  open(): Promise<{ store: Store; backend: string; release(): Promise<void> }>;
}

const engines: Engine[] = [
  { name: 'sqlite', open: () => openTestStore('sqlite::memory:') },
  {
    name: 'postgres',
    async open() {
      if (await postgresServerReachable()) {
        const database = await createDatabase();
        const store = await openStore(database.url);
        return {
          store,
          backend: `postgres (server, database ${new URL(database.url).pathname.slice(1)})`,
          async release() {
            await store.close();
            await database.drop();
          },
        };
      }
      const store = await openPgliteStore();
      return { store, backend: 'postgres (PGlite: no server reachable)', release: () => store.close() };
    },
  },
];

const A = 'T00000001';
const B = 'T00000002';
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
let serial = 0;
const newId = (account: string) => `${account}.${String(++serial).padStart(22, '0')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function transaction(account: string, fields: {
  createdAt?: string;
  status?: TransactionStatus;
  type?: PaymentProductType;
  currency?: string;
  amount?: number;
  merchantReference?: string;
  merchantReference2?: string | null;
  email?: string | null;
  phone?: string | null;
  sessionId?: string;
} = {}): TransactionRecord {
  const createdAt = fields.createdAt ?? at(0);
  const amount = fields.amount ?? 1000;
  return {
    id: newId(account),
    accountId: account,
    sessionId: fields.sessionId ?? newId(account),
    currency: fields.currency ?? 'NOK',
    merchantReference: fields.merchantReference ?? 'order-1',
    merchantReference2: fields.merchantReference2 ?? null,
    customerEmail: fields.email ?? null,
    customerPhone: fields.phone ?? null,
    status: fields.status ?? 'AUTHORIZED',
    state: {
      paymentProductType: fields.type ?? 'klarna.klarna',
      authorization: 'AUTHORIZED',
      amount,
      capturedAmount: 0,
      refundedAmount: 0,
      voidedAmount: 0,
      items: [{ line_id: '1', amount, quantity: 1, description: 'Chair', captured_amount: 0, refunded_amount: 0 }],
      authorizedAt: createdAt,
      authorizationExpiresAt: at(28 * 86400),
    },
    details: { url: { redirect_url: 'https://shop.example/return' }, customer: { email: fields.email ?? undefined }, sandbox: { capture: 'succeed' } },
    eventCount: 0,
    createdAt,
    updatedAt: createdAt,
    version: 1,
  };
}

function session(account: string, createdAt: string): SessionRecord {
  return {
    id: newId(account),
    accountId: account,
    status: 'ACTIVE',
    transactionId: null,
    merchantReference: 'order-s',
    data: { url: { return_url: 'https://shop.example/return' }, order: { amount: 100, currency: 'NOK' }, configuration: {}, events: [] },
    expiresAt: null,
    createdAt,
    updatedAt: createdAt,
    version: 1,
  };
}

function event(seq: number, kind = 'CAPTURE', amount = 100): TransactionEventRecord {
  return { id: String(seq), event: kind, success: true, amount, transaction_status: 'PARTIALLY_CAPTURED', created_at: at(seq) };
}

function delivery(subscriptionId: string, transactionId: string, eventSeq: number, createdAt: string): DeliveryRecord {
  return {
    id: `delivery-${transactionId}-${eventSeq}`,
    accountId: A,
    transactionId,
    kind: 'webhook',
    subscriptionId,
    target: subscriptionId,
    event: 'checkout_transaction',
    eventSeq,
    method: 'POST',
    url: 'https://example.com/hook',
    body: '{}',
    status: 'pending',
    attemptCount: 0,
    maxAttempts: 20,
    dueAtMs: Date.parse(createdAt),
    lastStatusCode: null,
    lastError: null,
    deliveredAt: null,
    createdAt,
  };
}

function idempotency(account: string, key: string, fingerprint = 'f1'): IdempotencyRecord {
  return { accountId: account, key, fingerprint, statusCode: 200, responseBody: '{"ok":true}', createdAt: at(0) };
}

/** Captures `amount` on a transaction the way services do: locked read, version-checked write. */
function captureIn(store: Store, id: string, amount: number, hooks: { afterRead?: () => Promise<void> } = {}) {
  return store.transaction(async (tx) => {
    const record = await tx.getTransaction(A, id, { forUpdate: true });
    assert.ok(record);
    await hooks.afterRead?.();
    const next = { ...record, state: { ...record.state, capturedAmount: record.state.capturedAmount + amount }, version: record.version + 1 };
    return { readVersion: record.version, updated: await tx.updateTransaction(next, record.version) };
  });
}

for (const engine of engines) {
  describe(`storage contract: ${engine.name}`, () => {
    let store: Store;
    let release: () => Promise<void>;

    before(async () => {
      const opened = await engine.open();
      ({ store, release } = opened);
      console.log(`# store contract runs on ${opened.backend}`);
      for (const id of [A, B]) await store.insertAccount({ id, name: id, clockOffsetMs: 0, createdAt: at(0) });
    });
    after(() => release());

    test('accounts, clients, users and signing keys round-trip', async () => {
      assert.equal((await store.getAccount(A))?.id, A);
      assert.equal(await store.getAccount('T99999999'), undefined);
      assert.deepEqual((await store.listAccounts()).map((account) => account.id), [A, B]);
      // Beyond 2^32, still exact: bigint columns come back as numbers, not strings.
      await store.setClockOffset(B, 2 ** 40 + 1);
      assert.equal((await store.getAccount(B))?.clockOffsetMs, 2 ** 40 + 1);
      await store.setClockOffset(B, 0);

      await store.insertClient({ id: 'client-1', accountId: A, name: 'c', secretHash: 'h', scopes: ['read:checkout', 'write:checkout'], createdAt: at(0) });
      assert.deepEqual((await store.getClient('client-1'))?.scopes, ['read:checkout', 'write:checkout']);
      await store.insertUser({ id: 'u1', email: 'Staff@Example.com', passwordHash: 'h', accountIds: [A, B], createdAt: at(0) });
      const user = await store.getUserByEmail('staff@example.COM');
      assert.equal(user?.email, 'staff@example.com');
      assert.deepEqual(user?.accountIds, [A, B]);
      await store.insertSigningKey({ kid: 'k1', alg: 'ES256', privateJwk: '{}', publicJwk: '{}', createdAt: at(0) });
      assert.deepEqual((await store.listSigningKeys()).map((key) => key.kid), ['k1']);
    });

    test('a transaction round-trips exactly; updates check the version', async () => {
      const record = transaction(A, { amount: 2 ** 53 - 1, email: 'a@b.example', phone: '+4799999999', merchantReference2: 'ref-2' });
      await store.insertTransaction(record);
      assert.deepEqual(await store.getTransaction(A, record.id), record);

      const captured: TransactionRecord = {
        ...record,
        status: 'PARTIALLY_CAPTURED',
        state: { ...record.state, capturedAmount: 100 },
        eventCount: 1,
        updatedAt: at(5),
        version: 2,
      };
      assert.equal(await store.updateTransaction(captured, 1), true);
      assert.deepEqual(await store.getTransaction(A, record.id), captured);
      // A writer that read version 1 has lost the race: nothing changes.
      assert.equal(await store.updateTransaction({ ...captured, state: { ...captured.state, capturedAmount: 999 }, version: 2 }, 1), false);
      assert.deepEqual(await store.getTransaction(A, record.id), captured);
    });

    test('an update given the row as read writes what changed, and the list filters see it', async () => {
      const inserted = transaction(A, { merchantReference2: 'before', email: 'a@b.example' });
      await store.insertTransaction(inserted);
      const record = (await store.getTransaction(A, inserted.id))!;
      const captured: TransactionRecord = {
        ...record,
        status: 'PARTIALLY_CAPTURED',
        merchantReference2: 'after',
        state: { ...record.state, capturedAmount: 100 },
        eventCount: 1,
        updatedAt: at(5),
        version: 2,
      };
      assert.equal(await store.updateTransaction(captured, record), true);
      assert.deepEqual(await store.getTransaction(A, record.id), captured);
      const listed = async (filter: Partial<Parameters<typeof store.listTransactions>[0]>) =>
        (await store.listTransactions({ accountId: A, limit: 10, ...filter })).map((row) => row.id);
      assert.ok((await listed({ status: ['PARTIALLY_CAPTURED'] })).includes(record.id));
      assert.ok(!(await listed({ status: [record.status] })).includes(record.id));
      assert.deepEqual(await listed({ merchantReference2: 'after' }), [record.id]);
      // Only the version is compared, not the other columns: a stale reader still loses.
      assert.equal(await store.updateTransaction({ ...captured, version: 3 }, record), false);
      // An unchanged row still moves its version.
      assert.equal(await store.updateTransaction({ ...captured, version: 3 }, captured), true);
      assert.equal((await store.getTransaction(A, record.id))?.version, 3);
    });

    test('the money check constraint refuses an impossible row', async () => {
      const record = transaction(A);
      await store.insertTransaction(record);
      const overCaptured = { ...record, state: { ...record.state, capturedAmount: record.state.amount + 1 }, version: 2 };
      await assert.rejects(store.updateTransaction(overCaptured, 1));
      assert.equal((await store.getTransaction(A, record.id))?.state.capturedAmount, 0);
    });

    test('one account never sees another account’s records', async () => {
      const mine = transaction(A);
      const theirs = transaction(B, { merchantReference: 'shared-ref' });
      await store.insertTransaction(mine);
      await store.insertTransaction(theirs);
      assert.equal(await store.getTransaction(A, theirs.id), undefined);
      assert.equal(await store.getTransaction(A, theirs.id, { forUpdate: true }), undefined);
      assert.equal((await store.listTransactions({ accountId: A, limit: 100, merchantReference: 'shared-ref' })).length, 0);
      assert.deepEqual((await store.listTransactions({ accountId: B, limit: 100 })).map((t) => t.id), [theirs.id]);
      const theirSession = session(B, at(1));
      await store.insertSession(theirSession);
      assert.equal(await store.getSession(A, theirSession.id), undefined);
      assert.equal((await store.listSessions({ accountId: A, limit: 100 })).some((s) => s.id === theirSession.id), false);
      await store.insertIdempotency(idempotency(B, 'only-b'));
      assert.equal(await store.getIdempotency(A, 'only-b'), undefined);
      assert.equal((await store.getIdempotency(B, 'only-b'))?.fingerprint, 'f1');
    });

    describe('listing transactions', () => {
      const account = 'T00000003';
      const all: TransactionRecord[] = [];

      before(async () => {
        await store.insertAccount({ id: account, name: account, clockOffsetMs: 0, createdAt: at(0) });
        const types: PaymentProductType[] = ['klarna.klarna', 'vipps', 'payex.creditcard', 'swish.swish'];
        for (let i = 0; i < 24; i += 1) {
          // Pairs share a timestamp, so paging must order by (created_at, id).
          const record = transaction(account, {
            createdAt: at(100 + Math.floor(i / 2)),
            type: types[i % 4]!,
            status: i % 3 === 0 ? 'CAPTURED' : 'AUTHORIZED',
            currency: i % 5 === 0 ? 'SEK' : 'NOK',
            amount: 100 * (i + 1),
            merchantReference: `order-${i}`,
            merchantReference2: i === 7 ? 'batch-7' : null,
            email: i === 9 ? 'nine@example.com' : null,
            phone: i === 10 ? '+4712345678' : null,
          });
          all.push(record);
          await store.insertTransaction(record);
        }
      });

      const ids = (records: TransactionRecord[]) => records.map((record) => record.id);
      const list = (filter: Record<string, unknown> = {}) => store.listTransactions({ accountId: account, limit: 100, ...filter });
      const expected = (keep: (record: TransactionRecord, index: number) => boolean) =>
        ids(all.filter(keep).sort((x, y) => (x.createdAt === y.createdAt ? (x.id < y.id ? 1 : -1) : x.createdAt < y.createdAt ? 1 : -1)));

      test('newest first, and every filter narrows as documented', async () => {
        assert.deepEqual(ids(await list()), expected(() => true));
        assert.deepEqual(ids(await list({ status: ['CAPTURED'] })), expected((r) => r.status === 'CAPTURED'));
        assert.deepEqual(ids(await list({ paymentProduct: ['payex', 'swish'] })), expected((r) => /^(payex|swish)/.test(r.state.paymentProductType)));
        assert.deepEqual(ids(await list({ paymentProductType: ['vipps'] })), expected((r) => r.state.paymentProductType === 'vipps'));
        assert.deepEqual(ids(await list({ currency: ['SEK'] })), expected((r) => r.currency === 'SEK'));
        assert.deepEqual(ids(await list({ merchantReference: 'order-3' })), [all[3]!.id]);
        assert.deepEqual(ids(await list({ merchantReference2: 'batch-7' })), [all[7]!.id]);
        assert.deepEqual(ids(await list({ sessionId: all[4]!.sessionId })), [all[4]!.id]);
        assert.deepEqual(ids(await list({ amount: 500 })), [all[4]!.id]);
        assert.deepEqual(ids(await list({ amountGte: 2000, amountLte: 2200 })), expected((r) => r.state.amount >= 2000 && r.state.amount <= 2200));
        assert.deepEqual(ids(await list({ createdAtGte: at(110), createdAtLte: at(111) })), expected((r) => r.createdAt >= at(110) && r.createdAt <= at(111)));
        for (const search of [all[5]!.id, all[6]!.sessionId, 'order-8', 'batch-7', 'NINE@example.com', '+4712345678']) {
          assert.equal((await list({ search })).length, 1, `search ${search}`);
        }
        assert.deepEqual(ids(await list({ status: ['CAPTURED'], currency: ['NOK'], amountGte: 1000 })), expected((r) => r.status === 'CAPTURED' && r.currency === 'NOK' && r.state.amount >= 1000));
      });

      test('keyset paging visits every transaction once, in order', async () => {
        const seen: string[] = [];
        let startingAfter: { createdAt: string; id: string } | undefined;
        for (;;) {
          const page = await list({ limit: 5, ...(startingAfter ? { startingAfter } : {}) });
          seen.push(...ids(page));
          if (page.length < 5) break;
          const last = page.at(-1)!;
          startingAfter = { createdAt: last.createdAt, id: last.id };
        }
        assert.deepEqual(seen, expected(() => true));
        const filtered = await list({ limit: 3, status: ['AUTHORIZED'], startingAfter: { createdAt: at(105), id: all[11]!.id } });
        assert.deepEqual(ids(filtered), expected((r) => r.status === 'AUTHORIZED' && (r.createdAt < at(105) || (r.createdAt === at(105) && r.id < all[11]!.id))).slice(0, 3));
      });
    });

    test('sessions: insert, read, version-checked update, keyset list', async () => {
      const account = 'T00000004';
      await store.insertAccount({ id: account, name: account, clockOffsetMs: 0, createdAt: at(0) });
      const sessions = [session(account, at(10)), session(account, at(11)), session(account, at(11))];
      for (const record of sessions) await store.insertSession(record);
      assert.deepEqual(await store.getSession(account, sessions[0]!.id), sessions[0]);
      const paid: SessionRecord = { ...sessions[0]!, status: 'PAID', transactionId: 'T00000004.x', version: 2, updatedAt: at(12) };
      assert.equal(await store.updateSession(paid, 1), true);
      assert.equal(await store.updateSession({ ...paid, status: 'CANCELLED', version: 2 }, 1), false);
      assert.deepEqual(await store.getSession(account, paid.id, { forUpdate: true }), paid);
      const first = await store.listSessions({ accountId: account, limit: 2 });
      assert.equal(first.length, 2);
      const last = first.at(-1)!;
      const rest = await store.listSessions({ accountId: account, limit: 2, startingAfter: { createdAt: last.createdAt, id: last.id } });
      assert.deepEqual([...first, ...rest].map((s) => s.id).sort(), sessions.map((s) => s.id).sort());
      assert.equal(rest.length, 1);
      assert.equal(rest[0]!.id, sessions[0]!.id, 'the oldest comes last');
    });

    test('events: appended in order, listed per transaction, never overwritten', async () => {
      const one = transaction(A);
      const two = transaction(A);
      await store.insertTransaction(one);
      await store.insertTransaction(two);
      await store.appendEvents(one.id, [event(1, 'INITIALIZE'), event(2, 'AUTHORIZE')]);
      await store.appendEvents(two.id, [event(1, 'INITIALIZE')]);
      await store.appendEvents(one.id, [event(3, 'CAPTURE', 250)]);
      await store.appendEvents(one.id, []);
      const events = await store.listEvents([one.id, two.id, 'T00000001.none']);
      assert.deepEqual(events.get(one.id)?.map((e) => [e.id, e.event]), [['1', 'INITIALIZE'], ['2', 'AUTHORIZE'], ['3', 'CAPTURE']]);
      assert.deepEqual(events.get(one.id)?.[2], event(3, 'CAPTURE', 250));
      assert.equal(events.get(two.id)?.length, 1);
      assert.deepEqual(events.get('T00000001.none'), []);
      assert.equal((await store.listEvents([])).size, 0);
      await assert.rejects(store.appendEvents(one.id, [event(3, 'REFUND')]), 'an event id is never reused');
      assert.equal((await store.listEvents([one.id])).get(one.id)?.[2]?.event, 'CAPTURE');
    });

    test('a NUL character in a value is bad input (or simply matches nothing), never a database fault', async () => {
      const lookups = [
        () => store.getTransaction(A, 'T00000001.\u0000'),
        () => store.getIdempotency(A, 'key\u0000'),
        () => store.listTransactions({ accountId: A, limit: 5, merchantReference: 'order\u0000' }),
      ];
      for (const lookup of lookups) {
        try {
          const found = await lookup();
          assert.ok(found === undefined || (Array.isArray(found) && found.length === 0));
        } catch (error) {
          assert.ok(isKasseError(error) && error.code === 'INVALID_REQUEST', String(error));
        }
      }
    });

    test('idempotency records: stored per key; a second insert raises IdempotencyKeyTaken', async () => {
      await store.insertIdempotency(idempotency(A, 'key-1'));
      assert.deepEqual(await store.getIdempotency(A, 'key-1'), idempotency(A, 'key-1'));
      assert.equal(await store.getIdempotency(A, 'key-2'), undefined);
      await assert.rejects(store.insertIdempotency(idempotency(A, 'key-1', 'f2')), IdempotencyKeyTaken);
      assert.equal((await store.getIdempotency(A, 'key-1'))?.fingerprint, 'f1');
    });

    test('transaction(): all writes commit together or none do', async () => {
      const record = transaction(A);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insertTransaction(record);
          await tx.appendEvents(record.id, [event(1, 'INITIALIZE')]);
          await tx.insertIdempotency(idempotency(A, 'atomic'));
          throw new Error('refused after writing');
        }),
        /refused after writing/,
      );
      assert.equal(await store.getTransaction(A, record.id), undefined);
      assert.equal(await store.getIdempotency(A, 'atomic'), undefined);
      assert.deepEqual((await store.listEvents([record.id])).get(record.id), []);
    });

    test('transaction(): a version conflict is retried with a fresh read', async () => {
      const record = transaction(A);
      await store.insertTransaction(record);
      let attempts = 0;
      const result = await store.transaction(async (tx) => {
        attempts += 1;
        const current = await tx.getTransaction(A, record.id, { forUpdate: true });
        if (attempts === 1) throw Object.assign(new Error('lost a race'), { retryable: true });
        return current?.version;
      });
      assert.equal(attempts, 2);
      assert.equal(result, 1);
    });

    test('forUpdate serialises two concurrent writers of one transaction', async () => {
      const record = transaction(A);
      await store.insertTransaction(record);
      let firstHasRead!: () => void;
      const firstRead = new Promise<void>((resolve) => (firstHasRead = resolve));
      let firstCommittedAt = 0;
      const first = captureIn(store, record.id, 100, {
        afterRead: async () => {
          firstHasRead();
          await sleep(150);
        },
      }).then((result) => {
        firstCommittedAt = performance.now();
        return result;
      });
      await firstRead;
      let secondReadAt = 0;
      const second = captureIn(store, record.id, 100, { afterRead: async () => void (secondReadAt = performance.now()) });
      const [one, two] = await Promise.all([first, second]);
      // The second read waited for the first commit and saw its write: no lost update, no retry.
      assert.deepEqual(one, { readVersion: 1, updated: true });
      assert.deepEqual(two, { readVersion: 2, updated: true });
      assert.ok(secondReadAt >= firstCommittedAt - 5, 'the second writer read only after the first committed');
      const final = await store.getTransaction(A, record.id);
      assert.equal(final?.state.capturedAmount, 200);
      assert.equal(final?.version, 3);
    });

    test('a concurrent insert of the same idempotency key fails once the first commits', async () => {
      let firstHasInserted!: () => void;
      const firstInserted = new Promise<void>((resolve) => (firstHasInserted = resolve));
      let firstCommittedAt = 0;
      const first = store
        .transaction(async (tx) => {
          await tx.insertIdempotency(idempotency(A, 'race-key', 'first'));
          firstHasInserted();
          await sleep(150);
        })
        .then(() => void (firstCommittedAt = performance.now()));
      await firstInserted;
      const second = store.transaction(async (tx) => {
        await tx.insertIdempotency(idempotency(A, 'race-key', 'second'));
      });
      await assert.rejects(second, IdempotencyKeyTaken);
      const failedAt = performance.now();
      await first;
      assert.ok(failedAt >= firstCommittedAt - 5, 'the second insert waited for the first to commit');
      assert.equal((await store.getIdempotency(A, 'race-key'))?.fingerprint, 'first');
    });
  });
}

/** Two stores (two processes) on a fresh PostgreSQL database holding account A and one of its transactions; skipped without a server. */
/**
 * A TCP proxy to the PostgreSQL server of `target`. After `cutNextAnswer()` it swallows the
 * server's next answer and resets the client's connection: what a client sees when the network
 * fails after the server has committed.
 */
async function cuttingProxy(target: URL): Promise<{ port: number; cutNextAnswer(): void; close(): Promise<void> }> {
  let cut = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk) => upstream.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.on('data', (chunk) => {
      if (!cut) {
        client.write(chunk);
        return;
      }
      cut = false;
      client.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cutNextAnswer: () => {
      cut = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function withTwoProcesses(t: TestContext, fn: (first: Store, second: Store, record: TransactionRecord) => Promise<void>): Promise<void> {
  if (!(await postgresServerReachable())) {
    t.skip('no PostgreSQL server reachable');
    return;
  }
  const database = await createDatabase();
  const [first, second] = await Promise.all([openStore(database.url), openStore(database.url)]);
  try {
    await first.insertAccount({ id: A, name: A, clockOffsetMs: 0, createdAt: at(0) });
    const record = transaction(A);
    await first.insertTransaction(record);
    await fn(first, second, record);
  } finally {
    await Promise.all([first.close(), second.close()]);
    await database.drop();
  }
}

describe('storage contract: several PostgreSQL processes on one database', () => {
  test('stores starting together migrate once, and start-up sections never overlap', async (t) => {
    if (!(await postgresServerReachable())) {
      t.skip('no PostgreSQL server reachable (PGlite cannot be shared by two stores)');
      return;
    }
    const database = await createDatabase();
    const stores: Store[] = [];
    try {
      stores.push(...(await Promise.all([openStore(database.url), openStore(database.url), openStore(database.url)])));
      let inside = 0;
      let overlapped = false;
      await Promise.all(
        stores.map((store) =>
          store.withStartupLock(async () => {
            inside += 1;
            if (inside > 1) overlapped = true;
            await sleep(50);
            inside -= 1;
          }),
        ),
      );
      assert.equal(overlapped, false);
      await stores[0]!.insertAccount({ id: A, name: A, clockOffsetMs: 0, createdAt: at(0) });
      assert.equal((await stores[2]!.getAccount(A))?.id, A);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await database.drop();
    }
  });

  test('a column added by a newer version’s migration does not break a running process’s prepared statements', async (t) => {
    if (!(await postgresServerReachable())) {
      t.skip('no PostgreSQL server reachable');
      return;
    }
    const database = await createDatabase();
    const running = await openStore(database.url, { poolSize: 2 });
    const migrator = new pg.Client({ connectionString: database.url });
    try {
      await running.insertAccount({ id: A, name: A, clockOffsetMs: 0, createdAt: at(0) });
      const record = transaction(A);
      await running.insertTransaction(record);
      // Every pooled connection prepares the hot-path reads (by name) before the schema moves.
      const readTwice = () => Promise.all([running.getTransactionWithEvents(A, record.id), running.getTransactionWithEvents(A, record.id)]);
      await readTwice();
      await Promise.all([0, 1].map(() => running.transaction((tx) => tx.getTransactionWithEvents(A, record.id, { forUpdate: true }))));
      await migrator.connect();
      await migrator.query('alter table transactions add column added_later text');
      // Plain reads and reads inside storage transactions still answer (PostgreSQL refuses a
      // statement prepared before the change: "cached plan must not change result type").
      for (const [first, second] of [await readTwice(), await readTwice()]) {
        assert.equal(first?.record.id, record.id);
        assert.equal(second?.record.id, record.id);
      }
      const updated = await running.transaction(async (tx) => {
        const found = (await tx.getTransactionWithEvents(A, record.id, { forUpdate: true }))!;
        return tx.updateTransaction({ ...found.record, merchantReference2: 'after-migration', version: found.record.version + 1 }, found.record);
      });
      assert.equal(updated, true);
      assert.equal((await running.getTransaction(A, record.id))?.merchantReference2, 'after-migration');
    } finally {
      await migrator.end();
      await running.close();
      await database.drop();
    }
  });

  test('a list page and a read show what another process committed, though the same rows were read before', (t) =>
    withTwoProcesses(t, async (listing, other, record) => {
      const page = async () => (await listing.listTransactions({ accountId: A, limit: 10 })).find((listed) => listed.id === record.id);
      const first = (await page())!;
      assert.equal(await page(), first, 'unchanged: the record kept from the first page');
      await other.transaction(async (tx) => {
        const found = (await tx.getTransactionWithEvents(A, record.id, { forUpdate: true }))!;
        assert.ok(await tx.updateTransaction({ ...found.record, merchantReference2: 'from-the-other', version: found.record.version + 1 }, found.record));
      });
      const second = (await page())!;
      assert.equal(second.merchantReference2, 'from-the-other');
      assert.equal(second.version, first.version + 1);
      // A transaction read (and remembered) before: the read after the other's change has it, events too.
      const read = (await listing.getTransactionWithEvents(A, record.id))!;
      assert.equal((await listing.getTransactionWithEvents(A, record.id))!.record, read.record, 'unchanged: the remembered record');
      await other.transaction(async (tx) => {
        const found = (await tx.getTransactionWithEvents(A, record.id, { forUpdate: true }))!;
        const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
        assert.ok(await tx.updateTransaction(next, found.record));
        await tx.appendEvents(record.id, [{ id: String(next.eventCount), event: 'CAPTURE', success: true, transaction_status: 'CAPTURED', created_at: at(60) }]);
      });
      const changed = (await listing.getTransactionWithEvents(A, record.id))!;
      assert.equal(changed.record.version, read.record.version + 1);
      assert.deepEqual(changed.events.map((event) => event.event), [...read.events.map((event) => event.event), 'CAPTURE']);
      await other.setClockOffset(A, 3_600_000);
      assert.equal((await listing.getTransactionWithEvents(A, record.id))!.clockOffsetMs, 3_600_000);
    }));

  test('a change starts from what another process committed, though this one remembers the transaction', { timeout: 30_000 }, (t) =>
    withTwoProcesses(t, async (first, second, record) => {
      const change = (store: Store, label: string) =>
        store.transaction(async (tx) => {
          const found = (await tx.getTransactionWithEvents(A, record.id, { forUpdate: true }))!;
          const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
          // A plain error (an assertion failing inside a PostgreSQL storage transaction was seen to hang the test instead of failing it).
          if (!(await tx.updateTransaction(next, found.record))) throw new Error('the change was made from a stale read');
          await tx.appendEvents(record.id, [{ id: String(next.eventCount), event: label, success: true, transaction_status: 'CAPTURED', created_at: at(60) }]);
          return found;
        });
      await change(first, 'FIRST');
      // The first process remembers what it committed: its next change starts from it.
      assert.deepEqual((await change(first, 'SECOND')).events.map((event) => event.event), ['FIRST']);
      await change(second, 'ELSEWHERE');
      // The version moved in the other process: the first one reads the row and its events again.
      const third = await change(first, 'THIRD');
      assert.deepEqual(third.events.map((event) => event.event), ['FIRST', 'SECOND', 'ELSEWHERE']);
      assert.equal(third.record.version, record.version + 3);
      // A change that fails is rolled back and not remembered.
      await assert.rejects(
        first.transaction(async (tx) => {
          const found = (await tx.getTransactionWithEvents(A, record.id, { forUpdate: true }))!;
          await tx.updateTransaction({ ...found.record, merchantReference2: 'rolled-back', version: found.record.version + 1 }, found.record);
          throw new Error('refused');
        }),
        /refused/,
      );
      const fourth = await change(first, 'FOURTH');
      assert.equal(fourth.record.merchantReference2, record.merchantReference2);
      assert.deepEqual(fourth.events.map((event) => event.event), ['FIRST', 'SECOND', 'ELSEWHERE', 'THIRD']);
    }));

  test('an optimistic change is one statement from what this process remembers, and runs locked when another process changed the row, the clock, the subscriptions or stored its idempotency key', { timeout: 30_000 }, (t) =>
    withTwoProcesses(t, async (first, second, record) => {
      const stats = (first as unknown as { optimisticStats: { written: number; ranLocked: number } }).optimisticStats;
      // The ledger's steps: read, version-checked update, events, and a delivery per subscription (as the outbox does).
      const steps = async (tx: Repositories, label: string) => {
        const found = (await tx.getTransactionWithEvents(A, record.id, { forUpdate: true }))!;
        const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
        if (!(await tx.updateTransaction(next, found.record))) throw new Error('the change was made from a stale read');
        const created = at(found.clockOffsetMs / 1000);
        await tx.appendEvents(record.id, [{ id: String(next.eventCount), event: label, success: true, transaction_status: 'CAPTURED', created_at: created }]);
        const subscriptions = await tx.listSubscriptions(A);
        await tx.insertDeliveries(subscriptions.map((subscription) => delivery(subscription.id, record.id, next.eventCount, created)));
        return found;
      };
      const change = async (store: Store, label: string) => {
        const before = { ...stats };
        const found = await store.transaction((tx) => steps(tx, label), { optimistic: true });
        return { events: found.events.map((event) => event.event), clockOffsetMs: found.clockOffsetMs, written: stats.written - before.written, ranLocked: stats.ranLocked - before.ranLocked };
      };

      // Not remembered yet: run locked. Then remembered, with its account's clock and subscriptions: one statement.
      assert.deepEqual(await change(first, 'FIRST'), { events: [], clockOffsetMs: 0, written: 0, ranLocked: 1 });
      assert.deepEqual(await change(first, 'SECOND'), { events: ['FIRST'], clockOffsetMs: 0, written: 1, ranLocked: 0 });
      // Another process changed the row: the statement finds another version and the change runs locked, from the row as it is.
      await change(second, 'ELSEWHERE');
      assert.deepEqual(await change(first, 'THIRD'), { events: ['FIRST', 'SECOND', 'ELSEWHERE'], clockOffsetMs: 0, written: 0, ranLocked: 1 });
      // Changed elsewhere without an event (merchant_reference_2): the version alone tells.
      const current = (await second.getTransactionWithEvents(A, record.id))!.record;
      assert.ok(await second.updateTransaction({ ...current, merchantReference2: 'changed elsewhere', version: current.version + 1 }, current));
      assert.deepEqual(await change(first, 'FOURTH'), { events: ['FIRST', 'SECOND', 'ELSEWHERE', 'THIRD'], clockOffsetMs: 0, written: 0, ranLocked: 1 });
      // Another process moved the account's test clock: the change runs locked and uses the new time.
      await second.setClockOffset(A, 3_600_000);
      const fifth = await change(first, 'FIFTH');
      assert.deepEqual([fifth.clockOffsetMs, fifth.written, fifth.ranLocked], [3_600_000, 0, 1]);
      assert.equal((await change(first, 'SIXTH')).written, 1);
      // Another process added a webhook subscription: the change runs locked and notifies it; the next one, in one statement, too.
      await second.insertSubscription({ id: 'sub-1', accountId: A, url: 'https://example.com/hook', contentType: 'application/json', secret: null, events: ['checkout_transaction'], createdAt: at(0) });
      assert.deepEqual([(await change(first, 'SEVENTH')).ranLocked, (await change(first, 'EIGHTH')).written], [1, 1]);
      // With an idempotency key (as the services run it): the key is not read but checked by the
      // statement, and stored with the change; a key already stored makes the job run locked and replay.
      const keyed = async (store: Store, key: string, label: string) => {
        const before = { ...stats };
        const outcome = await store.transaction(async (tx) => {
          if ((await tx.getIdempotency(A, key)) !== undefined) return 'replayed';
          await steps(tx, label);
          await tx.insertIdempotency({ ...idempotency(A, key), responseBody: `{"label":"${label}"}` });
          return 'changed';
        }, { optimistic: true });
        return { outcome, written: stats.written - before.written, ranLocked: stats.ranLocked - before.ranLocked };
      };
      assert.deepEqual(await keyed(first, 'key-1', 'NINTH'), { outcome: 'changed', written: 1, ranLocked: 0 });
      assert.equal((await second.getIdempotency(A, 'key-1'))?.responseBody, '{"label":"NINTH"}');
      assert.deepEqual(await keyed(first, 'key-1', 'NINTH AGAIN'), { outcome: 'replayed', written: 0, ranLocked: 1 });
      await second.insertIdempotency(idempotency(A, 'key-2'));
      assert.deepEqual(await keyed(first, 'key-2', 'KEY TAKEN ELSEWHERE'), { outcome: 'replayed', written: 0, ranLocked: 1 });

      // A job that fails writes nothing, whichever way it ran.
      await assert.rejects(
        first.transaction(async (tx) => {
          await steps(tx, 'REFUSED');
          throw new Error('refused');
        }, { optimistic: true }),
        /refused/,
      );

      const stored = (await second.getTransactionWithEvents(A, record.id))!;
      assert.deepEqual(
        stored.events.map((event) => event.event),
        ['FIRST', 'SECOND', 'ELSEWHERE', 'THIRD', 'FOURTH', 'FIFTH', 'SIXTH', 'SEVENTH', 'EIGHTH', 'NINTH'],
      );
      assert.equal(stored.record.version, record.version + 11);
      assert.equal(stored.record.merchantReference2, 'changed elsewhere');
      assert.equal(stored.events[4]!.created_at, at(0));
      assert.equal(stored.events[5]!.created_at, at(3600), 'FIFTH was decided on the clock as moved');
      const deliveries = await second.listDeliveries({ accountId: A, transactionId: record.id, limit: 10 });
      assert.deepEqual(deliveries.map((row) => row.eventSeq).sort((a, b) => a - b), [8, 9, 10]);

      // A transaction created by a storage transaction of this process is known whole: its first change is one statement.
      const created = { ...transaction(A), eventCount: 1 };
      await first.transaction(async (tx) => {
        await tx.insertTransaction(created);
        await tx.appendEvents(created.id, [event(1, 'AUTHORIZE')]);
      });
      const before = { ...stats };
      const changed = await first.transaction(async (tx) => {
        const found = (await tx.getTransactionWithEvents(A, created.id, { forUpdate: true }))!;
        const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
        if (!(await tx.updateTransaction(next, found.record))) throw new Error('the change was made from a stale read');
        await tx.appendEvents(created.id, [event(next.eventCount)]);
        return found.events.map((stored) => stored.event);
      }, { optimistic: true });
      assert.deepEqual([changed, stats.written - before.written], [['AUTHORIZE'], 1]);
      assert.deepEqual((await second.getTransactionWithEvents(A, created.id))!.events.map((stored) => stored.event), ['AUTHORIZE', 'CAPTURE']);
    }));

  test('optimistic changes decided together are written by one statement, each under its own conditions', { timeout: 30_000 }, (t) =>
    withTwoProcesses(t, async (first, second) => {
      const stats = (first as unknown as { optimisticStats: { written: number; ranLocked: number; statements: number } }).optimisticStats;
      // Six transactions this process created, so it remembers them whole.
      const records = Array.from({ length: 6 }, () => ({ ...transaction(A), eventCount: 1 }));
      for (const record of records) {
        await first.transaction(async (tx) => {
          await tx.insertTransaction(record);
          await tx.appendEvents(record.id, [event(1, 'AUTHORIZE')]);
        });
      }
      // A read tells this process the account's clock offset, which optimistic changes need too.
      await first.getTransactionWithEvents(A, records[5]!.id);
      const capture = (store: Store, id: string, label: string, key?: string) =>
        store.transaction(async (tx) => {
          if (key !== undefined && (await tx.getIdempotency(A, key)) !== undefined) return 'replayed';
          const found = (await tx.getTransactionWithEvents(A, id, { forUpdate: true }))!;
          const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
          if (!(await tx.updateTransaction(next, found.record))) throw new Error('the change was made from a stale read');
          await tx.appendEvents(id, [{ ...event(next.eventCount), event: label }]);
          if (key !== undefined) await tx.insertIdempotency({ ...idempotency(A, key), responseBody: `{"label":"${label}"}` });
          return found.events.map((stored) => stored.event).join(',');
        }, { optimistic: true });

      // Another process changed the third transaction: this process still remembers the version before.
      const third = (await second.getTransactionWithEvents(A, records[2]!.id))!.record;
      assert.ok(await second.updateTransaction({ ...third, merchantReference2: 'elsewhere', version: third.version + 1 }, third));
      const before = { ...stats };
      // Decided in one turn: one statement for the batch. The stale one, and the second change
      // of the first transaction (decided on the version the first change replaces), run locked.
      const answers = await Promise.all([
        capture(first, records[0]!.id, 'A'),
        capture(first, records[1]!.id, 'B', 'key-b'),
        capture(first, records[2]!.id, 'C'),
        capture(first, records[3]!.id, 'D'),
        capture(first, records[0]!.id, 'A2'),
        capture(first, records[4]!.id, 'E', 'key-e'),
      ]);
      assert.deepEqual(answers, ['AUTHORIZE', 'AUTHORIZE', 'AUTHORIZE', 'AUTHORIZE', 'AUTHORIZE,A', 'AUTHORIZE']);
      assert.deepEqual([stats.written - before.written, stats.ranLocked - before.ranLocked, stats.statements - before.statements], [4, 2, 1]);
      const stored = await Promise.all(records.map((record) => second.getTransactionWithEvents(A, record.id)));
      assert.deepEqual(
        stored.map((found) => found!.events.map((stored) => stored.event)),
        [['AUTHORIZE', 'A', 'A2'], ['AUTHORIZE', 'B'], ['AUTHORIZE', 'C'], ['AUTHORIZE', 'D'], ['AUTHORIZE', 'E'], ['AUTHORIZE']],
      );
      assert.deepEqual(stored.map((found) => found!.record.version - records[0]!.version), [2, 1, 2, 1, 1, 0]);
      assert.equal(stored[2]!.record.merchantReference2, 'elsewhere', 'the locked run started from the other process’s change');
      assert.equal((await second.getIdempotency(A, 'key-b'))?.responseBody, '{"label":"B"}');
      assert.equal((await second.getIdempotency(A, 'key-e'))?.responseBody, '{"label":"E"}');

      // A key stored meanwhile by another process makes that change run locked and replay; the others of its batch are written.
      await second.insertIdempotency(idempotency(A, 'key-taken'));
      const again = { ...stats };
      assert.deepEqual(
        await Promise.all([capture(first, records[3]!.id, 'D2', 'key-taken'), capture(first, records[5]!.id, 'F'), capture(first, records[4]!.id, 'E2')]),
        ['replayed', 'AUTHORIZE', 'AUTHORIZE,E'],
      );
      assert.deepEqual([stats.written - again.written, stats.ranLocked - again.ranLocked, stats.statements - again.statements], [2, 1, 1]);
      assert.deepEqual((await second.getTransactionWithEvents(A, records[3]!.id))!.events.map((stored) => stored.event), ['AUTHORIZE', 'D']);
    }));

  test('an optimistic change whose connection fails after the commit is not run a second time', { timeout: 30_000 }, async (t) => {
    if (!(await postgresServerReachable())) {
      t.skip('no PostgreSQL server reachable');
      return;
    }
    const database = await createDatabase();
    const proxy = await cuttingProxy(new URL(database.url));
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const [store, other] = await Promise.all([openStore(viaProxy.toString()), openStore(database.url)]);
    try {
      await store.insertAccount({ id: A, name: A, clockOffsetMs: 0, createdAt: at(0) });
      // Created here, so remembered whole; the read tells this process the account's clock offset.
      const record = { ...transaction(A), eventCount: 1 };
      await store.transaction(async (tx) => {
        await tx.insertTransaction(record);
        await tx.appendEvents(record.id, [event(1, 'AUTHORIZE')]);
      });
      await store.getTransactionWithEvents(A, record.id);
      const stats = (store as unknown as { optimisticStats: { written: number; ranLocked: number; statements: number } }).optimisticStats;
      const before = { ...stats };
      // The change's statement is the first to be sent; the server commits it, its answer is lost.
      proxy.cutNextAnswer();
      const capture = store.transaction(async (tx) => {
        const found = (await tx.getTransactionWithEvents(A, record.id, { forUpdate: true }))!;
        const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
        if (!(await tx.updateTransaction(next, found.record))) throw new Error('the change was made from a stale read');
        await tx.appendEvents(record.id, [{ ...event(next.eventCount), event: 'CAPTURE' }]);
      }, { optimistic: true });
      // The outcome is unknown to this process: it says so, and does not capture again.
      await assert.rejects(capture, (error: { code?: unknown }) => error.code === 'ECONNRESET');
      assert.deepEqual([stats.statements - before.statements, stats.ranLocked - before.ranLocked], [1, 0]);
      assert.deepEqual((await other.getTransactionWithEvents(A, record.id))!.events.map((stored) => stored.event), ['AUTHORIZE', 'CAPTURE']);
    } finally {
      await Promise.all([store.close(), other.close()]);
      await proxy.close();
      await database.drop();
    }
  });

  test('the statement timeout bounds a wait for another process’s row lock', async (t) => {
    if (!(await postgresServerReachable())) {
      t.skip('no PostgreSQL server reachable');
      return;
    }
    const database = await createDatabase();
    const holder = await openStore(database.url);
    const waiter = await openStore(database.url, { statementTimeoutMs: 200, migrate: false });
    try {
      await holder.insertAccount({ id: A, name: A, clockOffsetMs: 0, createdAt: at(0) });
      const record = transaction(A);
      await holder.insertTransaction(record);
      let releaseLock!: () => void;
      const lockHeld = new Promise<void>((resolve) => (releaseLock = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holding = holder.transaction(async (tx) => {
        await tx.getTransaction(A, record.id, { forUpdate: true });
        locked();
        await lockHeld;
      });
      await isLocked;
      const started = performance.now();
      await assert.rejects(
        waiter.transaction((tx) => tx.getTransaction(A, record.id, { forUpdate: true })),
        (error: { code?: string }) => error.code === '57014',
      );
      assert.ok(performance.now() - started < 5000, 'gave up after the timeout, not after the lock was released');
      releaseLock();
      await holding;
    } finally {
      await holder.close();
      await waiter.close();
      await database.drop();
    }
  });
});
