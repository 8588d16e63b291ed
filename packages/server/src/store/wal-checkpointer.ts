// WAL checkpoints off the event loop: a worker thread with its own connection to the database
// folds the WAL into the main file (PASSIVE: it never waits for, nor blocks, the server's writes).
//
// The WAL starts over only when a write finds it all folded into the main file, and a writer that
// never pauses keeps a PASSIVE checkpoint from ever catching up: the WAL would grow without bound. So
// the worker reads the WAL file's size every `pollMs`. Past `boundBytes` it checkpoints while the writes
// go on, then asks for a hold: the writing thread's next store call (through asyncStore) starts one, and
// that call and every later one wait, in order, while the worker folds in the rest, which completes
// since nothing is written meanwhile. The held calls then run; the first write starts the WAL over (and
// `journal_size_limit`, set by the store to the bound, shrinks the file back). The event loop goes on
// throughout: only the store's callers wait, a few milliseconds.
//
// The store's owner looks now and then (`keepBounded`): past twice the bound (a worker fallen behind)
// it starts a hold itself. A worker that has not caught up within `catchUpTimeoutMs`, that has died, or
// whose catch-up left something out (a write that does not go through the hold), leaves the checkpoint
// to the writing thread, on the event loop.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { WriteHold } from './async-store.js';

export interface WalCheckpointerOptions {
  /** How often the worker checkpoints while anything is written. */
  everyMs: number;
  /** How often the worker reads the WAL file's size. */
  pollMs: number;
  /** WAL file size past which the worker has the store's calls held while it catches up. */
  boundBytes: number;
  /** The longest the calls are held for the worker; then the writing thread checkpoints itself. */
  catchUpTimeoutMs: number;
}

export interface CheckpointStats {
  /** Checkpoints by the worker, catch-ups included. */
  worker: number;
  /** Holds the worker caught up in time, and the longest hold (ms). */
  catchUps: number;
  heldMaxMs: number;
  /** Checkpoints by the writing thread, on the event loop (a dead or late worker): count, total and longest ms. */
  onLoop: number;
  onLoopMs: number;
  onLoopMaxMs: number;
}

/**
 * Shared Int32 slots: the worker's checkpoint count; 1 while the worker asks for a hold; 1 while the
 * worker polls; 1 once the owner is closing (the worker starts no more); the last hold the writing
 * thread started, the last one the worker caught up for, and 1 if that catch-up left nothing out.
 */
const SLOT = { checkpoints: 0, asked: 1, polling: 2, closing: 3, holds: 4, caughtUp: 5, complete: 6 } as const;
const SLOTS = 7;

/** The longest close() waits for a worker's checkpoint in progress. */
const STOP_WAIT_MS = 5000;

/** Atomics.waitAsync (Node 16 on), which the ES2022 library this project compiles against does not declare. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { value: Promise<'ok' | 'timed-out'> | 'not-equal' | 'timed-out' };
  }
).waitAsync;

interface WorkerData extends WalCheckpointerOptions {
  betterSqlite3: string;
  path: string;
  shared: SharedArrayBuffer;
  slot: typeof SLOT;
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
  const { slot } = data;
  /** How long a request waits for the hold (the next store call); the next poll asks again. */
  const ASK_WAIT_MS = 100;
  let seen = -1;
  let lastCheckpoint = 0;
  // A full `pollMs` after each poll, not a fixed rate: after a catch-up, the writing thread's next write
  // starts the WAL over only if it finds no checkpoint of this worker under way.
  let timer = setTimeout(function tick() {
    Atomics.store(slots, slot.polling, 1);
    if (Atomics.load(slots, slot.closing) === 0) poll();
    Atomics.store(slots, slot.polling, 0);
    Atomics.notify(slots, slot.polling);
    timer = setTimeout(tick, data.pollMs);
  }, data.pollMs);
  /** Checkpoints; returns whether the WAL is all folded in. */
  function checkpoint(): boolean {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as [{ busy: number; log: number; checkpointed: number }];
    Atomics.add(slots, slot.checkpoints, 1);
    lastCheckpoint = Date.now();
    return result.busy === 0 && result.log === result.checkpointed;
  }
  const dataVersion = () => db.pragma('data_version', { simple: true }) as number;
  const holdPending = () => Atomics.load(slots, slot.holds) !== Atomics.load(slots, slot.caughtUp);
  function catchUp(): void {
    const hold = Atomics.load(slots, slot.holds);
    Atomics.store(slots, slot.complete, checkpoint() ? 1 : 0);
    Atomics.store(slots, slot.caughtUp, hold);
    Atomics.notify(slots, slot.caughtUp);
  }
  function poll(): void {
    if (holdPending()) return catchUp();
    const size = statSync(`${data.path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    if (size <= data.boundBytes) {
      if (Date.now() - lastCheckpoint < data.everyMs) return;
      const version = dataVersion();
      if (version === seen) return;
      seen = version;
      checkpoint();
      return;
    }
    // Past the bound: fold in what is there while the writes go on, so that the hold waits only for
    // what comes meanwhile. A checkpoint that leaves nothing needs no hold only if nothing was written
    // meanwhile; a write under way as it ended would not start the WAL over.
    const version = dataVersion();
    if (checkpoint() && dataVersion() === version) return;
    Atomics.store(slots, slot.asked, 1);
    Atomics.wait(slots, slot.holds, Atomics.load(slots, slot.caughtUp), ASK_WAIT_MS);
    Atomics.store(slots, slot.asked, 0);
    if (Atomics.load(slots, slot.closing) === 0 && holdPending()) catchUp();
  }
  port.on('message', () => {
    clearTimeout(timer);
    db.close();
    process.exit(0);
  });
}

const WORKER_SOURCE = `const { parentPort, workerData } = require('node:worker_threads');
(${checkpointLoop.toString()})(require, workerData, parentPort);`;

/** Calls held for the worker's catch-up: which hold, since when, and the calls waiting, in order. */
interface Held {
  id: number;
  since: number;
  calls: (() => void)[];
}

export class WalCheckpointer implements WriteHold {
  private readonly worker: Worker;
  private readonly slots: Int32Array;
  private readonly exited: Promise<void>;
  private readonly walPath: string;
  private alive = true;
  private held: Held | null = null;
  private catchUps = 0;
  private heldMaxMs = 0;
  private onLoop = 0;
  private onLoopMs = 0;
  private onLoopMaxMs = 0;

  /** `db` is the writing connection: the hold is for its calls, and the fallback checkpoints on it. */
  constructor(
    private readonly db: Database.Database,
    private readonly options: WalCheckpointerOptions,
  ) {
    this.walPath = `${db.name}-wal`;
    const shared = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
    this.slots = new Int32Array(shared);
    const workerData: WorkerData = {
      ...options,
      betterSqlite3: createRequire(import.meta.url).resolve('better-sqlite3'),
      path: db.name,
      shared,
      slot: SLOT,
    };
    // No inherited flags: a parent run with --input-type=module would make the source an ES module.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData, execArgv: [] });
    this.worker.unref(); // never what keeps a process alive
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.alive = false;
        resolve();
      }),
    );
    // A failed worker leaves the bound to the writing thread and to SQLite's autocheckpoint.
    this.worker.on('error', () => undefined);
  }

  /** Whether a store call made now must wait; starts a hold when the worker asks for one. */
  mustWait(): boolean {
    if (!this.held && this.alive && Atomics.load(this.slots, SLOT.asked) === 1) this.startHold();
    return this.held !== null;
  }

  /** Runs `call` once the hold ends, after the calls held before it. */
  defer(call: () => void): void {
    if (this.held) this.held.calls.push(call);
    else call();
  }

  /**
   * The owner's check, now and then (a timer): starts a hold when the worker asks for one and no call
   * has come to answer it, or when the WAL is past twice the bound (the worker has fallen behind);
   * checkpoints on this thread past the bound once the worker has died. Returns whether it did either.
   */
  keepBounded(): boolean {
    if (this.held) return false;
    const size = statSync(this.walPath, { throwIfNoEntry: false })?.size ?? 0;
    if (!this.alive) {
      if (size <= this.options.boundBytes) return false;
      this.checkpointOnLoop();
    } else {
      if (Atomics.load(this.slots, SLOT.asked) === 0 && size <= 2 * this.options.boundBytes) return false;
      this.startHold();
    }
    return true;
  }

  private startHold(): void {
    Atomics.store(this.slots, SLOT.asked, 0); // answered
    const held: Held = { id: Atomics.add(this.slots, SLOT.holds, 1) + 1, since: performance.now(), calls: [] };
    this.held = held;
    Atomics.notify(this.slots, SLOT.holds);
    void this.awaitCatchUp(held);
  }

  /** Waits (without blocking the loop) for the worker's catch-up; checkpoints here past the timeout or once the worker has ended. */
  private async awaitCatchUp(held: Held): Promise<void> {
    const deadline = held.since + this.options.catchUpTimeoutMs;
    // A timer, unlike a pending Atomics.waitAsync, keeps the process alive until the held calls have run.
    const keepAlive = setTimeout(() => undefined, this.options.catchUpTimeoutMs);
    try {
      for (;;) {
        const caughtUp = Atomics.load(this.slots, SLOT.caughtUp);
        if (caughtUp >= held.id) {
          // Left something out (a write that bypassed the hold, or another connection's older
          // snapshot): this thread checkpoints itself, after its own last write.
          if (Atomics.load(this.slots, SLOT.complete) === 1) this.catchUps++;
          else this.checkpointOnLoop();
          break;
        }
        const left = deadline - performance.now();
        if (left <= 0 || !this.alive) {
          this.checkpointOnLoop();
          break;
        }
        const wait = waitAsync(this.slots, SLOT.caughtUp, caughtUp, left);
        if (typeof wait.value !== 'string') await Promise.race([wait.value, this.exited]);
        if (this.held !== held) return; // released by stop()
      }
    } finally {
      clearTimeout(keepAlive);
    }
    this.release();
  }

  /** Ends the hold: the calls held run now, in the order they were made. */
  private release(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    this.heldMaxMs = Math.max(this.heldMaxMs, performance.now() - held.since);
    for (const call of held.calls) call();
  }

  /** The fallback: a checkpoint on this thread, counted. It catches up with this thread's own last write, so its next write starts the WAL over. */
  private checkpointOnLoop(): void {
    const started = performance.now();
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Left to the next checkpoint (and SQLite's own); the writes that follow meet the same disk and say so.
    }
    const ms = performance.now() - started;
    this.onLoop++;
    this.onLoopMs += ms;
    this.onLoopMaxMs = Math.max(this.onLoopMaxMs, ms);
  }

  get stats(): CheckpointStats {
    return {
      worker: Atomics.load(this.slots, SLOT.checkpoints),
      catchUps: this.catchUps,
      heldMaxMs: this.heldMaxMs,
      onLoop: this.onLoop,
      onLoopMs: this.onLoopMs,
      onLoopMaxMs: this.onLoopMaxMs,
    };
  }

  /**
   * Runs the calls held, if any, then stops the worker's checkpoints, waiting (blocking, briefly) for
   * one in progress to end so that the owner's final checkpoint finds the WAL free, and asks the
   * worker to exit; resolves once it has.
   */
  stop(): Promise<void> {
    this.release();
    this.alive = false; // no more holds
    Atomics.store(this.slots, SLOT.closing, 1);
    Atomics.notify(this.slots, SLOT.holds); // a worker waiting for a hold stops waiting
    Atomics.wait(this.slots, SLOT.polling, 1, STOP_WAIT_MS);
    this.worker.postMessage('stop');
    this.worker.ref(); // whoever awaits its exit is kept waiting until it comes
    return this.exited;
  }
}
