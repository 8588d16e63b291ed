// Spawns the built `hushd` (dist/cli.js). Build first: `pnpm build` (the test builds it when missing).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OPTIONS } from '../src/config.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { CLI, ensureBuilt } from './helpers/hushd-process.js';

let home: string;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(() => ensureBuilt(), 120_000);

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hushd-cli-'));
  dataDir = join(home, '.local', 'share', 'hush', 'server');
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    USERPROFILE: home,
    XDG_DATA_HOME: join(home, '.local', 'share'),
    HUSH_SCRYPT_N: '1024',
    ...extra,
  };
  return e;
}

function run(args: string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: env(extraEnv), input: input ?? '', encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hushd --help', () => {
  it('documents every flag, its environment variable and the admin commands', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const o of OPTIONS) {
      expect(r.stdout).toContain(`--${o.flag} ${o.arg}`);
      expect(r.stdout).toContain(o.env);
    }
    for (const cmd of [
      'hushd fingerprint',
      'hushd user add',
      'hushd user passwd',
      'hushd user role',
      'hushd user list',
      'hushd user devices',
      'hushd user remove-device',
      'hushd ban',
      'hushd unban',
      'hushd invite create',
    ]) {
      expect(r.stdout).toContain(cmd);
    }
    expect(r.stdout).toContain('--password-stdin');
    expect(r.stdout).toContain('SIGTERM');
    expect(r.stdout).toContain('SIGHUP reloads the config file');
  });

  it('refuses unknown flags with exit code 2', () => {
    const r = run(['--nope', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown option --nope');
  });

  it('exits 2 on a config file error, the server and the admin commands alike, naming the file and the key, creating nothing', () => {
    const file = join(home, 'hushd.json');
    for (const [json, words] of [
      [
        { limits: { idleTimeoutMs: '20s' } },
        'limits.heartbeatMs (30s) must be shorter than limits.idleTimeoutMs (20s): a connection would be closed as idle between two heartbeats',
      ],
      [{ port: '5555' }, 'port: expected an integer from 0 to 65535 (a JSON number, not a string), got the string "5555"'],
    ] as const) {
      writeFileSync(file, JSON.stringify(json));
      for (const args of [
        ['--port', '0'],
        ['user', 'list'],
      ]) {
        const r = run([...args, '--config', file, '--data-dir', dataDir]);
        expect(r.code, `${JSON.stringify(json)} ${args.join(' ')}`).toBe(2);
        expect(r.stderr).toBe(`hushd: config file ${file}: ${words} (see hushd --help)\n`);
      }
    }
    expect(existsSync(dataDir)).toBe(false);
  });
});

/** A data directory hushd has run in: what admin commands work on. */
function serverData(dir: string): void {
  SqliteStore.open(join(dir, 'hush.db')).close();
}

describe('admin subcommands', () => {
  beforeEach(() => serverData(dataDir));

  it('adds users, lists them, sets roles, bans and unbans on the default data dir', () => {
    const add = run(['user', 'add', 'Alice', '--password-stdin'], 'a good long password\n');
    expect(add).toMatchObject({ code: 0, stdout: 'added alice (user)\n' });
    expect(run(['user', 'add', 'boss', '--admin'], 'another long password\n')).toMatchObject({ code: 0, stdout: 'added boss (admin)\n' });
    expect(existsSync(join(dataDir, 'hush.db'))).toBe(true);
    if (process.platform !== 'win32') expect(statSync(join(dataDir, 'hush.db')).mode & 0o777).toBe(0o600);

    const dup = run(['user', 'add', 'ALICE'], 'whatever password\n');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/taken/);
    const weak = run(['user', 'add', 'carol'], 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/at least 8/);
    expect(run(['user', 'add', '\u0430dmin'], 'a good long password\n').code).toBe(1);

    expect(run(['user', 'role', 'alice', 'admin'])).toMatchObject({
      code: 0,
      stdout: 'alice is now admin\n',
      stderr: "a running hushd applies this to alice's connections within seconds\n",
    });
    expect(run(['user', 'role', 'ghost', 'admin']).code).toBe(1);
    // The role it has already: said, and nothing queued for a running server.
    expect(run(['user', 'role', 'alice', 'admin'])).toMatchObject({
      code: 0,
      stdout: 'alice is an admin already: nothing changed\n',
      stderr: '',
    });
    // A mistyped sub-command is named, not only the usage shown.
    expect(run(['user', 'ad', 'bob'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('hushd: no command "user ad": hushd user add|passwd|role|list|devices|remove-device'),
    });
    expect(run(['user', 'role', 'alice', 'king']).code).toBe(2);

    expect(run(['ban', 'alice', '--reason', 'spam', '--seconds', '3600']).code).toBe(0);
    expect(run(['ban', '--address', '192.0.2.7']).code).toBe(0);
    expect(run(['ban', '--address', 'not-an-ip']).code).toBe(2);
    let list = run(['user', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^alice\tadmin\t\S+\t0\tbanned until \S+ \(spam\)$/m);
    expect(list.stdout).toMatch(/^boss\tadmin\t/m);
    expect(list.stdout).toContain('address 192.0.2.7 banned forever');
    expect(run(['unban', 'alice']).code).toBe(0);
    expect(run(['unban', '--address', '192.0.2.7']).code).toBe(0);
    list = run(['user', 'list']);
    expect(list.stdout).toMatch(/^alice\tadmin\t\S+\t0\tok$/m);
    expect(list.stdout).not.toContain('192.0.2.7');

    // The store sees what the CLI did.
    const store = SqliteStore.open(join(dataDir, 'hush.db'));
    try {
      expect(store.getUser('alice')).toMatchObject({ role: 'admin' });
      // An unban ends the ban (the next login returns the account to the default room).
      expect(store.getUser('alice')!.bannedUntil).toBeLessThanOrEqual(Date.now());
      expect(store.getUser('alice')!.passwordHash).toMatch(/^scrypt\$1024\$/);
    } finally {
      store.close();
    }
  });

  it('changes a password with user passwd', () => {
    run(['user', 'add', 'dave', '--password-stdin'], 'first long password\n');
    const before = SqliteStore.open(join(dataDir, 'hush.db'));
    const h1 = before.getUser('dave')!.passwordHash;
    before.upsertDevice({ user: 'dave', signKey: 'A'.repeat(43), boxKey: 'B'.repeat(43), signature: 'C'.repeat(86) }, 1);
    before.close();
    // A new password does not log out the devices that hold their keys: said, with how to remove them.
    expect(run(['user', 'passwd', 'dave', '--password-stdin'], 'second long password\n')).toMatchObject({
      code: 0,
      stderr:
        "dave's device stays logged in without the password: hushd user devices dave lists them, hushd user remove-device dave <id>|all removes one or all\n",
    });
    const listed = run(['user', 'devices', 'dave']);
    expect(listed.stdout).toMatch(
      /^DEVICE\tCREATED\tLAST SEEN\n[A-Za-z0-9_-]{22}\t1970-01-01T00:00:00\.001Z\t1970-01-01T00:00:00\.001Z\n$/,
    );
    expect(run(['user', 'remove-device', 'dave', 'all'])).toMatchObject({ code: 0, stdout: 'removed a device of dave\n' });
    expect(run(['user', 'devices', 'dave']).stdout).toBe('DEVICE\tCREATED\tLAST SEEN\n');
    const after = SqliteStore.open(join(dataDir, 'hush.db'));
    expect(after.getUser('dave')!.passwordHash).not.toBe(h1);
    after.close();
    expect(run(['user', 'passwd', 'ghost'], 'x long password\n').code).toBe(1);
  });

  it('prints the fingerprint (creating the identity once beside the database) and honours --data-dir', () => {
    const custom = join(home, 'custom');
    expect(run(['fingerprint', '--data-dir', custom]).code).toBe(1); // no server there yet
    serverData(custom);
    const a = run(['fingerprint', '--data-dir', custom]);
    expect(a.code).toBe(0);
    // One line, so that HUSH_FINGERPRINT=$(hushd fingerprint) works.
    expect(a.stdout).toMatch(/^SHA512:[A-Za-z0-9+/=]+\n$/);
    const fp = a.stdout.trim();
    expect(a.stderr).toContain('created a new server identity');
    const all = run(['fingerprint', '--all', '--data-dir', custom]);
    expect(all).toMatchObject({ code: 0, stderr: '' });
    const [allFp, short, rest] = all.stdout.split('\n');
    expect([allFp, rest]).toEqual([fp, '']);
    expect(short).toMatch(/^(\d{5} ){5}\d{5}$/);
    const json = run(['fingerprint', '--json', '--data-dir', custom]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ fingerprint: fp, short });
    expect(run(['fingerprint', '--all', '--json', '--data-dir', custom]).code).toBe(2);
    const b = run(['fingerprint'], '', { HUSH_DATA_DIR: custom });
    expect(b.stdout).toBe(a.stdout);
    expect(b.stderr).toBe('');
    if (process.platform !== 'win32') expect(statSync(join(custom, 'identity.key')).mode & 0o777).toBe(0o600);
  });

  it('creates invite codes', () => {
    const r = run(['invite', 'create']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[A-Za-z0-9_-]{24}\n$/);
    // Only what this command's own configuration says: a running hushd may have been started otherwise.
    expect(r.stderr).toContain('the configuration this command sees (flags, HUSH_* environment, config file) says registration is "open"');
    expect(run(['invite', 'create', '--registration', 'invite']).stderr).toBe('');
  });

  it('takes a device id that starts with "-" (one in 64 does) as the device, not as an unknown option', () => {
    expect(run(['user', 'add', 'bob', '--password-stdin'], 'a good long password\n').code).toBe(0);
    const id = '-Mq3vX9kLw2Zp8Rt5Yb1Nc';
    for (const args of [
      ['user', 'remove-device', 'bob', id],
      ['user', 'remove-device', 'bob', id, '--log-level', 'warn'],
      ['user', 'remove-device', 'bob', '--', id],
    ]) {
      const r = run(args);
      expect(r, args.join(' ')).toMatchObject({ code: 1, stderr: `hushd: bob has no device ${id} (hushd user devices bob lists them)\n` });
    }
  });

  it('reports usage errors with exit code 2', () => {
    expect(run(['user']).code).toBe(2);
    expect(run(['user', 'add']).code).toBe(2);
    expect(run(['ban']).code).toBe(2);
    expect(run(['ban', 'alice', '--seconds', 'soon']).code).toBe(2);
  });
});

/** Resolves with the text once `pattern` appears in the stream. */
function waitFor(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = child[stream]!;
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const m = pattern.exec(text);
      if (m) {
        s.off('data', onData);
        resolve(m);
      }
    };
    s.on('data', onData);
    child.once('exit', (code) => reject(new Error(`hushd exited (${code}) before ${pattern}: ${text}`)));
  });
}

describe('hushd (server)', () => {
  it('starts on port 0, prints its fingerprint and port, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, '--port', '0', '--metrics-port', '0'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const out: string[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c.toString('utf8')));
    const [, port, fingerprint] = await waitFor(
      child,
      'stderr',
      /hushd listening on 127\.0\.0\.1:(\d+)\nserver fingerprint: (SHA512:\S+)\n/,
    );
    expect(Number(port)).toBeGreaterThan(0);

    // The port accepts TCP connections.
    await new Promise<void>((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const lines = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.event === 'identity_created')).toMatchObject({ level: 'info', fingerprint });
    expect(lines.find((l) => l.event === 'started')).toMatchObject({ port: Number(port), fingerprint });
    // hushd tunes V8 for itself before anything else (see runtime.ts) and says so.
    expect(lines[0]).toMatchObject({
      event: 'runtime',
      hushd: (JSON.parse(readFileSync(join(CLI, '..', '..', 'package.json'), 'utf8')) as { version: string }).version,
      node: process.version,
      v8Flags: ['--no-concurrent-array-buffer-sweeping'],
    });
    expect(lines.find((l) => l.event === 'metrics_listening')).toBeDefined();
    expect(lines.at(-1)).toMatchObject({ event: 'daemon_stopped', reason: 'SIGTERM' });
    for (const l of lines) expect(typeof l.ts).toBe('string');

    // Restart with the same data dir: same identity.
    const again = spawn(process.execPath, [CLI, '--port', '0', '--log-level', 'warn'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(again);
    const againOut: string[] = [];
    again.stdout!.on('data', (c: Buffer) => againOut.push(c.toString('utf8')));
    const [, , fp2] = await waitFor(again, 'stderr', /hushd listening on 127\.0\.0\.1:(\d+)\nserver fingerprint: (SHA512:\S+)\n/);
    expect(fp2).toBe(fingerprint);
    const exited2 = new Promise<number | null>((resolve) => again.once('exit', (code) => resolve(code)));
    again.kill('SIGINT');
    expect(await exited2).toBe(0);
    expect(againOut.join('')).toBe(''); // --log-level warn hides the info lines
  });

  it.runIf(process.platform !== 'win32')('refuses to start when the identity key is readable by others', async () => {
    serverData(dataDir);
    expect(run(['fingerprint']).code).toBe(0);
    const { chmodSync } = await import('node:fs');
    chmodSync(join(dataDir, 'identity.key'), 0o644);
    const r = spawnSync(process.execPath, [CLI, '--port', '0'], { env: env(), encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/readable by other users.*chmod 600/);
  });
});
