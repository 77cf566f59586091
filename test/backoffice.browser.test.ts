/**
 * The backoffice as staff use it, in real headless Chromium (Debian's, driven by
 * playwright-core): sign in, find a transaction, capture by amount and by lines, refund,
 * void, + Add item → Update on Klarna, a refused action with its reason, CSV export of a
 * filtered list, a forged POST refused. Every page request is recorded: none may leave
 * the machine.
 */
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { authorizedTransaction, readTransaction, startHarness, type Harness } from './support/harness.js';
import { chromiumAvailable, launchBrowser } from './support/browser.js';
import { createStaff, STAFF_EMAIL, STAFF_PASSWORD } from './support/backoffice.js';

const skip = !chromiumAvailable() && process.env.CI !== 'true' ? 'Chromium is not installed (apt-get install -y chromium)' : false;

let h: Harness;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let requested: string[];

before(async () => {
  if (skip) return;
  h = await startHarness();
  await createStaff(h);
  base = await h.app.server.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchBrowser();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await h?.close();
});

beforeEach(async () => {
  if (skip) return;
  context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  requested = [];
  context.on('request', (request) => requested.push(request.url()));
  page = await context.newPage();
});

afterEach(async () => {
  if (skip) return;
  await context.close();
  const outside = requested.filter((url) => !url.startsWith('http://127.0.0.1:'));
  assert.deepEqual(outside, [], 'no request leaves the machine');
  assert.ok(requested.length > 0);
});

async function signIn(): Promise<void> {
  await page.goto(`${base}/backoffice/login`);
  await page.getByLabel('Email').fill(STAFF_EMAIL);
  await page.getByLabel('Password').fill(STAFF_PASSWORD);
  await Promise.all([page.waitForURL(/\/backoffice\/transactions$/), page.getByRole('button', { name: 'Sign in' }).click()]);
}

async function open(transactionId: string): Promise<void> {
  await page.goto(`${base}/backoffice/transactions/${transactionId}`);
}

/** Clicks the action's button, then confirms on the confirmation page. */
async function confirm(button: string, confirmation: string): Promise<void> {
  await Promise.all([page.waitForURL(/\/(capture|refund|void|update)$/), page.getByRole('button', { name: button, exact: true }).click()]);
  await assert.doesNotReject(page.getByRole('heading', { name: confirmation }).waitFor());
  await Promise.all([page.waitForURL(/\?done=/), page.getByRole('button', { name: confirmation }).click()]);
}

async function notice(): Promise<string> {
  return (await page.getByRole('status').first().innerText()).replace(/\s+/g, ' ');
}

test('sign in: a wrong password is refused with a clear message, the right one opens the list', { skip }, async () => {
  await page.goto(`${base}/backoffice/transactions`);
  assert.match(page.url(), /\/backoffice\/login\?next=/);
  await page.getByLabel('Email').fill(STAFF_EMAIL);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  assert.equal(await page.getByRole('alert').innerText(), 'Wrong email or password.');
  assert.equal(await page.getByLabel('Email').inputValue(), STAFF_EMAIL, 'the email is kept');
  // Keyboard only from here: the password field has focus.
  await page.keyboard.type(STAFF_PASSWORD);
  await Promise.all([page.waitForURL(/\/backoffice\/transactions$/), page.keyboard.press('Enter')]);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Transactions');
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Transactions' }).getAttribute('aria-current'), 'page');
  assert.equal(await page.locator('main#main').count(), 1, 'one main landmark');
});

test('find a transaction by merchant reference', { skip }, async () => {
  const id = await authorizedTransaction(h, { merchantReference: 'find-me-4711', customer: { email: 'kari@example.com' } });
  await authorizedTransaction(h, { merchantReference: 'find-me-4712' });
  await signIn();
  await page.getByLabel('Merchant reference').fill('find-me-4711');
  await Promise.all([page.waitForURL(/merchant_reference=find-me-4711/), page.getByRole('button', { name: 'Apply filters' }).click()]);
  const rows = page.getByRole('table').locator('tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), /find-me-4711[\s\S]*kari@example\.com[\s\S]*Klarna[\s\S]*Authorized[\s\S]*NOK\s10\.00/);
  await Promise.all([page.waitForURL(new RegExp(`/backoffice/transactions/${id.replace('.', '\\.')}$`)), page.getByRole('link', { name: 'find-me-4711' }).click()]);
  assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /find-me-4711/);
  // The search box finds it by the customer's email too.
  await page.goto(`${base}/backoffice/transactions`);
  await page.getByRole('searchbox', { name: 'Search' }).fill('kari@example.com');
  await Promise.all([page.waitForURL(/search=/), page.getByRole('button', { name: 'Search', exact: true }).click()]);
  assert.equal(await page.getByRole('table').locator('tbody tr').count(), 1);
});

test('partial capture by amount, then capture by lines, then refund', { skip }, async () => {
  const id = await authorizedTransaction(h);
  await signIn();
  await open(id);
  const captureForm = page.getByRole('form', { name: 'Capture' });
  await captureForm.getByLabel('Amount', { exact: true }).fill('1.50');
  assert.equal(await captureForm.getByLabel('Part of it').isChecked(), true, 'typing an amount picks "Part of it"');
  await confirm('Capture', 'Confirm capture');
  assert.equal(await notice(), 'Captured NOK 1.50.');
  let transaction = await readTransaction(h, id);
  assert.equal(transaction.status, 'PARTIALLY_CAPTURED');
  assert.equal(transaction.captured_amount, 150);
  assert.equal(transaction.events.at(-1)?.created_by, STAFF_EMAIL);
  assert.match(await page.getByRole('region', { name: 'Events' }).innerText(), /CAPTURE[\s\S]*Success[\s\S]*NOK\s1\.50[\s\S]*staff@example\.com/);

  await page.getByRole('form', { name: 'Capture' }).getByLabel(/Table/).check();
  await confirm('Capture', 'Confirm capture');
  assert.equal(await notice(), 'Captured NOK 4.00.');
  transaction = await readTransaction(h, id);
  assert.equal(transaction.captured_amount, 550);
  assert.deepEqual(transaction.items.map((line) => [line.line_id, line.captured_amount]), [['1', 0], ['2', 400]]);
  assert.match(await page.getByRole('region', { name: 'Items' }).innerText(), /Table[\s\S]*NOK\s4\.00[\s\S]*NOK\s4\.00/);

  const refundForm = page.getByRole('form', { name: 'Refund' });
  await refundForm.getByLabel(/^Everything/).check();
  await refundForm.getByLabel(/Reason/).fill('Damaged in transport');
  await confirm('Refund', 'Confirm refund');
  assert.equal(await notice(), 'Refunded NOK 5.50.');
  transaction = await readTransaction(h, id);
  assert.equal(transaction.status, 'PARTIALLY_CAPTURED_REFUNDED');
  assert.equal(transaction.refunded_amount, 550);
  assert.equal(transaction.events.at(-1)?.event, 'REFUND');
  assert.equal(transaction.events.at(-1)?.created_by, STAFF_EMAIL);
});

test('void: the whole authorization, after a confirmation', { skip }, async () => {
  const id = await authorizedTransaction(h, { productType: 'vipps' });
  await signIn();
  await open(id);
  await Promise.all([page.waitForURL(/\/void$/), page.getByRole('button', { name: 'Void', exact: true }).click()]);
  assert.match(await page.getByRole('main').innerText(), /Void NOK\s10\.00: the whole authorization/);
  assert.equal((await readTransaction(h, id)).status, 'AUTHORIZED', 'nothing happens before the confirmation');
  await Promise.all([page.waitForURL(/\?done=void/), page.getByRole('button', { name: 'Confirm void' }).click()]);
  assert.equal(await notice(), 'Voided NOK 10.00.');
  const transaction = await readTransaction(h, id);
  assert.equal(transaction.status, 'AUTHORIZATION_VOIDED');
  assert.equal(transaction.events.at(-1)?.created_by, STAFF_EMAIL);
  assert.equal(await page.getByRole('button', { name: 'Capture', exact: true }).count(), 0, 'no more actions offered');
});

test('Klarna: + Add item, fill the line, Update; the API shows the new total, the new line and an AUTHORIZE event', { skip }, async () => {
  const id = await authorizedTransaction(h, { productType: 'klarna.klarna' });
  await signIn();
  await open(id);
  await page.getByRole('button', { name: '+ Add item' }).click();
  await page.getByLabel('Description').fill('Gift wrapping');
  await page.getByLabel('Quantity').fill('2');
  await page.getByLabel('Unit price').fill('49.90');
  await page.getByLabel('VAT %').fill('25');
  await Promise.all([page.waitForURL(/\/update$/), page.getByRole('button', { name: 'Update', exact: true }).click()]);
  assert.match(await page.getByRole('main').innerText(), /from NOK\s10\.00 to NOK\s109\.80/);
  await Promise.all([page.waitForURL(/\?done=update/), page.getByRole('button', { name: 'Confirm update' }).click()]);
  assert.equal(await notice(), 'Authorization updated: the new total is NOK 109.80.');
  const transaction = await readTransaction(h, id);
  assert.equal(transaction.amount, 10980);
  const added = transaction.items.at(-1)!;
  assert.equal(added.description, 'Gift wrapping');
  assert.equal(added.quantity, 2);
  assert.equal(added.amount, 9980);
  assert.equal(added.vat, 25);
  const event = transaction.events.at(-1)!;
  assert.equal(event.event, 'AUTHORIZE');
  assert.equal(event.amount, 10980);
  assert.equal(event.success, true);
  assert.equal(event.created_by, STAFF_EMAIL);
  assert.match(await page.getByRole('region', { name: 'Items' }).innerText(), /Gift wrapping[\s\S]*2[\s\S]*NOK\s99\.80/);
});

test('a refused action shows the server\'s reason and changes nothing', { skip }, async () => {
  const id = await authorizedTransaction(h);
  await signIn();
  await open(id);
  await page.getByRole('form', { name: 'Capture' }).getByLabel('Amount', { exact: true }).fill('10.01');
  await Promise.all([page.waitForURL(/\/capture$/), page.getByRole('button', { name: 'Capture', exact: true }).click()]);
  const [response] = await Promise.all([page.waitForResponse(/\/capture$/), page.getByRole('button', { name: 'Confirm capture' }).click()]);
  assert.equal(response.status(), 400);
  const alert = await page.getByRole('alert').innerText();
  assert.match(alert, /^Capture refused: Amount 1001 is above the 1000 that remains to capture\.$/);
  assert.equal((await readTransaction(h, id)).captured_amount, 0);
});

test('CSV export holds exactly the filtered list', { skip }, async () => {
  for (let n = 0; n < 3; n += 1) {
    h.clock.advance(1000);
    await authorizedTransaction(h, { currency: 'SEK', merchantReference: `sek-${n}`, amount: 1990 + n });
  }
  await authorizedTransaction(h, { currency: 'DKK', merchantReference: 'dkk-0' });
  await signIn();
  await page.getByLabel('Currency').fill('SEK');
  await Promise.all([page.waitForURL(/currency=SEK/), page.getByRole('button', { name: 'Apply filters' }).click()]);
  const listed = await page.getByRole('table').locator('tbody tr a').allInnerTexts();
  assert.deepEqual(listed, ['sek-2', 'sek-1', 'sek-0']);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  assert.match(download.suggestedFilename(), /^transactions-T00000001-.*\.csv$/);
  const text = (await readFile((await download.path())!, 'utf8')).replace(/^\uFEFF/, '');
  const [header, ...rows] = text.trim().split('\r\n');
  const column = (name: string) => header!.split(',').indexOf(name);
  assert.deepEqual(rows.map((row) => row.split(',')[column('merchant_reference')]), listed);
  assert.deepEqual(rows.map((row) => row.split(',')[column('currency')]), ['SEK', 'SEK', 'SEK']);
  assert.deepEqual(rows.map((row) => row.split(',')[column('amount')]), ['19.92', '19.91', '19.90']);
});

test('a POST without the CSRF token is refused (403) and changes nothing', { skip }, async () => {
  const id = await authorizedTransaction(h);
  await signIn();
  await open(id);
  await page.locator('form[action$="/void"] input[name="_csrf"]').evaluate((input) => input.remove());
  const [response] = await Promise.all([page.waitForResponse(/\/void$/), page.getByRole('button', { name: 'Void', exact: true }).click()]);
  assert.equal(response.status(), 403);
  assert.match(await page.getByRole('alert').innerText(), /could not be verified/);
  // The same from another origin's point of view: a bare form post with the cookie but no token.
  const forged = await context.request.post(`${base}/backoffice/transactions/${id}/void`, { form: { confirm: 'yes' }, maxRedirects: 0 });
  assert.equal(forged.status(), 403);
  assert.equal((await readTransaction(h, id)).status, 'AUTHORIZED');
});
