/** Sandbox controls: the account's test clock and resolving held or unknown authorizations. */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import * as sandbox from '../../services/sandbox.js';
import { authorizedOperation, principalOf } from '../request-context.js';
import { plainJsonSerializer, sendMutation } from './transactions.js';
import { ErrorSchema, TransactionSchema, responses } from '../schemas.js';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };
const ClockSchema = Type.Object({ account_id: Type.String(), now: Type.String(), offset_seconds: Type.Integer() });
const AccountParams = Type.Object({ aid: Type.String({ maxLength: 20 }) });

export function sandboxRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['sandbox'];

  api.get(
    '/v1/accounts/:aid/sandbox/clock',
    { config: { access: 'read' }, schema: { tags, summary: "The account's test clock", params: AccountParams, response: responses({ 200: ClockSchema, ...errors }) } },
    async (request) => sandbox.getClock(ctx, principalOf(request).accountId, request.params.aid),
  );

  api.post(
    '/v1/accounts/:aid/sandbox/clock',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: "Move the account's test clock forward",
        params: AccountParams,
        body: Type.Object({ advance_seconds: Type.Integer({ minimum: 0, maximum: 10 * 365 * 24 * 3600 }) }),
        response: responses({ 200: ClockSchema, ...errors }),
      },
    },
    async (request, reply) =>
      sendMutation(reply, await sandbox.advanceClock(ctx, request.params.aid, request.body.advance_seconds, authorizedOperation(request))),
  );

  api.post(
    '/v1/accounts/:aid/sandbox/transactions/:id/resolve',
    {
      ...plainJsonSerializer,
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Settle an ON_HOLD or UNKNOWN transaction',
        params: Type.Object({ aid: Type.String({ maxLength: 20 }), id: Type.String({ maxLength: 100 }) }),
        body: Type.Object({ outcome: Type.Union([Type.Literal('authorized'), Type.Literal('failed')]) }),
        response: responses({ 200: TransactionSchema, ...errors }),
      },
    },
    async (request, reply) =>
      sendMutation(
        reply,
        await sandbox.resolveTransaction(ctx, request.params.aid, request.params.id, request.body.outcome, authorizedOperation(request)),
      ),
  );
}
