// One hushd per SQLite data directory (data-dir-lock.ts), over real processes: a second daemon is
// refused in words naming the directory and the first one's pid, a kill -9 leaves nothing stale,
// and the admin commands keep working beside the running daemon. And a first start that fails
// leaves no server behind.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { lockDataDir } from '../src/data-dir-lock.js';
import { registered } from '../src/raw-client.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/schema.js';
import { CLI, ensureBuilt, hushdFixture } from './helpers/hushd-process.js';

beforeAll(() => ensureBuilt(), 120_000);
const fx = hushdFixture('hushd-lock-');
const held: Server[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) await new Promise((resolve) => s.close(resolve));
});

const env = () => ({ PATH: process.env.PATH, HOME: fx.dir, HUSH_SCRYPT_N: '1024' });

/** `hushd ARGS` until it exits, with `input` on stdin. */
function run(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('one hushd per data directory', () => {
  it('refuses a second hushd on the same directory, naming it and the running pid; admin commands work beside the first', async () => {
    const dataDir = join(fx.dir, 'data');
    const first = await fx.start(['--port', '0', '--data-dir', dataDir]);
    const second = await run(['--port', '0', '--data-dir', dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`hushd: cannot start: ${dataDir} is in use by another hushd (pid ${first.child.pid}): stop it first`);
    expect(second.stderr).not.toContain('listening');

    const add = await run(['user', 'add', 'carol', '--password-stdin', '--data-dir', dataDir], 'a good long password\n');
    expect(add.code, add.stderr).toBe(0);
    fx.keep(await registered(first.port, 'bob'));
    const ban = await run(['ban', 'bob', '--data-dir', dataDir]);
    expect(ban.code, ban.stderr).toBe(0);
    expect(await first.waitForLog('user_banned')).toMatchObject({ user: 'bob', by: 'hushd ban' });
    const list = await run(['user', 'list', '--data-dir', dataDir]);
    expect(list.stdout).toContain('carol');
    expect(first.child.exitCode).toBeNull();
  }, 60_000);

  it('starts again at once after the running one was killed with SIGKILL', async () => {
    const dataDir = join(fx.dir, 'data');
    const first = await fx.start(['--port', '0', '--data-dir', dataDir]);
    first.child.kill('SIGKILL');
    await first.exited;
    const again = await fx.start(['--port', '0', '--data-dir', dataDir]);
    expect(again.fingerprint).toBe(first.fingerprint);
    // And a clean stop lets the next start in too.
    expect(await again.stop()).toBe(0);
    const third = await fx.start(['--port', '0', '--data-dir', dataDir]);
    expect(third.fingerprint).toBe(first.fingerprint);
  }, 60_000);

  it('a first start that fails leaves no server behind for the admin commands, fingerprint or a backup to find', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    held.push(busy);
    const port = (busy.address() as { port: number }).port;
    const dataDir = join(fx.dir, 'typo');
    const failed = await run(['--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
    expect(existsSync(dataDir) ? readdirSync(dataDir).filter((f) => f !== 'hushd.lock') : []).toEqual([]);
    for (const args of [['fingerprint'], ['user', 'list']]) {
      const r = await run([...args, '--data-dir', dataDir]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toContain(`no Hush server data in ${dataDir} (no hush.db)`);
    }
    // The next start there is a first start as any other.
    const started = await fx.start(['--port', '0', '--data-dir', dataDir]);
    expect((await started.waitForLog('identity_created')).fingerprint).toBe(started.fingerprint);
  }, 60_000);

  it('a later start that fails keeps the server it found', async () => {
    const dataDir = join(fx.dir, 'data');
    const first = await fx.start(['--port', '0', '--data-dir', dataDir]);
    fx.keep(await registered(first.port, 'bob'));
    expect(await first.stop()).toBe(0);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    held.push(busy);
    const failed = await run(['--host', '127.0.0.1', '--port', String((busy.address() as { port: number }).port), '--data-dir', dataDir]);
    expect(failed.code).toBe(1);
    const fp = await run(['fingerprint', '--data-dir', dataDir]);
    expect(fp.stdout.trim()).toBe(first.fingerprint);
    expect((await run(['user', 'list', '--data-dir', dataDir])).stdout).toContain('bob');
  }, 60_000);
});

describe('the lock, refused without a daemon', () => {
  it('reads the holder from a lock held by another process', async () => {
    const dataDir = join(fx.dir, 'data');
    const holder = await fx.start(['--port', '0', '--data-dir', dataDir]);
    await expect(lockDataDir(dataDir)).rejects.toThrow(`${dataDir} is in use by another hushd (pid ${holder.child.pid})`);
    await holder.stop();
    const lock = await lockDataDir(dataDir);
    const r = spawnSync(process.execPath, [CLI, '--port', '0', '--data-dir', dataDir], { encoding: 'utf8', env: env(), timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`is in use by another hushd (pid ${process.pid})`);
    lock.release();
  }, 60_000);
});

describe('hushd import beside a running hushd', () => {
  it('is refused: the copy would miss what the running one writes afterwards', async () => {
    const dataDir = join(fx.dir, 'data');
    const running = await fx.start(['--port', '0', '--data-dir', dataDir]);
    const r = await run(['import', '--data-dir', dataDir, '--store', 'postgres://hush@127.0.0.1:1/none']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `hushd: stop the hushd running on ${dataDir} (pid ${running.child.pid}) first: a copy taken while it runs misses what it writes afterwards\n`,
    );
  }, 60_000);
});

describe('two daemons in one process (a library user, a test)', () => {
  it("refuses the second without freeing the first one's lock (POSIX drops a process's locks on any close of the file)", async () => {
    const { startTestServer } = await import('../src/testing.js');
    const dataDir = join(fx.dir, 'data');
    const first = await startTestServer({ dataDir });
    try {
      await expect(startTestServer({ dataDir })).rejects.toThrow(`${dataDir} is in use by another hushd (pid ${process.pid})`);
      // The same directory by another path (a symlink) is the same lock file.
      const linked = join(fx.dir, 'linked');
      symlinkSync(dataDir, linked);
      await expect(lockDataDir(linked)).rejects.toThrow(`${linked} is in use by another hushd (pid ${process.pid})`);
      // Still held: a hushd process is refused too.
      const other = await run(['--port', '0', '--data-dir', dataDir]);
      expect(other.code).toBe(1);
      expect(other.stderr).toContain(`${dataDir} is in use by another hushd (pid ${process.pid})`);
    } finally {
      await first.stop();
    }
    // Let go at the stop: the next one in this process starts.
    const again = await startTestServer({ dataDir });
    await again.stop();
  }, 60_000);
});

describe('an upgrade: admin commands of a newer hushd beside an older one still running', () => {
  it('do not upgrade the schema beneath the running hushd, and say to restart it first', async () => {
    const dataDir = join(fx.dir, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const database = join(dataDir, 'hush.db');
    // hush.db as the previous schema left it, and a hushd of that version running (this process).
    const old = new Database(database);
    for (const step of MIGRATIONS.slice(0, -1)) old.exec(step);
    old.pragma(`user_version = ${SCHEMA_VERSION - 1}`);
    old.close();
    const version = () => {
      const db = new Database(database, { readonly: true });
      const v = db.pragma('user_version', { simple: true });
      db.close();
      return v;
    };
    const running = await lockDataDir(dataDir);
    for (const args of [['user', 'list'], ['migrate'], ['invite', 'create']]) {
      const r = await run([...args, '--data-dir', dataDir]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(
        `hushd: ${database} has schema version ${SCHEMA_VERSION - 1} and this hushd would upgrade it to ${SCHEMA_VERSION} beneath the older ` +
          `hushd running on ${dataDir} (pid ${process.pid}): restart that one as this version first (it upgrades the schema as it starts), then run this command again\n`,
      );
    }
    expect(version()).toBe(SCHEMA_VERSION - 1);
    // Once it is stopped (the restart), the commands upgrade the schema as they open it.
    running.release();
    expect((await run(['user', 'list', '--data-dir', dataDir])).code).toBe(0);
    expect(version()).toBe(SCHEMA_VERSION);
    // And a running hushd of this version (the schema up to date) is no reason to refuse anything.
    await fx.start(['--port', '0', '--data-dir', dataDir]);
    expect((await run(['user', 'list', '--data-dir', dataDir])).code).toBe(0);
  }, 60_000);
});

describe.runIf(process.getuid?.() === 0 && existsSync('/usr/bin/setpriv'))('a lock file another user made', () => {
  it('says to run as the user that owns the data directory (root started hushd once in the service directory)', async () => {
    const dataDir = join(fx.dir, 'service');
    const first = await fx.start(['--port', '0', '--data-dir', dataDir]);
    await first.stop();
    chmodSync(fx.dir, 0o755);
    for (const name of readdirSync(dataDir)) if (name !== 'hushd.lock') chownSync(join(dataDir, name), 65534, 65534);
    chownSync(dataDir, 65534, 65534);
    closeSync(openSync(join(dataDir, 'hushd.lock'), 'a')); // root's, 0600
    const r = spawnSync(
      '/usr/bin/setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, '--port', '0', '--data-dir', dataDir],
      {
        encoding: 'utf8',
        env: env(),
        timeout: 20_000,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`hushd: cannot start: cannot lock ${join(dataDir, 'hushd.lock')} (`);
    expect(r.stderr).toContain('): run as the user that owns the data directory');
  }, 60_000);
});
