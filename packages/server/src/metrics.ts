// The server's counters and gauges plus the process's own metrics (event-loop lag, heap, RSS, GC
// pauses), in the Prometheus text exposition format (version 0.0.4) through prom-client, optionally
// served over plain HTTP on a separate port (off by default; bind it to loopback).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type MetricName =
  | 'hush_connections'
  | 'hush_bus_connected'
  | 'hush_messages_in_total'
  | 'hush_messages_out_total'
  | 'hush_fanout_deliveries_total'
  | 'hush_records_out_total'
  | 'hush_queue_drops_total'
  | 'hush_handshake_failures_total'
  | 'hush_logins_total'
  | 'hush_login_failures_total'
  | 'hush_protocol_errors_total';

interface MetricInfo {
  type: 'counter' | 'gauge';
  help: string;
}

export const METRICS: Readonly<Record<MetricName, MetricInfo>> = {
  hush_connections: { type: 'gauge', help: 'Open client connections.' },
  hush_bus_connected: { type: 'gauge', help: '1 while the bus to the other nodes is connected (always 1 for a node alone), else 0.' },
  hush_messages_in_total: { type: 'counter', help: 'Messages received from clients.' },
  hush_messages_out_total: { type: 'counter', help: 'Messages sent to clients.' },
  hush_fanout_deliveries_total: { type: 'counter', help: 'Per-recipient deliveries of relayed messages.' },
  hush_records_out_total: {
    type: 'counter',
    help: 'Sealed records written to clients (messages out per record shows how well sends coalesce).',
  },
  hush_queue_drops_total: { type: 'counter', help: 'Connections dropped because their send queue overflowed.' },
  hush_handshake_failures_total: { type: 'counter', help: 'Failed or timed-out secure-channel handshakes.' },
  hush_logins_total: { type: 'counter', help: 'Successful logins.' },
  hush_login_failures_total: { type: 'counter', help: 'Failed or refused logins.' },
  hush_protocol_errors_total: { type: 'counter', help: 'Protocol errors sent to clients.' },
};

const NAMES = Object.keys(METRICS) as MetricName[];

/**
 * The server's own metrics. Counting is a plain map update (it happens per message on the hot
 * path); prom-client reads the map only when /metrics is scraped.
 */
export class Metrics {
  private readonly values = new Map<MetricName, number>(NAMES.map((n) => [n, 0]));
  private readonly registry = new Registry();
  private withProcessMetrics = false;

  constructor() {
    const registers = [this.registry];
    for (const name of NAMES) {
      const { type, help } = METRICS[name];
      const read = () => this.get(name);
      if (type === 'gauge') {
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read());
          },
        });
      } else {
        new Counter({
          name,
          help,
          registers,
          collect() {
            this.reset();
            this.inc(read());
          },
        });
      }
    }
  }

  inc(name: MetricName, by = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + by);
  }

  set(name: MetricName, value: number): void {
    this.values.set(name, value);
  }

  get(name: MetricName): number {
    return this.values.get(name) ?? 0;
  }

  /**
   * Adds prom-client's standard process metrics (process_*, nodejs_*: event-loop lag, heap, RSS,
   * GC pause durations, handles). They watch the whole process from then on (a GC observer, an
   * event-loop delay histogram), so only the process's metrics endpoint turns them on; idempotent.
   */
  includeProcessMetrics(): void {
    if (this.withProcessMetrics) return;
    this.withProcessMetrics = true;
    collectDefaultMetrics({ register: this.registry });
    // prom-client's GC histogram records only the first collection of each observer callback, and
    // V8 often reports several in one: under load it misses a fifth of them. This one counts all.
    this.registry.removeSingleMetric(GC_PAUSES);
    observeGcPauses(this.registry);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

const GC_PAUSES = 'nodejs_gc_duration_seconds';
const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

function observeGcPauses(registry: Registry): void {
  const pauses = new Histogram({
    name: GC_PAUSES,
    help: 'Garbage collection pauses by kind (minor, major, incremental, weakcb), in seconds.',
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
      pauses.observe({ kind: (kind !== undefined && GC_KINDS[kind]) || 'other' }, entry.duration / 1000);
    }
  }).observe({ entryTypes: ['gc'] });
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics (Prometheus text: the server's metrics and the process's) and GET /healthz
 * (200 "ok" or 503 "unhealthy").
 */
export function startMetricsServer(metrics: Metrics, opts: { host: string; port: number; health: () => boolean }): Promise<MetricsServer> {
  metrics.includeProcessMetrics();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    if (path === '/metrics') {
      metrics.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`cannot collect metrics: ${(error as Error).message}\n`);
        },
      );
    } else if (path === '/healthz') {
      let healthy = false;
      try {
        healthy = opts.health();
      } catch {
        healthy = false;
      }
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : healthy ? 'ok\n' : 'unhealthy\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
