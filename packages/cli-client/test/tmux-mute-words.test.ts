// A muted person's refused line says how long the mute lasts yet, as the server counts it.
import { describe, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: how long a mute lasts', () => {
  it('a mute without an end, then one of ten minutes, each said under the refused line', async () => {
    const { alice, bob } = await bed.bobMutedInQuiet();
    // A mute without an end never runs out: the notice sends him to the refusal, which says how long.
    await bob.waitFor('you were muted in #quiet by alice: what you send there is');
    await alice.waitFor((s) => s.includes('bob was muted in #quiet by alice') && !s.includes('runs out'), 'a plain mute notice');
    await bob.typeLine('may I speak?');
    await bob.waitFor('muted in #quiet until an operator unmutes you');
    await alice.typeLine('/unmute bob');
    await bob.waitFor('you were unmuted in #quiet by alice');
    await alice.typeLine('/mute bob 600');
    await bob.waitFor('you were muted in #quiet by alice');
    await bob.typeLine('and now?');
    await bob.waitFor(/muted in #quiet for another (10|9) min/, 'the ten minutes left');
  }, 90_000);
});
