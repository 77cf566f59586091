/** The Dintero transaction API: read, list, update, capture, refund, void, update authorization. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServiceContext } from '../../services/context.js';
import * as transactions from '../../services/transactions.js';
import type { MutationResult } from '../../services/idempotency.js';
import type { TransactionView } from '../../services/transaction-view.js';
import { authorizedOperation, principalOf } from '../request-context.js';
import {
  CaptureSchema,
  ErrorSchema,
  IdParams,
  ListTransactionsQuery,
  RefundSchema,
  TransactionSchema,
  UpdateAuthorizationSchema,
  UpdateTransactionSchema,
  responses,
} from '../schemas.js';
import Type from 'typebox';

/**
 * Transactions are answered with V8's JSON.stringify instead of the schema-compiled
 * serializer: their schemas are open objects (nothing to leave out), and on them the compiled
 * serializer measured three to four times slower (a page of ten transactions: 105 µs against
 * 28 µs). The schemas still describe the answers in /openapi.json.
 */
export const plainJsonSerializer = { serializerCompiler: () => (data: unknown) => JSON.stringify(data) };

const JSON_CONTENT = 'application/json; charset=utf-8';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 412: ErrorSchema, 422: ErrorSchema };

export function sendMutation<T>(reply: FastifyReply, result: MutationResult<T>): T {
  reply.status(result.statusCode);
  for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
  if (result.replayed) reply.header('idempotent-replayed', 'true');
  return result.body;
}

/**
 * sendMutation for the routes answered with plainJsonSerializer: there the answer is exactly
 * JSON.stringify(body), so one already serialised (stored with its idempotency key) goes as it
 * is. (Routes with a compiled serializer may leave fields out: they serialise the body.)
 */
function sendPlainMutation<T>(reply: FastifyReply, result: MutationResult<T>): T | FastifyReply {
  const body = sendMutation(reply, result);
  return result.json === undefined ? body : reply.type(JSON_CONTENT).send(result.json);
}

export function transactionRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['transactions'];

  api.get(
    '/v1/transactions',
    {
      ...plainJsonSerializer,
      config: { access: 'read' },
      schema: { tags, summary: 'List transactions, newest first', querystring: ListTransactionsQuery, response: responses({ 200: Type.Array(TransactionSchema), ...errors }) },
    },
    async (request, reply) => {
      const q = request.query;
      const json = await transactions.listTransactionsJson(ctx, {
        accountId: principalOf(request).accountId,
        limit: q.limit ?? 10,
        ...(q.starting_after !== undefined ? { startingAfterId: q.starting_after } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.payment_product ? { paymentProduct: q.payment_product } : {}),
        ...(q.payment_product_type ? { paymentProductType: q.payment_product_type } : {}),
        ...(q.currency ? { currency: q.currency } : {}),
        ...(q.merchant_reference !== undefined ? { merchantReference: q.merchant_reference } : {}),
        ...(q.merchant_reference_2 !== undefined ? { merchantReference2: q.merchant_reference_2 } : {}),
        ...(q.session_id !== undefined ? { sessionId: q.session_id } : {}),
        ...(q.amount !== undefined ? { amount: q.amount } : {}),
        ...(q['amount.gte'] !== undefined ? { amountGte: q['amount.gte'] } : {}),
        ...(q['amount.lte'] !== undefined ? { amountLte: q['amount.lte'] } : {}),
        ...(q['created_at.gte'] !== undefined ? { createdAtGte: new Date(q['created_at.gte']).toISOString() } : {}),
        ...(q['created_at.lte'] !== undefined ? { createdAtLte: new Date(q['created_at.lte']).toISOString() } : {}),
        ...(q.search !== undefined ? { search: q.search } : {}),
      });
      return reply.type(JSON_CONTENT).send(json);
    },
  );

  api.get(
    '/v1/transactions/:id',
    { ...plainJsonSerializer, config: { access: 'read' }, schema: { tags, summary: 'Get a transaction', params: IdParams, response: responses({ 200: TransactionSchema, ...errors }) } },
    async (request, reply) => {
      const { body, etag } = await transactions.getTransaction(ctx, principalOf(request).accountId, request.params.id);
      // Already JSON: with the content type set, Fastify sends the bytes as they are.
      return reply.header('etag', etag).type(JSON_CONTENT).send(body);
    },
  );

  api.put(
    '/v1/transactions/:id',
    {
      ...plainJsonSerializer,
      config: { access: 'write' },
      schema: { tags, summary: 'Update merchant_reference_2', params: IdParams, body: UpdateTransactionSchema, response: responses({ 200: TransactionSchema, ...errors }) },
    },
    async (request, reply) =>
      sendPlainMutation(reply, await transactions.updateTransaction(ctx, request.params.id, request.body, authorizedOperation(request))),
  );

  api.post(
    '/v1/transactions/:id/capture',
    {
      ...plainJsonSerializer,
      config: { access: 'write' },
      schema: { tags, summary: 'Capture all or part of the authorization', params: IdParams, body: CaptureSchema, response: responses({ 200: TransactionSchema, ...errors }) },
    },
    async (request, reply) =>
      sendPlainMutation(reply, await transactions.capture(ctx, request.params.id, request.body, authorizedOperation(request))),
  );

  api.post(
    '/v1/transactions/:id/refund',
    {
      ...plainJsonSerializer,
      config: { access: 'write' },
      schema: { tags, summary: 'Refund captured money', params: IdParams, body: RefundSchema, response: responses({ 200: TransactionSchema, ...errors }) },
    },
    async (request, reply) => sendPlainMutation(reply, await transactions.refund(ctx, request.params.id, request.body, authorizedOperation(request))),
  );

  api.post(
    '/v1/transactions/:id/void',
    {
      ...plainJsonSerializer,
      config: { access: 'write' },
      schema: { tags, summary: 'Void the authorization, or its remainder after a partial capture', params: IdParams, response: responses({ 200: TransactionSchema, ...errors }) },
    },
    async (request, reply) => sendPlainMutation(reply, await transactions.voidTransaction(ctx, request.params.id, authorizedOperation(request, { ignoreBody: true }))),
  );

  api.post(
    '/v1/transactions/:id/authorization',
    {
      ...plainJsonSerializer,
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Update the authorization (Klarna, Billie): new total and items, or extend',
        params: IdParams,
        body: UpdateAuthorizationSchema,
        response: responses({ 200: TransactionSchema, ...errors }),
      },
    },
    async (request, reply) =>
      sendPlainMutation(reply, await transactions.updateAuthorization(ctx, request.params.id, request.body, authorizedOperation(request))),
  );
}

