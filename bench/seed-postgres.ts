/**
 * Seeds a PostgreSQL database (DATABASE_URL) with N transactions (default 1 000 000) for
 * the list benchmark, in a few set-based statements (generate_series), after Kasse's own
 * migrations. Rows keep the schema's money check (captured + voided ≤ amount, refunded ≤
 * captured) and carry two events each. A benchmark fixture, not realistic data.
 *
 *   DATABASE_URL=postgres://... node --import tsx bench/seed-postgres.ts [--count 1000000] [--account T00000001]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openStore } from '../src/store/open-store.js';
import { createAccount } from '../src/services/accounts.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000000' }, account: { type: 'string', default: 'T00000001' } } });
const count = Number(values.count);
const accountId = values.account!;
const url = process.env.DATABASE_URL;
if (!url?.startsWith('postgres')) throw new Error('DATABASE_URL must name a PostgreSQL database');

const store = await openStore(url);
await createAccount(store, { id: accountId, now: new Date().toISOString() });
await store.close();

const client = new pg.Client({ connectionString: url });
await client.connect();
const started = performance.now();
const iso = (expression: string) => `to_char((${expression}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
// i: 1..count; newest first means created_at descending with i; statuses cycle through five shapes.
await client.query(
  `insert into transactions (id, account_id, session_id, status, authorization_status, payment_product, payment_product_type,
     currency, amount, captured_amount, refunded_amount, voided_amount, merchant_reference, merchant_reference_2, customer_email,
     customer_phone, authorized_at, authorization_expires_at, items, details, event_count, created_at, updated_at, version, pending, pending_due_at)
   select $1 || '.' || substr(md5(i::text), 1, 22), $1, $1 || '.' || substr(md5('s' || i::text), 1, 22),
     (array['AUTHORIZED','CAPTURED','PARTIALLY_CAPTURED','REFUNDED','AUTHORIZATION_VOIDED'])[i % 5 + 1], 'AUTHORIZED',
     split_part(t.type, '.', 1), t.type,
     case when i % 20 < 14 then 'NOK' when i % 20 < 17 then 'SEK' when i % 20 < 19 then 'EUR' else 'DKK' end,
     a.amount,
     case i % 5 when 1 then a.amount when 2 then a.amount / 2 when 3 then a.amount else 0 end,
     case i % 5 when 3 then a.amount else 0 end,
     case i % 5 when 4 then a.amount else 0 end,
     'order-' || i, null, 'customer' || (i % 100000) || '@example.com', null,
     ${iso('c.created')}, ${iso("c.created + interval '28 days'")},
     '[{"line_id":"1","amount":' || a.amount || ',"quantity":1,"captured_amount":0,"refunded_amount":0}]',
     '{"url":{"redirect_url":"https://shop.example/return"}}', 2, ${iso('c.created')}, ${iso('c.created')}, 1, '[]', null
   from generate_series(1, $2::int) as i,
     lateral (select 1000 + ((i::bigint * 7919) % 50000)::int as amount) a,
     lateral (select now() - (i * interval '30 seconds') as created) c,
     lateral (select (array['klarna.klarna','vipps','payex.creditcard','collector.invoice','bambora.creditcard'])[i % 5 + 1] as type) t`,
  [accountId, count],
);
await client.query(
  `insert into transaction_events (transaction_id, seq, data, created_at)
   select t.id, e.seq, '{"id":"' || e.seq || '","event":"' || e.event || '","success":true,"transaction_status":"' || e.status ||
     '","amount":' || t.amount || ',"created_at":"' || t.created_at || '"}', t.created_at
   from transactions t, (values (1, 'INITIALIZE', 'INITIATED'), (2, 'AUTHORIZE', 'AUTHORIZED')) as e(seq, event, status)
   where t.account_id = $1 and t.merchant_reference like 'order-%'`,
  [accountId],
);
// VACUUM as well: without a visibility map every index-only scan of the list visits the heap,
// which a database in service (autovacuum) does not; a fresh seed is not yet vacuumed.
await client.query('vacuum (analyze) transactions');
await client.query('vacuum (analyze) transaction_events');
await client.end();
process.stdout.write(`Seeded ${count.toLocaleString('en')} transactions into PostgreSQL in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
