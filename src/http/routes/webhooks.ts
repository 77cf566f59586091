/** Callbacks and webhooks: the callback signing secret, webhook subscriptions and the delivery log. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import * as webhooks from '../../services/webhooks.js';
import { webhookEventNames } from '../../store/webhook-store.js';
import { authorizedOperation, principalOf } from '../request-context.js';
import { sendMutation } from './transactions.js';
import { ErrorSchema, responses } from '../schemas.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };
const AccountParams = Type.Object({ aid: Type.String({ maxLength: 20 }) });
const AccountItemParams = Type.Object({ aid: Type.String({ maxLength: 20 }), id: Type.String({ maxLength: 100 }) });

const SignatureSecretSchema = Type.Object({ secret: Type.String(), created_at: Type.String() });

const SubscriptionSchema = Type.Object({
  id: Type.String(),
  account_id: Type.String(),
  config: Type.Object({ url: Type.String(), content_type: Type.String() }),
  events: Type.Array(Type.String()),
  created_at: Type.String(),
});

const CreateSubscriptionSchema = Type.Object(
  {
    config: Type.Object(
      {
        url: Type.String({ format: 'uri', maxLength: 2000 }),
        content_type: Type.Optional(Type.Literal('application/json')),
        secret: Type.Optional(Type.String({ maxLength: 500 })),
      },
      { additionalProperties: true },
    ),
    events: Type.Array(Type.Union(webhookEventNames.map((name) => Type.Literal(name))), { minItems: 1, maxItems: 10 }),
  },
  { additionalProperties: true },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const DeliverySchema = Type.Object({
  id: Type.String(),
  account_id: Type.String(),
  transaction_id: Type.String(),
  kind: Type.Union([Type.Literal('callback'), Type.Literal('webhook')]),
  subscription_id: Type.Optional(Type.String()),
  event: Type.String(),
  event_id: Type.String(),
  method: Type.String(),
  url: Type.String(),
  status: Type.Union(['pending', 'delivered', 'failed', 'cancelled'].map((status) => Type.Literal(status))),
  attempt_count: Type.Integer(),
  max_attempts: Type.Integer(),
  next_attempt_at: Type.Optional(Type.String()),
  last_status_code: Type.Optional(Type.Integer()),
  last_error: Type.Optional(Type.String()),
  delivered_at: Type.Optional(Type.String()),
  created_at: Type.String(),
  attempts: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      started_at: Type.String(),
      status_code: Nullable(Type.Integer()),
      latency_ms: Nullable(Type.Integer()),
      error: Nullable(Type.String()),
      outcome: Type.Union(['delivered', 'retry', 'failed'].map((outcome) => Type.Literal(outcome))),
    }),
  ),
});

const ListDeliveriesQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
    starting_after: Type.Optional(Type.String({ maxLength: 100 })),
    transaction_id: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);

export function webhookRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  // Reading the secret needs write access too: whoever holds it can forge callbacks.
  api.post(
    '/v1/admin/signature',
    {
      config: { access: 'write' },
      schema: { tags: ['callbacks'], summary: 'Create (or replace) the secret that signs callbacks', response: responses({ 200: SignatureSecretSchema, ...errors }) },
    },
    async (request, reply) => sendMutation(reply, await webhooks.createSignatureSecret(ctx, authorizedOperation(request, { ignoreBody: true }))),
  );

  api.get(
    '/v1/admin/signature',
    { config: { access: 'write' }, schema: { tags: ['callbacks'], summary: 'The secret that signs callbacks', response: responses({ 200: SignatureSecretSchema, ...errors }) } },
    async (request) => webhooks.getSignatureSecret(ctx, principalOf(request).accountId),
  );

  const tags = ['webhooks'];

  api.post(
    '/v1/accounts/:aid/hooks/subscriptions',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Subscribe a URL to transaction events', params: AccountParams, body: CreateSubscriptionSchema, response: responses({ 200: SubscriptionSchema, ...errors }) },
    },
    async (request, reply) =>
      sendMutation(reply, await webhooks.createSubscription(ctx, request.params.aid, request.body as webhooks.CreateSubscriptionBody, authorizedOperation(request))),
  );

  api.get(
    '/v1/accounts/:aid/hooks/subscriptions',
    { config: { access: 'read' }, schema: { tags, summary: 'List webhook subscriptions', params: AccountParams, response: responses({ 200: Type.Array(SubscriptionSchema), ...errors }) } },
    async (request) => webhooks.listSubscriptions(ctx, principalOf(request).accountId, request.params.aid),
  );

  api.delete(
    '/v1/accounts/:aid/hooks/subscriptions/:id',
    { config: { access: 'write' }, schema: { tags, summary: 'Delete a webhook subscription (cancels its pending deliveries)', params: AccountItemParams, response: responses({ 204: Type.Null(), ...errors }) } },
    async (request, reply) => {
      await webhooks.deleteSubscription(ctx, principalOf(request).accountId, request.params.aid, request.params.id);
      return reply.status(204).send();
    },
  );

  api.get(
    '/v1/accounts/:aid/hooks/deliveries',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'The delivery log: callbacks and webhooks with every attempt, newest first',
        params: AccountParams,
        querystring: ListDeliveriesQuery,
        response: responses({ 200: Type.Array(DeliverySchema), ...errors }),
      },
    },
    async (request) =>
      webhooks.listDeliveries(ctx, principalOf(request).accountId, {
        accountId: request.params.aid,
        limit: request.query.limit ?? 25,
        ...(request.query.transaction_id === undefined ? {} : { transactionId: request.query.transaction_id }),
        ...(request.query.starting_after === undefined ? {} : { startingAfterId: request.query.starting_after }),
      }),
  );

  api.post(
    '/v1/accounts/:aid/hooks/deliveries/:id/resend',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Send a delivery again now', params: AccountItemParams, response: responses({ 200: DeliverySchema, ...errors }) },
    },
    async (request, reply) =>
      sendMutation(reply, await webhooks.resendDelivery(ctx, request.params.aid, request.params.id, authorizedOperation(request, { ignoreBody: true }))),
  );
}
