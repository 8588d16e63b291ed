// A data directory without a server in it: admin commands on a mistyped or forgotten --data-dir
// refuse instead of creating a new, empty server nobody runs, and a server whose hush.db was lost
// beside its identity.key refuses to start empty under the old fingerprint. The built `hushd`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, hushdFixture } from './helpers/hushd-process.js';

beforeAll(() => ensureBuilt(), 120_000);
const fx = hushdFixture('hushd-server-data-');

function hushd(args: string[], input = '') {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input,
    timeout: 20_000,
    env: { PATH: process.env.PATH, HOME: fx.dir, XDG_DATA_HOME: join(fx.dir, 'share'), HUSH_SCRYPT_N: '1024' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ADMIN_COMMANDS = [
  ['user', 'add', 'zed', '--password-stdin'],
  ['user', 'passwd', 'zed', '--password-stdin'],
  ['user', 'role', 'zed', 'admin'],
  ['user', 'list'],
  ['user', 'devices', 'zed'],
  ['user', 'remove-device', 'zed', 'all'],
  ['ban', 'zed'],
  ['ban', '--address', '10.1.2.3'],
  ['unban', 'zed'],
  ['unban', '--address', '10.1.2.3'],
  ['invite', 'create'],
  ['migrate'],
  ['fingerprint'],
  // Refused before any connection: the copy's source is the data directory's hush.db.
  ['import', '--store', 'postgres://hush@127.0.0.1:1/none'],
];

/** A data directory a hushd has run in (and stopped). */
async function ranOnce(dir: string): Promise<string> {
  const server = await fx.start(['--port', '0', '--data-dir', dir]);
  expect(await server.stop()).toBe(0);
  return server.fingerprint;
}

describe('admin commands on a directory with no server data', () => {
  it('every one refuses in words, exits 1 and creates nothing (a mistyped --data-dir)', () => {
    const typo = join(fx.dir, 'typo-dir');
    for (const args of ADMIN_COMMANDS) {
      const r = hushd([...args, '--data-dir', typo], 'Zed-Secret-pw-4242\nZed-Secret-pw-4242\n');
      expect({ args, ...r }).toEqual({
        args,
        code: 1,
        stdout: '',
        stderr: `hushd: no Hush server data in ${typo} (no hush.db): check --data-dir, or start hushd there once first\n`,
      });
      expect(existsSync(typo)).toBe(false);
    }
  });

  it('a forgotten --data-dir (the default directory, never used) is refused the same way', () => {
    const r = hushd(['user', 'add', 'alice', '--password-stdin'], 'a good long password\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `hushd: no Hush server data in ${join(fx.dir, 'share', 'hush', 'server')} (no hush.db): check --data-dir, or start hushd there once first\n`,
    );
    expect(existsSync(join(fx.dir, 'share'))).toBe(false);
  });

  it('an empty (0-byte) hush.db is no server either, and stays as it was', () => {
    const dir = join(fx.dir, 'empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'hush.db'), '');
    const r = hushd(['user', 'list', '--data-dir', dir]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(`hushd: no Hush server data in ${dir} (hush.db is empty): check --data-dir, or start hushd there once first\n`);
    expect(readdirSync(dir)).toEqual(['hush.db']);
    expect(statSync(join(dir, 'hush.db')).size).toBe(0);
  });

  it('on PostgreSQL, fingerprint needs the node identity.key (a new key would match no node); the other commands do not touch the directory', () => {
    const dir = join(fx.dir, 'pg-node');
    const store = ['--store', 'postgres://hush@127.0.0.1:1/none', '--data-dir', dir];
    const r = hushd(['fingerprint', ...store]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `hushd: no Hush server identity in ${dir} (no identity.key): check --data-dir, or start hushd there once first (every node of a cluster has the same identity.key: copy it from another node)\n`,
    );
    const list = hushd(['user', 'list', ...store]);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/^hushd: PostgreSQL: .*ECONNREFUSED/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('a directory a hushd has run in', () => {
  it('admin commands work in it, and fingerprint prints the server key without creating one', async () => {
    const dir = join(fx.dir, 'server');
    const fingerprint = await ranOnce(dir);
    expect(hushd(['user', 'add', 'zed', '--password-stdin', '--data-dir', dir], 'Zed-Secret-pw-4242\n')).toMatchObject({
      code: 0,
      stdout: 'added zed (user)\n',
    });
    expect(hushd(['fingerprint', '--data-dir', dir])).toEqual({ code: 0, stdout: `${fingerprint}\n`, stderr: '' });
  });

  it('with hush.db lost (missing or emptied) beside identity.key, refuses to start or administer it, and says what to do', async () => {
    const dir = join(fx.dir, 'lost');
    const fingerprint = await ranOnce(dir);
    const db = join(dir, 'hush.db');
    const words = `${db} is missing or empty but this data directory has a server identity (identity.key): restore hush.db from a backup, or move identity.key away to start a new server\n`;
    for (const lose of [() => writeFileSync(db, ''), () => rmSync(db)]) {
      lose();
      const start = hushd(['--port', '0', '--data-dir', dir]);
      expect(start.code).toBe(1);
      expect(start.stderr).toBe(`hushd: cannot start: ${words}`);
      expect(hushd(['user', 'list', '--data-dir', dir])).toEqual({ code: 1, stdout: '', stderr: `hushd: ${words}` });
      // Its fingerprint can still be read: reading it creates nothing.
      expect(hushd(['fingerprint', '--data-dir', dir])).toEqual({ code: 0, stdout: `${fingerprint}\n`, stderr: '' });
    }
    expect(existsSync(db)).toBe(false);
    // Moving the key away is starting a new server, on purpose.
    renameSync(join(dir, 'identity.key'), join(fx.dir, 'old-identity.key'));
    expect(await ranOnce(dir)).not.toBe(fingerprint);
  });

  it('with identity.key lost beside a hush.db holding accounts, refuses to start under a new key (every client pinned the old one)', async () => {
    const dir = join(fx.dir, 'keyless');
    const fingerprint = await ranOnce(dir);
    expect(hushd(['user', 'add', 'zed', '--password-stdin', '--data-dir', dir], 'Zed-Secret-pw-4242\n').code).toBe(0);
    renameSync(join(dir, 'identity.key'), join(fx.dir, 'kept-identity.key'));
    const start = hushd(['--port', '0', '--data-dir', dir]);
    expect(start.code).toBe(1);
    expect(start.stderr).toBe(
      `hushd: cannot start: ${join(dir, 'identity.key')} is missing but ${join(dir, 'hush.db')} holds a server: restore identity.key from a backup (every client pinned its fingerprint and would refuse a new one), or move hush.db away to start a new server\n`,
    );
    expect(existsSync(join(dir, 'identity.key'))).toBe(false);
    // Nor does `hushd fingerprint` make one, which the next start would then take as the server's.
    expect(hushd(['fingerprint', '--data-dir', dir])).toMatchObject({
      code: 1,
      stdout: '',
      stderr: start.stderr.replace('cannot start: ', ''),
    });
    expect(existsSync(join(dir, 'identity.key'))).toBe(false);
    // Restored, it is the same server again.
    renameSync(join(fx.dir, 'kept-identity.key'), join(dir, 'identity.key'));
    expect(await ranOnce(dir)).toBe(fingerprint);
  });
});
