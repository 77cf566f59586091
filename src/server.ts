/** Starting the service: open the store, migrate, bootstrap, listen. */
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import { openStore } from './store/open-store.js';
import { bootstrap } from './services/accounts.js';
import { buildApp, type App } from './http/app.js';
import { systemClock, type Clock } from './clock.js';
import type { Store } from './store/store.js';

export interface RunningServer {
  readonly app: App;
  readonly store: Store;
  readonly url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: { clock?: Clock; logger?: Logger; print?: (line: string) => void } = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const store = await openStore(config.databaseUrl);
  const report = await bootstrap(store, config, clock.now().toISOString());
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
  // The public URL depends on the port actually bound when PORT=0, so the app is built after listen picks it.
  let publicUrl = config.publicUrl;
  const app = await buildApp({ store, clock, logger, publicUrl: publicUrl || 'http://pending' });
  await app.server.listen({ port: config.port, host: config.host });
  const bound = app.server.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : config.port;
  if (!publicUrl) {
    publicUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // Links name the port actually bound (PORT=0 picks one), known only after listen.
    (app.context as { publicUrl: string }).publicUrl = publicUrl;
  }
  logger.info({ port, publicUrl }, `Kasse listening on ${publicUrl}`);
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
