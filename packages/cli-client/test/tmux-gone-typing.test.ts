// Real `hush` processes in tmux against a real hushd: when someone's connection goes away while
// they are typing, the others stop showing them 'typing…' at once (the server says they went
// offline), not when the indicator would have run out six seconds later.
import { describe, expect, it } from 'vitest';
import { TYPING_TTL_MS } from '../src/state.js';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: typing… of someone whose connection went away', () => {
  it('goes from the status bar as soon as they are offline', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    alice.type('half a sentence');
    await bob.waitFor('alice typing…');
    const gone = Date.now();
    alice.kill(); // her hush ends: the connection closes, no 'stopped typing' is ever sent
    await bob.waitFor((s) => !s.includes('alice typing…'), "alice's typing… gone", TYPING_TTL_MS + 2000);
    expect(Date.now() - gone).toBeLessThan(TYPING_TTL_MS / 2);
  }, 60_000);
});
