/**
 * Callbacks and webhooks: the account's callback signing secret, webhook subscriptions,
 * the outbox of deliveries (written in the same database transaction as the events they
 * announce) and the log of every delivery attempt.
 */
import type { Kysely, Migration } from 'kysely';

export const webhooks: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('signature_secrets')
      .addColumn('account_id', 'varchar(16)', (c) => c.primaryKey().references('accounts.id'))
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_subscriptions')
      .addColumn('id', 'varchar(48)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(16)', (c) => c.notNull().references('accounts.id'))
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('content_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_subscriptions_account').on('webhook_subscriptions').columns(['account_id', 'created_at']).execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'varchar(48)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(16)', (c) => c.notNull().references('accounts.id'))
      .addColumn('transaction_id', 'varchar(48)', (c) => c.notNull())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('subscription_id', 'varchar(48)')
      .addColumn('target', 'varchar(64)', (c) => c.notNull())
      .addColumn('event', 'varchar(48)', (c) => c.notNull())
      .addColumn('event_seq', 'integer', (c) => c.notNull())
      .addColumn('method', 'varchar(8)', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('body', 'text')
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempt_count', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('due_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('locked_until', 'varchar(32)')
      .addColumn('claim_token', 'varchar(64)')
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    // The worker's scan (pending, by due time), the per-target ordering check, and the log's lists.
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'due_at_ms']).execute();
    await db.schema.createIndex('webhook_deliveries_order').on('webhook_deliveries').columns(['transaction_id', 'target', 'event_seq']).execute();
    await db.schema.createIndex('webhook_deliveries_account').on('webhook_deliveries').columns(['account_id', 'created_at', 'id']).execute();
    await db.schema
      .createIndex('webhook_deliveries_account_transaction')
      .on('webhook_deliveries')
      .columns(['account_id', 'transaction_id', 'created_at', 'id'])
      .execute();
    await db.schema.createIndex('webhook_deliveries_subscription').on('webhook_deliveries').columns(['subscription_id', 'status']).execute();
    await db.schema
      .createTable('webhook_delivery_attempts')
      .addColumn('delivery_id', 'varchar(48)', (c) => c.notNull().references('webhook_deliveries.id'))
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('latency_ms', 'integer')
      .addColumn('error', 'text')
      .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
      .addPrimaryKeyConstraint('webhook_delivery_attempts_pk', ['delivery_id', 'attempt'])
      .execute();
  },
};
