// /search as people read it: a word finds words that start with it ("report 2" finds report 2 and
// 20-29, not 12), and a burst of messages sent within one millisecond is listed newest first.
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: /search', () => {
  it('finds words by their start, newest first, also within one burst', async () => {
    const alice = await bed.loggedIn('alice');
    const bob = await bed.sdkUser('bob');
    await alice.waitFor('bob joined #lobby');
    // A burst: the server stamps many of them with the same millisecond.
    await Promise.all(Array.from({ length: 30 }, (_, i) => bob.send('lobby', `report ${i + 1}`)));
    await alice.waitFor('<bob> report 30');

    await alice.typeLine('/search report 2');
    const screen = await alice.waitFor('search "report 2": 11 found');
    const found = [...screen.matchAll(/\d+\. \d\d:\d\d #lobby bob: report (\d+)/g)].map((m) => Number(m[1]));
    expect(found).toEqual([29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 2]);
  }, 90_000);
});
