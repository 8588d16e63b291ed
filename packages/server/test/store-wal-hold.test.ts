// The WAL's bound under writes that never pause, through asyncStore as the server uses the store:
// past the bound the checkpoint worker has the calls held while it catches up, so the event loop
// never checkpoints, the WAL stays bounded, and every call runs once, in the order it was made.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncStore, outcomeNow } from '../src/store/async-store.js';
import { SqliteStore, type NewMessage } from '../src/store/index.js';

/**
 * What the writer below adds while the worker reacts (a poll, a checkpoint, the hold) is a few MiB
 * (some 100 MB/s of WAL, far more than a server writes): the bound is set well above it.
 */
const BOUND = 4 * 2 ** 20;
/** Messages per commit. */
const BATCH = 128;
const text = (i: number) => `message ${i}`;
const roomMsg = (i: number): NewMessage => ({ kind: 'room', ts: 1000 + i, from: 'alice', room: 'lobby', text: text(i), action: false });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const walSize = (file: string) => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

describe('WAL bound through asyncStore under writes that never pause', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hush-wal-hold-'));
    file = join(dir, 'hush.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the calls while the worker catches up: the WAL stays bounded, the loop never checkpoints, every write lands once and in order', async () => {
    const sqlite = SqliteStore.open(file, { checkpoints: { boundBytes: BOUND, pollMs: 5 } });
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
        const write = store.appendMessages(Array.from({ length: BATCH }, () => roomMsg(i++)));
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
      expect(largest).toBeLessThan(3 * BOUND);
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
    for (let i = 0; walSize(file) <= 2 * 64 * 1024; i++) sqlite.appendMessages([roomMsg(i)]);
    expect(await store.checkpointIfDue(Date.now())).toBe(true); // past twice the bound: a hold
    const write = store.appendMessages([roomMsg(-1)]);
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
