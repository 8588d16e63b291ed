// A conversation opened with more new lines than the pane holds starts at its "new since you were
// here" rule, not at the bottom with the first new lines out of sight: on a switch, and at a start
// after time away (its catch-up comes after the first screen). A command typed there is answered in view.
import { describe, expect, it } from 'vitest';
import { quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: opening a conversation with many new lines', () => {
  it('starts at the rule, with the first new line under it and more below; a command brings its answer into view', async () => {
    const alice = await bed.loggedIn('alice');
    const bob = await bed.sdkUser('bob');
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
    // The answer to a command typed here is said at the bottom: the view goes there, as for a sent line.
    await alice.typeLine('/whois bob');
    await alice.waitFor((s) => s.includes('<bob> burst line 60') && s.includes('whois bob:'), 'the whois answer in view');
  }, 90_000);

  it('after a start, the conversation on screen opens at its rule once its catch-up is in', async () => {
    const home = bed.keptHome();
    const first = await bed.launch('alice', home, true);
    const bob = await bed.sdkUser('bob');
    await first.waitFor('bob joined #lobby');
    await quit(first);
    for (let i = 1; i <= 40; i++) await bob.send('lobby', `while away ${i}`);

    const again = await bed.launch('alice', home, false);
    const screen = await again.waitFor('new since you were here', 'the rule on the first screen');
    expect(screen).toContain('<bob> while away 1');
    expect(screen).not.toContain('while away 40');
    expect(screen).toContain('↓ more below');
  }, 90_000);
});
