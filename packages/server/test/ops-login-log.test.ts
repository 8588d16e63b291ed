// Failed logins in a running hushd's log: an admin reading it sees password guessing (the account
// tried, when it exists, and the address), and never what was typed as a password or as a name
// that is no account.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawClient, registered } from '../src/raw-client.js';
import { hushdFixture } from './helpers/hushd-process.js';

const fx = hushdFixture('hushd-login-log-');

describe("hushd's log of failed logins", () => {
  it('names the account and address of a wrong password, and keeps typed secrets out', async () => {
    const hushd = await fx.start(['--port', '0', '--data-dir', join(fx.dir, 'data')]);
    fx.keep(await registered(hushd.port, 'alice'));
    const guesser = fx.keep(await RawClient.connect(hushd.port));
    const wrong = 'Tr0ub4dor&3-guess';
    expect(await guesser.request({ type: 'login', username: 'alice', password: wrong, device: guesser.bundle() })).toMatchObject({
      code: 'AUTH_FAILED',
    });
    // A password typed into the name field: no such account, so the name is not logged.
    const typedAsName = 'mysecretpass1';
    expect(
      await guesser.request({ type: 'login', username: typedAsName, password: 'whatever it is', device: guesser.bundle() }),
    ).toMatchObject({ code: 'AUTH_FAILED' });

    const failed = await hushd.waitForLog('login_failed', (l) => l.account === null);
    expect(failed).toMatchObject({ code: 'AUTH_FAILED', address: '127.0.0.1' });
    const known = hushd.log().find((l) => l.event === 'login_failed' && l.account === 'alice');
    expect(known).toMatchObject({ code: 'AUTH_FAILED', address: '127.0.0.1' });
    const all = JSON.stringify(hushd.log());
    expect(all).not.toContain(wrong);
    expect(all).not.toContain(typedAsName);
    expect(all).not.toContain('whatever it is');
  });
});
