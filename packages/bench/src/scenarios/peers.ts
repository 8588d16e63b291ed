import type { CheckpointStats } from '@hush/server';
import { spawnChild, stopChild } from '../children.js';
import { profiled, type BenchContext, type ServerPeer } from '../context.js';
import type { BenchRoomKind } from '../devices.js';
import { procUsage, startIrcPeer, type IrcPeerKind } from '../irc-peers.js';
import { windowFor } from '../profiles.js';
import type { ServerHandlers } from '../server-process.js';
import { delay, round } from '../stats.js';
import type { Target } from '../target.js';

/** Hush runs twice: its fan-out room end-to-end encrypted (sender-key envelopes) and open (text the server reads). */
export type PeerSideKind = 'hush-e2e' | 'hush-open' | Exclude<Target['kind'], 'hush'>;
export const HUSH_SIDES = ['hush-e2e', 'hush-open'] as const satisfies readonly PeerSideKind[];

function hushRoom(kind: PeerSideKind): BenchRoomKind | null {
  return kind === 'hush-e2e' ? 'e2e' : kind === 'hush-open' ? 'open' : null;
}

/** One server's figures at one room size (all read in the same run). */
export interface PeerSide {
  kind: PeerSideKind;
  /** Saturation: every delivery of the windows (warm-up and drain included) over the server's CPU time meanwhile. */
  deliveriesPerSec: number;
  deliveriesPerCpuSec: number;
  serverCpu: number;
  /** Share of the server's CPU time spent in the kernel (system time): socket writes and reads, mostly. */
  systemShare: number;
  loadgenCpu: number;
  /** Fixed rate (1 message a second per client): send-to-delivery latency at the observers. */
  fixed: { samples: number; p50Ms: number; p99Ms: number; serverCpu: number; systemShare: number; delivered: number; expected: number };
  /** RSS (bytes) idle with the N clients connected, and the process's peak (VmHWM) at the end. */
  rssIdle: number;
  rssPeak: number;
  /** Hush: WAL checkpoints by its worker (catch-ups during a hold, longest hold ms) and on the event loop (count, longest ms) over the whole run; null for the others. */
  checkpoints: CheckpointStats | null;
  problems: string[];
}

export interface PeersResult {
  n: number;
  sides: PeerSide[];
}

interface Running {
  target: Target;
  pid: number;
  /** Hush and raw: the server process's IPC (for profiles). */
  server: ServerPeer | null;
  /** Hush's WAL checkpoints so far (null for the others). */
  checkpoints(): Promise<PeerSide['checkpoints']>;
  stop(): Promise<void>;
}

async function startSide(kind: PeerSideKind, echo: boolean): Promise<Running> {
  if (kind === 'hush-e2e' || kind === 'hush-open' || kind === 'raw') {
    const mode = kind === 'raw' ? 'raw' : 'hush';
    const server = await spawnChild<ServerHandlers>('./server-process.ts', `server-${kind}`, { maxOldSpaceMb: 4096 });
    const { host, port } = await server.api.start(mode === 'raw' ? { mode, echo } : { mode });
    return {
      target: { kind: mode, host, port },
      pid: server.child.pid!,
      server,
      checkpoints: async () => (await server.api.usage({})).checkpoints,
      stop: () => stopChild(server),
    };
  }
  const peer = await startIrcPeer(kind);
  return {
    target: { kind, host: peer.host, port: peer.port },
    pid: peer.pid,
    server: null,
    checkpoints: async () => null,
    stop: peer.stop,
  };
}

/**
 * The fan-out room of N clients on Hush (an e2e room, then an open room), the raw ceiling and each
 * IRC peer, one server after the other, each through the same load generator: the room set up,
 * RSS read idle, an unmeasured saturation window (warm-up), the measured saturation windows, then
 * the fixed rate (last: its clients drop what they receive, except the observers). Server CPU
 * comes from /proc/<pid>/stat for every server alike, so it includes every thread (Hush's
 * checkpoint worker too). With --cpu-profile, Hush's first measured window and its fixed-rate
 * phase are profiled.
 */
export async function runPeers(ctx: BenchContext, n: number, peers: readonly IrcPeerKind[]): Promise<PeersResult> {
  const f = ctx.profile.fanout;
  const sides: PeerSide[] = [];
  let echo = true;
  for (const kind of [...HUSH_SIDES, 'raw', ...peers] as PeerSideKind[]) {
    ctx.log(`peers N=${n}: ${kind}`);
    const server = await startSide(kind, echo);
    try {
      const setup = await ctx.loadgen.api.fanoutSetup({
        target: server.target,
        n,
        prefix: 'pe',
        devicePoolSize: ctx.profile.devicePoolSize,
        concurrency: 16,
        room: hushRoom(kind) ?? 'open',
        textSize: f.textSize,
      });
      if (hushRoom(kind) !== null) echo = setup.echo;
      const profile = <T>(label: string, fn: () => Promise<T>) =>
        server.server && hushRoom(kind) !== null ? profiled(ctx, server.server, `peers-${kind}-n${n}-${label}`, fn) : fn();
      // Idle as a server is idle: the Node servers (Hush, raw) get the memory scenario's settling
      // (seconds without traffic, then full collections: the room setup's garbage, Hush's scrypt
      // buffers of N registrations, is not what N connections hold); the IRC servers have no GC.
      if (server.server) await server.server.api.settle({ idleMs: ctx.profile.memory.idleMs });
      else await delay(1000);
      const rssIdle = procUsage(server.pid).rss;
      const window = windowFor(ctx.profile, n);
      const saturate = (measureMs: number) =>
        ctx.loadgen.api.fanoutSaturate({
          kind: server.target.kind,
          window,
          warmupMs: f.warmupMs,
          measureMs,
          textSize: f.textSize,
          drainMs: 30_000,
        });
      await saturate(f.measureMs);
      const cpu0 = procUsage(server.pid);
      const t0 = performance.now();
      let delivered = 0;
      let loadgenCpu = 0;
      const problems: string[] = [];
      for (let r = 0; r < f.rounds; r++) {
        const run = r === 0 ? await profile('saturation', () => saturate(f.measureMs)) : await saturate(f.measureMs);
        delivered += run.delivered;
        loadgenCpu += run.loadgenCpu / f.rounds;
        problems.push(...run.problems);
        if (!run.drained) problems.push(`saturation: ${run.expected - run.delivered} deliveries missing`);
      }
      const cpu1 = procUsage(server.pid);
      const seconds = (performance.now() - t0) / 1000;
      const cpuSeconds = (cpu1.cpuMs - cpu0.cpuMs) / 1000;
      // Samples come at about N x observers a second: 15 s give thousands from N = 100 up.
      const fixedMs = f.fixedMs;
      const c0 = procUsage(server.pid);
      const t1 = performance.now();
      const fixed = await profile('fixed-rate', () =>
        ctx.loadgen.api.fanoutFixed({
          kind: server.target.kind,
          durationMs: fixedMs,
          textSize: f.textSize,
          tickMs: 5,
          observers: Math.min(n, f.observers),
          drainMs: 10_000,
        }),
      );
      const c1 = procUsage(server.pid);
      const fixedCpu = (c1.cpuMs - c0.cpuMs) / (performance.now() - t1);
      problems.push(...fixed.problems);
      if (fixed.delivered < fixed.expected) problems.push(`fixed rate: ${fixed.expected - fixed.delivered} deliveries missing`);
      sides.push({
        kind,
        deliveriesPerSec: Math.round(delivered / seconds),
        deliveriesPerCpuSec: Math.round(delivered / cpuSeconds),
        serverCpu: round(cpuSeconds / seconds, 3),
        systemShare: round((cpu1.systemMs - cpu0.systemMs) / Math.max(1, cpu1.cpuMs - cpu0.cpuMs), 3),
        loadgenCpu: round(loadgenCpu, 3),
        fixed: {
          samples: fixed.samples,
          p50Ms: fixed.p50Ms,
          p99Ms: fixed.p99Ms,
          serverCpu: round(fixedCpu, 3),
          systemShare: round((c1.systemMs - c0.systemMs) / Math.max(1, c1.cpuMs - c0.cpuMs), 3),
          delivered: fixed.delivered,
          expected: fixed.expected,
        },
        rssIdle,
        rssPeak: procUsage(server.pid).peak,
        checkpoints: await server.checkpoints(),
        problems: [...new Set(problems)],
      });
    } finally {
      await ctx.loadgen.api.fanoutClose({});
      await server.stop();
    }
  }
  return { n, sides };
}
