// Stress variant of test/net-limits.test.ts: 1,000 slowloris sockets, 100 readers that never read,
// a longer flood by several clients; the server's memory is sampled throughout.
import { describe, expect, it } from 'vitest';
import { flood, overflowsLogged, LIMITS_UNDER_TEST, neverReaders, slowAuth, slowloris } from '../test/helpers-net/limits.js';
import { limitsServer } from '../test/helpers-net/limits-server.js';
import { RawClient } from '../test/helpers-net/raw-client.js';
import { percentile, until } from '../test/helpers-net/sdk.js';

const fixture = limitsServer('hushd-limits-stress-');

describe('resource limits (stress)', () => {
  it('1,000 slowloris sockets and 200 slow authenticators are all cut at their deadlines', async () => {
    const rss = fixture.hushd.rss();
    const [pre, auth] = await Promise.all([
      slowloris(fixture.hushd.port, 1000, 2000, 15_000),
      slowAuth(fixture.hushd.port, 200, 2000, 15_000),
    ]);
    expect(pre.filter((r) => r.closedMs === Infinity)).toEqual([]);
    expect(auth.filter((r) => r.closedMs === Infinity)).toEqual([]);
    expect(Math.max(...pre.map((r) => r.closedMs))).toBeLessThan(LIMITS_UNDER_TEST.handshakeTimeoutMs + 4000);
    expect(fixture.hushd.rss() - rss).toBeLessThan(128 * 1024 * 1024);
  }, 60_000);

  it('ten flood clients at once: each rate limited and cut off', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => flood(fixture.hushd.port, `stressflood${i}`, 'lobby', 100, 5000)),
    );
    for (const r of results) {
      expect(r.goodbye).toBe('RATE_LIMITED');
      expect(r.acked).toBeLessThanOrEqual(LIMITS_UNDER_TEST.messageBurst + LIMITS_UNDER_TEST.messagesPerSecond * 6);
    }
  }, 60_000);

  it('100 readers that never read: all cut off with QUEUE_OVERFLOW, memory bounded', async () => {
    const owner = await RawClient.connect(fixture.hushd.port);
    await owner.register('stress-flow-owner');
    expect((await owner.request({ type: 'room_join', room: 'flow' })).type).toBe('ok'); // open, made at start
    for (let i = 0; i < 10; i++) {
      owner.send(
        Array.from({ length: 9 }, (_, n) => ({
          type: 'send' as const,
          id: `w${i}-${n}`,
          room: 'flow',
          text: `${i}:${n}:`.padEnd(4000, 'x'),
        })),
      );
      await until(() => (owner.counts.get('ack') ?? 0) >= 9 * (i + 1), 10_000, 'history');
      await new Promise((r) => setTimeout(r, 1000)); // within the owner's own rate limit
    }
    const before = fixture.hushd.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, fixture.hushd.rss())), 25);
    let readers: RawClient[] = [];
    try {
      readers = await neverReaders(fixture.hushd.port, 100, 'flow', 38, 'ssleeper');
      await until(() => overflowsLogged(fixture.hushd.output(), readers.length), 30_000, 'every sleeper to overflow');
    } finally {
      clearInterval(sampler);
    }
    for (const r of readers) r.socket.resume();
    await Promise.all(readers.map((r) => Promise.race([r.closed, new Promise((res) => setTimeout(res, 5000))])));
    console.log(JSON.stringify({ beforeMiB: before / 2 ** 20, peakMiB: peak / 2 ** 20 }));
    expect(readers.every((r) => r.isClosed)).toBe(true);
    expect(peak - before).toBeLessThan(256 * 1024 * 1024); // unbounded would be ~100 x 38 x 250 KiB = 930 MiB
    await owner.close();
  }, 120_000);

  it('the honest client was served throughout', () => {
    expect(fixture.probe.failures).toEqual([]);
    expect(percentile(fixture.probe.rtts, 99)).toBeLessThan(500);
  });
});
