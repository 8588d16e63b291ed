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
