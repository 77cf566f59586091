/** Checkout sessions: create (profile or configuration), read, list, cancel, and the customer-facing pay. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import * as sessions from '../../services/sessions.js';
import { authorizedOperation, operationRequest, principalOf } from '../request-context.js';
import { sendMutation } from './transactions.js';
import {
  CreateSessionFromProfileSchema,
  CreateSessionSchema,
  ErrorSchema,
  IdParams,
  ListSessionsQuery,
  PayResultSchema,
  PaySchema,
  SessionCreatedSchema,
  SessionSchema,
  responses,
} from '../schemas.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };

export function sessionRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['sessions'];

  api.post(
    '/v1/sessions-profile',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Create a session from a profile', body: CreateSessionFromProfileSchema, response: responses({ 200: SessionCreatedSchema, ...errors }) },
    },
    async (request, reply) =>
      sendMutation(reply, await sessions.createSession(ctx, request.body as sessions.CreateSessionBody, authorizedOperation(request))),
  );

  api.post(
    '/v1/sessions',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Create a session with an explicit payment configuration',
        body: Type.Intersect([CreateSessionSchema, Type.Object({ configuration: Type.Object({}, { additionalProperties: true }) })]),
        response: responses({ 200: SessionCreatedSchema, ...errors }),
      },
    },
    async (request, reply) => {
      const { profile_id: _ignored, ...body } = request.body as sessions.CreateSessionBody;
      return sendMutation(reply, await sessions.createSession(ctx, body, authorizedOperation(request)));
    },
  );

  api.get(
    '/v1/sessions',
    { config: { access: 'read' }, schema: { tags, summary: 'List sessions, newest first', querystring: ListSessionsQuery, response: responses({ 200: Type.Array(SessionSchema), ...errors }) } },
    async (request) =>
      sessions.listSessions(ctx, {
        accountId: principalOf(request).accountId,
        limit: request.query.limit ?? 10,
        ...(request.query.starting_after !== undefined ? { startingAfterId: request.query.starting_after } : {}),
        ...(request.query.merchant_reference !== undefined ? { merchantReference: request.query.merchant_reference } : {}),
      }),
  );

  api.get(
    '/v1/sessions/:id',
    { config: { access: 'read' }, schema: { tags, summary: 'Get a session', params: IdParams, response: responses({ 200: SessionSchema, ...errors }) } },
    async (request) => sessions.getSession(ctx, principalOf(request).accountId, request.params.id),
  );

  api.post(
    '/v1/sessions/:id/cancel',
    {
      config: { access: 'write' },
      schema: { tags, summary: 'Cancel a session (voids its authorization when paid)', params: IdParams, response: responses({ 200: SessionSchema, ...errors }) },
    },
    async (request, reply) => sendMutation(reply, await sessions.cancelSession(ctx, request.params.id, authorizedOperation(request, { ignoreBody: true }))),
  );

  api.post(
    '/v1/sessions/:id/pay',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Pay a session in the sandbox (customer-facing, no token)',
        params: IdParams,
        body: PaySchema,
        response: responses({ 200: PayResultSchema, ...errors }),
      },
    },
    async (request, reply) => sendMutation(reply, await sessions.pay(ctx, request.params.id, request.body as sessions.PayBody, operationRequest(request))),
  );
}
