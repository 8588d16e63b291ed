// Nothing a person typed is lost: sends are paced inside the server's limits (no RATE_LIMITED for an
// honest client), carry an idempotency key, and survive a cut connection, a long outage and a
// server killed with -9, each stored exactly once. Real hushd over real sockets.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestServer, type TestServer } from '@hush/server';
import type { ServerMessage } from '@hush/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../../e2e/test/helpers-net/server-process.js';
import type { HushClient } from '../src/client.js';
import { isHushError } from '../src/errors.js';
import { CutProxy } from '@hush/test-kit';
import { collect, Fixture, nextEvent, sentAndShown } from './helpers.js';

/** How long the outage test keeps the network down: 3 s by default, HUSH_OUTAGE_MS=30000 for the 30 s run. */
const OUTAGE_MS = Number(process.env.HUSH_OUTAGE_MS ?? 3000);

/** Every `error` reply the client receives with this code (a test seam on the private reply matcher). */
function refusals(client: HushClient, code = 'RATE_LIMITED'): ServerMessage[] {
  const seen: ServerMessage[] = [];
  const requests = client['connection']['requests'];
  const settle = requests.settle.bind(requests);
  requests.settle = (m: ServerMessage) => {
    if (m.type === 'error' && m.code === code) seen.push(m);
    return settle(m);
  };
  return seen;
}

const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}`);

/** Sends every line into `room` at once; `acked()` counts the acks so far. */
function sendAll(client: HushClient, room: string, texts: readonly string[]) {
  let acked = 0;
  const sends = texts.map((text) =>
    client.send(room, text).then((ack) => {
      acked++;
      return ack;
    }),
  );
  return { sends, acked: () => acked };
}

/** The room's stored texts, oldest first, read by a client (at most 500). */
async function stored(reader: HushClient, room: string): Promise<string[]> {
  const page = await reader.history({ room }, { limit: 500 });
  return page.messages.map((m) => m.text);
}

describe('sends: paced, idempotent, never lost', () => {
  const fx = new Fixture();
  let server: TestServer | undefined;
  let proxy: CutProxy | undefined;
  let proc: ServerProcess | undefined;
  afterEach(async () => {
    await fx.cleanup();
    await proxy?.close();
    await server?.stop();
    await proc?.kill9();
    server = undefined;
    proxy = undefined;
    proc = undefined;
  });

  /** A test server, alice through a proxy the test can cut, bob directly. */
  async function behindProxy(options: { timeoutMs?: number } = {}) {
    const s = await startTestServer();
    server = s;
    const p = await CutProxy.start(s);
    proxy = p;
    const alice = await fx.user({ host: p.host, port: p.port, fingerprint: s.fingerprint }, 'alice', options);
    const bob = await fx.user(s, 'bob');
    return { alice, bob, proxy: p };
  }

  it('a 100-send burst on default server limits, with typing and read markers beside it: all acked in order, nothing refused', async () => {
    server = await startTestServer();
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    const refused = refusals(alice);
    const errors = collect(alice, 'error');
    const texts = lines(100, 'burst');
    const bobGot = collect(bob, 'message');
    const lastArrives = nextEvent(bob, 'message', (m) => m.text === 'burst 100', 30_000);
    const reads: Promise<void>[] = [];
    const sends = texts.map((text, i) => {
      alice.setTyping({ room: 'lobby' }, i % 2 === 0);
      alice.setTyping({ user: 'bob' }, true);
      return alice.send('lobby', text).then((ack) => {
        reads.push(alice.markRead({ room: 'lobby' }, ack.id));
        return ack;
      });
    });
    expect(alice.pendingSends.length).toBeGreaterThan(0);
    const acks = await Promise.all(sends);
    await Promise.all(reads);
    alice.setTyping({ room: 'lobby' }, false);
    await lastArrives;
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
    expect(alice.pendingSends).toEqual([]);
    // Server order is send order; each stored once.
    const ids = acks.map((a) => BigInt(a.id));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(bobGot.filter((m) => m.room === 'lobby').map((m) => m.text)).toEqual(texts);
    expect(await stored(bob, 'lobby')).toEqual(texts);
  }, 60_000);

  // The server stores the lines but its acks never arrive (swallowed), then the connection dies: the
  // resends carry the same keys, so the server acknowledges each with its original id instead of
  // storing it again.
  it('a connection cut mid-stream with acks lost: every send resolves and the history holds each exactly once, in order', async () => {
    const { alice, bob, proxy } = await behindProxy();
    const texts = lines(80, 'cut');
    const mine = collect(alice, 'message');
    const allStored = nextEvent(bob, 'message', (m) => m.text === 'cut 80', 30_000);
    const { sends, acked } = sendAll(alice, 'lobby', texts);
    while (acked() < 10) await sleep(5);
    proxy.swallow();
    await allStored;
    expect(acked()).toBeLessThan(texts.length);
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    proxy.cut();
    await reconnecting;
    expect(alice.pendingSends.length).toBe(texts.length - acked());
    expect(alice.pendingSends.every((p) => p.state === 'queued')).toBe(true);
    proxy.heal();
    await Promise.all(sends);
    expect(await stored(bob, 'lobby')).toEqual(texts);
    const own = mine.filter((m) => m.room === 'lobby').map((m) => m.text);
    expect(own).toEqual(texts); // each of her own lines shown once, in order
  }, 60_000);

  it('direct messages whose acks are lost on a cut go again as the same envelope: each arrives once, no replay or gap warning', async () => {
    const { alice, bob, proxy } = await behindProxy();
    const warnings = collect(bob, 'dmWarning');
    const texts = lines(5, 'dm');
    await sentAndShown(alice, bob, 'dm 0');
    const got = collect(bob, 'message');
    proxy.swallow();
    const allStored = nextEvent(bob, 'message', (m) => m.text === 'dm 5');
    const sends = texts.map((text) => alice.sendDirect('bob', text));
    await allStored;
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    proxy.cut();
    await reconnecting;
    expect(alice.pendingSends.map((p) => p.text)).toEqual(texts);
    proxy.heal();
    await Promise.all(sends);
    await sentAndShown(alice, bob, 'dm after');
    expect(got.map((m) => m.text)).toEqual([...texts, 'dm after']);
    expect(warnings).toEqual([]);
  });

  it(
    `a line sent during a ${OUTAGE_MS / 1000} s outage stays pending (no timeout, no CONNECTION_CLOSED) and is delivered after`,
    async () => {
      const { alice, bob, proxy } = await behindProxy({ timeoutMs: 2000 });
      const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
      proxy.cut();
      await reconnecting;
      let settled: string | undefined;
      const sent = alice.send('lobby', 'typed during the outage');
      sent.then(
        () => (settled = 'resolved'),
        (e: unknown) => (settled = `rejected ${String(e)}`),
      );
      expect(alice.pendingSends).toMatchObject([{ text: 'typed during the outage', target: { room: 'lobby' }, state: 'queued' }]);
      await sleep(OUTAGE_MS);
      expect(settled).toBeUndefined(); // longer than the client's own 2 s timeout: still waiting
      const arrives = nextEvent(bob, 'message', (m) => m.text === 'typed during the outage', 30_000);
      proxy.heal();
      await sent;
      await arrives;
      expect(await stored(bob, 'lobby')).toEqual(['typed during the outage']);
    },
    OUTAGE_MS + 60_000,
  );

  it('hushd killed with -9 and restarted on the same data dir with sends in flight: each stored once', async () => {
    const dataDir = await fx.dir();
    proc = await startServerProcess({ dataDir, logLevel: 'silent' });
    const at = { host: proc.host, port: proc.port, fingerprint: proc.fingerprint };
    proxy = await CutProxy.start(at);
    const alice = await fx.user({ ...at, port: proxy.port }, 'alice');
    const bob = await fx.user(at, 'bob');
    const texts = lines(120, 'crash');
    const bobGot = collect(bob, 'message');
    const { sends, acked } = sendAll(alice, 'lobby', texts);
    while (acked() < 30) await sleep(2);
    // Some lines stored with their acks lost, some on the wire when the server dies.
    proxy.swallow();
    while (bobGot.length < 60) await sleep(2);
    await proc.kill9();
    proxy.cut();
    proc = await startServerProcess({ dataDir, port: at.port, logLevel: 'silent' });
    proxy.heal();
    const acks = await Promise.all(sends);
    expect(new Set(acks.map((a) => a.id)).size).toBe(texts.length);
    // lobby is end to end: a member from before reads it (one who joins now would not).
    expect(await stored(bob, 'lobby')).toEqual(texts);
  }, 90_000);

  it('refuses before sending: text over the limit (TEXT_TOO_LONG), empty text, and a file with an unusable name', async () => {
    server = await startTestServer();
    const alice = await fx.user(server, 'alice');
    expect(alice.limits.maxTextLength).toBe(4000);
    const refused = refusals(alice, 'SCHEMA_VIOLATION');
    await expect(alice.send('lobby', 'x'.repeat(alice.limits.maxTextLength + 1))).rejects.toMatchObject({ code: 'TEXT_TOO_LONG' });
    await expect(alice.sendDirect('alice', 'y'.repeat(5000))).rejects.toMatchObject({ code: 'TEXT_TOO_LONG' });
    await expect(alice.send('lobby', '')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await alice.send('lobby', 'x'.repeat(alice.limits.maxTextLength)); // exactly the limit goes
    const dir = await fx.dir();
    for (const name of ['...', 'a\u0007b', ' ']) {
      const path = join(dir, name);
      await writeFile(path, 'data');
      const error = await alice.sendFile({ room: 'lobby' }, path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isHushError(error, 'FILE_NAME_INVALID')).toBe(true);
    }
    expect(alice.pendingFiles()).toEqual([]);
    expect(refused).toEqual([]);
  });

  it('a file offer whose sealed name is unusable is refused by the receiver with a notice', async () => {
    server = await startTestServer();
    const mallory = await fx.user(server, 'mallory');
    const bob = await fx.user(server, 'bob');
    const notice = nextEvent(bob, 'notice', (n) => n.code === 'FILE_NAME_INVALID');
    const offers = collect(bob, 'fileOffer');
    // A hostile client seals a file offer with a name no one can save under.
    await mallory['dms'].send('bob', {
      file: { fileId: 'abcdefgh1234', name: '..', size: 4, sha512: 'AAAA', key: 'AAAA', noncePrefix: 'AAAA' },
    });
    const [n] = await notice;
    expect(n.text).toContain('mallory');
    expect(n.text).toContain('only dots');
    expect(offers).toEqual([]);
  });
});
