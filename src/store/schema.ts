/** Table shapes as Kysely sees them. Only the store reads these; services get records. */
import type { WebhookTables } from './webhook-schema.js';

export interface AccountsTable {
  id: string;
  name: string;
  clock_offset_ms: number;
  created_at: string;
}

export interface ApiClientsTable {
  id: string;
  account_id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  account_ids: string;
  created_at: string;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: string;
}

export interface SessionsTable {
  id: string;
  account_id: string;
  status: string;
  transaction_id: string | null;
  merchant_reference: string;
  data: string;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface TransactionsTable {
  id: string;
  account_id: string;
  session_id: string;
  status: string;
  authorization_status: string;
  payment_product: string;
  payment_product_type: string;
  currency: string;
  amount: number;
  captured_amount: number;
  refunded_amount: number;
  voided_amount: number;
  merchant_reference: string;
  merchant_reference_2: string | null;
  customer_email: string | null;
  customer_phone: string | null;
  authorized_at: string | null;
  authorization_expires_at: string | null;
  items: string;
  details: string;
  event_count: number;
  pending: string;
  pending_due_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface TransactionEventsTable {
  transaction_id: string;
  seq: number;
  data: string;
  created_at: string;
}

export interface IdempotencyKeysTable {
  account_id: string;
  key: string;
  fingerprint: string;
  status_code: number;
  response_body: string;
  created_at: string;
}

export interface BackofficeSessionsTable {
  id: string;
  user_id: string;
  account_id: string;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export interface BackofficeLoginFailuresTable {
  throttle_key: string;
  failed_at: string;
}

export interface Database extends WebhookTables {
  accounts: AccountsTable;
  api_clients: ApiClientsTable;
  users: UsersTable;
  signing_keys: SigningKeysTable;
  sessions: SessionsTable;
  transactions: TransactionsTable;
  transaction_events: TransactionEventsTable;
  idempotency_keys: IdempotencyKeysTable;
  backoffice_sessions: BackofficeSessionsTable;
  backoffice_login_failures: BackofficeLoginFailuresTable;
}
