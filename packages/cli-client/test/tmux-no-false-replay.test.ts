// Real `hush` processes in tmux against a real hushd, in an end-to-end #lobby: a room file accepted
// before quitting is not taken, at the next start, for a message the server played again (no false
// alarm); and a member's line opened only once her key came late takes its place in the room's
// order, as the other members see it, not the end.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HushClient } from '@hush/client';
import type { HushTui } from '@hush/test-kit';
import { PASSWORD, quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** `user` on the chat screen in #lobby, an end-to-end room, registering on the first launch. */
async function launch(user: string, at: string, register: boolean): Promise<HushTui> {
  const tui = await bed.launch(user, at, register);
  await tui.waitFor('end-to-end encrypted room');
  return tui;
}

/**
 * Holds back the room keys `sender` hands to `user` (the SDK's direct messages carrying them) until
 * the returned function sends them: the only way to have a key arrive after the line it opens, as
 * the link is encrypted end to end and a relay cannot pick one message out.
 */
function holdRoomKeysTo(sender: HushClient, user: string): () => Promise<void> {
  const dms = (sender as unknown as { dms: { send(to: string, body: object): Promise<unknown> } }).dms;
  const send = dms.send.bind(dms);
  const held: (() => Promise<unknown>)[] = [];
  dms.send = async (to, body) => {
    if (to !== user || !('roomKey' in body)) return send(to, body);
    held.push(() => send(to, body));
    return { id: '0', ts: 0 };
  };
  return async () => {
    dms.send = send;
    for (const go of held.splice(0)) await go();
  };
}

/** The chat lines of the pane (time stamp, then <nick> text), top to bottom. */
function chatLines(screen: string): string[] {
  return [...screen.matchAll(/\d\d:\d\d <(\w+)> ([\w ]+?)\s*x/g)].map((m) => `${m[1]}: ${m[2]}`);
}

describe('hush in tmux: an end-to-end room across a restart and a late key', () => {
  it('after accepting a room file and a restart, nothing is said to be played again by the server', async () => {
    const bobHome = bed.keptHome();
    const alice = await launch('alice', bed.keptHome(), true);
    let bob = await launch('bob', bobHome, true);
    await alice.waitFor('bob joined #lobby');
    await alice.typeLine('one');
    await bob.waitFor('<alice> one');

    const content = randomBytes(20_000);
    writeFileSync(join(alice.home, 'photo.bin'), content);
    await alice.typeLine('/file ~/photo.bin');
    await bob.waitFor((s) => s.includes('alice offers "photo.bin"') && s.includes('[l] later'), 'the offer');
    bob.keys('l');
    await bob.typeLine('/accept photo.bin ~/dl');
    await bob.waitFor(/saved "photo\.bin" to/);
    expect(Buffer.compare(readFileSync(join(bob.home, 'dl', 'photo.bin')), content)).toBe(0);
    await quit(bob);

    await alice.typeLine('three');
    await alice.waitFor('<alice> three');
    bob = await launch('bob', bobHome, false);
    await bob.waitFor('<alice> three');
    // Give a late notice time to come: the catch-up is over once "three" shows.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const screen = bob.capture();
    expect(screen).not.toContain('played again');
    expect(screen).not.toContain('E2E_ROOM_MESSAGE');
  }, 120_000);

  it("a member's line opened once her late key comes takes its place in the room's order, not the end", async () => {
    const alice = await launch('alice', bed.keptHome(), true);
    const bob = await launch('bob', bed.keptHome(), true);
    const carol = await bed.sdkClient('carol');
    await carol.register('carol', PASSWORD);
    await alice.waitFor('carol joined #lobby');
    await alice.typeLine('alice one');
    await bob.waitFor('<alice> alice one');

    // carol's key for bob is held on its way (as a direct message delayed by an outage would be):
    // her line reaches bob before the key that opens it.
    const release = holdRoomKeysTo(carol, 'bob');
    await carol.send('lobby', 'carol one');
    await alice.waitFor('<carol> carol one');
    await bob.waitFor('could not be opened yet');
    await alice.typeLine('alice two');
    await bob.waitFor('<alice> alice two');
    await release();
    await bob.waitFor('<carol> carol one');

    const order = ['alice: alice one', 'carol: carol one', 'alice: alice two'];
    expect(chatLines(alice.capture())).toEqual(order);
    expect(chatLines(bob.capture())).toEqual(order);
  }, 120_000);
});
