/**
 * A real HTTP receiver on 127.0.0.1 for callback and webhook tests: records every request
 * (method, path with query, headers, raw body) and answers with whatever the test says.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How to answer a request: a status, or 'hang' to never answer. */
export type Answer = number | 'hang';

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  readonly requests: Received[];
  /** The requests received since the last call (all of them on the first). */
  unread(): Received[];
  /** Answers the next requests with these, in order, then with the default (200). */
  answerNext(...answers: Answer[]): void;
  answerAll(answer: Answer): void;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const requests: Received[] = [];
  const queue: Answer[] = [];
  let fallback: Answer = 200;
  const hanging = new Set<() => void>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = queue.shift() ?? fallback;
      if (answer === 'hang') {
        hanging.add(() => response.destroy());
        return;
      }
      response.writeHead(answer, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let read = 0;
  return {
    origin: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    unread: () => requests.slice(read, (read = requests.length)),
    answerNext: (...answers) => queue.push(...answers),
    answerAll: (answer) => {
      queue.length = 0;
      fallback = answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const hang of hanging) hang();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
