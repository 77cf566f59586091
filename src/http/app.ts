/**
 * buildApp: the whole HTTP service from plain parts, so tests can pass an in-memory
 * store, a fixed clock or a quiet logger.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Store } from '../store/store.js';
import type { Clock } from '../clock.js';
import { TokenService } from '../auth/tokens.js';
import { serviceContext, type ServiceContext } from '../services/context.js';
import { frameworkErrorHandler, installErrorHandler } from './error-handler.js';
import { installAuditTrail } from './audit.js';
import { installAuthentication, tokenRoutes } from './auth.js';
import { transactionRoutes } from './routes/transactions.js';
import { sessionRoutes } from './routes/sessions.js';
import { systemRoutes } from './routes/system.js';
import { checkoutPageRoutes } from './routes/checkout-page.js';
import { sandboxRoutes } from './routes/sandbox.js';
import { backofficeRoutes } from '../backoffice/routes.js';
import { startProviderWorker, type ProviderWorker } from '../sandbox/provider-worker.js';
import { webhookRoutes } from './routes/webhooks.js';
import { startDeliveryWorker, type DeliveryOptions, type DeliveryWorker } from '../webhooks/delivery-worker.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface AppOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger?: Logger | false;
  /** Base URL for links handed out (session url, redirects). */
  readonly publicUrl: string;
  readonly bodyLimit?: number;
  /** Callback and webhook delivery settings (retry waits, timeout...); defaults as in §10. */
  readonly webhooks?: Partial<DeliveryOptions>;
}

export interface App {
  readonly server: FastifyInstance;
  readonly context: ServiceContext;
  /** Completes asynchronous provider operations as they fall due. */
  readonly providerWorker: ProviderWorker;
  /** Sends callbacks and webhooks from the outbox. */
  readonly deliveryWorker: DeliveryWorker;
}

/**
 * ajv-formats accepts leap seconds ("23:59:60Z"), which Date cannot represent; the services
 * turn timestamps into Dates, so a date-time must also be one Date can parse.
 */
const isRfc3339DateTime = addFormats(new Ajv()).compile<string>({ type: 'string', format: 'date-time' });

function addRequestFormats(ajv: Ajv): void {
  addFormats(ajv);
  // Replaced before anything is compiled with it (Ajv keeps the first definition it compiles against).
  ajv.addFormat('date-time', { type: 'string', validate: (value: string) => isRfc3339DateTime(value) && Number.isFinite(Date.parse(value)) });
}

function validatorCompilers() {
  // Bodies are never coerced: "100" and 1.5 are not amounts. Query strings and params are text by nature.
  const body = new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  const text = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: true, strict: false });
  addRequestFormats(body);
  addRequestFormats(text);
  return { body, text };
}

export async function buildApp(options: AppOptions): Promise<App> {
  const server = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler,
  }) as unknown as FastifyInstance;
  const compilers = validatorCompilers();
  server.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? compilers.body : compilers.text).compile(schema));

  // JSON bodies: the safe default parser (rejects __proto__ and constructor.prototype), but an
  // empty body is "no body" so that void and cancel accept a bare POST with a JSON content type.
  const parseJson = server.getDefaultJsonParser('error', 'error');
  server.removeContentTypeParser('application/json');
  // The API speaks JSON only: without Fastify's default text/plain parser a text body is a 415, not a string.
  server.removeContentTypeParser('text/plain');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, done);
  });
  // Hooks on every request are callback-style: an async hook costs a promise per request.
  server.addHook('onSend', (request, reply, payload, done) => {
    reply.header('request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    done(null, payload);
  });

  installErrorHandler(server);
  installAuditTrail(server);
  await server.register(swagger, {
    openapi: {
      info: { title: 'Kasse', description: "Self-hosted payment transactions speaking Dintero's Checkout API", version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });
  await server.register(swaggerUi, { routePrefix: '/docs' });

  const tokens = new TokenService(options.store, options.clock);
  const context = serviceContext(options.store, options.clock, options.publicUrl);
  installAuthentication(server, tokens);
  tokenRoutes(server, tokens, options.clock);
  sessionRoutes(server, context);
  transactionRoutes(server, context);
  checkoutPageRoutes(server, context);
  sandboxRoutes(server, context);
  backofficeRoutes(server, context);
  webhookRoutes(server, context);
  systemRoutes(server, options.store);
  const providerWorker = startProviderWorker(context, server.log);
  server.addHook('onClose', () => providerWorker.stop());
  const deliveryWorker = startDeliveryWorker(context, server.log, options.webhooks);
  server.addHook('onClose', () => deliveryWorker.stop());
  await server.ready();
  return { server, context, providerWorker, deliveryWorker };
}
