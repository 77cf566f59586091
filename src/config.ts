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
  };
}
