import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../src/store/wal-checkpointer.js';

// The writing thread's fallback on its own: a worker that never reads the WAL's size (its poll
// interval is an hour) must not keep the writing thread from bounding the WAL.

const BOUND = 64 * 1024;

describe('WalCheckpointer fallback', () => {
  let dir: string;
  let db: Database.Database;
  let checkpointer: WalCheckpointer;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hush-wal-'));
    const file = join(dir, 'wal.db');
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (body TEXT)');
    checkpointer = new WalCheckpointer(file, { everyMs: 3_600_000, pollMs: 3_600_000, boundBytes: BOUND });
  });

  afterEach(async () => {
    await checkpointer.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checkpoints on the writing thread past twice the bound when the worker has read no size', () => {
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    const wal = () => statSync(`${db.name}-wal`).size;
    insert.run('x'.repeat(1000));
    expect(checkpointer.fallbackIfPastBound(db, 1_000_000)).toBe(false); // under the bound
    while (wal() <= 2 * BOUND) insert.run('x'.repeat(1000));
    expect(checkpointer.fallbackIfPastBound(db, 1_000_005)).toBe(false); // looked 5 ms ago: not yet
    expect(checkpointer.fallbackIfPastBound(db, 1_000_100)).toBe(true);
    expect(checkpointer.stats).toMatchObject({ worker: 0, onLoop: 1 });
    insert.run('after'); // the checkpoint caught up: this write starts the WAL over
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)') as [{ log: number }];
    expect(log).toBeLessThan(5);
  });
});
