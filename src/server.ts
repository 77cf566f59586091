/** Starting the service: open the store, migrate, bootstrap, listen. */
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { openStore } from './store/open-store.js';
import { bootstrap, type BootstrapReport } from './services/accounts.js';
import { buildApp, type App } from './http/app.js';
import { systemClock, type Clock } from './clock.js';
import type { Store } from './store/store.js';

export interface RunningServer {
  readonly app: App;
  readonly store: Store;
  readonly url: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly print?: (line: string) => void;
  /** Migrate and bootstrap before listening (default). Cluster workers skip it: the primary did it. */
  readonly setup?: boolean;
}

function storeOptions(config: Config) {
  return {
    poolSize: config.databasePoolSize,
    statementTimeoutMs: config.databaseStatementTimeoutMs,
    preparedStatements: config.databasePreparedStatements,
  };
}

/** Opens the store, migrates and bootstraps, printing generated secrets once. */
export async function prepareStore(config: Config, options: Pick<ServerOptions, 'clock' | 'print'> = {}): Promise<Store> {
  const clock = options.clock ?? systemClock;
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const store = await openStore(config.databaseUrl, storeOptions(config));
  try {
    printBootstrapReport(await bootstrap(store, config, clock.now().toISOString()), config, print);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function printBootstrapReport(report: BootstrapReport, config: Config, print: (line: string) => void): void {
  if (report.accountCreated) print(`Created account ${config.accountId}.`);
  if (report.generatedClient) {
    print(`Created API client for ${config.accountId} (shown once, store it now):`);
    print(`  KASSE_CLIENT_ID=${report.generatedClient.clientId}`);
    print(`  KASSE_CLIENT_SECRET=${report.generatedClient.secret}`);
  } else if (report.createdClientId) {
    print(`Created API client ${report.createdClientId} for ${config.accountId}.`);
  }
  if (report.generatedUser) {
    print(`Created backoffice user (shown once): ${report.generatedUser.email} / ${report.generatedUser.password}`);
  } else if (report.createdUserEmail) {
    print(`Created backoffice user ${report.createdUserEmail}.`);
  }
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const store =
    options.setup === false
      ? await openStore(config.databaseUrl, { ...storeOptions(config), migrate: false })
      : await prepareStore(config, options);
  // The public URL depends on the port actually bound when PORT=0, so the app is built after listen picks it.
  let publicUrl = config.publicUrl;
  const app = await buildApp({ store, clock, logger, publicUrl: publicUrl || 'http://pending', ...(config.webhooks ? { webhooks: config.webhooks } : {}) });
  await app.server.listen({ port: config.port, host: config.host });
  const bound = app.server.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : config.port;
  if (!publicUrl) {
    publicUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // Links name the port actually bound (PORT=0 picks one), known only after listen.
    (app.context as { publicUrl: string }).publicUrl = publicUrl;
  }
  logger.info({ port, publicUrl }, `Kasse listening on ${publicUrl}`);
  (options.print ?? ((line: string) => process.stdout.write(`${line}\n`)))(`Kasse listening on ${publicUrl}`);
  return {
    app,
    store,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      await app.server.close();
      await store.close();
    },
  };
}
