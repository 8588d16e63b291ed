// Keys and text go where the person means them, driven through real `hush` processes in tmux
// against a real hushd: a refused private line never lands in the room's input line, and a file
// prompt never takes what she types.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type HushTui, inputLine } from '@hush/test-kit';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install({ openRooms: ['lobby'] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The conversation list (the left column) of a captured screen. */
const chats = (screen: string): string =>
  screen
    .split('\n')
    .map((row) => row.slice(0, 22))
    .join('\n');

/** alice's input line is empty: Enter posts nothing, and what she types next reaches #lobby alone. */
async function enterPostsNothingPrivate(alice: HushTui, bob: HushTui): Promise<void> {
  expect(inputLine(alice.capture())).toBe('>');
  alice.keys('Enter');
  await alice.typeLine('hello room');
  await bob.waitFor('<alice> hello room');
  expect(bob.capture()).not.toContain('private words');
}

describe('hush in tmux: a refused private line stays private', () => {
  it('/msg to nobody from #lobby: said in #lobby, no conversation, nothing in the input line for Enter to post', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await alice.typeLine('/msg zed private words');
    const screen = await alice.waitFor('not sent to zed: "private words"');
    expect(screen).toContain('no user zed [NOT_FOUND]');
    expect(screen).toContain(' hush  #lobby');
    await sleep(500); // anything more from the refusal would be on screen by now
    expect(chats(alice.capture())).not.toContain('zed');
    await enterPostsNothingPrivate(alice, bob);
  }, 90_000);

  it("a direct line refused for bob's changed keys while alice is in #lobby: not in her input line, said where she is", async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await alice.typeLine('/msg bob hi');
    await bob.waitFor('@alice'); // the direct conversation arrived
    await alice.typeLine('/verify bob');
    await alice.waitFor((s) => s.includes("Does bob's safety number match?") && s.includes('[y] yes')); // armed
    alice.keys('y');
    await alice.waitFor('bob is now verified');
    // bob on a new device: his key set changes, and alice verified the old one.
    await bed.newDevice('bob');
    await alice.typeLine('/whois bob');
    await alice.waitFor('KEY CHANGED since last seen');
    await alice.typeLine('/msg bob private words');
    const screen = await alice.waitFor('not sent to bob: "private words"');
    expect(screen).toContain(' hush  #lobby');
    expect(screen).toContain('/verify bob, then /retry');
    await sleep(500);
    await enterPostsNothingPrivate(alice, bob);
  }, 90_000);
});

describe('hush in tmux: what happens to a room is said where she looks', () => {
  it('a created room, the end-to-end notice on joining it, a role that changed nothing, a kick', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await alice.typeLine('/create #dev');
    await alice.waitFor((s) => s.includes(' hush  #dev') && s.includes('you created #dev, end-to-end encrypted, and are its owner'));
    expect(alice.capture().split('you created #dev')).toHaveLength(2); // said once: the command's words, not its event's too
    expect(alice.capture()).not.toContain('create: alice');
    await bob.typeLine('/join #dev');
    await bob.waitFor((s) => s.includes(' hush  #dev') && s.includes('#dev is end-to-end encrypted'));
    await alice.waitFor('bob joined #dev');
    await alice.typeLine('/deop bob');
    await alice.waitFor('bob stays a member (alice set the role bob already had)');
    await alice.typeLine('/kick bob too noisy');
    // bob's #dev pane closes: the pane he is left in says so.
    await bob.waitFor((s) => s.includes(' hush  #lobby') && s.includes('you were kicked from #dev by alice (too noisy)'));
    bob.keys('M-1'); // the status window says it too
    await bob.waitFor((s) => s.includes(' hush  status') && s.includes('you were kicked from #dev by alice (too noisy)'));
  }, 90_000);
});

describe('hush in tmux: the file prompt never takes typing', () => {
  /** alice offers `name` to #lobby. */
  const offer = async (alice: { home: string; typeLine(t: string): Promise<void> }, name: string): Promise<void> => {
    const file = join(alice.home, name);
    writeFileSync(file, `${name}\n`);
    await alice.typeLine(`/file ${file}`);
  };

  it('"send" typed at an open prompt is a line, not a decline; the prompt comes back at the next pause', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await offer(alice, 'a.txt');
    await bob.waitFor((s) => s.includes('alice offers "a.txt"') && s.includes('[d] decline'));
    bob.type('send');
    await bob.waitFor((s) => inputLine(s) === '> send' && !s.includes('alice offers'));
    bob.keys('Enter');
    await alice.waitFor('<bob> send');
    await bob.waitFor((s) => s.includes('alice offers "a.txt"') && s.includes('[a] accept'));
    expect(alice.capture()).not.toContain('bob declined');
    bob.keys('Enter'); // no answer either: closes it for later, and Enter on the empty line does nothing
    await bob.waitFor((s) => !s.includes('alice offers'));
    await bob.waitFor((s) => s.includes('alice offers "a.txt"') && s.includes('[a] accept'));
    bob.keys('a');
    await bob.waitFor('into folder:');
    bob.keys('Enter');
    await alice.waitFor('bob saved "a.txt"');
  }, 90_000);

  it('a second offer waits while bob types after answering the first', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await offer(alice, 'one.txt');
    await bob.waitFor((s) => s.includes('alice offers "one.txt"') && s.includes('[l] later'));
    await offer(alice, 'two.txt');
    await bob.waitFor('"two.txt"'); // announced in the pane, not asked yet
    bob.type('lhi'); // "later" for the first, then the start of a line
    await bob.waitFor((s) => inputLine(s) === '> hi');
    await sleep(2500); // a prompt would be open by now
    const screen = bob.capture();
    expect(screen).not.toContain('alice offers');
    expect(inputLine(screen)).toBe('> hi');
    bob.keys('C-u'); // the input line is empty: the second asks at the next pause
    await bob.waitFor((s) => s.includes('alice offers "two.txt"') && s.includes('[d] decline'));
    bob.keys('d');
    await alice.waitFor('bob declined "two.txt"');
  }, 90_000);
});
