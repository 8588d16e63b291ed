// password_change: an account changes its own password with the current one. Over real sockets;
// run on SQLite, PostgreSQL and a three-node cluster.
import { describe, expect, it } from 'vitest';
import { RawClient, TEST_PASSWORD } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';

const fixture = rawServer();
const { user, newDevice } = fixture;

const NEW_PASSWORD = 'a longer and newer passphrase';

/** A password login of a new device of `name`: the reply's type ('login_ok' when it worked) and code. */
async function passwordLogin(name: string, password: string): Promise<{ type: string; code?: string }> {
  const c = await fixture.connect();
  const reply = await c.request({ type: 'login', username: name, password, device: c.bundle() });
  return reply.type === 'error' ? { type: 'error', code: reply.code } : { type: reply.type };
}

describe('password_change', () => {
  it('changes the password: the other devices are told, the old one is refused from then on, the new one logs in, devices stay logged in', async () => {
    const desk = await user('pc-owner');
    const laptop = await newDevice('pc-owner');

    await desk.expect({ type: 'password_change', password: TEST_PASSWORD, newPassword: NEW_PASSWORD }, 'ok');
    // The other device is told (on any node); the one that changed it is not.
    expect(await laptop.next((m) => m.type === 'notice')).toMatchObject({ level: 'warn', code: 'PASSWORD_CHANGED' });
    expect(await passwordLogin('pc-owner', TEST_PASSWORD)).toEqual({ type: 'error', code: 'AUTH_FAILED' });
    expect((await passwordLogin('pc-owner', NEW_PASSWORD)).type).not.toBe('error');
    expect(desk.isClosed).toBe(false);
    expect(laptop.isClosed).toBe(false);
    // A device logs in with its key, not the password.
    const again = await fixture.connect();
    again.device = laptop.device;
    expect((await again.request(again.deviceLoginRequest('pc-owner'))).type).not.toBe('error');
  });

  it('refuses a wrong current password as a login does, counting it against the same back-off', async () => {
    const desk = await user('pc-guess');
    const change = (password: string) => desk.request({ type: 'password_change', password, newPassword: NEW_PASSWORD });
    for (let i = 0; i < 6; i++) expect(await change(`wrong password ${i}`)).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const blocked = await change(TEST_PASSWORD);
    expect(blocked).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(blocked.type === 'error' && (blocked.retryAfterMs ?? 0)).toBeGreaterThan(0);
    expect(await passwordLogin('pc-guess', TEST_PASSWORD)).toEqual({ type: 'error', code: 'RATE_LIMITED' });
    expect(desk.isClosed).toBe(false);
  });

  it('refuses a weak new password with the rule, before the current one is tried', async () => {
    const desk = await user('pc-weakling');
    const weak = await desk.request({ type: 'password_change', password: 'not even the right one', newPassword: 'short' });
    expect(weak).toMatchObject({ type: 'error', code: 'PASSWORD_WEAK' });
    expect(weak.type === 'error' && weak.message).toMatch(/^password must be at least \d+ characters$/);
    // The wrong current password above was never tried: a login with the right one still works at once.
    expect((await passwordLogin('pc-weakling', TEST_PASSWORD)).type).not.toBe('error');
    const same = await desk.request({ type: 'password_change', password: TEST_PASSWORD, newPassword: 'pc-weakling' });
    expect(same).toMatchObject({ type: 'error', code: 'PASSWORD_WEAK', message: 'password must not be the username' });
  });

  it('is not part of protocol version 4', async () => {
    await user('pc-old');
    const old = fixture.track(await RawClient.connect(fixture.server.port, { versions: [4] }));
    await old.login('pc-old');
    const refused = await old.request({ type: 'password_change', password: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    expect(refused).toMatchObject({ type: 'error', code: 'UNKNOWN_TYPE', message: 'password_change is not part of protocol version 4' });
    expect((await passwordLogin('pc-old', TEST_PASSWORD)).type).not.toBe('error');
  });
});
