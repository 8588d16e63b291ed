import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalCheckpointer, type WalCheckpointerOptions } from '../src/store/wal-checkpointer.js';

// The hold and its fallbacks over a real database, the writing thread's side driven by hand. A worker
// whose poll interval is an hour never acts on its own: it stands for one that is late or stuck.

const BOUND = 64 * 1024;
const HOUR = 3_600_000;

describe('WalCheckpointer', () => {
  let dir: string;
  let db: Database.Database;
  let checkpointer: WalCheckpointer;
  let insert: Database.Statement;
  const wal = () => statSync(`${db.name}-wal`).size;
  const fillPast = (bytes: number) => {
    while (wal() <= bytes) insert.run('x'.repeat(1000));
  };
  const open = (options: Partial<WalCheckpointerOptions>) => {
    checkpointer = new WalCheckpointer(db, { everyMs: HOUR, pollMs: HOUR, boundBytes: BOUND, catchUpTimeoutMs: 200, ...options });
  };
  /** Resolves (with the time) when the held calls run. */
  const released = () => new Promise<number>((resolve) => checkpointer.defer(() => resolve(performance.now())));
  /** Whether the WAL started over at the last write (only its frames are in it). */
  const startedOver = () => (db.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }])[0].log < 5;
  const worker = () => (checkpointer as unknown as { worker: Worker }).worker;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hush-wal-'));
    db = new Database(join(dir, 'wal.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${BOUND}`); // as the store sets it
    db.exec('CREATE TABLE t (body TEXT)');
    insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  });

  afterEach(async () => {
    await checkpointer.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds every call past twice the bound, in order, and checkpoints on the writing thread when the worker does not catch up in time', async () => {
    open({});
    insert.run('x');
    expect(checkpointer.keepBounded()).toBe(false); // under the bound
    fillPast(BOUND);
    expect(checkpointer.keepBounded()).toBe(false); // past it, not twice: the worker's business
    expect(checkpointer.mustWait()).toBe(false);
    fillPast(2 * BOUND);
    const started = performance.now();
    expect(checkpointer.keepBounded()).toBe(true);
    expect(checkpointer.mustWait()).toBe(true);
    const order: string[] = [];
    checkpointer.defer(() => order.push('first'));
    checkpointer.defer(() => order.push('second'));
    expect(checkpointer.keepBounded()).toBe(false); // a hold in progress
    const at = await released();
    expect(at - started).toBeGreaterThanOrEqual(150); // the timeout, not sooner
    expect(order).toEqual(['first', 'second']);
    expect(checkpointer.stats).toMatchObject({ worker: 0, catchUps: 0, onLoop: 1 });
    expect(checkpointer.mustWait()).toBe(false);
    insert.run('after');
    expect(startedOver()).toBe(true);
  });

  it('lets the worker catch up while the calls are held, then the next write starts the WAL over', async () => {
    open({ pollMs: 5, catchUpTimeoutMs: 60_000 });
    fillPast(2 * BOUND);
    expect(checkpointer.keepBounded()).toBe(true); // answers the worker's request, or holds past twice the bound
    expect(checkpointer.mustWait()).toBe(true);
    await released();
    expect(checkpointer.stats).toMatchObject({ catchUps: 1, onLoop: 0 });
    expect(checkpointer.stats.worker).toBeGreaterThan(0);
    insert.run('after');
    expect(startedOver()).toBe(true);
  });

  it('needs no hold once writes have stopped: the worker folds the WAL in, and the next write starts it over', async () => {
    open({ pollMs: 5 });
    fillPast(2 * BOUND);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(checkpointer.mustWait()).toBe(false); // the worker has not asked for a hold
    expect(checkpointer.stats.worker).toBeGreaterThan(0);
    insert.run('after');
    expect(startedOver()).toBe(true);
    expect(checkpointer.stats).toMatchObject({ catchUps: 0, onLoop: 0 });
  });

  it('checkpoints on the writing thread when the catch-up left something out (another connection reads an older snapshot)', async () => {
    open({ pollMs: 5, catchUpTimeoutMs: 60_000 });
    insert.run('x');
    const reader = new Database(db.name);
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get(); // its snapshot keeps the frames after it in the WAL
    try {
      fillPast(2 * BOUND);
      expect(checkpointer.keepBounded()).toBe(true);
      await released();
      expect(checkpointer.stats).toMatchObject({ catchUps: 0, onLoop: 1 });
    } finally {
      reader.exec('COMMIT');
      reader.close();
    }
  });

  it('ends a hold at once when the worker dies, and past the bound checkpoints on the writing thread without a hold', async () => {
    open({ catchUpTimeoutMs: 60_000 });
    fillPast(2 * BOUND);
    const started = performance.now();
    expect(checkpointer.keepBounded()).toBe(true);
    const done = released();
    await worker().terminate();
    await done;
    expect(performance.now() - started).toBeLessThan(30_000); // the worker's end, not the timeout
    expect(checkpointer.stats).toMatchObject({ catchUps: 0, onLoop: 1 });
    insert.run('after');
    expect(startedOver()).toBe(true);

    fillPast(BOUND);
    expect(checkpointer.keepBounded()).toBe(true); // once past the bound: nobody else will
    expect(checkpointer.mustWait()).toBe(false);
    expect(checkpointer.stats).toMatchObject({ onLoop: 2 });
    insert.run('after');
    expect(startedOver()).toBe(true);
  });

  it('runs the held calls when stopped during a hold, before stop() returns', async () => {
    open({ catchUpTimeoutMs: 60_000 });
    fillPast(2 * BOUND);
    expect(checkpointer.keepBounded()).toBe(true);
    let ran = false;
    checkpointer.defer(() => {
      insert.run('held');
      ran = true;
    });
    const stopping = checkpointer.stop();
    expect(ran).toBe(true); // so the owner closes after them
    expect(checkpointer.mustWait()).toBe(false); // and holds nothing more
    await stopping;
    expect(db.prepare("SELECT count(*) AS n FROM t WHERE body = 'held'").get()).toEqual({ n: 1 });
  });
});
