import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnChild, stopChild } from './children.js';
import type { IpcPeer } from './ipc.js';
import type { LoadgenHandlers } from './loadgen-process.js';
import type { ProfileEntry } from './profile.js';
import type { ServerHandlers, StartOptions } from './server-process.js';
import type { BenchProfile } from './profiles.js';
import type { Target } from './target.js';

export type ServerPeer = IpcPeer<ServerHandlers>;
export type LoadgenPeer = IpcPeer<LoadgenHandlers>;

export interface ProfileSummary {
  label: string;
  functions: ProfileEntry[];
  areas: ProfileEntry[];
  file?: string;
}

/** What every scenario gets: the load-generator process, the sizes, and where profiles go. */
export interface BenchContext {
  loadgen: LoadgenPeer;
  profile: BenchProfile;
  /** When set, the server is CPU-profiled during measured phases; .cpuprofile files land here. */
  profileDir: string | null;
  profiles: ProfileSummary[];
  log(line: string): void;
}

/**
 * Runs `fn` against a fresh server process (Hush or raw), started for this scenario only, so
 * that its CPU and memory belong to this scenario alone. The process is stopped afterwards.
 */
export async function withServer<T>(
  _ctx: BenchContext,
  start: StartOptions,
  fn: (server: ServerPeer, target: Target) => Promise<T>,
): Promise<T> {
  const server = await spawnChild<ServerHandlers>('./server-process.ts', `server-${start.mode}`, { maxOldSpaceMb: 4096 });
  try {
    const { host, port } = await server.api.start(start);
    return await fn(server, { kind: start.mode, host, port });
  } finally {
    await stopChild(server);
  }
}

/** Profiles the server and the load generator while `fn` runs, when profiling is on. */
export async function profiled<T>(ctx: BenchContext, server: ServerPeer, label: string, fn: () => Promise<T>): Promise<T> {
  const dir = ctx.profileDir;
  if (!dir) return fn();
  await Promise.all([server.api.profileStart({}), ctx.loadgen.api.profileStart({})]);
  try {
    return await fn();
  } finally {
    const save = (name: string, { summary, profile }: { summary: Omit<ProfileSummary, 'label' | 'file'>; profile: unknown }) => {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${name.replace(/[^a-z0-9-]+/gi, '-').replace(/-+$/, '')}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      ctx.profiles.push({ label: name, ...summary, file });
    };
    save(`${label} (server)`, await server.api.profileStop({}));
    save(`${label} (load generator)`, await ctx.loadgen.api.profileStop({}));
  }
}
