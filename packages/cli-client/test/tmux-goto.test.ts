// /goto opens a search result where it is: the found message scrolled into view and selected (r,
// e, d and + then act on it), not only a "found" line at the bottom of a long conversation.
import { inputLine } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: /goto', () => {
  it('scrolls the found message into view and selects it, far above the newest lines', async () => {
    const alice = await bed.loggedIn('alice');
    const bob = await bed.sdkUser('bob');
    await alice.waitFor('bob joined #lobby');
    await bob.send('lobby', 'the needle in the haystack');
    for (let i = 1; i <= 50; i++) await bob.send('lobby', `filler line ${i}`);
    await alice.waitFor('<bob> filler line 50');

    await alice.typeLine('/search needle');
    await alice.waitFor('search "needle": 1 found');
    expect(alice.capture()).not.toContain('<bob> the needle'); // far above, out of view
    await alice.typeLine('/goto 1');
    // The message itself on screen (the "found:" notice says "bob:", not "<bob>"), selected: numbered.
    const screen = await alice.waitFor(/\[\d+\] \d\d:\d\d <bob> the needle in the haystack/, 'the found message on screen, selected');
    expect(screen).toContain('↓ more below');
    expect(screen).toMatch(/message \d+ selected/); // the status bar says what r, e, d and + act on
    alice.keys('r');
    await alice.waitFor((s) => /^> \/reply \d+$/.test(inputLine(s).trimEnd()), '/reply N in the input line');
  }, 90_000);
});
