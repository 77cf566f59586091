/**
 * Each event's JSON text, kept per event record. The ledger stores that text
 * (`transaction_events.data`) and answers embed it (see transactionJson), so an event is
 * serialised once, not again for every answer that carries it: a capture answers with all of
 * its transaction's events. Events never change once appended and the records the store
 * hands out are read-only, so a kept text stays true.
 */
import type { TransactionEventRecord } from './store.js';

const texts = new WeakMap<TransactionEventRecord, string>();

/** The event's JSON text: `JSON.stringify(event)`, made once. */
export function eventJson(event: TransactionEventRecord): string {
  let text = texts.get(event);
  if (text === undefined) texts.set(event, (text = JSON.stringify(event)));
  return text;
}

/** An event decoded from its stored text, which is kept as its JSON (it was made by JSON.stringify). */
export function parseEvent(text: string): TransactionEventRecord {
  const event = JSON.parse(text) as TransactionEventRecord;
  texts.set(event, text);
  return event;
}
