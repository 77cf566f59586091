/**
 * Access tokens: ES256 JWTs signed with keys kept in the database (so every process
 * shares them), issued for client credentials and verified on every API call.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify, decodeProtectedHeader, type JWTPayload, type CryptoKey } from 'jose';
import { KasseError } from '../domain/errors.js';
import type { Repositories, Store } from '../store/store.js';
import { verifySecret } from './secrets.js';
import type { Principal } from './scopes.js';
import type { Clock } from '../clock.js';

export const TOKEN_LIFETIME_SECONDS = 14400;
const ISSUER = 'kasse';
const ALG = 'ES256';
// Verified against when the client id is unknown, so timing does not reveal which ids exist.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

interface LoadedKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

/**
 * Creates the first signing key if the database has none. Check-then-insert: processes that
 * may start together call it under `store.withStartupLock` (bootstrap and `kasse migrate` do).
 */
export async function ensureSigningKey(repos: Repositories, now: string): Promise<void> {
  if ((await repos.listSigningKeys()).length > 0) return;
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  await repos.insertSigningKey({
    kid: randomUUID(),
    alg: ALG,
    privateJwk: JSON.stringify(await exportJWK(privateKey)),
    publicJwk: JSON.stringify(await exportJWK(publicKey)),
    createdAt: now,
  });
}

/** The audience's path must name the account in the URL; its origin is the caller's business. */
export function audienceNamesAccount(audience: string, accountId: string): boolean {
  let path: string;
  try {
    path = new URL(audience).pathname;
  } catch {
    return false;
  }
  return path.replace(/\/+$/, '').endsWith(`/v1/accounts/${accountId}`);
}

export class TokenService {
  private keys = new Map<string, LoadedKey>();
  private verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private async loadKeys(): Promise<void> {
    for (const record of await this.store.listSigningKeys()) {
      if (this.keys.has(record.kid)) continue;
      this.keys.set(record.kid, {
        kid: record.kid,
        privateKey: (await importJWK(JSON.parse(record.privateJwk), ALG)) as CryptoKey,
        publicKey: (await importJWK(JSON.parse(record.publicJwk), ALG)) as CryptoKey,
      });
    }
  }

  private async key(kid?: string): Promise<LoadedKey | undefined> {
    if (kid === undefined ? this.keys.size === 0 : !this.keys.has(kid)) await this.loadKeys();
    if (kid !== undefined) return this.keys.get(kid);
    return [...this.keys.values()].at(-1);
  }

  /** Client-credentials grant for one account. */
  async issue(input: { accountId: string; clientId: string; clientSecret: string; audience: string }): Promise<string> {
    const client = await this.store.getClient(input.clientId);
    const secretMatches = await verifySecret(input.clientSecret, client?.secretHash ?? DUMMY_HASH);
    if (client === undefined || !secretMatches || client.accountId !== input.accountId) throw new KasseError('INVALID_CLIENT');
    if (!audienceNamesAccount(input.audience, input.accountId)) throw new KasseError('INVALID_AUDIENCE');
    const key = await this.key();
    if (key === undefined) throw new Error('No signing key in the database; run migrations and bootstrap first.');
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    return new SignJWT({ scope: client.scopes.join(' '), aid: input.accountId })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(client.id)
      .setAudience(input.audience)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + TOKEN_LIFETIME_SECONDS)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  /** The principal of a token this process has verified already and that has not expired since. */
  verifiedBefore(token: string): Principal | undefined {
    const cached = this.verified.get(token);
    return cached !== undefined && cached.expiresAtMs > this.clock.now().getTime() ? cached.principal : undefined;
  }

  /** Verifies a bearer token; throws UNAUTHORIZED for anything short of a valid, unexpired token. */
  async verify(token: string): Promise<Principal> {
    const nowMs = this.clock.now().getTime();
    const known = this.verifiedBefore(token);
    if (known !== undefined) return known;
    let payload: JWTPayload;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== ALG || typeof header.kid !== 'string') throw new Error('unexpected header');
      const key = await this.key(header.kid);
      if (key === undefined) throw new Error('unknown key');
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [ALG],
        issuer: ISSUER,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', 'sub', 'aud'],
      }));
    } catch {
      throw new KasseError('UNAUTHORIZED', 'The bearer token is missing, malformed, expired or not signed by this server.');
    }
    const accountId = payload.aid;
    const audience = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    if (typeof accountId !== 'string' || typeof payload.sub !== 'string' || typeof audience !== 'string' || !audienceNamesAccount(audience, accountId)) {
      throw new KasseError('UNAUTHORIZED');
    }
    const principal: Principal = {
      accountId,
      actor: payload.sub,
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
    };
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(token, { principal, expiresAtMs: (payload.exp ?? 0) * 1000 });
    return principal;
  }
}
