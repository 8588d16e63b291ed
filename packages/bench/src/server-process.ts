// Entry of the server-under-test process: either Hush (through @hush/server's startTestServer) or
// the raw ceiling. The orchestrator samples its CPU and RSS over IPC, and fills its store directly.
import { hashPassword } from '@hush/crypto';
import { bundleToWire } from '@hush/protocol';
import type { CheckpointStats, HushdConfig, TestServer } from '@hush/server';
import { benchDevice, BENCH_PASSWORD, BENCH_ROOMS } from './devices.js';
import { serveIpc } from './ipc.js';
import { startRawServer, type RawServer } from './raw-server.js';
import { collectGarbage, diagnosticHandlers } from './diagnostics.js';
import { percentile, round } from './stats.js';
import { processUsage } from './target.js';

/** Scrypt cost used by the benchmark's Hush server (registering hundreds of users at 2^17 would take minutes). */
export const BENCH_SCRYPT_N = 2 ** 12;

/** Limits raised so flood control and slow-reader protection never throttle the benchmark. */
export function benchLimits(defaults: HushdConfig['limits']): HushdConfig['limits'] {
  return {
    ...defaults,
    handshakeTimeoutMs: 120_000,
    authTimeoutMs: 600_000,
    idleTimeoutMs: 3_600_000,
    heartbeatMs: 1_800_000,
    // The most a server may announce in welcome.limits (the protocol's bound): never reached here.
    messagesPerSecond: 1_000_000,
    messageBurst: 1_000_000,
    bytesPerSecond: 1024 ** 3,
    byteBurst: 1024 ** 3,
    maxConnectionsPerAddress: 100_000,
    maxConnections: 100_000,
    maxQueueBytes: 512 * 1024 ** 2,
  };
}

export interface StartOptions {
  mode: 'hush' | 'raw';
  /** raw: deliver to the sender too. */
  echo?: boolean;
  /** hush: scrypt cost (default BENCH_SCRYPT_N). */
  scryptN?: number;
  /** hush: the data directory (its identity.key is the node's identity); a temporary one when absent. */
  dataDir?: string;
  /** hush: a PostgreSQL URL (default: SQLite in the data directory). */
  store?: string;
  /** hush: NATS URLs of the bus between nodes (default: one node alone). */
  bus?: string[];
  /** hush: create the bench rooms (default true; a cluster's other nodes find them in the shared store). */
  createRooms?: boolean;
}

let hush: TestServer | null = null;
let raw: RawServer | null = null;

async function start(o: StartOptions) {
  await stop({});
  if (o.mode === 'raw') {
    raw = await startRawServer({ host: '127.0.0.1', port: 0, echo: o.echo ?? true });
    return { host: '127.0.0.1', port: raw.port, scryptN: 0 };
  }
  const scryptN = o.scryptN ?? BENCH_SCRYPT_N;
  // Loaded here so that the raw ceiling runs even while the server package is not built.
  const { DEFAULT_CONFIG, startTestServer } = await import('@hush/server');
  hush = await startTestServer({
    host: '127.0.0.1',
    port: 0,
    scryptN,
    logLevel: 'silent',
    limits: benchLimits(DEFAULT_CONFIG.limits),
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.store !== undefined ? { store: o.store } : {}),
    ...(o.bus !== undefined ? { bus: o.bus } : {}),
  });
  if (o.createRooms ?? true) {
    for (const kind of ['e2e', 'open'] as const) {
      if (!(await hush.db.getRoom(BENCH_ROOMS[kind]))) await hush.db.createRoom(BENCH_ROOMS[kind], '', null, Date.now(), kind);
    }
  }
  return { host: hush.host, port: hush.port, scryptN };
}

async function stop(_: Record<string, never>) {
  if (hush) await hush.stop();
  if (raw) await raw.close();
  hush = null;
  raw = null;
  return true;
}

function requireHush(): TestServer {
  if (!hush) throw new Error('no Hush server running');
  return hush;
}

/**
 * Accounts written straight into the store as returning users have them: a password hash, a pool
 * device, and membership of the default room (where their first login put them).
 */
async function seedUsers(o: { names: string[]; devicePoolSize: number }) {
  const { store, config } = requireHush();
  const hash = await hashPassword(BENCH_PASSWORD, { N: BENCH_SCRYPT_N });
  const bundles = Array.from({ length: Math.min(o.devicePoolSize, o.names.length) }, (_, i) => bundleToWire(benchDevice(i).bundle()));
  const now = Date.now();
  const t0 = performance.now();
  o.names.forEach((name, i) => {
    if (!store.getUser(name)) store.createUser(name, hash, 'user', now);
    store.upsertDevice({ user: name, ...bundles[i % bundles.length]! }, now);
    if (!store.getMember(config.defaultRoom, name)) store.addMember(config.defaultRoom, name, 'member');
  });
  return { seeded: o.names.length, elapsedMs: performance.now() - t0 };
}

const fillText = (i: number) => `history filler message ${i} `.padEnd(64, '.');

/** Appends `count` room messages through the Store API in transactions of `batch`. */
function fill(o: { count: number; batch: number; room: string; from: string }) {
  const store = requireHush().store;
  const t0 = performance.now();
  let lastId = '0';
  for (let done = 0; done < o.count; ) {
    const size = Math.min(o.batch, o.count - done);
    const now = Date.now();
    const rows = Array.from({ length: size }, (_, k) => ({
      kind: 'room' as const,
      ts: now,
      from: o.from,
      room: o.room,
      text: fillText(done + k),
      action: false,
    }));
    const stored = store.appendMessages(rows);
    lastId = stored[stored.length - 1]?.id ?? lastId;
    done += size;
  }
  const elapsedMs = performance.now() - t0;
  return { count: o.count, batch: o.batch, elapsedMs, perSecond: Math.round((o.count * 1000) / elapsedMs), lastId };
}

/** Store-level page reads at random points (the network path is measured by the load generator). */
function storeHistory(o: { pages: number; limit: number; room: string; maxId: number }) {
  const store = requireHush().store;
  const latencies: number[] = [];
  let returned = 0;
  for (let p = 0; p < o.pages; p++) {
    const before = String(o.limit + 1 + Math.floor(Math.random() * Math.max(1, o.maxId - o.limit)));
    const t = performance.now();
    returned += store.history({ room: o.room }, { before, limit: o.limit }).messages.length;
    latencies.push(performance.now() - t);
  }
  return { pages: o.pages, returned, p50Ms: round(percentile(latencies, 50), 3), p99Ms: round(percentile(latencies, 99), 3) };
}

function usage(_: Record<string, never>) {
  return {
    ...processUsage(),
    connections: hush ? hush.server.connectionCount : raw ? raw.connectionCount : 0,
    /** Records (Hush) or frames (raw) written to clients so far. */
    recordsOut: hush ? hush.server.metrics.get('hush_records_out_total') : raw ? raw.framesOut : 0,
    /** Hush on SQLite: WAL checkpoints by its worker thread (catch-ups while the store's calls were held), and on the event loop. */
    checkpoints:
      hush && hush.config.store === null && 'checkpointStats' in hush.store
        ? (hush.store as { checkpointStats: CheckpointStats }).checkpointStats
        : null,
  };
}

/**
 * RSS as an idle server holds it: `idleMs` without traffic first (V8 shrinks its young generation
 * only once the allocation rate has fallen, as on any idle server; it watches a window of seconds),
 * then full collections, so RSS reflects live memory (the process runs with --expose-gc).
 */
async function settle(o: { idleMs: number }) {
  await new Promise((r) => setTimeout(r, o.idleMs));
  await collectGarbage();
  return usage({});
}

export const serverHandlers = {
  start,
  stop,
  seedUsers,
  fill,
  storeHistory,
  usage,
  settle,
  ...diagnosticHandlers,
  exit: async (_: Record<string, never>) => {
    await stop({});
    setImmediate(() => process.exit(0));
    return true;
  },
};
export type ServerHandlers = typeof serverHandlers;

if (process.send) serveIpc(serverHandlers);
