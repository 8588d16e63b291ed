// The cluster scenario: the e2e fan-out room on one hushd on SQLite, one on PostgreSQL, and one,
// two and three nodes on one PostgreSQL joined by a nats-server, all on this machine. PostgreSQL
// and nats-server are throwaway processes (@hush/test-kit), stopped by PID with the nodes.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNats, type TestNats } from '@hush/test-kit/nats';
import { startPostgres, type TestPostgres } from '@hush/test-kit/postgres';
import { spawnChild, stopChild } from '../children.js';
import { profiled, type BenchContext, type ServerPeer } from '../context.js';
import { procUsage, treeCpuMs } from '../irc-peers.js';
import { windowFor } from '../profiles.js';
import type { ServerHandlers } from '../server-process.js';
import { round } from '../stats.js';
import { machineSample, otherLoad, type Target } from '../target.js';

export interface ClusterSetup {
  store: 'sqlite' | 'postgres';
  nodes: number;
  /** Nodes joined by a nats-server (hushd --bus). */
  bus: boolean;
}

/** CPU over a phase, in cores (1 = one core busy): the nodes summed, PostgreSQL (postmaster and backends), nats-server. */
export interface ClusterCpu {
  nodes: number;
  /** Each node's own. */
  perNode: number[];
  postgres: number | null;
  nats: number | null;
}

export interface ClusterSide extends ClusterSetup {
  label: string;
  n: number;
  /** Saturation: every delivery of the windows (warm-up and drain included) over their wall time. */
  deliveriesPerSec: number;
  /** The same deliveries over the nodes' CPU time summed, and over the whole cluster's (nodes, PostgreSQL, nats-server). */
  deliveriesPerNodeCpuSec: number;
  deliveriesPerClusterCpuSec: number;
  saturationCpu: ClusterCpu;
  loadgenCpu: number;
  /** Deliveries per record the nodes wrote (summed): how many messages each write carried. */
  deliveriesPerRecord: number;
  /** Cores busy with other work on the machine during the windows (it is shared), NaN off Linux. */
  otherLoad: number;
  /** Fixed rate (1 message a second per client): send-to-delivery latency at the observers, spread over the nodes. */
  fixed: { samples: number; p50Ms: number; p99Ms: number; delivered: number; expected: number; cpu: ClusterCpu };
  /** The processes of this side, all stopped by PID at its end (null: not part of this side). */
  pids: { nodes: number[]; postgres: number | null; nats: number | null };
  problems: string[];
}

export interface ClusterResult {
  n: number;
  sides: ClusterSide[];
  /** Setups that could not run, with why (say, nats-server not installed). */
  failed: { label: string; error: string }[];
}

export function clusterSetups(busNodes: readonly number[]): ClusterSetup[] {
  return [
    { store: 'sqlite', nodes: 1, bus: false },
    { store: 'postgres', nodes: 1, bus: false },
    ...busNodes.map((nodes) => ({ store: 'postgres' as const, nodes, bus: true })),
  ];
}

export function setupLabel(s: ClusterSetup): string {
  const store = s.store === 'sqlite' ? 'SQLite' : s.bus ? 'PostgreSQL + NATS' : 'PostgreSQL';
  return `${store}, ${s.nodes} node${s.nodes === 1 ? '' : 's'}`;
}

/** Each setup in turn on one throwaway PostgreSQL (a fresh database each); a setup that fails is reported and the next runs. */
export async function runCluster(ctx: BenchContext): Promise<ClusterResult> {
  const { n, busNodes } = ctx.profile.cluster;
  const result: ClusterResult = { n, sides: [], failed: [] };
  let pg: TestPostgres | null = null;
  try {
    for (const setup of clusterSetups(busNodes)) {
      const label = setupLabel(setup);
      ctx.log(`cluster N=${n}: ${label}`);
      try {
        if (setup.store === 'postgres') pg ??= await startPostgres();
        result.sides.push(await runSide(ctx, setup, label, n, setup.store === 'postgres' ? pg : null));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.log(`cluster: ${label} failed: ${message.split('\n')[0]}`);
        result.failed.push({ label, error: message });
      }
    }
  } finally {
    await pg?.stop();
  }
  return result;
}

interface Nodes {
  peers: ServerPeer[];
  target: Target;
  stop(): Promise<void>;
}

/**
 * `count` hushd processes on `store` (SQLite when null), joined by `bus`: the first creates the
 * bench rooms, the others start with its identity key copied into their data directories.
 */
async function startNodes(count: number, store: string | null, bus: TestNats | null): Promise<Nodes> {
  const peers: ServerPeer[] = [];
  const dirs: string[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(peers.map((p) => stopChild(p)));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    for (let i = 0; i < count; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), `hush-bench-node${i}-`));
      dirs.push(dataDir);
      if (i > 0) copyFileSync(join(dirs[0]!, 'identity.key'), join(dataDir, 'identity.key'));
      const peer = await spawnChild<ServerHandlers>('./server-process.ts', `server-node${i}`, { maxOldSpaceMb: 4096 });
      peers.push(peer);
      const { port } = await peer.api.start({
        mode: 'hush',
        dataDir,
        createRooms: i === 0,
        ...(store !== null ? { store } : {}),
        ...(bus !== null ? { bus: [bus.url] } : {}),
      });
      ports.push(port);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { peers, target: { kind: 'hush', host: '127.0.0.1', port: ports[0]!, ports }, stop };
}

interface CpuSample {
  wallMs: number;
  nodes: number[];
  postgres: number | null;
  nats: number | null;
}

function sampleCpu(nodePids: number[], pg: TestPostgres | null, nats: TestNats | null): CpuSample {
  const pgPid = pg?.pid;
  const natsPid = nats?.pid;
  return {
    wallMs: performance.now(),
    nodes: nodePids.map((pid) => procUsage(pid).cpuMs),
    postgres: pgPid === undefined ? null : treeCpuMs(pgPid),
    nats: natsPid === undefined ? null : procUsage(natsPid).cpuMs,
  };
}

function cpuBetween(a: CpuSample, b: CpuSample): { cores: ClusterCpu; nodeCpuMs: number; clusterCpuMs: number } {
  const wall = b.wallMs - a.wallMs;
  const perNodeMs = b.nodes.map((ms, i) => ms - a.nodes[i]!);
  const nodeCpuMs = perNodeMs.reduce((sum, ms) => sum + ms, 0);
  const pgMs = a.postgres === null || b.postgres === null ? null : b.postgres - a.postgres;
  const natsMs = a.nats === null || b.nats === null ? null : b.nats - a.nats;
  const cores = (ms: number | null) => (ms === null ? null : round(ms / wall, 3));
  return {
    cores: {
      nodes: round(nodeCpuMs / wall, 3),
      perNode: perNodeMs.map((ms) => round(ms / wall, 3)),
      postgres: cores(pgMs),
      nats: cores(natsMs),
    },
    nodeCpuMs,
    clusterCpuMs: nodeCpuMs + (pgMs ?? 0) + (natsMs ?? 0),
  };
}

/**
 * One setup: its N clients spread over the nodes in turn (observers too, so latency crosses nodes),
 * an unmeasured saturation window, the measured windows, then the fixed rate (last: its clients
 * drop what they receive, except the observers).
 */
async function runSide(ctx: BenchContext, setup: ClusterSetup, label: string, n: number, pg: TestPostgres | null): Promise<ClusterSide> {
  const f = ctx.profile.fanout;
  const nats = setup.bus ? await startNats() : null;
  let nodes: Nodes | null = null;
  try {
    const store = pg ? await pg.createDatabase() : null;
    nodes = await startNodes(setup.nodes, store, nats);
    const nodePids = nodes.peers.map((p) => p.child.pid!);
    const pids = { nodes: nodePids, postgres: pg?.pid ?? null, nats: nats?.pid ?? null };
    await ctx.loadgen.api.fanoutSetup({
      target: nodes.target,
      n,
      prefix: 'cl',
      devicePoolSize: ctx.profile.devicePoolSize,
      concurrency: 16,
      room: 'e2e',
      textSize: f.textSize,
    });
    const saturate = () =>
      ctx.loadgen.api.fanoutSaturate({
        kind: 'hush',
        window: windowFor(ctx.profile, n),
        warmupMs: f.warmupMs,
        measureMs: f.measureMs,
        textSize: f.textSize,
        drainMs: 30_000,
      });
    await saturate();
    const problems: string[] = [];
    let delivered = 0;
    let loadgenCpu = 0;
    const recordsOut = async () => (await Promise.all(nodes!.peers.map((p) => p.api.usage({})))).reduce((sum, u) => sum + u.recordsOut, 0);
    const r0 = await recordsOut();
    const m0 = machineSample();
    const s0 = sampleCpu(nodePids, pg, nats);
    for (let r = 0; r < f.rounds; r++) {
      // With --cpu-profile, the first node and the load generator over the first measured window.
      const run = r === 0 ? await profiled(ctx, nodes.peers[0]!, `cluster-${label}-node0`, saturate) : await saturate();
      delivered += run.delivered;
      loadgenCpu += run.loadgenCpu / f.rounds;
      problems.push(...run.problems);
      if (!run.drained) problems.push(`saturation: ${run.expected - run.delivered} deliveries missing`);
    }
    const s1 = sampleCpu(nodePids, pg, nats);
    const records = (await recordsOut()) - r0;
    const saturation = cpuBetween(s0, s1);
    const c = saturation.cores;
    const others = otherLoad(m0, machineSample(), c.nodes + (c.postgres ?? 0) + (c.nats ?? 0) + loadgenCpu);
    const f0 = sampleCpu(nodePids, pg, nats);
    const fixed = await ctx.loadgen.api.fanoutFixed({
      kind: 'hush',
      durationMs: f.fixedMs,
      textSize: f.textSize,
      tickMs: 5,
      observers: Math.min(n, f.observers),
      drainMs: 10_000,
    });
    const fixedCpu = cpuBetween(f0, sampleCpu(nodePids, pg, nats));
    problems.push(...fixed.problems);
    if (fixed.delivered < fixed.expected) problems.push(`fixed rate: ${fixed.expected - fixed.delivered} deliveries missing`);
    const seconds = (s1.wallMs - s0.wallMs) / 1000;
    return {
      ...setup,
      label,
      n,
      deliveriesPerSec: Math.round(delivered / seconds),
      deliveriesPerNodeCpuSec: Math.round(delivered / (saturation.nodeCpuMs / 1000)),
      deliveriesPerClusterCpuSec: Math.round(delivered / (saturation.clusterCpuMs / 1000)),
      saturationCpu: saturation.cores,
      loadgenCpu: round(loadgenCpu, 3),
      deliveriesPerRecord: round(delivered / Math.max(1, records), 1),
      otherLoad: round(others, 2),
      fixed: {
        samples: fixed.samples,
        p50Ms: fixed.p50Ms,
        p99Ms: fixed.p99Ms,
        delivered: fixed.delivered,
        expected: fixed.expected,
        cpu: fixedCpu.cores,
      },
      pids,
      problems: [...new Set(problems)],
    };
  } finally {
    await ctx.loadgen.api.fanoutClose({});
    await nodes?.stop();
    await nats?.stop();
  }
}
