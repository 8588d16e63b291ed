import { withServer, type BenchContext } from '../context.js';
import { benchUsername } from '../devices.js';

export interface HistoryResult {
  rows: number;
  bulk: { batch: number; perSecond: number; elapsedMs: number };
  single: { count: number; perSecond: number };
  storePage: { p50Ms: number; p99Ms: number; returned: number; pages: number };
  networkPage: { p50Ms: number; p99Ms: number; returned: number; pages: number };
}

/**
 * Fills the store with `rows` room messages through the Store API (transactions of `batch`), then
 * measures one-message appends at that size, and pages of 100 read from the store and over the network.
 */
export async function runHistory(ctx: BenchContext): Promise<HistoryResult> {
  const h = ctx.profile.history;
  return withServer(ctx, { mode: 'hush' }, async (server, target) => {
    const reader = benchUsername('hi', 0);
    await server.api.seedUsers({ names: [reader], devicePoolSize: 1 });
    ctx.log(`history: filling ${h.rows} messages`);
    const bulk = await server.api.fill({ count: h.rows, batch: h.batch, room: 'lobby', from: reader });
    const single = await server.api.fill({ count: h.singleAppends, batch: 1, room: 'lobby', from: reader });
    const maxId = Number(single.lastId);
    const storePage = await server.api.storeHistory({ pages: h.pages, limit: 100, room: 'lobby', maxId });
    const networkPage = await ctx.loadgen.api.historyFetch({ target, name: reader, devicePoolSize: 1, pages: h.pages, limit: 100, maxId });
    return {
      rows: h.rows + h.singleAppends,
      bulk: { batch: bulk.batch, perSecond: bulk.perSecond, elapsedMs: Math.round(bulk.elapsedMs) },
      single: { count: single.count, perSecond: single.perSecond },
      storePage,
      networkPage,
    };
  });
}
