import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@hush/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientPaths } from '../src/paths.js';
import { Fixture, homeOf, sentAndShown } from './helpers.js';

// One process at a time per device: a second client of the same account and data folder is refused
// before it reads or writes anything, and the first goes on unharmed. A closed client, or a killed
// process, frees the device.

const CHILD = fileURLToPath(new URL('./helpers/dm-child.mjs', import.meta.url));

describe('a device is used by one client at a time', () => {
  let server: TestServer;
  const fx = new Fixture();
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await fx.cleanup();
  });
  afterAll(() => server.stop());

  const lockFile = (paths: ClientPaths, user: string) => join(homeOf(paths.dataDir, server).devices, `${user}.lock`);

  /** The built SDK in another process, logged in as `user` with `paths` (its device key), until killed. */
  function child(
    paths: ClientPaths,
    user: string,
  ): { proc: ChildProcess; ready: Promise<void>; exited: Promise<{ code: number | null; stderr: string }> } {
    const proc = spawn(
      process.execPath,
      [CHILD, server.host, String(server.port), paths.configDir, paths.dataDir, user, 'nobody', 'x', '0', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(proc);
    let stdout = '';
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('READY')) resolve();
      });
      proc.once('exit', () => reject(new Error(`the child ended before logging in: ${stderr}`)));
    });
    ready.catch(() => undefined);
    const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
      proc.once('exit', (code) => resolve({ code, stderr })),
    );
    return { proc, ready, exited };
  }

  it('a second client of the same device is refused in words; the first goes on unharmed', async () => {
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    await sentAndShown(bob, alice, 'before the second client');

    const second = await fx.connect(server, { paths: alice.paths });
    const refused = await second.login('alice').catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'DEVICE_IN_USE',
      message: `a hush client is already running for alice on this computer (pid ${process.pid}); if none is, delete ${lockFile(alice.paths, 'alice')}`,
    });
    expect(second.user).toBeNull();
    // Another process is refused alike, and says so.
    const other = child(alice.paths, 'alice');
    const { code, stderr } = await other.exited;
    expect(code).not.toBe(0);
    expect(stderr).toContain(`a hush client is already running for alice on this computer (pid ${process.pid})`);

    await sentAndShown(alice, bob, 'first client still fine');
    await sentAndShown(bob, alice, 'and still reads');
    await sentAndShown(alice, bob, 'room line', 'lobby');
    expect(server.store.listDevices('alice')).toHaveLength(1);

    await alice.close();
    expect(existsSync(lockFile(alice.paths, 'alice'))).toBe(false);
    const after = await fx.connect(server, { paths: alice.paths });
    await after.login('alice');
    await sentAndShown(bob, after, 'after the first closed');
  });

  it('logging out frees the device', async () => {
    const carol = await fx.user(server, 'carol');
    expect(existsSync(lockFile(carol.paths, 'carol'))).toBe(true);
    await carol.logout();
    expect(existsSync(lockFile(carol.paths, 'carol'))).toBe(false);
    const again = await fx.connect(server, { paths: carol.paths });
    await again.login('carol');
    expect(again.user).toBe('carol');
  });

  it('a killed process does not lock the user out, and a live one holds the device', async () => {
    const dan = await fx.user(server, 'dan');
    const paths = dan.paths;
    await dan.close();

    const first = child(paths, 'dan');
    await first.ready;
    const held = JSON.parse(await readFile(lockFile(paths, 'dan'), 'utf8')) as { pid: number };
    expect(held.pid).toBe(first.proc.pid);
    const refused = await fx.connect(server, { paths });
    await expect(refused.login('dan')).rejects.toMatchObject({
      code: 'DEVICE_IN_USE',
      message: `a hush client is already running for dan on this computer (pid ${first.proc.pid}); if none is, delete ${lockFile(paths, 'dan')}`,
    });

    first.proc.kill('SIGKILL');
    await first.exited;
    expect(existsSync(lockFile(paths, 'dan'))).toBe(true); // left behind by the killed process
    const back = await fx.connect(server, { paths });
    await back.login('dan');
    expect(back.user).toBe('dan');
    expect(JSON.parse(await readFile(lockFile(paths, 'dan'), 'utf8'))).toMatchObject({ pid: process.pid });
  });
});
