/**
 * The single error handler: catalogued errors become `{"error":{"code","message"}}` with
 * their status; framework errors (bad JSON, too large, wrong media type, schema) are
 * mapped onto the catalogue; anything else is a logged 500 with only a request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorCatalogue, type ErrorCode, type ErrorDetail, isKasseError } from '../domain/errors.js';

export function errorBody(code: ErrorCode, message: string, errors: readonly ErrorDetail[] = [], requestId?: string) {
  return { error: { code, message, ...(errors.length > 0 ? { errors } : {}), ...(requestId ? { request_id: requestId } : {}) } };
}

function frameworkCode(error: FastifyError): ErrorCode | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return error.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_REQUEST';
    default:
      break;
  }
  if (error.validation) return 'INVALID_REQUEST';
  if (error.statusCode === 429) return 'TOO_MANY_REQUESTS';
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return 'INVALID_REQUEST';
  return undefined;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isKasseError(error)) {
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
      return reply.status(error.status).send(errorBody(error.code, error.message, error.errors));
    }
    const code = frameworkCode(error);
    if (code !== undefined) {
      const errors: ErrorDetail[] = (error.validation ?? []).map((issue) => ({
        path: `${error.validationContext ?? 'body'}${issue.instancePath || ''}`,
        message: issue.message ?? 'is not valid',
      }));
      const message = code === 'INVALID_REQUEST' && errors.length === 0 ? safeMessage(error) : errorCatalogue[code].message;
      return reply.status(errorCatalogue[code].status).send(errorBody(code, message, errors));
    }
    request.log.error({ err: error, requestId: request.id }, 'unexpected error');
    return reply.status(500).send(errorBody('INTERNAL_ERROR', errorCatalogue.INTERNAL_ERROR.message, [], request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });
}

/**
 * Errors Fastify raises before routing (a malformed percent-encoding, a path parameter over
 * maxParamLength), which bypass setErrorHandler: passed to Fastify as `frameworkErrors`.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    reply.status(400).send(errorBody('INVALID_REQUEST', error.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid.' : 'A path parameter is too long.'));
    return;
  }
  request.log.error({ err: error, requestId: request.id }, 'unexpected framework error');
  reply.status(500).send(errorBody('INTERNAL_ERROR', errorCatalogue.INTERNAL_ERROR.message, [], request.id));
}

/** Framework 4xx messages are about the request (e.g. bad JSON); keep them short and free of internals. */
function safeMessage(error: FastifyError): string {
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) return 'The body is not valid JSON.';
  return errorCatalogue.INVALID_REQUEST.message;
}
