/** Health, Prometheus metrics and the OpenAPI description. */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../../store/store.js';

export function systemRoutes(app: FastifyInstance, store: Store): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kasse_' });
  const groupCommit = (store as { groupCommitStats?: { batches: number; jobs: number; largestBatch: number } }).groupCommitStats;
  if (groupCommit !== undefined) {
    const stats = () => (store as unknown as { groupCommitStats: NonNullable<typeof groupCommit> }).groupCommitStats;
    new Gauge({ name: 'kasse_store_commits', help: 'SQLite commits since start (group commit)', registers: [registry], collect() { this.set(stats().batches); } });
    new Gauge({ name: 'kasse_store_committed_transactions', help: 'Storage transactions committed since start; divided by kasse_store_commits, the mean batch size', registers: [registry], collect() { this.set(stats().jobs); } });
    new Gauge({ name: 'kasse_store_largest_commit', help: 'Most storage transactions in one commit since start', registers: [registry], collect() { this.set(stats().largestBatch); } });
  }
  const optimistic = (store as { optimisticStats?: { written: number; ranLocked: number; statements: number } }).optimisticStats;
  if (optimistic !== undefined && store.engine === 'postgres') {
    new Gauge({
      name: 'kasse_store_optimistic_changes',
      help: 'Transaction changes tried optimistically since start (PostgreSQL), by outcome: written by a batch statement, or run locked after all',
      labelNames: ['outcome'] as const,
      registers: [registry],
      collect() {
        this.set({ outcome: 'written' }, optimistic.written);
        this.set({ outcome: 'ran_locked' }, optimistic.ranLocked);
      },
    });
    new Gauge({
      name: 'kasse_store_optimistic_statements',
      help: 'Statements that wrote optimistic changes since start (PostgreSQL); the changes written divided by this, the mean batch size',
      registers: [registry],
      collect() {
        this.set(optimistic.statements);
      },
    });
  }
  const requests = new Counter({
    name: 'kasse_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'kasse_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  app.get('/healthz', { config: { access: 'public' }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
