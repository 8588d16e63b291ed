// The connection's liveness verdicts, fed times: idle silence is normal for long, silence while a
// reply is due is not; and, over real sockets, a network that dies under a line just sent is noticed
// in seconds, the line going out once when it is back.
import { startTestServer } from '@hush/server';
import { afterEach, describe, expect, it } from 'vitest';
import { Liveness, LIVENESS_LIMITS } from '../src/liveness.js';
import { collect, Fixture, nextEvent } from './helpers.js';

const { idlePingMs, idleDeadMs, waitingPingMs, waitingDeadMs } = LIVENESS_LIMITS;

describe('Liveness', () => {
  it('idle: alive, a ping after idlePingMs of silence (and again as often), dead after idleDeadMs', () => {
    const l = new Liveness(0);
    expect(l.check(idlePingMs - 1)).toBe('alive');
    expect(l.check(idlePingMs)).toBe('ping');
    expect(l.check(idlePingMs + 1)).toBe('alive');
    expect(l.check(2 * idlePingMs)).toBe('ping');
    expect(l.check(idleDeadMs - 1)).not.toBe('dead');
    expect(l.check(idleDeadMs)).toBe('dead');
  });

  it('a reply due: a ping after waitingPingMs with nothing heard, dead after waitingDeadMs', () => {
    const l = new Liveness(0);
    l.asked(1000);
    l.asked(3000); // still counted from the first
    expect(l.check(1000 + waitingPingMs - 1)).toBe('alive');
    expect(l.check(1000 + waitingPingMs)).toBe('ping');
    expect(l.check(1000 + waitingDeadMs - 1)).toBe('alive');
    expect(l.check(1000 + waitingDeadMs)).toBe('dead');
  });

  it('hearing anything counts: replies still due are counted from then, none due is idle again', () => {
    const l = new Liveness(0);
    l.asked(0);
    l.heard(4000, true); // a pong, the reply itself still due
    expect(l.check(4000 + waitingPingMs)).toBe('ping');
    l.heard(10_000, false);
    expect(l.check(10_000 + waitingDeadMs)).toBe('ping'); // idle: long silences are normal
    expect(l.check(10_000 + idleDeadMs)).toBe('dead');
  });
});

describe('a network that dies under a line just sent', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('is noticed within waitingDeadMs (not idleDeadMs), and the line is sent once when it is back', async () => {
    const server = fx.stopAfter(await startTestServer({ registration: 'open' }));
    const { proxy: p, via } = await fx.proxyTo(server);
    const alice = await fx.user(via, 'alice');
    const bob = await fx.user(server, 'bob');
    const got = collect(bob, 'message');

    p.swallow(); // what the server says never arrives: no ack, no pong
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting', waitingDeadMs + 10_000);
    const sentAt = Date.now();
    const sent = alice.send('lobby', 'into the dead network');
    await reconnecting;
    const noticedAfter = Date.now() - sentAt;
    expect(noticedAfter).toBeLessThan(waitingDeadMs + 5000);
    expect(noticedAfter).toBeGreaterThanOrEqual(waitingPingMs);

    p.heal();
    await sent;
    const live = nextEvent(bob, 'message', (m) => m.text === 'after');
    await alice.send('lobby', 'after');
    await live;
    expect(got.map((m) => m.text)).toEqual(['into the dead network', 'after']);
  }, 60_000);
});
