// Several addresses for one server (the nodes of a cluster share its identity key): the client
// dials them round robin, when the first connection fails and when a connection drops.
import { startTestServer, type TestServer } from '@hush/server';
import { closedPort, CutProxy, passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressRing, resolveAddresses } from '../src/server-addresses.js';
import { collect, Fixture, nextEvent } from './helpers.js';

describe('server addresses', () => {
  const lookup = async (host: string) => {
    if (host === 'cluster.example') return ['10.0.0.1', '10.0.0.2', '10.0.0.1'];
    if (host === 'gone.example') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return [host];
  };

  it('a name counts once per address it resolves to; repeats go; a name that does not resolve stays for the dial to report', async () => {
    expect(
      await resolveAddresses(
        [
          { host: 'cluster.example', port: 5555 },
          { host: 'gone.example', port: 5555 },
          { host: '10.0.0.2', port: 5555 },
          { host: '10.0.0.2', port: 6666 },
        ],
        lookup,
      ),
    ).toEqual([
      { host: '10.0.0.1', port: 5555 },
      { host: '10.0.0.2', port: 5555 },
      { host: 'gone.example', port: 5555 },
      { host: '10.0.0.2', port: 6666 },
    ]);
  });

  it('the ring goes round, resolving the names again each round', async () => {
    const answers = [['10.0.0.1', '10.0.0.2'], ['10.0.0.3']];
    let lookups = 0;
    const ring = new AddressRing([{ host: 'cluster.example', port: 1 }], async () => answers[lookups++] ?? []);
    const dialled = [];
    for (let i = 0; i < 4; i++) dialled.push((await ring.next()).host);
    expect(dialled).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', 'cluster.example']);
    expect(lookups).toBe(3);
  });

  it('resolves a real name with the system resolver', async () => {
    expect(await resolveAddresses([{ host: 'localhost', port: 5555 }])).toContainEqual({ host: '127.0.0.1', port: 5555 });
  });
});

describe('failover over real sockets', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('the first address refuses: the client ends up on the next one and pins the server there', async () => {
    const server = fx.stopAfter(await startTestServer());
    const dead = await closedPort();
    const alice = await fx.user({ host: '127.0.0.1', port: dead, fingerprint: server.fingerprint }, 'alice', {
      failover: [{ host: server.host, port: server.port }],
    });
    expect(alice.fingerprint).toBe(server.fingerprint);
    expect(alice.user).toBe('alice');
  });

  it('no address answers: one error naming each', async () => {
    const [a, b] = [await closedPort(), await closedPort()];
    const failed = await fx
      .connect({ host: '127.0.0.1', port: a }, { failover: [{ host: '127.0.0.1', port: b }] })
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'CONNECT_FAILED' });
    expect((failed as Error).message).toContain(`no address of the server answered: 127.0.0.1:${a}: `);
    expect((failed as Error).message).toContain(`; 127.0.0.1:${b}: `);
  });

  it('a node that shows another identity key is refused, as a single server would be: no silent fallback', async () => {
    const impostor = fx.stopAfter(await startTestServer());
    const server = fx.stopAfter(await startTestServer());
    const failed = await fx
      .connect(
        { host: impostor.host, port: impostor.port, fingerprint: server.fingerprint },
        { failover: [{ host: server.host, port: server.port }] },
      )
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'UNTRUSTED_SERVER' });
  });

  it('the node a client is on dies: it fails over to the other node, resumes its session and catches up once, in order', async () => {
    const dataDir = await fx.dir();
    let nodeA: TestServer | undefined = await startTestServer({ dataDir });
    const portB = await closedPort();
    // Node A behind a relay that can die the way a killed node does: every connection cut, none accepted.
    const viaA = await CutProxy.start({ host: nodeA.host, port: nodeA.port });
    try {
      const alice = await fx.user({ host: viaA.host, port: viaA.port, fingerprint: nodeA.fingerprint }, 'alice', {
        failover: [{ host: '127.0.0.1', port: portB }],
      });
      const bob = await fx.user(nodeA, 'bob');
      await alice.createRoom('ops');
      await bob.joinRoom('ops');
      const before = nextEvent(alice, 'message', (m) => m.text === 'before');
      await bob.send('ops', 'before');
      await before;
      await bob.close();

      const states = collect(alice, 'state');
      const messages = collect(alice, 'message');
      const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
      viaA.cut(); // node A is gone for its clients
      await reconnecting;
      const back = nextEvent(alice, 'state', (s) => s === 'ready', 20_000);
      const queued = alice.send('ops', 'sent during the outage').catch((e: unknown) => e);
      await nodeA.stop();
      nodeA = undefined;
      // Node B: the same identity key and data, on the client's second address.
      const nodeB = fx.stopAfter(await startTestServer({ dataDir, port: portB }));
      expect(nodeB.fingerprint).toBe(alice.fingerprint);
      const bob2 = await fx.connect(nodeB, { paths: bob.paths });
      await bob2.login('bob', passwordOf('bob'));
      await bob2.send('ops', 'missed 1');
      await bob2.send('ops', 'missed 2');

      await back;
      expect(await queued).toMatchObject({ id: expect.any(String) });
      const live = nextEvent(alice, 'message', (m) => m.text === 'live');
      await bob2.send('ops', 'live');
      await live;
      expect(states).toEqual(['reconnecting', 'ready']);
      const texts = messages.map((m) => m.text);
      expect(texts.filter((t) => t !== 'sent during the outage')).toEqual(['missed 1', 'missed 2', 'live']);
      expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
      // In history once each (where alice's queued message falls depends on when she got back).
      const { messages: history } = await alice.history({ room: 'ops' }, { limit: 10 });
      expect(history.map((m) => m.text).sort()).toEqual(['before', 'live', 'missed 1', 'missed 2', 'sent during the outage']);
    } finally {
      await viaA.close();
      await nodeA?.stop();
    }
  });
});
