// One account on two devices, driven through real `hush` processes in tmux against a real hushd
// (default config, end-to-end rooms): a room created on device A shows 🔒 on device B, B's line
// there reaches bob sealed (the server stores no text of it), a part on A closes the room on B,
// and A is told when B logs in, in the pane in front of it.
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** The chat list's rows (left panel) of a screen. */
function chatList(screen: string): string[] {
  return screen.split('\n').flatMap((row) => /^.(\d+\.[^x│]*)/.exec(row)?.[1]?.trim() ?? []);
}

describe('hush in tmux: one account on two devices', () => {
  it('a room created on the other device is 🔒 here and sealed, its events stay in its pane, a part there closes it here; a new device is told', async () => {
    const phone = await bed.loggedIn('alice');
    const bob = await bed.loggedIn('bob');
    await phone.waitFor('bob joined #lobby');
    await bob.typeLine('said before the laptop existed');
    await phone.waitFor('<bob> said before the laptop existed');

    // alice logs in from a laptop: the phone is told where she looks (#lobby), not only in its status window.
    const laptop = await bed.newDevice('alice');
    await laptop.waitFor('#lobby is end-to-end encrypted: this device reads'); // earlier messages stay closed to it
    await phone.waitFor(/a new device was added to your account: if it was not\s/);
    expect(phone.capture()).toMatch(/alice x #lobby x/);

    // The laptop has a direct conversation open while the phone creates #dev and bob joins it.
    await laptop.typeLine('/query bob');
    await laptop.waitFor(/alice x @bob x/);
    await phone.typeLine('/join #dev');
    await phone.waitFor('#dev did not exist: you created it, end-to-end encrypted');
    await laptop.waitFor((s) => chatList(s).some((row) => /#dev\s*🔒/.test(row)), '#dev with its lock on the laptop');
    await bob.typeLine('/join #dev');
    await phone.waitFor('bob joined #dev');
    await new Promise((resolve) => setTimeout(resolve, 500)); // the laptop's pane has had the event too
    expect(laptop.capture()).not.toContain('bob joined #dev'); // not drawn in the @bob pane

    await laptop.typeLine('/join #dev'); // already open: switches to it
    const dev = await laptop.waitFor('you created #dev on another device and are its owner');
    expect(dev).toContain('bob joined #dev');
    expect(dev).toContain('🔒 end-to-end encrypted room');
    expect(dev).not.toContain('readable by the server');

    await laptop.typeLine('sealed line from the laptop');
    await bob.waitFor('<alice> sealed line from the laptop');
    expect(laptop.capture()).not.toContain('not sent');
    const stored = JSON.stringify(bed.server.store.history({ room: 'dev' }, { limit: 100 }).messages);
    expect(stored).not.toContain('sealed line from the laptop');

    // The phone leaves #dev (its owner: asked first): the laptop follows.
    await phone.typeLine('/part');
    await phone.waitFor('[y] yes');
    phone.keys('y');
    await laptop.waitFor('you left #dev (on another device)');
    await laptop.waitFor((s) => !chatList(s).some((row) => row.includes('#dev')), '#dev gone from the laptop list');

    // What was said in #lobby before the laptop existed stays closed to it: /history says so.
    await laptop.typeLine('/join #lobby');
    await laptop.typeLine('/history');
    await laptop.waitFor('loaded 0 older message(s): none older that this device can open');
    expect(laptop.capture()).not.toContain('(no more)');
  }, 120_000);
});
