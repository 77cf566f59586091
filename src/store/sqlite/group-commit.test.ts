import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommitter, type SqlExecutor } from './group-commit.js';

/** A fake database that records what happens, in order. */
function recorder(options: { failCommit?: boolean } = {}) {
  const log: string[] = [];
  let open = false;
  const db: SqlExecutor = {
    exec(sql: string) {
      if (sql === 'COMMIT' && options.failCommit) throw new Error('disk I/O error');
      log.push(sql);
      if (sql.startsWith('BEGIN')) open = true;
      if (sql === 'COMMIT' || sql === 'ROLLBACK') open = false;
      return undefined;
    },
    get inTransaction() {
      return open;
    },
  };
  return { db, log };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('jobs that arrive together share one commit; none settles before its COMMIT', async () => {
  const { db, log } = recorder();
  const committer = new GroupCommitter(db, {});
  const answers = ['a', 'b', 'c'].map((name) =>
    committer
      .run(async () => {
        log.push(`run ${name}`);
        return name;
      })
      .then((value) => log.push(`answer ${value}`)),
  );
  await Promise.all(answers);
  assert.deepEqual(log.slice(0, 1), ['BEGIN IMMEDIATE']);
  assert.equal(log.filter((line) => line === 'COMMIT').length, 1);
  const commit = log.indexOf('COMMIT');
  for (const name of ['a', 'b', 'c']) assert.ok(log.indexOf(`answer ${name}`) > commit, `${name} answered after the commit`);
  assert.deepEqual(committer.stats, { batches: 1, jobs: 3, largestBatch: 3 });
});

test('jobs arriving while a batch runs go into the next commit', async () => {
  const { db, log } = recorder();
  const committer = new GroupCommitter(db, {});
  let started: () => void = () => undefined;
  const running = new Promise<void>((resolve) => (started = resolve));
  const first = committer.run(async () => {
    log.push('run a');
    started();
    await tick();
    return 'a';
  });
  await running;
  const later = ['b', 'c'].map((name) => committer.run(async () => void log.push(`run ${name}`)));
  await Promise.all([first, ...later]);
  const steps = log.filter((line) => line.startsWith('run') || line.startsWith('BEGIN') || line === 'COMMIT');
  assert.deepEqual(steps, ['BEGIN IMMEDIATE', 'run a', 'COMMIT', 'BEGIN IMMEDIATE', 'run b', 'run c', 'COMMIT']);
  assert.deepEqual(committer.stats, { batches: 2, jobs: 3, largestBatch: 2 });
});

test('a failing job rolls back to its savepoint; its neighbours commit', async () => {
  const { db, log } = recorder();
  const committer = new GroupCommitter(db, {});
  const results = await Promise.allSettled([
    committer.run(async () => 'a'),
    committer.run(async () => {
      throw new Error('refused');
    }),
    committer.run(async () => 'c'),
  ]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[1].status, 'rejected');
  assert.equal(results[2].status, 'fulfilled');
  assert.ok(log.includes('ROLLBACK TO job'));
  assert.equal(log.filter((line) => line === 'COMMIT').length, 1, 'the three share one commit');
});

test('a failed COMMIT rejects every job of its batch', async () => {
  const { db } = recorder({ failCommit: true });
  const committer = new GroupCommitter(db, {});
  const results = await Promise.allSettled([committer.run(async () => 1), committer.run(async () => 2)]);
  assert.ok(results.every((result) => result.status === 'rejected'));
});
