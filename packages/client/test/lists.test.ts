// Lists are paged by the server to fit one record; the SDK follows `next` so callers get everything.
import { startTestServer, type TestServer } from '@hush/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fixture } from './helpers.js';

describe('paged lists', () => {
  let server: TestServer;
  const fx = new Fixture();
  beforeAll(async () => {
    // A small frame limit: a few dozen names no longer fit one reply.
    server = await startTestServer({ limits: { maxFrameSize: 8192 } });
    for (let i = 0; i < 150; i++) server.store.createUser(`user-${String(i).padStart(3, '0')}`, null, 'user', 1);
    for (let i = 0; i < 60; i++) server.store.createRoom(`room-${String(i).padStart(2, '0')}`, '', null, 1, 'open');
  });
  afterEach(() => fx.cleanup());
  afterAll(() => server.stop());

  it('listUsers, listRooms and members return every item across pages', async () => {
    const alice = await fx.user(server, 'alice');
    await alice.createRoom('big');
    for (let i = 0; i < 150; i++) server.store.addMember('big', `user-${String(i).padStart(3, '0')}`, 'member');

    const users = (await alice.listUsers()).map((u) => u.user);
    expect(users).toHaveLength(151);
    expect(new Set(users).size).toBe(151);
    expect(users).toContain('user-149');

    const rooms = (await alice.listRooms()).map((r) => r.room);
    expect(rooms).toEqual(expect.arrayContaining(['big', 'lobby', 'room-00', 'room-59']));
    expect(rooms).toHaveLength(62);

    const members = (await alice.members('big')).map((m) => m.user);
    expect(members).toHaveLength(151);
    expect(members).toContain('alice');
  });

  it('a history page larger than the protocol allows is refused at once, in words', async () => {
    const dave = await fx.user(server, 'dave');
    await expect(dave.history({ room: 'lobby' }, { limit: 501 })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: /1 to 500/ });
    expect((await dave.history({ room: 'lobby' }, { limit: 500 })).hasMore).toBe(false);
  });
});
