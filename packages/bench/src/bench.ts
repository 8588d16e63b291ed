import { cpus, loadavg } from 'node:os';
import { spawnChild, stopChild } from './children.js';
import type { BenchContext, ProfileSummary } from './context.js';
import type { FileResult } from './file-transfer.js';
import type { LoadgenHandlers } from './loadgen-process.js';
import type { BenchProfile } from './profiles.js';
import { ensurePeers } from './irc-peers.js';
import { runCluster, type ClusterResult } from './scenarios/cluster.js';
import { runFanout, type FanoutResult } from './scenarios/fanout.js';
import { runPeers, type PeersResult } from './scenarios/peers.js';
import { runFile } from './scenarios/file.js';
import { runHandshakes, type HandshakeResults } from './scenarios/handshakes.js';
import { runHistory, type HistoryResult } from './scenarios/history.js';
import { runMemory, type MemoryStep } from './scenarios/memory.js';
import { runSessions, type SessionsResult } from './scenarios/sessions.js';
import { BENCH_SCRYPT_N } from './server-process.js';

export type ScenarioName = 'fanout' | 'handshakes' | 'memory' | 'file' | 'history' | 'sessions' | 'cluster';
export const SCENARIOS: readonly ScenarioName[] = ['fanout', 'handshakes', 'memory', 'file', 'history', 'sessions', 'cluster'];

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  platform: string;
  ulimitNoFile: string;
}

export interface BenchResults {
  startedAt: string;
  command: string;
  profile: BenchProfile['name'];
  machine: Machine;
  notes: string[];
  fanout: FanoutResult[];
  /** With --peers: the fan-out room on Hush, the raw ceiling and the IRC peers, one after the other. */
  peers: PeersResult[];
  handshakes: HandshakeResults | null;
  memory: MemoryStep[] | null;
  file: FileResult | null;
  history: HistoryResult | null;
  /** End-to-end crypto (device sessions, sender keys), in the orchestrator's process. */
  sessions: SessionsResult | null;
  /** The e2e fan-out room on SQLite, PostgreSQL, and several nodes joined by NATS. */
  cluster: ClusterResult | null;
  profiles: ProfileSummary[];
  errors: { scenario: ScenarioName; message: string }[];
  durationMs: number;
}

export interface RunOptions {
  profile: BenchProfile;
  only?: readonly ScenarioName[];
  profileDir?: string | null;
  command?: string;
  machine: Machine;
  log?: (line: string) => void;
  /** Measure the fan-out room against real IRC servers too (`--peers`). */
  peers?: boolean;
}

export function describeMachine(ulimitNoFile: string): Machine {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    ulimitNoFile,
  };
}

/**
 * Runs the scenarios with a load generator in its own process and a fresh server process per
 * scenario. A scenario that throws is recorded in `errors` and the others still run.
 */
export async function runBench(options: RunOptions): Promise<BenchResults> {
  const started = Date.now();
  const startLoad = loadavg()[0] ?? 0;
  const log = options.log ?? (() => undefined);
  const loadgen = await spawnChild<LoadgenHandlers>('./loadgen-process.ts', 'loadgen', { maxOldSpaceMb: 4096 });
  const ctx: BenchContext = { loadgen, profile: options.profile, profileDir: options.profileDir ?? null, profiles: [], log };
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    command: options.command ?? 'pnpm bench',
    profile: options.profile.name,
    machine: options.machine,
    notes: [
      `Hush runs with scryptN = 2^${Math.log2(BENCH_SCRYPT_N)} (tests' cost) so that registering hundreds of benchmark users is quick; password logins are measured separately at the default 2^17.`,
      'Flood control and queue limits are raised so that they do not throttle the benchmark; everything else is the default configuration (encryption and history on).',
      'Server and load generator run in separate processes on loopback; every server figure is compared with the raw ceiling measured in the same run.',
    ],
    fanout: [],
    peers: [],
    handshakes: null,
    memory: null,
    file: null,
    history: null,
    sessions: null,
    cluster: null,
    profiles: ctx.profiles,
    errors: [],
    durationMs: 0,
  };
  const wanted = (s: ScenarioName) => !options.only || options.only.includes(s);
  const attempt = async (scenario: ScenarioName, fn: () => Promise<void>) => {
    if (!wanted(scenario)) return;
    try {
      await fn();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${scenario} failed: ${message.split('\n')[0]}`);
      results.errors.push({ scenario, message });
    }
  };
  try {
    await attempt('fanout', async () => {
      if (options.peers) {
        const peers = ensurePeers(log);
        for (const n of options.profile.fanout.sizes) results.peers.push(await runPeers(ctx, n, peers));
        return;
      }
      for (const n of options.profile.fanout.sizes) results.fanout.push(await runFanout(ctx, n));
    });
    await attempt('handshakes', async () => {
      results.handshakes = await runHandshakes(ctx);
    });
    await attempt('memory', async () => {
      results.memory = await runMemory(ctx);
    });
    await attempt('file', async () => {
      results.file = await runFile(ctx);
    });
    await attempt('history', async () => {
      results.history = await runHistory(ctx);
    });
    await attempt('sessions', async () => {
      results.sessions = await runSessions(ctx);
    });
    await attempt('cluster', async () => {
      results.cluster = await runCluster(ctx);
      for (const { label, error } of results.cluster.failed) results.errors.push({ scenario: 'cluster', message: `${label}: ${error}` });
    });
  } finally {
    await stopChild(loadgen);
  }
  results.durationMs = Date.now() - started;
  if (process.platform !== 'win32') {
    results.notes.push(
      `Machine load average (1 min) at start ${startLoad.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores: the "other load" columns show how much CPU other processes took during the measured phases.`,
    );
  }
  return results;
}
