// A throwaway nats-server for tests and the bench: on 127.0.0.1, a port of its own choosing the first time and
// the same port after a restart (so clients reconnect to it). Stopped by PID. A machine without
// nats-server fails the test with what to install: nothing is skipped.
import { type ChildProcess, spawn } from 'node:child_process';

export interface TestNats {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** The running server's PID (undefined while stopped). */
  readonly pid: number | undefined;
  /** Clean shutdown (SIGTERM), waiting for the exit. Idempotent. */
  stop(): Promise<void>;
  /** A crash: SIGKILL, waiting for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after stop or kill). */
  restart(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

function launch(port: number, args: readonly string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const timer = setTimeout(() => fail(new Error(`nats-server did not get ready in ${READY_TIMEOUT_MS} ms:\n${log}`)), READY_TIMEOUT_MS);
    function fail(error: Error) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    child.on('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'ENOENT'
          ? new Error('nats-server is not on PATH: install it (Debian: apt-get install -y nats-server) to run the bus tests')
          : error,
      ),
    );
    child.on('exit', (code) => fail(new Error(`nats-server exited (${code}) before it was ready:\n${log}`)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      log += chunk;
      const listening = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log);
      if (listening && log.includes('Server is ready')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stderr!.resume();
        child.stderr!.removeAllListeners('data');
        child.stderr!.on('data', () => undefined);
        resolve({ child, port: Number(listening[1]) });
      }
    });
  });
}

function signal(child: ChildProcess | undefined, sig: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(sig);
  });
}

/** `args`: more nats-server flags (credentials, TLS), kept across restarts. */
export async function startNats(args: readonly string[] = []): Promise<TestNats> {
  let { child, port } = await launch(-1, args); // -1: nats-server picks a free port
  let current: ChildProcess | undefined = child;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return current?.pid;
    },
    async stop() {
      await signal(current, 'SIGTERM');
      current = undefined;
    },
    async kill() {
      await signal(current, 'SIGKILL');
      current = undefined;
    },
    async restart() {
      await signal(current, 'SIGTERM');
      ({ child, port } = await launch(port, args));
      current = child;
    },
  };
}
