import type { TestServer } from '@hush/server';
import { e2eRoom, passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { collect, Fixture, nextEvent } from './helpers.js';

// End-to-end rooms over real sockets against a real hushd: messages are sealed with sender keys
// handed out over the device sessions; the server stores and relays only envelopes.

const CANARY = 'e2e-room-canary-7f3a';

describe('end-to-end rooms', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  /** `names` in #vault (e2e), the first its owner. */
  async function room(names: string[]): Promise<{ s: TestServer; clients: HushClient[] }> {
    const s = await fx.unthrottledServer();
    const clients: HushClient[] = [];
    for (const name of names) clients.push(await fx.user(s, name));
    await e2eRoom('vault', clients[0]!, ...clients.slice(1));
    return { s, clients };
  }

  /** Alice and Bob in #vault (e2e); Bob can come back as the same device through `bob.paths`. */
  async function aliceAndBob(): Promise<{ s: TestServer; alice: HushClient; bob: HushClient }> {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    await e2eRoom('vault', alice, bob);
    return { s, alice, bob };
  }

  const storedText = (s: TestServer, room: string) => JSON.stringify(s.store.history({ room }, { limit: 500 }));

  it('members read each other; the server stores and relays only envelopes; replies, edits and reactions work inside', async () => {
    const {
      s,
      clients: [alice, bob, carol],
    } = await room(['alice', 'bob', 'carol']);
    expect(alice!.rooms.get('vault')?.kind).toBe('e2e');
    const bobSees = nextEvent(bob!, 'message', (m) => m.room === 'vault' && m.text === `${CANARY} one`);
    const carolSees = nextEvent(carol!, 'message', (m) => m.room === 'vault' && m.text === `${CANARY} one`);
    const sent = await alice!.send('vault', `${CANARY} one`);
    const [atBob] = await bobSees;
    await carolSees;
    expect(atBob).toMatchObject({ id: sent.id, from: 'alice', mine: false });

    const replySeen = nextEvent(alice!, 'message', (m) => m.text === 'seen it');
    await bob!.reply({ room: 'vault' }, sent.id, 'seen it');
    expect((await replySeen)[0].replyTo).toBe(sent.id);
    const edited = nextEvent(carol!, 'messageUpdate', (u) => u.change.kind === 'edit');
    await alice!.edit({ room: 'vault' }, sent.id, `${CANARY} one, edited`);
    expect((await edited)[0]).toMatchObject({ msgId: sent.id });
    const reacted = nextEvent(alice!, 'messageUpdate', (u) => u.change.kind === 'react');
    await carol!.react({ room: 'vault' }, sent.id, '👍', true);
    await reacted;
    expect(alice!.reactions(sent.id)).toEqual([{ emoji: '👍', users: ['carol'] }]);

    const stored = storedText(s, 'vault');
    expect(stored).not.toContain(CANARY);
    expect(stored).not.toContain('seen it');
    expect(
      s.store
        .history({ room: 'vault' }, { limit: 500 })
        .messages.every((m) => m.kind === 'room' && m.envelope !== undefined && m.text === ''),
    ).toBe(true);
    // History pages open too (from this process's memory of what it opened).
    const page = await bob!.history({ room: 'vault' });
    expect(page.messages.map((m) => m.text)).toEqual([`${CANARY} one, edited`, 'seen it']);
  });

  it.each(['leaves', 'is kicked'] as const)(
    'a member who %s reads nothing sent afterwards, even handed every stored envelope',
    async (how) => {
      const {
        s,
        clients: [alice, bob, carol],
      } = await room(['alice', 'bob', 'carol']);
      const before = nextEvent(carol!, 'message', (m) => m.text === 'before');
      await alice!.send('vault', 'before');
      await before;
      const removed = nextEvent(alice!, 'roomEvent', (e) => (e.event === 'part' || e.event === 'kick') && e.user === 'carol');
      if (how === 'leaves') await carol!.partRoom('vault');
      else await alice!.kick('vault', 'carol');
      await removed;
      const bobAfter = nextEvent(bob!, 'message', (m) => m.text === `${CANARY} after`);
      await alice!.send('vault', `${CANARY} after`);
      await bobAfter;

      // Carol rejoins only to be fed everything the server holds: nothing sent while she was out opens.
      const shown = collect(carol!, 'message');
      const notices = collect(carol!, 'notice');
      await carol!.joinRoom('vault');
      expect(notices).toEqual([
        expect.objectContaining({ code: 'E2E_ROOM_JOINED', text: expect.stringContaining('earlier messages stay closed to you') }),
      ]);
      const page = await carol!.history({ room: 'vault' });
      expect(page.messages.map((m) => m.text)).not.toContain(`${CANARY} after`);
      expect(shown.map((m) => m.text)).not.toContain(`${CANARY} after`);
      expect(storedText(s, 'vault')).not.toContain(CANARY);
    },
  );

  it('a new account is told that what was said before it came stays closed (the default room is end to end)', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    await alice.send('lobby', 'before dave');
    const dave = await fx.connect(s);
    const notices = collect(dave, 'notice');
    await dave.register('dave', passwordOf('dave'));
    expect(notices).toEqual([
      expect.objectContaining({ code: 'E2E_ROOM_JOINED', text: expect.stringContaining('#lobby is end-to-end encrypted') }),
    ]);
    // A device login of the same account says nothing more.
    await dave.close();
    const again = await fx.connect(s, { paths: dave.paths });
    const later = collect(again, 'notice');
    await again.login('dave');
    expect(later).toEqual([]);
  });

  it('an offline member catches up: every message sent meanwhile opens and shows exactly once, in order', async () => {
    const { s, alice, bob } = await aliceAndBob();
    const first = nextEvent(bob, 'message', (m) => m.text === 'while online');
    await alice.send('vault', 'while online');
    await first;
    await bob.close();

    const sent: string[] = [];
    for (let i = 0; i < 20; i++) sent.push((await alice.send('vault', `offline ${i}`)).id);
    // A new member while bob is away: alice's next message goes to carol too (bob already holds the key).
    const carol = await fx.user(s, 'carol');
    await carol.joinRoom('vault');
    // Alice has sent here before (its member list is kept): carol's join event makes her fetch it again.
    const carolReads = nextEvent(carol, 'message', (m) => m.text === 'offline 20');
    sent.push((await alice.send('vault', 'offline 20')).id);
    await carolReads;

    const again = await fx.connect(s, { paths: bob.paths });
    const shown = collect(again, 'message');
    const last = nextEvent(again, 'message', (m) => m.text === 'offline 20');
    await again.login('bob');
    await last;
    const caughtUp = shown.filter((m) => m.room === 'vault' && m.text.startsWith('offline'));
    expect(caughtUp.map((m) => m.id)).toEqual(sent);
    expect(caughtUp.map((m) => m.text)).toEqual(sent.map((_, i) => `offline ${i}`));
  });

  it('after a restart, history shows what this device read and sent before (from its local history), edits applied', async () => {
    const { s, alice, bob } = await aliceAndBob();
    const heard = nextEvent(alice, 'message', (m) => m.text === 'from bob');
    await bob.send('vault', 'from bob');
    await heard;
    const edited = nextEvent(bob, 'messageUpdate', (u) => u.change.kind === 'edit');
    const fromAlice = await alice.send('vault', 'from alice');
    await alice.edit({ room: 'vault' }, fromAlice.id, 'from alice, edited');
    await edited;
    await bob.close();

    const again = await fx.connect(s, { paths: bob.paths });
    await again.login('bob');
    const page = await again.history({ room: 'vault' });
    expect(page.messages.map((m) => [m.from, m.text])).toEqual([
      ['bob', 'from bob'],
      ['alice', 'from alice, edited'],
    ]);
  });

  it('only its author deletes a message: no server checks a delete inside an envelope', async () => {
    const { s, clients } = await room(['alice', 'bob', 'carol']);
    const [alice, bob, carol] = clients as [HushClient, HushClient, HushClient];
    const seen = nextEvent(carol, 'message', (m) => m.text === 'keep me');
    const bobSaw = nextEvent(bob, 'message', (m) => m.text === 'take me back');
    const first = await alice.send('vault', 'keep me');
    const second = await alice.send('vault', 'take me back');
    await seen;
    await bobSaw;
    const updates = collect(carol, 'messageUpdate');
    // Bob's client knows whose message it is: refused in words, nothing sent.
    await expect(bob.delete({ room: 'vault' }, first.id)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/in an end-to-end room only its author can delete a message \(this one is alice's\)/),
    });
    // A client that never saw the message (a fresh run of bob's device) sends it: stored and relayed
    // (the server cannot read it), and ignored by the members.
    await bob.close();
    const bobAgain = await fx.connect(s, { paths: bob.paths });
    await bobAgain.login('bob');
    await bobAgain.delete({ room: 'vault' }, first.id);
    const ownDelete = nextEvent(carol, 'messageUpdate', (u) => u.msgId === second.id);
    await alice.delete({ room: 'vault' }, second.id);
    await ownDelete;
    expect(updates.map((u) => u.msgId)).toEqual([second.id]);
    const page = await carol.history({ room: 'vault' });
    expect(page.messages.find((m) => m.id === first.id)).toMatchObject({ text: 'keep me' });
    expect(page.messages.find((m) => m.id === second.id)).toMatchObject({ deleted: true });
    expect((await carol.search('keep')).map((r) => r.message.id)).toEqual([first.id]);
  });
});
