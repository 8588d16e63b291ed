// Idempotent sends: a send or dm_send with a key this user already used is stored and relayed once;
// every repeat is acked with the original id and time: on the same connection, in the same turn,
// after a reconnect, after a restart and after kill -9.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientMessage, ServerMessage } from '@hush/protocol';
import type { AsyncStore } from '../src/store/async-store.js';
import { openStore } from '../src/store/open.js';
import type { TestServer } from '../src/testing.js';
import { storeFor, testServer } from './helpers/store-under-test.js';
import { startHushd } from './helpers/hushd-process.js';
import { registered, RawClient, selfEnvelope as envelope } from '../src/raw-client.js';

let server: TestServer;
const clients: RawClient[] = [];
const cleanup: (() => unknown)[] = [];

async function user(name: string, port = server.port): Promise<RawClient> {
  const c = await registered(port, name);
  clients.push(c);
  return c;
}

/** Another connection of `first`'s user, logged in with its device key. */
async function reconnect(first: RawClient, name: string, port = server.port): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  c.device = first.device;
  expect(await c.request(c.deviceLoginRequest(name))).toMatchObject({ type: 'welcome', user: name });
  return c;
}

type Ack = Extract<ServerMessage, { type: 'ack' }>;
const ackOf = (m: ServerMessage): Ack => {
  if (m.type !== 'ack') throw new Error(`expected an ack, got ${JSON.stringify(m)}`);
  return m;
};
const lobbyTexts = async (store: Pick<AsyncStore, 'history'>, limit = 500) =>
  (await store.history({ room: 'lobby' }, { limit })).messages.flatMap((m) => (m.kind === 'room' ? [m.text] : []));
/** The store a spawned hushd on `dataDir` used (the data directory's, or its PostgreSQL database). */
const storeOf = async (dataDir: string) => openStore({ dataDir, store: (await storeFor(dataDir)).store ?? null });
const count = <T>(list: readonly T[], value: T) => list.filter((x) => x === value).length;

beforeAll(async () => {
  server = await testServer({ openRooms: ['lobby'], limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
  for (const f of cleanup.reverse()) await f();
});

describe('idempotent sends', () => {
  it('a repeated key on the same connection is acked with the original id and time, stored and relayed once', async () => {
    const amy = await user('idem-amy');
    const bo = await user('idem-bo');
    const first = ackOf(await amy.request({ type: 'send', room: 'lobby', text: 'only once', key: 'key-same-conn-1' }));
    expect(await bo.next((m) => m.type === 'message' && m.msgId === first.msgId)).toMatchObject({ text: 'only once' });
    const again = ackOf(await amy.request({ type: 'send', room: 'lobby', text: 'only once', key: 'key-same-conn-1' }));
    expect({ msgId: again.msgId, ts: again.ts }).toEqual({ msgId: first.msgId, ts: first.ts });
    // Matched by key alone: different text under a used key is still the first message.
    const third = ackOf(await amy.request({ type: 'send', room: 'lobby', text: 'changed', key: 'key-same-conn-1' }));
    expect(third.msgId).toBe(first.msgId);
    // Neither repeat reached anyone: the next message is the one bo sees after the first.
    const after = ackOf(await amy.request({ type: 'send', room: 'lobby', text: 'next one', key: 'key-same-conn-2' }));
    expect(await bo.next('message')).toMatchObject({ msgId: after.msgId, text: 'next one' });
    expect(amy.take((m) => m.type === 'message' && m.msgId === first.msgId)).toHaveLength(1);
    const texts = await lobbyTexts(server.db);
    expect(count(texts, 'only once')).toBe(1);
    expect(count(texts, 'changed')).toBe(0);
  });

  it('repeats inside one turn (one record) give one row, and every request its ack', async () => {
    const cy = await user('idem-cy');
    const di = await user('idem-di');
    const batch: ClientMessage[] = [
      { type: 'send', id: 't1', room: 'lobby', text: 'twice in a turn', key: 'key-one-turn-1' },
      { type: 'send', id: 't2', room: 'lobby', text: 'unkeyed in between' },
      { type: 'send', id: 't3', room: 'lobby', text: 'twice in a turn', key: 'key-one-turn-1' },
      { type: 'dm_send', id: 't4', to: 'idem-di', envelope: envelope(cy, 4), key: 'key-one-turn-2' },
      { type: 'dm_send', id: 't5', to: 'idem-di', envelope: envelope(cy, 4), key: 'key-one-turn-2' },
      { type: 'send', id: 't6', room: 'lobby', text: 'twice in a turn', key: 'key-one-turn-1' },
    ];
    cy.send(...batch);
    const acks = new Map<string, Ack>();
    for (const id of ['t1', 't2', 't3', 't4', 't5', 't6']) acks.set(id, ackOf(await cy.next((m) => 're' in m && m.re === id)));
    expect(acks.get('t3')).toMatchObject({ msgId: acks.get('t1')!.msgId, ts: acks.get('t1')!.ts });
    expect(acks.get('t6')!.msgId).toBe(acks.get('t1')!.msgId);
    expect(acks.get('t5')!.msgId).toBe(acks.get('t4')!.msgId);
    expect(new Set([...acks.values()].map((a) => a.msgId)).size).toBe(3);
    expect(count(await lobbyTexts(server.db), 'twice in a turn')).toBe(1);
    expect((await server.db.history({ dm: ['idem-cy', 'idem-di'] }, { limit: 10 })).messages.map((m) => m.id)).toEqual([
      acks.get('t4')!.msgId,
    ]);
    // di got the room message and the DM once each.
    await di.next((m) => m.type === 'dm' && m.msgId === acks.get('t4')!.msgId);
    const marker = ackOf(await cy.request({ type: 'send', room: 'lobby', text: 'marker' }));
    await di.next((m) => m.type === 'message' && m.msgId === marker.msgId);
    expect(di.take((m) => (m.type === 'message' || m.type === 'dm') && m.msgId === acks.get('t1')!.msgId)).toHaveLength(1);
    expect(di.take((m) => m.type === 'dm')).toEqual([]);
  });

  it('a repeat after a reconnect (a resend of what was not acked) is acked with the original, not stored again', async () => {
    const ed = await user('idem-ed');
    const fay = await user('idem-fay');
    const room = ackOf(await ed.request({ type: 'send', room: 'lobby', text: 'before the drop', key: 'key-reconnect-1' }));
    const dm = ackOf(await ed.request({ type: 'dm_send', to: 'idem-fay', envelope: envelope(ed, 4), key: 'key-reconnect-2' }));
    await ed.close();
    const ed2 = await reconnect(ed, 'idem-ed');
    ed2.send(
      { type: 'send', id: 'again-room', room: 'lobby', text: 'before the drop', key: 'key-reconnect-1' },
      { type: 'dm_send', id: 'again-dm', to: 'idem-fay', envelope: envelope(ed2, 4), key: 'key-reconnect-2' },
    );
    expect(await ed2.next((m) => 're' in m && m.re === 'again-room')).toMatchObject({ type: 'ack', msgId: room.msgId, ts: room.ts });
    expect(await ed2.next((m) => 're' in m && m.re === 'again-dm')).toMatchObject({ type: 'ack', msgId: dm.msgId, ts: dm.ts });
    expect(count(await lobbyTexts(server.db), 'before the drop')).toBe(1);
    const marker = ackOf(await ed2.request({ type: 'dm_send', to: 'idem-fay', envelope: envelope(ed2, 4) }));
    await fay.next((m) => m.type === 'dm' && m.msgId === marker.msgId);
    expect(fay.take((m) => m.type === 'dm' && m.msgId === dm.msgId)).toHaveLength(1);
  });

  it('keys belong to their sender: the same key from another user is another message', async () => {
    const gus = await user('idem-gus');
    const hal = await user('idem-hal');
    const a = ackOf(await gus.request({ type: 'send', room: 'lobby', text: 'gus says', key: 'key-shared-by-two' }));
    const b = ackOf(await hal.request({ type: 'send', room: 'lobby', text: 'hal says', key: 'key-shared-by-two' }));
    expect(b.msgId).not.toBe(a.msgId);
    expect(await lobbyTexts(server.db)).toEqual(expect.arrayContaining(['gus says', 'hal says']));
  });

  it('a resend refused now (muted since) but stored before is acked, not refused', async () => {
    const ivy = await user('idem-ivy');
    const admin = server.db;
    const sent = ackOf(await ivy.request({ type: 'send', room: 'lobby', text: 'said before the mute', key: 'key-before-mute' }));
    await admin.setMute('lobby', 'idem-ivy', Number.POSITIVE_INFINITY);
    await ivy.close();
    const ivy2 = await reconnect(ivy, 'idem-ivy');
    expect(await ivy2.request({ type: 'send', room: 'lobby', text: 'said before the mute', key: 'key-before-mute' })).toMatchObject({
      type: 'ack',
      msgId: sent.msgId,
      ts: sent.ts,
    });
    expect(await ivy2.request({ type: 'send', room: 'lobby', text: 'new while muted', key: 'key-after-mute' })).toMatchObject({
      type: 'error',
      code: 'MUTED',
    });
  });
});

describe('idempotent sends across restarts', () => {
  it('a repeat after a server restart (same data directory) is acked with the original, even mixed with new sends', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hushd-idem-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const limits = { messagesPerSecond: 10_000, messageBurst: 10_000 };
    const one = await testServer({ dataDir, openRooms: ['lobby'], limits });
    const jo = await user('idem-jo', one.port);
    const kept = ackOf(await jo.request({ type: 'send', room: 'lobby', text: 'survives a restart', key: 'key-restart-1' }));
    await one.stop();
    await jo.closed;

    const two = await testServer({ dataDir, openRooms: ['lobby'], limits });
    cleanup.push(() => two.stop());
    const jo2 = await reconnect(jo, 'idem-jo', two.port);
    // One turn: the old key (only in the database now), a new key twice, an unkeyed send.
    jo2.send(
      { type: 'send', id: 'r-old', room: 'lobby', text: 'survives a restart', key: 'key-restart-1' },
      { type: 'send', id: 'r-new', room: 'lobby', text: 'new after restart', key: 'key-restart-2' },
      { type: 'send', id: 'r-plain', room: 'lobby', text: 'plain after restart' },
      { type: 'send', id: 'r-new-again', room: 'lobby', text: 'new after restart', key: 'key-restart-2' },
    );
    const acks = new Map<string, Ack>();
    for (const id of ['r-old', 'r-new', 'r-plain', 'r-new-again']) acks.set(id, ackOf(await jo2.next((m) => 're' in m && m.re === id)));
    expect(acks.get('r-old')).toMatchObject({ msgId: kept.msgId, ts: kept.ts });
    expect(acks.get('r-new-again')!.msgId).toBe(acks.get('r-new')!.msgId);
    expect(Number(acks.get('r-new')!.msgId)).toBeGreaterThan(Number(kept.msgId));
    const texts = await lobbyTexts(two.db);
    expect([count(texts, 'survives a restart'), count(texts, 'new after restart'), count(texts, 'plain after restart')]).toEqual([1, 1, 1]);
  });

  it('after kill -9 mid-stream, resending every key stores each message exactly once and keeps acked ids', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hushd-idem-kill-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    writeFileSync(join(dataDir, 'hushd.json'), JSON.stringify({ limits: { messagesPerSecond: 100_000, messageBurst: 100_000 } }));
    const { store: url } = await storeFor(dataDir);
    const args = ['--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn', '--open-rooms', 'lobby'];
    if (url !== undefined) args.push('--store', url);
    const first = await startHushd(args);
    cleanup.push(() => first.child.kill('SIGKILL'));
    const kim = await user('idem-kim', first.port);
    const total = 1000;
    const sends = Array.from({ length: total }, (_, i) => ({
      type: 'send' as const,
      id: `k${i}`,
      room: 'lobby',
      text: `crash line ${i}`,
      key: `crash-key-${String(i).padStart(4, '0')}`,
    }));
    const acked = new Map<string, string>();
    kim.socket.on('data', () => {
      for (const m of kim.take((x) => x.type === 'ack')) if (m.type === 'ack') acked.set(m.re, m.msgId);
    });
    // A steady stream; the server dies when about a third is acked, with more in flight.
    let at = 0;
    const writer = setInterval(() => {
      if (at < total && !kim.isClosed) kim.send(...sends.slice(at, (at += 10)));
    }, 2);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (acked.size < total / 3) return;
        clearInterval(poll);
        resolve();
      }, 1);
    });
    first.child.kill('SIGKILL');
    await first.exited;
    clearInterval(writer);
    await kim.closed;
    for (const m of kim.take((x) => x.type === 'ack')) if (m.type === 'ack') acked.set(m.re, m.msgId);
    const crashed = await storeOf(dataDir);
    const storedBeforeRestart = (await lobbyTexts(crashed.store, 2000)).filter((t) => t.startsWith('crash line')).length;
    await crashed.close();
    expect(storedBeforeRestart).toBeGreaterThanOrEqual(acked.size);

    const second = await startHushd(args);
    cleanup.push(() => second.stop());
    const kim2 = await reconnect(kim, 'idem-kim', second.port);
    for (let at = 0; at < total; at += 20) kim2.send(...sends.slice(at, at + 20));
    const again = new Map<string, string>();
    for (const s of sends) again.set(s.id, ackOf(await kim2.next((m) => 're' in m && m.re === s.id, 15_000)).msgId);
    for (const [id, msgId] of acked) expect(again.get(id), id).toBe(msgId);
    expect(new Set(again.values()).size).toBe(total);
    await kim2.close();
    expect(await second.stop()).toBe(0);

    const after = await storeOf(dataDir);
    try {
      const texts = await lobbyTexts(after.store, 2000);
      for (const s of sends) expect(count(texts, s.text), s.text).toBe(1);
    } finally {
      await after.close();
    }
    // How often a resend would have duplicated without keys: stored before the kill but never acked.
    console.log(JSON.stringify({ killNine: { sentBeforeKill: at, ackedBeforeKill: acked.size, storedBeforeKill: storedBeforeRestart } }));
  }, 60_000);
});
