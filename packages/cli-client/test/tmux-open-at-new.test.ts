// A conversation opened with more new lines than the pane holds starts at its "new since you were
// here" rule, not at the bottom with the first new lines out of sight.
import { describe, expect, it } from 'vitest';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: opening a conversation with many new lines', () => {
  it('starts at the rule, with the first new line under it and more below', async () => {
    const alice = await bed.loggedIn('alice');
    const bob = await bed.sdkClient('b');
    await bob.register('bob', PASSWORD);
    await alice.waitFor('bob joined #lobby');
    await alice.typeLine('/join #elsewhere');
    await alice.waitFor('#elsewhere did not exist: you created it');
    for (let i = 1; i <= 60; i++) await bob.send('lobby', `burst line ${i}`);
    await alice.waitFor(/#lobby\s*🔒?\s*60/, 'the 60 new lines counted in the list');

    alice.keys('M-2'); // #lobby
    const screen = await alice.waitFor('new since you were here', 'the rule on screen');
    expect(screen).toContain('<bob> burst line 1');
    expect(screen).not.toContain('burst line 60');
    expect(screen).toContain('↓ more below');
    alice.keys('PageDown', 'PageDown', 'PageDown', 'PageDown');
    await alice.waitFor('<bob> burst line 60', 'the newest after paging down');
  }, 90_000);
});
