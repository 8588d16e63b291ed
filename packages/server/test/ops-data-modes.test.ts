// The data directory is never readable by others, from the very first start: checked while hushd
// runs (SQLite's -wal and -shm files exist only then), with hushd started under umask 022.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite.js';
import { startTestServer } from '../src/testing.js';
import { CLI, ensureBuilt, hushdFixture } from './helpers/hushd-process.js';
import { registered } from '../src/raw-client.js';

const fx = hushdFixture('hushd-modes-');

/** name -> permission bits of the directory and everything in it. */
function modes(dataDir: string): Record<string, string> {
  const out: Record<string, string> = { '.': (statSync(dataDir).mode & 0o777).toString(8) };
  for (const name of readdirSync(dataDir)) out[name] = (statSync(join(dataDir, name)).mode & 0o777).toString(8);
  return out;
}

describe.runIf(process.platform !== 'win32')('data file modes', () => {
  it('under umask 022, a file the shell creates is world-readable (the check below can fail)', () => {
    const r = spawnSync('/bin/sh', ['-c', `umask 022 && touch "$0" && umask`, join(fx.dir, 'probe')], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('0022');
    expect(statSync(join(fx.dir, 'probe')).mode & 0o777).toBe(0o644);
  });

  it('are owner-only while the first hushd runs, started under umask 022', async () => {
    const data = join(fx.dir, 'data');
    const hushd = await fx.start(['--port', '0', '--data-dir', data, '--open-rooms', 'lobby'], { umask: '022' });
    // Writes, so the write-ahead log has content.
    const alice = fx.keep(await registered(hushd.port, 'alice'));
    await alice.expect({ type: 'send', room: 'lobby', text: 'hello' }, 'ack');

    const seen = modes(data);
    expect(Object.keys(seen).sort()).toEqual(['.', 'hush.db', 'hush.db-shm', 'hush.db-wal', 'hushd.lock', 'identity.key']);
    expect(seen).toEqual({
      '.': '700',
      'hush.db': '600',
      'hush.db-shm': '600',
      'hush.db-wal': '600',
      'hushd.lock': '600',
      'identity.key': '600',
    });
  });

  it('are owner-only when admin commands create files under umask 022', async () => {
    ensureBuilt();
    const data = join(fx.dir, 'data');
    const made = SqliteStore.open(join(data, 'hush.db')); // admin commands work on an existing server only
    made.close();
    await made.background; // its connection closes last, removing the WAL files
    for (const command of [['invite', 'create'], ['fingerprint']]) {
      const r = spawnSync('/bin/sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, CLI, ...command, '--data-dir', data], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
      expect(r.status).toBe(0);
    }
    expect(Object.keys(modes(data)).sort()).toEqual(['.', 'hush.db', 'identity.key']);
    for (const [name, mode] of Object.entries(modes(data))) expect([name, mode]).toEqual([name, name === '.' ? '700' : '600']);
  });

  it('are owner-only for a daemon embedded in a process with umask 022 (startDaemon)', async () => {
    const previous = process.umask(0o022);
    try {
      const server = await startTestServer({ dataDir: join(fx.dir, 'embedded'), openRooms: ['lobby'] });
      try {
        fx.keep(await registered(server.port, 'bob'));
        const seen = modes(server.dataDir);
        expect(seen['hush.db-wal']).toBe('600');
        expect(seen['hushd.lock']).toBe('600');
        for (const [name, mode] of Object.entries(seen)) expect([name, mode]).toEqual([name, name === '.' ? '700' : '600']);
      } finally {
        await server.stop();
      }
    } finally {
      process.umask(previous);
    }
  });
});
