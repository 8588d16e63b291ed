import { pinningPlan, setMainThreadCpus } from '../affinity.js';
import { profiled, withServer, type BenchContext, type ServerPeer } from '../context.js';
import type { Pauses } from '../pauses.js';
import { windowFor } from '../profiles.js';
import { round } from '../stats.js';
import { cpuBetween, machineSample, otherLoad, type Target } from '../target.js';

export interface FanoutSide {
  setupMs: number;
  echo: boolean;
  /** Counts are the observers' (see loadgen.ts fanoutFixed): the other clients drop what they receive. */
  fixed: {
    sent: number;
    observers: number;
    observerSent: number;
    expected: number;
    delivered: number;
    acks: number;
    discardedBytes: number;
    samples: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    loadgenCpu: number;
    problems: string[];
    /** Messages sent before the measured run, unmeasured: the closed-loop burst, then at the fixed rate. */
    warmup: { burstSent: number; rateSent: number };
    /** The server's event-loop delay and GC pauses during the phase. */
    serverPauses: Pauses | null;
    loadgenPauses: Pauses | null;
  };
  saturate: {
    window: number;
    recipients: number;
    sent: number;
    expected: number;
    delivered: number;
    drained: boolean;
    /** Over the measured seconds of all of this side's windows; `rounds` has each window's own rate. */
    deliveriesPerSec: number;
    messagesPerSec: number;
    rounds: number[];
    loadgenCpu: number;
    serverCpu: number;
    /** Deliveries per record (Hush) or frame (raw) the server wrote: how many messages each write carried. */
    deliveriesPerRecord: number;
    /** Cores used by other processes on the machine meanwhile (shared machine), NaN off Linux. */
    otherLoad: number;
    problems: string[];
    /** Garbage collection per second of the windows (warm-up and drain included), in each process. */
    gc: { server: GcRate; loadgen: GcRate };
  };
}

export interface FanoutResult {
  n: number;
  hush: FanoutSide;
  raw: FanoutSide;
  /** Whether the fixed-rate phase ran with the main threads pinned (load generator and servers on different CPUs). */
  fixedPinned: boolean;
  /** Hush deliveries/s over raw's, and Hush p99 over raw's (same run). */
  throughputRatio: number;
  p99Ratio: number;
}

/** Full collections and milliseconds of GC pauses per second. */
export interface GcRate {
  fullPerSec: number;
  msPerSec: number;
}

type Kind = Extract<Target['kind'], 'hush' | 'raw'>;
const SIDE_NAMES: Record<Kind, string> = { hush: 'Hush', raw: 'raw ceiling' };
type Saturation = Awaited<ReturnType<BenchContext['loadgen']['api']['fanoutSaturate']>>;

/** One saturation window of one side, with what its server did meanwhile. */
interface Round {
  kind: Kind;
  run: Saturation;
  server: { cpuMs: number; wallMs: number; records: number };
  others: number;
  gc: { server: Pauses | null; loadgen: Pauses | null };
}

/**
 * One room of N clients on each side. Each phase gets servers and rooms of its own:
 * - the fixed-rate phase first, so that it measures latency at light load on servers that have
 *   not just been through saturation (whose full collections deoptimize compiled code and leave
 *   V8 re-optimizing and its memory reducer collecting for a minute), and because it makes the
 *   non-observers drop what they receive; it warms its servers up itself (fixedPhase);
 * - then the saturation windows, alternating between the sides in ABBA order (raw, Hush, Hush,
 *   raw, ...): this machine is shared and its speed drifts over minutes, and a ratio of two windows
 *   taken a minute apart measures the drift as much as the servers.
 */
export async function runFanout(ctx: BenchContext, n: number): Promise<FanoutResult> {
  const fixed = await withRooms(ctx, n, async (servers) => {
    const plan = pinningPlan();
    const pinned = plan !== null && pin(ctx, servers, plan);
    try {
      return { pinned, hush: await fixedPhase(ctx, servers.hush, 'hush', n), raw: await fixedPhase(ctx, servers.raw, 'raw', n) };
    } finally {
      if (pinned) unpin(ctx, servers);
    }
  });
  const saturated = await withRooms(ctx, n, async (servers) => {
    const rounds: Round[] = [];
    for (const kind of alternating(ctx.profile.fanout.rounds)) {
      ctx.log(`fan-out N=${n}: saturation, ${SIDE_NAMES[kind]}`);
      rounds.push(
        await saturationRound(
          ctx,
          servers[kind],
          kind,
          n,
          rounds.some((r) => r.kind === kind),
        ),
      );
    }
    return rounds;
  });
  const side = (kind: Kind): FanoutSide => ({
    setupMs: round(saturated.setup[kind].setupMs, 0),
    echo: saturated.setup[kind].echo,
    fixed: fixed.result[kind],
    saturate: combine(saturated.result.filter((r) => r.kind === kind)),
  });
  const hush = side('hush');
  const raw = side('raw');
  return {
    n,
    hush,
    raw,
    fixedPinned: fixed.result.pinned,
    throughputRatio: round(hush.saturate.deliveriesPerSec / raw.saturate.deliveriesPerSec, 3),
    p99Ratio: round(hush.fixed.p99Ms / raw.fixed.p99Ms, 2),
  };
}

type Setup = Awaited<ReturnType<typeof setUp>>;

/**
 * A fresh Hush server and raw server, each with a room of N load-generator clients (Hush first:
 * it decides whether senders get their own messages), for `fn`; the clients and servers go after.
 */
async function withRooms<T>(
  ctx: BenchContext,
  n: number,
  fn: (servers: Record<Kind, ServerPeer>) => Promise<T>,
): Promise<{ result: T; setup: Record<Kind, Setup> }> {
  return withServer(ctx, { mode: 'hush' }, async (hushServer, hushTarget) => {
    ctx.log(`fan-out N=${n}: Hush room`);
    const hushSetup = await setUp(ctx, hushTarget, n);
    return withServer(ctx, { mode: 'raw', echo: hushSetup.echo }, async (rawServer, rawTarget) => {
      ctx.log(`fan-out N=${n}: raw room`);
      const setup = { hush: hushSetup, raw: await setUp(ctx, rawTarget, n) };
      try {
        return { result: await fn({ hush: hushServer, raw: rawServer }), setup };
      } finally {
        await ctx.loadgen.api.fanoutClose({});
      }
    });
  });
}

/** Pins the servers' main threads to one CPU and the load generator's to another (see affinity.ts). */
function pin(ctx: BenchContext, servers: Record<Kind, ServerPeer>, plan: { servers: number; loadgen: number }): boolean {
  const place = (pid: number | undefined, cpu: number) => pid !== undefined && setMainThreadCpus(pid, cpu);
  const ok =
    place(servers.hush.child.pid, plan.servers) && place(servers.raw.child.pid, plan.servers) && place(ctx.loadgen.child.pid, plan.loadgen);
  if (!ok) unpin(ctx, servers);
  return ok;
}

function unpin(ctx: BenchContext, servers: Record<Kind, ServerPeer>): void {
  for (const peer of [servers.hush, servers.raw, ctx.loadgen]) if (peer.child.pid !== undefined) setMainThreadCpus(peer.child.pid, null);
}

async function setUp(ctx: BenchContext, target: Target, n: number): Promise<{ setupMs: number; echo: boolean }> {
  return ctx.loadgen.api.fanoutSetup({
    target,
    n,
    prefix: 'fa',
    devicePoolSize: ctx.profile.devicePoolSize,
    concurrency: 16,
    room: 'e2e',
    textSize: ctx.profile.fanout.textSize,
  });
}

/** raw, hush, hush, raw, raw, hush, ...: `perSide` windows each, so a steady drift weighs on both sides alike. */
export function alternating(perSide: number): Kind[] {
  const order: Kind[] = [];
  for (let i = 0; i < perSide; i++) order.push(...(i % 2 === 0 ? (['raw', 'hush'] as const) : (['hush', 'raw'] as const)));
  return order;
}

async function saturationRound(ctx: BenchContext, server: ServerPeer, kind: Kind, n: number, again: boolean): Promise<Round> {
  const f = ctx.profile.fanout;
  await Promise.all([server.api.pausesStart({}), ctx.loadgen.api.pausesStart({})]);
  const before = await server.api.usage({});
  const m0 = machineSample();
  const saturate = () =>
    ctx.loadgen.api.fanoutSaturate({
      kind,
      window: windowFor(ctx.profile, n),
      warmupMs: f.warmupMs,
      measureMs: f.measureMs,
      textSize: f.textSize,
      drainMs: 30_000,
    });
  // Profiles cover each side's first window.
  const run = again ? await saturate() : await profiled(ctx, server, `fanout-${kind}-n${n}`, saturate);
  const after = await server.api.usage({});
  const cpu = cpuBetween(before, after);
  const others = otherLoad(m0, machineSample(), cpu.utilisation + run.loadgenCpu);
  const gc = { server: await server.api.pausesStop({}), loadgen: await ctx.loadgen.api.pausesStop({}) };
  return {
    kind,
    run,
    others,
    gc,
    server: { cpuMs: cpu.cpuMs, wallMs: after.wallMs - before.wallMs, records: after.recordsOut - before.recordsOut },
  };
}

/** One side's windows as one: rates over the measured seconds of all of them. */
function combine(rounds: Round[]): FanoutSide['saturate'] {
  const sum = (pick: (r: Round) => number) => rounds.reduce((total, r) => total + pick(r), 0);
  const seconds = sum((r) => r.run.measuredSeconds);
  const weighted = (pick: (r: Round) => number) => sum((r) => pick(r) * r.run.measuredSeconds) / seconds;
  const delivered = sum((r) => r.run.delivered);
  return {
    window: rounds[0]!.run.window,
    recipients: rounds[0]!.run.recipients,
    sent: sum((r) => r.run.sent),
    expected: sum((r) => r.run.expected),
    delivered,
    drained: rounds.every((r) => r.run.drained),
    deliveriesPerSec: Math.round(sum((r) => r.run.measuredDeliveries) / seconds),
    messagesPerSec: Math.round(weighted((r) => r.run.messagesPerSec)),
    rounds: rounds.map((r) => r.run.deliveriesPerSec),
    loadgenCpu: round(
      weighted((r) => r.run.loadgenCpu),
      3,
    ),
    serverCpu: round(sum((r) => r.server.cpuMs) / sum((r) => r.server.wallMs), 3),
    deliveriesPerRecord: round(
      delivered /
        Math.max(
          1,
          sum((r) => r.server.records),
        ),
      1,
    ),
    otherLoad: round(
      weighted((r) => r.others),
      2,
    ),
    problems: [...new Set(rounds.flatMap((r) => r.run.problems))],
    gc: { server: gcRate(rounds, (r) => r.gc.server), loadgen: gcRate(rounds, (r) => r.gc.loadgen) },
  };
}

function gcRate(rounds: Round[], pick: (r: Round) => Pauses | null): GcRate {
  const seconds = rounds.reduce((total, r) => total + r.server.wallMs, 0) / 1000;
  const sum = (of: (p: Pauses) => number) =>
    rounds.reduce((total, r) => {
      const pauses = pick(r);
      return total + (pauses ? of(pauses) : 0);
    }, 0);
  return { fullPerSec: round(sum((p) => p.gcMajorCount) / seconds, 1), msPerSec: round(sum((p) => p.gcTotalMs) / seconds, 1) };
}

/**
 * The fixed-rate phase of one side, on a fresh server (see fixedBurstMs in profiles.ts): both
 * processes collect the room setup's garbage, a closed-loop burst gets the message path optimized,
 * the fixed rate runs unmeasured for a while, then the measured run. No full collection is forced
 * after the burst: V8 deoptimizes code that embeds objects a full collection frees ("weak
 * objects"), and the measured run would sample the message path being optimized again.
 */
async function fixedPhase(ctx: BenchContext, server: ServerPeer, kind: Kind, n: number): Promise<FanoutSide['fixed']> {
  const f = ctx.profile.fanout;
  const check = <R extends { sent: number; delivered: number; expected: number; problems: string[] }>(what: string, run: R): R => {
    if (run.delivered < run.expected)
      throw new Error(`fan-out N=${n}: ${SIDE_NAMES[kind]} lost messages in the ${what} (${run.problems.join(', ')})`);
    return run;
  };
  const atRate = (durationMs: number) =>
    ctx.loadgen.api.fanoutFixed({
      kind,
      durationMs,
      textSize: f.textSize,
      tickMs: 5,
      observers: Math.min(n, f.observers),
      drainMs: 10_000,
    });
  ctx.log(`fan-out N=${n}: fixed rate, ${SIDE_NAMES[kind]}`);
  await Promise.all([server.api.collect({}), ctx.loadgen.api.collect({})]);
  const burst = check(
    'warm-up burst',
    await ctx.loadgen.api.fanoutSaturate({
      kind,
      window: 1,
      warmupMs: 0,
      measureMs: f.fixedBurstMs,
      textSize: f.textSize,
      drainMs: 10_000,
    }),
  );
  const rate = check('fixed-rate warm-up', await atRate(f.fixedWarmupMs));
  await Promise.all([server.api.pausesStart({}), ctx.loadgen.api.pausesStart({})]);
  const run = await profiled(ctx, server, `fanout-${kind}-n${n}-fixed-rate`, () => atRate(fixedDurationMs(f, n)));
  return {
    ...run,
    warmup: { burstSent: burst.sent, rateSent: rate.sent },
    serverPauses: await server.api.pausesStop({}),
    loadgenPauses: await ctx.loadgen.api.pausesStop({}),
  };
}

/** The fixed-rate phase's length at N clients (1 message/s each): fixedMs, or longer for fixedMinMessages. */
export function fixedDurationMs(f: { fixedMs: number; fixedMinMessages: number }, n: number): number {
  return Math.max(f.fixedMs, Math.ceil(f.fixedMinMessages / n) * 1000);
}
