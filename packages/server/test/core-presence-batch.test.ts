// Presence changes gather for a short window and leave as one shared block per session, so a
// reconnect storm of N users costs each online session one record per window, not N notices.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Fanout } from '../src/handlers/fanout.js';
import { PRESENCE_WINDOW_MS, PresenceBatch, presenceWindowMs } from '../src/handlers/presence-batch.js';
import type { SharedBlock } from '../src/outbound.js';
import { DEFAULT_CONFIG } from '../src/config.js';
import { Metrics } from '../src/metrics.js';

function fakeContext(sessionCount: number) {
  const received: SharedBlock[][] = Array.from({ length: sessionCount }, () => []);
  const users = received.map((blocks) => ({ sessions: new Set([{ sendBlock: (b: SharedBlock) => blocks.push(b) }]) }));
  const metrics = new Metrics();
  const online = { all: () => users, size: users.length } as unknown as ConstructorParameters<typeof PresenceBatch>[0];
  return { online, fanout: new Fanout(metrics, DEFAULT_CONFIG.limits), metrics, received };
}

const lines = (block: SharedBlock): Array<Record<string, unknown>> =>
  block.bytes
    .toString('utf8')
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('PresenceBatch', () => {
  afterEach(() => vi.useRealTimers());

  it('sends a window of changes as one block per session, the latest state per user winning', () => {
    vi.useFakeTimers();
    const { online, fanout, metrics, received } = fakeContext(50);
    const batch = new PresenceBatch(online, fanout);
    for (let i = 0; i < 30; i++) batch.changed(`user-${i}`, 'online', '');
    batch.changed('user-3', 'away', 'lunch');
    expect(received.every((r) => r.length === 0)).toBe(true);

    vi.advanceTimersByTime(PRESENCE_WINDOW_MS);
    for (const blocks of received) {
      expect(blocks).toHaveLength(1);
      const notices = lines(blocks[0]!);
      expect(notices).toHaveLength(30);
      expect(notices[3]).toEqual({ type: 'presence', user: 'user-3', state: 'away', status: 'lunch' });
    }
    // Every session got the same bytes: encoded once.
    expect(new Set(received.map((r) => r[0]!.bytes)).size).toBe(1);
    expect(metrics.get('hush_fanout_deliveries_total')).toBe(50 * 30);
  });

  it('gathers longer with more people online, up to a second', () => {
    expect(presenceWindowMs(10)).toBe(PRESENCE_WINDOW_MS);
    expect(presenceWindowMs(5000)).toBe(500);
    expect(presenceWindowMs(1_000_000)).toBe(1000);
    vi.useFakeTimers();
    const { online, fanout, received } = fakeContext(2000);
    const batch = new PresenceBatch(online, fanout);
    batch.changed('amy', 'online', '');
    vi.advanceTimersByTime(199);
    expect(received[0]).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(received[0]).toHaveLength(1);
  });

  it('flush sends at once and leaves nothing for the timer', () => {
    vi.useFakeTimers();
    const { online, fanout, received } = fakeContext(2);
    const batch = new PresenceBatch(online, fanout);
    batch.changed('amy', 'offline', '');
    batch.flush();
    expect(received[0]).toHaveLength(1);
    vi.advanceTimersByTime(PRESENCE_WINDOW_MS * 2);
    expect(received[0]).toHaveLength(1);
  });
});
