/**
 * The backoffice over HTTP (inject): sign-in, session cookie, CSRF, throttling, security
 * headers, account switching, list filters and paging, CSV export, and actions through the
 * confirmation step. The browser suite (backoffice.browser.test.ts) drives the same pages in
 * Chromium.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../src/http/app.js';
import { authorizedTransaction, readTransaction, startHarness, type Harness } from './support/harness.js';
import { BackofficeClient, createStaff, csrfOf, formFields, roleText, STAFF_EMAIL, STAFF_PASSWORD } from './support/backoffice.js';

let h: Harness;

before(async () => {
  h = await startHarness();
  await createStaff(h, ['T00000001', 'T00000002'].slice(0, 1));
  await h.tokenFor('T00000002');
  await createStaff(h, ['T00000001', 'T00000002'], 'two@example.com');
});

after(async () => {
  await h.close();
});

async function signedIn(email = STAFF_EMAIL): Promise<BackofficeClient> {
  const client = new BackofficeClient(h);
  const response = await client.login(email);
  assert.equal(response.statusCode, 303, response.body);
  return client;
}

describe('sign-in', () => {
  test('pages need a session: a visitor is sent to the login page with the way back', async () => {
    const response = await h.request({ method: 'GET', url: '/backoffice/transactions?status=CAPTURED' });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, `/backoffice/login?next=${encodeURIComponent('/backoffice/transactions?status=CAPTURED')}`);
  });

  test('a wrong password is refused with a clear message; the right one sets an HttpOnly SameSite session cookie', async () => {
    const client = new BackofficeClient(h, '10.0.0.1');
    const wrong = await client.login(STAFF_EMAIL, 'wrong password');
    assert.equal(wrong.statusCode, 401);
    assert.equal(roleText(wrong.body, 'alert'), 'Wrong email or password.');
    assert.equal(client.cookies.has('kasse_backoffice'), false);
    const unknown = await client.login('nobody@example.com', STAFF_PASSWORD);
    assert.equal(roleText(unknown.body, 'alert'), 'Wrong email or password.', 'an unknown email reads the same');

    const right = await client.login();
    assert.equal(right.statusCode, 303);
    assert.equal(right.headers.location, '/backoffice/transactions');
    const cookie = ([] as string[]).concat(right.headers['set-cookie'] as string[]).find((line) => line.startsWith('kasse_backoffice='))!;
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.match(cookie, /; Path=\/backoffice/);
    assert.doesNotMatch(cookie, /Secure/, 'plain http on loopback: no Secure flag');
    const token = cookie.split(';')[0]!.split('=')[1]!;
    const page = await client.get('/backoffice/transactions');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /staff@example\.com/);
    assert.equal(await h.store.getBackofficeSession(token, h.clock.now().toISOString()), undefined, 'the database holds a hash, not the token');
  });

  test('behind https the session cookie is Secure', async () => {
    const app = await buildApp({ store: h.store, clock: h.clock, logger: false, publicUrl: 'https://kasse.example' });
    try {
      const page = await app.server.inject({ method: 'GET', url: '/backoffice/login' });
      assert.match(String(page.headers['set-cookie']), /; Secure/);
      const loginCookie = String(page.headers['set-cookie']).split(';')[0];
      const response = await app.server.inject({
        method: 'POST',
        url: '/backoffice/login',
        headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrfOf(page.body), email: STAFF_EMAIL, password: STAFF_PASSWORD }).toString(),
      });
      assert.equal(response.statusCode, 303);
      assert.match(([] as string[]).concat(response.headers['set-cookie'] as string[])[0]!, /^kasse_backoffice=.*; HttpOnly; SameSite=Lax; Secure$/);
    } finally {
      await app.server.close();
    }
  });

  test('the login form itself is CSRF-protected (double-submit token)', async () => {
    const response = await h.request({
      method: 'POST',
      url: '/backoffice/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: STAFF_EMAIL, password: STAFF_PASSWORD }).toString(),
    });
    assert.equal(response.statusCode, 403);
    assert.equal(String(response.headers['set-cookie'] ?? '').includes('kasse_backoffice='), false);
  });

  test('five failures for an email from one address pause sign-in for 15 minutes (429, Retry-After), even with the right password', async () => {
    await createStaff(h, ['T00000001'], 'throttled@example.com');
    const client = new BackofficeClient(h, '10.9.9.9');
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      assert.equal((await client.login('throttled@example.com', `guess ${attempt}`)).statusCode, 401, `attempt ${attempt}`);
    }
    const paused = await client.login('throttled@example.com', STAFF_PASSWORD);
    assert.equal(paused.statusCode, 429);
    const retryAfter = Number(paused.headers['retry-after']);
    assert.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter}`);
    assert.match(roleText(paused.body, 'alert') ?? '', /Too many failed sign-ins.*Try again in 15 minutes/);
    assert.equal(client.cookies.has('kasse_backoffice'), false);

    const elsewhere = new BackofficeClient(h, '10.9.9.10');
    assert.equal((await elsewhere.login('throttled@example.com')).statusCode, 303, 'another address is not paused');

    h.clock.advance(15 * 60 * 1000 + 1000);
    assert.equal((await client.login('throttled@example.com')).statusCode, 303, 'after the window the right password works');
  });

  test('logout needs the CSRF token, ends the session and the old cookie no longer works', async () => {
    const client = await signedIn();
    const token = client.cookies.get('kasse_backoffice')!;
    assert.equal((await client.post('/backoffice/logout', {})).statusCode, 403);
    assert.equal((await client.get('/backoffice/transactions')).statusCode, 200, 'still signed in');
    const out = await client.post('/backoffice/logout', { _csrf: await client.csrf() });
    assert.equal(out.statusCode, 303);
    assert.equal(out.headers.location, '/backoffice/login?signed_out=1');
    const again = await h.request({ method: 'GET', url: '/backoffice/transactions', headers: { cookie: `kasse_backoffice=${token}` } });
    assert.equal(again.statusCode, 303);
  });
});

describe('every HTML response', () => {
  test('has a CSP without inline script, frame-ancestors none, nosniff and a referrer policy', async () => {
    const client = await signedIn();
    const id = await authorizedTransaction(h);
    for (const url of ['/backoffice/login', '/backoffice/transactions', `/backoffice/transactions/${id}`, '/backoffice/dashboard', '/backoffice/nope']) {
      const response = url === '/backoffice/login' ? await h.request({ method: 'GET', url }) : await client.get(url);
      assert.match(String(response.headers['content-type']), /text\/html/, url);
      const csp = String(response.headers['content-security-policy']);
      assert.match(csp, /script-src 'self'(;|$)/, url);
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.match(csp, /default-src 'none'/, url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, url);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(response.headers['referrer-policy'], 'same-origin', url);
      assert.equal(response.headers['cache-control'], 'no-store', url);
      assert.doesNotMatch(response.body, /<script>|<script(?![^>]*\ssrc=)[^>]*>|\sstyle="|\son[a-z]+="/, `${url}: no inline script, style or handler`);
    }
  });
});

describe('CSRF', () => {
  test('a POST without the token is refused (403) and changes nothing', async () => {
    const client = await signedIn();
    const id = await authorizedTransaction(h);
    const attempts: Array<Record<string, string>> = [{ mode: 'full' }, { mode: 'full', _csrf: 'forged' }];
    for (const fields of attempts) {
      const response = await client.post(`/backoffice/transactions/${id}/capture`, { ...fields, confirm: 'yes', idempotency_key: 'aaaaaaaaaaaaaaaaaaaa', version: '"1"' });
      assert.equal(response.statusCode, 403);
      assert.match(roleText(response.body, 'alert') ?? '', /could not be verified/);
    }
    const json = await h.request({
      method: 'POST',
      url: `/backoffice/transactions/${id}/void`,
      headers: { cookie: `kasse_backoffice=${client.cookies.get('kasse_backoffice')}`, 'content-type': 'application/json' },
      payload: { confirm: 'yes' },
    });
    assert.equal(json.statusCode, 403);
    const transaction = await readTransaction(h, id);
    assert.equal(transaction.status, 'AUTHORIZED');
    assert.equal(transaction.events.length, 2);
  });
});

describe('accounts', () => {
  test('a user with several accounts switches between them; others are out of reach', async () => {
    const mine = await authorizedTransaction(h, { merchantReference: 'acct-one' });
    const other = await authorizedTransaction(h, { merchantReference: 'acct-two', token: await h.tokenFor('T00000002') });
    const client = await signedIn('two@example.com');
    let list = await client.get('/backoffice/transactions');
    assert.match(list.body, /<select id="account-select"/);
    assert.match(list.body, /acct-one/);
    assert.doesNotMatch(list.body, /acct-two/);
    assert.equal((await client.get(`/backoffice/transactions/${other}`)).statusCode, 404, 'not in the selected account');

    const switched = await client.post('/backoffice/account', { _csrf: csrfOf(list.body), account_id: 'T00000002', return_to: '/backoffice/transactions' });
    assert.equal(switched.statusCode, 303);
    list = await client.get('/backoffice/transactions');
    assert.match(list.body, /acct-two/);
    assert.doesNotMatch(list.body, /acct-one/);
    assert.equal((await client.get(`/backoffice/transactions/${other}`)).statusCode, 200);
    assert.equal((await client.get(`/backoffice/transactions/${mine}`)).statusCode, 404);

    const single = await signedIn();
    const refused = await single.post('/backoffice/account', { _csrf: await single.csrf(), account_id: 'T00000002' });
    assert.equal(refused.statusCode, 403, 'not one of the user\'s accounts');
    assert.doesNotMatch(single.last!.body, /account-select/, 'one account: no switcher');
  });
});

describe('actions through the confirmation step', () => {
  test('a confirmed capture is recorded with the user as created_by; sending the confirmation again does nothing more', async () => {
    const client = await signedIn();
    const id = await authorizedTransaction(h);
    const path = `/backoffice/transactions/${id}/capture`;
    const page = await client.get(`/backoffice/transactions/${id}`);
    const review = await client.post(path, { _csrf: csrfOf(page.body), mode: 'amount', amount: '4,50' });
    assert.equal(review.statusCode, 200);
    assert.match(review.body, /Capture <strong>NOK\s4\.50<\/strong>/);
    assert.equal((await readTransaction(h, id)).captured_amount, 0, 'reviewing changes nothing');
    const fields = formFields(review.body, path);
    const first = await client.post(path, fields);
    assert.equal(first.statusCode, 303);
    const second = await client.post(path, fields);
    assert.equal(second.statusCode, 303);
    assert.equal(second.headers.location, first.headers.location, 'the same outcome');
    const transaction = await readTransaction(h, id);
    assert.equal(transaction.captured_amount, 450);
    const captures = transaction.events.filter((event) => event.event === 'CAPTURE');
    assert.equal(captures.length, 1);
    assert.equal(captures[0]!.created_by, STAFF_EMAIL);
    const shown = await client.get(String(first.headers.location));
    assert.equal(roleText(shown.body, 'status'), 'Captured NOK 4.50.');
  });

  test('a confirmation for a transaction that changed since the review is refused with the reason', async () => {
    const client = await signedIn();
    const id = await authorizedTransaction(h);
    const path = `/backoffice/transactions/${id}/capture`;
    const page = await client.get(`/backoffice/transactions/${id}`);
    const review = await client.post(path, { _csrf: csrfOf(page.body), mode: 'full' });
    const capture = await h.request({ method: 'POST', url: `/v1/transactions/${id}/capture`, headers: { authorization: `Bearer ${h.token}` }, payload: { amount: 100 } });
    assert.equal(capture.statusCode, 200);
    const confirm = await client.post(path, formFields(review.body, path));
    assert.equal(confirm.statusCode, 412);
    assert.match(roleText(confirm.body, 'alert') ?? '', /^Capture refused: The transaction changed after you reviewed this action/);
    assert.equal((await readTransaction(h, id)).captured_amount, 100);
  });

  test('bad input is refused before the confirmation, with the reason next to the form', async () => {
    const client = await signedIn();
    const id = await authorizedTransaction(h);
    const page = await client.get(`/backoffice/transactions/${id}`);
    for (const [amount, reason] of [
      ['12.345', /more decimals than NOK allows/],
      ['-5', /is not an amount/],
      ['0', /more than zero/],
      ['', /Enter the amount/],
    ] as const) {
      const response = await client.post(`/backoffice/transactions/${id}/capture`, { _csrf: csrfOf(page.body), mode: 'amount', amount });
      assert.equal(response.statusCode, 400, amount);
      assert.match(roleText(response.body, 'alert') ?? '', reason, amount);
    }
    const tooMuch = await client.act(id, 'capture', { mode: 'amount', amount: '10.01' });
    assert.equal(tooMuch.confirm.statusCode, 400);
    assert.match(roleText(tooMuch.confirm.body, 'alert') ?? '', /^Capture refused: .*remains to capture/);
  });

  test('+ Add item then Update: new line priced unit price × quantity, new total, AUTHORIZE event by the user', async () => {
    const client = await signedIn();
    const id = await authorizedTransaction(h, { productType: 'klarna.billie' });
    const { confirm } = await client.act(id, 'update', { description: 'Gift wrap', quantity: '3', unit_price: '0.29', vat: '25' });
    assert.equal(confirm.statusCode, 303);
    const transaction = await readTransaction(h, id);
    assert.equal(transaction.amount, 1087);
    assert.deepEqual(
      transaction.items.map((item) => [item.line_id, item.amount, item.description]),
      [['1', 600, 'Chair'], ['2', 400, 'Table'], ['3', 87, 'Gift wrap']],
    );
    const added = transaction.items[2]!;
    assert.equal(added.quantity, 3);
    assert.equal(added.vat, 25);
    assert.equal(added.vat_amount, 17);
    const last = transaction.events[transaction.events.length - 1]!;
    assert.equal(last.event, 'AUTHORIZE');
    assert.equal(last.amount, 1087);
    assert.equal(last.created_by, STAFF_EMAIL);
  });

  test('the provider\'s answer is shown: a refusal as an alert, an asynchronous capture as in progress', async () => {
    const client = await signedIn();
    const refused = await authorizedTransaction(h, { sandbox: { capture: 'fail' } });
    const failed = await client.act(refused, 'capture', { mode: 'full' });
    assert.equal(failed.confirm.statusCode, 303);
    const page = await client.get(String(failed.confirm.headers.location));
    assert.match(roleText(page.body, 'alert') ?? '', /^The provider refused the capture: The payment provider refused the capture\.$/);
    assert.equal((await readTransaction(h, refused)).captured_amount, 0);

    const later = await authorizedTransaction(h, { sandbox: { capture: 'async', async_delay_ms: 60_000 } });
    const sent = await client.act(later, 'capture', { mode: 'amount', amount: '3' });
    const inFlight = await client.get(String(sent.confirm.headers.location));
    assert.match(roleText(inFlight.body, 'status') ?? '', /^Capture of NOK 3\.00 sent to the provider/);
    assert.match(inFlight.body, /NOK\s7\.00<\/strong> remains to capture|NOK\s7\.00 remains to capture/, 'the reserved amount is not offered again');
  });

  test('only the actions the state and product allow are offered', async () => {
    const client = await signedIn();
    const card = await authorizedTransaction(h, { productType: 'bambora.creditcard' });
    let page = (await client.get(`/backoffice/transactions/${card}`)).body;
    assert.match(page, />Capture<\/button>/);
    assert.match(page, />Void<\/button>/);
    assert.doesNotMatch(page, /\+ Add item/, 'cards cannot update the authorization');
    assert.doesNotMatch(page, />Refund<\/button>/, 'nothing captured yet');
    await h.request({ method: 'POST', url: `/v1/transactions/${card}/capture`, headers: { authorization: `Bearer ${h.token}` }, payload: { amount: 100 } });
    page = (await client.get(`/backoffice/transactions/${card}`)).body;
    assert.doesNotMatch(page, />Void<\/button>/, 'Bambora cannot void the remainder');
    assert.match(page, />Refund<\/button>/);
    const klarna = await authorizedTransaction(h);
    await h.request({ method: 'POST', url: `/v1/transactions/${klarna}/void`, headers: { authorization: `Bearer ${h.token}` } });
    page = (await client.get(`/backoffice/transactions/${klarna}`)).body;
    assert.doesNotMatch(page, />(Capture|Refund|Void|\+ Add item)<\/button>/);
    assert.match(page, /No action is possible on this Klarna transaction: it is authorization voided\./);
  });
});

describe('the list', () => {
  test('filters, search and keyset paging with Next page and Previous', async () => {
    const h2 = await startHarness();
    try {
      await createStaff(h2);
      const ids: string[] = [];
      for (let n = 0; n < 30; n += 1) {
        h2.clock.advance(1000);
        ids.push(await authorizedTransaction(h2, { merchantReference: `page-${String(n).padStart(2, '0')}`, amount: 1000 + n * 100, currency: n % 3 === 0 ? 'SEK' : 'NOK', customer: { email: `c${n}@example.com` } }));
      }
      const client = new BackofficeClient(h2);
      await client.login();
      const first = await client.get('/backoffice/transactions?limit=25');
      const refs = (html: string) => [...html.matchAll(/>(page-\d\d)<\/a>/g)].map((match) => match[1]);
      assert.deepEqual(refs(first.body), Array.from({ length: 25 }, (_, index) => `page-${String(29 - index).padStart(2, '0')}`));
      assert.doesNotMatch(first.body, /rel="prev"/);
      const next = /href="([^"]+)" rel="next"/.exec(first.body)![1]!.replace(/&amp;/g, '&');
      assert.match(next, /starting_after=/);
      const second = await client.get(next);
      assert.deepEqual(refs(second.body), ['page-04', 'page-03', 'page-02', 'page-01', 'page-00']);
      assert.doesNotMatch(second.body, /rel="next"/, 'no next page after the last');
      const previous = /href="([^"]+)" rel="prev"/.exec(second.body)![1]!.replace(/&amp;/g, '&');
      assert.deepEqual(refs((await client.get(previous)).body), refs(first.body));

      assert.deepEqual(refs((await client.get('/backoffice/transactions?merchant_reference=page-07')).body), ['page-07']);
      assert.deepEqual(refs((await client.get('/backoffice/transactions?search=c11%40example.com')).body), ['page-11']);
      assert.deepEqual(refs((await client.get(`/backoffice/transactions?search=${ids[5]}`)).body), ['page-05']);
      assert.deepEqual(refs((await client.get('/backoffice/transactions?currency=sek&amount_from=20&amount_to=30')).body), ['page-18', 'page-15', 'page-12']);
      assert.deepEqual(refs((await client.get('/backoffice/transactions?amount_from=38.00')).body), ['page-29', 'page-28']);
      const today = h2.clock.now().toISOString().slice(0, 10);
      assert.equal(refs((await client.get(`/backoffice/transactions?created_from=${today}&created_to=${today}`)).body).length, 30);
      const bad = await client.get('/backoffice/transactions?amount_from=abc&created_to=2026-02-31&status=NOPE');
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /Amount from: &quot;abc&quot; is not an amount/);
      assert.match(bad.body, /Created to must be a date/);
      assert.match(bad.body, /Unknown status NOPE/);
      assert.match((await client.get('/backoffice/transactions?status=DECLINED')).body, /No transactions match these filters/);
    } finally {
      await h2.close();
    }
  });

  test('CSV export: all matching rows across pages, decimal amounts, RFC 4180 quoting, no spreadsheet formulas', async () => {
    const h2 = await startHarness();
    try {
      await createStaff(h2);
      for (let n = 0; n < 105; n += 1) await authorizedTransaction(h2, { merchantReference: `csv-${n}`, amount: 12345 + n, currency: 'NOK' });
      await authorizedTransaction(h2, { merchantReference: 'other', amount: 5, currency: 'SEK' });
      const tricky = await authorizedTransaction(h2, { merchantReference: '=HYPERLINK("x"), "quoted"\nline', amount: 1, currency: 'NOK' });
      const client = new BackofficeClient(h2);
      await client.login();
      const response = await client.get('/backoffice/transactions.csv?currency=NOK');
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/csv; charset=utf-8/);
      assert.match(String(response.headers['content-disposition']), /^attachment; filename="transactions-T00000001-\d{8}-\d{6}\.csv"$/);
      const text = response.body.replace(/^\uFEFF/, '');
      assert.ok(text.endsWith('\r\n'));
      const lines = text.split(/\r\n(?=(?:[^"]*"[^"]*")*[^"]*$)/).filter(Boolean);
      assert.equal(lines[0], 'id,created_at,merchant_reference,merchant_reference_2,status,payment_product_type,currency,amount,captured_amount,refunded_amount,voided_amount,remaining_capture_amount,remaining_refund_amount,customer_email,customer_phone,session_id,authorization_expires_at');
      assert.equal(lines.length, 1 + 106, 'every NOK transaction, none in SEK');
      assert.ok(lines.slice(1).every((line) => line.split(',')[6] === 'NOK' || line.includes('HYPERLINK')));
      const csv0 = lines.find((line) => line.includes(',csv-0,'))!;
      assert.match(csv0, /,NOK,123\.45,0\.00,0\.00,0\.00,123\.45,0\.00,/);
      const trickyLine = lines.find((line) => line.startsWith(tricky))!;
      assert.ok(trickyLine.includes(`,"'=HYPERLINK(""x""), ""quoted""\nline",`), trickyLine);
      const filtered = await client.get('/backoffice/transactions.csv?merchant_reference=csv-7');
      assert.equal(filtered.body.replace(/^\uFEFF/, '').split('\r\n').filter(Boolean).length, 2);
    } finally {
      await h2.close();
    }
  });
});

describe('dashboard', () => {
  test('counts and volume per day and the status mix of the selected account', async () => {
    const h2 = await startHarness();
    try {
      await createStaff(h2);
      const a = await authorizedTransaction(h2, { amount: 10000 });
      await authorizedTransaction(h2, { amount: 2500 });
      await authorizedTransaction(h2, { amount: 700, currency: 'SEK' });
      await h2.request({ method: 'POST', url: `/v1/transactions/${a}/capture`, headers: { authorization: `Bearer ${h2.token}` }, payload: { amount: 10000 } });
      const client = new BackofficeClient(h2);
      await client.login();
      const page = await client.get('/backoffice/dashboard?days=7');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<dt>Transactions<\/dt><dd>3<\/dd>/);
      assert.match(page.body, /<dt>Authorized \(NOK\)<\/dt><dd>NOK\s125\.00<\/dd>/);
      assert.match(page.body, /<dt>Captured \(NOK\)<\/dt><dd>NOK\s100\.00<\/dd>/);
      assert.match(page.body, /<svg class="chart"[^>]*role="img"/);
      assert.match(page.body, /Captured: 1 \(33\.3 %\)/);
      assert.match(page.body, /Authorized: 2 \(66\.7 %\)/);
      const sek = await client.get('/backoffice/dashboard?days=30&currency=SEK');
      assert.match(sek.body, /<dt>Authorized \(SEK\)<\/dt><dd>SEK\s7\.00<\/dd>/);
    } finally {
      await h2.close();
    }
  });
});
