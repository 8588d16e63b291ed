import { startTestServer } from '@hush/server';
import { sharedServer } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { DeviceIdentity } from '@hush/crypto';
import { HushClient } from '../src/client.js';
import { compareIds } from '../src/message-ids.js';
import { DeviceStore } from '../src/device-store.js';
import { collect, Fixture, homeOf, nextEvent } from './helpers.js';
import { isHushError } from '../src/errors.js';
import type { RoomRole } from '../src/types.js';

describe('accounts, rooms, messages, presence, moderation against a real hushd', () => {
  const fx = new Fixture();
  const server = sharedServer(startTestServer, fx);

  it('register, then a new connection logs in with the device key (no password); a fresh device needs the password', async () => {
    const paths = await fx.paths();
    const first = await fx.connect(server, { paths });
    await first.register('Alice', 'correct horse battery');
    expect(first.user).toBe('alice');
    expect(first.rooms.has('lobby')).toBe(true);
    expect(first.hasDeviceFor('alice')).toBe(true);
    await first.close();

    const again = await fx.connect(server, { paths });
    await again.login('alice'); // device login: no password given
    expect(again.user).toBe('alice');

    const other = await fx.connect(server);
    expect(other.hasDeviceFor('alice')).toBe(false);
    await expect(other.login('alice')).rejects.toMatchObject({ code: 'PASSWORD_REQUIRED' });
    await expect(other.login('alice', 'wrong password!!')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('falls back to the password when the server does not know the bound device', async () => {
    const paths = await fx.paths();
    const reg = await fx.connect(server);
    await reg.register('dora', 'dora-password-1');
    // A device this client believes bound, which the server never saw.
    await new DeviceStore(homeOf(paths.dataDir, server).devices).save('dora', DeviceIdentity.generate(), true);
    const client = await fx.connect(server, { paths });
    expect(client.hasDeviceFor('dora')).toBe(true);
    await expect(client.login('dora')).rejects.toMatchObject({ code: 'DEVICE_UNKNOWN' });
    const again = await fx.connect(server, { paths });
    await again.login('dora', 'dora-password-1');
    expect(again.user).toBe('dora');
    await again.close(); // one client at a time on a device
    // Now bound for real: the next login needs no password.
    const third = await fx.connect(server, { paths });
    await third.login('dora');
    expect(third.user).toBe('dora');
  });

  it('a room event carries the kind and role of the protocol, typed as such (a typo such as "joined" does not compile)', async () => {
    const owner = await fx.user(server, 'rhea');
    const member = await fx.user(server, 'rufus');
    await owner.createRoom('ranks');
    await member.joinRoom('ranks');
    const [[promoted]] = await Promise.all([
      nextEvent(owner, 'roomEvent', (e) => e.event === 'role' && e.user === 'rufus'),
      owner.setRole('ranks', 'rufus', 'op'),
    ]);
    const kind: 'join' | 'part' | 'kick' | 'ban' | 'mute' | 'unmute' | 'topic' | 'role' | 'create' = promoted.event;
    const role: RoomRole | undefined = promoted.role;
    expect([kind, role]).toEqual(['role', 'op']);
  });

  it('room messages and /me reach the other member once, with mine set only for the sender', async () => {
    const alice = await fx.user(server, 'amy');
    const bob = await fx.user(server, 'ben');
    await alice.createRoom('tea', 'all about tea');
    expect(alice.rooms.get('tea')).toMatchObject({ room: 'tea', topic: 'all about tea', joined: true, role: 'owner' });
    const joined = nextEvent(alice, 'roomEvent', (e) => e.event === 'join' && e.user === 'ben');
    await bob.joinRoom('tea');
    await joined;
    expect(bob.rooms.get('tea')?.topic).toBe('all about tea');

    const bobSees = collect(bob, 'message');
    const aliceSees = collect(alice, 'message');
    const got = nextEvent(bob, 'message', (m) => m.action);
    const sent = await alice.send('tea', 'hello ben');
    await alice.action('tea', 'pours tea');
    await got;
    expect(bobSees.map((m) => [m.kind, m.room, m.from, m.text, m.action, m.mine])).toEqual([
      ['room', 'tea', 'amy', 'hello ben', false, false],
      ['room', 'tea', 'amy', 'pours tea', true, false],
    ]);
    expect(bobSees[0]!.id).toBe(sent.id);
    expect(aliceSees.map((m) => [m.text, m.mine])).toEqual([
      ['hello ben', true],
      ['pours tea', true],
    ]);

    const members = await alice.members('tea');
    expect(members.map((m) => [m.user, m.role]).sort()).toEqual([
      ['amy', 'owner'],
      ['ben', 'member'],
    ]);
    expect((await alice.listRooms()).map((r) => r.room)).toContain('tea');
    expect((await alice.listUsers()).map((u) => u.user)).toEqual(expect.arrayContaining(['amy', 'ben']));

    const topic = nextEvent(bob, 'roomEvent', (e) => e.event === 'topic');
    await alice.setTopic('tea', 'green only');
    expect((await topic)[0].topic).toBe('green only');
    expect(bob.rooms.get('tea')?.topic).toBe('green only');

    await bob.partRoom('tea');
    expect(bob.rooms.has('tea')).toBe(false);
    await expect(bob.send('tea', 'gone')).rejects.toMatchObject({ code: 'NOT_MEMBER' });
  });

  it("own room messages come back from the server and are shown once, in server order, like everyone else's", async () => {
    const alice = await fx.user(server, 'ola');
    const bob = await fx.user(server, 'pim');
    await alice.createRoom('order');
    const joined = nextEvent(alice, 'roomEvent', (e) => e.event === 'join' && e.user === 'pim');
    await bob.joinRoom('order');
    await joined;
    const aliceSees = collect(alice, 'message');
    const bobSees = collect(bob, 'message');
    // Both talk at once, without waiting for acks: their messages interleave on the server.
    const sends = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? alice : bob).send('order', `m${i}`)));
    const ids = sends.map((s) => s.id).sort(compareIds);
    const last = ids[ids.length - 1]!;
    for (const [client, seen] of [
      [alice, aliceSees],
      [bob, bobSees],
    ] as const) {
      if (!seen.some((m) => m.id === last)) await nextEvent(client, 'message', (m) => m.id === last);
      expect(seen.map((m) => m.id)).toEqual(ids);
      expect(seen.map((m) => m.mine)).toEqual(seen.map((m) => m.from === client.user));
    }
  });

  it('presence, typing and read markers arrive as events', async () => {
    const alice = await fx.user(server, 'pam');
    const bob = await fx.user(server, 'pete');
    const away = nextEvent(bob, 'presence', (p) => p.user === 'pam' && p.state === 'away');
    await alice.setPresence('away', 'lunch');
    expect((await away)[0]).toEqual({ user: 'pam', state: 'away', status: 'lunch' });

    const typing = nextEvent(bob, 'typing', (t) => t.from === 'pam');
    alice.setTyping({ room: 'lobby' }, true);
    expect((await typing)[0]).toEqual({ from: 'pam', target: { room: 'lobby' }, active: true });

    // A read marker on a DM reaches the peer; on a room it syncs the reader's other sessions.
    const dm = nextEvent(alice, 'message', (m) => m.text === 'read me');
    const { id } = await bob.sendDirect('pam', 'read me');
    await dm;
    const read = nextEvent(bob, 'read', (r) => r.from === 'pam');
    await alice.markRead({ user: 'pete' }, id);
    expect((await read)[0]).toEqual({ from: 'pam', target: { user: 'pam' }, msgId: id });
  });

  it('history pages back with before/hasMore, oldest first', async () => {
    const alice = await fx.user(server, 'hank');
    await alice.createRoom('log');
    const ids: string[] = [];
    for (let i = 1; i <= 7; i++) ids.push((await alice.send('log', `line ${i}`)).id);
    const newest = await alice.history({ room: 'log' }, { limit: 3 });
    expect(newest.messages.map((m) => m.text)).toEqual(['line 5', 'line 6', 'line 7']);
    expect(newest.hasMore).toBe(true);
    const older = await alice.history({ room: 'log' }, { limit: 3, before: newest.messages[0]!.id });
    expect(older.messages.map((m) => m.text)).toEqual(['line 2', 'line 3', 'line 4']);
    const oldest = await alice.history({ room: 'log' }, { limit: 3, before: older.messages[0]!.id });
    expect(oldest.messages.map((m) => m.id)).toEqual([ids[0]]);
    expect(oldest.hasMore).toBe(false);
  });

  it('moderation: kick, mute/unmute, roles; an admin ban closes the banned client for good', async () => {
    const owner = await fx.user(server, 'olga');
    const pathsM = await fx.paths();
    const member = await fx.user(server, 'mike', { paths: pathsM });
    await owner.createRoom('mod');
    await member.joinRoom('mod');

    await owner.mute('mod', 'mike', 60);
    await expect(member.send('mod', 'hi')).rejects.toMatchObject({ code: 'MUTED' });
    await owner.unmute('mod', 'mike');
    await member.send('mod', 'hi again');

    await expect(member.kick('mod', 'olga')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const kicked = nextEvent(member, 'roomEvent', (e) => e.event === 'kick' && e.user === 'mike');
    await owner.kick('mod', 'mike', 'spam');
    expect((await kicked)[0]).toMatchObject({ room: 'mod', by: 'olga', reason: 'spam' });
    expect(member.rooms.has('mod')).toBe(false);

    await member.joinRoom('mod');
    const role = nextEvent(member, 'roomEvent', (e) => e.event === 'role');
    await owner.setRole('mod', 'mike', 'op');
    expect((await role)[0]).toMatchObject({ user: 'mike', role: 'op' });
    expect(member.rooms.get('mod')?.role).toBe('op');

    await expect(owner.ban({ user: 'mike' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Make olga a server admin (takes effect at her next login).
    server.store.setServerRole('olga', 'admin');
    const ownerPaths = (owner as unknown as { paths: { configDir: string; dataDir: string } }).paths;
    await owner.close(); // one client at a time on a device
    const admin = await fx.connect(server, { paths: ownerPaths });
    await admin.login('olga');
    const closed = nextEvent(member, 'closed');
    const notices: unknown[] = [];
    member.on('notice', (n) => notices.push(n));
    await admin.ban({ user: 'mike', reason: 'bye', seconds: 3600 });
    // A ban for a while says until when.
    expect((await closed)[0]).toMatchObject({ code: 'BANNED', reason: expect.stringMatching(/^bye \(until .+ UTC\)$/) });
    // The ban is said once, by 'closed', not again as a notice.
    expect(notices).not.toContainEqual(expect.objectContaining({ code: 'BANNED' }));
    expect(member.state).toBe('closed');
    const retry = await fx.connect(server, { paths: pathsM });
    await expect(retry.login('mike')).rejects.toMatchObject({ code: 'BANNED' });
    await admin.unban({ user: 'mike' });
    await retry.login('mike');
    expect(retry.user).toBe('mike');
  });

  it('close() is clean: no reconnect, pending calls rejected, state closed', async () => {
    const alice = await fx.user(server, 'cleo');
    const states = collect(alice, 'state');
    const closedEvent = nextEvent(alice, 'closed');
    const pending = alice.listUsers().catch((e: unknown) => e);
    await alice.close();
    expect(await pending).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect((await closedEvent)[0]).toEqual({});
    expect(states).toEqual(['closed']);
    expect(alice.state).toBe('closed');
    await expect(alice.send('lobby', 'x')).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    await new Promise((r) => setTimeout(r, 400)); // a reconnect would have started by now
    expect(states).toEqual(['closed']);
  });

  it('logout ends the session; the client reconnects anonymously and can log in again', async () => {
    const alice = await fx.user(server, 'lou');
    const states = collect(alice, 'state');
    await alice.logout();
    expect(alice.user).toBeNull();
    expect(alice.state).toBe('ready');
    expect(states).toEqual([]); // the fresh connection is opened at once: never 'reconnecting'
    await alice.login('lou');
    expect(alice.user).toBe('lou');
  });
});

describe('HushClient without a server', () => {
  it('connect to a closed port fails with CONNECT_FAILED', async () => {
    const fx = new Fixture();
    const paths = await fx.paths();
    const srv = await startTestServer();
    const port = srv.port;
    await srv.stop();
    await expect(HushClient.connect({ host: '127.0.0.1', port, paths, trust: () => true, timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
    });
    await fx.cleanup();
  });

  it('an address that is none (a port from a mistyped HUSH_PORT, an empty host) is refused as a HushError in words', async () => {
    const fx = new Fixture();
    const paths = await fx.paths();
    const bad: { host: string; port: number; failover?: { host: string; port: number }[]; words: RegExp }[] = [
      {
        host: '127.0.0.1',
        port: Number('5555x'),
        words: /^127\.0\.0\.1: port NaN is not a port number \(a whole number from 1 to 65535\)$/,
      },
      { host: '127.0.0.1', port: 70000, words: /port 70000 is not a port number/ },
      { host: '', port: 5555, words: /^no server address: the host is empty/ },
      { host: '127.0.0.1', port: 5555, failover: [{ host: 'node2', port: 0 }], words: /^node2: port 0 is not a port number/ },
    ];
    for (const { words, ...address } of bad) {
      const error = await HushClient.connect({ ...address, paths, trust: () => true }).catch((e: unknown) => e);
      expect(isHushError(error, 'BAD_REQUEST'), String(error)).toBe(true);
      expect((error as Error).message).toMatch(words);
    }
    await fx.cleanup();
  });
});
