/**
 * Group commit (§12, §13) keeps durability: concurrent requests share commits, yet no
 * answer leaves before the commit that holds its work. Checked from outside: the moment
 * each answer arrives, an independent connection to the database file must already see
 * its event (SQLite makes a WAL commit visible to other connections only once written
 * and, with synchronous=FULL, synced).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { buildApp, type App } from '../src/http/app.js';
import { openStore } from '../src/store/open-store.js';
import { bootstrap } from '../src/services/accounts.js';
import { ManualClock } from '../src/clock.js';
import type { KyselyStore } from '../src/store/kysely-store.js';

let dir: string;
let app: App;
let store: KyselyStore;
let observer: BetterSqlite3.Database;
let token: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kasse-group-'));
  const file = join(dir, 'kasse.db');
  store = (await openStore(`sqlite:${file}`)) as KyselyStore;
  const clock = new ManualClock(new Date());
  await bootstrap(store, { accountId: 'T00000001', clientId: 'c', clientSecret: 's' }, clock.now().toISOString());
  app = await buildApp({ store, clock, logger: false, publicUrl: 'http://kasse.test' });
  observer = new BetterSqlite3(file, { readonly: true });
  const issued = await app.server.inject({
    method: 'POST',
    url: '/v1/accounts/T00000001/auth/token',
    headers: { authorization: `Basic ${Buffer.from('c:s').toString('base64')}` },
    payload: { grant_type: 'client_credentials', audience: 'http://kasse.test/v1/accounts/T00000001' },
  });
  token = issued.json().access_token;
});

after(async () => {
  observer.close();
  await app.server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function authorized(): Promise<string> {
  const session = await app.server.inject({
    method: 'POST',
    url: '/v1/sessions-profile',
    headers: { authorization: `Bearer ${token}` },
    payload: { profile_id: 'default', url: { return_url: 'https://shop.example/r' }, order: { amount: 1_000_000, currency: 'NOK', merchant_reference: 'g' } },
  });
  const paid = await app.server.inject({ method: 'POST', url: `/v1/sessions/${session.json().id}/pay`, payload: { payment_product_type: 'vipps' } });
  return paid.json().transaction_id;
}

/** Another process on the same file commits a new version of the transaction with a new merchant_reference_2. */
function changeElsewhere(id: string, merchantReference2: string): void {
  const other = new BetterSqlite3(join(dir, 'kasse.db'));
  try {
    other.prepare('UPDATE transactions SET merchant_reference_2 = ?, version = version + 1 WHERE id = ?').run(merchantReference2, id);
  } finally {
    other.close();
  }
}

test('every answer is preceded by its commit, while requests share commits', async () => {
  const ids = await Promise.all(Array.from({ length: 10 }, authorized));
  const committedBefore = store.groupCommitStats!.batches;
  const jobsBefore = store.groupCommitStats!.jobs;
  const visible = observer.prepare("SELECT count(*) AS n FROM transaction_events WHERE data LIKE '%' || ? || '%'");
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => {
      const reference = `ref-${i}-${Math.random().toString(36).slice(2)}`;
      return app.server
        .inject({
          method: 'POST',
          url: `/v1/transactions/${ids[i % ids.length]}/capture`,
          headers: { authorization: `Bearer ${token}` },
          payload: { amount: 10, capture_reference: reference },
        })
        .then((response) => {
          // Synchronously, at the moment the answer arrives: is its work on disk for others?
          const { n } = visible.get(`"event_reference":"${reference}"`) as { n: number };
          return { status: response.statusCode, seenByOthers: n };
        });
    }),
  );
  assert.ok(results.every((result) => result.status === 200));
  assert.deepEqual(results.filter((result) => result.seenByOthers !== 1), [], 'an answer arrived before its commit');
  const batches = store.groupCommitStats!.batches - committedBefore;
  const jobs = store.groupCommitStats!.jobs - jobsBefore;
  assert.ok(jobs >= 200, `${jobs} storage transactions`);
  assert.ok(batches < jobs, `200 captures took ${batches} commits: requests shared commits`);
});

test('a request refused in a shared commit leaves its neighbours committed and itself absent', async () => {
  const id = await authorized();
  const [ok, refused, alsoOk] = await Promise.all([
    app.server.inject({ method: 'POST', url: `/v1/transactions/${id}/capture`, headers: { authorization: `Bearer ${token}` }, payload: { amount: 100 } }),
    app.server.inject({ method: 'POST', url: `/v1/transactions/${id}/capture`, headers: { authorization: `Bearer ${token}` }, payload: { amount: 10_000_000 } }),
    app.server.inject({ method: 'POST', url: `/v1/transactions/${id}/capture`, headers: { authorization: `Bearer ${token}` }, payload: { amount: 200 } }),
  ]);
  assert.equal(ok.statusCode, 200);
  assert.equal(refused.statusCode, 400);
  assert.equal(alsoOk.statusCode, 200);
  const transaction = await app.server.inject({ method: 'GET', url: `/v1/transactions/${id}`, headers: { authorization: `Bearer ${token}` } });
  assert.equal(transaction.json().captured_amount, 300);
});

test('the reader connection never keeps a snapshot across a commit', async () => {
  const id = await authorized();
  const original = (await store.getTransaction('T00000001', id))!;
  await store.transaction(async (tx) => {
    const record = (await tx.getTransaction('T00000001', id))!;
    // A read on the reader connection while this batch is open sees the committed row only.
    assert.equal((await store.getTransaction('T00000001', id))!.version, original.version);
    await tx.updateTransaction({ ...record, merchantReference2: 'changed', version: record.version + 1 }, record);
  });
  // The write is answered: a read now must see it, though no turn of the event loop has passed.
  assert.equal((await store.getTransaction('T00000001', id))!.merchantReference2, 'changed');
});

test('a remembered transaction is answered only while its version is current, whoever wrote since', async () => {
  const id = await authorized();
  const first = (await store.getTransactionWithEvents('T00000001', id))!;
  assert.equal((await store.getTransactionWithEvents('T00000001', id))!.record.version, first.record.version);
  // A change through this store: the next read has it, row and events.
  await store.transaction(async (tx) => {
    const found = (await tx.getTransactionWithEvents('T00000001', id, { forUpdate: true }))!;
    const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
    await tx.updateTransaction(next, found.record);
    await tx.appendEvents(id, [{ id: String(next.eventCount), event: 'CAPTURE', success: true, transaction_status: 'CAPTURED', created_at: next.updatedAt }]);
  });
  const second = (await store.getTransactionWithEvents('T00000001', id))!;
  assert.equal(second.record.version, first.record.version + 1);
  assert.equal(second.events.length, first.events.length + 1);
  // A change by another connection (another process on the same file): seen too.
  changeElsewhere(id, 'from-elsewhere');
  // (The reader's snapshot lasts one turn of the event loop; another process's commit shows from the next.)
  await new Promise((resolve) => setImmediate(resolve));
  const third = (await store.getTransactionWithEvents('T00000001', id))!;
  assert.equal(third.record.merchantReference2, 'from-elsewhere');
  assert.equal(third.record.version, second.record.version + 1);
  // Another account never gets it, remembered or not.
  assert.equal(await store.getTransactionWithEvents('T00000002', id), undefined);
  // The account's test-clock offset is read fresh each time, not remembered with the row.
  await store.setClockOffset('T00000001', 3_600_000);
  assert.equal((await store.getTransactionWithEvents('T00000001', id))!.clockOffsetMs, 3_600_000);
  await store.setClockOffset('T00000001', 0);
});

test('a transaction confirmed while the writer is quiet is answered without a statement until anyone commits', async () => {
  const id = await authorized();
  // The reader confirms entries once this process's writer has been quiet for a while.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const first = (await store.getTransactionWithEvents('T00000001', id))!;
  assert.equal((await store.getTransactionWithEvents('T00000001', id))!.record, first.record);
  // Another process on the same file commits a new version: the next read has it.
  changeElsewhere(id, 'from-elsewhere');
  await new Promise((resolve) => setTimeout(resolve, 30));
  const second = (await store.getTransactionWithEvents('T00000001', id))!;
  assert.equal(second.record.merchantReference2, 'from-elsewhere');
  assert.equal((await store.getTransactionWithEvents('T00000001', id))!.record, second.record);
  // This process's writer: a new clock offset for the account, then a change of the row.
  await store.setClockOffset('T00000001', 3_600_000);
  assert.equal((await store.getTransactionWithEvents('T00000001', id))!.clockOffsetMs, 3_600_000);
  await store.setClockOffset('T00000001', 0);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal((await store.getTransactionWithEvents('T00000001', id))!.clockOffsetMs, 0);
  assert.equal((await store.getTransactionWithEvents('T00000001', id))!.clockOffsetMs, 0);
  await store.transaction(async (tx) => {
    const found = (await tx.getTransactionWithEvents('T00000001', id, { forUpdate: true }))!;
    assert.ok(await tx.updateTransaction({ ...found.record, merchantReference2: 'here', version: found.record.version + 1 }, found.record));
  });
  assert.equal((await store.getTransactionWithEvents('T00000001', id))!.record.merchantReference2, 'here');
  // Never for another account.
  assert.equal(await store.getTransactionWithEvents('T00000002', id), undefined);
});

test('a list page answers kept records only while their version is current, whoever wrote since', async () => {
  const id = await authorized();
  const page = async () => (await store.listTransactions({ accountId: 'T00000001', limit: 50, status: ['AUTHORIZED'] })).find((record) => record.id === id);
  const first = (await page())!;
  assert.equal(await page(), first, 'unchanged: the kept record');
  // Another process on the same file commits a new version.
  changeElsewhere(id, 'listed-elsewhere');
  await new Promise((resolve) => setImmediate(resolve));
  const second = (await page())!;
  assert.equal(second.merchantReference2, 'listed-elsewhere');
  assert.equal(second.version, first.version + 1);
  // A change through this store that takes the transaction out of the filter: gone from the page.
  await store.transaction(async (tx) => {
    const found = (await tx.getTransactionWithEvents('T00000001', id, { forUpdate: true }))!;
    assert.ok(await tx.updateTransaction({ ...found.record, status: 'CAPTURED', version: found.record.version + 1 }, found.record));
  });
  assert.equal(await page(), undefined);
  const captured = (await store.listTransactions({ accountId: 'T00000001', limit: 50, status: ['CAPTURED'] })).find((record) => record.id === id);
  assert.equal(captured?.version, second.version + 1);
});

test('a change starts from the current content: remembered after its commit, re-read once another writer moved the version', async () => {
  const id = await authorized();
  const capture = (label: string) =>
    store.transaction(async (tx) => {
      const found = (await tx.getTransactionWithEvents('T00000001', id, { forUpdate: true }))!;
      const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
      assert.ok(await tx.updateTransaction(next, found.record));
      await tx.appendEvents(id, [{ id: String(next.eventCount), event: label, success: true, transaction_status: 'CAPTURED', created_at: next.updatedAt }]);
      return found;
    });
  const before = (await store.getTransactionWithEvents('T00000001', id))!;
  const first = await capture('FIRST');
  assert.deepEqual(first.events, before.events);
  // The second change reads what the first committed: its version, its event.
  const second = await capture('SECOND');
  assert.equal(second.record.version, before.record.version + 1);
  assert.deepEqual(second.events.map((event) => event.event), [...before.events.map((event) => event.event), 'FIRST']);
  // A change that fails is rolled back and not remembered.
  await assert.rejects(
    store.transaction(async (tx) => {
      const found = (await tx.getTransactionWithEvents('T00000001', id, { forUpdate: true }))!;
      const next = { ...found.record, eventCount: found.record.eventCount + 1, version: found.record.version + 1 };
      await tx.updateTransaction(next, found.record);
      await tx.appendEvents(id, [{ id: String(next.eventCount), event: 'ROLLED_BACK', success: true, transaction_status: 'CAPTURED', created_at: next.updatedAt }]);
      throw new Error('refused');
    }),
    /refused/,
  );
  // Another process on the same file writes a new version with an event of its own.
  const other = new BetterSqlite3(join(dir, 'kasse.db'));
  try {
    const { version, event_count: count } = other.prepare('SELECT version, event_count FROM transactions WHERE id = ?').get(id) as { version: number; event_count: number };
    other.prepare('UPDATE transactions SET version = ?, event_count = ? WHERE id = ?').run(version + 1, count + 1, id);
    other
      .prepare('INSERT INTO transaction_events (transaction_id, seq, data, created_at) VALUES (?, ?, ?, ?)')
      .run(id, count + 1, JSON.stringify({ id: String(count + 1), event: 'ELSEWHERE', success: true, transaction_status: 'CAPTURED', created_at: new Date().toISOString() }), new Date().toISOString());
  } finally {
    other.close();
  }
  const third = await capture('THIRD');
  assert.deepEqual(third.events.map((event) => event.event).slice(-3), ['FIRST', 'SECOND', 'ELSEWHERE']);
  assert.equal(third.record.version, before.record.version + 3);
});
