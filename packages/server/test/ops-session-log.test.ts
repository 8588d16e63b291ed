// Sessions in a running hushd's log: a login says where it came from (as a failed one does), a
// connection's end is logged at debug with its id and why, and a wrong current password given to
// change the password or remove a device is told apart from someone failing to log in from outside.
import { join } from 'node:path';
import { deviceId } from '@hush/crypto';
import { describe, expect, it } from 'vitest';
import { RawClient, registered } from '../src/raw-client.js';
import { hushdFixture } from './helpers/hushd-process.js';

const fx = hushdFixture('hushd-session-log-');

describe("hushd's log of sessions", () => {
  it('logs the address of a login and registration, and each disconnect at debug with its connection id and reason', async () => {
    const hushd = await fx.start(['--port', '0', '--data-dir', join(fx.dir, 'data'), '--log-level', 'debug']);
    const alice = await registered(hushd.port, 'alice');
    expect(await hushd.waitForLog('registered', (l) => l.user === 'alice')).toMatchObject({ address: '127.0.0.1' });
    const first = await hushd.waitForLog('login', (l) => l.user === 'alice');
    expect(first).toMatchObject({ address: '127.0.0.1', device: 'bound', conn: expect.any(Number) });

    await alice.expect({ type: 'logout' }, 'ok');
    expect(await hushd.waitForLog('disconnected', (l) => l.conn === first.conn)).toMatchObject({
      level: 'debug',
      user: 'alice',
      reason: 'logout',
      ms: expect.any(Number),
    });
    await alice.close();

    const again = await RawClient.connect(hushd.port);
    await again.login('alice');
    const second = await hushd.waitForLog('login', (l) => l.user === 'alice' && l.conn !== first.conn);
    expect(second).toMatchObject({ address: '127.0.0.1' });
    await again.close(); // the peer goes away
    expect(await hushd.waitForLog('disconnected', (l) => l.conn === second.conn)).toMatchObject({ user: 'alice', reason: 'peer_closed' });
  });

  it('tells a wrong current password in password_change or remove_device apart from a failed login', async () => {
    const hushd = await fx.start(['--port', '0', '--data-dir', join(fx.dir, 'data')]);
    const carol = fx.keep(await registered(hushd.port, 'carol'));
    const login = await hushd.waitForLog('login', (l) => l.user === 'carol');
    const laptop = fx.keep(await RawClient.connect(hushd.port));
    await laptop.login('carol');
    const wrong = 'not-carols-password-1';
    expect(await carol.request({ type: 'password_change', password: wrong, newPassword: 'a new long password' })).toMatchObject({
      code: 'AUTH_FAILED',
    });
    expect(await carol.request({ type: 'remove_device', device: deviceId(laptop.device.signPublicKey), password: wrong })).toMatchObject({
      code: 'AUTH_FAILED',
    });
    const outsider = fx.keep(await RawClient.connect(hushd.port));
    expect(await outsider.request({ type: 'login', username: 'carol', password: wrong, device: outsider.bundle() })).toMatchObject({
      code: 'AUTH_FAILED',
    });

    await hushd.waitForLog('login_failed', (l) => l.during === undefined);
    const failed = hushd.log().filter((l) => l.event === 'login_failed');
    expect(failed).toEqual([
      expect.objectContaining({ code: 'AUTH_FAILED', account: 'carol', address: '127.0.0.1', during: 'password_change', conn: login.conn }),
      expect.objectContaining({ code: 'AUTH_FAILED', account: 'carol', address: '127.0.0.1', during: 'remove_device', conn: login.conn }),
      expect.objectContaining({ code: 'AUTH_FAILED', account: 'carol', address: '127.0.0.1' }),
    ]);
    expect(failed[2]).not.toHaveProperty('during');
    expect(JSON.stringify(hushd.log())).not.toContain(wrong);
  });
});
