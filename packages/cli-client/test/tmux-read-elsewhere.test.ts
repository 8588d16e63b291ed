// alice reads bob's direct messages on her laptop while hush on her other machine is cut off, or not
// running. Once hush is back, that conversation does not count them unread: the read markers of her
// account come from the server after the catch-up (protocol 6), as they would have live.
import { describe, it } from 'vitest';
import { PASSWORD, quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** The conversation list shows `@bob` with no unread count after it. */
const bobRead = (s: string) => /\d\.@bob\b/.test(s) && !/\d\.@bob\s+\d/.test(s);

describe('hush in tmux: read on another device meanwhile', () => {
  it('after a reconnect: what the laptop read while hush was cut off is not unread here', async () => {
    const { tui: alice, proxy } = await bed.throughProxy('alice');
    const bob = await bed.sdkUser('bob');
    const laptop = await bed.sdkClient('alice-laptop');
    await laptop.login('alice', PASSWORD);
    await bob.sendDirect('alice', 'first, before the cut');
    await alice.waitFor(/\d\.@bob\s+1(?!\d)/, 'one unread from bob');

    proxy.cut();
    await alice.waitFor(/reconnecting… x alice/, 'reconnecting… in the status bar');
    await bob.sendDirect('alice', 'second, while cut off');
    const third = await bob.sendDirect('alice', 'third, while cut off');
    await laptop.markRead({ user: 'bob' }, third.id);

    proxy.heal();
    await alice.waitFor(/ connected x alice/, 'connected again', 30_000);
    await alice.waitFor(bobRead, '@bob with nothing unread', 10_000);
    await alice.typeLine('/query bob');
    await alice.waitFor((s) => s.includes('<bob> third, while cut off') && s.includes('<bob> second, while cut off'));
  }, 90_000);

  it('at a relaunch: what the laptop read while hush was closed is not unread here', async () => {
    const home = bed.keptHome();
    let alice = await bed.launch('alice', home, true);
    const bob = await bed.sdkUser('bob');
    await bob.sendDirect('alice', 'before she quits');
    await alice.waitFor(/\d\.@bob\s+1(?!\d)/, 'one unread from bob');
    await quit(alice);

    const laptop = await bed.sdkClient('alice-laptop');
    await laptop.login('alice', PASSWORD);
    await bob.sendDirect('alice', 'while hush was closed');
    const last = await bob.sendDirect('alice', 'and another');
    await laptop.markRead({ user: 'bob' }, last.id);

    alice = await bed.launch('alice', home, false);
    // A line from bob after the relaunch is the one unread there (its count is 3 when the laptop's
    // reads are not known), whether it comes before the history has loaded or after.
    await bob.sendDirect('alice', 'live after the relaunch');
    await alice.waitFor(/\d\.@bob\s+1(?!\d)/, 'one unread from bob', 10_000);
    await alice.typeLine('/query bob');
    await alice.waitFor((s) => s.includes('<bob> live after the relaunch') && s.includes('<bob> while hush was closed'));
  }, 90_000);
});
