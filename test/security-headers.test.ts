/**
 * Headers and limits a browser and an auditor rely on (§11, §14): HTML pages carry a CSP
 * without inline scripts and refuse framing; responses are nosniff; session cookies are
 * HttpOnly and SameSite; every mutation leaves an audit line naming who did it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp } from '../src/http/app.js';
import { authorizedTransaction, bearer, createSession, startHarness, type Harness } from './support/harness.js';
import { BackofficeClient, createStaff } from './support/backoffice.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

function checkHtmlHeaders(headers: Record<string, unknown>, where: string): void {
  const csp = String(headers['content-security-policy'] ?? '');
  assert.ok(csp.length > 0, `${where}: a Content-Security-Policy`);
  const scripts = /script-src ([^;]*)/.exec(csp)?.[1] ?? /default-src ([^;]*)/.exec(csp)?.[1] ?? '';
  assert.doesNotMatch(scripts, /unsafe-inline|unsafe-eval/, `${where}: no inline or eval scripts (${csp})`);
  assert.match(csp, /frame-ancestors 'none'/, `${where}: no framing`);
  assert.equal(headers['x-content-type-options'], 'nosniff', `${where}: nosniff`);
}

test('the hosted checkout page and the backoffice send a strict CSP, no framing, nosniff', async () => {
  const session = await createSession(h);
  checkHtmlHeaders((await h.request({ method: 'GET', url: `/v1/view/${session}` })).headers, 'checkout page');
  checkHtmlHeaders((await h.request({ method: 'GET', url: '/backoffice/login' })).headers, 'backoffice login');
  await createStaff(h);
  const staff = new BackofficeClient(h);
  await staff.login();
  checkHtmlHeaders((await staff.get('/backoffice/transactions')).headers, 'backoffice list');
  checkHtmlHeaders((await staff.get('/backoffice/dashboard')).headers, 'backoffice dashboard');
});

test('API answers are nosniff JSON with a request id', async () => {
  const response = await h.request({ method: 'GET', url: '/v1/transactions', headers: bearer(h) });
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assert.match(String(response.headers['request-id']), /^[0-9a-f-]{36}$/);
});

test('the backoffice session cookie is HttpOnly, SameSite and scoped to /backoffice', async () => {
  await createStaff(h, ['T00000001'], 'cookie@example.com', 'cookie password long');
  const staff = new BackofficeClient(h);
  const login = await staff.login('cookie@example.com', 'cookie password long');
  const cookies = ([] as string[]).concat(login.headers['set-cookie'] as string | string[]);
  const session = cookies.find((line) => !/Max-Age=0/.test(line) && /HttpOnly/i.test(line));
  assert.ok(session, `a session cookie: ${cookies.join(' | ')}`);
  assert.match(session!, /SameSite=(Lax|Strict)/i);
  assert.match(session!, /Path=\/backoffice/);
});

test('every mutation leaves an audit line with the actor, the account and the outcome; credentials never', async () => {
  let logged = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logged += chunk.toString();
      done();
    },
  });
  const app = await buildApp({ store: h.store, clock: h.clock, logger: pino({ level: 'info' }, sink), publicUrl: 'http://kasse.test' });
  try {
    const id = await authorizedTransaction(h);
    const capture = await app.server.inject({ method: 'POST', url: `/v1/transactions/${id}/capture`, headers: bearer(h), payload: { amount: 100 } });
    assert.equal(capture.statusCode, 200);
    const refused = await app.server.inject({ method: 'POST', url: `/v1/transactions/${id}/refund`, headers: bearer(h), payload: { amount: 100_000 } });
    assert.equal(refused.statusCode, 400);
    const lines = logged
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((line) => line.audit === true);
    const captureLine = lines.find((line) => line.route === '/v1/transactions/:id/capture');
    assert.deepEqual(
      { resource: captureLine?.resource, actor: captureLine?.actor, accountId: captureLine?.accountId, status: captureLine?.status },
      { resource: id, actor: 'test-client', accountId: 'T00000001', status: 200 },
    );
    assert.equal(lines.find((line) => line.route === '/v1/transactions/:id/refund')?.status, 400, 'refusals are audited too');
    assert.ok(!logged.includes(h.token), 'no token in the log');
  } finally {
    await app.server.close();
  }
});
