/**
 * Idempotent mutations. The answer to the first request with a key is stored with the
 * key in the same database transaction as its effect, so a retry either finds both or
 * neither. A retry with another request is 422; one arriving while the first is still
 * running in this process is 409.
 *
 * Another process sharing the database cannot see this process's in-flight keys. There the
 * second request waits on the first one's locks and, once the first has committed, its own
 * attempt fails: its insert of the key collides (IdempotencyKeyTaken), or the first one's
 * effect makes it invalid (a KasseError such as "nothing left to capture"). Either way it
 * rolls back and then answers with what the first one stored.
 */
import { createHash } from 'node:crypto';
import { KasseError, isKasseError } from '../domain/errors.js';
import { IdempotencyKeyTaken, type IdempotencyRecord, type Repositories, type Store, type TransactionOptions } from '../store/store.js';

export interface MutationResult<T> {
  readonly statusCode: number;
  readonly body: T;
  readonly replayed: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  /** The body as JSON, when it was serialised already (to be stored with its idempotency key): sent as it is. */
  readonly json?: string;
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method}\n${path}\n${body === undefined ? '' : JSON.stringify(body)}`)
    .digest('hex');
}

const inFlight = new Set<string>();

function replay<T>(stored: IdempotencyRecord, fingerprint: string): MutationResult<T> {
  if (stored.fingerprint !== fingerprint) throw new KasseError('IDEMPOTENCY_KEY_REUSED');
  return { statusCode: stored.statusCode, body: JSON.parse(stored.responseBody) as T, replayed: true, json: stored.responseBody };
}

export async function idempotentMutation<T>(
  store: Store,
  accountId: string,
  idempotency: { key: string; fingerprint: string } | undefined,
  now: () => string,
  work: (tx: Repositories) => Promise<{ statusCode: number; body: T; headers?: Record<string, string> }>,
  options?: TransactionOptions,
): Promise<MutationResult<T>> {
  if (idempotency === undefined) {
    return { ...(await store.transaction(work, options)), replayed: false };
  }
  const slot = `${accountId}\u0000${idempotency.key}`;
  if (inFlight.has(slot)) throw new KasseError('IDEMPOTENCY_KEY_IN_USE');
  inFlight.add(slot);
  try {
    return await store.transaction(async (tx) => {
      const stored = await tx.getIdempotency(accountId, idempotency.key);
      if (stored !== undefined) return replay<T>(stored, idempotency.fingerprint);
      const result = await work(tx);
      const json = JSON.stringify(result.body);
      await tx.insertIdempotency({
        accountId,
        key: idempotency.key,
        fingerprint: idempotency.fingerprint,
        statusCode: result.statusCode,
        responseBody: json,
        createdAt: now(),
      });
      return { ...result, replayed: false, json };
    }, options);
  } catch (error) {
    if (!(error instanceof IdempotencyKeyTaken || isKasseError(error))) throw error;
    // Our attempt has rolled back; a request with this key that another process committed
    // meanwhile is the answer.
    const stored = await store.getIdempotency(accountId, idempotency.key);
    if (stored !== undefined) return replay<T>(stored, idempotency.fingerprint);
    if (error instanceof IdempotencyKeyTaken) throw new KasseError('IDEMPOTENCY_KEY_IN_USE');
    throw error;
  } finally {
    inFlight.delete(slot);
  }
}
