// WAL checkpoints run in a worker thread: the event loop does none in normal operation, the WAL
// stays bounded when writes never pause, and closing the store ends the worker's thread.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncStore } from '../src/store/async-store.js';
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
});
