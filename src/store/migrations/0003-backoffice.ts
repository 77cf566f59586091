/** Backoffice: login sessions (with their CSRF token) and failed sign-ins for throttling. */
import type { Kysely, Migration } from 'kysely';

export const backoffice: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('backoffice_sessions')
      // SHA-256 of the cookie's token: a leaked table does not hand out live sessions.
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id'))
      .addColumn('account_id', 'varchar(16)', (c) => c.notNull())
      .addColumn('csrf_token', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
      .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('backoffice_sessions_expires').on('backoffice_sessions').column('expires_at').execute();
    await db.schema
      .createTable('backoffice_login_failures')
      .addColumn('throttle_key', 'varchar(400)', (c) => c.notNull())
      .addColumn('failed_at', 'varchar(32)', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('backoffice_login_failures_key').on('backoffice_login_failures').columns(['throttle_key', 'failed_at']).execute();
  },
};
