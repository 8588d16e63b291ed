// Several devices per account: each catches up on direct messages on its own, and key changes
// reach DM contacts as well as room co-members.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { nodeLocalIt, testServer } from './helpers/store-under-test.js';
import { registered, RawClient, selfEnvelope as envelope } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';
import { until } from '../../test-kit/src/until.js';

const fixture = rawServer({});
const { user, newDevice } = fixture;

/** A returning device (the key of `device`) logging in with device_login. */
async function back(device: RawClient, name: string, since?: string): Promise<RawClient> {
  const c = await RawClient.connect(fixture.server.port);
  fixture.track(c);
  c.device = device.device;
  await c.expect(c.deviceLoginRequest(name, since), 'welcome');
  return c;
}

/** Every DM this session received by the time a request round-trip completes (login delivery is sent before it). */
async function dmsOf(c: RawClient): Promise<string[]> {
  await c.expect({ type: 'room_list' }, 'rooms');
  return c.take((m) => m.type === 'dm').map((m) => (m as Extract<ServerMessage, { type: 'dm' }>).msgId);
}

async function offline(watcher: RawClient, name: string, ...sessions: RawClient[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.close()));
  await watcher.next((m) => m.type === 'presence' && m.user === name && m.state === 'offline');
}

describe('offline direct messages per device', () => {
  it("delivers to every device of the recipient, and the sender's sent messages to the sender's other devices", async () => {
    const witness = await user('witness');
    // Both accounts get a phone and a laptop, then everyone goes offline (awaited through presence).
    const idaPhone0 = await user('ida');
    const idaLaptop = await newDevice('ida');
    const jonPhone = await user('jon');
    const jonLaptop = await newDevice('jon');
    await offline(witness, 'ida', idaPhone0, idaLaptop);
    await offline(witness, 'jon', jonPhone, jonLaptop);
    const idaPhone = await back(idaPhone0, 'ida');

    // Jon is away: two DMs from Ida's phone.
    const d1 = await idaPhone.expect({ type: 'dm_send', to: 'jon', envelope: envelope(idaPhone, 10) }, 'ack');
    const d2 = await idaPhone.expect({ type: 'dm_send', to: 'jon', envelope: envelope(idaPhone, 20) }, 'ack');

    // Jon's phone comes back first and gets both; his laptop, back later, must get them too.
    const phone = await back(jonPhone, 'jon');
    expect(await dmsOf(phone)).toEqual([d1.msgId, d2.msgId]);
    // It answers; Ida's phone is online and gets it live.
    const d3 = await phone.expect({ type: 'dm_send', to: 'ida', envelope: envelope(phone, 30) }, 'ack');
    expect(await idaPhone.next((m) => m.type === 'dm' && m.msgId === d3.msgId)).toMatchObject({ from: 'jon' });
    await offline(witness, 'jon', phone);

    // Jon's laptop: the two DMs to Jon and the reply Jon sent from the phone, in order.
    const laptop = await back(jonLaptop, 'jon');
    expect(await dmsOf(laptop)).toEqual([d1.msgId, d2.msgId, d3.msgId]);
    // Ida's laptop: the two DMs Ida sent from the phone and Jon's reply.
    const idaBack = await back(idaLaptop, 'ida');
    expect(await dmsOf(idaBack)).toEqual([d1.msgId, d2.msgId, d3.msgId]);

    // Each device had everything: nothing is delivered twice, to either device.
    await offline(witness, 'jon', laptop);
    expect(await dmsOf(await back(jonPhone, 'jon'))).toEqual([]);
    expect(await dmsOf(await back(jonLaptop, 'jon'))).toEqual([]);
    // Ida's phone sent d1/d2 and got d3 live: its cursor is past all three.
    expect(await fixture.server.db.getDeviceCursor('ida', idaPhone.bundle().signKey)).toBe(d3.msgId);
  });

  it('does not replay older direct messages to a device bound after they were sent', async () => {
    const kai = await user('kai');
    const liaPhone = await user('lia');
    await offline(kai, 'lia', liaPhone);
    const old = await kai.expect({ type: 'dm_send', to: 'lia', envelope: envelope(kai, 5) }, 'ack');
    // Sealed before this device existed: it could not open it, so it is not sent.
    const fresh = await newDevice('lia');
    expect(await dmsOf(fresh)).toEqual([]);
    const next = await kai.expect({ type: 'dm_send', to: 'lia', envelope: envelope(kai, 6) }, 'ack');
    expect(await fresh.next((m) => m.type === 'dm' && m.msgId === next.msgId)).toBeTruthy();
    // The phone, bound before, gets both.
    expect(await dmsOf(await back(liaPhone, 'lia'))).toEqual([old.msgId, next.msgId]);
  });
});

describe('device_login since', () => {
  it('offers again DMs the server queued to a session that died with them (a brand-new conversation)', async () => {
    const rex = await user('rex');
    const sue = await user('sue');
    const first = await rex.expect({ type: 'dm_send', to: 'sue', envelope: envelope(rex, 4) }, 'ack');
    expect(await sue.next((m) => m.type === 'dm' && m.msgId === first.msgId)).toBeTruthy();
    // Queued to Sue's live session: her cursor moves past it whether or not it ever arrives. (In a
    // cluster her node queues it when the other node's relay comes, after the ack: awaited.)
    const lost = await rex.expect({ type: 'dm_send', to: 'sue', envelope: envelope(rex, 5) }, 'ack');
    const cursor = () => fixture.server.db.getDeviceCursor('sue', sue.bundle().signKey);
    await until(async () => (await cursor()) === lost.msgId, "sue's cursor at the queued DM");
    await offline(rex, 'sue', sue);
    expect(await cursor()).toBe(lost.msgId);
    // Without since: nothing (the cursor is past it).
    let again = await back(sue, 'sue');
    expect(await dmsOf(again)).toEqual([]);
    await offline(rex, 'sue', again);
    // With what the device really has: the lost one; the cursor does not move back.
    again = await back(sue, 'sue', first.msgId);
    expect(await dmsOf(again)).toEqual([lost.msgId]);
    expect(await fixture.server.db.getDeviceCursor('sue', sue.bundle().signKey)).toBe(lost.msgId);
    await offline(rex, 'sue', again);
    // A since past the cursor changes nothing: delivery starts at the earlier of the two.
    const later = await rex.expect({ type: 'dm_send', to: 'sue', envelope: envelope(rex, 6) }, 'ack');
    expect(await dmsOf(await back(sue, 'sue', '99999999'))).toEqual([later.msgId]);
  });

  // Spies on one node's store for the offline query; in a cluster the reconnects land on other nodes.
  nodeLocalIt('skips the offline query when nothing newer than the start point is stored for the user', async () => {
    const tom = await user('tom');
    const uli = await user('uli');
    const dm = await tom.expect({ type: 'dm_send', to: 'uli', envelope: envelope(tom, 4) }, 'ack');
    await uli.next((m) => m.type === 'dm' && m.msgId === dm.msgId);
    await offline(tom, 'uli', uli);
    const query = vi.spyOn(fixture.server.db, 'directMessagesSince');
    const queriesFor = () => query.mock.calls.filter(([who]) => who === 'uli').length;
    try {
      // The newest DM of uli is known from its append and the cursor is there: no query.
      let again = await back(uli, 'uli');
      expect(await dmsOf(again)).toEqual([]);
      expect(queriesFor()).toBe(0);
      await offline(tom, 'uli', again);
      // An earlier since does query, and finds the DM.
      again = await back(uli, 'uli', '0');
      expect(await dmsOf(again)).toEqual([dm.msgId]);
      expect(queriesFor()).toBe(1);
      await offline(tom, 'uli', again);
      // A new DM while away: queried and delivered.
      const next = await tom.expect({ type: 'dm_send', to: 'uli', envelope: envelope(tom, 5) }, 'ack');
      expect(await dmsOf(await back(uli, 'uli'))).toEqual([next.msgId]);
      expect(queriesFor()).toBe(2);
    } finally {
      query.mockRestore();
    }
  });

  it('seeds the newest DM id from the store after a restart, then skips', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hushd-devices-'));
    let s = await testServer({ dataDir, openRooms: ['lobby'] });
    const opened: RawClient[] = [];
    try {
      const vee = await registered(s.port, 'vee');
      const wim = await registered(s.port, 'wim');
      opened.push(vee, wim);
      const dm = await vee.expect({ type: 'dm_send', to: 'wim', envelope: envelope(vee, 4) }, 'ack');
      await wim.next((m) => m.type === 'dm' && m.msgId === dm.msgId);
      await Promise.all(opened.map((c) => c.close()));
      await s.stop();
      s = await testServer({ dataDir, openRooms: ['lobby'] });
      const query = vi.spyOn(s.db, 'directMessagesSince');
      const login = async () => {
        const c = await RawClient.connect(s.port);
        opened.push(c);
        c.device = wim.device;
        await c.expect(c.deviceLoginRequest('wim'), 'welcome');
        return c;
      };
      // Nothing is known after the restart: the first login queries, the next one does not.
      expect(await dmsOf(await login())).toEqual([]);
      expect(query).toHaveBeenCalledTimes(1);
      expect(await dmsOf(await login())).toEqual([]);
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      await Promise.all(opened.map((c) => c.close()));
      await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('key changes', () => {
  it('reach online DM peers who share no room, and not unrelated users', async () => {
    const first = await user('opal');
    await fixture.server.db.setServerRole('opal', 'admin');
    await first.close();
    const op = await back(first, 'opal');
    const max = await user('max');
    const pia = await user('pia');
    const stranger = await user('quin');
    // Pia and Quin leave the default room: Max shares no room with either of them.
    for (const who of ['pia', 'quin']) await op.expect({ type: 'kick', room: 'lobby', user: who }, 'ok');
    await pia.next((m) => m.type === 'room_event' && m.event === 'kick' && m.user === 'pia');
    await stranger.next((m) => m.type === 'room_event' && m.event === 'kick' && m.user === 'quin');
    // Max and Pia only have a DM history.
    const dm = await pia.expect({ type: 'dm_send', to: 'max', envelope: envelope(pia, 8) }, 'ack');
    await max.next((m) => m.type === 'dm' && m.msgId === dm.msgId);

    const laptop = await newDevice('max');
    const change = await pia.next((m) => m.type === 'key_change' && m.user === 'max');
    expect(change.type === 'key_change' && change.devices.map((d) => d.signKey).sort()).toEqual(
      [max.bundle().signKey, laptop.bundle().signKey].sort(),
    );
    // Max's own first device hears of it too.
    expect(await max.next((m) => m.type === 'key_change' && m.user === 'max')).toBeTruthy();
    // Quin (no room, no DM with Max) is not told: the broadcast was queued before this reply.
    await stranger.expect({ type: 'room_list' }, 'rooms');
    expect(stranger.take((m) => m.type === 'key_change')).toEqual([]);
  });
});
