/** Configuration from the environment (§1). The variable names are part of the contract. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly publicUrl: string;
  readonly accountId: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly adminEmail?: string;
  readonly adminPassword?: string;
  readonly logLevel: string;
  /** PostgreSQL only: connections per process (`DATABASE_POOL_SIZE`, default 10). */
  readonly databasePoolSize?: number;
  /** PostgreSQL only: per-statement timeout in ms, lock waits included (`DATABASE_STATEMENT_TIMEOUT_MS`, default 30000; 0 disables). */
  readonly databaseStatementTimeoutMs?: number;
  /** PostgreSQL only: prepare repeated queries by name (`DATABASE_PREPARED_STATEMENTS`, default on; off behind a transaction pooler). */
  readonly databasePreparedStatements?: boolean;
  /** Callback and webhook delivery: first retry wait, longest wait, per-attempt timeout (`KASSE_WEBHOOK_RETRY_BASE_MS`, `..._RETRY_MAX_MS`, `..._TIMEOUT_MS`). */
  readonly webhooks?: { readonly retryBaseMs?: number; readonly retryMaxMs?: number; readonly timeoutMs?: number };
}

function optionalInteger(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, not ${text}`);
  return value;
}

function optionalSwitch(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const text = env[name]?.toLowerCase();
  if (text === undefined || text === '') return undefined;
  if (['on', 'true', '1'].includes(text)) return true;
  if (['off', 'false', '0'].includes(text)) return false;
  throw new Error(`${name} must be on or off, not ${env[name]}`);
}

function webhookSettings(env: NodeJS.ProcessEnv): Config['webhooks'] {
  const retryBaseMs = optionalInteger(env, 'KASSE_WEBHOOK_RETRY_BASE_MS', 0);
  const retryMaxMs = optionalInteger(env, 'KASSE_WEBHOOK_RETRY_MAX_MS', 0);
  const timeoutMs = optionalInteger(env, 'KASSE_WEBHOOK_TIMEOUT_MS', 1);
  return {
    ...(retryBaseMs === undefined ? {} : { retryBaseMs }),
    ...(retryMaxMs === undefined ? {} : { retryMaxMs }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  };
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer 0-65535, not ${env.PORT}`);
  const host = env.HOST || '127.0.0.1';
  const optional = (name: string) => (env[name] === undefined || env[name] === '' ? {} : { [name]: env[name] as string });
  const o = { ...optional('KASSE_CLIENT_ID'), ...optional('KASSE_CLIENT_SECRET'), ...optional('KASSE_ADMIN_EMAIL'), ...optional('KASSE_ADMIN_PASSWORD') };
  return {
    port,
    host,
    databaseUrl: env.DATABASE_URL || 'sqlite:data/kasse.db',
    publicUrl: env.KASSE_PUBLIC_URL || '',
    accountId: env.KASSE_ACCOUNT_ID || 'T00000001',
    ...(o.KASSE_CLIENT_ID ? { clientId: o.KASSE_CLIENT_ID } : {}),
    ...(o.KASSE_CLIENT_SECRET ? { clientSecret: o.KASSE_CLIENT_SECRET } : {}),
    ...(o.KASSE_ADMIN_EMAIL ? { adminEmail: o.KASSE_ADMIN_EMAIL } : {}),
    ...(o.KASSE_ADMIN_PASSWORD ? { adminPassword: o.KASSE_ADMIN_PASSWORD } : {}),
    logLevel: env.LOG_LEVEL || 'info',
    databasePoolSize: optionalInteger(env, 'DATABASE_POOL_SIZE', 2),
    databaseStatementTimeoutMs: optionalInteger(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 0),
    databasePreparedStatements: optionalSwitch(env, 'DATABASE_PREPARED_STATEMENTS'),
    webhooks: webhookSettings(env),
  };
}
