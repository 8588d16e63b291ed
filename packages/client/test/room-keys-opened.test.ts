// The room key store remembers which messages this device opened (server id and envelope digest),
// written with the chain they advanced: after a restart, one fetched again is known, while another
// envelope under its id, or its envelope under another id, is not.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomKeyStore } from '../src/room-keys.js';

const ROOM = 'general';
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function device(user: string, dir?: string): Promise<RoomKeyStore> {
  const stateDir = dir ?? (await mkdtemp(join(tmpdir(), 'hush-roomkeys-opened-')));
  if (!dir) dirs.push(stateDir);
  return RoomKeyStore.load(stateDir, { user, device: `${user}-device` });
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const dirOf = (s: RoomKeyStore): string => s.file.slice(0, s.file.lastIndexOf('/'));

describe('messages a device opened, across a restart', () => {
  it('the same id and envelope are known; another envelope under the id, or the envelope under another id, are not', async () => {
    const alice = await device('alice');
    const bob = await device('bob');
    const { distribution, devices } = alice.recipientsLacking(ROOM, [bob.self]);
    await bob.acceptDistribution(alice.self, distribution);
    await alice.markHolders(ROOM, devices);
    const one = await alice.seal(ROOM, utf8('one'));
    const two = await alice.seal(ROOM, utf8('two'));
    await bob.open(ROOM, 'alice', one, '11');
    await bob.open(ROOM, 'alice', two, '12');
    await bob.flushed();

    const restarted = await device('bob', dirOf(bob));
    expect(restarted.openedBefore(ROOM, '11', one)).toBe(true);
    expect(restarted.openedBefore(ROOM, '12', two)).toBe(true);
    expect(restarted.openedBefore(ROOM, '11', two)).toBe(false);
    expect(restarted.openedBefore(ROOM, '13', one)).toBe(false);
    expect(restarted.openedBefore('elsewhere', '11', one)).toBe(false);
  });

  it("our own messages count once stored; only each room's newest 64 are kept", async () => {
    const alice = await device('alice');
    alice.recipientsLacking(ROOM, []);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 65; i++) {
      sent.push(await alice.seal(ROOM, utf8(`line ${i}`)));
      await alice.sent(ROOM, String(100 + i), sent[i]!);
    }
    const restarted = await device('alice', dirOf(alice));
    expect(restarted.openedBefore(ROOM, '100', sent[0]!)).toBe(false);
    expect(restarted.openedBefore(ROOM, '101', sent[1]!)).toBe(true);
    expect(restarted.openedBefore(ROOM, '164', sent[64]!)).toBe(true);
  });
});
