/**
 * Screenshots for the README: the backoffice's transaction list, a transaction page and the
 * dashboard, and the hosted checkout page, taken in headless Chromium from a server with a
 * month of made-up sandbox transactions on a fixed clock (so a rerun gives the same pictures).
 *
 *   node --import tsx scripts/screenshots.ts            # writes docs/screenshots/*.png
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../src/http/app.js';
import { openStore } from '../src/store/open-store.js';
import { bootstrap, createUser } from '../src/services/accounts.js';
import { ManualClock } from '../src/clock.js';
import { chromiumAvailable, launchBrowser } from '../test/support/browser.js';

const OUT = join(process.cwd(), 'docs', 'screenshots');
const NOW = '2026-03-16T14:30:00.000Z';
const DAY = 24 * 60 * 60 * 1000;
const EMAIL = 'finance@example.com';
const PASSWORD = 'screenshots-only';

/** A small deterministic generator, so every run makes the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const people = [
  ['Kari', 'Nordmann', 'Storgata 12', '0155', 'Oslo'],
  ['Ola', 'Hansen', 'Bryggen 3', '5003', 'Bergen'],
  ['Ingrid', 'Berg', 'Munkegata 21', '7011', 'Trondheim'],
  ['Lars', 'Johansen', 'Kirkegata 5', '4006', 'Stavanger'],
  ['Sofie', 'Larsen', 'Strandgata 40', '9008', 'Tromsø'],
  ['Emil', 'Andersen', 'Torget 1', '3015', 'Drammen'],
] as const;

const catalogue = [
  ['Oak dining chair', 89900],
  ['Linen seat cushion', 24900],
  ['Walnut side table', 149900],
  ['Wool throw', 69900],
  ['Ceramic vase', 34900],
  ['Reading lamp', 119900],
  ['Cotton napkins (4)', 19900],
] as const;

const products = ['klarna.klarna', 'klarna.klarna', 'vipps', 'payex.creditcard', 'klarna.billie', 'collector.invoice', 'swish.swish'] as const;

async function main(): Promise<void> {
  if (!chromiumAvailable()) throw new Error('Chromium is not installed (apt-get install -y chromium)');
  mkdirSync(OUT, { recursive: true });
  const clock = new ManualClock(new Date(Date.parse(NOW) - 29 * DAY));
  const store = await openStore('sqlite::memory:');
  await bootstrap(store, { accountId: 'T00000001', clientId: 'shots', clientSecret: 'shots-secret' }, clock.now().toISOString());
  await bootstrap(store, { accountId: 'T00000002', clientId: 'shots-2', clientSecret: 'shots-secret' }, clock.now().toISOString());
  await createUser(store, { email: EMAIL, password: PASSWORD, accountIds: ['T00000001', 'T00000002'], now: clock.now().toISOString() });
  const app = await buildApp({ store, clock, logger: false, publicUrl: 'http://127.0.0.1' });
  const inject = app.server.inject.bind(app.server);

  // Tokens live 4 hours of clock time; the clock runs through a month, so a new one each day.
  const auth = { authorization: '' };
  let issuedAt = -Infinity;
  async function refreshToken(): Promise<void> {
    if (clock.now().getTime() - issuedAt < 3 * 60 * 60 * 1000) return;
    issuedAt = clock.now().getTime();
    const response = await inject({
      method: 'POST',
      url: '/v1/accounts/T00000001/auth/token',
      headers: { authorization: `Basic ${Buffer.from('shots:shots-secret').toString('base64')}` },
      payload: { grant_type: 'client_credentials', audience: 'http://127.0.0.1/v1/accounts/T00000001' },
    });
    auth.authorization = `Bearer ${response.json().access_token}`;
  }

  async function session(reference: string, rng: () => number, currency: string, picks?: readonly number[]): Promise<string> {
    const lines = picks?.length ?? 1 + Math.floor(rng() * 3);
    const items = Array.from({ length: lines }, (_, index) => {
      const [description, price] = catalogue[picks?.[index] ?? Math.floor(rng() * catalogue.length)]!;
      const quantity = 1 + Math.floor(rng() * 3);
      const unit = currency === 'NOK' ? price : Math.round(price / 10);
      return { line_id: String(index + 1), id: `sku-${index + 1}`, description, quantity, amount: unit * quantity, vat: 25, vat_amount: Math.round((unit * quantity) / 5) };
    });
    const shipping = { id: 'bring', line_id: 'ship', amount: currency === 'NOK' ? 9900 : 990, operator: 'Bring', title: 'Home delivery' };
    const amount = items.reduce((sum, item) => sum + item.amount, 0) + shipping.amount;
    const [first, last, street, postal, place] = people[Math.floor(rng() * people.length)]!;
    const email = `${first.toLowerCase()}.${last.toLowerCase()}@example.com`;
    const address = { first_name: first, last_name: last, address_line: street, postal_code: postal, postal_place: place, country: 'NO' };
    const response = await inject({
      method: 'POST',
      url: '/v1/sessions-profile',
      headers: auth,
      payload: {
        profile_id: 'default',
        url: { return_url: 'https://shop.example/return' },
        order: { amount, currency, merchant_reference: reference, items, shipping_option: shipping, shipping_address: address, billing_address: address },
        customer: { email, phone_number: '+4791234567', first_name: first, last_name: last },
      },
    });
    if (response.statusCode !== 200) throw new Error(`session: ${response.body}`);
    return response.json().id;
  }

  async function pay(sessionId: string, type: string, outcome = 'authorized'): Promise<string> {
    const response = await inject({ method: 'POST', url: `/v1/sessions/${sessionId}/pay`, payload: { payment_product_type: type, sandbox: { outcome } } });
    if (response.statusCode !== 200) throw new Error(`pay: ${response.body}`);
    return response.json().transaction_id;
  }

  const operate = (id: string, name: string, payload?: object) =>
    inject({ method: 'POST', url: `/v1/transactions/${id}/${name}`, headers: auth, ...(payload ? { payload } : {}) });

  // A month of orders: most captured, some refunded or voided, the newest still authorized.
  const rng = random(20260316);
  let order = 1000;
  const moveTo = (iso: number) => clock.advance(Math.max(0, iso - clock.now().getTime()));
  const today = Date.parse(`${NOW.slice(0, 10)}T00:00:00.000Z`);
  for (let day = 0; day < 30; day += 1) {
    moveTo(today - (29 - day) * DAY + 7 * 60 * 60 * 1000);
    await refreshToken();
    const perDay = 4 + Math.floor(rng() * 9) + (day % 7 === 5 ? 6 : 0);
    for (let n = 0; n < perDay; n += 1) {
      clock.advance(Math.floor((5 + rng() * 60) * 60 * 1000));
      await refreshToken();
      order += 1;
      const currency = rng() < 0.82 ? 'NOK' : rng() < 0.6 ? 'SEK' : 'EUR';
      const type = products[Math.floor(rng() * products.length)]!;
      const id = await pay(await session(`web-${order}`, rng, currency), type, rng() < 0.05 ? 'declined' : 'authorized').catch(() => undefined);
      if (id === undefined) continue;
      const age = 29 - day;
      const roll = rng();
      if (type === 'swish.swish') {
        if (roll < 0.15) await operate(id, 'refund', { amount: 990 });
      } else if (age > 2 && roll < 0.72) {
        const full = await inject({ method: 'GET', url: `/v1/transactions/${id}`, headers: auth });
        if (full.statusCode === 200 && full.json().status === 'AUTHORIZED') {
          await operate(id, 'capture', type === 'collector.invoice' ? { amount: full.json().amount, items: full.json().items.map((line: { line_id: string; amount: number }) => ({ line_id: line.line_id, amount: line.amount })) } : { amount: full.json().amount });
          if (rng() < 0.18) await operate(id, 'refund', { amount: Math.min(full.json().amount, 9900), reason: 'Returned item' });
        }
      } else if (age > 2 && roll < 0.8) {
        await operate(id, 'void');
      }
    }
  }

  await refreshToken();
  // The transaction the README shows: a Klarna order, partly captured, with an added line and a refund.
  const featured = await pay(await session('web-2042', random(7), 'NOK', [0, 1, 5]), 'klarna.klarna');
  const before = (await inject({ method: 'GET', url: `/v1/transactions/${featured}`, headers: auth })).json();
  const firstLine = before.items[0];
  await operate(featured, 'capture', { amount: firstLine.amount, capture_reference: 'shipment-1', items: [{ line_id: firstLine.line_id, amount: firstLine.amount }] });
  await operate(featured, 'refund', { amount: 10000, reason: 'Scratched on arrival', refund_reference: 'rma-77' });
  // The hosted page shows an order not paid yet.
  const unpaid = await session('web-2043', random(11), 'NOK', [2, 3]);
  moveTo(Date.parse(NOW));

  const base = await app.server.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('http://127.0.0.1')) outside.push(request.url());
    });
    await page.goto(`${base}/backoffice/login`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/backoffice\/transactions/), page.getByRole('button', { name: 'Sign in' }).click()]);

    await page.goto(`${base}/backoffice/transactions?limit=25`);
    await page.screenshot({ path: join(OUT, 'transactions.png'), fullPage: true });

    await page.goto(`${base}/backoffice/transactions/${featured}`);
    await page.getByRole('button', { name: '+ Add item' }).click();
    await page.getByLabel('Description').fill('Gift wrapping');
    await page.getByLabel('Unit price').fill('49');
    await page.screenshot({ path: join(OUT, 'transaction.png'), fullPage: true });

    await page.goto(`${base}/backoffice/dashboard`);
    await page.screenshot({ path: join(OUT, 'dashboard.png'), fullPage: true });

    if (outside.length > 0) throw new Error(`requests left the machine: ${outside.join(', ')}`);
    const checkout = await browser.newPage({ viewport: { width: 1024, height: 800 } });
    await checkout.goto(`${base}/v1/view/${unpaid}`);
    await checkout.screenshot({ path: join(OUT, 'checkout.png'), fullPage: true });
  } finally {
    await browser.close();
    await app.server.close();
    await store.close();
  }
  console.log(`Screenshots written to ${OUT}`);
}

await main();
