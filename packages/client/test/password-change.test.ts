import { passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { passwordChangeRequest } from '../src/own-devices.js';
import { Fixture } from './helpers.js';

// changePassword: a person changes their account's password from a device, with the current one,
// without the server's admin. Devices stay logged in; a new device needs the new password.

describe('changePassword', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('changes the password with the current one; refuses a wrong current one and a weak new one in words', async () => {
    const s = await fx.unthrottledServer();
    const phone = await fx.user(s, 'alice');
    const next = 'a longer and newer passphrase';

    await expect(phone.changePassword('not the password', next)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect(phone.changePassword(passwordOf('alice'), 'short')).rejects.toMatchObject({
      code: 'PASSWORD_WEAK',
      message: 'password must be at least 8 characters',
    });

    await expect(phone.changePassword(passwordOf('alice'), passwordOf('alice'))).rejects.toMatchObject({
      code: 'PASSWORD_WEAK',
      message: 'the new password is the current one',
    });

    await phone.changePassword(passwordOf('alice'), next);
    expect(phone.state).toBe('ready');
    const oldPassword = await fx.connect(s);
    await expect(oldPassword.login('alice', passwordOf('alice'))).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    const newPassword = await fx.connect(s);
    await newPassword.login('alice', next);
    expect(newPassword.state).toBe('ready');
  });

  it('is not asked of a server that speaks only protocol version 4', () => {
    expect(() => passwordChangeRequest('old', 'new', 4)).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_VERSION',
        message: 'this server cannot change passwords yet: ask its admin (hushd user passwd)',
      }),
    );
    expect(passwordChangeRequest('old', 'new', 5)).toEqual({ type: 'password_change', password: 'old', newPassword: 'new' });
  });
});
