// The Bus contract, for one node: the same cases for every bus (LocalBus, NatsBus). What only a
// cluster can show (two nodes, an outage of NATS) is in bus-nats.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus, BusHandlers } from '../../src/bus/index.js';
import { Delivered, Ledger } from './bus-ledger.js';

export function busContract(open: (handlers: BusHandlers) => Promise<Bus>): void {
  const buses: Bus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });

  async function node(ledger: Ledger, extra: Partial<BusHandlers> = {}) {
    const delivered = new Delivered();
    const bus = await open({ from: ledger.lastId, deliver: delivered.deliver, fillGap: ledger.fillGap, ...extra });
    buses.push(bus);
    return { bus, delivered };
  }

  describe('bus contract', () => {
    it('is connected and names its node', async () => {
      const { bus } = await node(new Ledger());
      expect(bus.state).toBe('connected');
      expect(bus.node).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('delivers commits in id order, each once, without reading the store', async () => {
      const ledger = new Ledger();
      const { bus, delivered } = await node(ledger);
      const [a, b, c, d] = ledger.commit('#r', 'a', 'b', 'c', 'd');
      bus.publishCommitted([a!, b!]);
      bus.publishCommitted([d!]); // an append that resolved before an earlier one
      bus.publishCommitted([c!]);
      bus.publishCommitted([a!, b!]); // again
      await delivered.waitFor(4);
      expect(delivered.ids).toEqual(['1', '2', '3', '4']);
      expect(ledger.reads).toBe(0);
    });

    it('starts after `from`: what was delivered before is not delivered again', async () => {
      const ledger = new Ledger();
      const old = ledger.commit('#r', 'old1', 'old2');
      const { bus, delivered } = await node(ledger);
      bus.publishCommitted(old);
      const fresh = ledger.commit('#r', 'new');
      bus.publishCommitted(fresh);
      await delivered.waitFor(1);
      expect(delivered.ids).toEqual(['3']);
    });

    it('a commit that was never published is read from the store before the next one is delivered', async () => {
      const ledger = new Ledger();
      const { bus, delivered } = await node(ledger);
      const [a, lost, c] = ledger.commit('#r', 'a', 'lost', 'c');
      bus.publishCommitted([a!]);
      bus.publishCommitted([c!]);
      await delivered.waitFor(3);
      expect(delivered.messages.map((m) => m.kind === 'room' && m.text)).toEqual(['a', 'lost', 'c']);
      expect(lost!.id).toBe('2');
      expect(ledger.reads).toBeGreaterThan(0);
    });

    it('a hole (an id rolled back) does not stop delivery', async () => {
      const ledger = new Ledger();
      const { bus, delivered } = await node(ledger);
      bus.publishCommitted(ledger.commit('#r', 'a'));
      ledger.hole();
      bus.publishCommitted(ledger.commit('#r', 'b'));
      bus.publishCommitted(ledger.commit('#r', 'c'));
      await delivered.waitFor(3);
      expect(delivered.ids).toEqual(['1', '3', '4']);
    });

    it('while the store cannot be read, the gap waits; it is filled once the store is back', async () => {
      const ledger = new Ledger();
      const errors: Error[] = [];
      const { bus, delivered } = await node(ledger, { onError: (e) => errors.push(e) });
      ledger.failReads = new Error('database down');
      ledger.commit('#r', 'lost');
      bus.publishCommitted(ledger.commit('#r', 'b'));
      await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(delivered.ids).toEqual([]); // nothing out of order meanwhile
      expect(errors[0]!.message).toBe('database down');
      ledger.failReads = undefined;
      await delivered.waitFor(2);
      expect(delivered.ids).toEqual(['1', '2']);
    });

    it('signals sent to no other node do not come back to the sender', async () => {
      const signals: unknown[] = [];
      const { bus } = await node(new Ledger(), { onSignal: (s) => signals.push(s) });
      bus.signal({ topic: 'typing', body: { from: 'alice', room: '#r', active: true } });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(signals).toEqual([]);
    });

    it('delivers nothing after close', async () => {
      const ledger = new Ledger();
      const { bus, delivered } = await node(ledger);
      await bus.close();
      bus.publishCommitted(ledger.commit('#r', 'late'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(delivered.ids).toEqual([]);
    });
  });
}
