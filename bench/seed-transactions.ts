/**
 * Seeds a SQLite database with N transactions (default 1 000 000) for the backoffice
 * benchmark, straight through SQL: the schema comes from Kasse's own migrations, then rows
 * go in with one prepared statement, in batches of one storage transaction each. Rows keep
 * every invariant the schema checks (captured + voided ≤ amount, refunded ≤ captured) and
 * carry INITIALIZE/AUTHORIZE (and CAPTURE/REFUND/VOID) events like real ones.
 *
 *   node --import tsx bench/seed-transactions.ts [--count 1000000] [--file bench/tmp/backoffice.db] [--days 365] [--analyze]
 *
 * Seeding runs with synchronous=OFF (a benchmark fixture, not data); Kasse opens the file
 * with its usual synchronous=FULL afterwards.
 */
import { existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { openStore } from '../src/store/open-store.js';
import { createAccount } from '../src/services/accounts.js';
import { paymentProductOf, paymentProductTypes, type PaymentProductType } from '../src/domain/products.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    file: { type: 'string', default: 'bench/tmp/backoffice.db' },
    days: { type: 'string', default: '365' },
    account: { type: 'string', default: 'T00000001' },
    batch: { type: 'string', default: '20000' },
    analyze: { type: 'boolean', default: false },
  },
});
const count = Number(values.count);
const days = Number(values.days);
const batchSize = Number(values.batch);
const accountId = values.account!;
const file = values.file!;

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
let pool = randomBytes(0);
let offset = 0;
function resourceId(): string {
  let suffix = '';
  while (suffix.length < 22) {
    if (offset >= pool.length) {
      pool = randomBytes(1 << 20);
      offset = 0;
    }
    const byte = pool[offset++]!;
    if (byte < 232) suffix += BASE58[byte % 58];
  }
  return `${accountId}.${suffix}`;
}

/** Deterministic, so two seeds of the same size are the same data (ids aside). */
let state = 0x2545f491;
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
}

function pick<T>(weighted: ReadonlyArray<readonly [T, number]>): T {
  let roll = random();
  for (const [value, weight] of weighted) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return weighted[weighted.length - 1]![0];
}

const currencies = [['NOK', 0.7], ['SEK', 0.15], ['EUR', 0.1], ['DKK', 0.05]] as const;
const outcomes = [['captured', 0.5], ['authorized', 0.2], ['partial', 0.06], ['refunded', 0.08], ['partially_refunded', 0.06], ['voided', 0.06], ['declined', 0.04]] as const;
const products: ReadonlyArray<readonly [PaymentProductType, number]> = paymentProductTypes
  .filter((type) => type !== 'swish.swish')
  .map((type) => [type, type.startsWith('klarna') ? 0.2 : 0.6 / (paymentProductTypes.length - 3)] as const);

async function main(): Promise<void> {
  if (existsSync(file)) for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  const store = await openStore(`sqlite:${file}`);
  await createAccount(store, { id: accountId, now: new Date().toISOString() });
  await store.close();

  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const insertTransaction = db.prepare(`insert into transactions (id, account_id, session_id, status, authorization_status, payment_product, payment_product_type,
    currency, amount, captured_amount, refunded_amount, voided_amount, merchant_reference, merchant_reference_2, customer_email, customer_phone,
    authorized_at, authorization_expires_at, items, details, event_count, created_at, updated_at, version)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`);
  const insertEvent = db.prepare('insert into transaction_events (transaction_id, seq, data, created_at) values (?, ?, ?, ?)');

  const end = Date.now();
  const start = end - days * 24 * 60 * 60 * 1000;
  const step = (end - start) / count;
  const started = performance.now();
  let events = 0;

  const batch = db.transaction((from: number, to: number) => {
    for (let n = from; n < to; n += 1) {
      const created = new Date(start + n * step + random() * step).toISOString();
      const id = resourceId();
      const currency = pick(currencies);
      const type = pick(products);
      const lineA = 100 * (10 + Math.floor(random() * 5000));
      const lineB = 100 * (1 + Math.floor(random() * 500));
      const amount = lineA + lineB;
      const outcome = pick(outcomes);
      let captured = 0;
      let refunded = 0;
      let voided = 0;
      let status = 'AUTHORIZED';
      let authorization = 'AUTHORIZED';
      if (outcome === 'captured') [captured, status] = [amount, 'CAPTURED'];
      else if (outcome === 'partial') [captured, status] = [lineA, 'PARTIALLY_CAPTURED'];
      else if (outcome === 'refunded') [captured, refunded, status] = [amount, amount, 'REFUNDED'];
      else if (outcome === 'partially_refunded') [captured, refunded, status] = [amount, lineB, 'PARTIALLY_REFUNDED'];
      else if (outcome === 'voided') [voided, status] = [amount, 'AUTHORIZATION_VOIDED'];
      else if (outcome === 'declined') [status, authorization] = ['DECLINED', 'DECLINED'];
      const customer = n % 100_000;
      const items = JSON.stringify([
        { line_id: '1', id: 'sku-1', description: 'Chair', quantity: 1, amount: lineA, vat: 25, captured_amount: captured >= lineA ? lineA : 0, refunded_amount: refunded === amount ? lineA : 0 },
        { line_id: '2', id: 'sku-2', description: 'Cushion', quantity: 1, amount: lineB, vat: 25, captured_amount: captured === amount ? lineB : 0, refunded_amount: refunded > 0 ? lineB : 0 },
      ]);
      const details = JSON.stringify({ url: { redirect_url: 'https://shop.example/return' }, customer: { email: `customer${customer}@example.com`, phone_number: `+47${String(40000000 + customer)}` } });
      const authorized = authorization === 'AUTHORIZED';
      const seq: Array<[string, boolean, number, string]> = [['INITIALIZE', true, amount, 'INITIATED'], ['AUTHORIZE', authorized, amount, authorized ? 'AUTHORIZED' : 'DECLINED']];
      if (captured > 0) seq.push(['CAPTURE', true, captured, captured === amount ? 'CAPTURED' : 'PARTIALLY_CAPTURED']);
      if (refunded > 0) seq.push(['REFUND', true, refunded, status]);
      if (voided > 0) seq.push(['VOID', true, voided, status]);
      insertTransaction.run(
        id, accountId, resourceId(), status, authorization, paymentProductOf(type), type, currency, amount, captured, refunded, voided,
        `order-${n}`, n % 10 === 0 ? `invoice-${n}` : null, `customer${customer}@example.com`, `+47${String(40000000 + customer)}`,
        authorized ? created : null, authorized ? new Date(Date.parse(created) + 28 * 86400000).toISOString() : null,
        items, details, seq.length, created, created,
      );
      seq.forEach(([event, success, eventAmount, after], index) => {
        insertEvent.run(id, index + 1, JSON.stringify({ id: String(index + 1), event, success, amount: eventAmount, transaction_status: after, created_at: created, created_by: 'bench' }), created);
      });
      events += seq.length;
    }
  });

  for (let from = 0; from < count; from += batchSize) {
    batch(from, Math.min(count, from + batchSize));
    if ((from / batchSize) % 10 === 9) process.stdout.write(`  ${Math.min(count, from + batchSize).toLocaleString('en-GB')} transactions\r`);
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  // Kasse never runs ANALYZE itself, so by default neither does the fixture: the planner works as it would in production.
  if (values.analyze) db.exec('analyze');
  db.close();
  const seconds = (performance.now() - started) / 1000;
  console.log(`Seeded ${count.toLocaleString('en-GB')} transactions and ${events.toLocaleString('en-GB')} events into ${file} in ${seconds.toFixed(1)} s (${Math.round(count / seconds).toLocaleString('en-GB')} transactions/s).`);
}

await main();
