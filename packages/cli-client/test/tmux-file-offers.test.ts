// File offers as the receiver meets them, driven through real `hush` processes in tmux against a
// real hushd: a direct file's question pops up in whatever pane is open, so what follows the answer
// (a refused folder, the download's progress, where it was saved) shows in that pane too. Two files
// sent at once each keep their own name on the sender's screen. A file sent and not yet taken can be
// withdrawn by its sender; whoever saved it keeps it, and their screen still says so. Paths are
// taken as a file manager drops them, and a file name with spaces is accepted into a named folder.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** The pane's title row names the open conversation. */
const openPane = (screen: string): string => screen.split('\n')[0] ?? '';

describe('hush in tmux: file offers', () => {
  it('a direct file accepted from #lobby: the refused folder, then where it was saved, are said in #lobby', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    bob.resize(80, 24);
    writeFileSync(join(alice.home, 'notes.txt'), 'for bob only');
    writeFileSync(join(bob.home, 'afile'), 'x');
    await alice.typeLine('/query bob');
    await alice.typeLine('/file ~/notes.txt');

    // bob stays in #lobby: the question comes to him there.
    await bob.waitFor((s) => s.includes('alice offers "notes.txt"') && s.includes('[a] accept'));
    bob.keys('a');
    await bob.waitFor('into folder:');
    bob.keys('C-u');
    // A person reads the question before typing a folder (text typed at once was meant for the chat).
    await new Promise((r) => setTimeout(r, 500));
    bob.type('~/afile'); // not typeLine: tmux's own command parser would expand the ~
    bob.keys('Enter');
    const refused = await bob.waitFor(/cannot save into \S*afile: it is a/, 'the refused folder said where bob is');
    expect(openPane(refused)).toContain('#lobby');

    mkdirSync(join(bob.home, 'dl'));
    await bob.typeLine('/accept notes.txt ~/dl');
    const saved = await bob.waitFor('saved "notes.txt" to', 'the saved file said where bob is');
    expect(openPane(saved)).toContain('#lobby');
    expect(readFileSync(join(bob.home, 'dl', 'notes.txt'), 'utf8')).toBe('for bob only');
  }, 90_000);

  it('two files sent at once, the big one first: each line keeps its own name and size, and the receipts name the right file', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    writeFileSync(join(alice.home, 'big.bin'), randomBytes(3 * 1024 * 1024));
    writeFileSync(join(alice.home, 'small.txt'), 'small');
    await alice.typeLine('/file ~/big.bin');
    await alice.typeLine('/file ~/small.txt'); // offered first: hashing the big one takes longer
    const sent = await alice.waitFor((s) => (s.match(/-F- sent/g) ?? []).length === 2, 'both sent');
    expect(sent).toMatch(/sent "big\.bin" \(3 MiB\)/);
    expect(sent).toMatch(/sent "small\.txt" \(5 B\)/);

    await bob.waitFor((s) => s.includes('alice offers "small.txt"') && s.includes('[d] decline'));
    bob.keys('d');
    await alice.waitFor('bob declined "small.txt"');
    expect(alice.capture()).not.toContain('bob declined "big.bin"');
  }, 90_000);

  it('alice withdraws a room file she sent: bob can no longer accept it, carol who saved it still reads saved', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    const carol = await bed.loggedIn('carol');
    await alice.waitFor('carol joined #lobby');
    writeFileSync(join(alice.home, 'oops.txt'), 'not for everyone');
    await alice.typeLine('/file ~/oops.txt');
    await alice.waitFor(/sent "oops\.txt"/);
    await bob.waitFor((s) => s.includes('alice offers "oops.txt"') && s.includes('[l] later'));
    bob.keys('l');
    await bob.waitFor('file offer from alice: "oops.txt"');
    await carol.waitFor((s) => s.includes('alice offers "oops.txt"') && s.includes('[a] accept'));
    carol.keys('a');
    await carol.waitFor('into folder:');
    carol.keys('Enter');
    await carol.waitFor('saved "oops.txt" to');
    await alice.waitFor('carol saved "oops.txt"');

    await alice.typeLine('/cancel oops.txt');
    const withdrawn = await alice.waitFor('file "oops.txt" cancelled: withdrawn by you');
    expect(withdrawn).not.toContain('is already done');
    await bob.waitFor('file "oops.txt" cancelled: by alice');
    await bob.typeLine('/accept oops.txt');
    await bob.waitFor('"oops.txt" is not an open offer (cancelled)');
    // The withdrawal went to carol with bob's, before bob's /accept was answered.
    expect(carol.capture()).toContain('saved "oops.txt" to');
    expect(carol.capture()).not.toContain('cancelled');
  }, 90_000);

  it('a path dropped in quotes is sent; "/accept my notes.txt ~/in box" saves that file into that folder', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    const path = join(alice.home, 'my notes.txt');
    writeFileSync(path, 'spaced out');
    alice.type('/file ');
    alice.paste(`'${path}' `); // as a file manager drops it into the terminal
    await alice.waitFor("my notes.txt'");
    alice.keys('Enter');
    await alice.waitFor('sent "my notes.txt"');
    await bob.waitFor((s) => s.includes('alice offers "my notes.txt"') && s.includes('[l] later'));
    bob.keys('l');
    await bob.waitFor('file offer from alice: "my notes.txt"');
    await bob.typeLine('/accept my notes.txt ~/in box');
    await bob.waitFor('saved "my notes.txt" to');
    expect(readFileSync(join(bob.home, 'in box', 'my notes.txt'), 'utf8')).toBe('spaced out');
  }, 90_000);
});
