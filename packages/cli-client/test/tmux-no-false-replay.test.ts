// Real `hush` processes in tmux against a real hushd, in an end-to-end #lobby: a room file accepted
// before quitting is not taken, at the next start, for a message the server played again (no false
// alarm); and a member's line opened only once her key came late takes its place in the room's
// order, as the other members see it, not the end.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '@hush/client';
import type { HushTui } from '@hush/test-kit';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

/** A home kept across launches (device keys, state, local history). */
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hush-no-false-replay-'));
  homes.push(dir);
  return dir;
}

/** `user` on the chat screen in #lobby (end to end), registering on the first launch. */
async function launch(user: string, at: string, register: boolean): Promise<HushTui> {
  const args = ['--host', `127.0.0.1:${bed.server.port}`, '--user', user, '--login', '--fingerprint', bed.server.fingerprint];
  const tui = bed.start(register ? [...args, '--register'] : args, { home: at });
  await tui.waitFor((s) => s.includes('#lobby') && / connected /.test(s) && s.includes('end-to-end encrypted room'), `${user} in #lobby`);
  return tui;
}

/** Ctrl+C, and the process is gone (its files written). */
async function quit(tui: HushTui): Promise<void> {
  tui.keys('C-c');
  expect(await tui.exitCode()).toBe(0);
  tui.kill();
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

describe('hush in tmux: restarted in an end-to-end room', () => {
  it('after accepting a room file and a restart, nothing is said to be played again by the server', async () => {
    const bobHome = home();
    const alice = await launch('alice', home(), true);
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
    const alice = await launch('alice', home(), true);
    const bob = await launch('bob', home(), true);
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
