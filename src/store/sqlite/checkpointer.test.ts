import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { startCheckpointer } from './checkpointer.js';

/**
 * The rows the database file itself holds, without its WAL: what checkpoints have copied.
 * A copy taken while a checkpoint writes into the file can be torn (pages from before and
 * after); it is then read again.
 */
function rowsInDatabaseFile(dir: string, file: string): number {
  for (let attempt = 1; ; attempt += 1) {
    const copy = join(dir, `copy-${Math.random()}.db`);
    copyFileSync(file, copy);
    const database = new BetterSqlite3(copy, { readonly: true });
    try {
      return (database.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 20 || (code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB')) throw error;
    } finally {
      database.close();
    }
  }
}

/** A WAL database with a table `t` in a fresh directory, and its writing connection. */
function walDatabase() {
  const dir = mkdtempSync(join(tmpdir(), 'kasse-checkpoint-'));
  const file = join(dir, 'kasse.db');
  const writer = new BetterSqlite3(file);
  writer.pragma('journal_mode = WAL');
  writer.pragma('synchronous = FULL');
  writer.exec('CREATE TABLE t (n INTEGER)');
  return { dir, file, writer };
}

test('the checkpoint thread copies committed WAL frames into the database file while the writer goes on', async () => {
  const { dir, file, writer } = walDatabase();
  // No checkpoint by the writer at all: whatever reaches the database file was copied by the thread.
  writer.pragma('wal_autocheckpoint = 0');
  writer.pragma('wal_checkpoint(TRUNCATE)');
  assert.equal(rowsInDatabaseFile(dir, file), 0);
  const errors: string[] = [];
  const checkpointer = startCheckpointer(file, { idleMs: 5, onError: (message) => errors.push(message) });
  try {
    const insert = writer.prepare('INSERT INTO t (n) VALUES (?)');
    for (let n = 0; n < 500; n += 1) {
      insert.run(n);
      if (n % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 10_000;
    while (rowsInDatabaseFile(dir, file) < 500) {
      assert.ok(Date.now() < deadline, 'the database file never received the committed rows');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(errors, []);
  } finally {
    await checkpointer.stop();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stopped checkpoint thread has closed its connection: the writer can take the database exclusively', async () => {
  const { dir, file, writer } = walDatabase();
  const checkpointer = startCheckpointer(file, { idleMs: 5 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await checkpointer.stop();
  // Leaving WAL mode needs every other connection gone.
  assert.equal(writer.pragma('journal_mode = DELETE', { simple: true }), 'delete');
  writer.close();
  rmSync(dir, { recursive: true, force: true });
});
