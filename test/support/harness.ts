/**
 * Test harness: a real app on an in-memory SQLite store (or a given DATABASE_URL), with
 * helpers that go through HTTP exactly as a Dintero client would (token → session → pay).
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type App } from '../../src/http/app.js';
import { openStore } from '../../src/store/open-store.js';
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

export async function startHarness(options: { databaseUrl?: string } = {}): Promise<Harness> {
  const store = await openStore(options.databaseUrl ?? 'sqlite::memory:');
  const clock = new ManualClock(new Date());
  await bootstrap(store, { accountId: 'T00000001', clientId: 'test-client', clientSecret: 'test-secret' }, clock.now().toISOString());
  const app = await buildApp({ store, clock, logger: false, publicUrl: PUBLIC_URL });
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
      await store.close();
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
  readonly customer?: Record<string, unknown>;
}

/** Two lines of 600 and 400 (total 1000) unless items or amount say otherwise. */
export function defaultItems(): Array<Record<string, unknown>> {
  return [
    { line_id: '1', id: 'sku-1', description: 'Chair', quantity: 2, amount: 600, vat: 25, vat_amount: 120 },
    { line_id: '2', id: 'sku-2', description: 'Table', quantity: 1, amount: 400, vat: 25, vat_amount: 80 },
  ];
}

export async function createSession(h: Harness, options: OrderOptions = {}): Promise<string> {
  const items = options.items ?? (options.amount === undefined ? defaultItems() : undefined);
  const response = await h.request({
    method: 'POST',
    url: '/v1/sessions-profile',
    headers: { authorization: `Bearer ${options.token ?? h.token}` },
    payload: {
      profile_id: 'default',
      url: { return_url: 'https://shop.example/return' },
      order: {
        amount: options.amount ?? 1000,
        currency: options.currency ?? 'NOK',
        merchant_reference: options.merchantReference ?? `order-${Math.random().toString(36).slice(2, 10)}`,
        ...(items ? { items } : {}),
        ...(options.shippingOption ? { shipping_option: options.shippingOption } : {}),
      },
      ...(options.customer ? { customer: options.customer } : {}),
    },
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
    payload: { payment_product_type: options.productType ?? 'klarna.klarna', sandbox: { outcome: options.outcome ?? 'authorized' } },
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
