// SIGHUP reloads the config file of a running hushd: limits, registration mode and log level change,
// connections stay, the log names the changed keys (never their values).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hushdFixture } from './helpers/hushd-process.js';
import { registered, RawClient } from '../src/raw-client.js';

const fx = hushdFixture('hushd-reload-');

describe.runIf(process.platform !== 'win32')('SIGHUP', () => {
  it('applies the changed config file without dropping a connection, and logs the changed keys', async () => {
    const file = join(fx.dir, 'hush.conf.json');
    writeFileSync(file, JSON.stringify({ registration: 'open', logLevel: 'info', limits: { maxConnectionsPerAddress: 5 } }));
    const hushd = await fx.start(['--port', '0', '--config', file, '--data-dir', join(fx.dir, 'data')]);
    const { port } = hushd;

    const alice = fx.keep(await registered(port, 'alice')); // open registration
    const probe = fx.keep(await RawClient.connect(port)); // a second connection from this address, not logged in

    // `port` is set by a flag too, and flags win over the file at a reload as at the start.
    writeFileSync(
      file,
      JSON.stringify({ registration: 'closed', logLevel: 'warn', port: 1, defaultRoom: 'hall', limits: { maxConnectionsPerAddress: 2 } }),
    );
    hushd.child.kill('SIGHUP');
    const reloaded = await hushd.waitForLog('config_reloaded');
    expect(reloaded).toMatchObject({ level: 'info', needRestart: ['defaultRoom'] });
    expect([...(reloaded.applied as string[])].sort()).toEqual(['limits.maxConnectionsPerAddress', 'logLevel', 'registration']);
    expect(await hushd.waitForLog('config_needs_restart')).toMatchObject({ level: 'warn', keys: ['defaultRoom'] });
    // Keys only: no value of the file reaches the log.
    expect(JSON.stringify(reloaded)).not.toMatch(/closed|"warn"|hall/);

    // The connections made before the reload are still there and served.
    for (const [c, nonce] of [
      [alice, 'a1'],
      [probe, 'p1'],
    ] as const) {
      c.send({ type: 'ping', nonce });
      expect(await c.next((m) => m.type === 'pong' && m.nonce === nonce)).toBeDefined();
      expect(c.isClosed).toBe(false);
    }
    // The new registration mode applies.
    const refused = await probe.request({ type: 'register', username: 'bob', password: 'correct horse battery', device: probe.bundle() });
    expect(refused).toMatchObject({ type: 'error', code: 'REGISTRATION_CLOSED' });
    // The new limit applies: two connections from this address already, a third is refused.
    const third = fx.keep(await RawClient.raw(port));
    expect(await third.next('goodbye')).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });

    // The new log level applies: at "warn", the next SIGHUP's info line is not written, while a
    // broken file is reported (by file and key) and changes nothing.
    writeFileSync(file, JSON.stringify({ registration: 'invite', limits: { maxConnectionsPerAddress: 'many' } }));
    hushd.child.kill('SIGHUP');
    const failed = await hushd.waitForLog('config_reload_failed');
    expect(JSON.stringify(failed.error)).toContain('limits.maxConnectionsPerAddress');
    expect(hushd.log().filter((l) => l.event === 'signal' && l.signal === 'SIGHUP')).toHaveLength(1);
    expect(hushd.log().filter((l) => l.event === 'config_reloaded')).toHaveLength(1);
    expect(
      await probe.request({ type: 'register', username: 'carol', password: 'correct horse battery', device: probe.bundle() }),
    ).toMatchObject({
      code: 'REGISTRATION_CLOSED',
    });

    alice.send({ type: 'ping', nonce: 'a2' });
    expect(await alice.next((m) => m.type === 'pong' && m.nonce === 'a2')).toBeDefined();
    expect([alice.isClosed, probe.isClosed]).toEqual([false, false]);
    expect(await hushd.stop()).toBe(0);
  }, 60_000);

  it('reloads hushd.json in the data directory when no --config is given', async () => {
    const data = join(fx.dir, 'data');
    mkdirSync(data, { mode: 0o700 });
    writeFileSync(join(data, 'hushd.json'), JSON.stringify({ minPasswordLength: 8 }));
    const hushd = await fx.start(['--port', '0', '--data-dir', data]);
    writeFileSync(join(data, 'hushd.json'), JSON.stringify({ minPasswordLength: 30 }));
    hushd.child.kill('SIGHUP');
    expect(await hushd.waitForLog('config_reloaded')).toMatchObject({ applied: ['minPasswordLength'], needRestart: [] });
    const c = fx.keep(await RawClient.connect(hushd.port));
    const weak = await c.request({ type: 'register', username: 'dave', password: 'twenty chars is not enough', device: c.bundle() });
    expect(weak).toMatchObject({ type: 'error', code: 'PASSWORD_WEAK' });
  });
});
