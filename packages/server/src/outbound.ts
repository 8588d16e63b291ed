// Outbound path, the heart of fan-out performance. Queue entries are pieces: single lines
// (replies, presence, typing...) or shared blocks (a room's messages of one turn, serialised and
// UTF-8 encoded once, the same Buffer queued on every member). Once per event-loop turn each
// connection with something queued is flushed: its pieces are joined with '\n' into record
// plaintexts (blocks copied, never re-encoded), sealed per recipient and written. Two kinds of entries:
// - replies to the connection's own requests (`push`): unique memory the client asked for, so a
//   client that asks for more than `maxQueueBytes` it has not read is cut off at once;
// - pieces relayed from others (`pushRelayed`): shared by every recipient, so a backlog costs little
//   memory per recipient. A burst that many senders land in one turn may pass `maxQueueBytes`
//   (shared bytes count in full for every recipient); the reader is cut only if it stops taking
//   bytes (no drain for `stallMs`) or its backlog passes an absolute ceiling. A reader that reads is
//   never cut by a burst it drains.
// Large backlogs go out in slices (at piece boundaries) as the socket drains, so at most about one
// slice of sealed bytes waits in the socket's buffer per connection.
import type { Socket } from 'node:net';
import { groupPieces, sealPieces, type RecordPiece } from '@hush/protocol';

/** Lines (UTF-8, joined with '\n') encoded once and queued on many connections. */
export class SharedBlock {
  private constructor(
    readonly bytes: Buffer,
    /** How many lines (messages) it holds. */
    readonly lines: number,
  ) {}

  /** Encodes `lines` into blocks of at most `cap` bytes each (a longer single line is a block of its own). */
  static build(lines: readonly string[], cap: number): SharedBlock[] {
    const blocks: SharedBlock[] = [];
    groupPieces(
      lines,
      cap,
      (start, end) => {
        blocks.push(SharedBlock.of(start === 0 && end === lines.length ? lines : lines.slice(start, end)));
      },
      'alone',
    );
    return blocks;
  }

  private static of(lines: readonly string[]): SharedBlock {
    return new SharedBlock(Buffer.from(lines.length === 1 ? lines[0]! : lines.join('\n'), 'utf8'), lines.length);
  }
}

/** What may be queued: a line of its own, or a block shared with other connections. */
export type Piece = string | SharedBlock;

/** What the queue needs from the channel: seal a ready-made plaintext into one frame. */
export interface Framer {
  /** Largest plaintext one record may carry. */
  readonly recordCapacity: number;
  /** A frame is at most this many bytes longer than its plaintext. */
  readonly frameOverhead: number;
  /** Seals into the leading bytes of `into` when it is large enough, else into a new buffer. */
  sealRecord(plaintext: Uint8Array, into?: Uint8Array): Buffer;
}

export interface OutboundQueueOptions {
  /** Replies queued + socket buffer above this: the client asked for more than it reads. Relayed
   * pieces not yet taken by the socket above this: the reader must be draining (see `stallMs`). */
  maxQueueBytes: number;
  /** Absolute ceiling for bytes not yet taken by the socket (default max(8 x maxQueueBytes, 32 MiB)). */
  maxBacklogBytes?: number;
  /** Over `maxQueueBytes`, how long the socket may go without draining before the reader is cut (default 5 s). */
  stallMs?: number;
  /** Clock (ms) for the stall; for tests. */
  now?: () => number;
  onOverflow(): void;
  /** A message could not be framed (too large for one record). */
  onFrameError(error: unknown): void;
  /** The socket took a write without pushing back, or drained: room for more (file downloads). */
  onWritable?(): void;
  /** Records sealed and written (metrics: messages per record is how well fan-out coalesces). */
  onRecords?(count: number): void;
}

const MiB = 1024 * 1024;
const DEFAULT_STALL_MS = 5000;
/** Lines taken at most per record batch when a backlog is large: bounds sealed bytes ahead of the socket. */
const MAX_SLICE_BYTES = 256 * 1024;
/** Consumed pieces are compacted away once this many pile up at the front of a long queue. */
const COMPACT_AFTER = 4096;

export class OutboundQueue {
  /** A line's text or a shared block's bytes: what the record packer takes. */
  private pieces: RecordPiece[] = [];
  /** Index in `pieces` of the next one to write. */
  private head = 0;
  /** Pending bytes (a string's length approximates its UTF-8 bytes closely enough for limits). */
  private bytes = 0;
  /** Indices in `pieces` of own replies still pending, and their bytes. */
  private ownAt: number[] = [];
  private ownHead = 0;
  private ownBytes = 0;
  private blocked = false;
  /** When the socket last pushed back (valid while `blocked`). */
  private blockedAt = 0;
  private closed = false;
  private scheduled = false;
  private readonly ceiling: number;
  private readonly slice: number;
  private readonly stallMs: number;
  private readonly now: () => number;

  constructor(
    private readonly socket: Socket,
    private readonly framer: Framer,
    private readonly scheduler: FlushScheduler,
    private readonly options: OutboundQueueOptions,
  ) {
    this.ceiling = options.maxBacklogBytes ?? Math.max(8 * options.maxQueueBytes, 32 * MiB);
    this.slice = Math.max(16 * 1024, Math.min(MAX_SLICE_BYTES, options.maxQueueBytes >> 2));
    this.stallMs = options.stallMs ?? DEFAULT_STALL_MS;
    this.now = options.now ?? Date.now;
    socket.on('drain', () => {
      this.blocked = false;
      if (this.head < this.pieces.length) this.arm();
      else this.options.onWritable?.();
    });
  }

  /** Queues a reply to this connection's own request; it goes out with everything else queued in this turn. */
  push(line: string): void {
    if (this.closed) return;
    this.ownAt.push(this.pieces.length);
    this.pieces.push(line);
    this.bytes += line.length;
    this.ownBytes += line.length;
    if (this.ownBytes + this.socket.writableLength > this.options.maxQueueBytes) {
      this.overflow();
      return;
    }
    this.arm();
  }

  /** Queues a line or block relayed from someone else (the same one is queued for every recipient). */
  pushRelayed(piece: Piece): void {
    if (this.closed) return;
    const entry = typeof piece === 'string' ? piece : piece.bytes;
    this.pieces.push(entry);
    this.bytes += sizeOf(entry);
    // Hot path (once per recipient per message): the clock is read only past the soft limit.
    if (this.bytes > this.options.maxQueueBytes && this.tooSlow(this.now())) {
      this.overflow();
      return;
    }
    this.arm();
  }

  /** Bytes waiting here and in the socket: what flow control looks at. */
  get backlog(): number {
    return this.bytes + this.socket.writableLength;
  }

  /** The sweep's check: a reader over the limit whose socket has not drained for `stallMs` is cut. */
  check(now: number): void {
    if (!this.closed && this.tooSlow(now)) this.overflow();
  }

  /** Writes what is queued, in slices while the socket takes them; stops when it pushes back and goes on at 'drain'. */
  flush(): void {
    this.scheduled = false;
    while (!this.closed && !this.blocked && this.head < this.pieces.length) {
      if (!this.writeSlice()) return;
    }
    if (!this.closed && !this.blocked) this.options.onWritable?.();
  }

  /**
   * Writes everything queued, then `last` (a goodbye) if given, whether or not the socket pushes
   * back, and closes the queue: the connection is ending and acknowledged messages must not be lost.
   */
  finish(last?: string): void {
    if (this.closed) return;
    if (last !== undefined) {
      this.pieces.push(last);
      this.bytes += last.length;
    }
    while (!this.closed && this.head < this.pieces.length) {
      if (!this.writeSlice()) break;
    }
    this.close();
  }

  /** Drops whatever is queued; later pushes are ignored. */
  close(): void {
    this.closed = true;
    this.reset();
  }

  private tooSlow(now: number): boolean {
    if (this.bytes > this.ceiling) return true;
    return this.bytes > this.options.maxQueueBytes && this.blocked && now - this.blockedAt >= this.stallMs;
  }

  private overflow(): void {
    this.close();
    this.options.onOverflow();
  }

  /** Frames and writes the next slice; false if framing failed (the connection is being closed). */
  private writeSlice(): boolean {
    const batch = this.take();
    framePool.begin();
    let frames: Buffer[];
    try {
      frames = sealPieces(batch, this.framer.recordCapacity, (plaintext) =>
        framePool.claim(this.framer.sealRecord(plaintext, framePool.room(plaintext.length + this.framer.frameOverhead))),
      );
    } catch (error) {
      framePool.end(true); // nothing was written
      this.options.onFrameError(error);
      return false;
    }
    let ok = true;
    if (frames.length === 1) ok = this.socket.write(frames[0]!);
    else {
      // Several records (past the frame limit): one writev, no concatenation copy.
      this.socket.cork();
      for (const frame of frames) ok = this.socket.write(frame);
      this.socket.uncork();
    }
    // Nothing left in the socket: the kernel took every byte before write() returned, so the
    // frames' room in the pool is free again. Otherwise the socket holds them until it drains.
    framePool.end(this.socket.writableLength === 0);
    this.options.onRecords?.(frames.length);
    if (!ok) {
      this.blocked = true;
      this.blockedAt = this.now();
    }
    return true;
  }

  /** Takes the next pieces: everything when small (the common case), else about one slice. */
  private take(): RecordPiece[] {
    if (this.head === 0 && this.bytes <= this.slice) {
      const all = this.pieces;
      this.reset();
      return all;
    }
    const start = this.head;
    let end = start;
    let size = 0;
    while (end < this.pieces.length && (end === start || size + sizeOf(this.pieces[end]!) <= this.slice)) {
      size += sizeOf(this.pieces[end]!);
      end++;
    }
    while (this.ownHead < this.ownAt.length && this.ownAt[this.ownHead]! < end) {
      this.ownBytes -= sizeOf(this.pieces[this.ownAt[this.ownHead]!]!);
      this.ownHead++;
    }
    const batch = this.pieces.slice(start, end);
    this.head = end;
    this.bytes -= size;
    if (this.head === this.pieces.length) this.reset();
    else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.pieces.length) this.compact();
    return batch;
  }

  private compact(): void {
    const head = this.head;
    this.pieces = this.pieces.slice(head);
    this.ownAt = this.ownAt.slice(this.ownHead).map((i) => i - head);
    this.head = 0;
    this.ownHead = 0;
  }

  private reset(): void {
    this.pieces = [];
    this.head = 0;
    this.bytes = 0;
    this.ownAt = [];
    this.ownHead = 0;
    this.ownBytes = 0;
  }

  private arm(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.scheduler.schedule(this);
  }
}

/**
 * One flush per event-loop turn for every connection that has something queued. The
 * `beforeEachFlush` hooks run first in the same turn (the server commits its batch of inbound
 * messages there, so acks and fan-out of a whole turn leave together); `afterFlush` runs once
 * everything is written (slow housekeeping goes there, after the turn's messages are on their way,
 * not in front of them).
 */
export class FlushScheduler {
  private pending: OutboundQueue[] = [];
  private armed = false;
  private readonly beforeFlush: Array<() => void> = [];

  constructor(private readonly afterFlush: () => void = () => {}) {}

  /** Runs `hook` at the start of every turn, before the queues are flushed. */
  beforeEachFlush(hook: () => void): void {
    this.beforeFlush.push(hook);
  }

  schedule(queue: OutboundQueue): void {
    this.pending.push(queue);
    this.wake();
  }

  /** Makes sure a turn runs even when nothing is queued yet (e.g. a message batch is waiting). */
  wake(): void {
    if (this.armed) return;
    this.armed = true;
    setImmediate(this.run);
  }

  /** Runs the turn now (shutdown). */
  flushNow(): void {
    this.run();
  }

  private readonly run = (): void => {
    this.armed = false;
    for (const hook of this.beforeFlush) hook();
    const queues = this.pending;
    this.pending = [];
    for (const queue of queues) queue.flush();
    this.afterFlush();
  };
}

function sizeOf(piece: RecordPiece): number {
  return typeof piece === 'string' ? piece.length : piece.byteLength;
}

const FRAME_SLAB_BYTES = 64 * 1024;

/**
 * Where frames are sealed: one slab, handed out front to back. A write the socket completes at
 * once gives its frames' room back, so a server whose readers keep up seals every frame into the
 * same memory; frames a socket keeps stay where they are, and a full slab is replaced (the old one
 * is freed once every socket holding part of it has written it) by one at least as large as the
 * next frame (64 KiB or more, up to the frame limit). A new buffer per frame would cost an
 * allocation per recipient per turn, freed only at the next garbage collection: a login storm's
 * presence records would fragment the C heap, which could not shrink afterwards.
 */
class FramePool {
  private slab = Buffer.allocUnsafeSlow(FRAME_SLAB_BYTES);
  private used = 0;
  /** Where the current batch (one slice's frames) began. */
  private startSlab = this.slab;
  private start = 0;

  /** Starts a batch: the frames of one slice, written together. */
  begin(): void {
    this.startSlab = this.slab;
    this.start = this.used;
  }

  /** Where the next frame goes: at least `size` bytes. */
  room(size: number): Buffer {
    if (this.used > this.slab.length / 2 || this.used + size > this.slab.length) {
      // Sized for the frame too: a turn's large records (a busy room) are sealed here as well.
      this.slab = Buffer.allocUnsafeSlow(Math.max(FRAME_SLAB_BYTES, size));
      this.used = 0;
    }
    return this.slab.subarray(this.used);
  }

  /** Records that `frame` took room in the slab if it was sealed there; returns it. */
  claim(frame: Buffer): Buffer {
    if (frame.buffer === this.slab.buffer) this.used = frame.byteOffset - this.slab.byteOffset + frame.length;
    return frame;
  }

  /** Ends the batch; `free` when no socket holds its frames, so their room is free again. */
  end(free: boolean): void {
    if (free) this.used = this.startSlab === this.slab ? this.start : 0;
  }
}

const framePool = new FramePool();
