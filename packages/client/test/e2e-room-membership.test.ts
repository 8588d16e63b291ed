import { generateOneTimePrekeys, generateSignedPrekey } from '@hush/crypto';
import { toBase64Url } from '@hush/protocol';
import { RawClient } from '@hush/server/testing';
import { e2eRoom, passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, Fixture, nextEvent } from './helpers.js';

// Membership changes in an end-to-end room over real sockets: a banned member (the server removes
// a banned account from its rooms) reads nothing said afterwards, even handed every stored
// envelope once back; a new device of a member reads from the moment it exists, and is read.

const CANARY = 'e2e-membership-canary-41c9';

describe('end-to-end rooms: membership changes', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('a member whose device published no prekeys (a client that stopped short of its first login) holds nobody up', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    await e2eRoom('porch', alice, bob);
    // Registered and in the room (and in the lobby, where everyone is put), but no prekeys_upload.
    const strangers: RawClient[] = [];
    try {
      for (const name of ['stranger1', 'stranger2', 'stranger3']) {
        const stranger = await RawClient.connect(s.port);
        strangers.push(stranger);
        await stranger.register(name);
        await stranger.expect({ type: 'room_join', room: 'porch' }, 'ok');
      }
      // They are waited for a moment (a login's prekeys come right after it), all three at once
      // (~2 s, not 2 s each), and then not again for a while.
      for (const [i, room, withinMs] of [
        [1, 'porch', 4000],
        [2, 'lobby', 1000],
        [3, 'porch', 1000],
      ] as const) {
        const heard = nextEvent(bob, 'message', (m) => m.room === room && m.text === `still talking ${i}`);
        const started = Date.now();
        await alice.send(room, `still talking ${i}`);
        await heard;
        expect(Date.now() - started, `send ${i}`).toBeLessThan(withinMs);
      }
    } finally {
      await Promise.all(strangers.map((s) => s.close()));
    }
  });

  it('a member whose device is logging in (prekeys a moment after its welcome) is waited for, and handed the key', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    await alice.createRoom('porch');
    const newcomer = await RawClient.connect(s.port);
    await newcomer.register('newcomer');
    await newcomer.expect({ type: 'room_join', room: 'porch' }, 'ok');
    try {
      const sent = alice.send('porch', 'said while you log in');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const spk = generateSignedPrekey(newcomer.device, { id: 1, now: Date.now() });
      const oneTime = generateOneTimePrekeys({ firstId: 2, count: 5 });
      await newcomer.expect(
        {
          type: 'prekeys_upload',
          signedPrekey: {
            id: spk.id,
            createdAt: spk.createdAt,
            publicKey: toBase64Url(spk.publicKey),
            signature: toBase64Url(spk.signature),
          },
          oneTimePrekeys: oneTime.map((p) => ({ id: p.id, publicKey: toBase64Url(p.publicKey) })),
        },
        'prekeys',
      );
      // Alice's room key comes to it in a DM, ahead of her message.
      await newcomer.waitFor((m) => m.type === 'dm' && m.from === 'alice', 5000);
      await sent;
    } finally {
      await newcomer.close();
    }
  });

  it('a banned member reads nothing sent after the ban, even after an unban hands it every stored envelope', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.admin(s, 'alice');
    const bob = await fx.user(s, 'bob');
    const carolPaths = await fx.paths();
    const carol = await fx.user(s, 'carol', { paths: carolPaths });
    await e2eRoom('vault', alice, bob, carol);
    const before = nextEvent(carol, 'message', (m) => m.text === 'before the ban');
    await alice.send('vault', 'before the ban');
    await bob.send('vault', 'bob before the ban');
    await before;

    const banned = nextEvent(bob, 'roomEvent', (e) => e.event === 'ban' && e.user === 'carol' && e.room === 'vault');
    const closed = nextEvent(carol, 'closed');
    await alice.ban({ user: 'carol', reason: 'spam' });
    await banned;
    expect((await closed)[0]).toMatchObject({ code: 'BANNED' });
    expect(s.store.getMember('vault', 'carol')).toBeUndefined();
    // Both remaining members speak under fresh keys.
    const seen = nextEvent(alice, 'message', (m) => m.text === `${CANARY} bob after`);
    await alice.send('vault', `${CANARY} alice after`);
    await bob.send('vault', `${CANARY} bob after`);
    await seen;

    // Unbanned, carol's same device comes back and rejoins: the server gives it all it holds.
    await alice.unban({ user: 'carol' });
    const back = await fx.connect(s, { paths: carolPaths });
    const shown = collect(back, 'message');
    await back.login('carol');
    await back.joinRoom('vault');
    const page = await back.history({ room: 'vault' }, { limit: 100 });
    expect(page.messages.map((m) => m.text)).not.toEqual(expect.arrayContaining([expect.stringContaining(CANARY)]));
    expect(shown.map((m) => m.text).filter((t) => t.includes(CANARY))).toEqual([]);
    // What was said after the ban is in the store, sealed: four messages, none readable.
    const stored = s.store.history({ room: 'vault' }, { limit: 100 }).messages;
    expect(stored).toHaveLength(4);
    expect(JSON.stringify(stored)).not.toContain(CANARY);
  });

  it("a member's new device reads what is said once it exists, and its own messages are read", async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    await e2eRoom('vault', alice, bob);
    const first = nextEvent(bob, 'message', (m) => m.text === 'to the first device');
    await alice.send('vault', 'to the first device');
    await first;

    // bob on a second device (a password login binds it): alice's next message reaches both.
    const laptop = await fx.connect(s);
    await laptop.login('bob', passwordOf('bob'));
    expect(laptop.rooms.get('vault')?.kind).toBe('e2e');
    const onLaptop = nextEvent(laptop, 'message', (m) => m.text === 'to every device');
    const onPhone = nextEvent(bob, 'message', (m) => m.text === 'to every device');
    await alice.send('vault', 'to every device');
    await Promise.all([onLaptop, onPhone]);
    // And the new device speaks: alice and bob's first device read it.
    const atAlice = nextEvent(alice, 'message', (m) => m.text === 'from the laptop');
    const atPhone = nextEvent(bob, 'message', (m) => m.text === 'from the laptop');
    await laptop.send('vault', 'from the laptop');
    expect((await atAlice)[0]).toMatchObject({ from: 'bob', mine: false });
    expect((await atPhone)[0]).toMatchObject({ from: 'bob', mine: true });
  });
});
