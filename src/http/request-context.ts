/** Turns a Fastify request into the service layer's OperationRequest. */
import type { FastifyRequest } from 'fastify';
import { KasseError } from '../domain/errors.js';
import type { Principal } from '../auth/scopes.js';
import type { OperationRequest } from '../services/context.js';
import { requestFingerprint } from '../services/idempotency.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === null) throw new KasseError('UNAUTHORIZED');
  return request.principal;
}

export function systemHeaders(request: FastifyRequest): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith('dintero-system-') && typeof value === 'string') result[name] = value.slice(0, 200);
  }
  return result;
}

export function operationRequest(request: FastifyRequest, options: { ignoreBody?: boolean } = {}): Omit<OperationRequest, 'principal'> {
  const key = request.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 255)) {
    throw new KasseError('INVALID_REQUEST', 'Idempotency-Key must be 1 to 255 characters.');
  }
  const ifMatch = request.headers['if-match'];
  const path = request.url.split('?')[0] ?? request.url;
  return {
    requestId: request.id,
    systemHeaders: systemHeaders(request),
    ...(typeof key === 'string' ? { idempotency: { key, fingerprint: requestFingerprint(request.method, path, options.ignoreBody ? undefined : request.body) } } : {}),
    ...(typeof ifMatch === 'string' ? { ifMatch } : {}),
  };
}

export function authorizedOperation(request: FastifyRequest, options: { ignoreBody?: boolean } = {}): OperationRequest {
  return { ...operationRequest(request, options), principal: principalOf(request) };
}
