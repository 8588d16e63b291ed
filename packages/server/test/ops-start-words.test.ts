// Why hushd cannot start, in words that name the option or the file and say what to do (the raw
// errno text named neither): the built `hushd`, and the words' one home on its own.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listenFailureText, storeFailureText } from '../src/failure-words.js';
import { CLI, ensureBuilt, hushdFixture } from './helpers/hushd-process.js';

beforeAll(() => ensureBuilt(), 120_000);
const fx = hushdFixture('hushd-start-words-');
const held: Server[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A port another program holds for the test. */
async function heldPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  held.push(server);
  return (server.address() as { port: number }).port;
}

/** `hushd` with `args` until it exits (a start that fails exits by itself). */
function serve(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, '--data-dir', join(fx.dir, 'data'), ...args], {
      env: { PATH: process.env.PATH, HOME: fx.dir, HUSH_SCRYPT_N: '1024' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('hushd that cannot start says why in words', () => {
  it('names the port in use, and says when it is the metrics port', async () => {
    const busy = await heldPort();
    const main = await serve(['--host', '127.0.0.1', '--port', String(busy)]);
    expect(main.code).toBe(1);
    expect(main.stderr).toContain(
      `hushd: cannot start: port ${busy} on 127.0.0.1 is in use (another hushd, or another program): choose another with --port`,
    );
    const metrics = await serve(['--host', '127.0.0.1', '--port', '0', '--metrics-port', String(busy)]);
    expect(metrics.code).toBe(1);
    expect(metrics.stderr).toContain(`the metrics port ${busy} on 127.0.0.1 is in use`);
    expect(metrics.stderr).toContain('choose another with --metrics-port');
  }, 60_000);

  it('names a damaged database and says to restore it', async () => {
    const data = join(fx.dir, 'data');
    mkdirSync(data, { recursive: true, mode: 0o700 });
    writeFileSync(join(data, 'hush.db'), 'not a database at all '.repeat(300), { mode: 0o600 });
    const r = await serve(['--host', '127.0.0.1', '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(data, 'hush.db')} is damaged (file is not a database): restore it from a backup`);
  }, 60_000);

  it('names a --data-dir that is a file', async () => {
    const file = join(fx.dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [CLI, '--data-dir', file, '--port', '0'], { env: { PATH: process.env.PATH, HOME: fx.dir } });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      p.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(child.code).toBe(1);
    expect(child.stderr).toContain(`hushd: cannot start: ${file} is a file, not a directory: check --data-dir`);
  }, 60_000);

  it.runIf(process.platform === 'linux')(
    'says a --data-dir the file system cannot hold (under /proc), at once: it hung at full CPU',
    async () => {
      const dir = `/proc/hush-test-${process.pid}/data`;
      const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, '--data-dir', dir, '--port', '0'], { env: { PATH: process.env.PATH, HOME: fx.dir } });
        const spinning = setTimeout(() => p.kill('SIGKILL'), 20_000); // the old hang, deaf to SIGTERM
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        p.on('exit', (code) => {
          clearTimeout(spinning);
          resolve({ code, stderr });
        });
      });
      expect(child.stderr).toContain(`hushd: cannot start: cannot create the directory /proc/hush-test-${process.pid}`);
      expect(child.stderr).toContain('choose a --data-dir on a disk that can hold it');
      expect(child.code).toBe(1);
    },
    60_000,
  );

  it('words for the other listen and store failures; anything else is left as it is', () => {
    const config = { host: '10.99.99.99', port: 5555, metricsPort: 9464 };
    const failure = (fields: Record<string, unknown>) => Object.assign(new Error('raw'), fields);
    expect(listenFailureText(failure({ code: 'EADDRNOTAVAIL', syscall: 'listen', address: '10.99.99.99', port: 5555 }), config)).toBe(
      '10.99.99.99 is not an address of this machine: choose one with --host (0.0.0.0 listens on all of them)',
    );
    expect(listenFailureText(failure({ code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'nohost.invalid' }), config)).toContain(
      'nohost.invalid is not an address of this machine',
    );
    expect(listenFailureText(failure({ code: 'EACCES', syscall: 'listen', address: '0.0.0.0', port: 80 }), config)).toBe(
      'port 80 needs privileges this user lacks: choose one above 1023 with --port',
    );
    expect(listenFailureText(failure({ code: 'ECONNRESET' }), config)).toBeUndefined();
    expect(storeFailureText(failure({ code: 'EACCES', path: '/srv/hush/hush.db' }), '/srv/hush/hush.db')).toBe(
      'cannot open /srv/hush/hush.db (raw): run as the user that owns the data directory',
    );
    expect(storeFailureText(new Error('plain'), '/srv/hush/hush.db')).toBeUndefined();
  });
});
