// Outbound path, the heart of fan-out performance. A message is serialised once (a JSON string);
// the string is queued on every recipient connection; once per event-loop turn each connection
// with queued strings is flushed as ONE sealed record (the channel splits at the frame limit) and
// ONE socket write. A connection whose backlog passes the limit is cut off, so a slow reader
// never slows anyone else down.
import type { Socket } from 'node:net';

/** What the queue needs from the channel: frame (and seal) pre-serialised messages. */
export interface Framer {
  frame(messages: readonly string[]): Buffer[];
}

export interface OutboundQueueOptions {
  /** Queue + socket buffer above this many bytes: the reader is too slow. */
  maxQueueBytes: number;
  onOverflow(): void;
  /** A message could not be framed (too large for one record). */
  onFrameError(error: unknown): void;
  /** The socket took a write without pushing back, or drained: room for more (file downloads). */
  onWritable?(): void;
}

export class OutboundQueue {
  private lines: string[] = [];
  private bytes = 0;
  private blocked = false;
  private closed = false;
  private scheduled = false;

  constructor(
    private readonly socket: Socket,
    private readonly framer: Framer,
    private readonly scheduler: FlushScheduler,
    private readonly options: OutboundQueueOptions,
  ) {
    socket.on('drain', () => {
      this.blocked = false;
      if (this.lines.length > 0) this.arm();
      else this.options.onWritable?.();
    });
  }

  /** Queues one serialised message; it goes out with everything else queued in this turn. */
  push(line: string): void {
    if (this.closed) return;
    this.lines.push(line);
    // String length approximates UTF-8 bytes closely enough for a limit, without encoding twice.
    this.bytes += line.length;
    if (this.bytes + this.socket.writableLength > this.options.maxQueueBytes) {
      this.close();
      this.options.onOverflow();
      return;
    }
    this.arm();
  }

  /** Bytes waiting here and in the socket: what flow control looks at. */
  get backlog(): number {
    return this.bytes + this.socket.writableLength;
  }

  /** Writes everything queued as one record (more only past the frame limit) in one write. */
  flush(): void {
    this.scheduled = false;
    if (this.closed || this.blocked || this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    this.bytes = 0;
    let frames: Buffer[];
    try {
      frames = this.framer.frame(lines);
    } catch (error) {
      this.options.onFrameError(error);
      return;
    }
    const ok = this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    if (ok) this.options.onWritable?.();
    else this.blocked = true;
  }

  /** Drops whatever is queued; later pushes are ignored. */
  close(): void {
    this.closed = true;
    this.lines = [];
    this.bytes = 0;
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
    for (const queue of queues) queue.flush();
  };
}
