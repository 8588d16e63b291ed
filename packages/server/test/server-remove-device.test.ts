// devices_get lists a device's own account's devices; remove_device: a device removes another device
// of its own account (a lost laptop) with the account's password, as `hushd user remove-device` does. Over real sockets; run on SQLite,
// PostgreSQL and a three-node cluster (the removed device may be on another node there).
import { deviceId } from '@hush/crypto';
import { MAX_ACCOUNT_DEVICES, toBase64Url } from '@hush/protocol';
import { describe, expect, it } from 'vitest';
import { RawClient, TEST_PASSWORD } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';

const fixture = rawServer();
const { user, newDevice } = fixture;

const idOf = (c: RawClient) => deviceId(c.device.signPublicKey);
const keyChangeTo = (devices: number) => (m: { type: string; user?: string; devices?: unknown[] }) =>
  m.type === 'key_change' && m.devices?.length === devices;

describe('devices_get', () => {
  it("lists the own account's devices with when each was added and last logged in, most recent first", async () => {
    const before = Date.now();
    const desk = await user('dl-owner');
    const laptop = await newDevice('dl-owner');
    const stranger = await user('dl-stranger');
    const reply = await desk.expect({ type: 'devices_get' }, 'devices');
    expect(reply.devices.map((d) => d.device).sort()).toEqual([idOf(desk), idOf(laptop)].sort());
    for (const d of reply.devices) {
      expect(d.added).toBeGreaterThanOrEqual(before - 1000);
      expect(d.lastLogin).toBeGreaterThanOrEqual(d.added);
      expect(d.lastLogin).toBeLessThanOrEqual(Date.now() + 1000);
    }
    expect(reply.devices[0]!.lastLogin).toBeGreaterThanOrEqual(reply.devices[1]!.lastLogin);
    // Only one's own: the stranger's list holds the stranger's one device.
    expect((await stranger.expect({ type: 'devices_get' }, 'devices')).devices.map((d) => d.device)).toEqual([idOf(stranger)]);
  });

  it('binds no more than MAX_ACCOUNT_DEVICES devices to an account: the next is refused in words until one is removed', async () => {
    const first = await user('dl-many');
    const others: RawClient[] = [];
    for (let i = 1; i < MAX_ACCOUNT_DEVICES; i++) others.push(await newDevice('dl-many'));
    expect(await fixture.server.db.listDevices('dl-many')).toHaveLength(MAX_ACCOUNT_DEVICES);
    const extra = fixture.track(await RawClient.connect(fixture.server.port));
    expect(await extra.request({ type: 'login', username: 'dl-many', password: TEST_PASSWORD, device: extra.bundle() })).toMatchObject({
      type: 'error',
      code: 'FORBIDDEN',
      message: `dl-many has ${MAX_ACCOUNT_DEVICES} devices, the most an account may have: remove one it no longer uses first (in hush: /devices remove, from one of them; or the server's admin: hushd user remove-device)`,
    });
    expect(await fixture.server.db.listDevices('dl-many')).toHaveLength(MAX_ACCOUNT_DEVICES);
    // A device already bound still logs in with the password.
    const again = fixture.track(await RawClient.connect(fixture.server.port));
    again.device = others[0]!.device;
    expect(await again.request({ type: 'login', username: 'dl-many', password: TEST_PASSWORD, device: again.bundle() })).toMatchObject({
      type: 'welcome',
    });
    // One removed: the new one is bound.
    await first.expect({ type: 'remove_device', device: idOf(others[1]!), password: TEST_PASSWORD }, 'ok');
    const fresh = fixture.track(await RawClient.connect(fixture.server.port));
    expect(await fresh.request({ type: 'login', username: 'dl-many', password: TEST_PASSWORD, device: fresh.bundle() })).toMatchObject({
      type: 'welcome',
      deviceBound: true,
    });
  });

  it('is not part of protocol version 5', async () => {
    await user('dl-old');
    const old = fixture.track(await RawClient.connect(fixture.server.port, { versions: [5] }));
    await old.login('dl-old');
    expect(await old.request({ type: 'devices_get' })).toMatchObject({
      type: 'error',
      code: 'UNKNOWN_TYPE',
      message: 'devices_get is not part of protocol version 5',
    });
  });
});

describe('remove_device', () => {
  it("removes another device of one's own account: its connection closes, its login is refused, contacts and own devices are told", async () => {
    const desk = await user('rd-owner');
    const laptop = await newDevice('rd-owner');
    const friend = await user('rd-friend'); // shares the default room with rd-owner

    await desk.expect({ type: 'remove_device', device: idOf(laptop), password: TEST_PASSWORD }, 'ok');
    expect(await laptop.next('goodbye')).toMatchObject({ code: 'DEVICE_UNKNOWN', message: 'this device was removed from the account' });
    for (const c of [friend, desk]) {
      const change = await c.next((m) => keyChangeTo(1)(m) && m.type === 'key_change' && m.user === 'rd-owner');
      expect(change).toMatchObject({ devices: [{ signKey: toBase64Url(desk.device.signPublicKey) }] });
    }
    expect(desk.isClosed).toBe(false);
    expect((await fixture.server.db.listDevices('rd-owner')).map((d) => d.signKey)).toEqual([toBase64Url(desk.device.signPublicKey)]);
    const again = await fixture.connect();
    again.device = laptop.device;
    expect(await again.request(again.deviceLoginRequest('rd-owner'))).toMatchObject({ type: 'error', code: 'DEVICE_UNKNOWN' });
  });

  it('refuses a wrong password as a login does, counts it against the same back-off, and removes nothing', async () => {
    const desk = await user('rd-guess');
    const laptop = await newDevice('rd-guess');
    const remove = (password: string) => desk.request({ type: 'remove_device', device: idOf(laptop), password });
    // The account's free attempts (5) and one more: from then on it waits, for a login too.
    for (let i = 0; i < 6; i++) expect(await remove(`wrong password ${i}`)).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const blocked = await remove(TEST_PASSWORD);
    expect(blocked).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    const wait = blocked.type === 'error' ? (blocked.retryAfterMs ?? 0) : 0;
    expect(wait).toBeGreaterThan(0);
    const login = await fixture.connect();
    expect(await login.request({ type: 'login', username: 'rd-guess', password: TEST_PASSWORD, device: login.bundle() })).toMatchObject({
      type: 'error',
      code: 'RATE_LIMITED',
    });
    expect(laptop.isClosed).toBe(false);
    expect(await fixture.server.db.listDevices('rd-guess')).toHaveLength(2);
    expect(desk.isClosed).toBe(false);

    await new Promise((resolve) => setTimeout(resolve, wait + 100));
    expect(await remove(TEST_PASSWORD)).toMatchObject({ type: 'ok' });
    expect(await laptop.next('goodbye')).toMatchObject({ code: 'DEVICE_UNKNOWN' });
  });

  it('refuses the device in use, an unknown id and another account’s device, in words', async () => {
    const desk = await user('rd-self');
    const stranger = await user('rd-stranger');
    const own = await desk.request({ type: 'remove_device', device: idOf(desk), password: TEST_PASSWORD });
    expect(own).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    expect(own.type === 'error' && own.message).toBe(
      'this is the device you are using: remove it from another device of yours, or ask the admin',
    );
    for (const device of ['AAAAAAAAAAAAAAAAAAAAAA', idOf(stranger)]) {
      const unknown = await desk.request({ type: 'remove_device', device, password: TEST_PASSWORD });
      expect(unknown).toMatchObject({ type: 'error', code: 'NOT_FOUND', message: `your account has no device ${device}` });
    }
    expect(await fixture.server.db.listDevices('rd-self')).toHaveLength(1);
    expect(await fixture.server.db.listDevices('rd-stranger')).toHaveLength(1);
    expect(stranger.isClosed).toBe(false);
  });

  it('is not part of protocol version 4: a session that negotiated 4 is told so and removes nothing', async () => {
    await user('rd-old');
    const laptop = await newDevice('rd-old');
    const old = fixture.track(await RawClient.connect(fixture.server.port, { versions: [4] }));
    expect(old.session?.version).toBe(4);
    await old.login('rd-old');
    const refused = await old.request({ type: 'remove_device', device: idOf(laptop), password: TEST_PASSWORD });
    expect(refused).toMatchObject({ type: 'error', code: 'UNKNOWN_TYPE', message: 'remove_device is not part of protocol version 4' });
    expect(await fixture.server.db.listDevices('rd-old')).toHaveLength(3);
    expect(laptop.isClosed).toBe(false);
  });
});
