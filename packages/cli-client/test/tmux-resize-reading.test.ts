// A person scrolled up, reading, whose terminal is resized (a tmux pane split, a window dragged)
// keeps reading where she was: the re-wrapped rows do not move another part of the history under her.
import { describe, expect, it } from 'vitest';
import type { HushTui } from '@hush/test-kit';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** The numbers of the `story N` lines on screen, top to bottom. */
const shown = (screen: string): number[] => [...screen.matchAll(/story (\d+)\b/g)].map((m) => Number(m[1]));

/** The screen once two captures 300 ms apart agree (a resize or a key has been drawn). */
async function settled(tui: HushTui): Promise<string> {
  let last = tui.capture();
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 300));
    const now = tui.capture();
    if (now === last) return now;
    last = now;
  }
  return last;
}

describe('hush in tmux: resizing while scrolled up', () => {
  it('keeps the line at the foot of the view there, narrower and wider', async () => {
    const alice = await bed.loggedIn('alice');
    alice.resize(120, 40);
    const bob = await bed.sdkClient('b');
    await bob.register('bob', PASSWORD);
    await alice.waitFor('bob joined #lobby');
    // Two rows each in the 120-column layout, three in the 80-column one: a resize changes the rows below.
    for (let i = 1; i <= 80; i++) await bob.send('lobby', `story ${i} ${'and then it went on '.repeat(5)}`);
    await alice.waitFor('story 80 ');

    alice.keys('PPage');
    await alice.waitFor('↓ more below', 'scrolled up');
    const foot = shown(await settled(alice)).at(-1)!;
    expect(foot).toBeLessThan(75);

    alice.resize(80, 40);
    const narrow = await settled(alice);
    expect(narrow).toContain('↓ more below');
    expect(shown(narrow).at(-1)).toBe(foot); // still the line at the foot

    alice.resize(120, 40);
    expect(shown(await settled(alice)).at(-1)).toBe(foot);
  }, 90_000);
});
