// Keys typed in one burst (a laggy SSH link batches them, so does an auto-typer) go where the
// person means them, driven through real `hush` processes in tmux against a real hushd: into the
// emoji picker they follow, never under it into the conversation; Ctrl+O never hands the keyboard to
// a people list that is not drawn; and a refused line is said once.
import { describe, expect, it } from 'vitest';
import { type HushTui, inputLine } from '@hush/test-kit';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The chat screen at 80x24, where the people list is hidden. */
async function narrow(tui: HushTui): Promise<void> {
  tui.resize(80, 24);
  await tui.waitFor((x) => !x.includes(' people ') && x.split('\n').length <= 25 && /^mq+jmq+j$/m.test(x), 'the chat screen at 80 columns');
}

/** Keys sent by one tmux command: the program reads them together. */
function burst(tui: HushTui, ...keys: string[]): void {
  tui.tmux('send-keys', '-t', tui.name, ...keys);
}

describe('hush in tmux: keys typed ahead', () => {
  it('Ctrl+E, a search and Enter in one burst pick 🔥 into the input line; nothing is sent', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    burst(alice, 'C-e', 'fire', 'Enter');
    const screen = await alice.waitFor((x) => inputLine(x).includes('🔥'), '🔥 in the input line');
    expect(inputLine(screen)).not.toContain('fire');
    expect(screen).not.toContain('search:'); // the picker closed with the pick
    await sleep(1000);
    expect(bob.capture()).not.toContain('<alice> fire');
    alice.keys('C-u');
    // What is typed on after the pick follows it, and its Enter sends the two together.
    burst(alice, 'C-e', 'fire', 'Enter', ' is hot', 'Enter');
    await bob.waitFor('<alice> 🔥 is hot');
    expect(bob.capture()).not.toContain('<alice>  is hot');

    // The selection's + (react with the picker), in one burst too.
    await bob.typeLine('lunch at noon?');
    await alice.waitFor('<bob> lunch at noon?');
    burst(alice, 'M-Up', '+', 'fire', 'Enter');
    await bob.waitFor(/lunch at noon\?[^\n]*\n.*┆ 🔥 1/);
    await sleep(1000);
    expect(bob.capture()).not.toContain('<alice> fire');
    const after = alice.capture();
    expect(after).not.toContain('search:');
    expect(inputLine(after).trim()).toBe('>');
  }, 90_000);

  it('Ctrl+O at 80 columns says the people list is hidden; what is typed next lands in the input line', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await narrow(alice);
    burst(alice, 'C-o', 'hello');
    const screen = await alice.waitFor((x) => inputLine(x).includes('> hello'), 'hello in the input line');
    // The message pane's rows, without the borders, the chat list and the gutter marks, joined.
    const said = screen
      .split('\n')
      .map((r) =>
        r
          .replace(/^x.*?xx/, '')
          .replace(/x$/, '')
          .replace(/^\s*┆/, '')
          .trim(),
      )
      .join(' ');
    expect(said).toContain('the people list is hidden at this width: /names lists them, /query nick opens a conversation');
    alice.keys('Enter');
    await bob.waitFor('<alice> hello');
    const after = alice.capture();
    expect(after).toContain('hush  #lobby');
    expect(after).not.toContain('@bob');
  }, 60_000);

  it('made narrower while the people list has the keyboard: the keyboard goes back to the input line', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    alice.keys('C-o');
    await sleep(300);
    await narrow(alice);
    await alice.typeLine('still here');
    await bob.waitFor('<alice> still here');
    expect(alice.capture()).toContain('hush  #lobby');
  }, 60_000);

  it("a muted user's refused lines are each said once, under the line", async () => {
    const { bob } = await bed.bobMutedInQuiet();
    const lines = ['first muted line', 'second muted line', 'third'];
    for (const line of lines) await bob.typeLine(line);
    const screen = await bob.waitFor((x) => x.split('!!! not sent').length - 1 === lines.length, 'three refusals');
    for (const line of lines) expect(screen).toContain(`<bob> ${line}`);
    await sleep(1500);
    const after = bob.capture();
    expect(after.split('not sent').length - 1).toBe(lines.length); // no notice repeats them
    expect(after).toContain('/retry sends it again');
  }, 60_000);
});
