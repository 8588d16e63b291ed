import { withServer, type BenchContext } from '../context.js';
import { benchUsername } from '../devices.js';
import { round } from '../stats.js';

export interface MemoryStep {
  connections: number;
  users: number;
  reached: number;
  /** Server RSS before anyone connected (cold) and after the warm-up round had logged in and left (the baseline). */
  rssCold: number;
  rssBefore: number;
  rssAfter: number;
  bytesPerConnection: number;
  /** RSS added since the previous step per connection added (NaN for the first). */
  marginalPerConnection: number;
  /** Growth of the V8 heap's reservation (young generation included) since the baseline. */
  heapReservedGrowth: number;
  /** JS heap and external (Buffer) memory per connection: where the RSS goes. */
  heapPerConnection: number;
  externalPerConnection: number;
  openMs: number;
  stopReason: string | null;
  failures: string[];
}

/**
 * Server RSS with idle logged-in connections. Steps are cumulative (1,000 then 10,000 in total);
 * per connection = (RSS after - baseline) / connections reached, every RSS read on an idle server
 * after full collections. Accounts are seeded into the store as returning users (device known,
 * member of the default room); each connection is a different account logging in with its device
 * key. The baseline is the server after a warm-up round (other accounts that logged in and left):
 * what a cold server grows once on its first logins (compiled code, allocator arenas) is reported
 * as the cold-start figure, not charged to the connections. The marginal figure is the RSS added
 * between steps per connection added.
 */
export async function runMemory(ctx: BenchContext): Promise<MemoryStep[]> {
  const m = ctx.profile.memory;
  const pool = ctx.profile.devicePoolSize;
  const maxUsers = Math.max(...m.steps.map((s) => s.users));
  return withServer(ctx, { mode: 'hush' }, async (server, target) => {
    const settle = () => server.api.settle({ idleMs: m.idleMs });
    const names = Array.from({ length: maxUsers }, (_, i) => benchUsername('id', i));
    const warmNames = Array.from({ length: m.warmup }, (_, i) => benchUsername('wu', i));
    await server.api.seedUsers({ names: [...names, ...warmNames], devicePoolSize: pool });
    const cold = await settle();
    if (m.warmup > 0) {
      ctx.log(`memory: warm-up, ${m.warmup} logins that leave again`);
      const idle = { target, devicePoolSize: pool, concurrency: m.concurrency, timeLimitMs: m.timeLimitMs };
      await ctx.loadgen.api.idleOpen({ ...idle, names: warmNames, count: m.warmup });
      await ctx.loadgen.api.idleClose({});
      await waitFor(async () => (await server.api.usage({})).connections === 0, m.timeLimitMs);
    }
    const base = await settle();
    const steps: MemoryStep[] = [];
    let open = 0;
    let previous: { rss: number; connections: number } | null = null;
    for (const step of m.steps) {
      ctx.log(`memory: ${step.connections} idle connections (${step.users} accounts)`);
      const r = await ctx.loadgen.api.idleOpen({
        target,
        names: names.slice(0, step.users),
        devicePoolSize: pool,
        count: step.connections - open,
        concurrency: m.concurrency,
        timeLimitMs: m.timeLimitMs,
      });
      open = r.open;
      const after = await settle();
      const reached = after.connections;
      steps.push({
        connections: step.connections,
        users: step.users,
        reached,
        rssCold: cold.rss,
        rssBefore: base.rss,
        rssAfter: after.rss,
        bytesPerConnection: reached > 0 ? Math.round((after.rss - base.rss) / reached) : Number.NaN,
        marginalPerConnection:
          previous && reached > previous.connections
            ? Math.round((after.rss - previous.rss) / (reached - previous.connections))
            : Number.NaN,
        heapReservedGrowth: after.heapTotal - base.heapTotal,
        heapPerConnection: reached > 0 ? Math.round((after.heapUsed - base.heapUsed) / reached) : Number.NaN,
        externalPerConnection: reached > 0 ? Math.round((after.external - base.external) / reached) : Number.NaN,
        openMs: round(r.elapsedMs, 0),
        stopReason: r.stopReason,
        failures: r.failures,
      });
      previous = { rss: after.rss, connections: reached };
      if (r.stopReason) break;
    }
    await ctx.loadgen.api.idleClose({});
    return steps;
  });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`memory: the server still had connections after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
