// One account on two devices over real sockets, the laptop cut off (or not running) while the phone
// joins, creates and leaves rooms: once back, the laptop follows as if it had been there. A
// reconnect tells each change as a room event from elsewhere (so an app needs nothing special), an
// end-to-end room joined meanwhile reads and posts (the keys handed out while away reach the laptop),
// and a room left meanwhile refuses sends in words, nothing going out.
import { startTestServer, type TestServer } from '@hush/server';
import { CutProxy, passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { JoinedRooms } from '../src/joined-rooms.js';
import type { RoomInfo } from '../src/types.js';
import { collect, Fixture, nextEvent } from './helpers.js';

const CANARY = 'offline-rooms-canary-5e02';
/** The reconnect backs off between tries: generous, the machine is loaded. */
const BACK_MS = 30_000;

/** Every text the server stores for `room`, envelopes included. */
function stored(s: TestServer, room: string): string {
  return JSON.stringify(s.store.history({ room }, { limit: 100 }).messages);
}

/** How a call ended: its value, or the code and words it was refused with. */
function settled(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => 'sent',
    (error: unknown) => error,
  );
}

/**
 * A server with open rooms #plaza and #square, alice on a phone, bob, and the rooms the phone leaves
 * while the laptop is away: #old (end to end) and #plaza (open), both followed by the laptop. bob made #emo.
 */
async function setting(fx: Fixture): Promise<{ s: TestServer; phone: HushClient; bob: HushClient }> {
  const s = fx.stopAfter(
    await startTestServer({ openRooms: ['plaza', 'square'], limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } }),
  );
  const phone = await fx.user(s, 'alice');
  const bob = await fx.user(s, 'bob');
  await phone.createRoom('old', undefined, 'e2e');
  await phone.joinRoom('plaza');
  await bob.createRoom('emo', undefined, 'e2e');
  return { s, phone, bob };
}

/** While the laptop is away: the phone joins #emo and #square, creates #fresh, leaves #old and #plaza; bob speaks in #emo. */
async function movesOnThePhone(phone: HushClient, bob: HushClient): Promise<void> {
  await phone.joinRoom('emo');
  await phone.joinRoom('square');
  await phone.createRoom('fresh');
  await phone.partRoom('old');
  await phone.partRoom('plaza');
  await bob.send('emo', `${CANARY} said while the laptop was away`);
}

/** What the laptop must hold once back, whichever way it came back. */
async function followed(s: TestServer, laptop: HushClient, bob: HushClient): Promise<void> {
  expect([...laptop.rooms.keys()].sort()).toEqual(['emo', 'fresh', 'lobby', 'square']);
  expect(laptop.rooms.get('square')?.kind).toBe('open');
  expect(laptop.rooms.get('emo')?.kind).toBe('e2e');
  expect(laptop.rooms.get('fresh')).toMatchObject({ kind: 'e2e', role: 'owner' });

  // bob's key for #emo was handed to the laptop while it was away: what he said then opens.
  const page = await laptop.history({ room: 'emo' });
  expect(page.messages.map((m) => m.text)).toContain(`${CANARY} said while the laptop was away`);
  const live = nextEvent(laptop, 'message', (m) => m.text === `${CANARY} from bob, later`);
  await bob.send('emo', `${CANARY} from bob, later`);
  await live;
  const heard = nextEvent(bob, 'message', (m) => m.text === `${CANARY} from the laptop`);
  await laptop.send('emo', `${CANARY} from the laptop`);
  expect((await heard)[0]).toMatchObject({ from: 'alice', room: 'emo' });
  expect(stored(s, 'emo')).not.toContain(CANARY);

  await laptop.send('square', `${CANARY} in the open`);
  expect(stored(s, 'square')).toContain(`${CANARY} in the open`); // open: in clear, as its kind says

  for (const room of ['old', 'plaza']) {
    expect(await settled(laptop.send(room, `${CANARY} into #${room}, left`))).toMatchObject({
      code: 'NOT_MEMBER',
      message: `you are not in #${room}: not sent`,
    });
    expect(stored(s, room)).not.toContain(CANARY);
  }
}

describe('rooms of an account on two devices, one of them away', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('after a network loss and reconnect: rooms joined, created and left on the other device meanwhile are followed and told', async () => {
    const { s, phone, bob } = await setting(fx);
    const proxy = await CutProxy.start({ host: s.host, port: s.port });
    fx.stopAfter({ stop: () => proxy.close() });
    const laptop = await fx.connect({ host: proxy.host, port: proxy.port, fingerprint: s.fingerprint });
    await laptop.login('alice', passwordOf('alice'));
    expect([...laptop.rooms.keys()].sort()).toEqual(['lobby', 'old', 'plaza']);
    const errors = collect(laptop, 'error');

    const reconnecting = nextEvent(laptop, 'state', (st) => st === 'reconnecting');
    proxy.cut();
    await reconnecting;
    await movesOnThePhone(phone, bob);
    // Lines typed while away into the rooms left meanwhile: held, then refused in words, never sent.
    const queued = ['old', 'plaza'].map((room) => settled(laptop.send(room, `${CANARY} queued for #${room}`)));
    const events = collect(laptop, 'roomEvent');
    const notices = collect(laptop, 'notice');
    const ready = nextEvent(laptop, 'state', (st) => st === 'ready', BACK_MS);
    proxy.heal();
    await ready;

    const told = events.filter((e) => e.elsewhere).map((e) => `${e.event} ${e.room} ${e.user}`);
    expect(told.sort()).toEqual(['join emo alice', 'join fresh alice', 'join square alice', 'part old alice', 'part plaza alice']);
    expect(events.find((e) => e.room === 'fresh')?.role).toBe('owner');
    expect(notices.filter((n) => n.code === 'E2E_ROOM_JOINED').map((n) => n.text)).toEqual([
      '#emo is end-to-end encrypted: you read what is sent from now on; earlier messages stay closed to you',
      '#fresh is end-to-end encrypted: you read what is sent from now on; earlier messages stay closed to you',
    ]);
    for (const [i, room] of ['old', 'plaza'].entries()) {
      expect(await queued[i]).toMatchObject({ code: 'NOT_MEMBER' });
      expect(stored(s, room)).not.toContain(CANARY);
    }
    await followed(s, laptop, bob);
    expect(errors).toEqual([]);
    expect(notices.filter((n) => n.code === 'E2E_ROOM_MESSAGE')).toEqual([]);
  }, 60_000);

  it('at a fresh start: the rooms joined, created and left while this device was not running are as the server has them', async () => {
    const { s, phone, bob } = await setting(fx);
    const laptopPaths = await fx.paths();
    const first = await fx.connect(s, { paths: laptopPaths });
    await first.login('alice', passwordOf('alice'));
    expect([...first.rooms.keys()].sort()).toEqual(['lobby', 'old', 'plaza']);
    await first.close();

    await movesOnThePhone(phone, bob);
    const laptop = await fx.connect(s, { paths: laptopPaths });
    await laptop.login('alice');
    await followed(s, laptop, bob);
  }, 60_000);
});

describe('joined rooms, compared (pure)', () => {
  const room = (name: string, joined = true): RoomInfo => ({ room: name, topic: '', kind: 'e2e', members: 1, joined });

  it('a new list tells the rooms joined since the last one and those left', () => {
    const rooms = new JoinedRooms();
    expect(rooms.replace([room('lobby'), room('old'), room('elsewhere', false)])).toEqual({
      joined: [room('lobby'), room('old')],
      left: [],
    });
    expect(rooms.replace([room('lobby'), room('new'), room('old', false)])).toEqual({ joined: [room('new')], left: ['old'] });
    expect(rooms.replace([room('lobby'), room('new')])).toEqual({ joined: [], left: [] });
    expect(rooms.names().sort()).toEqual(['lobby', 'new']);
  });
});
