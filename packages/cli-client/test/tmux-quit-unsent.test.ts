// A real `hush` in tmux that quits while the server is out of reach with lines still waiting to go:
// they cannot go any more, and the terminal says which, each in full to copy (they vanished unsaid).
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: quitting with lines not sent', () => {
  it('lists them on the terminal once hush has quit', async () => {
    const { tui: alice, proxy } = await bed.throughProxy('alice');
    await alice.typeLine('sent while connected');
    await alice.waitFor((s) => s.includes('sent while connected') && !s.includes('(sending…)'), 'the first line acknowledged');

    proxy.cut();
    await alice.waitFor('reconnecting…');
    await alice.typeLine('waiting one');
    await alice.typeLine('waiting two');
    await alice.waitFor((s) => s.split('(sending…)').length === 3, 'both lines waiting');
    await alice.typeLine('/quit');
    expect(await alice.exitCode()).toBe(0);
    const screen = alice.capture();
    expect(screen).toMatch(
      /hush: 2 lines were not sent \(the server was out of reach when hush quit\):\s+#lobby: waiting one\s+#lobby: waiting two/,
    );
    expect(screen).not.toContain('sent while connected');
  }, 60_000);
});
