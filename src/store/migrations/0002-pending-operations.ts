/**
 * Asynchronous provider operations in flight: reserved on the transaction (`pending`, JSON)
 * and found by the completion worker through `pending_due_at` (earliest due time, or null).
 */
import type { Kysely, Migration } from 'kysely';

export const pendingOperations: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('transactions').addColumn('pending', 'text', (c) => c.notNull().defaultTo('[]')).execute();
    await db.schema.alterTable('transactions').addColumn('pending_due_at', 'varchar(32)').execute();
    await db.schema.createIndex('transactions_pending_due').on('transactions').columns(['pending_due_at']).execute();
  },
};
