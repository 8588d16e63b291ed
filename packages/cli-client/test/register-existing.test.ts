// `hush --register` for an account whose device key this computer already holds for the server
// (a launcher that always passes --register): it logs in, and says so once.
import { describe, expect, it } from 'vitest';
import { appPerTest, FakeSession } from './helpers/fake-app.js';

const { launch } = appPerTest();
/** The start of the notice (the pane wraps the rest). */
const SAID = '"bob" is already an account of this device on this server:';

describe('register for an account this device holds', () => {
  it('logs in with the device key (no password needed), registers nothing, and says so once', async () => {
    const session = new FakeSession();
    session.deviceKeys = ['bob'];
    const t = launch({ user: 'bob', register: true, autoLogin: true, session });
    await t.shows('#lobby');
    await t.shows(SAID);
    expect(session.registered).toEqual([]);
    expect(session.loggedIn).toEqual([['bob', undefined]]);
    expect(t.text().split(SAID)).toHaveLength(2);
  });

  it('with a password typed, logs in the same way', async () => {
    const session = new FakeSession();
    session.deviceKeys = ['bob'];
    const t = launch({ user: 'bob', password: 'long enough pw', register: true, autoLogin: true, session });
    await t.shows(SAID);
    expect(session.registered).toEqual([]);
    expect(session.loggedIn).toEqual([['bob', 'long enough pw']]);
  });

  it('an account this device does not hold is registered as asked', async () => {
    const session = new FakeSession();
    session.deviceKeys = ['alice'];
    const t = launch({ user: 'bob', password: 'long enough pw', register: true, autoLogin: true, session });
    await t.shows('#lobby');
    expect(session.registered).toEqual(['bob']);
    expect(session.loggedIn).toEqual([]);
    expect(t.text()).not.toContain('already an account');
  });
});
