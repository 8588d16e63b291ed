import { deviceId } from '@hush/crypto';
import { fromBase64Url } from '@hush/protocol';
import { passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDeviceRequest } from '../src/own-devices.js';
import { Fixture, nextEvent } from './helpers.js';

// removeDevice: a person removes a lost device of their own account with the password, without the
// server's admin. The removed device is closed for good; the remaining ones are told.

describe('removeDevice', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('removes another device of the account with the password; refuses a wrong password, this device and a non-id in words', async () => {
    const s = await fx.unthrottledServer();
    const phone = await fx.user(s, 'alice');
    const laptop = await fx.connect(s);
    await laptop.login('alice', passwordOf('alice'));
    const [phoneKey, laptopKey] = s.store.listDevices('alice').map((d) => deviceId(fromBase64Url(d.signKey)));

    await expect(phone.removeDevice(laptopKey!, 'not the password')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect(phone.removeDevice(phoneKey!, passwordOf('alice'))).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'this is the device you are using: remove it from another device of yours, or ask the admin',
    });
    await expect(phone.removeDevice('laptop', passwordOf('alice'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'that is not a device id: the ids are 22 letters, digits, - and _, as the device list shows them',
    });
    expect(s.store.listDevices('alice')).toHaveLength(2);

    const laptopClosed = nextEvent(laptop, 'closed');
    const told = nextEvent(phone, 'notice', (n) => n.code === 'OWN_DEVICE_REMOVED');
    await phone.removeDevice(laptopKey!, passwordOf('alice'));
    expect((await laptopClosed)[0]).toEqual({ code: 'DEVICE_UNKNOWN', reason: 'this device was removed from the account' });
    expect((await told)[0]).toEqual({
      level: 'info',
      code: 'OWN_DEVICE_REMOVED',
      text: 'a device was removed from your account: it is logged out and can log in again only with the password (1 device left)',
    });
    expect(await phone.listDevices()).toEqual([
      { id: phoneKey, thisDevice: true, added: expect.any(Number), lastLogin: expect.any(Number) },
    ]);
    expect(phone.state).toBe('ready');
  });

  it('a removed device that logs in again with the password is told that what was sent meanwhile stays closed to it', async () => {
    const s = await fx.unthrottledServer();
    const phone = await fx.user(s, 'alice');
    const laptopPaths = await fx.paths();
    const laptop = await fx.connect(s, { paths: laptopPaths });
    await laptop.login('alice', passwordOf('alice'));
    const laptopKey = deviceId(fromBase64Url(s.store.listDevices('alice')[1]!.signKey));
    const closed = nextEvent(laptop, 'closed');
    await phone.removeDevice(laptopKey, passwordOf('alice'));
    await closed;
    await laptop.close(); // its device lock is released once it has shut down

    const again = await fx.connect(s, { paths: laptopPaths });
    const notices: { code?: string; text: string }[] = [];
    again.on('notice', (n) => notices.push(n));
    await again.login('alice', passwordOf('alice'));
    expect(notices.filter((n) => n.code === 'DEVICE_READDED')).toEqual([
      {
        level: 'warn',
        code: 'DEVICE_READDED',
        text: 'this device had been removed from your account and is on it again: what was sent to you while it was removed stays closed to it',
      },
    ]);
    expect(again.deviceId).toBe(laptopKey); // the same device, bound again

    // A plain device login afterwards says nothing of it.
    await again.close();
    const later = await fx.connect(s, { paths: laptopPaths });
    const laterNotices: { code?: string }[] = [];
    later.on('notice', (n) => laterNotices.push(n));
    await later.login('alice');
    expect(laterNotices.map((n) => n.code)).not.toContain('DEVICE_READDED');
  });

  it('is not asked of a server that speaks only protocol version 4', () => {
    expect(() => removeDeviceRequest('AAAAAAAAAAAAAAAAAAAAAA', 'pw', 4)).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_VERSION',
        message: 'this server cannot remove devices yet: ask its admin (hushd user remove-device)',
      }),
    );
    expect(removeDeviceRequest('AAAAAAAAAAAAAAAAAAAAAA', 'pw', 5)).toEqual({
      type: 'remove_device',
      device: 'AAAAAAAAAAAAAAAAAAAAAA',
      password: 'pw',
    });
  });
});
