// The reconnect back-off grows to 10 s while the server is away. A person who sends a line meanwhile
// is waiting: the attempt comes at once (attempts stay a second apart), not at the back-off's end.
// And an attempt into a network that swallows everything gives up after 5 s, not the 15 s a first
// connection waits, so the next one goes out soon after the network is back.
import { startTestServer } from '@hush/server';
import { until } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { Fixture, nextEvent } from './helpers.js';

describe('a line sent while the reconnect waits out its back-off', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('hurries the next attempt: connected and delivered within seconds of the network coming back', async () => {
    const server = fx.stopAfter(await startTestServer());
    const { proxy: p, via } = await fx.proxyTo(server);
    const alice = await fx.user(via, 'alice');
    const bob = await fx.user(server, 'bob');

    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    p.cut();
    await reconnecting;
    // Six refused attempts: the back-off now under way is 5-10 s long (backoff.ts).
    await until(() => p.refused >= 6, 'six refused reconnect attempts', 30_000);
    p.heal();
    const healedAt = Date.now();
    const ready = nextEvent(alice, 'state', (s) => s === 'ready', 15_000);
    const arrived = nextEvent(bob, 'message', (m) => m.text === 'are you there?', 15_000);
    const sent = alice.sendDirect('bob', 'are you there?');
    await ready;
    expect(Date.now() - healedAt).toBeLessThan(3_000);
    await sent;
    await arrived;
  }, 60_000);

  it('a sender cannot hammer the server: attempts stay a second apart', async () => {
    const server = fx.stopAfter(await startTestServer());
    const { proxy: p, via } = await fx.proxyTo(server);
    const alice = await fx.user(via, 'alice');
    await fx.user(server, 'bob');

    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    p.cut();
    await reconnecting;
    await until(() => p.refused >= 1, 'a refused attempt', 10_000);
    const before = p.refused;
    const startedAt = Date.now();
    const sends: Promise<unknown>[] = [];
    while (Date.now() - startedAt < 3_000) {
      sends.push(alice.sendDirect('bob', `line ${sends.length}`).catch(() => undefined));
      await new Promise((r) => setTimeout(r, 20));
    }
    // About three seconds of sends every 20 ms: at most one attempt a second, plus the one under way.
    expect(p.refused - before).toBeLessThanOrEqual(4);
    expect(p.refused - before).toBeGreaterThanOrEqual(2);
    p.heal();
    await nextEvent(alice, 'state', (s) => s === 'ready', 15_000);
    await Promise.all(sends);
  }, 60_000);

  it('an attempt that hears no hello gives up after 5 s: connected again within seconds of the network coming back', async () => {
    const server = fx.stopAfter(await startTestServer());
    const { proxy: p, via } = await fx.proxyTo(server);
    const alice = await fx.user(via, 'alice', { timeoutMs: 15_000 });

    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    p.cut();
    await reconnecting;
    // Back, but swallowing every byte: the next attempt connects and hears nothing.
    const before = p.accepted;
    p.heal();
    p.stall();
    await until(() => p.accepted > before, 'an attempt into the dead network', 15_000);
    const attemptAt = Date.now();
    p.heal();
    await nextEvent(alice, 'state', (s) => s === 'ready', 30_000);
    // Its 5 s, then a short back-off (the first rounds' are under 2 s). Before, it waited for the hello
    // until hushd gave up on the swallowed one (10 s; a real black hole: 15 s, the first connection's wait).
    expect(Date.now() - attemptAt).toBeLessThan(9_500);
  }, 60_000);
});
