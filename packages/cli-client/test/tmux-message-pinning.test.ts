// The message picked with Alt+Up is the one acted on, whatever arrives meanwhile: driven through
// real `hush` processes in tmux against a real hushd (the default config: #lobby end to end).
import { describe, expect, it } from 'vitest';
import { type HushTui, inputLine } from '@hush/test-kit';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** `text` typed and sent by `tui`, and stored (no longer "(sending…)"): numbered from then on. */
async function said(tui: HushTui, text: string): Promise<void> {
  await tui.typeLine(text);
  await tui.waitFor((s) => s.includes(text) && !s.includes('(sending…)'), `"${text}" stored`);
}

/** Alt+Up, then Up to the second newest message: selected. */
async function selectSecond(tui: HushTui): Promise<void> {
  tui.keys('M-Up');
  await tui.waitFor(/message 1 selected/);
  tui.keys('Up');
  await tui.waitFor(/message 2 selected/);
}

/** The screen row that holds `text`. */
const rowOf = (screen: string, text: string): string => screen.split('\n').find((r) => r.includes(text)) ?? '';

describe('hush in tmux: the selected message is the one acted on', () => {
  it('d: a line arriving while the question is open does not change which message is deleted', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await said(alice, 'WRONG-ONE alice wants this deleted');
    await said(alice, 'KEEP alice wants to keep this');
    await selectSecond(alice);
    alice.keys('d');
    // The question names the message, not a number that may shift.
    await alice.waitFor(
      (s) => /delete your message of \d\d:\d\d "WRONG-ONE alice wants this…"\?/.test(s) && s.includes('[y] yes'),
      'the question, armed',
    );
    await said(bob, 'bob talks again');
    await alice.waitFor('<bob> bob talks again');
    alice.keys('y');
    await alice.waitFor(/deleted your message of \d\d:\d\d/);
    for (const s of [alice, bob]) {
      const screen = await s.waitFor((x) => x.includes('<alice> message deleted') && !x.includes('WRONG-ONE'), 'WRONG-ONE gone');
      expect(screen).toContain('<alice> KEEP alice wants to keep this');
      expect(screen).toContain('<bob> bob talks again');
    }
  }, 90_000);

  it('e and r: a line arriving while the command is in the input line does not change which message it names', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await said(alice, 'first alice line C1');
    await said(alice, 'second alice line C2');
    await selectSecond(alice);
    alice.keys('e');
    await alice.waitFor((s) => inputLine(s).includes('/edit 2 first alice line C1'));
    await said(bob, 'bob arrives in between');
    // The numbers hold while the command is typed: the new line has none, C1 is still 2.
    let screen = await alice.waitFor('<bob> bob arrives in between');
    expect(rowOf(screen, '<bob> bob arrives in between')).not.toMatch(/\[\d+\]/);
    expect(rowOf(screen, 'first alice line C1')).toMatch(/\[2\] \d\d:\d\d <alice>/);
    await alice.typeLine(' (fixed)');
    for (const s of [alice, bob]) {
      screen = await s.waitFor('first alice line C1 (fixed) (edited)');
      expect(rowOf(screen, 'second alice line C2')).not.toContain('(edited)');
    }

    await said(bob, 'which day suits?');
    await said(bob, 'and what time?');
    await selectSecond(alice);
    alice.keys('r');
    await alice.waitFor((s) => inputLine(s).includes('/reply 2'));
    await said(bob, 'bob says another thing');
    await alice.waitFor('<bob> bob says another thing');
    await alice.typeLine('friday');
    for (const s of [alice, bob]) {
      screen = await s.waitFor('<alice> friday');
      const rows = screen.split('\n');
      expect(rows[rows.findIndex((r) => r.includes('<alice> friday')) - 1]).toContain('↪ bob: which day suits?');
    }
  }, 120_000);
});
