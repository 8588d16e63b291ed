// WAL checkpoints run in a worker thread: the event loop does none in normal operation, the WAL
// stays bounded when writes never pause (the calls held while the worker catches up), and closing
// the store ends the worker's thread.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncStore, outcomeNow } from '../src/store/async-store.js';
import { SqliteStore, type NewMessage } from '../src/store/index.js';

const WAL_BOUND_BYTES = 16 * 2 ** 20;
const roomMsg = (i: number): NewMessage => ({
  kind: 'room',
  ts: 1000 + i,
  from: 'alice',
  room: 'lobby',
  text: `message ${i} ${'x'.repeat(48)}`,
  action: false,
});
/**
 * What the hold tests' writer adds while the worker reacts (a poll, a checkpoint, the hold) is a few MiB
 * (some 100 MB/s of WAL, far more than a server writes): the bound is set well above it.
 */
const SMALL_BOUND_BYTES = 4 * 2 ** 20;
/** Messages per commit. */
const BATCH = 128;
const text = (i: number) => `message ${i}`;
const shortMsg = (i: number): NewMessage => ({ kind: 'room', ts: 1000 + i, from: 'alice', room: 'lobby', text: text(i), action: false });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
const walSize = (file: string) => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

describe('WAL checkpoints off the event loop', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hush-ckpt-'));
    file = join(dir, 'hush.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('checkpoints in the worker while messages arrive at a pace, never on the event loop', async () => {
    const store = SqliteStore.open(file);
    try {
      const until = Date.now() + 4000;
      let i = 0;
      while (Date.now() < until) {
        store.appendMessages([roomMsg(i++)]); // one turn's commit, as the server makes it
        expect(store.checkpointIfDue(Date.now())).toBe(false);
        await pause(5);
      }
      const stats = store.checkpointStats;
      expect(stats.worker).toBeGreaterThan(3); // every 250 ms while written to
      expect(stats.onLoop).toBe(0);
      expect(walSize(file)).toBeLessThan(WAL_BOUND_BYTES);
    } finally {
      store.close();
      await store.background;
    }
  });

  it('keeps the WAL under its bound through 20 s of writes that never pause (through asyncStore, as the server writes)', async () => {
    const store = SqliteStore.open(file);
    const calls = asyncStore(store);
    let largest = 0;
    let i = 0;
    try {
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        await calls.appendMessages(Array.from({ length: 32 }, () => roomMsg(i++)));
        void calls.checkpointIfDue(Date.now());
        largest = Math.max(largest, walSize(file));
        await turn();
      }
      const stats = store.checkpointStats;
      expect(stats.worker).toBeGreaterThan(10);
      // The bound plus what the writer adds while the worker catches up (its calls held meanwhile);
      // writes that bypassed the hold would grow the WAL to SQLite's own far-off autocheckpoint (128 MiB).
      console.log(
        `continuous writes: ${i} messages, largest WAL ${(largest / 2 ** 20).toFixed(1)} MiB, checkpoints ${JSON.stringify(stats)}`,
      );
      expect(largest).toBeLessThan(4 * WAL_BOUND_BYTES);
      expect(store.history({ room: 'lobby' }, { limit: 1 }).messages[0]).toMatchObject({ text: `message ${i - 1} ${'x'.repeat(48)}` });
    } finally {
      store.close();
      await store.background;
    }
    expect(walSize(file)).toBe(0); // the final checkpoint on close empties it
  }, 60_000);

  it('ends the worker thread on close, and the final checkpoint leaves the data in the main file', async () => {
    const before = threads();
    const store = SqliteStore.open(file);
    expect(threads()).toBeGreaterThan(before);
    store.appendMessages([roomMsg(1)]);
    store.close();
    await store.background;
    expect(threads()).toBe(before);
    expect(walSize(file)).toBe(0);
    const again = SqliteStore.open(file);
    expect(again.history({ room: 'lobby' }, { limit: 5 }).messages.map((m) => m.id)).toHaveLength(1);
    again.close();
    await again.background;
  });

  it('removes the WAL file on every close, however the worker and the owner time their closing', async () => {
    // Two connections closing at once can each see the other's lock and both leave the WAL behind.
    for (let round = 0; round < 40; round++) {
      const store = SqliteStore.open(file);
      store.appendMessages([roomMsg(round + 1)]);
      if (round % 2) await new Promise((r) => setTimeout(r, round % 7));
      store.close();
      await store.background;
      expect(existsSync(`${file}-wal`), `round ${round}`).toBe(false);
    }
  });

  it('finds and runs its worker from the built dist', () => {
    const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');
    const script = `
      const { SqliteStore } = await import(${JSON.stringify(dist)});
      const store = SqliteStore.open(${JSON.stringify(file)});
      store.appendMessages([${JSON.stringify(roomMsg(1))}]);
      const until = Date.now() + 5000;
      while (store.checkpointStats.worker === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      const stats = store.checkpointStats;
      store.close();
      await store.background;
      console.log(JSON.stringify(stats));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    const stats = JSON.parse(run.stdout.trim()) as { worker: number; onLoop: number };
    expect(stats.worker).toBeGreaterThan(0);
    expect(stats.onLoop).toBe(0);
  });

  // Past the bound the worker has the calls held while it catches up: the event loop never
  // checkpoints, the WAL stays bounded, and every call runs once, in the order it was made.
  describe('past the bound, through asyncStore', () => {
    it('holds the calls while the worker catches up: the WAL stays bounded, the loop never checkpoints, every write lands once and in order', async () => {
      const sqlite = SqliteStore.open(file, { checkpoints: { boundBytes: SMALL_BOUND_BYTES, pollMs: 5 } });
      const store = asyncStore(sqlite);
      let i = 0;
      let writes = 0;
      let held = 0;
      /** Reads made right after a write that did not see exactly that write as the last one. */
      let overtaken = 0;
      let largest = 0;
      // The server's timer asks once a second; this asks ten times as often.
      const timer = setInterval(() => void store.checkpointIfDue(Date.now()), 100);
      /** A writer that never pauses: one commit per event-loop turn, as the server's message batch. */
      const writer = async (until: number) => {
        while (Date.now() < until) {
          const write = store.appendMessages(Array.from({ length: BATCH }, () => shortMsg(i++)));
          const read = store.lastMessageId();
          writes++;
          if (!outcomeNow(write)) held++;
          const stored = await write;
          if ((await read) !== stored.at(-1)!.id) overtaken++;
          largest = Math.max(largest, walSize(file));
          await turn();
        }
      };
      try {
        const until = Date.now() + 3000;
        await Promise.all([writer(until), writer(until)]);
        clearInterval(timer);
        const stats = sqlite.checkpointStats;
        console.log(
          `${writes} writes (${held} held), largest WAL ${(largest / 2 ** 20).toFixed(2)} MiB, checkpoints ${JSON.stringify(stats)}`,
        );
        expect(stats.catchUps).toBeGreaterThan(0);
        expect(held).toBeGreaterThan(0);
        expect(stats.onLoop).toBe(0);
        expect(largest).toBeLessThan(3 * SMALL_BOUND_BYTES);
        expect(overtaken).toBe(0);
        // Every message once, in the order the calls were made (numbered as they were made).
        const rows = sqlite.messagesAfter('0', i + 10);
        expect(rows).toHaveLength(i);
        expect(rows.findIndex((m, n) => m.kind !== 'room' || m.text !== text(n))).toBe(-1);
      } finally {
        clearInterval(timer);
        sqlite.close();
        await sqlite.background;
      }
    }, 30_000);

    it('runs the calls held when the store closes, in order, before it closes', async () => {
      // A worker that never polls: the hold lasts until the store closes.
      const sqlite = SqliteStore.open(file, { checkpoints: { boundBytes: 64 * 1024, pollMs: 3_600_000, catchUpTimeoutMs: 60_000 } });
      const store = asyncStore(sqlite);
      for (let i = 0; walSize(file) <= 2 * 64 * 1024; i++) sqlite.appendMessages([shortMsg(i)]);
      expect(await store.checkpointIfDue(Date.now())).toBe(true); // past twice the bound: a hold
      const write = store.appendMessages([shortMsg(-1)]);
      const read = store.lastMessageId();
      expect(outcomeNow(write)).toBeUndefined();
      await store.close();
      const [stored] = await write;
      expect(await read).toBe(stored!.id);
      await sqlite.background;
      const again = SqliteStore.open(file);
      expect(again.lastMessageId()).toBe(stored!.id);
      again.close();
      await again.background;
    });
  });
});
