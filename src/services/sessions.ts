/**
 * Checkout sessions: create (from a profile or an explicit configuration), read, list,
 * cancel, and pay in the sandbox, which turns a session into a transaction.
 */
import { KasseError } from '../domain/errors.js';
import { accountOfResourceId, isSandboxAccount, newResourceId } from '../domain/ids.js';
import { checkOrderAmounts, transactionItems, type ShippingOption } from '../domain/order.js';
import { allProductsConfiguration, enabledProductTypes, paymentProductOf, type PaymentProductType } from '../domain/products.js';
import { openTransaction, statusOf, type OrderItem, voidTransaction as decideVoid } from '../domain/transaction.js';
import { isExpired } from '../domain/expiry.js';
import type { Repositories, SessionEvent, SessionRecord, TransactionRecord } from '../store/store.js';
import { sandboxCard, defaultSandboxOptions, type SandboxOptions } from '../sandbox/acquirer.js';
import type { OperationRequest, ServiceContext } from './context.js';
import { idempotentMutation, type MutationResult } from './idempotency.js';
import { applyDecision, businessNow, eventRecords, recordChange, VersionConflict } from './ledger.js';
import { checkCallbackUrl } from './webhooks.js';

export interface SessionOrder {
  readonly amount: number;
  readonly currency: string;
  readonly merchant_reference: string;
  readonly merchant_reference_2?: string;
  readonly items?: readonly OrderItem[];
  readonly shipping_option?: ShippingOption;
  readonly partial_payment?: boolean;
  readonly shipping_address?: Record<string, unknown>;
  readonly billing_address?: Record<string, unknown>;
  readonly [field: string]: unknown;
}

export interface CreateSessionBody {
  readonly url: { readonly return_url: string; readonly callback_url?: string; readonly [field: string]: unknown };
  readonly order: SessionOrder;
  readonly customer?: Record<string, unknown>;
  readonly expires_at?: string;
  readonly configuration?: Record<string, unknown>;
  readonly profile_id?: string;
  readonly metadata?: Record<string, unknown>;
}

export interface SessionView {
  readonly id: string;
  readonly [field: string]: unknown;
}

const DEFAULT_PROFILE = 'default';

export async function createSession(
  ctx: ServiceContext,
  body: CreateSessionBody,
  request: OperationRequest,
): Promise<MutationResult<{ id: string; url: string }>> {
  const { accountId } = request.principal;
  if (body.profile_id !== undefined && body.profile_id !== DEFAULT_PROFILE) throw new KasseError('UNKNOWN_PROFILE');
  checkOrderAmounts(body.order);
  if (body.url.callback_url !== undefined) await checkCallbackUrl(accountId, body.url.callback_url);
  // A profile supplies the payment products; a configuration sent with it may add options such as auto_capture.
  const configuration = body.profile_id === DEFAULT_PROFILE ? { ...allProductsConfiguration(), ...body.configuration } : body.configuration;
  if (enabledProductTypes(configuration).length === 0) {
    throw new KasseError('INVALID_REQUEST', 'The configuration enables no payment product.');
  }
  return idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const now = await businessNow(ctx, tx, accountId);
    const id = newResourceId(accountId, ctx.randomBytes);
    const session: SessionRecord = {
      id,
      accountId,
      status: 'ACTIVE',
      transactionId: null,
      merchantReference: body.order.merchant_reference,
      data: {
        url: body.url,
        order: body.order,
        ...(body.customer ? { customer: body.customer } : {}),
        configuration: { ...configuration },
        ...(body.profile_id ? { profile_id: body.profile_id } : {}),
        ...(body.metadata ? { metadata: body.metadata } : {}),
        events: [{ id: '1', name: 'SESSION_CREATED', created_at: now }],
      },
      expiresAt: body.expires_at === undefined ? null : new Date(body.expires_at).toISOString(),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await tx.insertSession(session);
    return { statusCode: 200, body: { id, url: `${ctx.publicUrl}/v1/view/${id}` } };
  });
}

export function sessionView(session: SessionRecord): SessionView {
  const { data } = session;
  return {
    id: session.id,
    url: data.url,
    order: data.order,
    ...(data.customer ? { customer: data.customer } : {}),
    configuration: data.configuration,
    ...(data.profile_id ? { profile_id: data.profile_id } : {}),
    ...(data.metadata ? { metadata: data.metadata } : {}),
    status: session.status,
    ...(session.transactionId ? { transaction_id: session.transactionId } : {}),
    ...(session.expiresAt ? { expires_at: session.expiresAt } : {}),
    events: data.events,
    created_at: session.createdAt,
    updated_at: session.updatedAt,
  };
}

export async function getSession(ctx: ServiceContext, accountId: string, id: string): Promise<SessionView> {
  const session = await ctx.store.getSession(accountId, id);
  if (session === undefined) throw new KasseError('SESSION_NOT_FOUND');
  return sessionView(session);
}

export async function listSessions(
  ctx: ServiceContext,
  filter: { accountId: string; limit: number; startingAfterId?: string; merchantReference?: string },
): Promise<SessionView[]> {
  let startingAfter;
  if (filter.startingAfterId !== undefined) {
    const cursor = await ctx.store.getSession(filter.accountId, filter.startingAfterId);
    if (cursor === undefined) throw new KasseError('INVALID_REQUEST', 'starting_after names no session of this account.');
    startingAfter = { createdAt: cursor.createdAt, id: cursor.id };
  }
  const sessions = await ctx.store.listSessions({
    accountId: filter.accountId,
    limit: filter.limit,
    startingAfter,
    ...(filter.merchantReference === undefined ? {} : { merchantReference: filter.merchantReference }),
  });
  return sessions.map(sessionView);
}

function withEvent(session: SessionRecord, name: string, now: string, details?: Record<string, unknown>): SessionRecord['data'] {
  const event: SessionEvent = { id: String(session.data.events.length + 1), name, created_at: now, ...(details ? { details } : {}) };
  return { ...session.data, events: [...session.data.events, event] };
}

/** Cancels an unpaid session; a paid one has its authorization voided, as Dintero does. */
export async function cancelSession(ctx: ServiceContext, id: string, request: OperationRequest): Promise<MutationResult<SessionView>> {
  const { accountId } = request.principal;
  return idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const session = await tx.getSession(accountId, id, { forUpdate: true });
    if (session === undefined) throw new KasseError('SESSION_NOT_FOUND');
    if (session.status === 'CANCELLED') throw new KasseError('SESSION_NOT_CANCELLABLE', 'The session is already cancelled.');
    const now = await businessNow(ctx, tx, accountId);
    if (session.transactionId !== null) {
      const transaction = await tx.getTransaction(accountId, session.transactionId, { forUpdate: true });
      if (transaction === undefined) throw new Error(`Session ${id} names a missing transaction`);
      if (statusOf(transaction.state) !== 'AUTHORIZED') {
        throw new KasseError('SESSION_NOT_CANCELLABLE', `The session's transaction is ${transaction.status}; only an uncaptured authorization can be voided.`);
      }
      const decision = decideVoid(transaction.state);
      const events = eventRecords(decision.events, transaction.eventCount + 1, now, {
        requestId: request.requestId,
        actor: request.principal.actor,
        systemHeaders: request.systemHeaders,
      });
      const next = applyDecision(transaction, decision.state, events.length, now);
      await recordChange(tx, transaction, next, events);
    }
    const cancelled: SessionRecord = {
      ...session,
      status: 'CANCELLED',
      data: withEvent(session, 'SESSION_CANCELLED', now),
      updatedAt: now,
      version: session.version + 1,
    };
    if (!(await tx.updateSession(cancelled, session.version))) throw new VersionConflict('session changed concurrently');
    return { statusCode: 200, body: sessionView(cancelled) };
  });
}

export interface PayBody {
  readonly payment_product_type: PaymentProductType;
  readonly sandbox?: Partial<SandboxOptions>;
}

export interface PayResult {
  readonly success: boolean;
  readonly transaction_id: string;
  readonly redirect_url: string;
}

function redirectUrl(returnUrl: string, query: Record<string, string>): string {
  const url = new URL(returnUrl);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.toString();
}

/** Customer-facing: pays a session with a sandbox product and creates its transaction. */
export async function pay(
  ctx: ServiceContext,
  sessionId: string,
  body: PayBody,
  request: Omit<OperationRequest, 'principal'>,
): Promise<MutationResult<PayResult>> {
  const accountId = accountOfResourceId(sessionId);
  if (accountId === undefined) throw new KasseError('SESSION_NOT_FOUND');
  const sandbox: SandboxOptions = { ...defaultSandboxOptions, ...body.sandbox };
  return idempotentMutation(ctx.store, accountId, request.idempotency, () => ctx.clock.now().toISOString(), async (tx) => {
    const session = await tx.getSession(accountId, sessionId, { forUpdate: true });
    if (session === undefined) throw new KasseError('SESSION_NOT_FOUND');
    const now = await businessNow(ctx, tx, accountId);
    if (session.status !== 'ACTIVE' || isExpired(session.expiresAt, now)) throw new KasseError('SESSION_NOT_PAYABLE');
    if (!enabledProductTypes(session.data.configuration).includes(body.payment_product_type)) {
      throw new KasseError('PAYMENT_PRODUCT_NOT_ENABLED', `The session does not offer ${body.payment_product_type}.`);
    }
    if (!isSandboxAccount(accountId)) {
      throw new KasseError('PAYMENT_PRODUCT_UNAVAILABLE', `No provider connector is configured for ${body.payment_product_type}.`);
    }
    const order = session.data.order as unknown as SessionOrder;
    const decision = openTransaction({
      paymentProductType: body.payment_product_type,
      amount: order.amount,
      items: transactionItems(order),
      outcome: sandbox.outcome,
      now,
      autoCapture: session.data.configuration.auto_capture === true,
    });
    const transactionId = newResourceId(accountId, ctx.randomBytes);
    const events = eventRecords(decision.events, 1, now, { requestId: request.requestId, systemHeaders: request.systemHeaders });
    const customer = session.data.customer;
    const card = sandboxCard(body.payment_product_type);
    const record: TransactionRecord = {
      id: transactionId,
      accountId,
      sessionId,
      currency: order.currency,
      merchantReference: order.merchant_reference,
      merchantReference2: order.merchant_reference_2 ?? null,
      customerEmail: typeof customer?.email === 'string' ? customer.email.toLowerCase() : null,
      customerPhone: typeof customer?.phone_number === 'string' ? customer.phone_number : null,
      status: statusOf(decision.state),
      state: decision.state,
      details: {
        ...(customer ? { customer } : {}),
        ...(order.shipping_address ? { shipping_address: order.shipping_address } : {}),
        ...(order.billing_address ? { billing_address: order.billing_address } : {}),
        ...(order.shipping_option ? { shipping_option: order.shipping_option } : {}),
        ...(card ? { card } : {}),
        url: {
          ...(typeof session.data.url.callback_url === 'string' ? { callback_url: session.data.url.callback_url } : {}),
          redirect_url: String(session.data.url.return_url),
        },
        metadata: { 'session:profile_id': session.data.profile_id ?? 'custom', ...(session.data.metadata ?? {}) },
        ...(Object.keys(request.systemHeaders).length > 0 ? { initiating_system_request_headers: request.systemHeaders } : {}),
        sandbox: { ...sandbox },
      },
      eventCount: events.length,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await recordChange(tx, null, record, events);
    const authorized = decision.state.authorization !== 'DECLINED' && decision.state.authorization !== 'FAILED';
    const paid: SessionRecord = {
      ...session,
      status: authorized ? 'PAID' : 'ACTIVE',
      transactionId: authorized ? transactionId : session.transactionId,
      data: withEvent(session, authorized ? 'SESSION_PAID' : 'PAYMENT_FAILED', now, {
        transaction_id: transactionId,
        payment_product_type: body.payment_product_type,
        payment_product: paymentProductOf(body.payment_product_type),
      }),
      updatedAt: now,
      version: session.version + 1,
    };
    if (!(await tx.updateSession(paid, session.version))) throw new VersionConflict('session changed concurrently');
    const returnUrl = String(session.data.url.return_url);
    const redirect = authorized
      ? redirectUrl(returnUrl, { transaction_id: transactionId, merchant_reference: order.merchant_reference, session_id: sessionId })
      : redirectUrl(returnUrl, {
          transaction_id: transactionId,
          merchant_reference: order.merchant_reference,
          session_id: sessionId,
          error: decision.state.authorization === 'DECLINED' ? 'authorization' : 'failed',
        });
    return { statusCode: 200, body: { success: authorized, transaction_id: transactionId, redirect_url: redirect } };
  });
}
