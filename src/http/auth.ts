/** Token endpoint and the bearer-token check every protected route runs before its body is read. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { KasseError, isKasseError } from '../domain/errors.js';
import type { Clock } from '../clock.js';
import { FailureThrottle } from './throttle.js';
import { allows, type Access, type Principal } from '../auth/scopes.js';
import { TOKEN_LIFETIME_SECONDS, type TokenService } from '../auth/tokens.js';
import { AccountParams, ErrorSchema, TokenRequestSchema, TokenSchema } from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: a bearer token with read or write access, or anyone. */
    access?: Access | 'public';
  }
}

export function installAuthentication(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('principal', null);
  // Callback-style: a token verified before is checked without a promise.
  app.addHook('onRequest', (request, _reply, done) => {
    const access = request.routeOptions.config?.access;
    if (access === undefined || access === 'public') return done();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (match === null) return done(new KasseError('UNAUTHORIZED'));
    // No closure on the common path (a token verified before): one per request shows in profiles.
    const known = tokens.verifiedBefore(match[1]!);
    if (known !== undefined) return done(admit(request, access, known));
    tokens.verify(match[1]!).then((principal) => done(admit(request, access, principal)), done);
  });
}

/** Sets the request's principal when its scopes allow `access`; else the refusal. */
function admit(request: FastifyRequest, access: Access, principal: Principal): KasseError | undefined {
  if (!allows(principal.scopes, access)) {
    return new KasseError('INSUFFICIENT_SCOPE', `This operation needs the ${access === 'write' ? 'write:checkout' : 'read:checkout'} scope.`);
  }
  request.principal = principal;
  return undefined;
}

function basicCredentials(request: FastifyRequest): { clientId: string; clientSecret: string } {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header) : null;
  if (match === null) throw new KasseError('INVALID_CLIENT', 'Send the client id and secret with HTTP Basic authentication.');
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new KasseError('INVALID_CLIENT');
  return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}

export function tokenRoutes(app: FastifyInstance, tokens: TokenService, clock: Clock): void {
  // Brute force on client secrets: 10 failures per client id, 50 per address, each per minute.
  const perClient = new FailureThrottle(clock, 10);
  const perAddress = new FailureThrottle(clock, 50);
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/accounts/:aid/auth/token',
    {
      config: { access: 'public' },
      schema: {
        tags: ['auth'],
        summary: 'Get an access token with client credentials',
        params: AccountParams,
        body: TokenRequestSchema,
        response: { 200: TokenSchema, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request) => {
      const { clientId, clientSecret } = basicCredentials(request);
      if (request.body.grant_type !== 'client_credentials') throw new KasseError('UNSUPPORTED_GRANT_TYPE');
      const accountId = request.params.aid;
      const audience = request.body.audience ?? `${request.protocol}://${request.host}/v1/accounts/${accountId}`;
      perAddress.check(request.ip);
      perClient.check(clientId);
      let accessToken: string;
      try {
        accessToken = await tokens.issue({ accountId, clientId, clientSecret, audience });
      } catch (error) {
        if (isKasseError(error) && error.code === 'INVALID_CLIENT') {
          perAddress.fail(request.ip);
          perClient.fail(clientId);
        }
        throw error;
      }
      return { access_token: accessToken, token_type: 'Bearer' as const, expires_in: TOKEN_LIFETIME_SECONDS };
    },
  );
}
