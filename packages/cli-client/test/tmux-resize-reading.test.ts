// A person scrolled up, reading, whose terminal is resized (a tmux pane split, a window dragged)
// keeps reading where she was: the re-wrapped rows do not move another part of the history under her.
import { describe, expect, it } from 'vitest';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** The numbers of the `story N` lines on screen, top to bottom. */
const shown = (screen: string): number[] => [...screen.matchAll(/story (\d+)\b/g)].map((m) => Number(m[1]));

describe('hush in tmux: resizing while scrolled up', () => {
  it('keeps the line at the foot of the view in view, narrower and wider', async () => {
    const alice = await bed.loggedIn('alice');
    const bob = await bed.sdkClient('b');
    await bob.register('bob', PASSWORD);
    await alice.waitFor('bob joined #lobby');
    // Long lines, so that a narrower pane wraps them onto more rows.
    for (let i = 1; i <= 80; i++) await bob.send('lobby', `story ${i} ${'and then it went on '.repeat(4)}`);
    await alice.waitFor('story 80 ');

    alice.keys('PPage');
    alice.keys('PPage');
    alice.keys('PPage');
    const before = await alice.waitFor((s) => s.includes('↓ more below') && shown(s).length > 0, 'scrolled up');
    const foot = shown(before).at(-1)!;
    expect(foot).toBeLessThan(75);

    alice.resize(80, 30);
    const narrow = await alice.waitFor((s) => s.includes('↓ more below') && !s.includes('story 80 '), 'redrawn at 80 columns');
    await new Promise((r) => setTimeout(r, 500)); // the redraw after the resize has settled
    expect(shown(alice.capture())).toContain(foot);
    expect(narrow).toContain('↓ more below');

    alice.resize(140, 30);
    await new Promise((r) => setTimeout(r, 800));
    expect(shown(alice.capture())).toContain(foot);
  }, 90_000);
});
