import type { ClientMessage } from '@hush/protocol';
import type { TokenPacer } from './pacer.js';

/** Frames the server does not count against the message budget: they bypass the outbox. */
export function costsMessageBudget(message: ClientMessage): boolean {
  return !['ping', 'pong', 'typing', 'read', 'file_chunk'].includes(message.type);
}

/**
 * The ordered queue every budgeted frame passes: written as the pacer allows, in the order pushed,
 * so the server never has a reason to refuse an honest client. Frames wait here instead.
 * Bound to one connection at a time: a dropped connection takes its queued frames with it (their
 * requests fail with CONNECTION_CLOSED and their owners decide whether to send again).
 */
export class Outbox {
  private queue: ClientMessage[] = [];
  private write: ((message: ClientMessage) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly pacer: TokenPacer,
    private readonly clock: () => number = Date.now,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** A connection is open: the server's bucket is full again (frames of an older one are dropped). */
  attach(write: (message: ClientMessage) => void): void {
    this.detach();
    this.write = write;
    this.pacer.reset(this.clock());
    this.flush();
  }

  detach(): void {
    this.write = undefined;
    this.queue = [];
    this.clearTimer();
  }

  push(message: ClientMessage): void {
    this.queue.push(message);
    if (this.timer === undefined) this.flush();
  }

  /** The server refused for lack of tokens: hold everything for `ms`. */
  backOff(ms: number): void {
    this.pacer.backOff(this.clock(), ms);
    this.clearTimer();
    this.flush();
  }

  private flush(): void {
    this.clearTimer();
    while (this.write && this.queue.length > 0 && this.pacer.tryTake(this.clock())) {
      const message = this.queue.shift()!;
      try {
        this.write(message);
      } catch {
        this.detach(); // the connection went away under us: its close handler does the rest
        return;
      }
    }
    if (this.write && this.queue.length > 0) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.flush();
        },
        Math.max(1, this.pacer.waitMs(this.clock())),
      );
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
