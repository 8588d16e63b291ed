// A real `hush` in tmux on a network that drops three times in a row, nothing said meanwhile: the
// pane keeps one line for them all once back (each drop wrote two rows, 'connection lost;
// reconnecting…' and 'reconnected', and a flapping network scrolled the conversation away).
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: a flapping network', () => {
  it('three drops with nothing said meanwhile leave one line', async () => {
    const { tui: alice, proxy } = await bed.throughProxy('alice');
    await alice.typeLine('said before');
    await alice.waitFor((s) => s.includes('said before') && !s.includes('(sending…)'), 'the line acknowledged');

    for (let i = 0; i < 3; i++) {
      proxy.cut();
      await alice.waitFor('connection lost; reconnecting…', `drop ${i + 1}`);
      proxy.heal();
      await alice.waitFor((s) => / connected x alice/.test(s) && !s.includes('reconnecting…'), `back ${i + 1}`, 30_000);
    }
    const screen = await alice.waitFor(/connection lost 3 times in \d+ s; reconnected each time/);
    expect(screen).not.toContain('reconnecting…');
    expect(screen.split('reconnected')).toHaveLength(2);
    expect(screen).toContain('<alice> said before');
  }, 90_000);
});
