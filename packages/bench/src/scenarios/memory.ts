import { withServer, type BenchContext } from '../context.js';
import { benchUsername } from '../devices.js';
import { round } from '../stats.js';

export interface MemoryStep {
  connections: number;
  users: number;
  reached: number;
  rssBefore: number;
  rssAfter: number;
  bytesPerConnection: number;
  /** RSS added since the previous step per connection added (NaN for the first): the cost without the one-time growth. */
  marginalPerConnection: number;
  /** Growth of the V8 heap's reservation (young generation growth included) since before the first step. */
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
 * RSS is read after full collections, and per connection = (after - before) / connections reached.
 * Accounts are seeded into the store as returning users (device known, member of the default
 * room); each connection is a different account logging in with its device key. The marginal
 * figure (RSS added between steps per connection added) leaves out what the first step grows once
 * (the V8 young generation, allocator high-water marks, SQLite's page cache, compiled code).
 */
export async function runMemory(ctx: BenchContext): Promise<MemoryStep[]> {
  const m = ctx.profile.memory;
  const pool = ctx.profile.devicePoolSize;
  const maxUsers = Math.max(...m.steps.map((s) => s.users));
  return withServer(ctx, { mode: 'hush' }, async (server, target) => {
    const names = Array.from({ length: maxUsers }, (_, i) => benchUsername('id', i));
    await server.api.seedUsers({ names, devicePoolSize: pool });
    const base = await server.api.settle({});
    const steps: MemoryStep[] = [];
    let open = 0;
    let previous: { rss: number; connections: number } | null = null;
    for (const step of m.steps) {
      ctx.log(`memory: ${step.connections} idle connections (${step.users} accounts)`);
      const r = await ctx.loadgen.api.idleOpen({
        target, names: names.slice(0, step.users), devicePoolSize: pool, count: step.connections - open,
        concurrency: m.concurrency, timeLimitMs: m.timeLimitMs,
      });
      open = r.open + 0;
      const after = await server.api.settle({});
      const reached = after.connections;
      steps.push({
        connections: step.connections, users: step.users, reached, rssBefore: base.rss, rssAfter: after.rss,
        bytesPerConnection: reached > 0 ? Math.round((after.rss - base.rss) / reached) : Number.NaN,
        marginalPerConnection: previous && reached > previous.connections
          ? Math.round((after.rss - previous.rss) / (reached - previous.connections)) : Number.NaN,
        heapReservedGrowth: after.heapTotal - base.heapTotal,
        heapPerConnection: reached > 0 ? Math.round((after.heapUsed - base.heapUsed) / reached) : Number.NaN,
        externalPerConnection: reached > 0 ? Math.round((after.external - base.external) / reached) : Number.NaN,
        openMs: round(r.elapsedMs, 0), stopReason: r.stopReason, failures: r.failures,
      });
      previous = { rss: after.rss, connections: reached };
      if (r.stopReason) break;
    }
    await ctx.loadgen.api.idleClose({});
    return steps;
  });
}
