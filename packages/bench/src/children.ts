import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SERVER_V8_FLAGS } from '@hush/server';
import { IpcPeer, type Handlers } from './ipc.js';

const require = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(require.resolve('tsx')).href;

export interface SpawnOptions {
  /** Write a V8 CPU profile (`--cpu-prof`) into this directory when the child exits. */
  cpuProfileDir?: string;
  /** Old-space limit in MiB (10,000 connections need room). */
  maxOldSpaceMb?: number;
}

/**
 * Forks one of this package's entry modules (TypeScript, through tsx) as its own process with an
 * IPC channel. `--expose-gc` lets memory figures be taken after a full collection. Every child,
 * the raw ceiling's server and the load generator included, runs with the V8 flags hushd sets for
 * itself (`tuneRuntime`), so both sides run on the same runtime settings.
 */
export async function spawnChild<H extends Handlers>(entry: string, name: string, options: SpawnOptions = {}): Promise<IpcPeer<H>> {
  const execArgv = ['--import', tsxLoader, '--expose-gc', ...SERVER_V8_FLAGS];
  if (options.maxOldSpaceMb) execArgv.push(`--max-old-space-size=${options.maxOldSpaceMb}`);
  if (options.cpuProfileDir)
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`);
  const file = fileURLToPath(new URL(entry, import.meta.url));
  const child = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const peer = new IpcPeer<H>(child, name);
  await peer.ready;
  return peer;
}

/** Asks the child to exit and waits for it (kills it by pid if it does not go in time). */
export async function stopChild(peer: IpcPeer<Handlers>, timeoutMs = 15_000): Promise<void> {
  const child = peer.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([peer.call('exit', {}), exited]);
  } catch {
    // The child may exit before replying.
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
