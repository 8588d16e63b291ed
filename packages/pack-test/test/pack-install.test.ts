// The published packages as a stranger gets them: packed with pnpm (as `pnpm publish` packs), installed
// with npm outside the monorepo, the apps with `npm i -g`, the READMEs' runnable examples run as printed
// against the installed hushd, and the tarballs checked by publint, arethetypeswrong and a release dry run.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HushClient, type ChatMessage } from '@hush/client';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withNodeHeaders } from '../../../scripts/native-build-env.mjs';
import { markedBlocks } from './readme-blocks.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);
const windows = process.platform === 'win32';
const LIBRARIES = ['@hush/protocol', '@hush/crypto', '@hush/client'];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  repository?: { type?: string; url?: string; directory?: string };
  engines?: { node?: string };
  sideEffects?: boolean | string[];
  files?: string[];
  publishConfig?: { access?: string };
  bin?: Record<string, string>;
  main?: string;
  types?: string;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
}

interface Packed {
  dir: string;
  manifest: Manifest;
  tarball: string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Everything the packed and installed world needs, except npm_* and pnpm's own variables, which would steer npm. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|INIT_CWD$|HUSH_)/i.test(key)) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

// better-sqlite3's install script compiles the native module, with the local Node headers and every core.
const npmEnv = (extra: NodeJS.ProcessEnv = {}) =>
  withNodeHeaders(
    cleanEnv({ npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', JOBS: 'max', ...extra }),
  );

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** Aborting kills the command with everything it started (an npm install's compiler too). */
  signal?: AbortSignal;
}

function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that a kill reaches the whole tree.
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? root,
      env: opts.env ?? cleanEnv(),
      shell: windows,
      detached: !windows,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined); // a command may exit without reading it all
      child.stdin!.end(opts.input);
    }
    const kill = () => {
      try {
        if (windows || child.pid === undefined) child.kill('SIGKILL');
        else process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(kill, opts.timeoutMs ?? 60_000);
    opts.signal?.addEventListener('abort', kill);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `run` that must succeed; the error carries the output. */
async function ok(cmd: string, args: string[], opts: RunOptions = {}): Promise<Run> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A long-running child whose output is kept, with a way to wait for a line and to stop it. */
class Proc {
  readonly child: ChildProcess;
  output = '';
  private readonly exited: Promise<number | null>;

  constructor(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.child = spawn(cmd, args, { ...opts, shell: windows, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c) => (this.output += c));
    this.child.stderr!.on('data', (c) => (this.output += c));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process ends or time runs out first. */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this.output);
        if (m) done(() => resolve(m));
        else if (!this.running) done(() => reject(new Error(`exited (${this.child.exitCode}) before ${pattern}:\n${this.output}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.output}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.child.stdout!.off('data', check);
        this.child.stderr!.off('data', check);
        this.child.off('exit', check);
        settle();
      };
      this.child.stdout!.on('data', check);
      this.child.stderr!.on('data', check);
      this.child.on('exit', check);
      check();
    });
  }

  /** Rejects when the process ends: race it against what should happen while it runs. */
  async died(): Promise<never> {
    const code = await this.exited;
    throw new Error(`exited (${code}) too early:\n${this.output}`);
  }

  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** Resolves with the first `event` of `client` that passes `match`. */
function nextEvent<T>(client: HushClient, event: 'message' | 'presence', match: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (value: T) => {
      if (!match(value)) return;
      clearTimeout(timer);
      client.off(event, listener as never);
      resolve(value);
    };
    const timer = setTimeout(() => {
      client.off(event, listener as never);
      reject(new Error(`no matching ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on(event, listener as never);
  });
}

const bin = (prefix: string, name: string) => (windows ? join(prefix, `${name}.cmd`) : join(prefix, 'bin', name));

let work: string;
let globalPrefix: string;
let project: string;
const packed = new Map<string, Packed>();
let dryRun: Run;
const procs: Proc[] = [];
const clients: HushClient[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'hush-pack-'));
  const tarballs = join(work, 'tarballs');
  await mkdir(tarballs);
  for (const dir of await readdir(join(root, 'packages'))) {
    const manifest = JSON.parse(await readFile(join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest;
    if (manifest.private) continue;
    const r = await ok('pnpm', ['pack', '--pack-destination', tarballs, '--json'], { cwd: join(root, 'packages', dir) });
    const tarball = (JSON.parse(r.stdout) as { filename: string }).filename;
    const packedManifest = JSON.parse((await ok('tar', ['xzOf', tarball, 'package/package.json'])).stdout) as Manifest;
    packed.set(manifest.name, { dir, manifest: packedManifest, tarball });
  }
  // Right after packing, so that nothing rebuilt in between.
  dryRun = await ok('pnpm', ['publish', '--recursive', '--dry-run', '--no-git-checks', '--json']);
  const all = [...packed.values()].map((p) => p.tarball);
  const libraries = LIBRARIES.map((name) => {
    const tarball = packed.get(name)?.tarball;
    if (!tarball) throw new Error(`${name} was not packed`); // never fall back to the registry's
    return tarball;
  });

  // The apps as `npm i -g` installs them (the libraries they depend on are tarballs here, not on
  // the registry yet), and a fresh ESM project with the libraries and TypeScript, as a bot author's.
  globalPrefix = join(work, 'global');
  project = join(work, 'project');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'readme-check', private: true, type: 'module' }, null, 2));
  const typescript = (require('typescript/package.json') as { version: string }).version;
  const typesNode = (require('@types/node/package.json') as { version: string }).version;
  // One failing install stops the other (nothing keeps writing into the folder afterAll removes);
  // the first failure is the one reported.
  const failed = new AbortController();
  let failure: unknown;
  const install = (args: string[], cwd: string) =>
    ok('npm', ['install', ...args], { env: npmEnv(), cwd, timeoutMs: 8 * 60_000, signal: failed.signal }).catch((error: unknown) => {
      failure ??= error;
      failed.abort();
    });
  await Promise.all([
    // A global install allows install scripts by name (npm 11 warns about the others; a project
    // install takes the list from package.json instead).
    install(['--global', '--prefix', globalPrefix, '--allow-scripts=better-sqlite3', ...all], work),
    install([...libraries, `typescript@${typescript}`, `@types/node@${typesNode}`], project),
  ]);
  if (failure) throw failure;
}, 9 * 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all(procs.map((p) => p.stop()));
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it('are the five published ones, and every other workspace package is private', () => {
    expect([...packed.keys()].sort()).toEqual(['@hush/cli-client', '@hush/client', '@hush/crypto', '@hush/protocol', '@hush/server']);
  });

  it('carry exact dependency versions and the registry metadata', () => {
    for (const { dir, manifest } of packed.values()) {
      for (const [dep, spec] of Object.entries(manifest.dependencies ?? {})) {
        expect(spec, `${manifest.name} -> ${dep}`).toMatch(/^\d+\.\d+\.\d+$/);
      }
      expect(manifest).toMatchObject({
        license: 'MIT',
        repository: { type: 'git', directory: `packages/${dir}` },
        engines: { node: '>=20' },
        publishConfig: { access: 'public' },
      });
      expect(manifest.repository?.url, manifest.name).toMatch(/^git\+https:\/\//);
      expect(manifest.sideEffects, manifest.name).toBeDefined();
      expect(manifest.files, manifest.name).toBeInstanceOf(Array);
    }
  });

  it('are what the release dry run would publish, byte for byte', async () => {
    const published = (JSON.parse(dryRun.stdout) as { name: string; shasum: string }[]).map((p) => [p.name, p.shasum]);
    const tested = await Promise.all(
      [...packed.values()].map(async (p) => [
        p.manifest.name,
        createHash('sha1')
          .update(await readFile(p.tarball))
          .digest('hex'),
      ]),
    );
    expect(Object.fromEntries(published)).toEqual(Object.fromEntries(tested));
  });

  it('pass publint --strict with no message, suggestions included', async () => {
    for (const p of packed.values()) {
      const tarball = await readFile(p.tarball);
      const { messages, pkg } = await publint({
        pack: { tarball: new Uint8Array(tarball).buffer as ArrayBuffer },
        strict: true,
        level: 'suggestion',
      });
      expect(
        messages.map((m) => formatMessage(m, pkg, { color: false })),
        p.manifest.name,
      ).toEqual([]);
    }
  });

  it('pass arethetypeswrong (ESM-only packages judged by the esm-only profile)', async () => {
    const cliPackage = require.resolve('@arethetypeswrong/cli/package.json');
    const cli = join(dirname(cliPackage), (JSON.parse(await readFile(cliPackage, 'utf8')) as { bin: { attw: string } }).bin.attw);
    for (const p of packed.values()) {
      const hasRequire = JSON.stringify(p.manifest.exports?.['.'] ?? {}).includes('"require"');
      const args = [cli, p.tarball, '--no-definitely-typed', '--format', 'ascii', '--no-color', '--no-emoji'];
      if (!hasRequire) args.push('--profile', 'esm-only');
      const r = await run(process.execPath, args);
      expect(r.code, `${p.manifest.name}:\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });
});

describe('changesets', () => {
  it('version the five published packages together and leave the private ones alone', async () => {
    // A copy of the manifests and .changeset/, plus one minor changeset for @hush/protocol alone.
    const copy = await mkdtemp(join(work, 'changesets-'));
    const files = ['package.json', 'pnpm-workspace.yaml', ...readdirSync(join(root, '.changeset')).map((f) => `.changeset/${f}`)];
    for (const dir of readdirSync(join(root, 'packages'))) files.push(`packages/${dir}/package.json`);
    for (const file of files) {
      await mkdir(dirname(join(copy, file)), { recursive: true });
      await writeFile(join(copy, file), await readFile(join(root, file)));
    }
    await writeFile(join(copy, '.changeset', 'pack-test-bump.md'), '---\n"@hush/protocol": minor\n---\n\nA protocol feature.\n');
    const before = await manifests(copy);
    const cli = require.resolve('@changesets/cli/bin.js');
    await ok(process.execPath, [cli, 'version'], { cwd: copy });
    const after = await manifests(copy);
    // The pending changesets decide how far (a breaking one makes it a major); every published
    // package moves to the same, higher version.
    const released = after.get('@hush/protocol')!.version;
    expect(compareVersions(released, before.get('@hush/protocol')!.version)).toBeGreaterThan(0);
    for (const [name, manifest] of after) {
      if (manifest.private) expect(manifest.version, name).toBe(before.get(name)!.version);
      else expect(manifest.version, name).toBe(released);
    }
    const changelog = await readFile(join(copy, 'packages', 'protocol', 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain('A protocol feature.');
  });
});

/** Negative, zero or positive as `a` is below, equal to or above `b` (plain x.y.z versions). */
function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! - y![i]!;
  return 0;
}

/** Every workspace package's manifest under `dir`, by name. */
async function manifests(dir: string): Promise<Map<string, Manifest>> {
  const all = new Map<string, Manifest>();
  for (const pkg of await readdir(join(dir, 'packages'))) {
    const manifest = JSON.parse(await readFile(join(dir, 'packages', pkg, 'package.json'), 'utf8')) as Manifest;
    all.set(manifest.name, manifest);
  }
  return all;
}

describe('installed with npm', () => {
  it('npm i -g gives working hushd and hush commands', async () => {
    for (const [name, pkg] of [
      ['hushd', '@hush/server'],
      ['hush', '@hush/cli-client'],
    ] as const) {
      const help = await ok(bin(globalPrefix, name), ['--help']);
      expect(help.stdout, name).toMatch(/^usage:/im);
      const version = await ok(bin(globalPrefix, name), ['--version']);
      expect(version.stdout.trim()).toBe(`${name} ${packed.get(pkg)!.manifest.version}`);
    }
  });

  it('the libraries load in ESM and CommonJS; @hush/server as ESM; @hush/cli-client offers no library', async () => {
    for (const name of LIBRARIES) {
      await ok(
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(name)}); if (!Object.keys(m).length) process.exit(1);`],
        { cwd: project },
      );
      await ok(process.execPath, ['-e', `const m = require(${JSON.stringify(name)}); if (!Object.keys(m).length) process.exit(1);`], {
        cwd: project,
      });
    }
    const lib = windows ? join(globalPrefix, 'node_modules') : join(globalPrefix, 'lib', 'node_modules');
    await ok(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startDaemon } = await import('@hush/server'); if (typeof startDaemon !== 'function') process.exit(1);`,
      ],
      { cwd: lib },
    );
    const app = await run(process.execPath, ['--input-type=module', '-e', `await import('@hush/cli-client')`], { cwd: lib });
    expect(app.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('the installed hush logs in to the installed hushd in a terminal (tmux) and sends a line', async () => {
    const hushd = await startHushd([{ name: 'carol', password: 'carol-password-1' }]);
    const bob = await connectTo(hushd);
    await bob.register('bob', 'bob-password-1');
    const home = await mkdtemp(join(work, 'hush-home-'));
    const tmux = (...args: string[]) =>
      ok('tmux', ['-S', join(home, 'tmux.sock'), ...args], {
        env: cleanEnv({
          HOME: home,
          XDG_CONFIG_HOME: join(home, 'config'),
          XDG_DATA_HOME: join(home, 'data'),
          TERM: 'xterm-256color',
          LANG: 'C.UTF-8',
          HUSH_PASSWORD: 'carol-password-1',
        }),
      });
    const hush = [
      bin(globalPrefix, 'hush'),
      '--host',
      `${hushd.host}:${hushd.port}`,
      '--user',
      'carol',
      '--login',
      '--fingerprint',
      hushd.fingerprint,
    ];
    await tmux('new-session', '-d', '-x', '120', '-y', '40', ...hush);
    try {
      // tmux reports no event for a drawn screen: read it until the chat view is there.
      const deadline = Date.now() + 30_000;
      let screen = '';
      while (!(/#lobby/.test(screen) && /connected/.test(screen))) {
        if (Date.now() > deadline) throw new Error(`no chat screen within 30 s:\n${screen}`);
        await new Promise((r) => setTimeout(r, 200));
        screen = (await tmux('capture-pane', '-p')).stdout;
      }
      const heard = nextEvent<ChatMessage>(bob, 'message', (m) => m.from === 'carol' && m.text === 'hello from npm');
      await tmux('send-keys', '-l', 'hello from npm');
      await tmux('send-keys', 'Enter');
      await heard;
    } finally {
      await tmux('kill-server').catch(() => undefined);
    }
    await hushd.server.stop();
  });
});

describe('README code blocks marked runnable or typecheck', () => {
  const readmes = ['README.md', ...readdirSync(join(root, 'packages')).map((dir) => `packages/${dir}/README.md`)];
  const blocks = readmes.filter((r) => existsSync(join(root, r))).flatMap((r) => markedBlocks(r, readFileSync(join(root, r), 'utf8')));

  it('exist, and each runnable one has a scenario that runs it', () => {
    expect(blocks.map((b) => `${b.readme} ${b.mode}=${b.name}`)).toContain('packages/client/README.md runnable=ping-bot');
    for (const b of blocks.filter((b) => b.mode === 'runnable')) expect(Object.keys(scenarios), `${b.readme}:${b.line}`).toContain(b.name);
  });

  it('the TypeScript ones type-check against the installed packages, with the checks `tsc --init` turns on', async () => {
    const sources = blocks.filter((b) => b.mode === 'typecheck');
    expect(sources.length).toBeGreaterThan(0);
    const dir = join(project, 'typecheck');
    await mkdir(dir);
    for (const b of sources) await writeFile(join(dir, `${b.name}.ts`), b.code);
    // What `tsc --init` (TypeScript 5.9 and later) writes, so that a stranger's new project compiles them.
    const compilerOptions = {
      module: 'nodenext',
      target: 'es2022',
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      noUncheckedSideEffectImports: true,
      moduleDetection: 'force',
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }, null, 2));
    const r = await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  for (const b of blocks.filter((b) => b.mode === 'runnable')) {
    it(`${b.readme}:${b.line} runnable=${b.name} works as printed`, async () => {
      const file = join(project, `${b.name}.mjs`);
      await writeFile(file, b.code);
      await scenarios[b.name]!(file);
    }, 120_000);
  }
});

/** A connected client of the workspace SDK (not logged in yet), to act from the other side. */
async function connectTo(hushd: { host: string; port: number; fingerprint: string }): Promise<HushClient> {
  const home = await mkdtemp(join(work, 'client-'));
  const client = await HushClient.connect({
    host: hushd.host,
    port: hushd.port,
    expectedFingerprint: hushd.fingerprint,
    paths: { configDir: join(home, 'config'), dataDir: join(home, 'data') },
  });
  clients.push(client);
  return client;
}

/** A real hushd from the installed tarball, on a free port, with its own data directory. */
async function startHushd(accounts: { name: string; password: string; admin?: boolean }[]) {
  const hushd = bin(globalPrefix, 'hushd');
  const dataDir = await mkdtemp(join(work, 'hushd-'));
  // Started first: admin commands work on a data directory a hushd has created (beside it, as the README says).
  const server = new Proc(hushd, ['--port', '0', '--data-dir', dataDir], { cwd: work, env: cleanEnv() });
  procs.push(server);
  const [, host, port] = await server.waitFor(/hushd listening on (\S+):(\d+)/);
  for (const a of accounts) {
    await ok(hushd, ['user', 'add', a.name, '--password-stdin', '--data-dir', dataDir, ...(a.admin ? ['--admin'] : [])], {
      input: `${a.password}\n`,
    });
  }
  const fingerprint = await ok(hushd, ['fingerprint', '--data-dir', dataDir]);
  expect(fingerprint.stdout).toMatch(/^SHA512:\S+\n$/);
  return { server, host: host!, port: Number(port), fingerprint: fingerprint.stdout.trim() };
}

/** A fresh home and the HUSH_* variables a README example reads: the hushd's address and fingerprint, plus `extra`. */
async function exampleEnv(
  hushd: { host: string; port: number; fingerprint: string },
  extra: NodeJS.ProcessEnv,
): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(work, 'example-home-'));
  return cleanEnv({
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    APPDATA: home,
    LOCALAPPDATA: home,
    HUSH_HOST: hushd.host,
    HUSH_PORT: String(hushd.port),
    HUSH_FINGERPRINT: hushd.fingerprint,
    ...extra,
  });
}

/** What each runnable block must do, by name, given the file it was written to. */
const scenarios: Record<string, (file: string) => Promise<void>> = {
  // The README's bot: it needs an account (`hushd user add`) and the fingerprint (`hushd fingerprint`)
  // in HUSH_* variables; it answers !ping with pong, and a refused send does not end it.
  'ping-bot': async (file) => {
    const password = 'bot-password-1';
    const hushd = await startHushd([
      { name: 'pingbot', password },
      { name: 'alice', password: 'alice-password-1', admin: true },
    ]);
    const alice = await connectTo(hushd);
    await alice.login('alice', 'alice-password-1');
    const online = nextEvent<{ user: string; state: string }>(alice, 'presence', (p) => p.user === 'pingbot' && p.state === 'online');

    const env = await exampleEnv(hushd, { HUSH_USER: 'pingbot', HUSH_PASSWORD: password });
    const bot = new Proc(process.execPath, [file], { cwd: dirname(file), env });
    procs.push(bot);
    const died = bot.died();
    died.catch(() => undefined);
    await Promise.race([online, died]);

    const pong = () => nextEvent<ChatMessage>(alice, 'message', (m) => m.from === 'pingbot' && m.room === 'lobby' && m.text === 'pong');
    let answer = pong();
    await alice.send('lobby', '!ping');
    await Promise.race([answer, died]);

    // Muted, its send is refused: the bot says so and keeps running.
    await alice.mute('lobby', 'pingbot');
    await alice.send('lobby', '!ping');
    await bot.waitFor(/no pong in lobby: MUTED/);
    await alice.unmute('lobby', 'pingbot');
    answer = pong();
    await alice.send('lobby', '!ping');
    await Promise.race([answer, died]);
    expect(bot.running).toBe(true);
    expect(bot.output).not.toMatch(/Unhandled|Error:/);

    // A !ping while the bot is down is answered when it starts again (its login emits what it missed).
    await bot.stop();
    const notices: string[] = [];
    alice.on('notice', (n) => notices.push(`${n.code}: ${n.text}`));
    await alice.send('lobby', '!ping');
    answer = pong();
    const again = new Proc(process.execPath, [file], { cwd: dirname(file), env });
    procs.push(again);
    const diedAgain = again.died();
    diedAgain.catch(() => undefined);
    await Promise.race([answer, diedAgain]).catch((error: unknown) => {
      throw new Error(`${String(error)}\nthe bot said:\n${again.output}\nalice's notices:\n${notices.join('\n')}`);
    });

    await again.stop();
    await alice.close();
    expect(await hushd.server.stop()).toBe(0);
  },

  // The README's history reader: 120 lines in an open room come out whole and in order, over two
  // pages back from the newest (limit 100), and the script ends by itself.
  'read-history': async (file) => {
    const hushd = await startHushd([
      { name: 'alice', password: 'alice-password-1', admin: true },
      { name: 'reader', password: 'reader-password-1' },
    ]);
    const alice = await connectTo(hushd);
    await alice.login('alice', 'alice-password-1');
    await alice.createRoom('notes', 'for the record', 'open');
    const lines = Array.from({ length: 120 }, (_, i) => `note ${i}`);
    for (const line of lines) await alice.send('notes', line);

    const env = await exampleEnv(hushd, { HUSH_USER: 'reader', HUSH_PASSWORD: 'reader-password-1', HUSH_ROOM: 'notes' });
    const r = await run(process.execPath, [file], { cwd: dirname(file), env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const printed = r.stdout.trimEnd().split('\n');
    expect(printed.map((l) => l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ''))).toEqual(lines.map((l) => `alice: ${l}`));

    await alice.close();
    expect(await hushd.server.stop()).toBe(0);
  },
};
