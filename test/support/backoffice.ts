/**
 * A minimal browser for the backoffice over `inject`: keeps cookies, signs in, reads forms
 * out of the served HTML and posts them back as a browser would (for the HTTP-level suite;
 * the browser suite drives real Chromium).
 */
import type { LightMyRequestResponse } from 'fastify';
import { createUser } from '../../src/services/accounts.js';
import type { Harness } from './harness.js';

export const STAFF_EMAIL = 'staff@example.com';
export const STAFF_PASSWORD = 'correct horse battery staple';

export async function createStaff(h: Harness, accountIds: readonly string[] = ['T00000001'], email = STAFF_EMAIL, password = STAFF_PASSWORD): Promise<void> {
  await createUser(h.store, { email, password, accountIds, now: h.clock.now().toISOString() });
}

function decode(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The hidden and filled-in fields of the first form whose action is `action`. */
export function formFields(html: string, action: string): Array<[string, string]> {
  const start = html.indexOf(`action="${action}"`);
  if (start === -1) throw new Error(`no form with action ${action}`);
  const end = html.indexOf('</form>', start);
  const body = html.slice(start, end);
  const fields: Array<[string, string]> = [];
  for (const match of body.matchAll(/<input([^>]*)>/g)) {
    const attrs = match[1]!;
    const name = /name="([^"]*)"/.exec(attrs)?.[1];
    const type = /type="([^"]*)"/.exec(attrs)?.[1] ?? 'text';
    if (name === undefined || type === 'radio' || type === 'checkbox') continue;
    fields.push([name, decode(/value="([^"]*)"/.exec(attrs)?.[1] ?? '')]);
  }
  return fields;
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}

/** Text content of the first element with the given role attribute (alert, status). */
export function roleText(html: string, role: string): string | undefined {
  const match = new RegExp(`role="${role}"[^>]*>([\\s\\S]*?)</(p|div)>`).exec(html);
  return match ? decode(match[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()) : undefined;
}

export class BackofficeClient {
  readonly cookies = new Map<string, string>();
  last: LightMyRequestResponse | undefined;

  constructor(
    private readonly h: Harness,
    private readonly remoteAddress = '127.0.0.1',
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(response: LightMyRequestResponse): void {
    const header = response.headers['set-cookie'];
    for (const line of Array.isArray(header) ? header : header ? [header] : []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    this.last = response;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await this.h.request({ method: 'GET', url, headers: { cookie: this.cookieHeader() }, remoteAddress: this.remoteAddress });
    this.remember(response);
    return response;
  }

  async post(url: string, fields: ReadonlyArray<readonly [string, string]> | Record<string, string>): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams(Array.isArray(fields) ? (fields as Array<[string, string]>) : Object.entries(fields)).toString();
    const response = await this.h.request({
      method: 'POST',
      url,
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: body,
      remoteAddress: this.remoteAddress,
    });
    this.remember(response);
    return response;
  }

  /** Fetches the login form and submits it. */
  async login(email = STAFF_EMAIL, password = STAFF_PASSWORD): Promise<LightMyRequestResponse> {
    const page = await this.get('/backoffice/login');
    return this.post('/backoffice/login', { _csrf: csrfOf(page.body), email, password });
  }

  /** The CSRF token of the signed-in session, read from a page. */
  async csrf(): Promise<string> {
    return csrfOf((await this.get('/backoffice/transactions')).body);
  }

  /**
   * Runs an action as staff do: the form on the transaction page, then the confirmation
   * page's form. Returns the confirmation answer (a 303 on success).
   */
  async act(transactionId: string, action: string, fields: Record<string, string | string[]> = {}): Promise<{ review: LightMyRequestResponse; confirm: LightMyRequestResponse }> {
    const page = await this.get(`/backoffice/transactions/${transactionId}`);
    const entries: Array<[string, string]> = [['_csrf', csrfOf(page.body)]];
    for (const [name, value] of Object.entries(fields)) for (const one of Array.isArray(value) ? value : [value]) entries.push([name, one]);
    const path = `/backoffice/transactions/${transactionId}/${action}`;
    const review = await this.post(path, entries);
    if (review.statusCode !== 200) return { review, confirm: review };
    const confirm = await this.post(path, formFields(review.body, path));
    return { review, confirm };
  }
}
