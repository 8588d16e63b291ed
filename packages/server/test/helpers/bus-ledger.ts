// A stand-in for the store as the bus sees it: one global id sequence drawn in commit order (as in
// both stores), holes where an append rolled back, and the read a gap fill does. Plus a recorder
// of what a node delivered, which fails on a repeat or an out-of-order id.
import type { StoredMessage } from '../../src/store/index.js';

export class Ledger {
  private next = 1;
  readonly committed: StoredMessage[] = [];
  /** Store reads done by gap fills. */
  reads = 0;
  /** While set, a gap fill fails with it (the database is down). */
  failReads: Error | undefined;

  /** Commits one room message per text; returns them in id order. */
  commit(room: string, ...texts: string[]): StoredMessage[] {
    return texts.map((text) => {
      const m: StoredMessage = { kind: 'room', id: String(this.next++), ts: 1000 + this.next, from: 'alice', room, text, action: false };
      this.committed.push(m);
      return m;
    });
  }

  /** An id drawn and rolled back: it will never exist. */
  hole(): void {
    this.next++;
  }

  get lastId(): string {
    return String(this.next - 1);
  }

  readonly fillGap = async ({ after, limit }: { after: string; limit: number }): Promise<StoredMessage[]> => {
    this.reads++;
    await new Promise((resolve) => setTimeout(resolve, 1)); // a store answers later, never at once
    if (this.failReads) throw this.failReads;
    return this.committed.filter((m) => BigInt(m.id) > BigInt(after)).slice(0, limit);
  };
}

/** What one node delivered, checked as it arrives: strictly increasing ids, so never twice. */
export class Delivered {
  readonly messages: StoredMessage[] = [];
  private waiters: Array<() => void> = [];

  readonly deliver = (batch: readonly StoredMessage[]): void => {
    for (const m of batch) {
      const last = this.messages.at(-1);
      if (last && BigInt(m.id) <= BigInt(last.id)) throw new Error(`delivered ${m.id} after ${last.id}`);
      this.messages.push(m);
    }
    for (const w of this.waiters) w();
  };

  get ids(): string[] {
    return this.messages.map((m) => m.id);
  }

  /** Resolves once `n` messages were delivered (fails the test after `ms`). */
  waitFor(n: number, ms = 15_000): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`delivered ${this.messages.length} of ${n}: ${this.ids.join(',')}`));
      }, ms);
      const check = () => {
        if (this.messages.length < n) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }
}
