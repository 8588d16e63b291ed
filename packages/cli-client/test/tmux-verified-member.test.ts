// A contact bob verified adds a device, driven through real `hush` processes in tmux against a real
// hushd (#lobby end to end): bob is told in (status), not in the room he has open; he still posts in
// #lobby, read on alice's new device too; his direct message to alice waits for /verify.
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: a verified contact adds a device', () => {
  it('said in (status); #lobby still reaches every device of hers; a direct message says /verify first', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await bob.typeLine('/verify alice');
    await bob.waitFor((s) => s.includes("Does alice's safety number match?") && s.includes('[y] yes')); // armed
    bob.keys('y');
    await bob.waitFor('alice is now verified');

    const laptop = await bed.newDevice('alice');
    bob.keys('M-1'); // (status): the change is said there, bob having no conversation with alice
    await bob.waitFor((s) => s.includes(' hush  status') && s.includes('CHANGED since you verified'));
    bob.keys('M-2');
    const lobby = await bob.waitFor(' hush  #lobby');
    expect(lobby).not.toContain('CHANGED');

    await bob.typeLine('still talking to the room');
    await laptop.waitFor('<bob> still talking to the room');
    await alice.waitFor('<bob> still talking to the room');
    expect(bob.capture()).not.toContain('not sent');

    await bob.typeLine('/msg alice private words');
    await bob.waitFor((s) => s.includes('not sent to alice: "private words"') && s.includes('/verify alice, then /retry'));
  }, 90_000);
});
