/**
 * The audit trail of mutations: every state-changing request (any method but GET/HEAD/
 * OPTIONS) is logged once it is answered, with who asked (client id or backoffice user),
 * for which account, what (route and resource id) and the outcome. The money itself is
 * audited in the ledger: every transaction change is an append-only event with `created_by`.
 * Credentials, bodies and query strings are never part of an audit line.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by routes that authenticate otherwise than with a bearer token (the backoffice). */
    auditActor?: { readonly accountId: string; readonly actor: string };
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

function actorOf(request: FastifyRequest): { accountId?: string; actor?: string } {
  if (request.principal) return { accountId: request.principal.accountId, actor: request.principal.actor };
  if (request.auditActor) return request.auditActor;
  return {};
}

export function installAuditTrail(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    if (READS.has(request.method)) return done();
    const params = (request.params ?? {}) as Record<string, unknown>;
    request.log.info(
      {
        audit: true,
        requestId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        ...(typeof params.id === 'string' ? { resource: params.id.slice(0, 100) } : {}),
        ...actorOf(request),
        status: reply.statusCode,
        replayed: reply.getHeader('idempotent-replayed') === 'true',
      },
      'audit',
    );
    done();
  });
}
