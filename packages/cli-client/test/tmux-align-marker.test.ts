// `{|}` is blessed's left/right alignment marker: in a message, a topic, a status text or typed
// into the input line it crashed every `hush` showing it, again at every restart. Real `hush`
// processes in tmux beside an SDK client, against a real hushd.
import { inputLine } from '@hush/test-kit';
import { describe, it } from 'vitest';
import { PASSWORD, quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: `{|}` in text', () => {
  it('shows it literally in messages, the topic, a status and the input line; every hush lives, and a restarted one opens the room', async () => {
    const mal = await bed.sdkClient('mal');
    await mal.register('mal', PASSWORD);
    await mal.createRoom('den', 'plans and ideas');
    const bobHome = bed.keptHome();
    const alice = await bed.launch('alice', bed.keptHome(), true);
    let bob = await bed.launch('bob', bobHome, true);
    for (const tui of [alice, bob]) {
      await tui.typeLine('/join #den');
      await tui.waitFor('plans and ideas');
    }

    await mal.send('den', 'short {|}right');
    await mal.send('den', 'hello {|} world');
    await mal.setTopic('den', 'welcome {|} all');
    await mal.setPresence('away', 'brb {|} lunch');
    const shown = (s: string) => ['<mal> short {|}right', '<mal> hello {|} world', '#den — welcome {|} all'].every((x) => s.includes(x));
    for (const tui of [alice, bob]) await tui.waitFor(shown, 'the messages and the topic, literally');

    await alice.typeLine('/whois mal');
    await alice.waitFor('presence: away — brb {|} lunch');
    alice.type('{|}');
    await alice.waitFor((s) => inputLine(s) === '> {|}', 'the typed marker in the input line');
    alice.keys('Enter');
    for (const tui of [alice, bob]) await tui.waitFor('<alice> {|}');

    await quit(bob); // alive: Ctrl+C ends it with 0
    bob = await bed.launch('bob', bobHome, false);
    await bob.typeLine('/join #den');
    await bob.waitFor((s) => shown(s) && s.includes('<alice> {|}'), 'the room, literally, after a restart');
    await quit(bob);
    await quit(alice);
  }, 120_000);
});
