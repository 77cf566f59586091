/**
 * `kasse serve --workers N` is refused on SQLite. (On PostgreSQL it is exercised by
 * cross-process-race.test.ts, where a cluster is one of the racing servers.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(fileURLToPath(new URL('../bin/kasse.js', import.meta.url)));

test('--workers is refused on SQLite with a clear message, before touching the database', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'kasse-workers-'));
  try {
    const run = spawnSync(process.execPath, [bin, 'serve', '--workers', '2'], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, PORT: '0', DATABASE_URL: 'sqlite:data/kasse.db' },
      timeout: 30_000,
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /--workers needs a PostgreSQL DATABASE_URL/);
    assert.equal(existsSync(join(cwd, 'data')), false, 'no database file was created');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
