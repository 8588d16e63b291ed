// Several devices per account: each catches up on direct messages on its own, and key changes
// reach DM contacts as well as room co-members.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { startTestServer, type TestServer } from '../src/testing.js';
import { registered, TestClient } from './helpers/test-client.js';

let server: TestServer;
const clients: TestClient[] = [];

async function user(name: string): Promise<TestClient> {
  const c = await registered(server.port, name);
  clients.push(c);
  return c;
}

/** A new device for an existing account: a password login binds it. */
async function newDevice(name: string): Promise<TestClient> {
  const c = await TestClient.connect(server.port);
  clients.push(c);
  expect(await c.login(name)).toMatchObject({ user: name, deviceBound: true });
  return c;
}

/** A returning device (the key of `device`) logging in with device_login. */
async function back(device: TestClient, name: string): Promise<TestClient> {
  const c = await TestClient.connect(server.port);
  clients.push(c);
  c.device = device.device;
  await c.expect(c.deviceLoginRequest(name), 'welcome');
  return c;
}

/** Every DM this session received by the time a request round-trip completes (login delivery is sent before it). */
async function dmsOf(c: TestClient): Promise<string[]> {
  await c.expect({ type: 'room_list' }, 'rooms');
  return c.take((m) => m.type === 'dm').map((m) => (m as Extract<ServerMessage, { type: 'dm' }>).msgId);
}

const envelope = (n: number) => Buffer.alloc(n, 7).toString('base64url');

async function offline(watcher: TestClient, name: string, ...sessions: TestClient[]): Promise<void> {
  await Promise.all(sessions.map((s) => s.close()));
  await watcher.next((m) => m.type === 'presence' && m.user === name && m.state === 'offline');
}

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

describe('offline direct messages per device', () => {
  it('delivers to every device of the recipient, and the sender\'s sent messages to the sender\'s other devices', async () => {
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
    const d1 = await idaPhone.expect({ type: 'dm_send', to: 'jon', envelope: envelope(10) }, 'ack');
    const d2 = await idaPhone.expect({ type: 'dm_send', to: 'jon', envelope: envelope(20) }, 'ack');

    // Jon's phone comes back first and gets both (before the fix, only this first device did).
    const phone = await back(jonPhone, 'jon');
    expect(await dmsOf(phone)).toEqual([d1.msgId, d2.msgId]);
    // It answers; Ida's phone is online and gets it live.
    const d3 = await phone.expect({ type: 'dm_send', to: 'ida', envelope: envelope(30) }, 'ack');
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
    expect(server.store.getDeviceCursor('ida', idaPhone.bundle().signKey)).toBe(d3.msgId);
  });

  it('does not replay older direct messages to a device bound after they were sent', async () => {
    const kai = await user('kai');
    const liaPhone = await user('lia');
    await offline(kai, 'lia', liaPhone);
    const old = await kai.expect({ type: 'dm_send', to: 'lia', envelope: envelope(5) }, 'ack');
    // Sealed before this device existed: it could not open it, so it is not sent.
    const fresh = await newDevice('lia');
    expect(await dmsOf(fresh)).toEqual([]);
    const next = await kai.expect({ type: 'dm_send', to: 'lia', envelope: envelope(6) }, 'ack');
    expect(await fresh.next((m) => m.type === 'dm' && m.msgId === next.msgId)).toBeTruthy();
    // The phone, bound before, gets both.
    expect(await dmsOf(await back(liaPhone, 'lia'))).toEqual([old.msgId, next.msgId]);
  });
});

describe('key changes', () => {
  it('reach online DM peers who share no room, and not unrelated users', async () => {
    const first = await user('opal');
    server.store.setServerRole('opal', 'admin');
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
    const dm = await pia.expect({ type: 'dm_send', to: 'max', envelope: envelope(8) }, 'ack');
    await max.next((m) => m.type === 'dm' && m.msgId === dm.msgId);

    const laptop = await newDevice('max');
    const change = await pia.next((m) => m.type === 'key_change' && m.user === 'max');
    expect(change.type === 'key_change' && change.devices.map((d) => d.signKey).sort())
      .toEqual([max.bundle().signKey, laptop.bundle().signKey].sort());
    // Max's own first device hears of it too.
    expect(await max.next((m) => m.type === 'key_change' && m.user === 'max')).toBeTruthy();
    // Quin (no room, no DM with Max) is not told: the broadcast was queued before this reply.
    await stranger.expect({ type: 'room_list' }, 'rooms');
    expect(stranger.take((m) => m.type === 'key_change')).toEqual([]);
  });
});
