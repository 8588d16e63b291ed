// `hush` outside a terminal: no stack trace when the reader of its output goes away, a one-line
// error and exit code 2 for a bad flag. Spawns the built dist/cli.js.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HUSH_CLI as CLI } from '@hush/test-kit';

let home: string;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`pnpm build\` in packages/cli-client first`);
});
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hush-output-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));

const env = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: home,
  XDG_CONFIG_HOME: join(home, 'config'),
  XDG_DATA_HOME: join(home, 'data'),
});

describe.runIf(process.platform !== 'win32')('a closed output pipe', () => {
  for (const flag of ['--help', '--version']) {
    it(`hush ${flag}: no stack trace, exit 0`, async () => {
      const child = spawn(process.execPath, [CLI, flag], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.destroy(); // the reader is gone before hush writes (as in `hush --help | head -0`)
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('close', (c, s) => resolve([c, s])),
      );
      expect(stderr).toBe('');
      expect([code, signal]).toEqual([0, null]);
    });
  }
});

describe('hush --help', () => {
  it('names the config file where this user keeps it, not a placeholder', () => {
    const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', env: env() });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Defaults come from ${join(home, 'config', 'hush', 'hush.json')}:`);
    expect(r.stdout).not.toContain('<config dir>');
  });
});

describe('a broken hush.json', () => {
  it('a password in it stops hush, naming the key and never the password; broken JSON is placed by line and column', () => {
    mkdirSync(join(home, 'config', 'hush'), { recursive: true });
    const file = join(home, 'config', 'hush', 'hush.json');
    writeFileSync(file, '{"user": "alice", "password": "hunter22 secret"}');
    let r = spawnSync(process.execPath, [CLI], { encoding: 'utf8', env: env() });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `hush: config file ${file}: password: hush never reads a password from a file; remove it (type it in the form, or set $HUSH_PASSWORD) (see hush --help)\n`,
    );
    writeFileSync(file, '{"host": "chat.example.org",\n "port": 5555,\n}\n');
    r = spawnSync(process.execPath, [CLI], { encoding: 'utf8', env: env() });
    expect(r.stderr).toContain(`config file ${file}: not valid JSON at line 3 column 1`);
  });
});

describe('a bad flag', () => {
  for (const args of [['--nope'], ['--port'], ['--port', 'high'], ['--password', 'x']]) {
    it(`hush ${args.join(' ')}: one line naming the problem and pointing to --help, exit code 2`, () => {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: env() });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^hush: [^\n]+ \(see hush --help\)\n$/);
    });
  }

  it('names the unknown option', () => {
    expect(spawnSync(process.execPath, [CLI, '--nope'], { encoding: 'utf8', env: env() }).stderr).toContain('--nope');
  });
});
