import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { dinteroSignature, dinteroSignaturePayload, eventSignature, sortedQuery, standardWebhookSignature } from './signature.js';

test("Dintero's published example gives the published signature", () => {
  const header = dinteroSignature({ secret: '123', timestamp: 1582236537, accountId: 'P00000000', method: 'GET', url: 'https://example.com/callback?B=123&A=992' });
  assert.equal(header, 't=1582236537,v0-hmac-sha256=6bed2ab1b919d460ef7465a20dc6c97260dca73fab6647106ca525f0908df64a');
});

test('the signed payload: sorted, form-encoded query; the method upper-cased; no port, no fragment', () => {
  const payload = dinteroSignaturePayload({
    timestamp: 1,
    accountId: 'T00000001',
    method: 'post',
    url: 'http://127.0.0.1:8080/cb/x?z=a%20b&a=2&a=1#frag',
  });
  assert.equal(payload, '1\nT00000001\nPOST\n127.0.0.1\n/cb/x\na=2&a=1&z=a+b');
  assert.equal(sortedQuery(new URL('https://x.test/')), '');
});

test('event-signature is the HMAC-SHA1 hex of the body', () => {
  const body = '{"a":1}';
  assert.equal(eventSignature('s3cret', body), createHmac('sha1', 's3cret').update(body).digest('hex'));
});

test('Standard Webhooks: whsec_ secrets are base64 keys, others are used as their bytes', () => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  const expected = `v1,${createHmac('sha256', key).update('msg_1.1700000000.{}').digest('base64')}`;
  assert.equal(standardWebhookSignature({ secret: `whsec_${key.toString('base64')}`, id: 'msg_1', timestamp: 1700000000, body: '{}' }), expected);
  assert.equal(standardWebhookSignature({ secret: key.toString('utf8'), id: 'msg_1', timestamp: 1700000000, body: '{}' }), expected);
});
