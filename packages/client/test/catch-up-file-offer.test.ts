import { randomBytes } from 'node:crypto';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { e2eRoom } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientPaths } from '../src/paths.js';
import { collect, Fixture, nextEvent, sentAndShown } from './helpers.js';

// A restart catches up on a room from the newest message this device handled there, file offers
// included; and a message this device opened before the restart that a catch-up fetches again (its
// cursor was saved a moment after its key moved on) is known, never said to be a replay.

/** How long a room message waits for its sender's key before that is said (RoomCrypto). */
const KEY_WAIT_MS = 5_000;

describe('room catch-up after a restart', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  /** bob's user state file (room cursors, DM counters), wherever under the data directory it is kept. */
  async function stateFile(paths: ClientPaths): Promise<string> {
    const found = (await readdir(paths.dataDir, { recursive: true })).filter((f) => f.endsWith('/bob.json'));
    expect(found).toHaveLength(1);
    return join(paths.dataDir, found[0]!);
  }

  /** bob's device again, logged in; its notices and messages collected from the login on. */
  async function restart(s: { host: string; port: number }, paths: ClientPaths) {
    const again = await fx.connect(s, { paths });
    const seen = { notices: collect(again, 'notice'), messages: collect(again, 'message') };
    const three = nextEvent(again, 'message', (m) => m.text === 'three', 20_000);
    await again.login('bob');
    await three;
    return { again, ...seen };
  }

  /** alice and bob (his files kept for a restart) in the end-to-end room #den, bob having shown `first` there. */
  async function inDen(first: string) {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bobPaths = await fx.paths();
    const bob = await fx.user(s, 'bob', { paths: bobPaths });
    await e2eRoom('den', alice, bob);
    await sentAndShown(alice, bob, first, 'den');
    return { s, alice, bob, bobPaths };
  }

  it('a room file offer accepted before quitting is not fetched again, and nothing is said to be played again', async () => {
    const { s, alice, bob, bobPaths } = await inDen('one');
    const path = join(await fx.dir(), 'photo.bin');
    await writeFile(path, randomBytes(20_000));
    const offered = nextEvent(bob, 'fileOffer', undefined, 20_000);
    await alice.sendFile({ room: 'den' }, path);
    const [offer] = await offered;
    await bob.acceptFile(offer.fileId, await fx.dir());
    await bob.close();
    // The offer is the room's newest message: the cursor saved at close is its id.
    const offerId = s.store.history({ room: 'den' }, { limit: 1 }).messages[0]!.id;
    expect(JSON.parse(await readFile(await stateFile(bobPaths), 'utf8')).rooms.den).toBe(offerId);

    await alice.send('den', 'three');
    const { again, notices, messages } = await restart(s, bobPaths);
    expect(notices.filter((n) => n.code === 'E2E_ROOM_MESSAGE')).toEqual([]);
    expect(messages.map((m) => m.text)).toEqual(['three']);
    await again.close();
  });

  it('messages opened just before a crash (the room cursor not saved yet) come again in the catch-up: known, not a replay', async () => {
    const { s, alice, bob, bobPaths } = await inDen('zero');
    await bob.close();
    const saved = join(await fx.dir(), 'bob-state.json');
    await copyFile(await stateFile(bobPaths), saved);

    const bobAgain = await fx.connect(s, { paths: bobPaths });
    await bobAgain.login('bob');
    await sentAndShown(bobAgain, alice, 'from bob', 'den');
    await sentAndShown(alice, bobAgain, 'one', 'den');
    await sentAndShown(alice, bobAgain, 'two', 'den');
    await bobAgain.close();
    // As if the process died before its room cursor reached the disk (the chain keys did).
    await copyFile(saved, await stateFile(bobPaths));

    await alice.send('den', 'three');
    const { again, notices, messages } = await restart(s, bobPaths);
    // Nor, once a key would have had time to come, that one of them waits for a key (bob's own line).
    await new Promise((resolve) => setTimeout(resolve, KEY_WAIT_MS + 1000));
    expect(notices.filter((n) => n.code === 'E2E_ROOM_MESSAGE')).toEqual([]);
    // Shown by the previous run, they are not shown again as new.
    expect(messages.map((m) => m.text)).toEqual(['three']);
    await again.close();
  }, 30_000);
});
