// What hushd prints for scripts and people: one line from `hushd fingerprint`, no stack trace when
// the reader of its output goes away, a one-line error and exit code 2 for a bad flag.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, hushdFixture } from './helpers/hushd-process.js';
import { registered } from '../src/raw-client.js';
import { SqliteStore } from '../src/store/sqlite.js';

beforeAll(() => ensureBuilt(), 120_000);
const fx = hushdFixture('hushd-output-');

const env = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: fx.dir,
  XDG_DATA_HOME: join(fx.dir, 'share'),
  HUSH_SCRYPT_N: '1024',
});

/**
 * Runs hushd with its stdout a pipe whose reading end is closed before hushd writes anything (the
 * way `hushd ... | head -0` ends), so its first write fails with EPIPE.
 */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.destroy();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stderr })));
}

/** A data directory hushd has run in: what admin commands work on. */
const serverData = (): string => {
  const data = join(fx.dir, 'data');
  SqliteStore.open(join(data, 'hush.db')).close();
  return data;
};

describe('hushd fingerprint', () => {
  it('prints one line, so HUSH_FINGERPRINT=$(hushd fingerprint) holds the fingerprint', () => {
    const data = serverData();
    const r = spawnSync(
      '/bin/sh',
      ['-c', 'HUSH_FINGERPRINT=$("$0" "$1" fingerprint --data-dir "$2") && printf "[%s]" "$HUSH_FINGERPRINT"', process.execPath, CLI, data],
      {
        encoding: 'utf8',
        env: env(),
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\[SHA512:[A-Za-z0-9+/=]+\]$/);
    const direct = spawnSync(process.execPath, [CLI, 'fingerprint', '--data-dir', data], { encoding: 'utf8', env: env() });
    expect(direct.stdout).toBe(`${r.stdout.slice(1, -1)}\n`);
  });
});

describe.runIf(process.platform !== 'win32')('a closed output pipe', () => {
  for (const args of [['--help'], ['--version'], ['fingerprint', '--all'], ['invite', 'create']]) {
    it(`hushd ${args.join(' ')}: no stack trace, exit 0, the work still done`, async () => {
      const data = serverData();
      const r = await runWithClosedStdout([...args, ...(args[0]!.startsWith('--') ? [] : ['--data-dir', data])]);
      expect(r.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
      expect(r).toMatchObject({ code: 0, signal: null });
      if (args[0] === 'fingerprint') expect(existsSync(join(data, 'identity.key'))).toBe(true);
    });
  }

  it('the daemon keeps serving when its log reader goes away', async () => {
    const hushd = await fx.start(['--port', '0', '--data-dir', join(fx.dir, 'data')], { env: env(), closedStdout: true });
    await fx.keep(await registered(hushd.port, 'alice')).close(); // logs a few lines into the closed pipe
    expect(await hushd.stop()).toBe(0);
    expect(hushd.stderr()).not.toMatch(/EPIPE|Error|\n\s+at /);
  });
});

describe('a bad flag', () => {
  for (const args of [
    ['--nope'],
    ['--port'],
    ['--port', 'high'],
    ['fingerprint', '--nope'],
    ['user', 'list', '--bogus=1'],
    ['invite', 'create', '--json'],
  ]) {
    it(`hushd ${args.join(' ')}: one line naming the problem and pointing to --help, exit code 2`, () => {
      const r = spawnSync(process.execPath, [CLI, ...args, '--data-dir', join(fx.dir, 'data')], { encoding: 'utf8', env: env() });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^hushd: [^\n]+ \(see hushd --help\)\n$/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('names the unknown option and points to --help', () => {
    const r = spawnSync(process.execPath, [CLI, 'fingerprint', '--nope'], { encoding: 'utf8', env: env() });
    expect(r.stderr).toBe('hushd: unknown option --nope (see hushd --help)\n');
  });
});
