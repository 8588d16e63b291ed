import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing.js';
import { registered, RawClient } from '../src/raw-client.js';
import { sealed } from './helpers/raw-server.js';

// What a test starts it undoes with onTestFinished (run last-first once the test is over).
async function start(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer({ openRooms: ['lobby'], ...overrides });
  onTestFinished(() => s.stop());
  return s;
}
async function user(server: TestServer, name: string): Promise<RawClient> {
  const c = await registered(server.port, name);
  onTestFinished(() => c.close());
  return c;
}

describe('heartbeats', () => {
  it('pings a quiet connection and closes it after the idle timeout, while one that answers stays', async () => {
    const server = await start({ limits: { heartbeatMs: 80, idleTimeoutMs: 400 } });
    const lively = await user(server, 'lively');
    const silent = await user(server, 'silent');
    const answer = (async () => {
      for (let i = 0; i < 8; i++) {
        const ping = await lively.next('ping');
        if (ping.type === 'ping') lively.send({ type: 'pong' });
      }
    })();
    expect(await silent.next('ping')).toBeTruthy();
    expect(await silent.next('goodbye', 2000)).toMatchObject({ code: 'IDLE_TIMEOUT' });
    await silent.closed;
    await answer;
    expect(lively.isClosed).toBe(false);
    expect((await lively.request({ type: 'room_list' })).type).toBe('rooms');
  });
});

describe('slow readers', () => {
  it('disconnects a reader whose queue overflows, while the others receive everything', async () => {
    const server = await start({ limits: { maxQueueBytes: 256 * 1024, messagesPerSecond: 100_000, messageBurst: 100_000 } });
    const sender = await user(server, 'sender');
    const fast = await user(server, 'fast');
    const slow = await user(server, 'slow');
    slow.socket.pause();
    const text = 'x'.repeat(3900);
    const perBatch = 40;
    let received = 0;
    let sent = 0;
    // Send until the slow reader has been dropped, then a few batches more: the others keep receiving.
    for (let i = 0, after = 0; i < 400 && after < 5; i++) {
      sender.send(...Array.from({ length: perBatch }, (_, j) => ({ type: 'send' as const, id: `s${i}-${j}`, room: 'lobby', text })));
      sent += perBatch;
      // Closed loop: the next batch goes when the fast reader has this one, so only the slow one lags.
      const lastAck = await sender.next((m) => m.type === 'ack' && m.re === `s${i}-${perBatch - 1}`, 20_000);
      if (lastAck.type !== 'ack') throw new Error('unreachable');
      await fast.next((m) => m.type === 'message' && m.msgId === lastAck.msgId, 20_000);
      received += fast.take((m) => m.type === 'message' && m.from === 'sender').length + 1;
      sender.take(() => true);
      if (server.server.metrics.get('hush_queue_drops_total') > 0) after++;
    }
    expect(received).toBe(sent);
    expect(server.server.metrics.get('hush_queue_drops_total')).toBe(1);
    slow.socket.resume();
    await slow.closed;
  }, 60_000);
});

describe('restart and shutdown', () => {
  it('keeps accounts, devices, rooms, history and the identity across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hushd-restart-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await startTestServer({ dataDir, openRooms: ['lobby'] });
    const alice = await registered(first.port, 'alice');
    await alice.expect({ type: 'room_create', room: 'keep', topic: 'kept' }, 'ok');
    const ack = await alice.expect({ type: 'send', room: 'keep', envelope: sealed('remember me') }, 'ack');
    await alice.close();
    await first.stop();

    const second = await start({ dataDir });
    expect(second.fingerprint).toBe(first.fingerprint);
    const back = await RawClient.connect(second.port);
    onTestFinished(() => back.close());
    expect(back.fingerprint).toBe(first.fingerprint);
    back.device = alice.device;
    const welcome = await back.expect(back.deviceLoginRequest('alice'), 'welcome');
    expect(welcome.rooms.find((r) => r.room === 'keep')).toMatchObject({ topic: 'kept', role: 'owner' });
    const page = await back.expect({ type: 'history', target: { room: 'keep' }, limit: 10 }, 'history_page');
    expect(page.messages).toEqual([expect.objectContaining({ msgId: ack.msgId, envelope: sealed('remember me'), from: 'alice' })]);
    const pw = await RawClient.connect(second.port);
    onTestFinished(() => pw.close());
    await pw.login('alice');
  });

  it('says goodbye SERVER_SHUTDOWN and loses no acknowledged message', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hushd-shutdown-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startTestServer({ dataDir, openRooms: ['lobby'], limits: { messagesPerSecond: 100_000, messageBurst: 100_000 } });
    const writers = await Promise.all(['writer1', 'writer2', 'writer3'].map((n) => registered(server.port, n)));
    const acked: string[] = [];
    for (const w of writers) {
      w.socket.on('data', () => {
        for (const m of w.take((x) => x.type === 'ack')) if (m.type === 'ack') acked.push(m.msgId);
      });
    }
    for (let round = 0; round < 20; round++) {
      for (const w of writers)
        w.send(...Array.from({ length: 20 }, (_, i) => ({ type: 'send' as const, id: `${round}-${i}`, room: 'lobby', text: 'm' })));
    }
    await writers[0]!.next('ack');
    const stopping = server.stop();
    const byes = await Promise.all(writers.map((w) => w.next('goodbye')));
    expect(byes.every((b) => b.type === 'goodbye' && b.code === 'SERVER_SHUTDOWN')).toBe(true);
    await stopping;
    await Promise.all(writers.map((w) => w.closed));
    for (const w of writers) for (const m of w.take((x) => x.type === 'ack')) if (m.type === 'ack') acked.push(m.msgId);
    expect(acked.length).toBeGreaterThan(0);

    const again = await start({ dataDir });
    const stored = new Set<string>();
    for (let before: string | undefined; ; ) {
      const page = again.store.history({ room: 'lobby' }, { limit: 200, ...(before ? { before } : {}) });
      for (const m of page.messages) stored.add(m.id);
      if (!page.hasMore || page.messages.length === 0) break;
      before = page.messages[0]!.id;
    }
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);
  });
});

describe('metrics', () => {
  it('counts connections, logins, messages, deliveries, protocol and handshake failures', async () => {
    const server = await start({ limits: { handshakeTimeoutMs: 200 } });
    const m = server.server.metrics;
    const a = await user(server, 'metrica');
    const b = await user(server, 'metricb');
    expect(m.get('hush_connections')).toBe(2);
    expect(m.get('hush_logins_total')).toBe(2);
    await a.expect({ type: 'send', room: 'lobby', text: 'count me' }, 'ack');
    await b.next('message');
    expect(m.get('hush_messages_in_total')).toBeGreaterThanOrEqual(3);
    expect(m.get('hush_fanout_deliveries_total')).toBeGreaterThanOrEqual(1);
    expect(m.get('hush_messages_out_total')).toBeGreaterThanOrEqual(4);
    a.sendText('{');
    await a.next('error');
    expect(m.get('hush_protocol_errors_total')).toBe(1);
    const raw = await RawClient.raw(server.port);
    onTestFinished(() => raw.close());
    await raw.next('goodbye');
    expect(m.get('hush_handshake_failures_total')).toBe(1);
  });
});
