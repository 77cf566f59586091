/**
 * The hosted payment page as a customer meets it, in real headless Chromium: see the
 * order, pay with Klarna and land on the shop's return_url; cancel and land with
 * error=cancelled. The shop's return_url is a real HTTP server on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { getTransaction, startHarness, type Harness } from './support/harness.js';
import { chromiumAvailable, launchBrowser } from './support/browser.js';

const skip = !chromiumAvailable() && process.env.CI !== 'true' ? 'Chromium is not installed (apt-get install -y chromium)' : false;

let h: Harness;
let base: string;
let browser: Browser;
let shop: Server;
let shopUrl: string;

before(async () => {
  if (skip) return;
  h = await startHarness();
  base = await h.app.server.listen({ port: 0, host: '127.0.0.1' });
  shop = createServer((_request, response) => response.end('<!doctype html><title>Shop</title><h1>Thanks</h1>'));
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}/return`;
  browser = await launchBrowser();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await new Promise((resolve) => shop.close(resolve));
  await h.close();
});

async function session(): Promise<{ id: string; url: string }> {
  const response = await h.request({
    method: 'POST',
    url: '/v1/sessions-profile',
    headers: { authorization: `Bearer ${h.token}` },
    payload: {
      profile_id: 'default',
      url: { return_url: shopUrl },
      order: {
        amount: 129900,
        currency: 'NOK',
        merchant_reference: 'web-1001',
        items: [
          { line_id: '1', description: 'Oak dining chair', quantity: 4, amount: 99600 },
          { line_id: '2', description: 'Linen seat cushion', quantity: 4, amount: 23300 },
        ],
        shipping_option: { id: 'bring', line_id: 'ship', amount: 7000, operator: 'Bring', title: 'Home delivery' },
      },
    },
  });
  assert.equal(response.statusCode, 200);
  const body = response.json();
  return { id: body.id, url: body.url.replace('http://kasse.test', base) };
}

test('pay with Klarna on the hosted page and land on return_url with the transaction', { skip }, async () => {
  const { id, url } = await session();
  const page = await browser.newPage();
  const outside: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('http://127.0.0.1')) outside.push(request.url());
  });
  await page.goto(url);
  const summary = page.getByRole('table', { name: 'Order summary' });
  await assert.doesNotReject(summary.getByText('Oak dining chair').waitFor());
  assert.match(await summary.innerText(), /Linen seat cushion/);
  assert.match(await summary.innerText(), /Home delivery/);
  assert.match(await page.locator('tfoot').innerText(), /NOK\s+1,299\.00/);
  await page.getByLabel('Klarna', { exact: true }).check();
  await page.getByLabel('Authorized').check();
  await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: /Pay NOK/ }).click()]);
  const landed = new URL(page.url());
  const transactionId = landed.searchParams.get('transaction_id');
  assert.ok(transactionId, `return_url carries transaction_id: ${page.url()}`);
  assert.equal(landed.searchParams.get('merchant_reference'), 'web-1001');
  assert.equal(landed.searchParams.get('session_id'), id);
  assert.equal(landed.searchParams.get('error'), null);
  const transaction = (await getTransaction(h, transactionId!)).json();
  assert.equal(transaction.status, 'AUTHORIZED');
  assert.equal(transaction.payment_product_type, 'klarna.klarna');
  assert.equal(transaction.amount, 129900);
  assert.deepEqual(outside, [], 'the page loads nothing from outside the machine');
  await page.close();
});

test('cancel on the hosted page lands on return_url with error=cancelled', { skip }, async () => {
  const { id, url } = await session();
  const page = await browser.newPage();
  await page.goto(url);
  await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: 'Cancel payment' }).click()]);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get('error'), 'cancelled');
  assert.equal(landed.searchParams.get('session_id'), id);
  assert.equal(landed.searchParams.get('transaction_id'), null);
  await page.close();
});

test('a declined payment lands with error=authorization; the keyboard alone can pay', { skip }, async () => {
  const { url } = await session();
  const page = await browser.newPage();
  await page.goto(url);
  await page.getByLabel('Declined').check();
  await Promise.all([page.waitForURL(/\/return\?/), page.getByRole('button', { name: /Pay NOK/ }).click()]);
  assert.equal(new URL(page.url()).searchParams.get('error'), 'authorization');

  // Same session again (a declined attempt leaves it payable), now only with the keyboard.
  await page.goto(url);
  await page.getByLabel('Vipps', { exact: true }).focus();
  await page.keyboard.press('Space');
  await page.getByRole('button', { name: /Pay NOK/ }).focus();
  await Promise.all([page.waitForURL(/\/return\?/), page.keyboard.press('Enter')]);
  const transactionId = new URL(page.url()).searchParams.get('transaction_id');
  const transaction = (await getTransaction(h, transactionId!)).json();
  assert.equal(transaction.payment_product_type, 'vipps');
  assert.equal(transaction.status, 'AUTHORIZED');
  await page.close();
});
