// Turns committed messages arriving in any order, twice, or not at all into one gapless stream in
// id order. Store ids are global and committed in the order they are drawn, so after delivering id
// W the next message is W+1 unless W+1 is a hole (a rolled-back append): a missing id is either in
// flight, lost on the bus, or a hole, and only the store can tell. After a short grace (messages
// from other nodes overtake each other) the sequencer reads the store after W and delivers that.
import type { StoredMessage } from '../store/types.js';
import type { FillGap } from './types.js';

export interface SequencerOptions {
  from: string;
  deliver(messages: readonly StoredMessage[]): void;
  fillGap: FillGap;
  onError?(error: Error): void;
  /** How long a gap may wait for the missing message to arrive before the store is read. */
  graceMs?: number;
  /** Messages per store read. */
  pageSize?: number;
  /** Held out-of-order messages at most: past it they are let go (the next store read has them). */
  maxPending?: number;
}

const RETRY_MAX_MS = 5000;

export class CommitSequencer {
  private delivered: bigint;
  /** The highest id known to be committed (seen on the bus or announced by a node). */
  private head: bigint;
  private readonly pending = new Map<bigint, StoredMessage>();
  private timer: NodeJS.Timeout | undefined;
  private filling: Promise<void> | undefined;
  private failures = 0;
  /** A store read is wanted whatever the head says (the bus reconnected). */
  private wanted = false;
  private closed = false;
  private readonly graceMs: number;
  private readonly pageSize: number;
  private readonly maxPending: number;

  constructor(private readonly options: SequencerOptions) {
    this.delivered = parseId(options.from);
    this.head = this.delivered;
    this.graceMs = options.graceMs ?? 100;
    this.pageSize = options.pageSize ?? 500;
    this.maxPending = options.maxPending ?? 50_000;
  }

  /** The id delivered up to. */
  get last(): string {
    return this.delivered.toString();
  }

  /** Messages from the bus (or this node's own commits), in any order. */
  feed(messages: readonly StoredMessage[]): void {
    if (this.closed) return;
    for (const m of messages) {
      const id = parseId(m.id);
      if (id <= this.delivered) continue;
      if (id > this.head) this.head = id;
      if (this.pending.size < this.maxPending) this.pending.set(id, m);
    }
    this.drain();
  }

  /** Everything up to `id` is committed (a node's announcement): a gap below it is read from the store. */
  committedUpTo(id: string): void {
    const n = parseId(id);
    if (n > this.head) this.head = n;
    this.schedule(this.graceMs);
  }

  /** The bus may have lost messages (it reconnected): read the store after the last delivered id now. */
  resync(): void {
    if (this.closed) return;
    this.wanted = true;
    this.schedule(0);
  }

  /** Stops timers and store reads; waits for a read in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.filling;
  }

  private drain(): void {
    const out: StoredMessage[] = [];
    for (let next = this.pending.get(this.delivered + 1n); next; next = this.pending.get(this.delivered + 1n)) {
      this.pending.delete(this.delivered + 1n);
      this.delivered++;
      out.push(next);
    }
    if (out.length > 0) this.hand(out);
    if (!this.behind) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.failures = 0;
    } else {
      this.schedule(this.graceMs);
    }
  }

  private schedule(ms: number): void {
    if (this.closed || this.filling || !this.behind) return;
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.filling = this.fill().finally(() => {
        this.filling = undefined;
        if (!this.closed && this.behind) {
          this.schedule(this.failures > 0 ? Math.min(RETRY_MAX_MS, this.graceMs * 2 ** this.failures) : this.graceMs);
        }
      });
    }, ms);
    this.timer.unref();
  }

  /** Reads the store after the last delivered id until a short page: it is the truth for that range. */
  private async fill(): Promise<void> {
    const wanted = this.wanted;
    this.wanted = false;
    const headAtStart = this.head;
    try {
      for (;;) {
        const page = await this.options.fillGap({ after: this.delivered.toString(), limit: this.pageSize });
        if (this.closed) return;
        const out: StoredMessage[] = [];
        for (const m of page) {
          const id = parseId(m.id);
          if (id <= this.delivered) continue; // delivered from the bus while the store was read
          this.delivered = id; // the ids skipped are holes: the store has nothing between
          out.push(m);
        }
        if (out.length > 0) this.hand(out);
        if (page.length < this.pageSize) break;
      }
      // Everything committed before the read began is delivered: a head known then was reached or
      // was a hole. Held messages committed after the read began keep theirs.
      let held = this.delivered;
      for (const id of this.pending.keys()) {
        if (id <= this.delivered) this.pending.delete(id);
        else if (id > held) held = id;
      }
      if (this.head <= headAtStart) this.head = held;
      this.failures = 0;
      this.drain();
    } catch (error) {
      this.failures++;
      if (wanted) this.wanted = true;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Delivered is delivered: a handler that throws is reported, and the stream goes on after it. */
  private hand(messages: readonly StoredMessage[]): void {
    try {
      this.options.deliver(messages);
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private get behind(): boolean {
    return this.wanted || this.head > this.delivered;
  }
}

function parseId(id: string): bigint {
  if (!/^\d{1,20}$/.test(id)) throw new TypeError(`not a message id: ${JSON.stringify(id.slice(0, 24))}`);
  return BigInt(id);
}
