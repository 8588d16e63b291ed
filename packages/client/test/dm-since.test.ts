// device_login's `since` never passes a DM this device has not handled yet. A live DM can come ahead
// of older ones of the login's offline delivery; a crash while those are still being opened must not
// leave `since` saved past them, or the server (its cursor moved when it queued them) never offers
// them again.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '@hush/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collect, Fixture, homeOf, nextEvent, sentAndShown } from './helpers.js';

describe('device_login since', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('is not saved past an older DM still being opened when the process dies', async () => {
    const server = fx.stopAfter(await startTestServer());
    const paths = await fx.paths();
    const alice = await fx.user(server, 'alice', { paths });
    const bob = await fx.user(server, 'bob');
    const carol = await fx.user(server, 'carol');
    await sentAndShown(bob, alice, 'hello');
    await alice.close();
    // While alice is away carol writes to her for the first time.
    await carol.sendDirect('alice', 'older, from carol');

    // At alice's next login, bob's DM goes out live before the offline query returns carol's.
    const db = server.db;
    const since = db.directMessagesSince.bind(db);
    const offline = vi.spyOn(db, 'directMessagesSince').mockImplementationOnce(async (...args) => {
      await bob.sendDirect('alice', 'newer, live');
      return since(...args);
    });
    // Opening carol's DM (a new session) looks her keys up: held there, the process "dies".
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const listDevices = db.listDevices.bind(db);
    const keys = vi.spyOn(db, 'listDevices').mockImplementation(async (user) => {
      if (user === 'carol') await held;
      return listDevices(user);
    });
    const first = await fx.connect(server, { paths });
    const live = nextEvent(first, 'message', (m) => m.text === 'newer, live');
    await first.login('alice');
    await live;
    expect(offline).toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 300)); // any write started by now has landed
    const dir = homeOf(paths.dataDir, server).state;
    const names = await readdir(dir);
    const onDisk = await Promise.all(names.map((n) => readFile(join(dir, n))));
    release();
    keys.mockRestore();
    await first.close();
    // What the killed process left is all the next one has.
    await Promise.all(names.map((n, i) => writeFile(join(dir, n), onDisk[i]!)));

    const next = await fx.connect(server, { paths });
    const got = collect(next, 'message');
    const carols = nextEvent(next, 'message', (m) => m.text === 'older, from carol');
    await next.login('alice');
    await carols;
    await sentAndShown(bob, next, 'after');
    expect(got.filter((m) => m.from === 'carol').map((m) => m.text)).toEqual(['older, from carol']);
  });
});
