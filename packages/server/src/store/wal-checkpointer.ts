// WAL checkpoints off the event loop: a worker thread with its own connection to the database
// folds the WAL into the main file (PASSIVE: it never waits for, nor blocks, the server's writes).
//
// A PASSIVE checkpoint only lets the WAL start over when it has caught up with the last commit, and a
// writer that never pauses can keep it from ever catching up: the WAL would grow without bound. The
// worker therefore reads the WAL file's size every `pollMs`; past `boundBytes` it checkpoints at once
// and hands over: the owner of the writing connection checkpoints what was written meanwhile on its
// own thread (`fallbackIfPastBound`, between two of its writes, while the worker waits), after which
// its next write starts the WAL over (and `journal_size_limit`, set by the store to the bound,
// shrinks the file back). The worker publishes each size it reads; should it fall behind (a busy
// machine, a long checkpoint), the writing thread reads the file's size itself now and then, and
// checkpoints past twice the bound whatever the worker does.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

export interface WalCheckpointerOptions {
  /** How often the worker checkpoints while anything is written. */
  everyMs: number;
  /** How often the worker reads the WAL file's size. */
  pollMs: number;
  /** WAL file size past which the worker checkpoints at every poll and the writing thread once. */
  boundBytes: number;
}

/** How often the writing thread looks at the WAL's size (the worker's last reading, or its own). */
const SIZE_CHECK_MS = 10;
/** A worker that has not read the size for this long has fallen behind: the writing thread reads it itself. */
const WORKER_STALE_MS = 50;

/** The longest close() waits for a worker's checkpoint in progress. */
const STOP_WAIT_MS = 5000;

export interface CheckpointStats {
  worker: number;
  onLoop: number;
  onLoopMs: number;
  onLoopMaxMs: number;
}

/**
 * Shared slots: the worker's checkpoint count; 1 while the writing thread is asked to finish one;
 * 1 while the worker checkpoints; 1 once the owner is closing (the worker starts no more); the
 * worker's reads of the WAL's size so far, and the last one (KiB).
 */
const WORKER_CHECKPOINTS = 0;
const HANDED_OVER = 1;
const CHECKPOINTING = 2;
const CLOSING = 3;
const SIZE_READS = 4;
const WAL_KIB = 5;
const SLOTS = 6;

interface WorkerData extends WalCheckpointerOptions {
  betterSqlite3: string;
  path: string;
  shared: SharedArrayBuffer;
}

/**
 * The worker's whole program. It runs from its source text (`new Worker(..., { eval: true })`), so
 * that the same code works from the built dist and from TypeScript sources under test: it must use
 * only its parameters.
 */
function checkpointLoop(load: (id: string) => unknown, data: WorkerData, port: { on(event: 'message', listener: () => void): void }): void {
  const Sqlite = load(data.betterSqlite3) as typeof Database;
  const { statSync } = load('node:fs') as typeof import('node:fs');
  const db = new Sqlite(data.path);
  // PASSIVE never waits on locks; the busy timeout only covers opening (a migration in progress).
  db.pragma('busy_timeout = 1000');
  const slots = new Int32Array(data.shared);
  let seen = -1;
  let lastCheckpoint = 0;
  const timer = setInterval(() => {
    if (Atomics.load(slots, 1) === 1) return; // handed over: the writing thread's turn
    Atomics.store(slots, 2, 1);
    if (Atomics.load(slots, 3) === 0) poll();
    Atomics.store(slots, 2, 0);
    Atomics.notify(slots, 2);
  }, data.pollMs);
  function poll(): void {
    const size = statSync(`${data.path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    Atomics.store(slots, 5, Math.min(0x7fff_ffff, Math.ceil(size / 1024)));
    Atomics.add(slots, 4, 1);
    const pastBound = size > data.boundBytes;
    const now = Date.now();
    if (!pastBound && now - lastCheckpoint < data.everyMs) return;
    const version = db.pragma('data_version', { simple: true }) as number;
    if (version === seen && !pastBound) return;
    seen = version;
    lastCheckpoint = now;
    db.pragma('wal_checkpoint(PASSIVE)');
    Atomics.add(slots, 0, 1);
    if (pastBound) Atomics.store(slots, 1, 1);
  }
  port.on('message', () => {
    clearInterval(timer);
    db.close();
    process.exit(0);
  });
}

const WORKER_SOURCE = `const { parentPort, workerData } = require('node:worker_threads');
(${checkpointLoop.toString()})(require, workerData, parentPort);`;

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly slots: Int32Array;
  private readonly exited: Promise<void>;
  private onLoop = 0;
  private onLoopMs = 0;
  private sizeCheckedAt = 0;
  /** The worker's size reads as last seen by the writing thread, and when that count last moved. */
  private seenSizeReads = 0;
  private sizeReadsMovedAt = 0;
  private readonly walPath: string;
  private readonly hardBoundBytes: number;
  private onLoopMaxMs = 0;

  constructor(path: string, options: WalCheckpointerOptions) {
    this.walPath = `${path}-wal`;
    this.hardBoundBytes = 2 * options.boundBytes;
    const shared = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.slots = new Int32Array(shared);
    const workerData: WorkerData = { ...options, betterSqlite3: createRequire(import.meta.url).resolve('better-sqlite3'), path, shared };
    // No inherited flags: a parent run with --input-type=module would make the source an ES module.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData, execArgv: [] });
    this.worker.unref(); // never what keeps a process alive
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // A failed worker leaves the bound to the writing thread's fallback and to SQLite's autocheckpoint.
    this.worker.on('error', () => undefined);
  }

  /**
   * Called by the writing thread between its writes: checkpoints on this thread only when the worker
   * handed over or the WAL is past twice the bound (a writer that never paused). Returns whether it did.
   */
  fallbackIfPastBound(db: Database.Database, now: number): boolean {
    if (Atomics.load(this.slots, HANDED_OVER) === 0) {
      if (now - this.sizeCheckedAt < SIZE_CHECK_MS) return false;
      this.sizeCheckedAt = now;
      if (this.walSize(now) <= this.hardBoundBytes) return false;
    }
    const started = performance.now();
    // Caught up with this thread's own last write, so its next write starts the WAL over.
    db.pragma('wal_checkpoint(PASSIVE)');
    const ms = performance.now() - started;
    this.onLoop++;
    this.onLoopMs += ms;
    this.onLoopMaxMs = Math.max(this.onLoopMaxMs, ms);
    Atomics.store(this.slots, HANDED_OVER, 0);
    return true;
  }

  /** The WAL's size: the worker's last reading while it keeps reading (no system call here), else the file's. */
  private walSize(now: number): number {
    const reads = Atomics.load(this.slots, SIZE_READS);
    if (reads !== this.seenSizeReads) {
      this.seenSizeReads = reads;
      this.sizeReadsMovedAt = now;
    }
    if (now - this.sizeReadsMovedAt < WORKER_STALE_MS) return Atomics.load(this.slots, WAL_KIB) * 1024;
    return statSync(this.walPath, { throwIfNoEntry: false })?.size ?? 0;
  }

  /** Checkpoints done by the worker, and by the writing thread past the bound (count, total and longest ms). */
  get stats(): CheckpointStats {
    return {
      worker: Atomics.load(this.slots, WORKER_CHECKPOINTS),
      onLoop: this.onLoop,
      onLoopMs: this.onLoopMs,
      onLoopMaxMs: this.onLoopMaxMs,
    };
  }

  /**
   * Stops the worker's checkpoints, waiting (blocking, briefly) for one in progress to end so that the
   * owner's final checkpoint finds the WAL free, and asks the worker to exit; resolves once it has.
   */
  stop(): Promise<void> {
    Atomics.store(this.slots, CLOSING, 1);
    Atomics.wait(this.slots, CHECKPOINTING, 1, STOP_WAIT_MS);
    this.worker.postMessage('stop');
    this.worker.ref(); // whoever awaits its exit is kept waiting until it comes
    return this.exited;
  }
}
