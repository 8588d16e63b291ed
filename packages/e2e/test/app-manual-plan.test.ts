// The product's manual test plan, run for real with six people
// (helpers-app/chat-room.ts: one hushd on its default limits, six `hush` in tmux, each with its own
// HOME). A broadcast reaches all six; a /msg reaches only its target; a room file and a direct file
// are saved byte-identical through hush's offer prompt; `:smile:` and the emoji picker; then everyone
// types 30 numbered lines as fast as `tmux send-keys` can, and every pane must show all 180 lines
// exactly once, in one order shared by all panes, with no error line anywhere; a person sending a
// line every half second while the others chat fast loses nothing; and one typing past the server's
// burst is paced by hush, never refused. Bigger sizes: stress/.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '@hush/server';
import { inputLine } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { ChatRoom, PEOPLE, errorLines, chatTests, others, rowsOf, type Person } from './helpers-app/chat-room.js';

const plan = ChatRoom.forSuite();
/** Text that must never appear on the panes of anyone but its sender and its target. */
const privateText: { text: string; seenBy: Person[] }[] = [];
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('the manual test plan: six people in #lobby', () => {
  it('every people list shows all six online', async () => {
    await plan.room.everyone((who) =>
      plan.room.pane(who).waitFor((s) => PEOPLE.every((p) => new RegExp(`●.?${p}\\b`).test(s)), `${who}: all six online`, 30_000),
    );
  }, 60_000);

  it('a broadcast is seen by all six', async () => {
    await plan.room.pane('ann').typeLine('hello everyone, broadcast-1');
    await plan.room.everyone((who) =>
      plan.room.pane(who).waitFor((s) => s.includes('<ann> hello everyone, broadcast-1'), `${who}: the broadcast`, 30_000),
    );
  }, 60_000);

  it('a private message is seen by its target only', async () => {
    const secret = `psst-${randomBytes(4).toString('hex')}`;
    privateText.push({ text: secret, seenBy: ['ben', 'cat'] });
    await plan.room.pane('ben').typeLine(`/msg cat ${secret}`);
    await plan.room.switchTo('cat', /@ben/);
    await plan.room.pane('cat').waitFor((s) => s.includes(`<ben> ${secret}`), 'cat: the private message', 30_000);
    await plan.room.switchTo('ben', /@cat/);
    await plan.room.pane('ben').waitFor((s) => s.includes(`<ben> ${secret}`), 'ben: his own private message', 30_000);
    // a lobby line sent after it reaches the others: by then the private one would have too
    await plan.room.pane('ann').typeLine('after the secret');
    await plan.room.everyone(
      (who) => plan.room.pane(who).waitFor((s) => s.includes('<ann> after the secret'), `${who}: the line after`, 30_000),
      others('ben', 'cat'),
    );
    for (const who of others('ben', 'cat')) expect(plan.room.pane(who).capture(), `${who}'s pane`).not.toContain(secret);
    await plan.room.everyone((who) => plan.room.switchTo(who, /#lobby/), ['ben', 'cat']);
  }, 90_000);

  it('a room file and a direct file are saved byte-identical', async () => {
    const roomData = randomBytes(300_000);
    const roomFile = join(plan.room.root, 'room-plan.bin');
    writeFileSync(roomFile, roomData);
    await plan.room.pane('dan').typeLine(`/file ${roomFile}`);
    await plan.room.pane('dan').waitFor((s) => /sent "room-plan\.bin" .*100%/.test(s), 'dan: the room file sent', 60_000);
    // ben answers "later" and accepts with /accept; the others accept in the prompt
    const received = await Promise.all(
      others('dan').map((who) =>
        plan.room.acceptInto(who, 'room-plan.bin', join(plan.room.pane(who).home, 'room-files'), { later: who === 'ben' }),
      ),
    );
    for (const path of received) expect(sha256(readFileSync(path)), path).toBe(sha256(roomData));

    const directData = randomBytes(120_000);
    const directFile = join(plan.room.root, 'direct-plan.bin');
    writeFileSync(directFile, directData);
    await plan.room.pane('eve').typeLine('/query fay');
    await plan.room.pane('eve').waitFor((s) => /^ hush +@fay/.test(rowsOf(s)[0] ?? ''), 'eve: @fay active', 30_000);
    await plan.room.pane('eve').typeLine(`/file ${directFile}`);
    await plan.room.pane('eve').waitFor((s) => /sent "direct-plan\.bin" .*100%/.test(s), 'eve: the direct file sent', 60_000);
    const saved = await plan.room.acceptInto('fay', 'direct-plan.bin', join(plan.room.pane('fay').home, 'direct-files'), {
      conversation: /@eve/,
    });
    expect(sha256(readFileSync(saved))).toBe(sha256(directData));
    privateText.push({ text: 'direct-plan.bin', seenBy: ['eve', 'fay'] });
    for (const who of others('eve', 'fay')) expect(plan.room.pane(who).capture(), `${who}'s pane`).not.toContain('direct-plan.bin');
    await plan.room.everyone((who) => plan.room.switchTo(who, /#lobby/), ['eve', 'fay']);
  }, 180_000);

  it(':smile: becomes 😄 for everyone, and the picker inserts an emoji', async () => {
    await plan.room.pane('fay').typeLine(':smile: smiles-fay');
    await plan.room.everyone((who) => plan.room.pane(who).waitFor((s) => s.includes('<fay> 😄 smiles-fay'), `${who}: 😄`, 30_000));

    const ann = plan.room.pane('ann');
    ann.keys('C-e');
    await ann.waitFor((s) => s.includes('search: _'), 'ann: the picker', 30_000);
    ann.keys('-l', 'tada');
    await ann.waitFor((s) => s.includes(':tada:'), 'ann: :tada: found', 30_000);
    ann.keys('Enter');
    await ann.waitFor((s) => inputLine(s).includes('🎉'), 'ann: 🎉 in the input line', 30_000);
    await ann.typeLine(' picked-ann');
    await plan.room.everyone((who) => plan.room.pane(who).waitFor((s) => s.includes('<ann> 🎉 picked-ann'), `${who}: 🎉`, 30_000));
  }, 90_000);

  chatTests(plan, { everyone: 30, slow: { lines: 20, intervalMs: 500 }, fast: { lines: 30, intervalMs: 330 }, timeoutMs: 300_000 });

  it("one person typing past the server's burst as fast as send-keys can: hush paces the lines, none is refused", async () => {
    const { messageBurst, messagesPerSecond } = DEFAULT_CONFIG.limits;
    await plan.room.expectChat([{ who: 'dan', tag: 'long', lines: messageBurst + 2 * messagesPerSecond, intervalMs: 0 }]);
  }, 300_000);

  it('private text never reached anyone else, and no pane shows an error, the status windows included', async () => {
    const problems: string[] = [];
    for (const who of PEOPLE) {
      const screens = [plan.room.pane(who).capture()];
      await plan.room.switchTo(who, /\(status\)/, /^ hush +status/);
      screens.push(plan.room.pane(who).capture());
      for (const screen of screens) {
        problems.push(...errorLines(screen).map((r) => `${who}: ${r}`));
        for (const p of privateText) if (!p.seenBy.includes(who) && screen.includes(p.text)) problems.push(`${who} sees ${p.text}`);
      }
      await plan.room.switchTo(who, /#lobby/);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
