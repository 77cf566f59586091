import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventJson, parseEvent } from './event-json.js';
import type { TransactionEventRecord } from './store.js';

test('an event’s kept JSON is JSON.stringify of it, and a stored text stays the JSON of the event read from it', () => {
  const event: TransactionEventRecord = { id: '2', event: 'CAPTURE', success: true, amount: 500, transaction_status: 'CAPTURED', created_at: '2030-01-02T00:00:00.000Z', created_by: 'ünïcode "quoted" \u2028' };
  assert.equal(eventJson(event), JSON.stringify(event));
  assert.equal(eventJson(event), eventJson(event));
  const stored = JSON.stringify(event);
  const read = parseEvent(stored);
  assert.deepEqual(read, event);
  assert.equal(eventJson(read), stored);
  // Another object with the same content is serialised on its own.
  assert.equal(eventJson({ ...event, amount: 600 }), JSON.stringify({ ...event, amount: 600 }));
});
