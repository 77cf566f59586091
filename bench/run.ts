/**
 * The benchmark harness (`npm run bench`): starts Kasse on a fresh database, prepares
 * authorized transactions through the API, then measures capture, refund, GET and list
 * with autocannon, and in the same run a bare Fastify route in a separate process as the
 * ceiling. Every figure is also printed as a ratio of the ceiling. SQLite and PostgreSQL.
 *
 * Options (env): BENCH_SECONDS (default 10), BENCH_CONNECTIONS (32), BENCH_STORES
 * (`sqlite,postgres`), BENCH_LIST_ROWS (1000000), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/postgres),
 * BENCH_PROFILE=<dir> (write a V8 CPU profile of each Kasse server there; see bench/profile-summary.ts),
 * BENCH_PG_SOCKET (directory of the server's Unix socket, default /var/run/postgresql; `none` for TCP),
 * BENCH_SQLITE_SEEDED (a database made by bench/seed-transactions.ts to copy instead of seeding),
 * BENCH_PG_SEEDED (a PostgreSQL database seeded by bench/seed-postgres.ts to copy instead of seeding),
 * BENCH_PHASES (`list,capture,capture-keyed,refund,get,list-after,bare-capture`, plus `floor`: measure only these, e.g. to profile one of them;
 * `list` runs before the writes, `list-after` after them, `bare-capture` (bench/bare-capture-server.ts on a database of its own) after Kasse has stopped),
 * BENCH_PG_WORKERS=<n> (serve PostgreSQL with `kasse serve --workers n`; CPU and RSS are summed over the server's processes).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type Result } from 'autocannon';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const stores = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',');
const listRows = Number(process.env.BENCH_LIST_ROWS ?? 1_000_000);
const phases = new Set((process.env.BENCH_PHASES ?? 'list,capture,capture-keyed,refund,get,list-after,bare-capture').split(','));
const pgSocket = process.env.BENCH_PG_SOCKET ?? '/var/run/postgresql';
const pgAdminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret';
const ACCOUNT = 'T00000001';

interface Figure {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly rssMb?: number;
  /** Server CPU time (user + system) per answered request, in microseconds. */
  cpuUs?: number;
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

function start(command: string[], env: Record<string, string>, ready: RegExp): Promise<Server> {
  const child = spawn(process.execPath, command, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1]!,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
}

/** The process and its descendants (a `--workers` primary's workers), from the parent ids in /proc. */
function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]));
    } catch {
      // The process has gone.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i += 1) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  return tree;
}

/** Peak resident set size (VmHWM) of the server's processes so far, summed, in MB. */
function peakRssMb(tree: readonly number[]): number | undefined {
  let kb = 0;
  for (const member of tree) {
    try {
      kb += Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${member}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // The process has gone.
    }
  }
  return kb > 0 ? Math.round(kb / 1024) : undefined;
}

/** CPU time (user + system) the server's processes have used so far, in microseconds. */
function cpuMicros(tree: readonly number[]): number {
  let ticks = 0;
  for (const member of tree) {
    try {
      const fields = readFileSync(`/proc/${member}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process has gone.
    }
  }
  return (ticks * 1e6) / 100;
}

interface BenchRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

async function load(name: string, url: string, requests: () => BenchRequest, headers: Record<string, string>, pid?: number): Promise<Figure> {
  // The server's processes, found once: the scan of /proc is not repeated around the measurement.
  const tree = pid === undefined ? undefined : processTree(pid);
  const cpuBefore = tree && cpuMicros(tree);
  // BENCH_PERF=<dir>: a `perf record` of the server during each measurement (needs linux-perf).
  const perf =
    process.env.BENCH_PERF && pid !== undefined
      ? spawn('perf', ['record', '-F', '999', '-g', '-p', String(pid), '-o', join(process.env.BENCH_PERF, `${name.split(' (')[0]!.trim().replace(/ /g, '-')}.perf.data`)], { stdio: 'ignore' })
      : undefined;
  const result: Result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers,
    requests: [
      {
        setupRequest: (request) => {
          const next = requests();
          return {
            ...request,
            method: next.method as 'GET',
            path: next.path,
            ...(next.body ? { body: next.body } : {}),
            ...(next.headers ? { headers: { ...request.headers, ...next.headers } } : {}),
          };
        },
      },
    ],
  });
  const rssMb = tree && peakRssMb(tree);
  const figure: Figure = {
    name,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ...(rssMb !== undefined ? { rssMb } : {}),
  };
  const cpuAfter = tree && cpuMicros(tree);
  if (perf) await new Promise((done) => (perf.once('exit', done), perf.kill('SIGINT')));
  const served = result.requests.total;
  const cpuPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && served > 0 ? Math.round((cpuAfter - cpuBefore) / served) : undefined;
  if (cpuPerRequest !== undefined) figure.cpuUs = cpuPerRequest;
  process.stdout.write(`  ${name}: ${figure.rps} req/s, p50 ${figure.p50} ms, p99 ${figure.p99} ms, non-2xx ${figure.non2xx}${cpuPerRequest !== undefined ? `, server CPU ${cpuPerRequest} µs/request` : ''}\n`);
  return figure;
}

async function json(url: string, init: RequestInit): Promise<any> {
  const response = await fetch(url, init);
  const body = await response.json();
  if (!response.ok) throw new Error(`${init.method} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function token(base: string): Promise<string> {
  const body = await json(`${base}/v1/accounts/${ACCOUNT}/auth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', audience: `${base}/v1/accounts/${ACCOUNT}` }),
  });
  return body.access_token;
}

/** Authorized transactions with a large amount, so each can take thousands of 1-unit captures. */
async function prepare(base: string, bearer: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const batch = 16;
  for (let i = 0; i < count; i += batch) {
    const made = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, async (_, j) => {
        const session = await json(`${base}/v1/sessions-profile`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            profile_id: 'default',
            url: { return_url: 'https://shop.example/return' },
            order: { amount: 1_000_000_000, currency: 'NOK', merchant_reference: `bench-${i + j}`, items: [{ line_id: '1', amount: 1_000_000_000, quantity: 1 }] },
          }),
        });
        const paid = await json(`${base}/v1/sessions/${session.id}/pay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ payment_product_type: 'klarna.klarna' }),
        });
        return paid.transaction_id as string;
      }),
    );
    ids.push(...made);
  }
  return ids;
}

function roundRobin<T>(values: readonly T[]): () => T {
  let index = 0;
  return () => values[index++ % values.length]!;
}

async function freshPostgresUrl(template: string | undefined): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const name = `kasse_bench_${Date.now().toString(36)}`;
  await admin.query(template ? `CREATE DATABASE ${name} TEMPLATE ${pg.escapeIdentifier(template)}` : `CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  // Kasse reaches the local server over its Unix socket, as a same-machine deployment would.
  if (pgSocket !== 'none' && existsSync(pgSocket)) url.searchParams.set('host', pgSocket);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: pgAdminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function flushToDisk(postgresUrl: string | undefined): Promise<void> {
  if (postgresUrl !== undefined) {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query('CHECKPOINT').catch(() => undefined); // needs a superuser; the sync below still runs
    await client.end();
  }
  execFileSync('sync');
}

/** Seeds `listRows` transactions straight into the fresh database (bench/seed-*.ts). */
async function seedList(args: string[], seeder: string, env: Record<string, string>): Promise<void> {
  process.stdout.write(`  seeding ${listRows.toLocaleString('en')} transactions for the list benchmark...\n`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', seeder), '--count', String(listRows), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`seeder exited ${code}`))));
  });
}

async function benchStore(store: string): Promise<Figure[] | undefined> {
  const figures = await benchKasse(store);
  if (figures !== undefined && phases.has('bare-capture')) figures.push(await measureBareCapture(store));
  return figures;
}

/**
 * The bare durable capture (bench/bare-capture-server.ts) on a database of its own, after
 * Kasse has stopped: the same captures of 1 unit rotating over 2 000 transactions.
 */
async function measureBareCapture(store: string): Promise<Figure> {
  const dir = mkdtempSync(join(tmpdir(), 'kasse-bare-'));
  const fresh = store === 'postgres' ? await freshPostgresUrl(undefined) : undefined;
  const env = { DATABASE_URL: fresh?.url ?? `sqlite:${join(dir, 'bare.db')}`, BARE_TRANSACTIONS: '2000' };
  const server = await start(['--import', 'tsx', 'bench/bare-capture-server.ts'], env, /listening (http:\/\/\S+)/);
  try {
    const ids = (await json(`${server.url}/bare`, {})) as string[];
    const next = roundRobin(ids);
    const capture = () => ({ method: 'POST', path: `/bare/${next()}/capture`, body: '{"amount":1}' });
    return await load('bare durable capture (bench/bare-capture-server.ts)', server.url, capture, { 'content-type': 'application/json' }, server.child.pid);
  } finally {
    await server.stop();
    await fresh?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Kasse's measurements on one store. */
async function benchKasse(store: string): Promise<Figure[] | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'kasse-bench-'));
  let databaseUrl = `sqlite:${join(dir, 'kasse.db')}`;
  let drop: (() => Promise<void>) | undefined;
  if (store === 'postgres') {
    // BENCH_PG_SEEDED=<database>: a copy of a database seeded earlier by bench/seed-postgres.ts.
    const fresh = await freshPostgresUrl(process.env.BENCH_PG_SEEDED);
    if (!fresh) {
      process.stdout.write('PostgreSQL: no server reachable, skipped\n');
      return undefined;
    }
    databaseUrl = fresh.url;
    drop = fresh.drop;
  }
  const env = { PORT: '0', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', KASSE_CLIENT_ID: CLIENT_ID, KASSE_CLIENT_SECRET: CLIENT_SECRET };
  process.stdout.write(`${store}:\n`);
  // The list is measured on `listRows` seeded transactions (plus the prepared ones).
  const seeded = listRows > 0;
  // BENCH_SQLITE_SEEDED=<file>: a copy of a database seeded earlier (same seeder) instead of seeding anew.
  const reuse = process.env.BENCH_SQLITE_SEEDED;
  if (seeded && store === 'sqlite' && reuse) copyFileSync(reuse, join(dir, 'kasse.db'));
  else if (seeded && store === 'sqlite') await seedList(['--file', join(dir, 'kasse.db')], 'seed-transactions.ts', {});
  if (seeded && store === 'postgres' && !process.env.BENCH_PG_SEEDED) await seedList([], 'seed-postgres.ts', { DATABASE_URL: databaseUrl });
  // Measure after the seeding's writes have reached the disk: the kernel's write-back of a
  // freshly written gigabyte would otherwise compete with the measured commits' fsyncs.
  if (seeded) await flushToDisk(store === 'postgres' ? databaseUrl : undefined);
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  if (process.env.BENCH_PERF) profile.push('--perf-basic-prof-only-functions');
  // BENCH_PG_WORKERS=<n>: PostgreSQL served by `kasse serve --workers n` (processes sharing the port).
  const workers = store === 'postgres' ? Number(process.env.BENCH_PG_WORKERS ?? 1) : 1;
  const serve = ['bin/kasse.js', 'serve', ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const server = await start([...profile, ...serve], env, /Kasse listening on (http:\/\/\S+)/);
  const base = server.url;
  try {
    const bearer = await token(base);
    const headers = { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' };
    // GETs read typical authorized transactions (two events); captures and refunds pile onto others.
    const getIds = await prepare(base, bearer, 500);
    const ids = await prepare(base, bearer, 2000);
    const pid = server.child.pid;
    const figures: Figure[] = [];
    // The list first, on the seeded rows and the prepared ones as they are: a few events each.
    const filters = ['status=AUTHORIZED', 'payment_product_type=klarna.klarna', 'currency=NOK&status=CAPTURED', 'merchant_reference=bench-7', 'amount.gte=50000&limit=25'];
    const nextFilter = roundRobin(filters);
    const list = () => ({ method: 'GET', path: `/v1/transactions?${nextFilter()}` });
    if (phases.has('list')) figures.push(await load(`list (filters, ${seeded ? listRows.toLocaleString('en') : ids.length} rows)`, base, list, headers, pid));
    const nextCapture = roundRobin(ids);
    if (phases.has('capture')) figures.push(await load('capture', base, () => ({ method: 'POST', path: `/v1/transactions/${nextCapture()}/capture`, body: '{"amount":1}' }), headers, pid));
    // BENCH_PHASES=capture-keyed: captures as careful clients send them, each with its own Idempotency-Key.
    let keys = 0;
    if (phases.has('capture-keyed')) {
      const capture = () => ({
        method: 'POST',
        path: `/v1/transactions/${nextCapture()}/capture`,
        body: '{"amount":1}',
        headers: { 'idempotency-key': `bench-${process.pid}-${++keys}` },
      });
      figures.push(await load('capture with idempotency keys', base, capture, headers, pid));
    }
    // Refunds need captured money on every transaction: capture a large part of each first.
    for (let i = 0; phases.has('refund') && i < ids.length; i += 32) {
      await Promise.all(
        ids.slice(i, i + 32).map((id) => json(`${base}/v1/transactions/${id}/capture`, { method: 'POST', headers, body: '{"amount":500000000}' })),
      );
    }
    const nextRefund = roundRobin(ids);
    if (phases.has('refund')) figures.push(await load('refund', base, () => ({ method: 'POST', path: `/v1/transactions/${nextRefund()}/refund`, body: '{"amount":1}' }), headers, pid));
    // The app's own floor: a public route through every hook Kasse installs (BENCH_PHASES=floor).
    if (phases.has('floor')) figures.push(await load('floor (GET /healthz)', base, () => ({ method: 'GET', path: '/healthz' }), {}, pid));
    const nextGet = roundRobin(getIds);
    if (phases.has('get')) figures.push(await load('get', base, () => ({ method: 'GET', path: `/v1/transactions/${nextGet()}` }), headers, pid));
    // The list again, now that the write phases have piled their events onto the benchmark's own
    // transactions, the newest rows and so on every first page (dozens of events each).
    if (phases.has('list-after')) figures.push(await load(`list after the writes (newest ${ids.length.toLocaleString('en')} rows carry their events)`, base, list, headers, pid));
    const metrics = await fetch(`${base}/metrics`).then((response) => response.text());
    const commits = Number(/^kasse_store_commits (\d+)/m.exec(metrics)?.[1] ?? 0);
    const committed = Number(/^kasse_store_committed_transactions (\d+)/m.exec(metrics)?.[1] ?? 0);
    if (commits > 0) process.stdout.write(`  group commit: ${committed} storage transactions in ${commits} commits (mean ${(committed / commits).toFixed(1)})\n`);
    const written = Number(/^kasse_store_optimistic_changes\{outcome="written"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    const ranLocked = Number(/^kasse_store_optimistic_changes\{outcome="ran_locked"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    const statements = Number(/^kasse_store_optimistic_statements (\d+)/m.exec(metrics)?.[1] ?? 0);
    if (written + ranLocked > 0) {
      const mean = statements > 0 ? ` by ${statements} statements (mean batch ${(written / statements).toFixed(1)})` : '';
      process.stdout.write(`  optimistic changes: ${written} written${mean}, ${ranLocked} run locked after all\n`);
    }
    return figures;
  } finally {
    await server.stop();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

function ratio(value: number, ceiling: number): string {
  return (value / ceiling).toFixed(2);
}

async function measureCeiling(): Promise<Figure> {
  const ceilingServer = await start(['--import', 'tsx', 'bench/ceiling-server.ts'], {}, /listening (http:\/\/\S+)/);
  try {
    return await load('ceiling', ceilingServer.url, () => ({ method: 'GET', path: '/ceiling' }), {}, ceilingServer.child.pid);
  } finally {
    await ceilingServer.stop();
  }
}

function row(store: string, figure: Figure, ceiling: Figure): string {
  return `| ${store} | ${figure.name} | ${figure.rps} | ${ratio(figure.rps, ceiling.rps)} | ${figure.p50} | ${figure.p99} | ${figure.p999} | ${figure.non2xx + figure.errors} | ${figure.cpuUs ?? ''} | ${figure.rssMb ?? ''} |`;
}

async function main(): Promise<void> {
  process.stdout.write(`Kasse benchmark: ${connections} connections, ${seconds} s per measurement\n`);
  // The ceiling is measured before and after the stores; ratios use the higher of the two, so a
  // moment of noise on a shared machine cannot flatter them.
  process.stdout.write('ceiling (bare Fastify route, separate process):\n');
  const before = await measureCeiling();

  const results = new Map<string, Figure[]>();
  for (const store of stores) {
    const figures = await benchStore(store);
    if (figures) results.set(store, figures);
  }
  process.stdout.write('ceiling again:\n');
  const after = { ...(await measureCeiling()), name: 'ceiling (again, after)' };
  const ceiling = after.rps > before.rps ? after : before;

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  const lines = [
    `Machine: ${machine}. Load generator (autocannon, ${connections} connections, ${seconds} s each) on the same machine.`,
    'Ratios are to the higher of the two ceiling measurements; server CPU is user + system time of the server process per answered request.',
    '',
    '| store | measurement | req/s | × ceiling | p50 ms | p99 ms | p99.9 ms | non-2xx | server CPU µs/req | peak RSS MB |',
    '|---|---|---|---|---|---|---|---|---|---|',
    row('—', before, ceiling),
  ];
  for (const [store, figures] of results) for (const figure of figures) lines.push(row(store, figure, ceiling));
  lines.push(row('—', after, ceiling));
  const table = lines.join('\n');
  process.stdout.write(`\n${table}\n`);
  if (process.env.BENCH_WRITE !== '0') writeFileSync(join(root, 'bench', 'last-run.md'), `${table}\n`);
}

await main();
