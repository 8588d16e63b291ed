import { describe, expect, it, vi } from 'vitest';
import { SharedBlock } from '../src/outbound.js';
import { directEnvelope, RawClient, selfEnvelope as envelope } from '../src/raw-client.js';
import { rawServer, sealed } from './helpers/raw-server.js';
import { nodeLocalIt } from './helpers/store-under-test.js';

const fixture = rawServer({ limits: { typingIntervalMs: 60_000 } });
const { user } = fixture;

/** A second session of an existing user, logged in with the first session's device key. */
async function secondSession(first: RawClient, name: string): Promise<RawClient> {
  const c = await RawClient.connect(fixture.server.port);
  fixture.track(c);
  c.device = first.device;
  const welcome = await c.request(c.deviceLoginRequest(name));
  expect(welcome).toMatchObject({ type: 'welcome', user: name, deviceBound: false });
  return c;
}

describe('login and room messages', () => {
  it('registers, welcomes into the default room and fans a message out once stored', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await RawClient.connect(fixture.server.port);
    fixture.track(carol);
    const welcome = await carol.register('carol');
    expect(welcome).toMatchObject({ user: 'carol', role: 'user', deviceBound: true });
    expect(welcome.rooms.map((r) => r.room)).toEqual(['lobby']);

    const ack = await alice.expect({ type: 'send', room: 'lobby', text: 'hello all' }, 'ack');
    expect((await fixture.server.db.history({ room: 'lobby' }, { limit: 10 })).messages.map((m) => m.id)).toContain(ack.msgId);
    const got = await bob.next((m) => m.type === 'message' && m.msgId === ack.msgId);
    expect(got).toMatchObject({ type: 'message', room: 'lobby', from: 'alice', text: 'hello all', action: false, ts: ack.ts });
    expect(await carol.next((m) => m.type === 'message' && m.msgId === ack.msgId)).toBeTruthy();
    const me = await alice.expect({ type: 'send', room: 'lobby', text: 'waves', action: true }, 'ack');
    expect(await bob.next((m) => m.type === 'message' && m.msgId === me.msgId)).toMatchObject({ action: true });
  });

  it('sends to every session of the sender, the sending one too, there ahead of its ack', async () => {
    const dora = await user('dora');
    const dora2 = await secondSession(dora, 'dora');
    const ack = await dora.expect({ type: 'send', room: 'lobby', text: 'from one' }, 'ack');
    expect(await dora2.next((m) => m.type === 'message' && m.msgId === ack.msgId)).toMatchObject({ from: 'dora' });
    // Already in the inbox when the ack arrived: the echo came first, exactly once.
    expect(dora.take((m) => m.type === 'message' && m.msgId === ack.msgId)).toEqual([
      { type: 'message', room: 'lobby', msgId: ack.msgId, ts: ack.ts, from: 'dora', text: 'from one', action: false },
    ]);
    await dora.expect({ type: 'room_list' }, 'rooms');
    expect(dora.take((m) => m.type === 'message' && m.msgId === ack.msgId)).toEqual([]);
  });

  // Counts one node's encodings of a turn; in a cluster each node encodes it for its own members.
  nodeLocalIt(
    "encodes a room's messages of one turn once, whatever the number of members, and every member gets them in server order",
    async () => {
      const [eve, fay, gus] = [await user('turn1'), await user('turn2'), await user('turn3')];
      const gus2 = await secondSession(gus, 'turn3');
      await eve.expect({ type: 'room_create', room: 'turn' }, 'ok');
      for (const c of [fay, gus]) await c.expect({ type: 'room_join', room: 'turn' }, 'ok');
      const build = vi.spyOn(SharedBlock, 'build');
      try {
        // Three sends in one record: one event-loop turn, one commit.
        eve.send(...[1, 2, 3].map((n) => ({ type: 'send' as const, id: `turn${n}`, room: 'turn', envelope: sealed(`t${n}`) })));
        const acks = await Promise.all([1, 2, 3].map((n) => eve.next((m) => m.type === 'ack' && m.re === `turn${n}`)));
        const ids = acks.map((a) => (a.type === 'ack' ? a.msgId : ''));
        // Only blocks of messages count: the logins above may have their presence (batched on a
        // timer) encoded meanwhile.
        const messageBlocks = build.mock.calls.filter(([lines]) => lines.some((l) => l.startsWith('{"type":"message"')));
        expect(messageBlocks).toHaveLength(1);
        expect(messageBlocks[0]![0]).toHaveLength(3);
        for (const c of [eve, fay, gus, gus2]) {
          const got: string[] = [];
          for (const id of ids) got.push(((await c.next((m) => m.type === 'message' && m.msgId === id)) as { envelope: string }).envelope);
          expect(got).toEqual(['t1', 't2', 't3'].map(sealed));
        }
      } finally {
        build.mockRestore();
      }
    },
  );

  it('refuses device_login for an unknown device and a bad signature', async () => {
    await user('eve');
    const c = await RawClient.connect(fixture.server.port);
    fixture.track(c);
    expect(await c.request(c.deviceLoginRequest('eve'))).toMatchObject({ type: 'error', code: 'DEVICE_UNKNOWN' });
    const other = await RawClient.connect(fixture.server.port);
    fixture.track(other);
    await other.register('evan');
    // Evan's real device key, but the proof is bound to another session: refused.
    const replayed = other.deviceLoginRequest('evan');
    const c2 = await RawClient.connect(fixture.server.port);
    fixture.track(c2);
    expect(await c2.request(replayed)).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  });

  it('announces a new device as key_change to users who share a room', async () => {
    const fay = await user('fay');
    const watcher = await user('walt');
    const laptop = await RawClient.connect(fixture.server.port);
    fixture.track(laptop);
    await laptop.login('fay');
    const change = await watcher.next((m) => m.type === 'key_change' && m.user === 'fay');
    expect(change.type === 'key_change' && change.devices).toHaveLength(2);
    expect(await fay.next((m) => m.type === 'key_change' && m.user === 'fay')).toBeTruthy();
    const keys = await watcher.expect({ type: 'keys_get', user: 'fay' }, 'keys');
    expect(keys.devices.map((d) => d.signKey).sort()).toEqual([fay.bundle().signKey, laptop.bundle().signKey].sort());
    expect(await watcher.request({ type: 'keys_get', user: 'ghost' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });
});

describe('direct messages', () => {
  it("stores the opaque envelope, acks, and delivers to the recipient and the sender's other sessions", async () => {
    const gil = await user('gil');
    const gil2 = await secondSession(gil, 'gil');
    const hal = await user('hal');
    const forHal = directEnvelope(gil.device, [[hal.device, new Uint8Array(100).fill(9)]]);
    const ack = await gil.expect({ type: 'dm_send', to: 'hal', envelope: forHal }, 'ack');
    const dm = await hal.next((m) => m.type === 'dm' && m.msgId === ack.msgId);
    expect(dm).toMatchObject({ from: 'gil', to: 'hal', envelope: forHal });
    expect(await gil2.next((m) => m.type === 'dm' && m.msgId === ack.msgId)).toBeTruthy();
    const page = await hal.expect({ type: 'history', target: { user: 'gil' }, limit: 10 }, 'history_page');
    expect(page.messages.map((m) => m.msgId)).toEqual([ack.msgId]);
    expect(await gil.request({ type: 'dm_send', to: 'nobody', envelope: envelope(gil, 4) })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('delivers direct messages that arrived while offline at the next login, once', async () => {
    const ida = await user('ida');
    const jon = await user('jon');
    await jon.close();
    await ida.next((m) => m.type === 'presence' && m.user === 'jon' && m.state === 'offline');
    const forJon = directEnvelope(ida.device, [[jon.device, new Uint8Array(10).fill(9)]]);
    const a1 = await ida.expect({ type: 'dm_send', to: 'jon', envelope: forJon }, 'ack');
    const a2 = await ida.expect({ type: 'dm_send', to: 'jon', envelope: envelope(ida, 20) }, 'ack');
    const back = await RawClient.connect(fixture.server.port);
    fixture.track(back);
    back.device = jon.device;
    await back.expect(back.deviceLoginRequest('jon'), 'welcome');
    expect(await back.next('dm')).toMatchObject({ msgId: a1.msgId, from: 'ida', envelope: forJon });
    expect(await back.next('dm')).toMatchObject({ msgId: a2.msgId });
    expect(await fixture.server.db.getDeviceCursor('jon', jon.bundle().signKey)).toBe(a2.msgId);
    await back.close();
    const again = await RawClient.connect(fixture.server.port);
    fixture.track(again);
    again.device = jon.device;
    await again.expect(again.deviceLoginRequest('jon'), 'welcome');
    await again.expect({ type: 'room_list' }, 'rooms');
    expect(again.take((m) => m.type === 'dm')).toEqual([]);
  });
});

describe('presence, typing, read markers, history', () => {
  it('broadcasts presence on login, away/status and logout, and lists users', async () => {
    const kim = await user('kim');
    const lee = await RawClient.connect(fixture.server.port);
    fixture.track(lee);
    await lee.register('lee');
    expect(await kim.next((m) => m.type === 'presence' && m.user === 'lee')).toMatchObject({ state: 'online' });
    await lee.expect({ type: 'presence_set', state: 'away', status: 'lunch' }, 'ok');
    expect(await kim.next((m) => m.type === 'presence' && m.user === 'lee')).toMatchObject({ state: 'away', status: 'lunch' });
    const list = await kim.expect({ type: 'users_list' }, 'users');
    expect(list.users.find((u) => u.user === 'lee')).toMatchObject({ state: 'away', status: 'lunch', role: 'user' });
    await lee.expect({ type: 'logout' }, 'ok');
    await lee.closed;
    expect(await kim.next((m) => m.type === 'presence' && m.user === 'lee')).toMatchObject({ state: 'offline' });
    const after = await kim.expect({ type: 'users_list' }, 'users');
    expect(after.users.find((u) => u.user === 'lee')).toMatchObject({ state: 'offline' });
  });

  it('relays typing to the room (not the typer) and the DM peer, throttled per target', async () => {
    const max = await user('max');
    const ned = await user('ned');
    max.send({ type: 'typing', target: { room: 'lobby' }, active: true });
    max.send({ type: 'typing', target: { room: 'lobby' }, active: true });
    expect(await ned.next((m) => m.type === 'typing_notice' && m.from === 'max')).toMatchObject({
      target: { room: 'lobby' },
      active: true,
    });
    max.send({ type: 'typing', target: { user: 'ned' }, active: true });
    expect(await ned.next((m) => m.type === 'typing_notice' && m.from === 'max')).toMatchObject({ target: { user: 'max' } });
    max.send({ type: 'typing', target: { room: 'lobby' }, active: false });
    expect(await ned.next((m) => m.type === 'typing_notice' && m.from === 'max')).toMatchObject({ active: false });
    // The repeated "active" inside the interval was dropped.
    await ned.expect({ type: 'room_list' }, 'rooms');
    expect(ned.take((m) => m.type === 'typing_notice' && m.from === 'max')).toEqual([]);
    expect(max.take((m) => m.type === 'typing_notice')).toEqual([]);
  });

  it('stores read markers and tells the other sessions and the DM peer', async () => {
    const oli = await user('oli');
    const oli2 = await secondSession(oli, 'oli');
    const pam = await user('pam');
    const ack = await pam.expect({ type: 'dm_send', to: 'oli', envelope: envelope(pam, 8) }, 'ack');
    await oli.expect({ type: 'read', target: { user: 'pam' }, msgId: ack.msgId }, 'ok');
    expect(await oli2.next('read_notice')).toMatchObject({ from: 'oli', target: { user: 'pam' }, msgId: ack.msgId });
    expect(await pam.next('read_notice')).toMatchObject({ from: 'oli', target: { user: 'oli' }, msgId: ack.msgId });
    expect(await fixture.server.db.getReadMarkers('oli')).toMatchObject({ '@pam': ack.msgId });
  });

  it("hands a device back from away its account's read markers, each only ever moved forward", async () => {
    const rex = await user('rex');
    const sue = await user('sue');
    const dm = [];
    for (let i = 0; i < 2; i++) dm.push((await sue.expect({ type: 'dm_send', to: 'rex', envelope: envelope(sue, 8) }, 'ack')).msgId);
    const room = (await sue.expect({ type: 'send', room: 'lobby', text: 'read me' }, 'ack')).msgId;
    await rex.expect({ type: 'read', target: { user: 'sue' }, msgId: dm[1]! }, 'ok');
    await rex.expect({ type: 'read', target: { room: 'lobby' }, msgId: room }, 'ok');
    // A device that marks an older message read (it caught up late) does not move the marker back.
    await rex.expect({ type: 'read', target: { user: 'sue' }, msgId: dm[0]! }, 'ok');

    const back = await secondSession(rex, 'rex');
    const reply = await back.expect({ type: 'read_markers_get' }, 'read_markers');
    expect(reply.markers).toEqual([
      { target: { room: 'lobby' }, msgId: room },
      { target: { user: 'sue' }, msgId: dm[1] },
    ]);
    expect((await sue.expect({ type: 'read_markers_get' }, 'read_markers')).markers).toEqual([]);
  });

  it('keeps read_markers_get from a session that negotiated version 5', async () => {
    await user('ted');
    const old = fixture.track(await RawClient.connect(fixture.server.port, { versions: [5] }));
    expect(old.session?.version).toBe(5);
    await old.login('ted');
    const refused = await old.request({ type: 'read_markers_get' });
    expect(refused).toMatchObject({ type: 'error', code: 'UNKNOWN_TYPE', message: 'read_markers_get is not part of protocol version 5' });
  });

  it('pages room history for members only, before and after an id', async () => {
    const quinn = await user('quinn');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await quinn.expect({ type: 'send', room: 'lobby', text: `h${i}` }, 'ack')).msgId);
    const last2 = await quinn.expect({ type: 'history', target: { room: 'lobby' }, limit: 2 }, 'history_page');
    expect(last2.messages.map((m) => m.msgId)).toEqual(ids.slice(3));
    expect(last2.hasMore).toBe(true);
    const before = await quinn.expect({ type: 'history', target: { room: 'lobby' }, before: ids[3]!, limit: 2 }, 'history_page');
    expect(before.messages.map((m) => m.msgId)).toEqual(ids.slice(1, 3));
    const after = await quinn.expect({ type: 'history', target: { room: 'lobby' }, after: ids[2]!, limit: 10 }, 'history_page');
    expect(after.messages.map((m) => m.msgId)).toEqual(ids.slice(3));
    await quinn.expect({ type: 'room_create', room: 'secret' }, 'ok');
    const outsider = await user('rita');
    expect(await outsider.request({ type: 'history', target: { room: 'secret' }, limit: 5 })).toMatchObject({ code: 'NOT_MEMBER' });
    expect(await outsider.request({ type: 'history', target: { room: 'nowhere' }, limit: 5 })).toMatchObject({ code: 'NOT_FOUND' });
  });
});
