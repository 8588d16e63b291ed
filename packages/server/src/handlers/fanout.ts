// Queuing one message, or a room's lines of one turn, on many sessions: serialised or encoded
// once, and counted once in the metrics.
import type { ServerMessage } from '@hush/protocol';
import type { HushdConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import { SharedBlock } from '../outbound.js';
import { replyBudget } from './replies.js';

/** What a fan-out queues on (a Connection). */
export interface Receiver {
  sendLine(line: string): void;
  sendBlock(block: SharedBlock): void;
}

/** Whoever is reached through their sessions (an online user). */
export interface Audience<R extends Receiver = Receiver> {
  readonly sessions: Iterable<R>;
}

/** Largest shared block: well inside a record, and a few of them make a flush slice. */
const MAX_BLOCK_BYTES = 64 * 1024;

export class Fanout {
  constructor(
    private readonly metrics: Metrics,
    /** The live limits (a reload may change the frame limit). */
    private readonly limits: Pick<HushdConfig['limits'], 'maxFrameSize'>,
  ) {}

  /** Queues `message` (serialised once) on every session of `users`, except `skip`; counts it. */
  broadcast<R extends Receiver>(message: ServerMessage, users: Iterable<Audience<R>>, skip?: R): number {
    const line = JSON.stringify(message);
    let count = 0;
    for (const user of users) {
      for (const session of user.sessions) {
        if (session === skip) continue;
        session.sendLine(line);
        count++;
      }
    }
    this.count(count);
    return count;
  }

  /** As `broadcast`, but each session gets the message `messageFor` makes for it (a direct message's own entry). */
  broadcastEach<R extends Receiver>(messageFor: (session: R) => ServerMessage, users: Iterable<Audience<R>>, skip?: R): number {
    let count = 0;
    for (const user of users) {
      for (const session of user.sessions) {
        if (session === skip) continue;
        session.sendLine(JSON.stringify(messageFor(session)));
        count++;
      }
    }
    this.count(count);
    return count;
  }

  /**
   * Queues a room's lines of one turn on every session of `users` (the sending sessions included:
   * everyone gets a room's messages in server order): encoded once into shared blocks, one queue
   * entry per block per session however many lines. Counts every line delivered.
   */
  broadcastBlock(lines: readonly string[], users: Iterable<Audience>): number {
    const blocks = SharedBlock.build(lines, Math.min(MAX_BLOCK_BYTES, replyBudget(this.limits)));
    let sessions = 0;
    for (const user of users) {
      for (const session of user.sessions) {
        for (const block of blocks) session.sendBlock(block);
        sessions++;
      }
    }
    const count = sessions * lines.length;
    this.count(count);
    return count;
  }

  private count(deliveries: number): void {
    if (deliveries === 0) return;
    this.metrics.inc('hush_messages_out_total', deliveries);
    this.metrics.inc('hush_fanout_deliveries_total', deliveries);
  }
}
