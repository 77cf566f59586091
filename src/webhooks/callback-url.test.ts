import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callbackOptions, callbackRequestUrl, checkCallbackOptions } from './callback-url.js';
import { retryDelayMs } from './backoff.js';

test('callback options are read from the URL itself', () => {
  const options = callbackOptions(new URL('https://shop.example/cb?method=post&report_event=CAPTURE&report_event=void&report_error=true&delay_callback=90&sid_parameter_name=sid'));
  assert.equal(options.method, 'POST');
  assert.deepEqual([...options.reportEvents], ['CAPTURE', 'VOID']);
  assert.equal(options.reportError, true);
  assert.equal(options.delaySeconds, 60, "Dintero's maximum delay is 60 s");
  assert.equal(options.sessionIdParameter, 'sid');
  const plain = callbackOptions(new URL('https://shop.example/cb'));
  assert.deepEqual([plain.method, plain.reportEvents.size, plain.reportError, plain.delaySeconds, plain.sessionIdParameter], ['GET', 0, false, 0, 'session_id']);
});

test('unknown option values are refused when the session is created', () => {
  for (const query of ['report_event=SETTLE', 'delay_callback=-1', 'delay_callback=1.5', 'method=PUT', 'sid_parameter_name=transaction_id', 'sid_parameter_name=a%20b', 'report_error=yes']) {
    assert.throws(() => checkCallbackOptions(new URL(`https://shop.example/cb?${query}`)), /callback_url/, query);
  }
  checkCallbackOptions(new URL('https://shop.example/cb?method=POST&report_event=REFUND&delay_callback=5&sid_parameter_name=sid&report_error=false'));
});

test("the request URL keeps the merchant's query and sets the callback's parameters", () => {
  const url = new URL('https://shop.example/cb?order=7&transaction_id=spoofed#frag');
  const sent = new URL(
    callbackRequestUrl(url, callbackOptions(url), { transactionId: 'T1', sessionId: 'S1', merchantReference: 'ref 1', time: '2026-01-01T00:00:00.000Z', event: 'CAPTURE', eventId: '3' }),
  );
  assert.equal(sent.hash, '');
  assert.deepEqual(Object.fromEntries(sent.searchParams), {
    order: '7',
    transaction_id: 'T1',
    session_id: 'S1',
    merchant_reference: 'ref 1',
    time: '2026-01-01T00:00:00.000Z',
    event: 'CAPTURE',
    event_id: '3',
  });
});

test('retry waits grow exponentially, are capped, and are jittered within [half, whole] of the step', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 };
  assert.deepEqual([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt, () => 1)), [1000, 2000, 4000, 8000]);
  assert.equal(retryDelayMs(policy, 30, () => 1), 60_000);
  assert.equal(retryDelayMs(policy, 3, () => 0), 2000);
  for (let i = 0; i < 100; i += 1) {
    const delay = retryDelayMs(policy, 5);
    assert.ok(delay >= 8000 && delay <= 16_000, String(delay));
  }
});
