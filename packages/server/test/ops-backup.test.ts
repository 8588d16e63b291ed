// `hushd backup DIR` beside a running hushd, and a restore from it: the operator's whole round trip
// over real processes.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { registered } from '../src/raw-client.js';
import { CLI, ensureBuilt, hushdFixture } from './helpers/hushd-process.js';

beforeAll(() => ensureBuilt(), 120_000);
const fx = hushdFixture('hushd-backup-');

function run(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: fx.dir, HUSH_SCRYPT_N: '1024' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hushd backup', () => {
  it('copies a running server into a new directory, owner-only, and a restore from it is the same server', async () => {
    const dataDir = join(fx.dir, 'data');
    const server = await fx.start(['--port', '0', '--data-dir', dataDir, '--open-rooms', 'lobby']);
    writeFileSync(join(dataDir, 'hushd.json'), '{"registration": "open"}\n');
    const alice = fx.keep(await registered(server.port, 'alice'));
    await alice.expect({ type: 'send', room: 'lobby', text: 'kept in the backup' }, 'ack');

    const target = join(fx.dir, 'backup', 'monday');
    const r = await run(['backup', target, '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${join(target, 'hush.db')}\\t\\d+ bytes\\n${join(target, 'identity.key')}\\t44 bytes\\n`));
    expect(readdirSync(target).sort()).toEqual(['hush.db', 'hushd.json', 'identity.key']);
    expect(statSync(target).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(target)) expect([f, statSync(join(target, f)).mode & 0o777]).toEqual([f, 0o600]);
    // Never over anything.
    const again = await run(['backup', target, '--data-dir', dataDir]);
    expect(again).toMatchObject({
      code: 1,
      stderr: `hushd: ${target} already exists and is not an empty directory: a backup never overwrites anything\n`,
    });

    // Restored into an empty directory: the same identity, the account and the history.
    const restored = join(fx.dir, 'restored');
    mkdirSync(restored, { mode: 0o700 });
    cpSync(target, restored, { recursive: true });
    const back = await fx.start(['--port', '0', '--data-dir', restored, '--open-rooms', 'lobby']);
    expect(back.fingerprint).toBe(server.fingerprint);
    const list = await run(['user', 'list', '--data-dir', restored]);
    expect(list.stdout).toContain('alice');
    const alice2 = fx.keep(await registered(back.port, 'bob'));
    const page = await alice2.request({ type: 'history', target: { room: 'lobby' }, limit: 10 });
    expect(JSON.stringify(page)).toContain('kept in the backup');
  }, 60_000);

  it('says what to do without a server, with a usage, and on PostgreSQL', async () => {
    expect(await run(['backup', join(fx.dir, 'b'), '--data-dir', join(fx.dir, 'none')])).toMatchObject({
      code: 1,
      stderr: `hushd: no Hush server data in ${join(fx.dir, 'none')} (no hush.db): check --data-dir, or start hushd there once first\n`,
    });
    expect(await run(['backup'])).toMatchObject({
      code: 2,
      stderr: 'hushd: usage: hushd backup DIR (a new or empty directory) (see hushd --help)\n',
    });
    expect((await run(['backup', join(fx.dir, 'b'), '--store', 'postgres://h@127.0.0.1:1/x'])).code).toBe(2);
  }, 60_000);
});
