// /delete of someone else's message, driven through real `hush` processes in tmux against a real
// hushd: refused in words in an end-to-end room (its members apply only the author's delete), done
// by a room operator in an open room, the question and the confirmation naming whose message it was,
// and every member seeing who deleted it; refused in words, before asking, to a plain member.
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

// #ops is open; every other room (#lobby, #vault) is end to end.
const bed = TuiBed.install({ openRooms: ['ops'] });

describe("hush in tmux: deleting another member's message", () => {
  it('in an end-to-end room its owner is refused in words, before anything is sent; /help says so', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await alice.typeLine('/join #vault');
    await alice.waitFor('#vault did not exist: you created it, end-to-end encrypted');
    await bob.typeLine('/join #vault');
    await bob.waitFor('bob x #vault');
    await bob.typeLine('mine to keep');
    await alice.waitFor('<bob> mine to keep');

    await alice.typeLine('/delete 1'); // refused before asking
    // The notice wraps in the pane: its two halves.
    await alice.waitFor('!!! in an end-to-end room only its author can delete a message;');
    await alice.waitFor('moderators can /kick, /mute or /ban');
    expect(alice.capture()).not.toContain('deleted your message');
    await bob.typeLine('still here?');
    await alice.waitFor('<bob> still here?');
    for (const s of [alice, bob]) expect(s.capture()).toContain('<bob> mine to keep');
    // The same from a selected message: refused at once, not asked.
    alice.keys('M-Up');
    await alice.waitFor(/message 1 selected/);
    alice.keys('d');
    const refused = await alice.waitFor((x) => x.split('moderators can /kick, /mute or /ban').length === 3);
    expect(refused).not.toContain("delete bob's message");

    await alice.typeLine('/help delete');
    await alice.waitFor("open room, room operators may delete anyone's (end to end, only"); // wrapped in the pane
  }, 90_000);

  it('in an open room its operator deletes it, and the confirmation names whose it was', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await alice.typeLine('/join #ops');
    await alice.waitFor('alice x #ops');
    await bob.typeLine('/join #ops');
    await bob.waitFor('bob x #ops');
    // A server admin makes alice an operator of #ops.
    await (await bed.adminClient('warden')).setRole('ops', 'alice', 'op');
    await bob.typeLine('off topic');
    await alice.waitFor('<bob> off topic');

    await alice.typeLine('/delete 1');
    await alice.waitFor((x) => /delete bob's message of \d\d:\d\d "off topic"\?/.test(x) && x.includes('[y] yes'));
    alice.keys('y');
    await alice.waitFor(/deleted bob's message of \d\d:\d\d/);
    // Nobody takes it for bob's own delete: the line says who, and bob is told in words.
    for (const s of [alice, bob]) {
      await s.waitFor((x) => x.includes('<bob> message deleted by alice (a room operator)') && !x.includes('off topic'));
    }
    await bob.waitFor(/alice \(a room operator\) deleted your message of \d\d:\d\d/);

    // bob is a plain member: his /delete of alice's line is refused in words, never asked.
    await alice.typeLine('my words stay');
    await bob.waitFor('<alice> my words stay');
    await bob.typeLine('/delete 1');
    await bob.waitFor('you can delete only your own messages here');
    bob.keys('M-Up');
    await bob.waitFor(/message 1 selected/);
    bob.keys('d');
    const refused = await bob.waitFor((x) => x.split('you can delete only your own messages here').length === 3);
    expect(refused).not.toContain("delete alice's message");
    expect(refused).not.toContain('[FORBIDDEN]');
  }, 90_000);
});
