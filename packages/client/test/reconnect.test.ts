import { startTestServer, type TestServer } from '@hush/server';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Fixture, nextEvent } from './helpers.js';

describe('reconnect and catch-up', () => {
  const fx = new Fixture();
  let server: TestServer | undefined;
  afterEach(async () => {
    await fx.cleanup();
    await server?.stop();
    server = undefined;
  });

  it('after a server restart: reconnects, logs in with the device key, rejoins, and shows missed messages once, in order', async () => {
    const dataDir = await fx.dir();
    server = await startTestServer({ dataDir });
    const port = server.port;
    const alice = await fx.user(server, 'alice');
    const bobPaths = await fx.paths();
    const bob = await fx.user(server, 'bob', { paths: bobPaths });
    await alice.createRoom('ops');
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

    server = await startTestServer({ dataDir, port });
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
    const bob2 = await fx.connect(server, { paths: bobPaths });
    await bob2.login('bob');
    const live = nextEvent(alice, 'message', (m) => m.text === 'dm live');
    await bob2.send('ops', 'live 1');
    await bob2.sendDirect('alice', 'dm live');
    await live;

    expect(states).toEqual(['reconnecting', 'ready']);
    expect(messages.map((m) => `${m.room ?? '@' + m.peer}:${m.text}`)).toEqual([
      'ops:missed 1', 'lobby:missed lobby', 'ops:missed 2', 'ops:live 1', '@bob:dm live',
    ]);
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
    // The room still works for sending after the reconnect.
    await alice.send('ops', 'back');
  });

  it('pages through a long gap (450 missed messages, pages of 200) with nothing lost or repeated', async () => {
    const dataDir = await fx.dir();
    server = await startTestServer({ dataDir });
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
    server = await startTestServer({ dataDir, port });
    const many = Array.from({ length: 450 }, (_, i) => ({
      kind: 'room' as const, ts: Date.now(), from: 'basil', room: 'lobby', text: `m${i}`, action: false,
    }));
    server.store.appendMessages(many);
    await nextEvent(alice, 'state', (s) => s === 'ready', 15_000);
    expect(messages.map((m) => m.text)).toEqual(many.map((m) => m.text));
  });

  it('a goodbye from a shutdown is not terminal, but reconnect: false ends with closed', async () => {
    server = await startTestServer();
    const alice = await fx.user(server, 'arno', { reconnect: false });
    const closed = nextEvent(alice, 'closed');
    await server.stop();
    server = undefined;
    expect((await closed)[0].code).toBe('SERVER_SHUTDOWN');
    expect(alice.state).toBe('closed');
  });
});
