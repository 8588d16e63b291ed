// Failed logins in a running hushd's log: an admin reading it sees password guessing (the account
// tried, when it exists, and the address), and never what was typed as a password or as a name
// that is no account.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RawClient, registered } from '../src/raw-client.js';
import { CLI, hushdFixture } from './helpers/hushd-process.js';

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

describe("hushd's log of connections refused at accept", () => {
  it('names the address and which limit it met, and the banned address', async () => {
    const dataDir = join(fx.dir, 'data');
    const hushd = await fx.start(['--port', '0', '--data-dir', dataDir, '--max-connections-per-address', '1']);
    fx.keep(await RawClient.connect(hushd.port));
    const second = fx.keep(await RawClient.raw(hushd.port));
    expect(await second.next('goodbye')).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
    expect(await hushd.waitForLog('refused_connection_limit')).toMatchObject({
      address: '127.0.0.1',
      limit: 'maxConnectionsPerAddress',
      connections: 1,
    });

    const ban = spawnSync(process.execPath, [CLI, 'ban', '--address', '127.0.0.1', '--data-dir', dataDir], { encoding: 'utf8' });
    expect(ban.status, ban.stderr).toBe(0);
    await hushd.waitForLog('address_banned');
    // The accept-time check caches the ban list for a second (server.ts): a connection within it may pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const banned = fx.keep(await RawClient.raw(hushd.port));
    expect(await banned.next('goodbye')).toMatchObject({ code: 'BANNED' });
    expect(await hushd.waitForLog('refused_banned_address')).toMatchObject({ address: '127.0.0.1' });
  }, 60_000);
});
