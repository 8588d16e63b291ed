import { profiled, withServer, type BenchContext } from '../context.js';
import type { Pauses } from '../pauses.js';
import { windowFor } from '../profiles.js';
import { round } from '../stats.js';
import { cpuBetween, machineSample, otherLoad } from '../target.js';

export interface FanoutSide {
  setupMs: number;
  echo: boolean;
  /** Counts are the observers' (see loadgen.ts fanoutFixed): the other clients drop what they receive. */
  fixed: {
    sent: number; observers: number; observerSent: number; expected: number; delivered: number; acks: number; discardedBytes: number;
    samples: number; p50Ms: number; p99Ms: number; maxMs: number; loadgenCpu: number; problems: string[];
    /** The server's event-loop delay and GC pauses during the phase. */
    serverPauses: Pauses | null;
    loadgenPauses: Pauses | null;
  };
  saturate: {
    window: number; recipients: number; sent: number; expected: number; delivered: number; drained: boolean;
    deliveriesPerSec: number; messagesPerSec: number; loadgenCpu: number; serverCpu: number;
    /** Deliveries per record (Hush) or frame (raw) the server wrote: how many messages each write carried. */
    deliveriesPerRecord: number;
    /** Cores used by other processes on the machine meanwhile (shared machine), NaN off Linux. */
    otherLoad: number; problems: string[];
  };
}

export interface FanoutResult {
  n: number;
  hush: FanoutSide;
  raw: FanoutSide;
  /** Hush deliveries/s over raw's, and Hush p99 over raw's (same run). */
  throughputRatio: number;
  p99Ratio: number;
}

async function side(ctx: BenchContext, kind: 'hush' | 'raw', n: number, echo: boolean): Promise<FanoutSide> {
  const f = ctx.profile.fanout;
  return withServer(ctx, { mode: kind, echo }, async (server, target) => {
    const setup = await ctx.loadgen.api.fanoutSetup({ target, n, prefix: 'fa', devicePoolSize: ctx.profile.devicePoolSize, concurrency: 16 });
    const before = await server.api.usage({});
    const m0 = machineSample();
    const saturate = await profiled(ctx, server, `fanout-${kind}-n${n}`, () =>
      ctx.loadgen.api.fanoutSaturate({ window: windowFor(ctx.profile, n), warmupMs: f.warmupMs, measureMs: f.measureMs, textSize: f.textSize, drainMs: 30_000 }),
    );
    const after = await server.api.usage({});
    const serverCpu = cpuBetween(before, after).utilisation;
    const others = otherLoad(m0, machineSample(), serverCpu + saturate.loadgenCpu);
    // Last: in the fixed-rate phase the non-observers stop processing what they receive, for good.
    // Both processes first collect what the saturation phase left, so its garbage is not collected
    // (as pauses) inside the latency samples.
    await Promise.all([server.api.collect({}), ctx.loadgen.api.collect({})]);
    await Promise.all([server.api.pausesStart({}), ctx.loadgen.api.pausesStart({})]);
    const fixedRun = await profiled(ctx, server, `fanout-${kind}-n${n}-fixed-rate`, () =>
      ctx.loadgen.api.fanoutFixed({ durationMs: fixedDurationMs(f, n), textSize: f.textSize, tickMs: 5, observers: Math.min(n, f.observers), drainMs: 10_000 }),
    );
    const fixed = { ...fixedRun, serverPauses: await server.api.pausesStop({}), loadgenPauses: await ctx.loadgen.api.pausesStop({}) };
    await ctx.loadgen.api.fanoutClose({});
    const deliveriesPerRecord = round(saturate.delivered / Math.max(1, after.recordsOut - before.recordsOut), 1);
    return {
      setupMs: round(setup.setupMs, 0), echo: setup.echo, fixed,
      saturate: { ...saturate, serverCpu: round(serverCpu, 3), otherLoad: round(others, 2), deliveriesPerRecord },
    };
  });
}

/** One room of N clients: Hush first (it decides whether senders get their own messages), then raw. */
export async function runFanout(ctx: BenchContext, n: number): Promise<FanoutResult> {
  ctx.log(`fan-out N=${n}: Hush`);
  const hush = await side(ctx, 'hush', n, true);
  ctx.log(`fan-out N=${n}: raw ceiling`);
  const raw = await side(ctx, 'raw', n, hush.echo);
  return {
    n, hush, raw,
    throughputRatio: round(hush.saturate.deliveriesPerSec / raw.saturate.deliveriesPerSec, 3),
    p99Ratio: round(hush.fixed.p99Ms / raw.fixed.p99Ms, 2),
  };
}

/** The fixed-rate phase's length at N clients (1 message/s each): fixedMs, or longer for fixedMinMessages. */
export function fixedDurationMs(f: { fixedMs: number; fixedMinMessages: number }, n: number): number {
  return Math.max(f.fixedMs, Math.ceil(f.fixedMinMessages / n) * 1000);
}
