// What the admin commands say when the store fails or there is nothing to do: a damaged or
// unopenable hush.db is named as the SQLite file it is (never blamed on PostgreSQL), and an unban of
// someone not banned is refused in the words a running hushd uses. The built `hushd`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite.js';
import { CLI, ensureBuilt, hushdFixture } from './helpers/hushd-process.js';

beforeAll(() => ensureBuilt(), 120_000);
const fx = hushdFixture('hushd-admin-words-');

function hushd(args: string[], input = '') {
  const r = spawnSync(process.execPath, [CLI, ...args, '--data-dir', join(fx.dir, 'data')], {
    encoding: 'utf8',
    input,
    timeout: 20_000,
    env: { PATH: process.env.PATH, HOME: fx.dir, HUSH_SCRYPT_N: '1024' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a hush.db that cannot be used', () => {
  it('damaged: named, with what to do, for an admin command and for migrate', () => {
    const db = join(fx.dir, 'data', 'hush.db');
    mkdirSync(join(fx.dir, 'data'));
    writeFileSync(db, 'not a database '.repeat(600));
    for (const args of [['user', 'list'], ['migrate']]) {
      expect(hushd(args)).toEqual({
        code: 1,
        stdout: '',
        stderr: `hushd: ${db} is damaged (file is not a database): restore it from a backup\n`,
      });
    }
  });

  it('not a file: the file system error names it, and no PostgreSQL is blamed', () => {
    const db = join(fx.dir, 'data', 'hush.db');
    mkdirSync(db, { recursive: true });
    const r = hushd(['user', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^hushd: ${db}: EISDIR: [^\\n]*\\n$`));
    expect(r.stderr).not.toContain('PostgreSQL');
  });
});

describe('hushd unban of someone not banned', () => {
  it('says so and exits 1, for an account and an address; a real ban is lifted once', () => {
    SqliteStore.open(join(fx.dir, 'data', 'hush.db')).close();
    expect(hushd(['user', 'add', 'carol', '--password-stdin'], 'a good long password\n').code).toBe(0);
    expect(hushd(['unban', 'carol'])).toEqual({ code: 1, stdout: '', stderr: 'hushd: carol is not banned\n' });
    expect(hushd(['unban', '--address', '10.9.9.9'])).toEqual({ code: 1, stdout: '', stderr: 'hushd: address 10.9.9.9 is not banned\n' });

    expect(hushd(['ban', 'carol', '--seconds', '600']).code).toBe(0);
    expect(hushd(['unban', 'carol'])).toMatchObject({ code: 0, stdout: 'unbanned carol\n' });
    expect(hushd(['unban', 'carol'])).toMatchObject({ code: 1, stderr: 'hushd: carol is not banned\n' });
    expect(hushd(['ban', '--address', '10.9.9.9']).code).toBe(0);
    expect(hushd(['unban', '--address', '10.9.9.9'])).toMatchObject({ code: 0, stdout: 'unbanned address 10.9.9.9\n' });
    expect(hushd(['unban', '--address', '10.9.9.9']).code).toBe(1);
  });
});
