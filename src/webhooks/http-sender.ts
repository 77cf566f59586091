/**
 * One HTTP request of a delivery, over node:http / node:https: no redirects followed, one
 * overall deadline (connect, send, response headers), a fresh connection each time. When
 * `addresses` is given (production accounts), the connection goes to one of those
 * already-checked addresses while the Host header and TLS name stay the URL's host.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './url-guard.js';

export interface OutgoingRequest {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly addresses?: readonly ResolvedAddress[];
  readonly signal?: AbortSignal;
}

const MAX_DRAINED_BYTES = 64 * 1024;

/** Resolves with the response status once the headers arrive; rejects on timeout or a connection error. */
export function sendRequest(outgoing: OutgoingRequest): Promise<{ statusCode: number }> {
  const pinned = outgoing.addresses;
  const lookup: LookupFunction | undefined =
    pinned === undefined || pinned.length === 0
      ? undefined
      : (_hostname, options, callback) => {
          if (options.all) callback(null, pinned.map(({ address, family }) => ({ address, family })));
          else callback(null, pinned[0]!.address, pinned[0]!.family);
        };
  const send = outgoing.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = outgoing.body === undefined ? undefined : Buffer.from(outgoing.body, 'utf8');
  return new Promise((resolve, reject) => {
    const request = send(outgoing.url, {
      method: outgoing.method,
      headers: { ...outgoing.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      agent: false,
      ...(lookup ? { lookup } : {}),
      ...(outgoing.signal ? { signal: outgoing.signal } : {}),
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${outgoing.timeoutMs} ms`)), outgoing.timeoutMs);
    request.on('response', (response: IncomingMessage) => {
      clearTimeout(timer);
      // The answer's body is not used: read a little of it away so the connection closes
      // cleanly, but never keep a socket open for an endless or slow body.
      let received = 0;
      const drain = setTimeout(() => response.destroy(), outgoing.timeoutMs);
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_DRAINED_BYTES) response.destroy();
      });
      response.on('close', () => clearTimeout(drain));
      response.on('error', () => undefined);
      resolve({ statusCode: response.statusCode ?? 0 });
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body);
  });
}
