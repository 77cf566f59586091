import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromEnv } from './config.js';

test('DATABASE_PREPARED_STATEMENTS is on, off or unset; anything else is refused at start', () => {
  assert.equal(configFromEnv({}).databasePreparedStatements, undefined);
  assert.equal(configFromEnv({ DATABASE_PREPARED_STATEMENTS: 'off' }).databasePreparedStatements, false);
  assert.equal(configFromEnv({ DATABASE_PREPARED_STATEMENTS: 'FALSE' }).databasePreparedStatements, false);
  assert.equal(configFromEnv({ DATABASE_PREPARED_STATEMENTS: 'on' }).databasePreparedStatements, true);
  assert.throws(() => configFromEnv({ DATABASE_PREPARED_STATEMENTS: 'sometimes' }), /DATABASE_PREPARED_STATEMENTS must be on or off/);
});

test('pool size and statement timeout are integers within their bounds', () => {
  assert.equal(configFromEnv({ DATABASE_POOL_SIZE: '4' }).databasePoolSize, 4);
  assert.throws(() => configFromEnv({ DATABASE_POOL_SIZE: '1' }), /DATABASE_POOL_SIZE must be an integer >= 2/);
  assert.equal(configFromEnv({ DATABASE_STATEMENT_TIMEOUT_MS: '0' }).databaseStatementTimeoutMs, 0);
  assert.throws(() => configFromEnv({ DATABASE_STATEMENT_TIMEOUT_MS: '1.5' }), /DATABASE_STATEMENT_TIMEOUT_MS/);
});
