/** The transaction as the API shows it: Dintero's Transaction shape plus Kasse's counters. */
import {
  authorizationExpiresAt,
  remainingCaptureAmount,
  remainingRefundAmount,
  type TransactionItem,
} from '../domain/transaction.js';
import { paymentProductOf } from '../domain/products.js';
import type { TransactionEventRecord, TransactionRecord } from '../store/store.js';

export interface TransactionView {
  readonly id: string;
  readonly session_id: string;
  readonly amount: number;
  readonly currency: string;
  readonly status: string;
  readonly payment_product: string;
  readonly payment_product_type: string;
  readonly merchant_reference: string;
  readonly merchant_reference_2?: string;
  readonly items: readonly TransactionItem[];
  readonly events: readonly TransactionEventRecord[];
  readonly authorization_expires_at: string | null;
  readonly captured_amount: number;
  readonly refunded_amount: number;
  readonly voided_amount: number;
  readonly remaining_capture_amount: number;
  readonly remaining_refund_amount: number;
  readonly created_at: string;
  readonly updated_at: string;
  readonly [field: string]: unknown;
}

export function transactionView(record: TransactionRecord, events: readonly TransactionEventRecord[], now: string): TransactionView {
  const { state, details } = record;
  return {
    id: record.id,
    session_id: record.sessionId,
    amount: state.amount,
    currency: record.currency,
    status: record.status,
    payment_product: paymentProductOf(state.paymentProductType),
    payment_product_type: state.paymentProductType,
    merchant_reference: record.merchantReference,
    ...(record.merchantReference2 === null ? {} : { merchant_reference_2: record.merchantReference2 }),
    ...(details.customer ? { customer: details.customer } : {}),
    ...(details.shipping_address ? { shipping_address: details.shipping_address } : {}),
    ...(details.billing_address ? { billing_address: details.billing_address } : {}),
    ...(details.shipping_option ? { shipping_option: details.shipping_option } : {}),
    ...(details.card ? { card: details.card } : {}),
    items: state.items,
    url: details.url,
    ...(details.metadata ? { metadata: details.metadata } : {}),
    ...(details.initiating_system_request_headers ? { initiating_system_request_headers: details.initiating_system_request_headers } : {}),
    authorization_expires_at: authorizationExpiresAt(state, now),
    captured_amount: state.capturedAmount,
    refunded_amount: state.refundedAmount,
    voided_amount: state.voidedAmount,
    remaining_capture_amount: remainingCaptureAmount(state),
    remaining_refund_amount: remainingRefundAmount(state),
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    // Last: transactionJson relies on it.
    events,
  };
}

const NO_EVENTS: readonly TransactionEventRecord[] = [];

/**
 * The transaction's answer as JSON text with its events embedded as stored: each event's
 * text is what JSON.stringify made of it when it was appended, so the answer equals
 * JSON.stringify(transactionView(...)), without parsing and re-serialising every event of a
 * list page.
 */
export function transactionJson(record: TransactionRecord, eventJson: readonly string[], now: string): string {
  const json = JSON.stringify(transactionView(record, NO_EVENTS, now));
  // The view ends with `"events":[]}`: the events go between the brackets.
  return `${json.slice(0, -2)}${eventJson.join(',')}]}`;
}

export function etagOf(record: { version: number }): string {
  return `"${record.version}"`;
}
