/**
 * Schema migrations, written with Kysely's schema builder so every engine runs the same
 * ones. One file per migration; append new ones here, never edit one that has shipped.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './0001-initial.js';
import { pendingOperations } from './0002-pending-operations.js';
import { backoffice } from './0003-backoffice.js';
import { webhooks } from './0004-webhooks.js';

export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_pending_operations': pendingOperations,
  '0003_backoffice': backoffice,
  '0004_webhooks': webhooks,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
