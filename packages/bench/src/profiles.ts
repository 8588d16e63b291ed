// Sizes of each run: the full benchmark (about 12 minutes), --quick, and the smoke test's tiny version.

export interface BenchProfile {
  name: 'full' | 'quick' | 'smoke';
  /**
   * fixedMs: the fixed-rate phase's length, made longer where needed for fixedMinMessages messages
   * (N clients send N a second): a message reaches every observer at once, so samples come in
   * groups and p99 needs a few hundred messages, not a few hundred samples, to be stable.
   * fixedBurstMs, fixedWarmupMs: the unmeasured warm-up before it, on its fresh servers: at 1
   * message/s per client V8 takes longer than the phase to optimize the message path, and the tail
   * would sample that. A closed-loop burst (one message in flight per client) gets the path
   * optimized; then the fixed rate runs unmeasured, so the measured run starts from its steady state.
   * rounds: saturation windows per side (alternating with the other side's), each a warm-up of
   * warmupMs and measureMs measured.
   */
  fanout: {
    sizes: number[];
    fixedBurstMs: number;
    fixedWarmupMs: number;
    fixedMs: number;
    fixedMinMessages: number;
    observers: number;
    rounds: number;
    warmupMs: number;
    measureMs: number;
    inFlightTotal: number;
    minWindow: number;
    textSize: number;
  };
  handshakes: { durationMs: number; maxCount?: number; concurrency: number; users: number };
  passwordLogins: { users: number; concurrency: number };
  /**
   * warmup: connections (their own accounts) that log in and leave before the baseline is read, so
   * the one-time growth of a cold server (compiled code, allocator arenas) is not charged to the
   * measured connections; idleMs: how long the server sits idle before each RSS reading.
   */
  memory: { steps: { connections: number; users: number }[]; warmup: number; idleMs: number; timeLimitMs: number; concurrency: number };
  file: { bytes: number };
  history: { rows: number; batch: number; singleAppends: number; pages: number };
  /**
   * In-process end-to-end crypto: each rate is measured for durationMs; state bytes after `turns`
   * alternating messages; the sender-key rotation in a room of `roomDevices` member devices.
   */
  sessions: { durationMs: number; turns: number; roomDevices: number; textSize: number };
  /**
   * The cluster scenario: the e2e fan-out room of n clients on SQLite and on PostgreSQL (one node
   * each), then on each count of busNodes nodes joined by NATS; its windows are the fan-out's.
   */
  cluster: { n: number; busNodes: number[] };
  devicePoolSize: number;
}

export const FULL: BenchProfile = {
  name: 'full',
  fanout: {
    sizes: [10, 100, 500],
    fixedBurstMs: 3_000,
    fixedWarmupMs: 10_000,
    fixedMs: 15_000,
    fixedMinMessages: 1_200,
    observers: 10,
    rounds: 2,
    warmupMs: 1_000,
    measureMs: 2_000,
    inFlightTotal: 2_000,
    minWindow: 4,
    textSize: 64,
  },
  handshakes: { durationMs: 4_000, concurrency: 32, users: 200 },
  passwordLogins: { users: 8, concurrency: 4 },
  memory: {
    steps: [
      { connections: 1_000, users: 1_000 },
      { connections: 10_000, users: 10_000 },
    ],
    warmup: 1_000,
    idleMs: 8_000,
    timeLimitMs: 120_000,
    concurrency: 64,
  },
  file: { bytes: 10_000_000 },
  history: { rows: 1_000_000, batch: 1_000, singleAppends: 5_000, pages: 200 },
  sessions: { durationMs: 2_000, turns: 100, roomDevices: 500, textSize: 64 },
  cluster: { n: 200, busNodes: [1, 2, 3] },
  devicePoolSize: 32,
};

export const QUICK: BenchProfile = {
  name: 'quick',
  fanout: {
    sizes: [10, 100],
    fixedBurstMs: 1_000,
    fixedWarmupMs: 1_000,
    fixedMs: 2_000,
    fixedMinMessages: 0,
    observers: 10,
    rounds: 1,
    warmupMs: 500,
    measureMs: 1_500,
    inFlightTotal: 2_000,
    minWindow: 4,
    textSize: 64,
  },
  handshakes: { durationMs: 1_500, concurrency: 32, users: 50 },
  passwordLogins: { users: 4, concurrency: 4 },
  memory: { steps: [{ connections: 1_000, users: 1_000 }], warmup: 1_000, idleMs: 8_000, timeLimitMs: 60_000, concurrency: 64 },
  file: { bytes: 10_000_000 },
  history: { rows: 100_000, batch: 1_000, singleAppends: 1_000, pages: 50 },
  sessions: { durationMs: 1_000, turns: 100, roomDevices: 500, textSize: 64 },
  cluster: { n: 100, busNodes: [1, 2, 3] },
  devicePoolSize: 16,
};

export const SMOKE: BenchProfile = {
  name: 'smoke',
  fanout: {
    sizes: [5],
    fixedBurstMs: 200,
    fixedWarmupMs: 200,
    fixedMs: 1_000,
    fixedMinMessages: 0,
    observers: 2,
    rounds: 2,
    warmupMs: 300,
    measureMs: 350,
    inFlightTotal: 100,
    minWindow: 4,
    textSize: 64,
  },
  handshakes: { durationMs: 5_000, maxCount: 20, concurrency: 4, users: 5 },
  passwordLogins: { users: 2, concurrency: 2 },
  memory: { steps: [{ connections: 100, users: 100 }], warmup: 20, idleMs: 0, timeLimitMs: 20_000, concurrency: 16 },
  file: { bytes: 256 * 1024 },
  history: { rows: 10_000, batch: 1_000, singleAppends: 100, pages: 10 },
  sessions: { durationMs: 20, turns: 4, roomDevices: 5, textSize: 64 },
  cluster: { n: 6, busNodes: [3] },
  devicePoolSize: 4,
};

export function windowFor(profile: BenchProfile, n: number): number {
  return Math.max(profile.fanout.minWindow, Math.ceil(profile.fanout.inFlightTotal / n));
}
