/**
 * Server time of the backoffice's transaction list on a big SQLite database (seed it first
 * with bench/seed-transactions.ts), for the main filters, plus the query plan SQLite picks
 * for each list query (EXPLAIN QUERY PLAN on the exact SQL the page ran).
 *
 *   node --import tsx bench/seed-transactions.ts                 # 1 000 000 transactions
 *   node --import tsx bench/backoffice-list.ts [--file bench/tmp/backoffice.db] [--runs 40] [--plans] [--analyze]
 *
 * Server time is the `Server-Timing: app;dur=` the backoffice sends (request received →
 * response ready: session lookup, the list service's queries, rendering); the wall time
 * around `inject` is printed beside it. The store is Kasse's own (KyselyStore over
 * better-sqlite3 with the production pragmas), only with query logging for the plans.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import { buildApp } from '../src/http/app.js';
import { KyselyStore } from '../src/store/kysely-store.js';
import type { Database } from '../src/store/schema.js';
import { createUser } from '../src/services/accounts.js';
import { systemClock } from '../src/clock.js';

const { values } = parseArgs({
  options: {
    file: { type: 'string', default: 'bench/tmp/backoffice.db' },
    runs: { type: 'string', default: '40' },
    account: { type: 'string', default: 'T00000001' },
    plans: { type: 'boolean', default: false },
    analyze: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const accountId = values.account!;

const raw = new BetterSqlite3(values.file!, { fileMustExist: true });
raw.pragma('journal_mode = WAL');
raw.pragma('synchronous = FULL');
raw.pragma('foreign_keys = ON');
raw.pragma('busy_timeout = 5000');
// Kasse never runs ANALYZE, so by default the planner has no statistics; --analyze gives it some (kept in the file).
if (values.analyze) {
  const started = performance.now();
  raw.exec('analyze transactions');
  console.log(`ANALYZE transactions: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const statistics = (raw.prepare("select count(*) as n from sqlite_schema where name = 'sqlite_stat1'").get() as { n: number }).n > 0;
let captured: CompiledQuery[] | undefined;
const kysely = new Kysely<Database>({
  dialect: new SqliteDialect({ database: raw }),
  log(event) {
    if (event.level === 'query') captured?.push(event.query);
  },
});
const store = new KyselyStore(kysely, {
  engine: 'sqlite',
  rowLocks: false,
  isRetryable: () => false,
  isUniqueViolation: (error) => String((error as { code?: string } | null)?.code).startsWith('SQLITE_CONSTRAINT'),
});
await store.migrate();
const email = 'bench@example.com';
const password = 'bench-password';
await createUser(store, { email, password, accountIds: [accountId], now: new Date().toISOString() });
const app = await buildApp({ store, clock: systemClock, logger: false, publicUrl: 'http://127.0.0.1' });

// Sign in as staff do.
const loginPage = await app.server.inject({ method: 'GET', url: '/backoffice/login' });
const loginCookie = String(loginPage.headers['set-cookie']).split(';')[0];
const formToken = /name="_csrf" value="([^"]+)"/.exec(loginPage.body)![1]!;
const signedIn = await app.server.inject({
  method: 'POST',
  url: '/backoffice/login',
  headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams({ _csrf: formToken, email, password }).toString(),
});
const cookie = ([] as string[]).concat(signedIn.headers['set-cookie'] as string[])[0]!.split(';')[0]!;

// Realistic parameters from the data itself.
const total = (raw.prepare('select count(*) as n from transactions where account_id = ?').get(accountId) as { n: number }).n;
const middle = raw.prepare('select id, merchant_reference, customer_email, created_at from transactions where account_id = ? order by created_at desc, id desc limit 1 offset ?').get(accountId, Math.floor(total / 2)) as {
  id: string;
  merchant_reference: string;
  customer_email: string;
  created_at: string;
};
const week = new Date(Date.parse(middle.created_at) - 7 * 86400000).toISOString().slice(0, 10);
const day = middle.created_at.slice(0, 10);

const cases: Array<[string, string]> = [
  ['first page, no filter', '/backoffice/transactions'],
  ['status = CAPTURED', '/backoffice/transactions?status=CAPTURED'],
  ['status = PARTIALLY_CAPTURED (6 %)', '/backoffice/transactions?status=PARTIALLY_CAPTURED'],
  ['payment product = vipps', '/backoffice/transactions?payment_product_type=vipps'],
  ['currency = DKK (5 %)', '/backoffice/transactions?currency=DKK'],
  ['merchant reference (exact)', `/backoffice/transactions?merchant_reference=${middle.merchant_reference}`],
  ['search: email', `/backoffice/transactions?search=${encodeURIComponent(middle.customer_email)}`],
  ['search: transaction id', `/backoffice/transactions?search=${encodeURIComponent(middle.id)}`],
  ['search: no match', '/backoffice/transactions?search=nobody%40example.com'],
  ['amount 100–200 NOK', '/backoffice/transactions?currency=NOK&amount_from=100&amount_to=200'],
  ['amount ≥ 40 000 (rare)', '/backoffice/transactions?amount_from=40000'],
  ['amount ≥ 100 (most rows)', '/backoffice/transactions?amount_from=100'],
  ['created: one week, mid-history', `/backoffice/transactions?created_from=${week}&created_to=${day}`],
  ['status + currency', '/backoffice/transactions?status=REFUNDED&currency=SEK'],
  ['page after the middle row', `/backoffice/transactions?starting_after=${encodeURIComponent(middle.id)}`],
  ['100 rows per page', '/backoffice/transactions?limit=100'],
  ['dashboard, 30 days', '/backoffice/dashboard?days=30'],
];

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

console.log(`${total.toLocaleString('en-GB')} transactions in ${values.file} (planner statistics: ${statistics ? 'yes' : 'none'}); ${runs} runs per case after 5 warm-up runs.`);
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM.\n`);
console.log('| case | rows | server p50 | server p95 | server max | wall p50 |');
console.log('|---|---:|---:|---:|---:|---:|');
const plans: Array<[string, string[]]> = [];
for (const [name, url] of cases) {
  const server: number[] = [];
  const wall: number[] = [];
  let rows = 0;
  for (let run = 0; run < runs + 5; run += 1) {
    captured = run === 0 ? [] : undefined;
    const started = performance.now();
    const response = await app.server.inject({ method: 'GET', url, headers: { cookie } });
    const elapsed = performance.now() - started;
    if (response.statusCode !== 200) throw new Error(`${name}: ${response.statusCode} ${response.body.slice(0, 500)}`);
    if (run === 0) {
      rows = (response.body.match(/<tr>\n<td class="nowrap">/g) ?? []).length;
      const queries = (captured ?? []).filter((query) => /from "transactions"/.test(query.sql));
      plans.push([
        name,
        queries.map((query) => {
          const steps = raw.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as Array<{ detail: string }>;
          return steps.map((step) => step.detail).join('; ');
        }),
      ]);
    }
    if (run < 5) continue;
    server.push(Number(/app;dur=([\d.]+)/.exec(String(response.headers['server-timing']))?.[1]));
    wall.push(elapsed);
  }
  server.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  console.log(`| ${name} | ${url.includes('/dashboard') ? '—' : rows} | ${ms(percentile(server, 50))} | ${ms(percentile(server, 95))} | ${ms(server[server.length - 1]!)} | ${ms(percentile(wall, 50))} |`);
}

if (values.plans) {
  console.log('\nQuery plans (EXPLAIN QUERY PLAN of the SQL each page ran against transactions):\n');
  for (const [name, steps] of plans) {
    console.log(`- ${name}`);
    for (const step of steps) console.log(`    ${step}`);
  }
}
await app.server.close();
await store.close();
