/**
 * The backoffice at /backoffice: server-rendered pages over the same services as the API.
 *
 * - Sign-in sets an HttpOnly, SameSite=Lax session cookie (Secure behind https) naming a
 *   session row in the database; every POST must carry that session's CSRF token (403
 *   otherwise); the login form itself uses a double-submit token.
 * - Actions are reviewed on a confirmation page and confirmed with If-Match (the version
 *   reviewed) and an idempotency key, then run through src/services/transactions.ts with
 *   the user's email as the event's created_by.
 * - Every response carries a strict CSP (no inline script or style, nothing from
 *   elsewhere), frame-ancestors 'none', nosniff and a same-origin referrer policy.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isKasseError, KasseError } from '../domain/errors.js';
import type { Principal } from '../auth/scopes.js';
import type { ServiceContext, OperationRequest } from '../services/context.js';
import * as transactions from '../services/transactions.js';
import { completedOperation, dashboardStats, transactionDetail, type TransactionDetail } from '../services/backoffice.js';
import { requestFingerprint } from '../services/idempotency.js';
import { findStaffSession, newToken, sameToken, signIn, signOut, switchAccount, type StaffSession } from '../services/staff-sessions.js';
import type { TransactionEventRecord } from '../store/store.js';
import type { TransactionView } from '../services/transaction-view.js';
import { isActionKind, reviewAction, type ReviewedAction } from './action-forms.js';
import { renderConfirmPage } from './confirm-page.js';
import { csvHeader, csvRow } from './csv.js';
import { DASHBOARD_RANGES, renderDashboardPage } from './dashboard-page.js';
import { formatMoney } from './format.js';
import { renderMessagePage, type Staff } from './layout.js';
import { parseListQuery, type RawQuery } from './list-query.js';
import { renderLoginPage } from './login-page.js';
import { type ActionKind, type Flash, renderTransactionPage } from './transaction-page.js';
import { renderTransactionsPage } from './transactions-page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Backoffice routes reachable without signing in (login, assets). */
    backoffice?: 'public';
  }
}

const SESSION_COOKIE = 'kasse_backoffice';
const LOGIN_COOKIE = 'kasse_login';
const CSV_PAGE_SIZE = 100;

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const css = readFileSync(new URL('./assets/backoffice.css', import.meta.url), 'utf8');
const script = readFileSync(new URL('./assets/backoffice.js', import.meta.url), 'utf8');

const sessions = new WeakMap<FastifyRequest, StaffSession>();
const startTimes = new WeakMap<FastifyRequest, bigint>();

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

function cookie(name: string, value: string, options: { path: string; maxAge: number; secure: boolean; sameSite: 'Lax' | 'Strict' }): string {
  return `${name}=${value}; Path=${options.path}; Max-Age=${options.maxAge}; HttpOnly; SameSite=${options.sameSite}${options.secure ? '; Secure' : ''}`;
}

function formOf(request: FastifyRequest): URLSearchParams {
  return request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
}

function sendHtml(reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply.status(status).header('content-type', 'text/html; charset=utf-8').send(page);
}

/** Only paths inside the backoffice: never an open redirect. */
function safeNext(next: string | null | undefined): string | undefined {
  if (typeof next !== 'string' || !/^\/backoffice(?:[/?#][^\s\\]*)?$/.test(next) || next.includes('//')) return undefined;
  return next;
}

function staffView(staff: StaffSession): Staff {
  return { email: staff.user.email, accountId: staff.session.accountId, accountIds: staff.user.accountIds, csrfToken: staff.session.csrfToken };
}

function principalOf(staff: StaffSession): Principal {
  return { accountId: staff.session.accountId, actor: staff.user.email, scopes: ['admin:checkout'] };
}

const actionTitles: Record<ActionKind, string> = { capture: 'Capture', refund: 'Refund', void: 'Void', update: 'Update' };

/** The message for the event an action produced (shown after the redirect). */
function outcomeFlash(kind: string | undefined, event: TransactionEventRecord | undefined, currency: string): Flash | undefined {
  if (kind === undefined || !isActionKind(kind) || event === undefined) return undefined;
  const amount = typeof event.amount === 'number' ? formatMoney(event.amount, currency) : '';
  if (!event.success) {
    const error = event.error as { message?: unknown } | undefined;
    return { tone: 'alert', text: `The provider refused the ${actionTitles[kind].toLowerCase()}: ${String(error?.message ?? 'no reason given')}` };
  }
  if (event.event.startsWith('INITIATE_')) return { tone: 'notice', text: `${actionTitles[kind]} of ${amount} sent to the provider; its answer will appear in the events.` };
  switch (event.event) {
    case 'CAPTURE':
      return { tone: 'notice', text: `Captured ${amount}.` };
    case 'REFUND':
      return { tone: 'notice', text: `Refunded ${amount}.` };
    case 'VOID':
      return { tone: 'notice', text: `Voided ${amount}.` };
    case 'AUTHORIZE':
      return { tone: 'notice', text: `Authorization updated: the new total is ${amount}.` };
    default:
      return { tone: 'notice', text: `${actionTitles[kind]} done.` };
  }
}

export function backofficeRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const secureCookies = (request: FastifyRequest) => request.protocol === 'https' || ctx.publicUrl.startsWith('https://');

  app.register(
    async (bo) => {
      bo.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
        done(null, new URLSearchParams(String(body)));
      });

      bo.addHook('onRequest', async (request) => {
        startTimes.set(request, process.hrtime.bigint());
      });

      // Who is signed in, and for every POST, whether the form came from the backoffice.
      bo.addHook('preHandler', async (request, reply) => {
        if (request.routeOptions.config?.backoffice === 'public') return;
        const token = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
        const staff = token ? await findStaffSession(ctx.store, ctx.clock, token) : undefined;
        if (staff === undefined) {
          const next = request.method === 'GET' ? safeNext(request.url) : undefined;
          return reply.redirect(`/backoffice/login${next && next !== '/backoffice' && next !== '/backoffice/' ? `?next=${encodeURIComponent(next)}` : ''}`, 303);
        }
        sessions.set(request, staff);
        request.auditActor = { accountId: staff.session.accountId, actor: staff.user.email };
        if (request.method !== 'GET' && request.method !== 'HEAD' && !sameToken(formOf(request).get('_csrf') ?? '', staff.session.csrfToken)) {
          return sendHtml(
            reply,
            403,
            renderMessagePage({
              title: 'Form not accepted',
              message: 'This form could not be verified as sent from your backoffice session (missing or stale security token). Nothing was changed. Reload the page and try again.',
              staff: staffView(staff),
              back: { href: '/backoffice/transactions', label: 'Back to transactions' },
            }),
          );
        }
      });

      bo.addHook('onSend', async (request, reply, payload) => {
        reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
        reply.header('x-frame-options', 'DENY');
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'same-origin');
        reply.header('cross-origin-opener-policy', 'same-origin');
        if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
        const started = startTimes.get(request);
        if (started !== undefined) reply.header('server-timing', `app;dur=${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(2)}`);
        return payload;
      });

      bo.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
        const staff = sessions.get(request);
        const shell = staff ? { staff: staffView(staff) } : {};
        if (isKasseError(error)) {
          return sendHtml(reply, error.status, renderMessagePage({ title: 'Not possible', message: error.message, ...shell, back: { href: '/backoffice/transactions', label: 'Back to transactions' } }));
        }
        if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
          return sendHtml(reply, error.statusCode, renderMessagePage({ title: 'Request not understood', message: 'The request could not be read.', ...shell }));
        }
        request.log.error({ err: error, requestId: request.id }, 'backoffice error');
        return sendHtml(reply, 500, renderMessagePage({ title: 'Something went wrong', message: `An unexpected error occurred (request ${request.id}). Nothing was changed by this page.`, ...shell }));
      });

      bo.setNotFoundHandler((request, reply) => {
        const staff = sessions.get(request);
        return sendHtml(reply, 404, renderMessagePage({ title: 'Page not found', message: 'There is no such backoffice page.', ...(staff ? { staff: staffView(staff) } : {}), back: { href: '/backoffice/transactions', label: 'Back to transactions' } }));
      });

      const publicRoute = { config: { backoffice: 'public' as const }, schema: { hide: true } };
      const hidden = { schema: { hide: true } };

      bo.get('/assets/backoffice.css', publicRoute, async (_request, reply) =>
        reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(css),
      );
      bo.get('/assets/backoffice.js', publicRoute, async (_request, reply) =>
        reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(script),
      );

      // ------------------------------------------------------------ sign in and out

      bo.get<{ Querystring: RawQuery }>('/login', publicRoute, async (request, reply) => {
        const next = safeNext(typeof request.query.next === 'string' ? request.query.next : undefined);
        const token = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
        if (token && (await findStaffSession(ctx.store, ctx.clock, token))) return reply.redirect(next ?? '/backoffice/transactions', 303);
        const formToken = newToken();
        reply.header('set-cookie', cookie(LOGIN_COOKIE, formToken, { path: '/backoffice/login', maxAge: 3600, secure: secureCookies(request), sameSite: 'Strict' }));
        return sendHtml(
          reply,
          200,
          renderLoginPage({ formToken, ...(next ? { next } : {}), ...(request.query.signed_out !== undefined ? { notice: 'You are signed out.' } : {}) }),
        );
      });

      bo.post('/login', publicRoute, async (request, reply) => {
        const form = formOf(request);
        const expected = parseCookies(request.headers.cookie).get(LOGIN_COOKIE);
        const formToken = form.get('_csrf') ?? '';
        const next = safeNext(form.get('next'));
        if (expected === undefined || !sameToken(formToken, expected)) {
          const fresh = newToken();
          reply.header('set-cookie', cookie(LOGIN_COOKIE, fresh, { path: '/backoffice/login', maxAge: 3600, secure: secureCookies(request), sameSite: 'Strict' }));
          return sendHtml(reply, 403, renderLoginPage({ formToken: fresh, ...(next ? { next } : {}), error: 'The sign-in form expired or was not sent from this page. Please sign in again.' }));
        }
        const email = (form.get('email') ?? '').trim();
        const result = await signIn(ctx.store, ctx.clock, { email, password: form.get('password') ?? '', clientAddress: request.ip });
        if (result.kind === 'signed-in') {
          // A session this browser had before is ended: one browser, one live session.
          const previous = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
          const old = previous ? await findStaffSession(ctx.store, ctx.clock, previous) : undefined;
          if (old) await signOut(ctx.store, old);
          reply.header('set-cookie', [
            cookie(SESSION_COOKIE, result.token, { path: '/backoffice', maxAge: Math.floor((Date.parse(result.session.expiresAt) - ctx.clock.now().getTime()) / 1000), secure: secureCookies(request), sameSite: 'Lax' }),
            cookie(LOGIN_COOKIE, '', { path: '/backoffice/login', maxAge: 0, secure: secureCookies(request), sameSite: 'Strict' }),
          ]);
          return reply.redirect(next ?? '/backoffice/transactions', 303);
        }
        if (result.kind === 'throttled') {
          const minutes = Math.ceil(result.retryAfterSeconds / 60);
          reply.header('retry-after', String(result.retryAfterSeconds));
          return sendHtml(
            reply,
            429,
            renderLoginPage({ formToken, email, ...(next ? { next } : {}), error: `Too many failed sign-ins for this email from your address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` }),
          );
        }
        return sendHtml(reply, 401, renderLoginPage({ formToken, email, ...(next ? { next } : {}), error: result.message }));
      });

      bo.post('/logout', hidden, async (request, reply) => {
        await signOut(ctx.store, sessions.get(request)!);
        reply.header('set-cookie', cookie(SESSION_COOKIE, '', { path: '/backoffice', maxAge: 0, secure: secureCookies(request), sameSite: 'Lax' }));
        return reply.redirect('/backoffice/login?signed_out=1', 303);
      });

      bo.post('/account', hidden, async (request, reply) => {
        const staff = sessions.get(request)!;
        const accountId = formOf(request).get('account_id') ?? '';
        if (!(await switchAccount(ctx.store, staff, accountId))) {
          return sendHtml(reply, 403, renderMessagePage({ title: 'No access', message: `You have no access to account ${accountId}.`, staff: staffView(staff) }));
        }
        // A transaction page belongs to the old account; lists and the dashboard carry over.
        const back = safeNext(formOf(request).get('return_to'));
        const target = back && /^\/backoffice\/(dashboard|transactions)(\?|$)/.test(back) ? back.replace(/([?&])(starting_after|prev)=[^&]*/g, '$1') : '/backoffice/transactions';
        return reply.redirect(target, 303);
      });

      bo.get('/', hidden, async (_request, reply) => reply.redirect('/backoffice/transactions', 303));

      // ------------------------------------------------------------ list and export

      bo.get<{ Querystring: RawQuery }>('/transactions', hidden, async (request, reply) => {
        const staff = sessions.get(request)!;
        const query = parseListQuery(request.query);
        let rows: TransactionView[] = [];
        let error: string | undefined;
        if (query.errors.length === 0) {
          try {
            rows = await transactions.listTransactions(ctx, {
              accountId: staff.session.accountId,
              limit: query.limit + 1,
              ...query.filter,
              ...(query.startingAfter ? { startingAfterId: query.startingAfter } : {}),
            });
          } catch (caught) {
            if (!isKasseError(caught)) throw caught;
            error = caught.code === 'INVALID_REQUEST' && query.startingAfter ? 'That page no longer exists in this account; start from the first page.' : caught.message;
          }
        }
        const status = query.errors.length > 0 || error ? 400 : 200;
        return sendHtml(
          reply,
          status,
          renderTransactionsPage({
            staff: staffView(staff),
            query,
            rows: rows.slice(0, query.limit),
            hasMore: rows.length > query.limit,
            path: request.url,
            ...(error ? { error } : {}),
          }),
        );
      });

      bo.get<{ Querystring: RawQuery }>('/transactions.csv', hidden, async (request, reply) => {
        const staff = sessions.get(request)!;
        const query = parseListQuery(request.query);
        if (query.errors.length > 0) {
          return sendHtml(reply, 400, renderMessagePage({ title: 'Export not possible', message: query.errors.join(' '), staff: staffView(staff) }));
        }
        const accountId = staff.session.accountId;
        // Page by page with the keyset cursor, so memory stays flat however many rows match.
        async function* lines(): AsyncGenerator<string> {
          yield `\uFEFF${csvHeader()}`;
          let after: string | undefined;
          for (;;) {
            const page = await transactions.listTransactions(ctx, { accountId, limit: CSV_PAGE_SIZE, ...query.filter, ...(after ? { startingAfterId: after } : {}) });
            if (page.length > 0) yield page.map(csvRow).join('');
            if (page.length < CSV_PAGE_SIZE) return;
            after = page[page.length - 1]!.id;
          }
        }
        const stamp = ctx.clock.now().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="transactions-${accountId}-${stamp}.csv"`)
          .send(Readable.from(lines()));
      });

      // ------------------------------------------------------------ one transaction

      async function detailOr404(reply: FastifyReply, staff: StaffSession, id: string): Promise<TransactionDetail | undefined> {
        try {
          return await transactionDetail(ctx, staff.session.accountId, id);
        } catch (error) {
          if (!isKasseError(error) || error.code !== 'TRANSACTION_NOT_FOUND') throw error;
          sendHtml(
            reply,
            404,
            renderMessagePage({
              title: 'Transaction not found',
              message: `Account ${staff.session.accountId} has no transaction ${id}.`,
              staff: staffView(staff),
              back: { href: '/backoffice/transactions', label: 'Back to transactions' },
            }),
          );
          return undefined;
        }
      }

      bo.get<{ Params: { id: string }; Querystring: RawQuery }>('/transactions/:id', hidden, async (request, reply) => {
        const staff = sessions.get(request)!;
        const detail = await detailOr404(reply, staff, request.params.id);
        if (detail === undefined) return reply;
        const eventId = typeof request.query.event === 'string' ? request.query.event : undefined;
        const kind = typeof request.query.done === 'string' ? request.query.done : undefined;
        const flash = outcomeFlash(kind, detail.view.events.find((event) => event.id === eventId), detail.view.currency);
        return sendHtml(
          reply,
          200,
          renderTransactionPage({
            staff: staffView(staff),
            detail,
            path: `/backoffice/transactions/${detail.view.id}`,
            addItemOpen: request.query.add === 'item',
            ...(flash ? { flash } : {}),
          }),
        );
      });

      bo.post<{ Params: { id: string; action: string } }>('/transactions/:id/:action', hidden, async (request, reply) => {
        const staff = sessions.get(request)!;
        const kind = request.params.action;
        if (!isActionKind(kind)) return reply.callNotFound();
        const detail = await detailOr404(reply, staff, request.params.id);
        if (detail === undefined) return reply;
        const form = formOf(request);
        const path = `/backoffice/transactions/${detail.view.id}`;
        const page = (status: number, extra: { flash?: Flash; typed?: { kind: ActionKind; fields: URLSearchParams; error: string } }) =>
          sendHtml(reply, status, renderTransactionPage({ staff: staffView(staff), detail, path, ...extra }));

        const confirmed = form.get('confirm') === 'yes';
        const key = form.get('idempotency_key') ?? '';
        if (confirmed && /^[A-Za-z0-9_-]{16,64}$/.test(key)) {
          // The same confirmation sent again (a double click, a reload): show what the first one did.
          const done = await completedOperation(ctx, staff.session.accountId, `backoffice-${key}`);
          if (done !== undefined) return reply.redirect(`${path}?done=${kind}&event=${encodeURIComponent(done.eventId)}`, 303);
        }

        let reviewed: ReviewedAction;
        try {
          reviewed = reviewAction(kind, detail.record.state, detail.actions, detail.view.currency, form);
        } catch (error) {
          if (!isKasseError(error)) throw error;
          return page(error.status, { typed: { kind, fields: form, error: error.message } });
        }

        if (!confirmed) {
          return sendHtml(
            reply,
            200,
            renderConfirmPage({ staff: staffView(staff), view: detail.view, reviewed, etag: detail.etag, idempotencyKey: randomBytes(18).toString('base64url'), path }),
          );
        }

        const version = form.get('version') ?? '';
        if (!/^[A-Za-z0-9_-]{16,64}$/.test(key) || !/^"\d+"$/.test(version)) throw new KasseError('INVALID_REQUEST', 'The confirmation form is incomplete; review the action again.');
        const apiPath = kind === 'update' ? 'authorization' : kind;
        const body = reviewed.request.kind === 'void' ? undefined : reviewed.request.body;
        const operation: OperationRequest = {
          principal: principalOf(staff),
          requestId: request.id,
          systemHeaders: {},
          idempotency: { key: `backoffice-${key}`, fingerprint: requestFingerprint('POST', `/v1/transactions/${detail.view.id}/${apiPath}`, body) },
          ifMatch: version,
        };
        try {
          const request_ = reviewed.request;
          const result =
            request_.kind === 'capture'
              ? await transactions.capture(ctx, detail.view.id, request_.body, operation)
              : request_.kind === 'refund'
                ? await transactions.refund(ctx, detail.view.id, request_.body, operation)
                : request_.kind === 'void'
                  ? await transactions.voidTransaction(ctx, detail.view.id, operation)
                  : await transactions.updateAuthorization(ctx, detail.view.id, request_.body, operation);
          const last = result.body.events[result.body.events.length - 1];
          return reply.redirect(`${path}?done=${kind}${last ? `&event=${encodeURIComponent(last.id)}` : ''}`, 303);
        } catch (error) {
          if (!isKasseError(error)) throw error;
          const fresh = (await transactionDetail(ctx, staff.session.accountId, detail.view.id).catch(() => undefined)) ?? detail;
          const reason =
            error.code === 'PRECONDITION_FAILED'
              ? 'The transaction changed after you reviewed this action (someone may have acted on it meanwhile). Nothing was done; check the amounts and try again.'
              : error.message;
          return sendHtml(
            reply,
            error.status,
            renderTransactionPage({ staff: staffView(staff), detail: fresh, path, flash: { tone: 'alert', text: `${actionTitles[kind]} refused: ${reason}` } }),
          );
        }
      });

      // ------------------------------------------------------------ dashboard

      bo.get<{ Querystring: RawQuery }>('/dashboard', hidden, async (request, reply) => {
        const staff = sessions.get(request)!;
        const days = (DASHBOARD_RANGES as readonly number[]).includes(Number(request.query.days)) ? Number(request.query.days) : 30;
        const stats = await dashboardStats(ctx, staff.session.accountId, days);
        const asked = typeof request.query.currency === 'string' ? request.query.currency.toUpperCase() : undefined;
        const currency = stats.currencies.find((entry) => entry.currency === asked)?.currency ?? stats.currencies[0]?.currency;
        return sendHtml(reply, 200, renderDashboardPage({ staff: staffView(staff), stats, days, currency, path: request.url }));
      });
    },
    { prefix: '/backoffice' },
  );
}
