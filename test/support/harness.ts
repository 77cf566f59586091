/**
 * Test harness: a real app on a fresh store, with helpers that go through HTTP exactly as a
 * Dintero client would (token → session → pay). The store is an in-memory SQLite database
 * unless the suite names another URL or `KASSE_TEST_DATABASE_URL` is set (`npm test` sets it
 * to run every HTTP suite a second time on PostgreSQL; see test/support/test-store.ts).
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type App, type AppOptions } from '../../src/http/app.js';
import { openTestStore } from './test-store.js';
import { bootstrap, createAccount, createClient } from '../../src/services/accounts.js';
import { ManualClock } from '../../src/clock.js';
import type { Store } from '../../src/store/store.js';

export const PUBLIC_URL = 'http://kasse.test';

export interface Harness {
  readonly app: App;
  readonly store: Store;
  readonly clock: ManualClock;
  /** Bearer token for the default account T00000001 with admin:checkout. */
  readonly token: string;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** A token for a (new or existing) account and client with the given scopes. */
  tokenFor(accountId: string, scopes?: string[]): Promise<string>;
  close(): Promise<void>;
}

/** The engine this run tests: `KASSE_TEST_DATABASE_URL`, or in-memory SQLite. */
export function testDatabaseUrl(): string {
  return process.env.KASSE_TEST_DATABASE_URL || 'sqlite::memory:';
}

export async function startHarness(options: { databaseUrl?: string; webhooks?: AppOptions['webhooks'] } = {}): Promise<Harness> {
  const testStore = await openTestStore(options.databaseUrl ?? testDatabaseUrl());
  const store = testStore.store;
  const clock = new ManualClock(new Date());
  await bootstrap(store, { accountId: 'T00000001', clientId: 'test-client', clientSecret: 'test-secret' }, clock.now().toISOString());
  const app = await buildApp({ store, clock, logger: false, publicUrl: PUBLIC_URL, ...(options.webhooks ? { webhooks: options.webhooks } : {}) });
  const request = (opts: InjectOptions) => app.server.inject(opts);

  async function issue(accountId: string, clientId: string, secret: string): Promise<string> {
    const response = await request({
      method: 'POST',
      url: `/v1/accounts/${accountId}/auth/token`,
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      payload: { grant_type: 'client_credentials', audience: `${PUBLIC_URL}/v1/accounts/${accountId}` },
    });
    if (response.statusCode !== 200) throw new Error(`token request failed: ${response.statusCode} ${response.body}`);
    return response.json().access_token;
  }

  let clients = 0;
  const harness: Harness = {
    app,
    store,
    clock,
    token: await issue('T00000001', 'test-client', 'test-secret'),
    request,
    async tokenFor(accountId, scopes = ['admin:checkout']) {
      const now = clock.now().toISOString();
      await createAccount(store, { id: accountId, now });
      clients += 1;
      const client = await createClient(store, { accountId, clientId: `client-${accountId}-${clients}`, secret: 'secret', scopes, now });
      return issue(accountId, client.clientId, 'secret');
    },
    async close() {
      await app.server.close();
      await testStore.release();
    },
  };
  return harness;
}

export interface OrderOptions {
  readonly amount?: number;
  readonly currency?: string;
  readonly merchantReference?: string;
  readonly items?: Array<Record<string, unknown>>;
  readonly shippingOption?: Record<string, unknown>;
  readonly productType?: string;
  readonly token?: string;
  readonly outcome?: string;
  /** Sandbox settings for pay beyond the outcome: capture/refund/void answers, async_delay_ms. */
  readonly sandbox?: Record<string, unknown>;
  /** Extra session fields, e.g. configuration or expires_at (with createSession on /v1/sessions-profile). */
  readonly sessionExtra?: Record<string, unknown>;
  readonly customer?: Record<string, unknown>;
  readonly partialPayment?: boolean;
  readonly merchantReference2?: string;
}

/** Two lines of 600 and 400 (total 1000) unless items or amount say otherwise. */
export function defaultItems(): Array<Record<string, unknown>> {
  return [
    { line_id: '1', id: 'sku-1', description: 'Chair', quantity: 2, amount: 600, vat: 25, vat_amount: 120 },
    { line_id: '2', id: 'sku-2', description: 'Table', quantity: 1, amount: 400, vat: 25, vat_amount: 80 },
  ];
}

/** The body createSession sends (without `profile_id`): Dintero's session shape. */
export function sessionPayload(options: OrderOptions = {}): Record<string, unknown> {
  const items = options.items ?? (options.amount === undefined ? defaultItems() : undefined);
  return {
    url: { return_url: 'https://shop.example/return' },
    order: {
      amount: options.amount ?? 1000,
      currency: options.currency ?? 'NOK',
      merchant_reference: options.merchantReference ?? `order-${Math.random().toString(36).slice(2, 10)}`,
      ...(options.merchantReference2 !== undefined ? { merchant_reference_2: options.merchantReference2 } : {}),
      ...(items ? { items } : {}),
      ...(options.shippingOption ? { shipping_option: options.shippingOption } : {}),
      ...(options.partialPayment !== undefined ? { partial_payment: options.partialPayment } : {}),
    },
    ...(options.customer ? { customer: options.customer } : {}),
    ...options.sessionExtra,
  };
}

export async function createSession(h: Harness, options: OrderOptions = {}): Promise<string> {
  const response = await h.request({
    method: 'POST',
    url: '/v1/sessions-profile',
    headers: { authorization: `Bearer ${options.token ?? h.token}` },
    payload: { profile_id: 'default', ...sessionPayload(options) },
  });
  if (response.statusCode !== 200) throw new Error(`session create failed: ${response.statusCode} ${response.body}`);
  return response.json().id;
}

/** Creates a session and pays it; returns the transaction id. */
export async function authorizedTransaction(h: Harness, options: OrderOptions = {}): Promise<string> {
  const sessionId = await createSession(h, options);
  const response = await h.request({
    method: 'POST',
    url: `/v1/sessions/${sessionId}/pay`,
    payload: { payment_product_type: options.productType ?? 'klarna.klarna', sandbox: { outcome: options.outcome ?? 'authorized', ...options.sandbox } },
  });
  if (response.statusCode !== 200) throw new Error(`pay failed: ${response.statusCode} ${response.body}`);
  return response.json().transaction_id;
}

/** POSTs a transaction operation with the default token. */
export function operation(h: Harness, transactionId: string, name: string, payload?: unknown, headers: Record<string, string> = {}, token = h.token) {
  return h.request({
    method: 'POST',
    url: `/v1/transactions/${transactionId}/${name}`,
    headers: { authorization: `Bearer ${token}`, ...headers },
    ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
  });
}

export async function getTransaction(h: Harness, transactionId: string, token = h.token) {
  const response = await h.request({ method: 'GET', url: `/v1/transactions/${transactionId}`, headers: { authorization: `Bearer ${token}` } });
  return response;
}

/** `Authorization: Bearer <token>` (the default token unless another is given). */
export function bearer(h: Harness, token = h.token): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The customer-facing pay call (no token). */
export function pay(h: Harness, sessionId: string, body: Record<string, unknown> = { payment_product_type: 'klarna.klarna' }, headers: Record<string, string> = {}) {
  return h.request({ method: 'POST', url: `/v1/sessions/${sessionId}/pay`, headers, payload: body as InjectOptions['payload'] });
}

/** A transaction event as the API shows it (the fields tests look at). */
export interface EventBody {
  readonly id: string;
  readonly event: string;
  readonly success: boolean;
  readonly amount?: number;
  readonly transaction_status: string;
  readonly items?: Array<Record<string, unknown>>;
  readonly event_reference?: string;
  readonly created_by?: string;
  readonly request_headers?: Record<string, string>;
  readonly error?: { code: string; message: string };
  readonly [field: string]: unknown;
}

/** A transaction line as the API shows it. */
export interface ItemBody {
  readonly line_id: string;
  readonly amount: number;
  readonly captured_amount: number;
  readonly refunded_amount: number;
  readonly [field: string]: unknown;
}

/** A transaction as the API shows it (the fields tests look at). */
export interface TransactionBody {
  readonly id: string;
  readonly session_id: string;
  readonly status: string;
  readonly amount: number;
  readonly currency: string;
  readonly payment_product: string;
  readonly payment_product_type: string;
  readonly merchant_reference: string;
  readonly merchant_reference_2?: string;
  readonly captured_amount: number;
  readonly refunded_amount: number;
  readonly voided_amount: number;
  readonly remaining_capture_amount: number;
  readonly remaining_refund_amount: number;
  readonly authorization_expires_at: string | null;
  readonly items: ItemBody[];
  readonly events: EventBody[];
  readonly created_at: string;
  readonly updated_at: string;
  readonly [field: string]: unknown;
}

/** GET /v1/transactions/{id}, which must answer 200; the body and its ETag. */
export async function readTransaction(h: Harness, transactionId: string, token = h.token): Promise<TransactionBody & { readonly etag: string }> {
  const response = await getTransaction(h, transactionId, token);
  if (response.statusCode !== 200) throw new Error(`get transaction failed: ${response.statusCode} ${response.body}`);
  return { ...(response.json() as TransactionBody), etag: String(response.headers.etag) };
}
