/** The `kasse` command. */
import { Command, InvalidArgumentError } from 'commander';
import { configFromEnv } from './config.js';
import { startServer } from './server.js';
import { isClusterWorker, runPrimary, workersRefusal } from './cluster.js';
import { openStore } from './store/open-store.js';
import { createAccount, createClient, createUser } from './services/accounts.js';
import { isKasseError } from './domain/errors.js';
import { ensureSigningKey } from './auth/tokens.js';

const program = new Command();
program.name('kasse').description("Self-hosted payment transactions speaking Dintero's Checkout API");

async function withStore<T>(fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(configFromEnv().databaseUrl);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function workerCount(text: string): number {
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > 256) throw new InvalidArgumentError('expected an integer from 1 to 256.');
  return count;
}

program
  .command('serve')
  .description('serve the API, the hosted checkout page and the backoffice')
  .option('--workers <n>', 'processes sharing the port (node cluster); PostgreSQL only', workerCount, 1)
  .action(async (options: { workers: number }) => {
    const config = configFromEnv();
    if (!isClusterWorker() && options.workers > 1) {
      const refusal = workersRefusal(config.databaseUrl);
      if (refusal !== undefined) {
        console.error(`kasse: ${refusal}`);
        process.exit(1);
      }
      await runPrimary(config, options.workers);
      return;
    }
    const server = await startServer(config, { setup: !isClusterWorker() });
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    await withStore(async (store) => {
      await store.withStartupLock(() => ensureSigningKey(store, new Date().toISOString()));
    });
    console.log('Migrations applied.');
  });

const account = program.command('account').description('manage accounts');
account
  .command('create')
  .description('create an account')
  .requiredOption('--id <id>', 'account id, T######## (sandbox) or P######## (production)')
  .option('--name <name>', 'display name')
  .action(async (options: { id: string; name?: string }) => {
    const created = await withStore((store) =>
      createAccount(store, { id: options.id, ...(options.name ? { name: options.name } : {}), now: new Date().toISOString() }),
    );
    console.log(created ? `Created account ${options.id}.` : `Account ${options.id} already exists.`);
  });

const client = program.command('client').description('manage API clients');
client
  .command('create')
  .description('create an API client; the secret is shown once')
  .requiredOption('--account <id>', 'account the client belongs to')
  .option('--scopes <scopes>', 'comma-separated: admin:checkout, write:checkout, read:checkout', 'admin:checkout')
  .option('--name <name>', 'display name')
  .action(async (options: { account: string; scopes: string; name?: string }) => {
    const result = await withStore((store) =>
      createClient(store, {
        accountId: options.account,
        scopes: options.scopes.split(',').map((scope) => scope.trim()),
        ...(options.name ? { name: options.name } : {}),
        now: new Date().toISOString(),
      }),
    );
    console.log(`client_id=${result.clientId}`);
    console.log(`client_secret=${result.secret}`);
  });

const user = program.command('user').description('manage backoffice users');
user
  .command('create')
  .description('create a backoffice user')
  .requiredOption('--email <email>', 'login email')
  .requiredOption('--account <ids>', 'comma-separated account ids the user may manage')
  .option('--password <password>', 'password (generated and shown once when omitted)')
  .action(async (options: { email: string; account: string; password?: string }) => {
    const result = await withStore((store) =>
      createUser(store, {
        email: options.email,
        accountIds: options.account.split(',').map((id) => id.trim()),
        ...(options.password ? { password: options.password } : {}),
        now: new Date().toISOString(),
      }),
    );
    if (!result.created) console.log(`User ${options.email} already exists.`);
    else console.log(options.password ? `Created user ${result.email}.` : `Created user ${result.email} with password ${result.password}`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(isKasseError(error) ? `kasse: ${error.message}` : error);
  process.exit(1);
});
