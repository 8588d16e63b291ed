// An audit trail of admin commands given beside a running hushd: each one the server carries out
// leaves a log line naming what happened, to whom and by which command, never a reason or password.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registered } from '../src/raw-client.js';
import { CLI, hushdFixture } from './helpers/hushd-process.js';

const fx = hushdFixture('hushd-admin-log-');

describe("a running hushd's log of admin commands", () => {
  it('logs role changes, device removals, passwords set, address bans, bans and unbans as it carries them out', async () => {
    const dataDir = join(fx.dir, 'data');
    const server = await fx.start(['--port', '0', '--data-dir', dataDir]);
    fx.keep(await registered(server.port, 'bob'));
    const admin = (...args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, ...args, '--data-dir', dataDir], {
        encoding: 'utf8',
        input: 'SECRET-new-password-1\n',
        timeout: 20_000,
        env: { PATH: process.env.PATH, HUSH_SCRYPT_N: '1024' },
      });
      expect(r.status, r.stderr).toBe(0);
    };

    admin('user', 'role', 'bob', 'admin');
    expect(await server.waitForLog('role_changed')).toMatchObject({ user: 'bob', role: 'admin', by: 'hushd user role' });
    admin('user', 'remove-device', 'bob', 'all');
    expect(await server.waitForLog('device_removed')).toMatchObject({ user: 'bob', by: 'hushd user remove-device' });
    admin('user', 'passwd', 'bob', '--password-stdin');
    expect(await server.waitForLog('password_set')).toMatchObject({ user: 'bob', by: 'hushd user passwd' });
    admin('ban', '--address', '10.1.2.3', '--reason', 'SECRET-REASON-addr');
    expect(await server.waitForLog('address_banned')).toMatchObject({ address: '10.1.2.3', by: 'hushd ban' });
    admin('unban', '--address', '10.1.2.3');
    expect(await server.waitForLog('address_unbanned')).toMatchObject({ address: '10.1.2.3', by: 'hushd unban' });
    admin('ban', 'bob', '--reason', 'SECRET-REASON-bob');
    expect(await server.waitForLog('user_banned')).toMatchObject({ user: 'bob', by: 'hushd ban' });
    admin('unban', 'bob');
    expect(await server.waitForLog('user_unbanned')).toMatchObject({ user: 'bob', by: 'hushd unban' });
    expect(JSON.stringify(server.log())).not.toMatch(/SECRET-(REASON|new-password)/);
  });

  it("logs an admin's bans and unbans over the protocol with the admin's name", async () => {
    const dataDir = join(fx.dir, 'data');
    const server = await fx.start(['--port', '0', '--data-dir', dataDir]);
    fx.keep(await registered(server.port, 'troll'));
    const boss = fx.keep(await registered(server.port, 'boss'));
    const r = spawnSync(process.execPath, [CLI, 'user', 'role', 'boss', 'admin', '--data-dir', dataDir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    await server.waitForLog('role_changed');
    await boss.expect({ type: 'ban', user: 'troll', address: '10.4.5.6' }, 'ok');
    expect(await server.waitForLog('address_banned')).toMatchObject({ address: '10.4.5.6', by: 'boss' });
    await boss.expect({ type: 'unban', user: 'troll', address: '10.4.5.6' }, 'ok');
    expect(await server.waitForLog('user_unbanned')).toMatchObject({ user: 'troll', by: 'boss' });
    expect(await server.waitForLog('address_unbanned')).toMatchObject({ address: '10.4.5.6', by: 'boss' });
  });
});
