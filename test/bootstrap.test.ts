/**
 * §1 as a user meets it: `kasse serve` from the bin entry in an empty directory creates
 * the database, bootstraps an account, client and user (secrets printed once), serves
 * /healthz, and a second start with the same variables changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(fileURLToPath(new URL('../bin/kasse.js', import.meta.url)));

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

function serve(cwd: string, env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"publicUrl":"(http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

function stop(started: Started): Promise<void> {
  return new Promise((resolvePromise) => {
    started.child.removeAllListeners('exit');
    started.child.on('exit', () => resolvePromise());
    started.child.kill('SIGTERM');
  });
}

async function token(url: string, accountId: string, clientId: string, secret: string): Promise<Response> {
  return fetch(`${url}/v1/accounts/${accountId}/auth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', audience: `https://api.example.com/v1/accounts/${accountId}` }),
  });
}

test('first start bootstraps once; a restart with the same variables changes nothing', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kasse-boot-'));
  try {
    const first = await serve(cwd);
    assert.ok(existsSync(join(cwd, 'data', 'kasse.db')), 'the default database is ./data/kasse.db');
    const health = await fetch(`${first.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const clientId = /KASSE_CLIENT_ID=(\S+)/.exec(first.output())?.[1];
    const secret = /KASSE_CLIENT_SECRET=(\S+)/.exec(first.output())?.[1];
    assert.ok(clientId && secret, `credentials printed:\n${first.output()}`);
    assert.match(first.output(), /Created backoffice user \(shown once\): admin@kasse\.local \/ \S+/);
    const issued = await token(first.url, 'T00000001', clientId!, secret!);
    assert.equal(issued.status, 200);
    const body = (await issued.json()) as { token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 14400);
    await stop(first);

    const second = await serve(cwd);
    assert.doesNotMatch(second.output(), /KASSE_CLIENT_SECRET=|Created /, 'nothing is created or printed on restart');
    assert.equal((await token(second.url, 'T00000001', clientId!, secret!)).status, 200, 'the secret was not replaced');
    await stop(second);

    const third = await serve(cwd, { KASSE_ACCOUNT_ID: 'T00000002', KASSE_CLIENT_ID: 'ci-client', KASSE_CLIENT_SECRET: 'ci-secret' });
    assert.match(third.output(), /Created account T00000002/);
    assert.doesNotMatch(third.output(), /ci-secret/, 'a configured secret is never printed');
    assert.equal((await token(third.url, 'T00000002', 'ci-client', 'ci-secret')).status, 200);
    assert.equal((await token(third.url, 'T00000001', clientId!, secret!)).status, 200, 'the first account keeps its client');
    await stop(third);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('kasse account/client/user create and migrate work from the command line', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kasse-cli-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env } });
    assert.equal(run('migrate').status, 0);
    const account = run('account', 'create', '--id', 'T12345678');
    assert.equal(account.status, 0, account.stderr);
    assert.match(account.stdout, /Created account T12345678/);
    const client = run('client', 'create', '--account', 'T12345678', '--scopes', 'read:checkout');
    assert.equal(client.status, 0, client.stderr);
    assert.match(client.stdout, /client_secret=\S{20,}/);
    const user = run('user', 'create', '--email', 'staff@example.com', '--account', 'T12345678', '--password', 'correct horse');
    assert.equal(user.status, 0, user.stderr);
    const bad = run('account', 'create', '--id', 'X1');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /must match/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
