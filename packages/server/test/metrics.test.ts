import { afterEach, describe, expect, it } from 'vitest';
import { Metrics, METRICS, startMetricsServer, type MetricsServer } from '../src/metrics.js';
import { httpGet as get } from './helpers/hushd-process.js';

describe('Metrics', () => {
  it('counts and renders the Prometheus text format', async () => {
    const m = new Metrics();
    m.inc('hush_messages_in_total');
    m.inc('hush_messages_in_total', 4);
    m.set('hush_connections', 3);
    m.set('hush_connections', 2);
    expect(m.get('hush_messages_in_total')).toBe(5);
    expect(m.get('hush_connections')).toBe(2);
    expect(m.get('hush_queue_drops_total')).toBe(0);
    const text = await m.render();
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('# HELP hush_connections Open client connections.\n# TYPE hush_connections gauge\nhush_connections 2\n');
    expect(text).toContain('# TYPE hush_messages_in_total counter\nhush_messages_in_total 5\n');
    // Every metric appears exactly once with HELP, TYPE and a sample line.
    for (const name of Object.keys(METRICS)) {
      expect(text.match(new RegExp(`^${name} \\d+$`, 'gm'))).toHaveLength(1);
      expect(text.match(new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'gm'))).toHaveLength(1);
    }
    for (const line of text.split('\n').filter((l) => l !== '')) {
      expect(line).toMatch(/^(# (HELP|TYPE) hush_[a-z_]+ .+|hush_[a-z_]+ -?\d+(\.\d+)?)$/);
    }
  });
});

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves /metrics and /healthz on an ephemeral port', async () => {
    const m = new Metrics();
    m.inc('hush_logins_total', 2);
    let healthy = true;
    server = await startMetricsServer(m, { host: '127.0.0.1', port: 0, health: () => healthy });
    expect(server.port).toBeGreaterThan(0);
    const metrics = await get(server.port, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toContain('hush_logins_total 2\n');
    expect(await get(server.port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    healthy = false;
    expect(await get(server.port, '/healthz')).toMatchObject({ status: 503, body: 'unhealthy\n' });
    expect((await get(server.port, '/nope')).status).toBe(404);
    expect((await get(server.port, '/metrics', 'POST')).status).toBe(405);
    expect((await get(server.port, '/metrics?x=1')).status).toBe(200);
  });

  it('closes and frees the port', async () => {
    const s = await startMetricsServer(new Metrics(), { host: '127.0.0.1', port: 0, health: () => true });
    await s.close();
    await expect(get(s.port, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
