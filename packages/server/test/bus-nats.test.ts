// NatsBus between two nodes on a real nats-server: one order on both, signals to the other node,
// and a nats-server killed (-9) and restarted mid-stream: nothing missing, nothing twice.
import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BusHandlers, type BusSignal, type BusState, NatsBus } from '../src/bus/index.js';
import { Delivered, Ledger } from './helpers/bus-ledger.js';
import { startNats, type TestNats } from './helpers/nats.js';

let nats: TestNats;
beforeAll(async () => {
  nats = await startNats();
});
afterAll(() => nats.stop());

const buses: NatsBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

async function cluster(ledger: Ledger, extra: Partial<BusHandlers> = {}) {
  const subject = `t${randomUUID().slice(0, 8)}`;
  const nodes = [];
  for (let i = 0; i < 2; i++) {
    const delivered = new Delivered();
    const states: BusState[] = [];
    const signals: Array<{ signal: BusSignal; node: string }> = [];
    const peers: string[] = [];
    const bus = await NatsBus.connect(
      { servers: nats.url, subject, graceMs: 50, heartbeatMs: 200 },
      {
        from: ledger.lastId,
        deliver: delivered.deliver,
        fillGap: ledger.fillGap,
        onState: (s) => states.push(s),
        onSignal: (signal, node) => signals.push({ signal, node }),
        onNode: (node, state) => peers.push(`${node} ${state}`),
        ...extra,
      },
    );
    buses.push(bus);
    nodes.push({ bus, delivered, states, signals, peers });
  }
  return { subject, a: nodes[0]!, b: nodes[1]! };
}

const texts = (d: Delivered) => d.messages.map((m) => (m.kind === 'room' ? m.text : ''));

describe('NatsBus, two nodes', () => {
  it('both nodes deliver every commit of both, in the one id order', async () => {
    const ledger = new Ledger();
    const { a, b } = await cluster(ledger);
    for (let i = 0; i < 100; i++) {
      const node = i % 3 === 0 ? b : a;
      node.bus.publishCommitted(ledger.commit(i % 2 ? '#odd' : '#even', `m${i}`));
    }
    await a.delivered.waitFor(100);
    await b.delivered.waitFor(100);
    const all = ledger.committed.map((m) => m.id);
    expect(a.delivered.ids).toEqual(all);
    expect(b.delivered.ids).toEqual(all);
  });

  it('signals reach the other node (batched per turn), not the sender', async () => {
    const ledger = new Ledger();
    const { a, b } = await cluster(ledger);
    a.bus.signal({ topic: 'presence', body: { user: 'alice', state: 'away' } });
    a.bus.signal({ topic: 'hits', body: { limiter: 'login', key: 'alice' } });
    await expect.poll(() => b.signals.length).toBe(2);
    expect(b.signals).toEqual([
      { signal: { topic: 'presence', body: { user: 'alice', state: 'away' } }, node: a.bus.node },
      { signal: { topic: 'hits', body: { limiter: 'login', key: 'alice' } }, node: a.bus.node },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(a.signals).toEqual([]);
  });

  it('nodes hear each other come up, and go down when one closes', async () => {
    const { a, b } = await cluster(new Ledger());
    await expect.poll(() => a.peers).toEqual([`${b.bus.node} up`]);
    await expect.poll(() => b.peers).toEqual([`${a.bus.node} up`]);
    await b.bus.close();
    await expect.poll(() => a.peers).toEqual([`${b.bus.node} up`, `${b.bus.node} down`]);
  });

  it('a node that falls silent (killed, no goodbye) is counted down after three missed heartbeats', async () => {
    const { subject, a } = await cluster(new Ledger());
    const raw = await connect({ servers: nats.url });
    try {
      raw.publish(`${subject}.beats`, JSON.stringify({ n: 'killed-node', h: '0' }));
      await raw.flush();
      await expect.poll(() => a.peers).toContain('killed-node up');
      expect(a.peers).not.toContain('killed-node down');
      await expect.poll(() => a.peers, { timeout: 5000 }).toContain('killed-node down'); // 3 x 200 ms
    } finally {
      await raw.close();
    }
  });

  it("a node's last commit lost on the bus is read from the store after that node's heartbeat", async () => {
    const ledger = new Ledger();
    const { subject, a } = await cluster(ledger);
    ledger.commit('#r', 'committed elsewhere, never seen on the bus');
    // Another node's heartbeat says it committed up to id 1.
    const raw = await connect({ servers: nats.url });
    try {
      raw.publish(`${subject}.beats`, JSON.stringify({ n: 'other-node', h: '1' }));
      await raw.flush();
      await a.delivered.waitFor(1);
      expect(texts(a.delivered)).toEqual(['committed elsewhere, never seen on the bus']);
    } finally {
      await raw.close();
    }
  });

  it('a malformed bus message is dropped and reported, the node carries on', async () => {
    const ledger = new Ledger();
    const errors: Error[] = [];
    const { subject, a, b } = await cluster(ledger, { onError: (e) => errors.push(e) });
    const raw = await connect({ servers: nats.url });
    try {
      raw.publish(`${subject}.commits`, 'not json');
      raw.publish(`${subject}.commits`, JSON.stringify({ n: 'x', m: [{ id: 'DROP TABLE' }] }));
      raw.publish(`${subject}.commits`, JSON.stringify({ n: 'x', m: [{ kind: 'room', id: '1', room: '#r' }] })); // no sender, no text
      raw.publish(`${subject}.signals`, JSON.stringify({ n: 'x', s: [{ topic: 'shell', body: 'rm -rf' }] }));
      await raw.flush();
      await expect.poll(() => errors.length).toBe(8); // four messages, two nodes
      expect(new Set(errors.map((e) => e.message))).toEqual(
        new Set([`malformed bus message on ${subject}.commits`, `malformed bus message on ${subject}.signals`]),
      );
      expect(a.signals).toEqual([]);
      b.bus.publishCommitted(ledger.commit('#r', 'after'));
      await a.delivered.waitFor(1);
      expect(texts(a.delivered)).toEqual(['after']);
    } finally {
      await raw.close();
    }
  });
});

describe('NatsBus across a nats-server crash', () => {
  it('kill -9 and restart mid-stream: both nodes reconnect by themselves, every commit once, in order', async () => {
    const ledger = new Ledger();
    const { a, b } = await cluster(ledger);
    const total = 300;
    let sent = 0;
    const publishing = (async () => {
      for (; sent < total; sent++) {
        const node = sent % 2 ? a : b;
        node.bus.publishCommitted(ledger.commit(`#r${sent % 3}`, `m${sent}`));
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();
    await expect.poll(() => sent, { timeout: 10_000 }).toBeGreaterThan(total / 3);
    await nats.kill();
    await expect.poll(() => a.bus.state, { timeout: 10_000 }).toBe('disconnected');
    await expect.poll(() => b.bus.state, { timeout: 10_000 }).toBe('disconnected');
    const duringOutage = sent;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sent).toBeGreaterThan(duringOutage); // commits went on while the bus was down
    await nats.restart();
    await publishing;
    await a.delivered.waitFor(total, 30_000);
    await b.delivered.waitFor(total, 30_000);
    const all = ledger.committed.map((m) => m.id);
    expect(a.delivered.ids).toEqual(all);
    expect(b.delivered.ids).toEqual(all);
    // A node can have read everything from the store before its bus is back: the bus comes back too.
    await expect.poll(() => a.states, { timeout: 10_000 }).toEqual(['disconnected', 'connected']);
    await expect.poll(() => b.states, { timeout: 10_000 }).toEqual(['disconnected', 'connected']);
    ledger.failReads = new Error('store unreadable: what arrives now came over the bus');
    a.bus.publishCommitted(ledger.commit('#r', 'after the outage'));
    await b.delivered.waitFor(total + 1);
    expect(b.delivered.ids).toEqual(ledger.committed.map((m) => m.id));
  });
});
