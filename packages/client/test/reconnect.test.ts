import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@hush/server';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Fixture, homeOf, nextEvent } from './helpers.js';

describe('reconnect and catch-up', () => {
  const fx = new Fixture();
  let server: TestServer | undefined;
  afterEach(() => fx.cleanup());

  // Messages stored behind the clients' backs (store.appendMessages) are clear text: those tests run in open rooms.
  it('after a server restart: reconnects, logs in with the device key, rejoins, and shows missed messages once, in order', async () => {
    const dataDir = await fx.dir();
    server = fx.stopAfter(await startTestServer({ dataDir, openRooms: ['lobby', 'ops'] }));
    const port = server.port;
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    await alice.joinRoom('ops');
    await bob.joinRoom('ops');
    const firstDm = nextEvent(alice, 'message', (m) => m.text === 'dm before');
    await bob.send('ops', 'before');
    await bob.sendDirect('alice', 'dm before');
    await firstDm;
    await bob.close();

    const states = collect(alice, 'state');
    const messages = collect(alice, 'message');
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    await server.stop();
    await reconnecting;

    server = fx.stopAfter(await startTestServer({ dataDir, port }));
    expect(server.fingerprint).toBe(alice.fingerprint); // same identity key: the pin still matches
    // Messages alice misses while she is away (stored before she can be back).
    server.store.appendMessages([
      { kind: 'room', ts: Date.now(), from: 'bob', room: 'ops', text: 'missed 1', action: false },
      { kind: 'room', ts: Date.now(), from: 'bob', room: 'lobby', text: 'missed lobby', action: false },
      { kind: 'room', ts: Date.now(), from: 'bob', room: 'ops', text: 'missed 2', action: false },
    ]);
    await nextEvent(alice, 'state', (s) => s === 'ready', 15_000);
    expect(alice.user).toBe('alice');
    expect([...alice.rooms.keys()].sort()).toEqual(['lobby', 'ops']);

    // Bob comes back (device login) and talks live: no duplicates of anything, DMs included.
    const bob2 = await fx.connect(server, { paths: bob.paths });
    await bob2.login('bob');
    const live = nextEvent(alice, 'message', (m) => m.text === 'dm live');
    await bob2.send('ops', 'live 1');
    await bob2.sendDirect('alice', 'dm live');
    await live;

    expect(states).toEqual(['reconnecting', 'ready']);
    expect(messages.map((m) => `${m.room ?? `@${m.peer}`}:${m.text}`)).toEqual([
      'ops:missed 1',
      'lobby:missed lobby',
      'ops:missed 2',
      'ops:live 1',
      '@bob:dm live',
    ]);
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
    // The room still works for sending after the reconnect.
    await alice.send('ops', 'back');
  });

  it('pages through a long gap (450 missed messages, pages of 200) with nothing lost or repeated', async () => {
    const dataDir = await fx.dir();
    server = fx.stopAfter(await startTestServer({ dataDir, openRooms: ['lobby'] }));
    const port = server.port;
    const alice = await fx.user(server, 'amber');
    const bob = await fx.user(server, 'basil');
    const got = nextEvent(alice, 'message', (m) => m.text === 'hi');
    await bob.sendDirect('amber', 'hi');
    await got;
    const envelopeRows = server.store.history({ dm: ['amber', 'basil'] }, { limit: 1 }).messages;
    expect(envelopeRows.length).toBe(1);

    const messages = collect(alice, 'message');
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    await server.stop();
    await reconnecting;
    server = fx.stopAfter(await startTestServer({ dataDir, port }));
    const many = storedBehind(server, 'basil', 450);
    await nextEvent(alice, 'state', (s) => s === 'ready', 15_000);
    expect(messages.map((m) => m.text)).toEqual(many.map((m) => m.text));
  });

  it('close() during a reconnect stops it: calls waiting on it fail, the state is closed and stays closed', async () => {
    const dataDir = await fx.dir();
    server = fx.stopAfter(await startTestServer({ dataDir }));
    const port = server.port;
    const alice = await fx.user(server, 'clio');
    const states = collect(alice, 'state');
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    await server.stop();
    await reconnecting;
    const waiting = alice.listUsers().catch((e: unknown) => e);
    const queued = alice.send('lobby', 'never sent').catch((e: unknown) => e);
    await alice.close();
    expect(await waiting).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(await queued).toMatchObject({ code: 'CONNECTION_CLOSED' });
    server = fx.stopAfter(await startTestServer({ dataDir, port }));
    await new Promise((r) => setTimeout(r, 1500)); // several backoff delays: a live loop would be back by now
    expect(states).toEqual(['reconnecting', 'closed']);
    expect(alice.state).toBe('closed');
  });

  it('a goodbye from a shutdown is not terminal, but reconnect: false ends with closed', async () => {
    server = fx.stopAfter(await startTestServer());
    const alice = await fx.user(server, 'arno', { reconnect: false });
    const closed = nextEvent(alice, 'closed');
    await server.stop();
    server = undefined;
    expect((await closed)[0].code).toBe('SERVER_SHUTDOWN');
    expect(alice.state).toBe('closed');
  });

  it('a restarted bot gets the room messages it missed as message events, in order, before live ones', async () => {
    server = fx.stopAfter(await startTestServer());
    const bot = await fx.user(server, 'bot');
    const bob = await fx.user(server, 'bob');
    await bob.createRoom('ops');
    await bot.joinRoom('ops');
    const seenLast = nextEvent(bot, 'message', (m) => m.text === 'seen 2');
    await bob.send('lobby', 'seen 1');
    await bob.send('ops', 'seen 2');
    await seenLast;
    await bot.close();
    const missed = ['lobby:missed 1', 'ops:missed 2', 'lobby:missed 3', 'ops:missed 4'];
    for (const m of missed) {
      const [room, text] = m.split(':') as [string, string];
      await bob.send(room, text);
    }
    const again = await fx.connect(server, { paths: bot.paths });
    const got = collect(again, 'message');
    await again.login('bot');
    const live = nextEvent(again, 'message', (m) => m.text === 'live');
    await bob.send('lobby', 'live');
    await live;
    expect(got.map((m) => `${m.room}:${m.text}`)).toEqual([...missed, 'lobby:live']);
  });

  it('a brand-new device gets its first DM of an existing conversation without a gap warning; a real gap still warns', async () => {
    server = fx.stopAfter(await startTestServer());
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    for (const text of ['one', 'two', 'three']) {
      const got = nextEvent(bob, 'message', (m) => m.text === text);
      await alice.sendDirect('bob', text);
      await got;
    }
    // bob on a new machine, and alice on a second one: both see the conversation's 4th message first.
    const bob2 = await fx.connect(server);
    await bob2.login('bob', 'pw-bob-secret');
    const alice2 = await fx.connect(server);
    await alice2.login('alice', 'pw-alice-secret');
    const warnings = [bob, bob2, alice2].map((c) => collect(c, 'dmWarning'));
    const arrivals = [bob, bob2, alice2].map((c) => nextEvent(c, 'message', (m) => m.text === 'four'));
    await alice.sendDirect('bob', 'four');
    await Promise.all(arrivals);
    expect(warnings).toEqual([[], [], []]);

    // A real gap: alice's device skips two sequence numbers (as if the server dropped two DMs).
    await alice.close();
    const file = join(homeOf(alice.paths.dataDir, server).state, 'alice.json');
    const state = JSON.parse(await readFile(file, 'utf8')) as { sendSeq: Record<string, number> };
    state.sendSeq.bob! += 2;
    await mkdir(homeOf(alice.paths.dataDir, server).state, { recursive: true });
    await writeFile(file, JSON.stringify(state));
    const aliceAgain = await fx.connect(server, { paths: alice.paths });
    await aliceAgain.login('alice');
    const gaps = [bob, bob2].map((c) => nextEvent(c, 'dmWarning', (w) => w.kind === 'gap'));
    await aliceAgain.sendDirect('bob', 'seven');
    for (const [w] of await Promise.all(gaps)) expect(w).toEqual({ user: 'alice', kind: 'gap', missing: 2 });
  });

  it('a bot restarted after more than 1000 missed messages in a room gets the newest 1000, in order, and a notice', async () => {
    server = fx.stopAfter(await startTestServer({ openRooms: ['lobby'] }));
    const bot = await fx.user(server, 'bot');
    const bob = await fx.user(server, 'bob');
    const seen = nextEvent(bot, 'message', (m) => m.text === 'seen');
    await bob.send('lobby', 'seen');
    await seen;
    await bot.close();
    const many = storedBehind(server, 'bob', 1200);
    const again = await fx.connect(server, { paths: bot.paths });
    const got = collect(again, 'message');
    const notices = collect(again, 'notice');
    await again.login('bot');
    expect(got.map((m) => m.text)).toEqual(many.slice(200).map((m) => m.text));
    expect(notices.map((n) => n.code)).toEqual(['CATCH_UP_LIMIT']);
  });
});

/** `count` lines from `from` in #lobby (m0, m1, ...), stored behind the clients' backs. */
function storedBehind(server: TestServer, from: string, count: number): { text: string }[] {
  const many = Array.from({ length: count }, (_, i) => ({
    kind: 'room' as const,
    ts: Date.now(),
    from,
    room: 'lobby',
    text: `m${i}`,
    action: false,
  }));
  server.store.appendMessages(many);
  return many;
}
