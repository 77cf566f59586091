/**
 * The outbox's claim rules at the storage level, on SQLite and PostgreSQL: a lease keeps a
 * delivery to one holder; an expired lease is taken over with the next attempt number and
 * the lost attempt reported; the old holder's late report cannot overwrite the new claim;
 * per transaction and target only the earliest pending delivery is claimable; due times
 * are in the account's business time. On a PostgreSQL server, two stores (two pools, as
 * two processes have) claiming at once never get the same delivery.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import type { DeliveryRecord } from '../src/store/webhook-store.js';
import { createDatabase, openPgliteStore, openTestStore, postgresServerReachable } from './support/test-store.js';

const ACCOUNT = 'T00000001';
const T0 = Date.parse('2030-01-01T00:00:00.000Z');

function delivery(fields: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    id: randomUUID(),
    accountId: ACCOUNT,
    transactionId: `${ACCOUNT}.${randomUUID().replace(/-/g, '').slice(0, 22)}`,
    kind: 'callback',
    subscriptionId: null,
    target: 'callback',
    event: 'AUTHORIZE',
    eventSeq: 2,
    method: 'GET',
    url: 'http://127.0.0.1:9/cb',
    body: null,
    status: 'pending',
    attemptCount: 0,
    maxAttempts: 20,
    dueAtMs: T0,
    lastStatusCode: null,
    lastError: null,
    deliveredAt: null,
    createdAt: new Date(T0).toISOString(),
    ...fields,
  };
}

function claim(store: Store, wallMs: number, leaseMs = 30_000, limit = 50) {
  return store.claimDueDeliveries({
    wallNowMs: wallMs,
    wallNow: new Date(wallMs).toISOString(),
    leaseUntil: new Date(wallMs + leaseMs).toISOString(),
    limit,
    newToken: randomUUID,
  });
}

const delivered = { status: 'delivered' as const, dueAtMs: T0, lastStatusCode: 200, lastError: null, deliveredAt: new Date(T0).toISOString() };

const engines: Array<{ name: string; open(): Promise<{ store: Store; release(): Promise<void> }> }> = [
  { name: 'sqlite', open: () => openTestStore('sqlite::memory:') },
  {
    name: 'postgres',
    async open() {
      if (await postgresServerReachable()) return openTestStore(process.env.KASSE_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
      const store = await openPgliteStore();
      return { store, release: () => store.close() };
    },
  },
];

for (const engine of engines) {
  describe(`delivery claims on ${engine.name}`, () => {
    let store: Store;
    let release: () => Promise<void>;

    before(async () => {
      ({ store, release } = await engine.open());
      await store.insertAccount({ id: ACCOUNT, name: ACCOUNT, clockOffsetMs: 0, createdAt: new Date(T0).toISOString() });
    });
    after(() => release());

    test('a lease keeps a delivery to one holder; after it expires the next claim takes attempt 2 and reports attempt 1 lost', async () => {
      const record = delivery();
      await store.insertDeliveries([record]);
      const [first, ...others] = await claim(store, T0, 30_000);
      assert.equal(others.length, 0);
      assert.equal(first!.delivery.id, record.id);
      assert.equal(first!.attempt, 1);
      assert.equal(first!.interruptedAttempt, undefined);
      assert.deepEqual(await claim(store, T0 + 29_000), [], 'leased');
      const [second] = await claim(store, T0 + 30_000);
      assert.equal(second!.attempt, 2);
      assert.equal(second!.interruptedAttempt, 1);
      assert.equal(await store.finishDeliveryAttempt(record.id, first!.claimToken, null, delivered), false, "the old holder's report is refused");
      assert.equal((await store.getDelivery(ACCOUNT, record.id))!.status, 'pending');
      assert.equal(await store.finishDeliveryAttempt(record.id, second!.claimToken, null, delivered), true);
      assert.equal((await store.getDelivery(ACCOUNT, record.id))!.status, 'delivered');
      assert.deepEqual(await claim(store, T0 + 60_000), []);
    });

    test('per transaction and target, only the earliest pending delivery is claimable', async () => {
      const transactionId = `${ACCOUNT}.ordering00000000000000`;
      const authorize = delivery({ transactionId, eventSeq: 2 });
      const capture = delivery({ transactionId, eventSeq: 3, event: 'CAPTURE' });
      const webhook = delivery({ transactionId, eventSeq: 3, kind: 'webhook', target: 'subscription-1', subscriptionId: 'subscription-1' });
      await store.insertDeliveries([capture, webhook, authorize]);
      const claimed = await claim(store, T0 + 100_000);
      assert.deepEqual(claimed.map((c) => c.delivery.id).sort(), [authorize.id, webhook.id].sort());
      const first = claimed.find((c) => c.delivery.id === authorize.id)!;
      assert.deepEqual(await claim(store, T0 + 100_000), [], 'the capture waits while the authorization is in flight');
      await store.finishDeliveryAttempt(authorize.id, first.claimToken, null, { ...delivered, status: 'failed' });
      const [next] = await claim(store, T0 + 100_000);
      assert.equal(next!.delivery.id, capture.id, 'a permanently failed delivery does not block the ones after it');
    });

    test("due times are in the account's business time: the test clock brings them forward", async () => {
      const record = delivery({ dueAtMs: T0 + 500_000 + 60_000 });
      await store.insertDeliveries([record]);
      const ids = async () => (await claim(store, T0 + 500_000)).filter((c) => c.delivery.id === record.id);
      assert.deepEqual(await ids(), []);
      await store.setClockOffset(ACCOUNT, 60_000);
      const [claimed] = await ids();
      assert.equal(claimed!.delivery.id, record.id);
      assert.equal(claimed!.clockOffsetMs, 60_000);
      await store.setClockOffset(ACCOUNT, 0);
    });
  });
}

describe('two stores on one PostgreSQL database claim disjoint deliveries', async () => {
  const reachable = await postgresServerReachable();
  test('no delivery is claimed twice', { skip: reachable ? false : 'needs a PostgreSQL server (PGlite is one process)' }, async () => {
    const database = await createDatabase();
    const stores = [await openStore(database.url, { poolSize: 4 }), await openStore(database.url, { poolSize: 4, migrate: false })];
    try {
      await stores[0]!.insertAccount({ id: ACCOUNT, name: ACCOUNT, clockOffsetMs: 0, createdAt: new Date(T0).toISOString() });
      const records = Array.from({ length: 200 }, () => delivery());
      await stores[0]!.insertDeliveries(records);
      const got = await Promise.all(
        stores.flatMap((store) =>
          [0, 1, 2].map(async () => {
            const ids: string[] = [];
            for (;;) {
              const claims = await claim(store, T0, 30_000, 7);
              if (claims.length === 0) return ids;
              ids.push(...claims.map((c) => c.delivery.id));
            }
          }),
        ),
      );
      const all = got.flat();
      assert.equal(new Set(all).size, all.length, 'no delivery was claimed twice');
      assert.equal(all.length, records.length, 'every delivery was claimed');
    } finally {
      for (const store of stores) await store.close();
      await database.drop();
    }
  });
});
