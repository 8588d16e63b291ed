import { e2eRoom } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { isHushError } from '../src/errors.js';
import { collect, Fixture, nextEvent } from './helpers.js';

// A sealed room message the server refuses (here: its sender is muted) keeps its place in the
// sender's chain, as no place is ever used twice: the members see a gap before the sender's next
// message, and the warning says it may be the sender's refused lines, not only the server.

describe('a gap in a sender chain', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('after a refused room message, the members are told it may have been refused when sent', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    const carol = await fx.user(s, 'carol');
    await e2eRoom('vault', alice, bob, carol);
    const first = nextEvent(carol, 'message', (m) => m.text === 'first');
    await bob.send('vault', 'first');
    await first;

    await alice.mute('vault', 'bob');
    const refused = await bob.send('vault', 'while muted').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isHushError(refused, 'MUTED')).toBe(true);
    await alice.unmute('vault', 'bob');

    const notices = collect(carol, 'notice');
    const after = nextEvent(carol, 'message', (m) => m.text === 'after the mute');
    await bob.send('vault', 'after the mute');
    await after;
    const gap = notices.filter((n) => n.code === 'E2E_ROOM_MESSAGE');
    expect(gap.map((n) => n.text)).toEqual([
      '#vault, from bob: messages of this sender are missing before this one: refused when sent (the sender was told) or lost, or held back by the server',
    ]);
  });
});
