// Relaunching real `hush` processes in tmux against a real hushd: the direct conversations come
// back with their history, offers left waiting are listed once at their own time (no prompt each),
// and a banned client says so once and offers no /retry that cannot work.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatTime } from '../src/format.js';
import { PASSWORD, quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: relaunched', () => {
  it('the direct conversations are back in the list, in their order, with their history', async () => {
    const aliceHome = bed.keptHome();
    const bobHome = bed.keptHome();
    let alice = await bed.launch('alice', aliceHome, true);
    let bob = await bed.launch('bob', bobHome, true);
    await bed.launch('carol', bed.keptHome(), true).then(quit);
    await alice.typeLine('/msg bob are you there?');
    await bob.waitFor(/3\.@alice/);
    await bob.typeLine('/query alice');
    await bob.waitFor('<alice> are you there?');
    await bob.typeLine('yes, here');
    await alice.waitFor(/3\.@bob\s+1(?!\d)/, "bob's answer reached alice"); // before she quits: seen with it
    await alice.typeLine('/msg carol a note for later');
    await alice.waitFor(/4\.@carol/);
    await quit(alice);
    await bob.typeLine('written while you were away');
    await bob.waitFor('<bob> written while you were away');
    await quit(bob);

    const file = join(aliceHome, 'data', 'hush', 'conversations.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      [`alice@${bed.server.fingerprint}`]: [
        { user: 'bob', seen: expect.stringMatching(/^\d+$/) },
        { user: 'carol', seen: expect.stringMatching(/^\d+$/) },
      ],
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    alice = await bed.launch('alice', aliceHome, false);
    bob = await bed.launch('bob', bobHome, false);
    // What came while alice was away counts as unread there.
    await alice.waitFor((s) => /3\.@bob\s+1(?!\d)/.test(s) && /4\.@carol/.test(s), 'both direct conversations listed, in their order');
    await bob.waitFor(/3\.@alice/);
    await alice.typeLine('/query bob');
    await alice.waitFor(
      (s) => s.includes('<alice> are you there?') && s.includes('<bob> yes, here') && s.includes('<bob> written while you were away'),
      "alice's history with bob",
    );
    await bob.typeLine('/query alice');
    await bob.waitFor((s) => s.includes('<alice> are you there?') && s.includes('<bob> yes, here'), "bob's history with alice");
    await alice.typeLine('/query carol');
    await alice.waitFor('<alice> a note for later');
  }, 120_000);

  it('offers left waiting are listed once at their own time, not a prompt each; a new one still asks', async () => {
    const aliceHome = bed.keptHome();
    await bed.launch('alice', aliceHome, true).then(quit);
    const bob = await bed.sdkClient('bob');
    await bob.register('bob', PASSWORD);
    const files = ['one.txt', 'two.txt', 'three.txt'].map((name) => {
      const path = join(bed.dataDir, name);
      writeFileSync(path, `contents of ${name}\n`);
      return path;
    });
    // The three offers go out well inside one minute, so one time stands for all of them.
    while (Date.now() % 60_000 > 50_000) await new Promise((r) => setTimeout(r, 250));
    const offeredAt = Date.now();
    for (const path of files) await bob.sendFile({ user: 'alice' }, path);
    expect(Math.floor(Date.now() / 60_000)).toBe(Math.floor(offeredAt / 60_000));
    // A login in a later minute than the offers shows which time a line carries.
    const sentMinute = Math.floor(offeredAt / 60_000);
    while (Math.floor(Date.now() / 60_000) === sentMinute) await new Promise((r) => setTimeout(r, 250));
    const loginTime = formatTime(Date.now());
    const offerTime = formatTime(offeredAt);

    const alice = await bed.launch('alice', aliceHome, false);
    const screen = await alice.waitFor('3 files offered while you were away');
    for (const name of ['one.txt', 'two.txt', 'three.txt']) expect(screen).toContain(`${offerTime} bob offered "${name}" (`);
    expect(screen).not.toMatch(/offers "/); // no prompt
    await alice.typeLine('/query bob');
    const dm = await alice.waitFor(`${offerTime} -F- file offer from bob: "three.txt"`);
    expect(dm).not.toContain(`${loginTime} -F-`);
    expect(dm).toContain(`${offerTime} -F- file offer from bob: "one.txt"`);

    await bob.sendFile({ user: 'alice' }, files[0]!);
    await alice.waitFor('bob offers "one.txt"'); // asked there and then
  }, 150_000);

  it('a ban: said once in words; a line typed after is refused in those words; /retry agrees', async () => {
    const admin = await bed.adminClient('warden');
    const bob = await bed.launch('bob', bed.keptHome(), true);

    await admin.ban({ user: 'bob', reason: 'spam' });
    // The pane wraps the sentence: its start is on one row, its end further on.
    const banned = 'you were banned from this server: spam.';
    await bob.waitFor((s) => s.includes(`!!! ${banned}`) && s.includes('once the ban is lifted or has run out'), 'the ban in words');
    await bob.typeLine('hello?');
    await bob.waitFor(`!!! not sent: ${banned}`);
    await bob.typeLine('/retry');
    const screen = await bob.waitFor(`!!! nothing can be sent: ${banned}`);
    expect(screen).not.toContain('/retry sends it again');
    expect(screen).not.toContain('no refused line');
    expect(screen.split(`!!! ${banned}`).length - 1).toBe(1); // said once
  }, 90_000);
});
