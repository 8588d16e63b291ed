// hushd on PostgreSQL (project "postgres" only): two nodes sharing one database serve one history,
// and a node that loses its database says so (health, errors in words, no hanging), then serves
// again by itself once the database is back, with no acknowledged message lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { RawClient, registered } from '../src/raw-client.js';
import { DEFAULT_CONFIG } from '../src/config.js';
import { startDaemon } from '../src/daemon.js';
import { startTestServer, type TestServer } from '../src/testing.js';
import { capturedLog } from './helpers/log-capture.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { newDatabase } from './helpers/store-under-test.js';
import { until } from '../../test-kit/src/until.js';

const limits = { messagesPerSecond: 10_000, messageBurst: 10_000 };
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const undo of cleanup.reverse()) await undo();
});

const texts = (page: ServerMessage) =>
  page.type === 'history_page' ? page.messages.map((m) => (m.type === 'message' ? m.text : `(${m.type})`)) : [];

async function user(server: TestServer, name: string): Promise<RawClient> {
  const c = await registered(server.port, name);
  cleanup.push(() => c.close());
  return c;
}

describe('two nodes on one PostgreSQL database', () => {
  it('start together, and a message sent on node A is in the history read on node B', async () => {
    const url = await newDatabase();
    const [a, b] = await Promise.all([
      startTestServer({ store: url, openRooms: ['lobby'], limits }),
      startTestServer({ store: url, openRooms: ['lobby'], limits }),
    ]);
    cleanup.push(
      () => a.stop(),
      () => b.stop(),
    );
    const amy = await user(a, 'node-amy');
    const ack = await amy.request({ type: 'send', room: 'lobby', text: 'hello from node A' });
    expect(ack.type).toBe('ack');
    // An account made on A logs in on B; B reads A's message from the shared history.
    const bob = await user(b, 'node-bob');
    const again = await RawClient.connect(b.port); // amy again, on B, with her password
    cleanup.push(() => again.close());
    expect((await again.login('node-amy')).type).toBe('welcome');
    const page = await bob.request({ type: 'history', target: { room: 'lobby' }, limit: 10 });
    expect(texts(page)).toEqual(['hello from node A']);
    expect(page.type === 'history_page' && page.messages[0]!.msgId).toBe(ack.type === 'ack' && ack.msgId);
    // Rooms made on B are found on A (room kinds are read from the store, not only from memory).
    await bob.expect({ type: 'room_create', room: 'made-on-b', kind: 'e2e' }, 'ok');
    expect(await amy.request({ type: 'room_join', room: 'made-on-b' })).toMatchObject({ type: 'ok' });
    expect(await amy.request({ type: 'send', room: 'made-on-b', text: 'plain text' })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
    });
  });
});

describe('the data directory on PostgreSQL', () => {
  it('is not locked: two nodes on one host may share it (it holds only identity.key), and share its fingerprint', async () => {
    const url = await newDatabase();
    const a = await startTestServer({ store: url, limits });
    cleanup.push(() => a.stop());
    const b = await startTestServer({ store: url, limits, dataDir: a.dataDir });
    cleanup.push(() => b.stop());
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(a.healthy() && b.healthy()).toBe(true);
  });
});

describe('a node that loses its database', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
    cleanup.push(() => pg.stop());
  }, 60_000);

  it('is unhealthy and answers in words while PostgreSQL is down, then serves again by itself, losing no acked message', async () => {
    const server = await startTestServer({ store: await pg.createDatabase(), openRooms: ['lobby'], limits, metricsPort: 0 });
    cleanup.push(() => server.stop());
    const health = async () => (await fetch(`http://127.0.0.1:${server.metricsPort}/healthz`)).status;
    const ann = await user(server, 'outage-ann');
    const ben = await user(server, 'outage-ben');
    const acked = new Map<string, string>();
    const send = async (text: string) => {
      const reply = await ann.request({ type: 'send', room: 'lobby', text, key: text.replace(/ /g, '-') });
      if (reply.type === 'ack') acked.set(text, reply.msgId);
      return reply;
    };
    expect((await send('before the outage')).type).toBe('ack');
    expect(await health()).toBe(200);

    await pg.halt();
    const refused = await send('during the outage');
    expect(refused).toMatchObject({ type: 'error', code: 'INTERNAL' });
    expect(refused.type === 'error' && refused.message).toMatch(/cannot reach its database.*send it again/);
    expect(await ann.request({ type: 'room_list' })).toMatchObject({
      type: 'error',
      code: 'INTERNAL',
      message: expect.stringMatching(/cannot reach its database/),
    });
    expect(server.healthy()).toBe(false);
    expect(await health()).toBe(503);
    // Still alive: what needs no store answers.
    expect(await ann.ping()).toBeGreaterThanOrEqual(0);

    await pg.start();
    await until(() => server.healthy(), 'the node finds its database again');
    expect(await health()).toBe(200);
    expect((await send('during the outage')).type).toBe('ack'); // the resend the error asked for
    expect((await send('after the outage')).type).toBe('ack');
    const page = await ben.request({ type: 'history', target: { room: 'lobby' }, limit: 50 });
    expect(texts(page)).toEqual(['before the outage', 'during the outage', 'after the outage']);
    expect(page.type === 'history_page' && page.messages.map((m) => m.msgId)).toEqual([...acked.values()]);
    // New connections are accepted again.
    expect((await user(server, 'outage-cy')).isClosed).toBe(false);
  }, 60_000);

  it('logs the outage and the recovery once each, never the URL or its password', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hushd-pg-log-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    // Trust authentication ignores the password: it is only there to be kept out of the log.
    const url = (await pg.createDatabase()).replace('postgres://hush@', 'postgres://hush:pg-secret-pw@');
    const { stream: logStream, lines } = capturedLog();
    const daemon = await startDaemon(
      { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, dataDir, store: url, scryptN: 2 ** 12, openRooms: ['lobby'], logLevel: 'info' },
      { logStream },
    );
    cleanup.push(() => daemon.shutdown('test'));
    const eve = await registered(daemon.port, 'log-eve');
    cleanup.push(() => eve.close());
    await pg.halt();
    expect(await eve.request({ type: 'room_list' })).toMatchObject({ type: 'error', code: 'INTERNAL' });
    await pg.start();
    await until(() => daemon.healthy(), 'the node finds its database again');
    await daemon.shutdown('test');
    const events = lines.map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events.filter((e) => e === 'store_unavailable')).toHaveLength(1);
    expect(events.filter((e) => e === 'store_available')).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('pg-secret-pw');
    expect(lines.join('\n')).not.toContain(url);
  }, 60_000);

  it('restarted under a stream of sends: every send is acked or refused, resends store the refused once, acked ids stay', async () => {
    const server = await startTestServer({ store: await pg.createDatabase(), openRooms: ['lobby'], limits });
    cleanup.push(() => server.stop());
    const dee = await user(server, 'restart-dee');
    const total = 600;
    const sends = Array.from({ length: total }, (_, i) => ({
      type: 'send' as const,
      id: `s${i}`,
      room: 'lobby',
      text: `stream ${i}`,
      key: `stream-${i}`,
    }));
    const replies = new Map<string, ServerMessage>();
    const collect = () => {
      for (const m of dee.take((x) => 're' in x && typeof x.re === 'string' && x.re.startsWith('s')))
        replies.set((m as { re: string }).re, m);
    };
    dee.socket.on('data', collect);
    let at = 0;
    const writer = setInterval(() => {
      if (at < total) dee.send(...sends.slice(at, (at += 10)));
    }, 5);
    cleanup.push(() => clearInterval(writer));
    await until(() => replies.size >= total / 4, 'a quarter is answered');
    await pg.restart();
    await until(() => replies.size === total, 'every send is answered', 30_000);
    clearInterval(writer);
    const acked = new Map([...replies].flatMap(([id, m]) => (m.type === 'ack' ? [[id, m.msgId] as const] : [])));
    const refused = [...replies].filter(([, m]) => m.type !== 'ack');
    for (const [, m] of refused) expect(m).toMatchObject({ type: 'error', code: 'INTERNAL', message: expect.stringMatching(/database/) });
    // What was refused is sent again, with its key, once the node serves again.
    await until(() => server.healthy(), 'the node finds its database again');
    dee.socket.off('data', collect);
    for (const [id] of refused) {
      const { id: _first, ...resend } = sends[Number(id.slice(1))]!;
      const again = await dee.request(resend);
      expect(again.type).toBe('ack');
      if (again.type === 'ack') acked.set(id, again.msgId);
    }
    const stored = await server.db.history({ room: 'lobby' }, { limit: total + 10 });
    const byText = new Map<string, string[]>();
    for (const m of stored.messages) if (m.kind === 'room') byText.set(m.text, [...(byText.get(m.text) ?? []), m.id]);
    for (let i = 0; i < total; i++) expect(byText.get(`stream ${i}`), `stream ${i}`).toEqual([acked.get(`s${i}`)]);
    console.log(JSON.stringify({ pgRestartUnderLoad: { sends: total, refusedThenResent: refused.length } }));
  }, 90_000);
});
