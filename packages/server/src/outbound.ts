// Outbound path, the heart of fan-out performance. A message is serialised once (a JSON string);
// the string is queued on every recipient connection; once per event-loop turn each connection
// with queued strings is flushed as sealed records and socket writes. Two kinds of lines:
// - replies to the connection's own requests (`push`): unique memory the client asked for, so a
//   client that asks for more than `maxQueueBytes` it has not read is cut off at once;
// - lines relayed from others (`pushRelayed`): the same string object sits in every recipient's
//   queue, so a backlog costs little memory per recipient. A burst that many senders land in one
//   turn may pass `maxQueueBytes`; the reader is cut only if it stops taking bytes (no drain for
//   `stallMs`) or its backlog passes an absolute ceiling. A reader that reads is never cut by a
//   burst it drains.
// Large backlogs go out in slices as the socket drains, so at most about one slice of sealed bytes
// waits in the socket's buffer per connection.
import type { Socket } from 'node:net';

/** Builds one record's plaintext from its lines (the scheduler shares one across identical queues). */
export type Encode = (lines: readonly string[]) => Uint8Array;

/** What the queue needs from the channel: frame (and seal) pre-serialised messages. */
export interface Framer {
  frame(messages: readonly string[], encode?: Encode): Buffer[];
}

export interface OutboundQueueOptions {
  /** Replies queued + socket buffer above this: the client asked for more than it reads. Relayed
   * lines not yet taken by the socket above this: the reader must be draining (see `stallMs`). */
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
}

const MiB = 1024 * 1024;
const DEFAULT_STALL_MS = 5000;
/** Lines taken at most per record batch when a backlog is large: bounds sealed bytes ahead of the socket. */
const MAX_SLICE_BYTES = 256 * 1024;
/** Consumed lines are compacted away once this many pile up at the front of a long queue. */
const COMPACT_AFTER = 4096;

export class OutboundQueue {
  private lines: string[] = [];
  /** Index in `lines` of the next line to write. */
  private head = 0;
  /** Pending bytes (string length approximates UTF-8 bytes closely enough for limits). */
  private bytes = 0;
  /** Indices in `lines` of own replies still pending, and their bytes. */
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
      if (this.head < this.lines.length) this.arm();
      else this.options.onWritable?.();
    });
  }

  /** Queues a reply to this connection's own request; it goes out with everything else queued in this turn. */
  push(line: string): void {
    if (this.closed) return;
    this.ownAt.push(this.lines.length);
    this.lines.push(line);
    this.bytes += line.length;
    this.ownBytes += line.length;
    if (this.ownBytes + this.socket.writableLength > this.options.maxQueueBytes) {
      this.overflow();
      return;
    }
    this.arm();
  }

  /** Queues a line relayed from someone else (the same string is queued for every recipient). */
  pushRelayed(line: string): void {
    if (this.closed) return;
    this.lines.push(line);
    this.bytes += line.length;
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

  /**
   * Writes what is queued, in slices while the socket takes them; stops when it pushes back and
   * goes on at 'drain'. `encode` builds plaintexts (shared across identical queues of a turn).
   */
  flush(encode?: Encode): void {
    this.scheduled = false;
    while (!this.closed && !this.blocked && this.head < this.lines.length) {
      if (!this.writeSlice(encode)) return;
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
      this.lines.push(last);
      this.bytes += last.length;
    }
    while (!this.closed && this.head < this.lines.length) {
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
  private writeSlice(encode?: Encode): boolean {
    const batch = this.take();
    let frames: Buffer[];
    try {
      frames = this.framer.frame(batch, encode);
    } catch (error) {
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
    if (!ok) {
      this.blocked = true;
      this.blockedAt = this.now();
    }
    return true;
  }

  /** Takes the next lines: everything when small (the common case), else about one slice. */
  private take(): string[] {
    if (this.head === 0 && this.bytes <= this.slice) {
      const all = this.lines;
      this.reset();
      return all;
    }
    const start = this.head;
    let end = start;
    let size = 0;
    while (end < this.lines.length && (end === start || size + this.lines[end]!.length <= this.slice)) {
      size += this.lines[end]!.length;
      end++;
    }
    while (this.ownHead < this.ownAt.length && this.ownAt[this.ownHead]! < end) {
      this.ownBytes -= this.lines[this.ownAt[this.ownHead]!]!.length;
      this.ownHead++;
    }
    const batch = this.lines.slice(start, end);
    this.head = end;
    this.bytes -= size;
    if (this.head === this.lines.length) this.reset();
    else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.lines.length) this.compact();
    return batch;
  }

  private compact(): void {
    const head = this.head;
    this.lines = this.lines.slice(head);
    this.ownAt = this.ownAt.slice(this.ownHead).map((i) => i - head);
    this.head = 0;
    this.ownHead = 0;
  }

  private reset(): void {
    this.lines = [];
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
 * One flush per event-loop turn for every connection that has something queued. `beforeFlush`
 * runs first in the same turn (the server commits its batch of inbound messages there, so acks and
 * fan-out of a whole turn leave together).
 */
export class FlushScheduler {
  private pending: OutboundQueue[] = [];
  private armed = false;
  private readonly plaintexts = new PlaintextMemo();

  constructor(private readonly beforeFlush: () => void = () => {}) {}

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
    this.beforeFlush();
    const queues = this.pending;
    this.pending = [];
    try {
      for (const queue of queues) queue.flush(this.plaintexts.encode);
    } finally {
      this.plaintexts.clear(); // holds nothing past the turn
    }
  };
}

/**
 * In a room turn most members' queues hold the very same line strings: the plaintext is built
 * (joined and UTF-8 encoded) once and only sealed per recipient. Matches by element identity; two
 * slots, so a sender's queue (its own ack, without its own message) between two members' queues
 * does not evict the shared one.
 */
export class PlaintextMemo {
  private keys: Array<readonly string[] | null> = [null, null];
  private values: Uint8Array[] = [new Uint8Array(0), new Uint8Array(0)];

  readonly encode = (lines: readonly string[]): Uint8Array => {
    for (let slot = 0; slot < 2; slot++) {
      const key = this.keys[slot];
      if (key && sameLines(key, lines)) {
        if (slot === 1) this.promote();
        return this.values[0]!;
      }
    }
    const plaintext = this.build(lines);
    this.keys[1] = this.keys[0]!;
    this.values[1] = this.values[0]!;
    this.keys[0] = lines;
    this.values[0] = plaintext;
    return plaintext;
  };

  /** Joins and encodes (what the memo saves). */
  build(lines: readonly string[]): Uint8Array {
    return Buffer.from(lines.length === 1 ? lines[0]! : lines.join('\n'), 'utf8');
  }

  clear(): void {
    this.keys = [null, null];
    this.values = [new Uint8Array(0), new Uint8Array(0)];
  }

  private promote(): void {
    this.keys.reverse();
    this.values.reverse();
  }
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
