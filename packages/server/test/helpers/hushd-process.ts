// The built `hushd` (dist/cli.js) as a child process, for tests of what an operator sees: signals,
// files, the log. Builds the package first when dist is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(pkg, 'dist', 'cli.js');

export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const r = spawnSync('pnpm', ['build'], { cwd: pkg, encoding: 'utf8', shell: process.platform === 'win32' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

export interface HushdProcess {
  child: ChildProcess;
  port: number;
  fingerprint: string;
  /** The JSON log lines (stdout) so far. */
  log(): Record<string, unknown>[];
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the first log line (already written or to come) with this event and matching `where`. */
  waitForLog(event: string, where?: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts `hushd ARGS` with a clean environment (plus `env`) and waits for its "listening" line.
 * `umask`: the umask the process is started under (through sh), as a service manager would.
 * `closedStdout`: its stdout (the log) is a pipe nobody reads, closed before hushd writes to it.
 */
export async function startHushd(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; umask?: string; closedStdout?: boolean } = {},
): Promise<HushdProcess> {
  ensureBuilt();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HUSH_SCRYPT_N: '1024', ...opts.env };
  const child =
    opts.umask === undefined
      ? spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `umask ${opts.umask} && exec "$0" "$@"`, process.execPath, CLI, ...args], {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  if (opts.closedStdout) child.stdout!.destroy();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const log = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  const until = <T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        listeners.delete(check);
        clearTimeout(timer);
        fn();
      };
      const check = () => {
        const found = probe();
        if (found !== undefined) done(() => resolve(found));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no ${what} within ${timeoutMs} ms; stderr: ${err}; stdout: ${out}`))),
        timeoutMs,
      );
      listeners.add(check);
      void exited.then((code) => done(() => reject(new Error(`hushd exited (${code}) before ${what}; stderr: ${err}`))));
      check();
    });

  const [, port, fingerprint] = await until(
    () => /hushd listening on [^\n]*:(\d+)\nserver fingerprint: (\S+)\n/.exec(err) ?? undefined,
    'listening line',
    20_000,
  );
  return {
    child,
    port: Number(port),
    fingerprint: fingerprint!,
    log,
    stderr: () => err,
    waitForLog: (event, where = () => true, timeoutMs = 10_000) =>
      until(() => log().find((l) => l.event === event && where(l)), `log event ${event}`, timeoutMs),
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    exited,
  };
}

/** GET `path` from 127.0.0.1:`port`. */
export function httpGet(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Per test: a fresh temporary directory (`dir`), and every hushd started with `start` and every
 * client passed to `keep` stopped after the test.
 */
export function hushdFixture(prefix: string) {
  let dir = '';
  const running: HushdProcess[] = [];
  const open: { close(): Promise<unknown> }[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
    for (const h of running.splice(0)) await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir(): string {
      return dir;
    },
    start: async (...args: Parameters<typeof startHushd>): Promise<HushdProcess> => {
      const hushd = await startHushd(...args);
      running.push(hushd);
      return hushd;
    },
    keep: <T extends { close(): Promise<unknown> }>(client: T): T => {
      open.push(client);
      return client;
    },
  };
}
