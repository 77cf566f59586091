/**
 * Accounts, API clients and backoffice users, and the idempotent first-start bootstrap
 * (§1): missing things are added, existing secrets are never replaced.
 */
import { randomUUID } from 'node:crypto';
import { KasseError } from '../domain/errors.js';
import { accountIdPattern } from '../domain/ids.js';
import { isScope, type Scope } from '../auth/scopes.js';
import { generateSecret, hashSecret } from '../auth/secrets.js';
import { ensureSigningKey } from '../auth/tokens.js';
import type { Store } from '../store/store.js';

export async function createAccount(store: Store, input: { id: string; name?: string; now: string }): Promise<boolean> {
  if (!accountIdPattern.test(input.id)) throw new KasseError('INVALID_REQUEST', `Account id ${input.id} must match ^[PT]\\d{8}$.`);
  if (await store.getAccount(input.id)) return false;
  await store.insertAccount({ id: input.id, name: input.name ?? input.id, clockOffsetMs: 0, createdAt: input.now });
  return true;
}

/** Creates an API client; returns the secret, which is stored only as a hash. */
export async function createClient(
  store: Store,
  input: { accountId: string; clientId?: string; secret?: string; scopes?: readonly string[]; name?: string; now: string },
): Promise<{ clientId: string; secret: string; created: boolean }> {
  if (!(await store.getAccount(input.accountId))) throw new KasseError('NOT_FOUND', `Account ${input.accountId} does not exist.`);
  const scopes = input.scopes ?? ['admin:checkout'];
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length > 0) throw new KasseError('INVALID_REQUEST', `Unknown scopes: ${unknown.join(', ')}.`);
  const clientId = input.clientId ?? randomUUID();
  const existing = await store.getClient(clientId);
  if (existing) return { clientId, secret: '', created: false };
  const secret = input.secret ?? generateSecret();
  await store.insertClient({
    id: clientId,
    accountId: input.accountId,
    name: input.name ?? clientId,
    secretHash: await hashSecret(secret),
    scopes: scopes as Scope[],
    createdAt: input.now,
  });
  return { clientId, secret, created: true };
}

export async function createUser(
  store: Store,
  input: { email: string; password?: string; accountIds: readonly string[]; now: string },
): Promise<{ email: string; password: string; created: boolean }> {
  if (!/^[^@\s]+@[^@\s]+$/.test(input.email)) throw new KasseError('INVALID_REQUEST', 'The email address is not valid.');
  if (await store.getUserByEmail(input.email)) return { email: input.email, password: '', created: false };
  for (const accountId of input.accountIds) {
    if (!(await store.getAccount(accountId))) throw new KasseError('NOT_FOUND', `Account ${accountId} does not exist.`);
  }
  const password = input.password ?? generateSecret(12);
  await store.insertUser({
    id: randomUUID(),
    email: input.email,
    passwordHash: await hashSecret(password),
    accountIds: input.accountIds,
    createdAt: input.now,
  });
  return { email: input.email, password, created: true };
}

export interface BootstrapConfig {
  readonly accountId: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly adminEmail?: string;
  readonly adminPassword?: string;
}

export interface BootstrapReport {
  readonly accountCreated: boolean;
  /** Set when a client was created with a generated secret: print once. */
  readonly generatedClient?: { clientId: string; secret: string };
  readonly generatedUser?: { email: string; password: string };
  readonly createdClientId?: string;
  readonly createdUserEmail?: string;
}

/**
 * First-start bootstrap. With the default (no account in the database) it creates the
 * configured account with a client and a user; with explicit variables it adds whatever
 * they name that is missing.
 */
export function bootstrap(store: Store, config: BootstrapConfig, now: string): Promise<BootstrapReport> {
  // Processes starting together on one database take turns, so each thing is created once.
  return store.withStartupLock(() => bootstrapUnlocked(store, config, now));
}

async function bootstrapUnlocked(store: Store, config: BootstrapConfig, now: string): Promise<BootstrapReport> {
  await ensureSigningKey(store, now);
  const firstStart = (await store.listAccounts()).length === 0;
  const accountCreated = await createAccount(store, { id: config.accountId, now });
  const report: { -readonly [K in keyof BootstrapReport]: BootstrapReport[K] } = { accountCreated };
  if (config.clientId !== undefined || firstStart || accountCreated) {
    const client = await createClient(store, {
      accountId: config.accountId,
      ...(config.clientId ? { clientId: config.clientId } : {}),
      ...(config.clientSecret ? { secret: config.clientSecret } : {}),
      scopes: ['admin:checkout'],
      name: 'bootstrap',
      now,
    });
    if (client.created) {
      report.createdClientId = client.clientId;
      if (config.clientSecret === undefined) report.generatedClient = { clientId: client.clientId, secret: client.secret };
    }
  }
  if (config.adminEmail !== undefined || firstStart) {
    const user = await createUser(store, {
      email: config.adminEmail ?? 'admin@kasse.local',
      ...(config.adminPassword ? { password: config.adminPassword } : {}),
      accountIds: [config.accountId],
      now,
    });
    if (user.created) {
      report.createdUserEmail = user.email;
      if (config.adminPassword === undefined) report.generatedUser = { email: user.email, password: user.password };
    }
  }
  return report;
}
