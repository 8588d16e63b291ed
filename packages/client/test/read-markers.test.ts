// A conversation read on another device while this one was away (cut off, or not running) counts as
// read here once it is back: the SDK asks the server for the account's read markers after each login
// and catch-up (protocol 6) and tells the ones that moved as `read` events from the user.
import { startTestServer, type TestServer } from '@hush/server';
import { passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { collect, Fixture, nextEvent, sentAndShown } from './helpers.js';

describe('read markers from the account’s other devices', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  async function laptopOf(s: TestServer, user: string): Promise<HushClient> {
    const laptop = await fx.connect(s);
    await laptop.login(user, passwordOf(user));
    return laptop;
  }

  it('after a reconnect: what the laptop read meanwhile is told as read, after the messages caught up', async () => {
    const server = fx.stopAfter(await startTestServer());
    const { proxy, via } = await fx.proxyTo(server);
    const phone = await fx.user(via, 'alice');
    const laptop = await laptopOf(server, 'alice');
    const bob = await fx.user(server, 'bob');
    const before = await sentAndShown(bob, phone, 'read here before');
    await phone.markRead({ user: 'bob' }, before.id);

    const reconnecting = nextEvent(phone, 'state', (s) => s === 'reconnecting');
    proxy.cut();
    await reconnecting;
    const away = await sentAndShown(bob, laptop, 'sent while the phone was away');
    const inRoom = await sentAndShown(bob, laptop, 'and in the room', 'lobby');
    await laptop.markRead({ user: 'bob' }, away.id);
    await laptop.markRead({ room: 'lobby' }, inRoom.id);

    const told: string[] = [];
    phone.on('message', (m) => told.push(`message ${m.text}`));
    phone.on('read', (r) => told.push(`read ${r.from} ${'room' in r.target ? `#${r.target.room}` : `@${r.target.user}`} ${r.msgId}`));
    const ready = nextEvent(phone, 'state', (s) => s === 'ready', 15_000);
    proxy.heal();
    await ready;
    await sentAndShown(bob, phone, 'live after');
    // The phone's own marker (on 'read here before') is not told again.
    expect(told).toEqual([
      'message sent while the phone was away',
      'message and in the room',
      `read alice #lobby ${inRoom.id}`,
      `read alice @bob ${away.id}`,
      'message live after',
    ]);
    expect(phone.lastRead({ user: 'bob' })).toBe(away.id);
    expect(phone.lastRead({ room: 'lobby' })).toBe(inRoom.id);
  }, 60_000);

  it('at a new start: lastRead holds what the account read elsewhere; live markers move it', async () => {
    const server = fx.stopAfter(await startTestServer());
    const paths = await fx.paths();
    const first = await fx.user(server, 'alice', { paths });
    const bob = await fx.user(server, 'bob');
    await sentAndShown(bob, first, 'before');
    await first.close();

    const laptop = await laptopOf(server, 'alice');
    const whileClosed = await sentAndShown(bob, laptop, 'while the phone was closed');
    await laptop.markRead({ user: 'bob' }, whileClosed.id);

    const phone = await fx.connect(server, { paths });
    await phone.login('alice');
    expect(phone.lastRead({ user: 'bob' })).toBe(whileClosed.id);
    expect(phone.lastRead({ room: 'lobby' })).toBeUndefined();

    const reads = collect(phone, 'read');
    const live = await sentAndShown(bob, laptop, 'live');
    const told = nextEvent(phone, 'read', (r) => r.msgId === live.id);
    await laptop.markRead({ user: 'bob' }, live.id);
    await told;
    expect(phone.lastRead({ user: 'bob' })).toBe(live.id);
    expect(reads.map((r) => r.from)).toEqual(['alice']);
  }, 60_000);

  it('markRead of no message id is refused in words and moves nothing', async () => {
    const server = fx.stopAfter(await startTestServer());
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    const real = await sentAndShown(bob, alice, 'a real one');
    await alice.markRead({ user: 'bob' }, real.id);
    for (const bad of ['abc', '', '12a', '1'.repeat(21)]) {
      await expect(alice.markRead({ user: 'bob' }, bad)).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: `${JSON.stringify(bad)} is no message id: ids are the decimal strings messages carry`,
      });
    }
    expect(alice.lastRead({ user: 'bob' })).toBe(real.id);
    const next = await sentAndShown(bob, alice, 'and the next');
    await alice.markRead({ user: 'bob' }, next.id);
    expect(alice.lastRead({ user: 'bob' })).toBe(next.id);
  });
});
