// /metrics of a running hushd, scraped over HTTP: the server's own metrics (names unchanged) and the
// process's (event-loop lag, heap, RSS, GC pauses, open connections) in Prometheus text format.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Metrics, METRICS } from '../src/metrics.js';
import { httpGet, hushdFixture } from './helpers/hushd-process.js';
import { registered, RawClient } from '../src/raw-client.js';

const fx = hushdFixture('hushd-metrics-');

/** Sample lines of the Prometheus text format: `name{labels}` -> value. Throws on a malformed line. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const sumOf = (s: Map<string, number>, prefix: string) => [...s].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);

describe('/metrics of a running hushd', () => {
  it('serves the server and process metrics in Prometheus format', async () => {
    const file = join(fx.dir, 'hushd.json');
    writeFileSync(
      file,
      JSON.stringify({ limits: { messagesPerSecond: 100_000, messageBurst: 100_000, bytesPerSecond: '1G', byteBurst: '1G' } }),
    );
    // A small young generation, so the traffic below is sure to be collected.
    const hushd = await fx.start(
      ['--port', '0', '--open-rooms', 'lobby', '--metrics-port', '0', '--config', file, '--data-dir', join(fx.dir, 'data')],
      {
        env: { NODE_OPTIONS: '--max-semi-space-size=1' },
      },
    );
    const metricsPort = Number((await hushd.waitForLog('metrics_listening')).port);

    const alice = fx.keep(await registered(hushd.port, 'alice'));
    fx.keep(await registered(hushd.port, 'bob'));
    fx.keep(await RawClient.connect(hushd.port)); // not logged in
    const text = 'x'.repeat(2000);
    for (let i = 0; i < 300; i++) alice.send({ type: 'send', id: `m${i}`, room: 'lobby', text });
    await alice.next((m) => m.type === 'ack' && m.re === 'm299', 20_000);

    let s = new Map<string, number>();
    let body = '';
    // GC pauses are reported to the process a moment after they happen.
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const r = await httpGet(metricsPort, '/metrics');
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
      body = r.body;
      s = samples(body);
      if (sumOf(s, 'nodejs_gc_duration_seconds_count') > 0) break;
    }

    // The server's metrics keep their names.
    for (const [name, { type }] of Object.entries(METRICS)) {
      expect(body).toContain(`# TYPE ${name} ${type}\n`);
      expect(s.has(name)).toBe(true);
    }
    expect(s.get('hush_connections')).toBe(3); // open connections, logged in or not
    expect(s.get('hush_messages_in_total')).toBeGreaterThanOrEqual(300);
    expect(s.get('hush_logins_total')).toBeGreaterThanOrEqual(2);

    // The process's.
    expect(body).toContain('# TYPE process_resident_memory_bytes gauge\n');
    expect(s.get('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    const heapUsed = s.get('nodejs_heap_size_used_bytes')!;
    expect(heapUsed).toBeGreaterThan(0);
    expect(heapUsed).toBeLessThanOrEqual(s.get('nodejs_heap_size_total_bytes')!);
    expect(s.get('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(s.get('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    expect(body).toContain('# TYPE nodejs_gc_duration_seconds histogram\n');
    expect(sumOf(s, 'nodejs_gc_duration_seconds_count')).toBeGreaterThan(0);
    expect(sumOf(s, 'nodejs_gc_duration_seconds_sum')).toBeGreaterThan(0);
    expect(s.get('process_open_fds')).toBeGreaterThan(3);
    // One family per name: nothing registered twice.
    const types = body.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  }, 60_000);
});

describe('GC pauses', () => {
  it('counts every collection, also when V8 reports several at once', async () => {
    const metrics = new Metrics();
    metrics.includeProcessMetrics();
    let seen = 0;
    const reference = new PerformanceObserver((list) => (seen += list.getEntries().length));
    reference.observe({ entryTypes: ['gc'] });
    try {
      let garbage: unknown[] = [];
      for (let round = 0; round < 200; round++) {
        for (let i = 0; i < 20_000; i++) garbage.push({ i, s: `${i}`.repeat(8) });
        if (garbage.length > 100_000) garbage = [];
        await new Promise((r) => setImmediate(r));
      }
      await new Promise((r) => setTimeout(r, 200));
      const before = seen; // collections may still be reported while render() runs
      const counted = sumOf(samples(await metrics.render()), 'nodejs_gc_duration_seconds_count');
      expect(before).toBeGreaterThan(10);
      expect(counted).toBeGreaterThanOrEqual(before);
      expect(counted).toBeLessThanOrEqual(seen);
    } finally {
      reference.disconnect();
    }
  }, 60_000);
});
