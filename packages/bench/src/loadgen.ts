import { DeviceIdentity } from '@hush/crypto';
import { stampedText } from './deliveries.js';
import { BENCH_PASSWORD, BENCH_ROOMS, benchUsername, devicePool, type BenchRoomKind } from './devices.js';
import { forgetSealedStamps, HushLoadClient } from './hush-client.js';
import { IrcLoadClient } from './irc-client.js';
import { IRC_OPER } from './irc-peers.js';
import type { LoadClient } from './load-client.js';
import { RawLoadClient } from './raw-client.js';
import { delay, percentile, round, waitFor } from './stats.js';
import { cpuBetween, portFor, processUsage, type Target } from './target.js';

// The load generator's work, run inside its own process (see loadgen-process.ts). Every phase is
// bounded in time; counts are exact (each client counts what it received).

const LOBBY = 'lobby';

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once; stops early when `stop()`. */
export async function runPool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count && !stop()) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.message === 'string') return e.message;
  }
  return String(error);
}

let pool: DeviceIdentity[] = [];
function devices(size: number): DeviceIdentity[] {
  if (pool.length < size) pool = devicePool(size);
  return pool;
}

// ------------------------------------------------------------------------------------------------
// Room fan-out

export interface FanoutSetup {
  target: Target;
  n: number;
  prefix: string;
  devicePoolSize: number;
  concurrency: number;
  /** Hush: the kind of room the clients join and send to (its members' messages are sender-key envelopes when e2e). */
  room: BenchRoomKind;
  /** Hush e2e: the size of the filler texts sealed ahead for the saturation loop. */
  textSize: number;
}
export interface FanoutFixedOptions {
  kind: Target['kind'];
  durationMs: number;
  textSize: number;
  tickMs: number;
  observers: number;
  drainMs: number;
}
export interface FanoutSaturateOptions {
  kind: Target['kind'];
  window: number;
  warmupMs: number;
  measureMs: number;
  textSize: number;
  drainMs: number;
}

/** One side's room: its clients, whether its server echoes senders' messages, and whether the
 * fixed-rate phase has made its clients drop what they receive (nothing can be counted after it). */
interface FanSet {
  clients: LoadClient[];
  echo: boolean;
  discarding: boolean;
}

/** The room of each side; both may be connected at once, so their saturation windows can alternate. */
const fanSets = new Map<Target['kind'], FanSet>();

function fanSet(kind: Target['kind']): FanSet {
  const set = fanSets.get(kind);
  if (!set) throw new Error(`fan-out: no ${kind} room set up`);
  return set;
}

function totals(clients: readonly LoadClient[]): { messages: number; acks: number } {
  let messages = 0;
  let acks = 0;
  for (const c of clients) {
    messages += c.counts.messages;
    acks += c.counts.acks;
  }
  return { messages, acks };
}

function problems(clients: readonly LoadClient[]): string[] {
  const all = new Map<string, number>();
  for (const c of clients) for (const p of c.problems) all.set(p, (all.get(p) ?? 0) + 1);
  return [...all].map(([p, n]) => `${p} x${n}`);
}

async function quiet(clients: readonly LoadClient[], quietMs: number, timeoutMs: number): Promise<void> {
  const seen = () =>
    clients.reduce(
      (sum, c) =>
        sum +
        c.counts.messages +
        c.counts.acks +
        ((c as HushLoadClient).events ? [...(c as HushLoadClient).events.values()].reduce((a, b) => a + b, 0) : 0),
      0,
    );
  const end = Date.now() + timeoutMs;
  let last = seen();
  let lastChange = Date.now();
  while (Date.now() < end && Date.now() - lastChange < quietMs) {
    await delay(25);
    const now = seen();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    }
  }
}

export async function fanoutSetup(o: FanoutSetup): Promise<{ setupMs: number; echo: boolean; connected: number }> {
  await fanoutClose({ kind: o.target.kind });
  const started = performance.now();
  const clients: LoadClient[] = new Array(o.n);
  const pool = o.target.kind === 'hush' ? devices(o.devicePoolSize) : [];
  await runPool(o.n, o.concurrency, async (i) => {
    const name = benchUsername(o.prefix, i);
    if (o.target.kind === 'raw') {
      clients[i] = await RawLoadClient.connect(o.target.host, o.target.port, name);
      return;
    }
    if (o.target.kind === 'inspircd' || o.target.kind === 'ngircd') {
      clients[i] = await IrcLoadClient.connect(o.target.host, o.target.port, name, o.target.kind === 'ngircd' ? IRC_OPER : undefined);
      return;
    }
    const c = await HushLoadClient.connect({ host: o.target.host, port: portFor(o.target, i) });
    await c.register(name, BENCH_PASSWORD, pool[i % pool.length]!);
    await c.joinRoom(BENCH_ROOMS[o.room], o.room === 'e2e', o.textSize);
    clients[i] = c;
  });
  await quiet(clients, 300, 30_000);
  // Are a client's own messages counted as deliveries? Never for Hush (it echoes them in server
  // order; deliveries.ts leaves them out); raw relays to the sender only if so, so counts compare.
  const first = clients[0]!;
  const last = clients[clients.length - 1]!;
  const before = { first: first.counts.messages, last: last.counts.messages };
  first.sendTexts(['probe']);
  const arrived = await waitFor(() => last.counts.messages > before.last && first.counts.acks > 0, 10_000);
  if (!arrived) throw new Error(`fan-out probe not delivered (${problems(clients).join(', ')})`);
  await quiet(clients, 200, 5_000);
  const echo = first.counts.messages > before.first;
  fanSets.set(o.target.kind, { clients, echo, discarding: false });
  return { setupMs: performance.now() - started, echo, connected: clients.length };
}

/**
 * The fixed-rate (latency) phase; the last one on these connections. Only the observers process
 * what they receive (open, count, read stamps): every other client, Hush or raw alike, reads its
 * socket and drops the bytes (`discardIncoming`), so that the load generator's own receive work
 * for N - observers clients does not queue in front of the observers' samples. The socket is still
 * read at full speed: the server sees no slow reader. Counts are therefore checked at the observers.
 */
export async function fanoutFixed(o: FanoutFixedOptions) {
  const set = fanSet(o.kind);
  const clients = set.clients;
  const n = clients.length;
  const observers = clients.slice(0, Math.min(o.observers, n));
  await quiet(clients, 200, 5_000); // whatever the previous phase left in flight is counted first
  for (const [i, c] of clients.entries()) {
    c.observer = i < observers.length;
    c.latencies.length = 0;
    c.onPayload = null;
    if (!c.observer) c.discardIncoming();
  }
  set.discarding = true;
  const base = totals(observers);
  const cpu0 = processUsage();
  const start = performance.now();
  const end = start + o.durationMs;
  // Each client sends once a second; their offsets are spread evenly over the second.
  const nextAt = clients.map((_, i) => start + (i * 1000) / n);
  const sentBy = new Array<number>(n).fill(0);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= end) {
        clearInterval(timer);
        resolve();
        return;
      }
      for (let i = 0; i < n; i++) {
        if (nextAt[i]! <= now) {
          clients[i]!.sendTexts([stampedText(performance.now(), o.textSize)]);
          nextAt[i]! += 1000;
          sentBy[i]!++;
          sent++;
        }
      }
    }, o.tickMs);
  });
  // What the observers must receive: everyone's messages (their own too if the server echoes them
  // and they are counted), and an ack for each of their own.
  const observerSent = observers.reduce((sum, _, i) => sum + sentBy[i]!, 0);
  const expected = observers.length * sent - (set.echo ? 0 : observerSent);
  await waitFor(() => {
    const t = totals(observers);
    return t.messages - base.messages >= expected && t.acks - base.acks >= observerSent;
  }, o.drainMs);
  const cpu1 = processUsage();
  const after = totals(observers);
  const latencies = observers.flatMap((c) => c.latencies);
  for (const c of clients) c.observer = false;
  return {
    sent,
    observers: observers.length,
    observerSent,
    expected,
    delivered: after.messages - base.messages,
    acks: after.acks - base.acks,
    discardedBytes: clients.reduce((sum, c) => sum + c.discardedBytes, 0),
    samples: latencies.length,
    p50Ms: round(percentile(latencies, 50), 3),
    p99Ms: round(percentile(latencies, 99), 3),
    maxMs: round(percentile(latencies, 100), 3),
    loadgenCpu: round(cpuBetween(cpu0, cpu1).utilisation, 3),
    problems: problems(clients),
  };
}

/**
 * One saturation window on `kind`'s room: a closed loop from nothing in flight, a warm-up, the
 * measured window, then a drain until every message and ack has arrived, so that windows of the
 * two sides can alternate on one machine (what drifts on a shared machine drifts for both).
 */
export async function fanoutSaturate(o: FanoutSaturateOptions) {
  const set = fanSet(o.kind);
  if (set.discarding)
    throw new Error('fan-out: the saturation phase must run before the fixed-rate phase (clients drop what they receive)');
  const clients = set.clients;
  const n = clients.length;
  const recipients = set.echo ? n : n - 1;
  const text = 'x'.repeat(o.textSize);
  const base = totals(clients);
  const sentBy = new Array<number>(n).fill(0);
  const ackBase = clients.map((c) => c.counts.acks);
  let sending = true;
  let sent = 0;
  const refill = (i: number) => {
    if (!sending) return;
    const c = clients[i]!;
    const inFlight = sentBy[i]! - (c.counts.acks - ackBase[i]!);
    const room = o.window - inFlight;
    if (room <= 0) return;
    c.sendTexts(new Array<string>(room).fill(text));
    sentBy[i]! += room;
    sent += room;
  };
  clients.forEach((c, i) => (c.onPayload = () => refill(i)));
  clients.forEach((_, i) => refill(i));
  await delay(o.warmupMs);
  const m0 = totals(clients);
  const cpu0 = processUsage();
  await delay(o.measureMs);
  const m1 = totals(clients);
  const cpu1 = processUsage();
  sending = false;
  for (const c of clients) c.onPayload = null;
  const expected = sent * recipients;
  const drained = await waitFor(() => {
    const t = totals(clients);
    return t.messages - base.messages >= expected && t.acks - base.acks >= sent;
  }, o.drainMs);
  const after = totals(clients);
  const seconds = (cpu1.wallMs - cpu0.wallMs) / 1000;
  return {
    window: o.window,
    recipients,
    sent,
    expected,
    delivered: after.messages - base.messages,
    drained,
    measuredDeliveries: m1.messages - m0.messages,
    measuredSeconds: seconds,
    deliveriesPerSec: Math.round((m1.messages - m0.messages) / seconds),
    messagesPerSec: Math.round((m1.acks - m0.acks) / seconds),
    loadgenCpu: round(cpuBetween(cpu0, cpu1).utilisation, 3),
    problems: problems(clients),
  };
}

/** Closes `kind`'s room, or every room. */
export async function fanoutClose(o: { kind?: Target['kind'] } = {}): Promise<void> {
  for (const [kind, set] of fanSets) {
    if (o.kind !== undefined && kind !== o.kind) continue;
    for (const c of set.clients) c.close();
    fanSets.delete(kind);
  }
  if (fanSets.size === 0) forgetSealedStamps();
}

// ------------------------------------------------------------------------------------------------
// Accounts and handshakes

export interface RegisterOptions {
  target: Target;
  names: string[];
  devicePoolSize: number;
  concurrency: number;
  password?: string;
}

/** Registers accounts over the network (each bound to a pool device), then disconnects. */
export async function registerUsers(o: RegisterOptions): Promise<{ registered: number; elapsedMs: number; failures: string[] }> {
  const pool = devices(o.devicePoolSize);
  const failures: string[] = [];
  let registered = 0;
  const started = performance.now();
  await runPool(o.names.length, o.concurrency, async (i) => {
    let c: HushLoadClient | undefined;
    try {
      c = await HushLoadClient.connect({ host: o.target.host, port: o.target.port });
      await c.register(o.names[i]!, o.password ?? BENCH_PASSWORD, pool[i % pool.length]!);
      registered++;
    } catch (error) {
      failures.push(errorCode(error));
    } finally {
      c?.close();
    }
  });
  return { registered, elapsedMs: performance.now() - started, failures: failures.slice(0, 5) };
}

export interface HandshakeOptions {
  target: Target;
  mode: 'handshake' | 'device_login';
  durationMs: number;
  /** Stop after this many (smoke test), whatever the duration. */
  maxCount?: number;
  concurrency: number;
  /** device_login: these accounts, whose devices are pool[i % poolSize]. */
  names?: string[];
  devicePoolSize: number;
}

/** Connect + handshake (+ device login), then disconnect, as many times as fit in `durationMs`. */
export async function handshakes(o: HandshakeOptions) {
  const pool = o.mode === 'device_login' ? devices(o.devicePoolSize) : [];
  const names = o.names ?? [];
  const failures: string[] = [];
  let completed = 0;
  let started = 0;
  const cpu0 = processUsage();
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  const limit = o.maxCount ?? Number.POSITIVE_INFINITY;
  const worker = async () => {
    while (performance.now() < end && started < limit) {
      const k = started++;
      let c: HushLoadClient | undefined;
      try {
        c = await HushLoadClient.connect({ host: o.target.host, port: o.target.port });
        if (o.mode === 'handshake') await c.ping();
        else {
          const i = k % names.length;
          await c.deviceLogin(names[i]!, pool[i % pool.length]!);
        }
        completed++;
      } catch (error) {
        failures.push(errorCode(error));
      } finally {
        c?.close();
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  const loadgenCpu = round(cpuBetween(cpu0, processUsage()).utilisation, 3);
  return {
    completed,
    failed: failures.length,
    elapsedMs,
    perSecond: round((completed * 1000) / elapsedMs, 1),
    loadgenCpu,
    failures: [...new Set(failures)].slice(0, 5),
  };
}

export interface PasswordLoginOptions {
  target: Target;
  names: string[];
  concurrency: number;
  password?: string;
}

/** First login of a new device with the password (scrypt on the server): only the login is timed. */
export async function passwordLogins(o: PasswordLoginOptions) {
  const conns = await Promise.all(o.names.map(() => HushLoadClient.connect({ host: o.target.host, port: o.target.port })));
  const fresh = o.names.map(() => DeviceIdentity.generate());
  const failures: string[] = [];
  let completed = 0;
  const t0 = performance.now();
  await runPool(o.names.length, o.concurrency, async (i) => {
    try {
      await conns[i]!.login(o.names[i]!, o.password ?? BENCH_PASSWORD, fresh[i]!);
      completed++;
    } catch (error) {
      failures.push(errorCode(error));
    }
  });
  const elapsedMs = performance.now() - t0;
  for (const c of conns) c.close();
  return { completed, elapsedMs, perSecond: round((completed * 1000) / elapsedMs, 2), failures: [...new Set(failures)].slice(0, 5) };
}

// ------------------------------------------------------------------------------------------------
// Idle connections

let idle: HushLoadClient[] = [];

export interface IdleOptions {
  target: Target;
  names: string[];
  devicePoolSize: number;
  count: number;
  concurrency: number;
  timeLimitMs: number;
}

/** Opens `count` more logged-in connections (device login as names[i % names.length]) and keeps them. */
export async function idleOpen(o: IdleOptions) {
  const pool = devices(o.devicePoolSize);
  const failures: string[] = [];
  const t0 = performance.now();
  const deadline = t0 + o.timeLimitMs;
  let opened = 0;
  let stopReason: string | null = null;
  const offset = idle.length;
  await runPool(
    o.count,
    o.concurrency,
    async (k) => {
      const i = (offset + k) % o.names.length;
      let c: HushLoadClient | undefined;
      try {
        c = await HushLoadClient.connect({ host: o.target.host, port: o.target.port }, LOBBY);
        await c.deviceLogin(o.names[i]!, pool[i % pool.length]!);
        idle.push(c);
        opened++;
      } catch (error) {
        c?.close();
        const code = errorCode(error);
        failures.push(code);
        if (code === 'EMFILE' || code === 'EADDRNOTAVAIL' || code === 'ENFILE' || failures.length > 50) stopReason = code;
      }
      if (performance.now() > deadline) stopReason ??= `time limit ${o.timeLimitMs} ms`;
    },
    () => stopReason !== null,
  );
  // Let the login announcements (presence, joins) finish arriving before memory is sampled.
  await quiet(idle, 500, 60_000);
  const alive = idle.filter((c) => !c.isClosed).length;
  return { opened, open: alive, elapsedMs: performance.now() - t0, stopReason, failures: [...new Set(failures)].slice(0, 5) };
}

export async function idleClose(): Promise<void> {
  for (const c of idle) c.close();
  idle = [];
}

// ------------------------------------------------------------------------------------------------
// History

export interface HistoryFetchOptions {
  target: Target;
  name: string;
  devicePoolSize: number;
  pages: number;
  limit: number;
  maxId: number;
}

/** Pages of `limit` messages fetched over the network at random points of a large history. */
export async function historyFetch(o: HistoryFetchOptions) {
  const pool = devices(o.devicePoolSize);
  const c = await HushLoadClient.connect({ host: o.target.host, port: o.target.port });
  try {
    await c.deviceLogin(o.name, pool[0]!);
    const latencies: number[] = [];
    let returned = 0;
    for (let p = 0; p < o.pages; p++) {
      // The first page is the newest (no cursor), then random points back in time.
      const before = p === 0 ? undefined : String(o.limit + 1 + Math.floor(Math.random() * Math.max(1, o.maxId - o.limit)));
      const t = performance.now();
      const page = await c.request<'history_page'>({
        type: 'history',
        target: { room: LOBBY },
        limit: o.limit,
        ...(before !== undefined ? { before } : {}),
      });
      latencies.push(performance.now() - t);
      returned += page.messages.length;
    }
    return {
      pages: o.pages,
      returned,
      p50Ms: round(percentile(latencies, 50), 3),
      p99Ms: round(percentile(latencies, 99), 3),
    };
  } finally {
    c.close();
  }
}
