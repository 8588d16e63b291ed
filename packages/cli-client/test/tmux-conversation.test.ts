// Replies, reactions, edits, deletes, the mention bell and search, driven through real `hush`
// processes in tmux against a real hushd.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inputLine, until } from '@hush/test-kit';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

// An open lobby: the server checks references there (a delete of another's message is FORBIDDEN).
const bed = TuiBed.install({ openRooms: ['lobby'] });
const loggedIn = bed.loggedIn.bind(bed);

/** Bells hush wrote to its terminal: BEL bytes that do not end an OSC sequence (the window title). */
function bells(output: string): number {
  return output.replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '').split('\x07').length - 1;
}

describe('hush in tmux: conversation features', () => {
  it('reply with a quote, reactions with counts and who, edit prefilled, delete', async () => {
    const { alice, bob } = await bed.aliceAndBob();

    await bob.typeLine('lunch at noon?');
    await alice.waitFor('<bob> lunch at noon?');
    // Typing /reply numbers the messages, so the one to name is on screen.
    alice.type('/reply ');
    await alice.waitFor(/\[1\] \d\d:\d\d <bob> lunch at noon\?/);
    await alice.typeLine('1 sure, where?');
    for (const s of [alice, bob]) {
      const screen = await s.waitFor('<alice> sure, where?');
      const rows = screen.split('\n');
      const at = rows.findIndex((r) => r.includes('<alice> sure, where?'));
      expect(rows[at - 1]).toContain('↪ bob: lunch at noon?');
    }
    expect(alice.capture()).not.toMatch(/\[1\] \d\d:\d\d/); // the numbers go with the command

    await bob.typeLine('/react 2 :thumbsup:');
    await alice.waitFor(/lunch at noon\?[^\n]*\n.*┆ 👍 1/);
    await alice.typeLine('/react 2 👍');
    await bob.waitFor(/lunch at noon\?[^\n]*\n.*┆ 👍 2/);
    await alice.typeLine('/react 2 :tada:');
    await bob.waitFor(/👍 2 {2}🎉 1/);
    await bob.typeLine('/reactions 2');
    await bob.waitFor(/👍 bob, alice/);
    await alice.typeLine('/react 2 :tada:'); // the same again takes it back
    await bob.waitFor((x) => /👍 2/.test(x) && !x.includes('🎉 1'));

    // /edit alone puts the old text in the input line to change.
    await bob.typeLine('/edit');
    await bob.waitFor((x) => inputLine(x).includes('/edit 2 lunch at noon?'));
    await bob.typeLine(' or one');
    await alice.waitFor('<bob> lunch at noon? or one (edited)');
    await alice.waitFor('↪ bob: lunch at noon? or one');

    // /delete asks first, naming the message. Someone else's, by a plain member: refused in words, not asked.
    await bob.typeLine('/delete 1');
    await bob.waitFor('you can delete only your own messages here');
    expect(bob.capture()).not.toContain("delete alice's message");
    await alice.typeLine('/delete 1');
    await alice.waitFor((x) => /delete your message of \d\d:\d\d "sure, where\?"\?/.test(x) && x.includes('[y] yes'));
    alice.keys('y');
    for (const s of [alice, bob]) await s.waitFor((x) => x.includes('<alice> message deleted') && !x.includes('sure, where?'));
  }, 90_000);

  it('Alt+Up selects a message, Up moves to an older one, r replies to it', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await bob.typeLine('which day suits?');
    await bob.typeLine('and what time?');
    await alice.waitFor('<bob> and what time?');

    alice.keys('M-Up'); // the newest is selected, numbered, and the status bar says what the keys do
    await alice.waitFor(/message 1 selected: Enter\/r reply/);
    alice.keys('Up');
    await alice.waitFor(/message 2 selected/);
    alice.keys('r');
    await alice.waitFor((x) => inputLine(x).includes('/reply 2'));
    await alice.typeLine('friday');
    for (const s of [alice, bob]) {
      const screen = await s.waitFor('<alice> friday');
      const rows = screen.split('\n');
      expect(rows[rows.findIndex((r) => r.includes('<alice> friday')) - 1]).toContain('↪ bob: which day suits?');
    }
    expect(alice.capture()).not.toContain('selected:');
  }, 90_000);

  it('a mention or a direct message rings the bell and marks the conversation; /bell off silences it; /mentions lists', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    const log = join(bob.home, 'pane-output');
    bob.pipeTo(log);
    const rung = () => bells(existsSync(log) ? readFileSync(log, 'latin1') : '');

    // Tab completes @name mid-line.
    alice.type('hey @bo');
    alice.keys('Tab');
    await alice.waitFor((x) => inputLine(x).endsWith('hey @bob')); // and a space: see what bob gets
    await alice.typeLine('look at this');
    await bob.waitFor('<alice> hey @bob look at this');
    await until(() => rung() === 1, 'the bell rings once');

    await alice.typeLine('/msg bob psst');
    await bob.waitFor(/3\.@alice\s+1@/); // marked in the list
    await until(() => rung() === 2, 'the bell rings again');

    await bob.typeLine('/bell off');
    await bob.waitFor('the bell is off');
    await alice.typeLine('/msg bob again');
    await bob.waitFor(/3\.@alice\s+2@/);
    await alice.typeLine('bob: and here');
    await bob.waitFor('<alice> bob: and here');
    expect(rung()).toBe(2);

    await bob.typeLine('/mentions');
    const listed = await bob.waitFor('mentions of you (2)');
    expect(listed).toMatch(/#lobby alice: "hey @bob look at this"/);
    expect(listed).toMatch(/#lobby alice: "bob: and here"/);
  }, 90_000);

  it('/search finds the latest text here or everywhere (direct messages included), /goto opens it', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await alice.typeLine('teh deploy key is in the vault');
    await bob.waitFor('<alice> teh deploy key');
    // Numbered once stored (an /edit before that is refused, as the line is not 1 yet).
    await alice.waitFor((s) => s.includes('<alice> teh deploy key') && !s.includes('(sending…)'), "alice's line stored");
    await alice.typeLine('/edit 1 the deploy key is in the vault');
    await bob.waitFor('the deploy key is in the vault (edited)');
    await alice.typeLine('/msg bob deploy tonight?');
    await bob.waitFor(/3\.@alice/);

    await bob.typeLine('/search DEPLOY');
    let screen = await bob.waitFor('search "DEPLOY": 1 found');
    expect(screen).toMatch(/1\. \d\d:\d\d #lobby alice: the deploy key is in the vault/);
    await bob.typeLine('/search teh');
    await bob.waitFor('search "teh": nothing found here');
    await bob.typeLine('/search -a deploy');
    screen = await bob.waitFor('search "deploy": 2 found');
    expect(screen).toMatch(/1\. \d\d:\d\d @alice alice: deploy tonight\?/);
    await bob.typeLine('/goto 1');
    await bob.waitFor((x) => x.includes('hush  @alice') && x.includes('found: '));
  }, 90_000);
});

describe('hush in tmux: hostile replies, edits and reactions', () => {
  it('a reply quote, an edit and a reaction from a raw client are sanitised like message text', async () => {
    const alice = await loggedIn('alice');
    const titleBefore = alice.title();
    const mallory = await bed.sdkClient('m');
    try {
      await mallory.register('mallory', PASSWORD);
      await alice.waitFor('mallory joined #lobby');
      const first = await mallory.send('lobby', 'orig \x1b]0;PWNED-TITLE\x07 \x1b[2J q1');
      await mallory.reply({ room: 'lobby' }, first.id, 'answer\r<alice> forged reply q2');
      await alice.waitFor('forged reply q2');
      await mallory.edit({ room: 'lobby' }, first.id, 'edited \x1b]52;c;cm0gLXJmIH4K\x07\n<alice> forged edit q3');
      await mallory.react({ room: 'lobby' }, first.id, '\u202E{red-fg}', true);
      const screen = await alice.waitFor((x) => x.includes('q3 (edited)') && x.includes('{red-fg} 1'));
      const rows = screen.split('\n').map((r) => r.replace(/^x.{20}x?x/, ''));
      // The quote is one row: the edited original, its line break a space, its escapes gone.
      expect(rows.some((r) => /^ +↪ mallory: edited +<alice> forged edit q3/.test(r))).toBe(true);
      // No row starts with a forged sender; the edit's second line sits under the gutter.
      for (const row of rows) expect(row).not.toMatch(/^(\d\d:\d\d )?<alice>/);
      expect(screen).toMatch(/┆ <alice> forged edit q3 \(edited\)/);
      expect(screen).toContain('<mallory> answer<alice> forged reply q2');
      // The reaction: the direction override shows as U+FFFD, the blessed tag literally.
      expect(screen).toContain('\ufffd{red-fg} 1');
      expect(screen).not.toContain('PWNED');
      expect(alice.title()).toBe(titleBefore);
    } finally {
      await mallory.close();
    }
  }, 60_000);
});
