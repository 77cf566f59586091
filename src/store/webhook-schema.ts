/** Table shapes of callbacks and webhooks (migration 0004), as Kysely sees them. Only the store reads these. */
export interface SignatureSecretsTable {
  account_id: string;
  secret: string;
  created_at: string;
}

export interface WebhookSubscriptionsTable {
  id: string;
  account_id: string;
  url: string;
  content_type: string;
  secret: string | null;
  /** Space-separated event names. */
  events: string;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  account_id: string;
  transaction_id: string;
  kind: string;
  subscription_id: string | null;
  /** Deliveries with the same transaction and target go out in event order. */
  target: string;
  event: string;
  event_seq: number;
  method: string;
  url: string;
  body: string | null;
  status: string;
  attempt_count: number;
  max_attempts: number;
  /** When the next attempt is due, in the account's business time (epoch ms), so the test clock moves it. */
  due_at_ms: number;
  /** Wall-clock lease of the process sending the current attempt. */
  locked_until: string | null;
  claim_token: string | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: string | null;
  created_at: string;
}

export interface WebhookDeliveryAttemptsTable {
  delivery_id: string;
  attempt: number;
  started_at: string;
  status_code: number | null;
  latency_ms: number | null;
  error: string | null;
  outcome: string;
}

export interface WebhookTables {
  signature_secrets: SignatureSecretsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
}
