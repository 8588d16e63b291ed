import { e2eRoom, passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import type { TestServer } from '@hush/server';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ServerMessageOf } from '@hush/protocol';
import { JoinedRooms } from '../src/joined-rooms.js';
import { ownDevicesNotice } from '../src/own-devices.js';
import { collect, Fixture, nextEvent } from './helpers.js';

// One account on two devices over real sockets: a room created, joined or left on one device is
// followed by the other (its kind learned before anything is sent there: sealed, never in clear);
// the other devices are told when a device is added; a new device is told what stays closed to it.

const CANARY = 'other-device-canary-7d31';

/** alice on a phone (registered) and a laptop (a second device: a password login), and bob. */
async function twoDevices(fx: Fixture, s: TestServer): Promise<{ phone: HushClient; laptop: HushClient; bob: HushClient }> {
  const phone = await fx.user(s, 'alice');
  const bob = await fx.user(s, 'bob');
  const laptop = await fx.connect(s);
  await laptop.login('alice', passwordOf('alice'));
  return { phone, laptop, bob };
}

/** A TCP relay that can hold back what the server sends (in order, none lost) until release(). */
class HoldingRelay {
  readonly host = '127.0.0.1';
  port = 0;
  private holding = false;
  private readonly held: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(target: { host: string; port: number }): Promise<HoldingRelay> {
    const relay: HoldingRelay = new HoldingRelay(
      createServer((client) => {
        const upstream = connect(target);
        for (const socket of [client, upstream]) {
          relay.sockets.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.on('data', (d) => upstream.write(d));
        upstream.on('data', (d) => {
          if (relay.holding) relay.held.push(() => client.write(d));
          else client.write(d);
        });
      }),
    );
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    const address = relay.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    relay.port = address.port;
    return relay;
  }

  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    for (const write of this.held.splice(0)) write();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Every text the server stores for `room`, envelopes included. */
function stored(s: TestServer, room: string): string {
  return JSON.stringify(s.store.history({ room }, { limit: 100 }).messages);
}

describe('rooms of an account on two devices', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('a room created on another device is known with its kind when its event comes, and a line sent there goes out sealed', async () => {
    const s = await fx.unthrottledServer();
    const { phone, laptop, bob } = await twoDevices(fx, s);
    const onLaptop = nextEvent(laptop, 'roomEvent', (e) => e.event === 'create' && e.room === 'dev');
    const onPhone = nextEvent(phone, 'roomEvent', (e) => e.event === 'create' && e.room === 'dev');
    await phone.createRoom('dev', undefined, 'e2e');
    const [created] = await onLaptop;
    expect(created).toMatchObject({ user: 'alice', elsewhere: true });
    expect(laptop.rooms.get('dev')?.kind).toBe('e2e');
    expect((await onPhone)[0].elsewhere).toBeUndefined();

    await bob.joinRoom('dev');
    const heard = nextEvent(bob, 'message', (m) => m.text === `${CANARY} from the laptop`);
    await laptop.send('dev', `${CANARY} from the laptop`);
    expect((await heard)[0]).toMatchObject({ from: 'alice', room: 'dev' });
    expect(stored(s, 'dev')).not.toContain(CANARY);
  });

  it('a line sent into a room created on another device before this device heard of it goes out sealed, not in clear', async () => {
    const s = await fx.unthrottledServer();
    const phone = await fx.user(s, 'alice');
    const relay = fx.stopAfter(await HoldingRelay.start(s));
    const laptop = await fx.connect({ host: relay.host, port: relay.port, fingerprint: s.fingerprint });
    await laptop.login('alice', passwordOf('alice'));
    // The server's news (the create event) does not reach the laptop until the line is on its way.
    relay.hold();
    await phone.createRoom('ops', undefined, 'e2e');
    expect(laptop.rooms.has('ops')).toBe(false);
    const heard = nextEvent(phone, 'message', (m) => m.text === `${CANARY} at once`);
    const sending = laptop.send('ops', `${CANARY} at once`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    relay.release();
    await sending;
    expect((await heard)[0]).toMatchObject({ from: 'alice', room: 'ops', mine: true });
    expect(stored(s, 'ops')).not.toContain(CANARY);
  });

  it('a room this device is not in is refused here, before anything is sent', async () => {
    const s = await fx.unthrottledServer();
    const { phone, bob } = await twoDevices(fx, s);
    await bob.createRoom('bobs', undefined, 'e2e');
    const refused = await phone.send('bobs', `${CANARY} not a member`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'NOT_MEMBER', message: 'you are not in #bobs: not sent' });
    expect(stored(s, 'bobs')).not.toContain(CANARY);
  });

  it('a join made on another device is followed, with the notice that earlier messages stay closed', async () => {
    const s = await fx.unthrottledServer();
    const { phone, laptop, bob } = await twoDevices(fx, s);
    await bob.createRoom('emo', undefined, 'e2e');
    const notices = collect(laptop, 'notice');
    const joined = nextEvent(laptop, 'roomEvent', (e) => e.event === 'join' && e.room === 'emo' && e.user === 'alice');
    await phone.joinRoom('emo');
    expect((await joined)[0].elsewhere).toBe(true);
    expect(laptop.rooms.get('emo')?.kind).toBe('e2e');
    expect(notices).toContainEqual(
      expect.objectContaining({ code: 'E2E_ROOM_JOINED', text: expect.stringContaining('#emo is end-to-end') }),
    );
  });

  it('a part made on another device takes the room off this device, and says it came from elsewhere', async () => {
    const s = await fx.unthrottledServer();
    const { phone, laptop, bob } = await twoDevices(fx, s);
    await e2eRoom('dev', phone, bob);
    if (!laptop.rooms.has('dev')) await nextEvent(laptop, 'roomEvent', (e) => e.event === 'create' && e.room === 'dev');
    expect(laptop.rooms.has('dev')).toBe(true);

    const leftHere = nextEvent(laptop, 'roomEvent', (e) => e.event === 'part' && e.room === 'dev' && e.user === 'alice');
    const leftThere = nextEvent(phone, 'roomEvent', (e) => e.event === 'part' && e.room === 'dev' && e.user === 'alice');
    await phone.partRoom('dev');
    expect((await leftHere)[0].elsewhere).toBe(true);
    expect(laptop.rooms.has('dev')).toBe(false);
    expect((await leftThere)[0].elsewhere).toBeUndefined();
    await expect(laptop.send('dev', `${CANARY} after the part`)).rejects.toMatchObject({ code: 'NOT_MEMBER' });
    expect(stored(s, 'dev')).not.toContain(CANARY);
  });
});

describe('devices of an account', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('the devices already logged in are told when a new device is added to the account; the new one is not', async () => {
    const s = await fx.unthrottledServer();
    const phone = await fx.user(s, 'alice');
    const atPhone = nextEvent(phone, 'notice', (n) => n.code === 'OWN_DEVICE_ADDED');
    const laptop = await fx.connect(s);
    const atLaptop = collect(laptop, 'notice');
    await laptop.login('alice', passwordOf('alice'));
    const laptopId = (await laptop.listDevices()).find((d) => d.thisDevice)!.id;
    expect((await atPhone)[0]).toMatchObject({
      level: 'warn',
      text: `a new device was added to your account: if it was not you, remove it and change your password (both ask your current password); its id: ${laptopId}`,
    });
    expect(atLaptop.map((n) => n.code)).not.toContain('OWN_DEVICE_ADDED');

    // The admin removes the laptop (what `hushd user remove-device` does beside the running server).
    const removed = nextEvent(phone, 'notice', (n) => n.code?.startsWith('OWN_DEVICE') === true);
    const laptopKey = s.store.listDevices('alice')[1]!.signKey;
    expect(s.store.deleteDevice('alice', laptopKey)).toBe(true);
    s.store.queueAdminRequest({ action: 'devices', user: 'alice', address: null, reason: null });
    expect((await removed)[0]).toEqual({
      level: 'info',
      code: 'OWN_DEVICE_REMOVED',
      text: 'a device was removed from your account: it is logged out and can log in again only with the password (1 device left)',
    });
  });

  it('a device away while another was added is told at its next login', async () => {
    const s = await fx.unthrottledServer();
    const phonePaths = await fx.paths();
    await (await fx.user(s, 'alice', { paths: phonePaths })).close();
    const laptop = await fx.connect(s);
    await laptop.login('alice', passwordOf('alice'));
    const phone = await fx.connect(s, { paths: phonePaths });
    const told = collect(phone, 'notice');
    await phone.login('alice');
    expect(told.map((n) => n.code)).toContain('OWN_DEVICE_ADDED');
  });

  it("a new device is told, per end-to-end room, that what was said before it existed stays closed to it; a device's later logins are not", async () => {
    const s = await fx.unthrottledServer();
    const phone = await fx.user(s, 'alice');
    await phone.createRoom('dev', undefined, 'e2e');
    const laptopPaths = await fx.paths();
    const laptop = await fx.connect(s, { paths: laptopPaths });
    const first = collect(laptop, 'notice');
    await laptop.login('alice', passwordOf('alice'));
    const closed = first.filter((n) => n.code === 'E2E_ROOM_JOINED').map((n) => n.text);
    expect(closed.sort()).toEqual([
      '#dev is end-to-end encrypted: this device reads what is sent from now on; earlier messages stay closed to it',
      '#lobby is end-to-end encrypted: this device reads what is sent from now on; earlier messages stay closed to it',
    ]);
    await laptop.close();

    const again = await fx.connect(s, { paths: laptopPaths });
    const later = collect(again, 'notice');
    await again.login('alice');
    expect(later.map((n) => n.code)).not.toContain('E2E_ROOM_JOINED');
  });
});

describe('telling moves made on other devices (pure)', () => {
  const event = (e: Partial<ServerMessageOf<'room_event'>>): ServerMessageOf<'room_event'> =>
    ({ type: 'room_event', room: 'den', event: 'join', user: 'alice', ts: 1, ...e }) as ServerMessageOf<'room_event'>;

  it('a create, join or part of this user is from elsewhere unless a call of this client asked for it or the list had it so', () => {
    const rooms = new JoinedRooms();
    rooms.replace([{ room: 'lobby', topic: '', kind: 'e2e', members: 2, joined: true }]);
    expect(rooms.madeElsewhere(event({ event: 'create' }), true)).toBe(true);
    expect(rooms.madeElsewhere(event({ event: 'join' }), false)).toBe(false); // someone else
    expect(rooms.madeElsewhere(event({ room: 'lobby' }), true)).toBe(false); // known already (the welcome's default room)
    expect(rooms.madeElsewhere(event({ room: 'lobby', event: 'part' }), true)).toBe(true);
    expect(rooms.madeElsewhere(event({ event: 'part' }), true)).toBe(false); // not known here
    rooms.calling('join', 'den');
    expect(rooms.madeElsewhere(event({ event: 'join' }), true)).toBe(false);
    expect(rooms.madeElsewhere(event({ event: 'join' }), true)).toBe(true); // the call's mark is used once
    const undo = rooms.calling('part', 'lobby');
    undo(); // refused: no event came of it
    expect(rooms.madeElsewhere(event({ room: 'lobby', event: 'part' }), true)).toBe(true);
    rooms.calling('create', 'den');
    rooms.forgetCalls();
    expect(rooms.madeElsewhere(event({ event: 'create' }), true)).toBe(true);
    expect(rooms.apply(event({ event: 'create' }), true)).toBe(true); // not known: fetch the list
  });

  it('an own device added is a warning, one removed is said plainly, the first sight and no change say nothing', () => {
    expect(ownDevicesNotice(undefined, ['a', 'b'])).toBeUndefined();
    expect(ownDevicesNotice(['a'], ['a'])).toBeUndefined();
    expect(ownDevicesNotice(['a'], ['a', 'b'])).toMatchObject({ level: 'warn', code: 'OWN_DEVICE_ADDED' });
    expect(ownDevicesNotice(['a', 'b'], ['c'])).toMatchObject({ code: 'OWN_DEVICE_ADDED' });
    expect(ownDevicesNotice(['a'], ['a', 'b', 'c'])?.text).toMatch(/; their ids: b, c$/);
    expect(ownDevicesNotice(['a', 'b', 'c'], ['a'])).toEqual({
      level: 'info',
      code: 'OWN_DEVICE_REMOVED',
      text: 'a device was removed from your account: it is logged out and can log in again only with the password (1 device left)',
    });
  });
});
