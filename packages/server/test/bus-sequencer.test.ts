// CommitSequencer's races, driven by hand: store reads that answer when the test says so.
import { describe, expect, it } from 'vitest';
import { CommitSequencer } from '../src/bus/index.js';
import type { StoredMessage } from '../src/store/index.js';
import { Delivered, Ledger } from './helpers/bus-ledger.js';

/** A store whose reads wait for release(); each read sees the ledger as it is when it is released... */
function heldStore(ledger: Ledger) {
  const waiting: Array<() => void> = [];
  let reads = 0;
  return {
    get reads() {
      return reads;
    },
    get waiting() {
      return waiting.length;
    },
    /** ...unless snapshot: the ledger as it was when the read began (a read that began before a commit). */
    fillGap: ({ after, limit }: { after: string; limit: number }): Promise<StoredMessage[]> => {
      reads++;
      const snapshot = ledger.committed.filter((m) => BigInt(m.id) > BigInt(after)).slice(0, limit);
      return new Promise((resolve) => waiting.push(() => resolve(snapshot)));
    },
    release(): void {
      waiting.shift()?.();
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('CommitSequencer', () => {
  it('a head announced while a read is under way (committed after it began) gets a read of its own', async () => {
    const ledger = new Ledger();
    const store = heldStore(ledger);
    const delivered = new Delivered();
    const seq = new CommitSequencer({ from: '0', deliver: delivered.deliver, fillGap: store.fillGap, graceMs: 1 });
    ledger.commit('#r', 'a');
    seq.committedUpTo('1');
    await expect.poll(() => store.waiting).toBe(1); // the read of id 1 began
    ledger.commit('#r', 'b');
    seq.committedUpTo('2'); // committed after that read began: it cannot be in it
    store.release();
    await delivered.waitFor(1);
    await expect.poll(() => store.waiting).toBe(1);
    store.release();
    await delivered.waitFor(2);
    expect(delivered.ids).toEqual(['1', '2']);
    await seq.close();
  });

  it('a resync while a read is under way reads again afterwards', async () => {
    const ledger = new Ledger();
    const store = heldStore(ledger);
    const delivered = new Delivered();
    const seq = new CommitSequencer({ from: '0', deliver: delivered.deliver, fillGap: store.fillGap, graceMs: 1 });
    seq.resync();
    await expect.poll(() => store.waiting).toBe(1);
    ledger.commit('#r', 'committed while the bus was away');
    seq.resync();
    store.release(); // the first read saw nothing
    await expect.poll(() => store.waiting).toBe(1);
    store.release();
    await delivered.waitFor(1);
    expect(delivered.ids).toEqual(['1']);
    await seq.close();
  });

  it('a long gap is read page by page, in order; held messages past the page limit are read too', async () => {
    const ledger = new Ledger();
    const delivered = new Delivered();
    const seq = new CommitSequencer({
      from: '0',
      deliver: delivered.deliver,
      fillGap: ledger.fillGap,
      graceMs: 1,
      pageSize: 3,
      maxPending: 2,
    });
    const all = ledger.commit('#r', ...Array.from({ length: 10 }, (_, i) => `m${i}`));
    seq.feed(all.slice(5)); // 6..10 arrive, 1..5 lost; only two of them can be held
    await delivered.waitFor(10);
    expect(delivered.ids).toEqual(all.map((m) => m.id));
    expect(ledger.reads).toBe(4); // pages of 3: 3 + 3 + 3 + 1
    await seq.close();
  });

  it('a store read that fails is retried with a growing delay and reported each time', async () => {
    const ledger = new Ledger();
    const delivered = new Delivered();
    const errors: Error[] = [];
    const seq = new CommitSequencer({
      from: '0',
      deliver: delivered.deliver,
      fillGap: ledger.fillGap,
      onError: (e) => errors.push(e),
      graceMs: 5,
    });
    ledger.failReads = new Error('down');
    ledger.commit('#r', 'a');
    seq.committedUpTo('1');
    await expect.poll(() => errors.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    ledger.failReads = undefined;
    await delivered.waitFor(1);
    await tick();
    expect(delivered.ids).toEqual(['1']);
    await seq.close();
  });

  it('a delivery handler that throws is reported; the stream goes on after it', () => {
    const ledger = new Ledger();
    const errors: Error[] = [];
    const got: string[] = [];
    const seq = new CommitSequencer({
      from: '0',
      deliver: (batch) => {
        got.push(...batch.map((m) => m.id));
        if (got.length === 1) throw new Error('a bug in a handler');
      },
      fillGap: ledger.fillGap,
      onError: (e) => errors.push(e),
    });
    seq.feed(ledger.commit('#r', 'a'));
    seq.feed(ledger.commit('#r', 'b'));
    expect(got).toEqual(['1', '2']);
    expect(errors.map((e) => e.message)).toEqual(['a bug in a handler']);
  });

  it('refuses an id that is not a store id', () => {
    const seq = new CommitSequencer({ from: '0', deliver: () => undefined, fillGap: async () => [] });
    expect(() => seq.feed([{ kind: 'room', id: '1e3', ts: 1, from: 'a', room: '#r', text: '', action: false }])).toThrow(
      'not a message id: "1e3"',
    );
    expect(() => new CommitSequencer({ from: '-1', deliver: () => undefined, fillGap: async () => [] })).toThrow(TypeError);
  });
});
