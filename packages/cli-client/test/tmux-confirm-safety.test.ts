// Real `hush` processes in tmux on a real hushd: a security question is answered only on purpose,
// the first-contact question shows the whole fingerprint at 80x24, and lines refused while she
// types on are never glued together.
import { describe, expect, it } from 'vitest';
import { HushTui, inputLine } from '@hush/test-kit';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keys one at a time at a typist's pace (tmux delivers each on its own). */
async function typeSlowly(tui: HushTui, text: string): Promise<void> {
  for (const ch of text) {
    tui.type(ch);
    await sleep(60);
  }
}

/** The rows from the one holding `from` to the one holding `to` (tmux shows borders as letters: compare words). */
function rowsBetween(screen: string, from: string, to: string): string[] {
  const rows = screen.split('\n');
  const start = rows.findIndex((r) => r.includes(from));
  const end = rows.findIndex((r, i) => i > start && r.includes(to));
  return start < 0 || end < 0 ? [] : rows.slice(start + 1, end);
}

describe('hush in tmux: questions answered only on purpose', () => {
  it('/verify, then a sentence typed at the question: nobody is verified, nothing is sent, the sentence is in the input line whole', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await bob.typeLine('/query alice');
    await bob.waitFor('end-to-end encrypted (unverified)', 'the conversation with alice');
    await bob.typeLine('/verify alice');
    const asked = await bob.waitFor('[y] yes', 'the question armed');
    // Whole, in the dialog itself (between its first line and the question), as in the pane behind it.
    const inDialog = rowsBetween(asked.slice(asked.lastIndexOf('safety number with alice:')), 'alice:', "Does alice's").join(' ');
    const number = /\d{5}(?: \d{5}){11}/.exec(inDialog)?.[0];
    if (number === undefined) throw new Error(`no safety number in the dialog:\n${asked}`);
    expect(asked).toContain(`-*-   ${number.slice(0, 30)}`);
    await typeSlowly(bob, 'hey there alice');
    await bob.waitFor('alice not verified: answer the question with y or n');
    await bob.waitFor((s) => inputLine(s).includes('> hey there alice'), 'the sentence in the input line');
    await sleep(1500);
    expect(alice.capture()).not.toContain('there alice');
    expect(bob.capture()).not.toContain('is now verified');
    expect(bob.capture()).not.toContain('(verified)');
  }, 90_000);

  it('first contact at 80x24: the fingerprint shows whole; typed words are ignored; a y after a pause trusts', async () => {
    const tui = HushTui.start({
      args: ['--host', `127.0.0.1:${bed.server.port}`, '--user', 'tiny', '--register', '--login'],
      env: { HUSH_PASSWORD: PASSWORD },
      width: 80,
      height: 24,
    });
    try {
      const screen = await tui.waitFor('[y] yes', 'the trust question armed');
      const pieces = rowsBetween(screen, 'Server fingerprint:', 'Short fingerprint').flatMap((r) => r.match(/\S{2,}/g) ?? []);
      expect(pieces.join('')).toBe(bed.server.fingerprint);
      await typeSlowly(tui, 'hey');
      await sleep(150);
      expect(tui.capture()).not.toContain('#lobby');
      await tui.waitFor('[y] yes', 'armed again after a pause');
      tui.type('y');
      await tui.waitFor((s) => s.includes('#lobby') && / connected /.test(s), 'tiny on the chat screen');
    } finally {
      tui.kill();
    }
  }, 60_000);

  it('lines refused while she types on go out as typed, never glued; /retry sends each once', async () => {
    const { alice, bob } = await bed.bobMutedInQuiet();
    const lines = ['talking about cats', 'HEY ALICE caps', 'email alice@example.com', 'path /home/alice/x'];
    for (const line of lines) {
      await typeSlowly(bob, line);
      bob.keys('Enter');
      await sleep(500);
    }
    // Each line says it under itself, once.
    const refused = await bob.waitFor((x) => x.split('!!! not sent').length - 1 === lines.length, 'each line refused');
    expect(inputLine(refused).trim()).toBe('>');
    for (const line of lines) expect(refused).toContain(`<bob> ${line}`);
    expect(refused).not.toMatch(/catsHEY|capsemail|\.compath/);
    expect(refused).toContain('/retry sends it again');
    await alice.typeLine('/unmute bob');
    await bob.waitFor('you were unmuted in #quiet by alice');
    await bob.typeLine('/retry');
    const seen = await alice.waitFor('<bob> path /home/alice/x');
    await sleep(1000);
    const final = alice.capture();
    for (const line of lines) expect(final.split(`<bob> ${line}`).length - 1).toBe(1);
    expect(final).not.toMatch(/catsHEY|capsemail|\.compath/);
    expect(seen).toBeDefined();
  }, 90_000);
});
