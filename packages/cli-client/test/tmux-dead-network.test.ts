// A real `hush` in tmux whose network dies without closing anything (a laptop's wifi gone: no reset,
// no close, every byte lost) just as she sends a line: within seconds the status bar says
// `reconnecting…` (it said `connected` for up to 45 s, the line stuck at `(sending…)`), and once the
// network is back the line reaches bob, once.
import { until } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

/** The SDK gives a connection up after this long without a word while a reply is due (its liveness.ts). */
const WAITING_DEAD_MS = 20_000;

const bed = TuiBed.install();

describe('hush in tmux: the network dies under a line just sent', () => {
  it('says reconnecting… within seconds; the line goes out once it is back', async () => {
    const { tui: alice, proxy } = await bed.throughProxy('alice');
    const bob = await bed.loggedIn('bob');
    await alice.waitFor('bob joined #lobby');

    proxy.stall();
    const sentAt = Date.now();
    await alice.typeLine('into the dead network');
    await alice.waitFor('(sending…)');
    await alice.waitFor(/reconnecting… x alice/, 'reconnecting… in the status bar', WAITING_DEAD_MS + 10_000);
    expect(Date.now() - sentAt).toBeLessThan(WAITING_DEAD_MS + 5000);
    expect(alice.capture()).toContain('connection lost; reconnecting…');

    proxy.heal();
    await alice.waitFor((s) => / connected x alice/.test(s) && !s.includes('(sending…)'), 'the line acknowledged', 30_000);
    const screen = await bob.waitFor('<alice> into the dead network');
    expect(screen.split('<alice> into the dead network')).toHaveLength(2);
  }, 90_000);

  it('a line typed while the reconnect waits out a long back-off goes out within seconds of the network coming back', async () => {
    const { tui: alice, proxy } = await bed.throughProxy('alice');
    const bob = await bed.loggedIn('bob');
    await alice.waitFor('bob joined #lobby');

    proxy.cut();
    await alice.waitFor(/reconnecting… x alice/, 'reconnecting… in the status bar');
    // Six refused attempts: the back-off under way is now 5-10 s long.
    await until(() => proxy.refused >= 6, 'six refused reconnect attempts', 30_000);
    proxy.heal();
    const typedAt = Date.now();
    await alice.typeLine('back yet?');
    await alice.waitFor((s) => / connected x alice/.test(s) && !s.includes('(sending…)'), 'the line acknowledged', 15_000);
    expect(Date.now() - typedAt).toBeLessThan(4_000);
    await bob.waitFor('<alice> back yet?');
  }, 90_000);
});
