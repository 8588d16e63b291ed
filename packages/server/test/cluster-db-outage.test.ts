// Real hushd processes on PostgreSQL (+ NATS) while the database goes away: what the operator
// reads. The start banner names the store and the bus; the outage is one store_unavailable line
// and one store_available line per node, not an error line a second from the admin-request poller;
// a send meanwhile is refused as temporary (retryAfterMs), so that clients send it again by themselves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registered } from '../src/raw-client.js';
import { type HushdProcess, startHushd } from './helpers/hushd-process.js';
import { startNats, type TestNats } from './helpers/nats.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const undo of cleanup.reverse()) await undo();
});

let pg: TestPostgres;
let nats: TestNats;
beforeAll(async () => {
  [pg, nats] = await Promise.all([startPostgres(), startNats()]);
  cleanup.push(
    () => pg.stop(),
    () => nats.stop(),
  );
}, 60_000);

async function node(store: string, bus?: string, ...more: string[]): Promise<HushdProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hushd-db-outage-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const args = ['--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--log-level', 'info', '--store', store];
  const started = await startHushd([...args, ...(bus === undefined ? [] : ['--bus', bus]), ...more]);
  cleanup.push(() => started.stop());
  return started;
}

describe('hushd nodes whose database goes away', () => {
  it('say store and bus at start, then log the outage once and its end once: no error line every second', async () => {
    const url = await pg.createDatabase();
    const nodes = [await node(url, nats.url, '--open-rooms', 'plain'), await node(url, nats.url, '--open-rooms', 'plain')];
    for (const n of nodes) expect(n.stderr()).toContain('store: PostgreSQL, bus: NATS\n');
    const alone = await node(await pg.createDatabase());
    expect(alone.stderr()).toContain('store: PostgreSQL, bus: none (this node alone)\n');
    await alone.stop();

    const amy = await registered(nodes[1]!.port, 'outage-amy');
    cleanup.push(() => amy.close());
    await amy.expect({ type: 'room_join', room: 'plain' }, 'ok');
    expect(await amy.request({ type: 'send', room: 'plain', text: 'before', key: 'outage-key-1' })).toMatchObject({ type: 'ack' });

    await pg.halt();
    // A send the server could not store, and a request that needs the store, are refused for now.
    for (const request of [{ type: 'send', room: 'plain', text: 'during', key: 'outage-key-2' }, { type: 'room_list' }] as const) {
      expect(await amy.request(request)).toMatchObject({ type: 'error', code: 'INTERNAL', retryAfterMs: 1000 });
    }
    for (const n of nodes) await n.waitForLog('store_unavailable');
    // Several rounds of the admin-request poller (one a second) while the database is away.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    await pg.start();
    for (const n of nodes) await n.waitForLog('store_available', undefined, 20_000);

    for (const n of nodes) {
      const events = n.log().map((l) => l.event);
      expect(events.filter((e) => e === 'store_unavailable')).toHaveLength(1);
      expect(events.filter((e) => e === 'store_available')).toHaveLength(1);
      expect(events.filter((e) => e === 'admin_requests_failed')).toEqual([]);
      // Error lines: the outage's one.
      expect(
        n
          .log()
          .filter((l) => l.level === 'error')
          .map((l) => l.event),
      ).toEqual(['store_unavailable']);
    }
  }, 90_000);
});
