#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node:test through tsx, then the HTTP
// suites (test/ files that start the harness) a second time on PostgreSQL: the local
// server (KASSE_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres)
// in a fresh database created and dropped here, or PGlite in-process when no server answers.
// (node --test on Node 20 does not expand globs, so the file lists are built here.)
//
//   node scripts/run-tests.js               everything, both passes
//   node scripts/run-tests.js FILE...       just those files, on the default engine
//   KASSE_TEST_POSTGRES_PASS=0 npm test     skip the second pass
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

function find(dir) {
  let files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) files = files.concat(find(path));
    else if (name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

function runTests(files, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
      { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', ...env } },
    );
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function onServer(url, statement) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A fresh database on the server, or PGlite when none is reachable. */
async function postgresForRun() {
  const serverUrl = process.env.KASSE_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `kasse_test_${randomBytes(6).toString('hex')}`;
  try {
    await onServer(serverUrl, `create database ${name}`);
  } catch (error) {
    return { url: 'pglite:', label: `PGlite in-process (no PostgreSQL server at ${new URL(serverUrl).host}: ${error.message})`, drop: async () => {} };
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    label: `the PostgreSQL server at ${url.host}, database ${name}`,
    drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : [...find('src'), ...find('test')].sort();
const first = await runTests(files);

// The HTTP suites once more on PostgreSQL; browser suites test the page, not the engine.
const httpSuites = files.filter(
  (file) => file.startsWith('test') && !file.endsWith('.browser.test.ts') && readFileSync(file, 'utf8').includes('startHarness('),
);
let second = 0;
if (only.length === 0 && process.env.KASSE_TEST_POSTGRES_PASS !== '0' && httpSuites.length > 0) {
  const database = await postgresForRun();
  const dropOnSignal = () => database.drop().finally(() => process.exit(130));
  process.once('SIGINT', dropOnSignal);
  process.once('SIGTERM', dropOnSignal);
  console.log(`\n# HTTP suites again on PostgreSQL: ${database.label}\n`);
  try {
    // The fuzz suite's 10 000 requests ran on SQLite already; a fifth of them is enough to
    // catch an input that only PostgreSQL refuses, at a fifth of the time.
    second = await runTests(httpSuites, { KASSE_TEST_DATABASE_URL: database.url, KASSE_FUZZ_RUNS: process.env.KASSE_FUZZ_RUNS ?? '2000' });
  } finally {
    await database.drop();
  }
}
process.exit(first !== 0 ? first : second);
