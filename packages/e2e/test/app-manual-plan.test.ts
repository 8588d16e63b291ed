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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChatRoom,
  PEOPLE,
  errorLines,
  everyoneAtOnce,
  inputLine,
  others,
  rowsOf,
  slowBesideFast,
  type Person,
} from './helpers-app/chat-room.js';

let room: ChatRoom;
/** Text that must never appear on the panes of anyone but its sender and its target. */
const privateText: { text: string; seenBy: Person[] }[] = [];
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  room = await ChatRoom.open();
}, 120_000);

afterAll(async () => {
  await room?.close();
});

describe('the manual test plan: six people in #lobby', () => {
  it('every people list shows all six online', async () => {
    await room.everyone((who) =>
      room.pane(who).waitFor((s) => PEOPLE.every((p) => new RegExp(`●.?${p}\\b`).test(s)), `${who}: all six online`, 30_000),
    );
  }, 60_000);

  it('a broadcast is seen by all six', async () => {
    await room.pane('ann').typeLine('hello everyone, broadcast-1');
    await room.everyone((who) =>
      room.pane(who).waitFor((s) => s.includes('<ann> hello everyone, broadcast-1'), `${who}: the broadcast`, 30_000),
    );
  }, 60_000);

  it('a private message is seen by its target only', async () => {
    const secret = `psst-${randomBytes(4).toString('hex')}`;
    privateText.push({ text: secret, seenBy: ['ben', 'cat'] });
    await room.pane('ben').typeLine(`/msg cat ${secret}`);
    await room.switchTo('cat', /@ben/);
    await room.pane('cat').waitFor((s) => s.includes(`<ben> ${secret}`), 'cat: the private message', 30_000);
    await room.switchTo('ben', /@cat/);
    await room.pane('ben').waitFor((s) => s.includes(`<ben> ${secret}`), 'ben: his own private message', 30_000);
    // a lobby line sent after it reaches the others: by then the private one would have too
    await room.pane('ann').typeLine('after the secret');
    await room.everyone(
      (who) => room.pane(who).waitFor((s) => s.includes('<ann> after the secret'), `${who}: the line after`, 30_000),
      others('ben', 'cat'),
    );
    for (const who of others('ben', 'cat')) expect(room.pane(who).capture(), `${who}'s pane`).not.toContain(secret);
    await room.everyone((who) => room.switchTo(who, /#lobby/), ['ben', 'cat']);
  }, 90_000);

  it('a room file and a direct file are saved byte-identical', async () => {
    const roomData = randomBytes(300_000);
    const roomFile = join(room.root, 'room-plan.bin');
    writeFileSync(roomFile, roomData);
    await room.pane('dan').typeLine(`/file ${roomFile}`);
    await room.pane('dan').waitFor((s) => /sent "room-plan\.bin" .*100%/.test(s), 'dan: the room file sent', 60_000);
    // ben answers "later" and accepts with /accept; the others accept in the prompt
    const received = await Promise.all(
      others('dan').map((who) => room.acceptInto(who, 'room-plan.bin', join(room.pane(who).home, 'room-files'), { later: who === 'ben' })),
    );
    for (const path of received) expect(sha256(readFileSync(path)), path).toBe(sha256(roomData));

    const directData = randomBytes(120_000);
    const directFile = join(room.root, 'direct-plan.bin');
    writeFileSync(directFile, directData);
    await room.pane('eve').typeLine('/query fay');
    await room.pane('eve').waitFor((s) => /^ hush +@fay/.test(rowsOf(s)[0] ?? ''), 'eve: @fay active', 30_000);
    await room.pane('eve').typeLine(`/file ${directFile}`);
    await room.pane('eve').waitFor((s) => /sent "direct-plan\.bin" .*100%/.test(s), 'eve: the direct file sent', 60_000);
    const saved = await room.acceptInto('fay', 'direct-plan.bin', join(room.pane('fay').home, 'direct-files'), { conversation: /@eve/ });
    expect(sha256(readFileSync(saved))).toBe(sha256(directData));
    privateText.push({ text: 'direct-plan.bin', seenBy: ['eve', 'fay'] });
    for (const who of others('eve', 'fay')) expect(room.pane(who).capture(), `${who}'s pane`).not.toContain('direct-plan.bin');
    await room.everyone((who) => room.switchTo(who, /#lobby/), ['eve', 'fay']);
  }, 180_000);

  it(':smile: becomes 😄 for everyone, and the picker inserts an emoji', async () => {
    await room.pane('fay').typeLine(':smile: smiles-fay');
    await room.everyone((who) => room.pane(who).waitFor((s) => s.includes('<fay> 😄 smiles-fay'), `${who}: 😄`, 30_000));

    const ann = room.pane('ann');
    ann.keys('C-e');
    await ann.waitFor((s) => s.includes('search: _'), 'ann: the picker', 30_000);
    ann.keys('-l', 'tada');
    await ann.waitFor((s) => s.includes(':tada:'), 'ann: :tada: found', 30_000);
    ann.keys('Enter');
    await ann.waitFor((s) => inputLine(s).includes('🎉'), 'ann: 🎉 in the input line', 30_000);
    await ann.typeLine(' picked-ann');
    await room.everyone((who) => room.pane(who).waitFor((s) => s.includes('<ann> 🎉 picked-ann'), `${who}: 🎉`, 30_000));
  }, 90_000);

  it('six people typing 30 lines each as fast as send-keys can: every pane shows all 180 lines once, in one order', async () => {
    await room.expectChat(everyoneAtOnce(30));
  }, 300_000);

  it('one person sending a line every half second while five chat fast loses nothing', async () => {
    await room.expectChat(slowBesideFast({ lines: 20, intervalMs: 500 }, { lines: 30, intervalMs: 330 }));
  }, 300_000);

  it("one person typing past the server's burst as fast as send-keys can: hush paces the lines, none is refused", async () => {
    const { messageBurst, messagesPerSecond } = DEFAULT_CONFIG.limits;
    await room.expectChat([{ who: 'dan', tag: 'long', lines: messageBurst + 2 * messagesPerSecond, intervalMs: 0 }]);
  }, 300_000);

  it('private text never reached anyone else, and no pane shows an error, the status windows included', async () => {
    const problems: string[] = [];
    for (const who of PEOPLE) {
      const screens = [room.pane(who).capture()];
      await room.switchTo(who, /\(status\)/, /^ hush +status/);
      screens.push(room.pane(who).capture());
      for (const screen of screens) {
        problems.push(...errorLines(screen).map((r) => `${who}: ${r}`));
        for (const p of privateText) if (!p.seenBy.includes(who) && screen.includes(p.text)) problems.push(`${who} sees ${p.text}`);
      }
      await room.switchTo(who, /#lobby/);
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
