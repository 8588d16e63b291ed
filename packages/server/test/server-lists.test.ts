// Paged list replies (users, rooms, members): every item reachable through `next`, none cut off
// silently, even when a page must shrink to fit one record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import type { TestServer } from '../src/testing.js';
import { testServer } from './helpers/store-under-test.js';
import { registered, type ClientRequest, type RawClient } from '../src/raw-client.js';

let server: TestServer;
let me: RawClient;

// A small frame limit (reply budget 4 KiB), so a few dozen users no longer fit one reply.
const MAX_FRAME = 8192;

beforeAll(async () => {
  server = await testServer({ openRooms: ['lobby'], limits: { maxFrameSize: MAX_FRAME } });
  me = await registered(server.port, 'pager');
  await me.expect({ type: 'room_create', room: 'big' }, 'ok');
  for (let i = 0; i < 150; i++) {
    const name = `user-${String(i).padStart(3, '0')}`;
    await server.db.createUser(name, null, 'user', 1);
    await server.db.addMember('big', name, 'member');
  }
  for (let i = 0; i < 30; i++) await server.db.createRoom(`room-${String(i).padStart(2, '0')}`, '', null, 1, 'open');
});
afterAll(async () => {
  await me.close();
  await server.stop();
});

type ListReply = Extract<ServerMessage, { type: 'users' | 'rooms' | 'members' }>;
const itemsOf = (r: ListReply): string[] =>
  r.type === 'users' ? r.users.map((u) => u.user) : r.type === 'rooms' ? r.rooms.map((x) => x.room) : r.members.map((x) => x.user);

/** Follows `next` from the first page to the last; returns every page's items. */
async function allPages(request: ClientRequest, type: ListReply['type']): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const reply = (await me.expect({ ...request, ...(cursor !== undefined ? { cursor } : {}) } as ClientRequest, type)) as ListReply;
    pages.push(itemsOf(reply));
    cursor = reply.next;
    if (cursor !== undefined) expect(cursor).toBe(itemsOf(reply).at(-1));
  } while (cursor !== undefined && pages.length < 100);
  return pages;
}

describe('paged lists', () => {
  it('pages users past the frame limit without losing anyone', async () => {
    const first = await me.expect({ type: 'users_list' }, 'users');
    // Cut to fit one record, and says so.
    expect(first.users.length).toBeGreaterThan(0);
    expect(first.users.length).toBeLessThan(151);
    expect(first.next).toBe(first.users.at(-1)?.user);
    const pages = await allPages({ type: 'users_list' }, 'users');
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flat()).toEqual((await server.db.listUsers()).map((u) => u.name));
    expect(pages.flat()).toHaveLength(151);
  });

  it('honours limit and cursor for users, rooms and members', async () => {
    const seven = await me.expect({ type: 'users_list', limit: 7 }, 'users');
    expect(seven.users.map((u) => u.user)).toEqual((await server.db.listUsers()).slice(0, 7).map((u) => u.name));
    expect(seven.next).toBe('user-005');
    expect(seven.users[0]).toMatchObject({ user: 'pager', state: 'online' });

    const rooms = await allPages({ type: 'room_list', limit: 10 }, 'rooms');
    expect(rooms.map((p) => p.length)).toEqual([10, 10, 10, 2]);
    expect(rooms.flat()).toEqual((await server.db.listRooms()).map((r) => r.name));

    const members = await allPages({ type: 'room_members', room: 'big', limit: 40 }, 'members');
    expect(members.flat()).toEqual((await server.db.listMembers('big')).map((m) => m.user));
    expect(members.flat()).toHaveLength(151);

    // Exactly the end: no `next`; past the end: an empty page.
    const last = await me.expect({ type: 'room_list', cursor: 'room-28' }, 'rooms');
    expect(last.rooms.map((r) => r.room)).toEqual(['room-29']);
    expect(last.next).toBeUndefined();
    expect(await me.expect({ type: 'users_list', cursor: 'zzz' }, 'users')).toMatchObject({ users: [] });
    me.sendText(JSON.stringify({ type: 'users_list', id: 'zero', limit: 0 }));
    expect(await me.next('error')).toMatchObject({ code: 'SCHEMA_VIOLATION' });
  });
});
