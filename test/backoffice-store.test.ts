/**
 * The backoffice's storage methods (login sessions, failed sign-ins, the dashboard's daily
 * figures), on every engine: SQLite, and PostgreSQL (the real server in a fresh database
 * when one is reachable, else PGlite), so the same queries hold on both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../src/store/open-store.js';
import type { BackofficeSessionRecord, Store, TransactionRecord } from '../src/store/store.js';
import type { TransactionStatus } from '../src/domain/status.js';
import { createDatabase, openPgliteStore, openTestStore, postgresServerReachable } from './support/test-store.js';

const engines = [
  { name: 'sqlite', open: () => openTestStore('sqlite::memory:') },
  {
    name: 'postgres',
    async open(): Promise<{ store: Store; backend: string; release(): Promise<void> }> {
      if (await postgresServerReachable()) {
        const database = await createDatabase();
        const store = await openStore(database.url);
        return {
          store,
          backend: 'postgres (server)',
          async release() {
            await store.close();
            await database.drop();
          },
        };
      }
      const store = await openPgliteStore();
      return { store, backend: 'postgres (PGlite)', release: () => store.close() };
    },
  },
];

const A = 'T00000001';
const B = 'T00000002';
const T0 = Date.parse('2030-01-10T00:00:00.000Z');
const at = (hours: number) => new Date(T0 + hours * 3600 * 1000).toISOString();
let serial = 0;

function transaction(account: string, createdAt: string, fields: { status?: TransactionStatus; currency?: string; amount?: number; captured?: number; refunded?: number } = {}): TransactionRecord {
  const amount = fields.amount ?? 1000;
  return {
    id: `${account}.${String(++serial).padStart(22, '0')}`,
    accountId: account,
    sessionId: `${account}.${String(++serial).padStart(22, '0')}`,
    currency: fields.currency ?? 'NOK',
    merchantReference: `order-${serial}`,
    merchantReference2: null,
    customerEmail: null,
    customerPhone: null,
    status: fields.status ?? 'AUTHORIZED',
    state: {
      paymentProductType: 'klarna.klarna',
      authorization: 'AUTHORIZED',
      amount,
      capturedAmount: fields.captured ?? 0,
      refundedAmount: fields.refunded ?? 0,
      voidedAmount: 0,
      items: [],
      authorizedAt: createdAt,
      authorizationExpiresAt: null,
    },
    details: { url: {} },
    eventCount: 0,
    createdAt,
    updatedAt: createdAt,
    version: 1,
  };
}

for (const engine of engines) {
  describe(`backoffice storage on ${engine.name}`, () => {
    let store: Store;
    let release: () => Promise<void>;

    before(async () => {
      const opened = await engine.open();
      store = opened.store;
      release = opened.release;
      for (const id of [A, B]) await store.insertAccount({ id, name: id, clockOffsetMs: 0, createdAt: at(0) });
      await store.insertUser({ id: 'u1', email: 'Staff@Example.com', passwordHash: 'scrypt$x', accountIds: [A, B], createdAt: at(0) });
    });

    after(async () => {
      await release?.();
    });

    test('a session is found with its user until it expires, and can be switched and deleted', async () => {
      const session: BackofficeSessionRecord = { id: 'h1', userId: 'u1', accountId: A, csrfToken: 'c1', createdAt: at(0), expiresAt: at(12) };
      await store.insertBackofficeSession(session);
      const found = await store.getBackofficeSession('h1', at(1));
      assert.deepEqual(found?.session, session);
      assert.equal(found?.user.email, 'staff@example.com');
      assert.deepEqual(found?.user.accountIds, [A, B]);
      assert.equal(await store.getBackofficeSession('h1', at(12)), undefined, 'expired at expires_at');
      assert.equal(await store.getBackofficeSession('nope', at(1)), undefined);

      await store.setBackofficeSessionAccount('h1', B);
      assert.equal((await store.getBackofficeSession('h1', at(1)))?.session.accountId, B);

      await store.insertBackofficeSession({ ...session, id: 'h2', expiresAt: at(2) });
      await store.deleteExpiredBackofficeSessions(at(3));
      assert.equal(await store.getBackofficeSession('h2', at(0)), undefined, 'expired sessions are removed');
      assert.ok(await store.getBackofficeSession('h1', at(3)), 'live sessions stay');
      await store.deleteBackofficeSession('h1');
      assert.equal(await store.getBackofficeSession('h1', at(3)), undefined);
    });

    test('failed sign-ins are listed per key since a time, oldest first, and can be forgotten', async () => {
      for (const hour of [3, 1, 2]) await store.insertLoginFailure('a@x 127.0.0.1', at(hour));
      await store.insertLoginFailure('a@x 10.0.0.1', at(2));
      assert.deepEqual(await store.listLoginFailures('a@x 127.0.0.1', at(0)), [at(1), at(2), at(3)]);
      assert.deepEqual(await store.listLoginFailures('a@x 127.0.0.1', at(2)), [at(2), at(3)], 'since is inclusive');
      await store.deleteLoginFailures('a@x 127.0.0.1', at(2));
      assert.deepEqual(await store.listLoginFailures('a@x 127.0.0.1', at(0)), [at(2), at(3)], 'only the older ones went');
      await store.deleteLoginFailures('a@x 127.0.0.1');
      assert.deepEqual(await store.listLoginFailures('a@x 127.0.0.1', at(0)), []);
      assert.deepEqual(await store.listLoginFailures('a@x 10.0.0.1', at(0)), [at(2)], 'another key is untouched');
    });

    test('amount ranges list the same rows newest first whether the range is narrow or wide (≥ 5000 rows)', async () => {
      const C = 'T00000003';
      await store.insertAccount({ id: C, name: C, clockOffsetMs: 0, createdAt: at(0) });
      await store.transaction(async (tx) => {
        for (let n = 0; n < 6000; n += 1) await tx.insertTransaction(transaction(C, new Date(T0 + n * 1000).toISOString(), { amount: 100 + (n % 1000) }));
      });
      const list = (gte?: number, lte?: number) =>
        store.listTransactions({ accountId: C, limit: 20, ...(gte === undefined ? {} : { amountGte: gte }), ...(lte === undefined ? {} : { amountLte: lte }) });
      const expected = (predicate: (amount: number) => boolean) => {
        const rows: number[] = [];
        for (let n = 5999; n >= 0 && rows.length < 20; n -= 1) if (predicate(100 + (n % 1000))) rows.push(100 + (n % 1000));
        return rows;
      };
      const amounts = (rows: TransactionRecord[]) => rows.map((row) => row.state.amount);
      assert.deepEqual(amounts(await list(150)), expected((amount) => amount >= 150), 'wide: 5100 rows match');
      assert.deepEqual(amounts(await list(1090)), expected((amount) => amount >= 1090), 'narrow: 60 rows match');
      assert.deepEqual(amounts(await list(200, 204)), expected((amount) => amount >= 200 && amount <= 204));
      assert.deepEqual(amounts(await list(undefined, 1050)), expected((amount) => amount <= 1050));
      assert.deepEqual(amounts(await list(5000)), []);
    });

    test('daily figures: per UTC day, currency and status, within [from, to), for one account', async () => {
      const rows = [
        transaction(A, at(1), { amount: 1000, captured: 1000, status: 'CAPTURED' }),
        transaction(A, at(2), { amount: 2500, captured: 2500, refunded: 500, status: 'PARTIALLY_REFUNDED' }),
        transaction(A, at(23), { amount: 700, captured: 700, status: 'CAPTURED' }),
        transaction(A, at(25), { amount: 300 }),
        transaction(A, at(26), { amount: 9900, currency: 'SEK' }),
        transaction(A, at(48), { amount: 1 }), // at `to`: excluded
        transaction(A, at(-1), { amount: 1 }), // before `from`: excluded
        transaction(B, at(1), { amount: 5555 }), // another account
      ];
      for (const row of rows) await store.insertTransaction(row);
      const stats = await store.transactionDailyStats(A, at(0), at(48));
      const simplified = stats.map((row) => [row.day, row.currency, row.status, row.count, row.amount, row.capturedAmount, row.refundedAmount]);
      assert.deepEqual(
        simplified.sort((a, b) => String(a).localeCompare(String(b))),
        [
          ['2030-01-10', 'NOK', 'CAPTURED', 2, 1700, 1700, 0],
          ['2030-01-10', 'NOK', 'PARTIALLY_REFUNDED', 1, 2500, 2500, 500],
          ['2030-01-11', 'NOK', 'AUTHORIZED', 1, 300, 0, 0],
          ['2030-01-11', 'SEK', 'AUTHORIZED', 1, 9900, 0, 0],
        ],
      );
      for (const row of stats) {
        for (const value of [row.count, row.amount, row.capturedAmount, row.refundedAmount]) assert.equal(typeof value, 'number', 'sums arrive as numbers on every engine');
      }
    });
  });
}
