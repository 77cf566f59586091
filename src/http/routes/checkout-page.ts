/**
 * The customer-facing hosted payment page. Plain HTML forms (no script): paying posts to
 * the same pay service as the API and the browser follows a 303 to the shop's return_url.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { accountOfResourceId, isSandboxAccount } from '../../domain/ids.js';
import { isKasseError } from '../../domain/errors.js';
import { isExpired } from '../../domain/expiry.js';
import { enabledProductTypes, isPaymentProductType } from '../../domain/products.js';
import type { ServiceContext } from '../../services/context.js';
import { businessNow } from '../../services/ledger.js';
import * as sessions from '../../services/sessions.js';
import { checkoutCss, renderCheckoutPage, renderNotFoundPage } from '../../sandbox/hosted-page.js';
import type { SessionRecord } from '../../store/store.js';
import { operationRequest } from '../request-context.js';

function sendHtml(reply: FastifyReply, status: number, html: string, returnUrl?: string): FastifyReply {
  let formTargets = "'self'";
  if (returnUrl) {
    try {
      formTargets += ` ${new URL(returnUrl).origin}`;
    } catch {
      // a return_url that is not a URL was refused at session creation
    }
  }
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action ${formTargets}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

async function findSession(ctx: ServiceContext, id: string): Promise<SessionRecord | undefined> {
  const accountId = accountOfResourceId(id);
  return accountId === undefined ? undefined : ctx.store.getSession(accountId, id);
}

async function renderFor(ctx: ServiceContext, session: SessionRecord, error?: string): Promise<string> {
  const now = await businessNow(ctx, ctx.store, session.accountId);
  const closedReason =
    session.status === 'PAID'
      ? 'This order is already paid.'
      : session.status === 'CANCELLED'
        ? 'This payment was cancelled.'
        : isExpired(session.expiresAt, now)
          ? 'This payment link has expired.'
          : undefined;
  return renderCheckoutPage({
    session,
    products: enabledProductTypes(session.data.configuration),
    sandbox: isSandboxAccount(session.accountId),
    ...(error ? { error } : {}),
    ...(closedReason ? { closedReason } : {}),
  });
}

export function checkoutPageRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.register(async (page) => {
    page.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    });

    page.get('/v1/view/assets/checkout.css', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(checkoutCss),
    );

    page.get<{ Params: { id: string } }>('/v1/view/:id', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const session = await findSession(ctx, request.params.id);
      if (session === undefined) return sendHtml(reply, 404, renderNotFoundPage());
      return sendHtml(reply, 200, await renderFor(ctx, session), String(session.data.url.return_url));
    });

    page.post<{ Params: { id: string }; Body: Record<string, string> | undefined }>(
      '/v1/view/:id/pay',
      { config: { access: 'public' }, schema: { hide: true } },
      async (request, reply) => {
        const session = await findSession(ctx, request.params.id);
        if (session === undefined) return sendHtml(reply, 404, renderNotFoundPage());
        const returnUrl = String(session.data.url.return_url);
        const type = request.body?.payment_product_type;
        const outcome = request.body?.outcome ?? 'authorized';
        if (!isPaymentProductType(type) || !['authorized', 'declined', 'failed', 'on_hold', 'unknown'].includes(outcome)) {
          return sendHtml(reply, 400, await renderFor(ctx, session, 'Choose a payment method.'), returnUrl);
        }
        try {
          const result = await sessions.pay(
            ctx,
            session.id,
            { payment_product_type: type, sandbox: { outcome: outcome as 'authorized' } },
            operationRequest(request),
          );
          return reply.status(303).header('location', result.body.redirect_url).send();
        } catch (error) {
          if (!isKasseError(error)) throw error;
          const current = (await findSession(ctx, session.id)) ?? session;
          return sendHtml(reply, error.status, await renderFor(ctx, current, error.message), returnUrl);
        }
      },
    );

    page.post<{ Params: { id: string } }>('/v1/view/:id/cancel', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const session = await findSession(ctx, request.params.id);
      if (session === undefined) return sendHtml(reply, 404, renderNotFoundPage());
      const url = new URL(String(session.data.url.return_url));
      url.searchParams.set('error', 'cancelled');
      url.searchParams.set('session_id', session.id);
      url.searchParams.set('merchant_reference', session.merchantReference);
      return reply.status(303).header('location', url.toString()).send();
    });
  });
}
