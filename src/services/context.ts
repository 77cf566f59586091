import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { RandomBytes } from '../domain/ids.js';
import type { Principal } from '../auth/scopes.js';

/** What every service function needs; built once by buildApp. */
export interface ServiceContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly publicUrl: string;
  readonly randomBytes: RandomBytes;
  readonly newRequestId: () => string;
}

export function serviceContext(store: Store, clock: Clock, publicUrl: string): ServiceContext {
  return { store, clock, publicUrl: publicUrl.replace(/\/+$/, ''), randomBytes: (size) => randomBytes(size), newRequestId: randomUUID };
}

/** How one API request asks for a change. */
export interface OperationRequest {
  readonly principal: Principal;
  readonly requestId: string;
  /** `Dintero-System-*` headers, lower-cased, recorded on the event. */
  readonly systemHeaders: Readonly<Record<string, string>>;
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
  readonly ifMatch?: string;
}
