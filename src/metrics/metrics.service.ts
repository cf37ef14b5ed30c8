import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { DatabaseProbe } from '../database/database.probe';

/**
 * Prometheus metrics in a registry of the app's own: request durations by route template (never the raw
 * URL, which would explode the label set), the connection pool, and Node's process metrics.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status_code'>;

  constructor(database: DatabaseProbe) {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route template and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    const pool = (name: string, help: string, read: (stats: ReturnType<DatabaseProbe['pool']>) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(database.pool()));
        },
      });
    pool('db_pool_connections_total', 'Open connections in the PostgreSQL pool', (stats) => stats.total);
    pool('db_pool_connections_idle', 'Idle connections in the PostgreSQL pool', (stats) => stats.idle);
    pool('db_pool_waiting_requests', 'Requests waiting for a pooled connection', (stats) => stats.waiting);
    pool('db_pool_connections_max', 'Maximum size of the PostgreSQL pool', (stats) => stats.max);
  }

  /** `route` is the matched template, or `unmatched` for 404s on unknown paths. */
  observe(method: string, route: string | undefined, status: number, seconds: number): void {
    this.requests.observe({ method, route: route ?? 'unmatched', status_code: String(status) }, seconds);
  }
}
