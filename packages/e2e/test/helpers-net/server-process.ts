// hushd as a child process (the built packages/server/dist/cli.js): for kill -9 and for measuring
// the server's own memory. Limits go in <dataDir>/hushd.json, which the daemon reads at start.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Limits } from '@hush/server';

export const CLI = fileURLToPath(new URL('../../../server/dist/cli.js', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  host: string;
  port: number;
  fingerprint: string;
  dataDir: string;
  /** stdout (JSON log lines) and stderr so far. */
  output(): string;
  /** Resident set size of the server process, in bytes. */
  rss(): number;
  /** SIGKILL; resolves when the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful); resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface ServerProcessOptions {
  dataDir: string;
  port?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  limits?: Partial<Limits>;
  /** Extra top-level hushd.json keys. */
  config?: Record<string, unknown>;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(`${options.dataDir}/hushd.json`, JSON.stringify({ ...options.config, limits: options.limits ?? {} }));
  const args = [
    CLI,
    '--data-dir',
    options.dataDir,
    '--port',
    String(options.port ?? 0),
    '--host',
    '127.0.0.1',
    '--log-level',
    options.logLevel ?? 'warn',
    '--scrypt-n',
    '4096',
    '--max-connections-per-address',
    '100000',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    if (out.length > 4_000_000) out = out.slice(-2_000_000);
  });
  child.stderr!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = await new Promise<{ host: string; port: number; fingerprint: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hushd did not start: ${out}`)), 15_000);
    const check = () => {
      const listen = /hushd listening on ([^\s:]+):(\d+)/.exec(out);
      const fp = /server fingerprint: (\S+)/.exec(out);
      if (listen && fp) {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolve({ host: listen[1]!, port: Number(listen[2]), fingerprint: fp[1]! });
      }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hushd exited (${code}): ${out}`));
    });
  });
  const pid = child.pid!;
  return {
    child,
    pid,
    ...started,
    dataDir: options.dataDir,
    output: () => out,
    rss: () => rssOf(pid),
    exited,
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** RSS in bytes: /proc on Linux, ps elsewhere (test-only helper). */
export function rssOf(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(status, 'utf8'));
    if (m) return Number(m[1]) * 1024;
  }
  const kb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  return kb * 1024;
}
