/** Accounts, clients, users, signing keys, sessions, transactions, events, idempotency keys. */
import { type Kysely, type Migration, sql } from 'kysely';

export const initial: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('accounts')
      .addColumn('id', 'varchar(16)', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('clock_offset_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('api_clients')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(16)', (c) => c.notNull().references('accounts.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('users')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('email', 'varchar(320)', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('account_ids', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('alg', 'varchar(16)', (c) => c.notNull())
      .addColumn('private_jwk', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'varchar(48)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(16)', (c) => c.notNull().references('accounts.id'))
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('transaction_id', 'varchar(48)')
      .addColumn('merchant_reference', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)')
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_account_created').on('sessions').columns(['account_id', 'created_at', 'id']).execute();
    await db.schema
      .createTable('transactions')
      .addColumn('id', 'varchar(48)', (c) => c.primaryKey())
      .addColumn('account_id', 'varchar(16)', (c) => c.notNull().references('accounts.id'))
      .addColumn('session_id', 'varchar(48)', (c) => c.notNull())
      .addColumn('status', 'varchar(32)', (c) => c.notNull())
      .addColumn('authorization_status', 'varchar(16)', (c) => c.notNull())
      .addColumn('payment_product', 'varchar(32)', (c) => c.notNull())
      .addColumn('payment_product_type', 'varchar(48)', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('captured_amount', 'bigint', (c) => c.notNull())
      .addColumn('refunded_amount', 'bigint', (c) => c.notNull())
      .addColumn('voided_amount', 'bigint', (c) => c.notNull())
      .addColumn('merchant_reference', 'text', (c) => c.notNull())
      .addColumn('merchant_reference_2', 'text')
      .addColumn('customer_email', 'text')
      .addColumn('customer_phone', 'text')
      .addColumn('authorized_at', 'varchar(32)')
      .addColumn('authorization_expires_at', 'varchar(32)')
      .addColumn('items', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('event_count', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addCheckConstraint('transactions_money', sql`captured_amount + voided_amount <= amount and refunded_amount <= captured_amount and refunded_amount >= 0 and voided_amount >= 0`)
      .execute();
    // Keyset paging newest first, alone and under each list filter.
    const listIndexes: Array<[string, string[]]> = [
      ['transactions_account_created', []],
      ['transactions_status', ['status']],
      ['transactions_product_type', ['payment_product_type']],
      ['transactions_product', ['payment_product']],
      ['transactions_currency', ['currency']],
      ['transactions_merchant_reference', ['merchant_reference']],
      ['transactions_merchant_reference_2', ['merchant_reference_2']],
      ['transactions_session', ['session_id']],
      ['transactions_amount', ['amount']],
      ['transactions_email', ['customer_email']],
      ['transactions_phone', ['customer_phone']],
    ];
    for (const [name, columns] of listIndexes) {
      await db.schema
        .createIndex(name)
        .on('transactions')
        .columns(['account_id', ...columns, 'created_at', 'id'])
        .execute();
    }
    await db.schema
      .createTable('transaction_events')
      .addColumn('transaction_id', 'varchar(48)', (c) => c.notNull().references('transactions.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('transaction_events_pk', ['transaction_id', 'seq'])
      .execute();
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('account_id', 'varchar(16)', (c) => c.notNull())
      .addColumn('key', 'varchar(255)', (c) => c.notNull())
      .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
      .addColumn('status_code', 'integer', (c) => c.notNull())
      .addColumn('response_body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'key'])
      .execute();
    await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').column('created_at').execute();
  },
};

