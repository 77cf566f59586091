/**
 * Signatures on outgoing notifications.
 *
 * - Session callbacks carry Dintero's `Dintero-Signature: t=<unix seconds>,v0-hmac-sha256=<hex>`,
 *   an HMAC-SHA256 with the account's signing secret over
 *   `t \n account_id \n METHOD \n hostname \n pathname \n query`, where the query is the
 *   request's parameters sorted by name (a stable sort, so repeated names keep their order)
 *   and serialised as `application/x-www-form-urlencoded` (`A=992&B=123`, spaces as `+`):
 *   exactly what `URLSearchParams#sort()` then `toString()` give, which is how Dintero's own
 *   verification example rebuilds it.
 * - Webhook deliveries carry Dintero's `event-signature` (HMAC-SHA1 hex of the body with the
 *   subscription's secret) and the Standard Webhooks `webhook-signature`
 *   (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
 */
import { createHmac } from 'node:crypto';

/** The query as Dintero signs it: parameters sorted by name, form-encoded. */
export function sortedQuery(url: URL): string {
  const params = new URLSearchParams(url.searchParams);
  params.sort();
  return params.toString();
}

/** The string a `Dintero-Signature` signs. */
export function dinteroSignaturePayload(input: { timestamp: number; accountId: string; method: string; url: string }): string {
  const url = new URL(input.url);
  return [String(input.timestamp), input.accountId, input.method.toUpperCase(), url.hostname, url.pathname, sortedQuery(url)].join('\n');
}

/** The `Dintero-Signature` header value for a request. */
export function dinteroSignature(input: { secret: string; timestamp: number; accountId: string; method: string; url: string }): string {
  const digest = createHmac('sha256', input.secret).update(dinteroSignaturePayload(input), 'utf8').digest('hex');
  return `t=${input.timestamp},v0-hmac-sha256=${digest}`;
}

/** Dintero's `event-signature`: HMAC-SHA1 hex of the exact body bytes. */
export function eventSignature(secret: string, body: string): string {
  return createHmac('sha1', secret).update(body, 'utf8').digest('hex');
}

/**
 * The HMAC key of a Standard Webhooks secret. The specification writes secrets as
 * `whsec_<base64 key>`; a secret in that form is decoded, any other (Dintero subscriptions
 * take free-form secrets) is used as its UTF-8 bytes, so one secret serves both headers.
 */
export function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) {
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    if (key.length > 0) return key;
  }
  return Buffer.from(secret, 'utf8');
}

/** The Standard Webhooks `webhook-signature` header value. */
export function standardWebhookSignature(input: { secret: string; id: string; timestamp: number; body: string }): string {
  const digest = createHmac('sha256', standardWebhooksKey(input.secret)).update(`${input.id}.${input.timestamp}.${input.body}`, 'utf8').digest('base64');
  return `v1,${digest}`;
}
