import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_DISTINCT_REACTIONS } from '@hush/protocol';
import { startTestServer, type TestServer } from '@hush/server';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { HushError } from '../src/errors.js';
import { collect, Fixture, homeOf, nextEvent } from './helpers.js';

// Replies, edits, deletes, reactions and search over real sockets against a real hushd, in an
// open room (the server checks references and redacts deletes there; e2e rooms: e2e-rooms.test.ts).

const room = (name: string) => ({ room: name });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(HushError);
    return (error as HushError).code;
  }
  throw new Error('expected a refusal');
}

describe('conversation features', () => {
  const fx = new Fixture();
  let server: TestServer | undefined;
  afterEach(() => fx.cleanup());

  async function pair(): Promise<{ s: TestServer; alice: HushClient; bob: HushClient; bobData: string }> {
    server = fx.stopAfter(await startTestServer({ openRooms: ['lobby'] }));
    // Only a server admin creates an open room: alice is made one (and owns #ops).
    const alicePaths = await fx.paths();
    await (await fx.user(server, 'alice', { paths: alicePaths })).close();
    server.store.setServerRole('alice', 'admin');
    const alice = await fx.connect(server, { paths: alicePaths });
    await alice.login('alice');
    const bobPaths = await fx.paths();
    const bob = await fx.user(server, 'bob', { paths: bobPaths });
    await alice.createRoom('ops', undefined, 'open');
    await bob.joinRoom('ops');
    return { s: server, alice, bob, bobData: join(homeOf(bobPaths.dataDir, server).history, 'bob') };
  }

  it('in a room: a reply names its original, reactions count once per person and emoji, an edit and a delete reach everyone', async () => {
    const { s, alice, bob } = await pair();
    const original = await alice.send('ops', 'lunch at noon?');
    const replySeen = nextEvent(alice, 'message', (m) => m.text === 'yes!');
    const reply = await bob.reply(room('ops'), original.id, 'yes!');
    const [shown] = await replySeen;
    expect(shown.replyTo).toBe(original.id);
    expect(shown.id).toBe(reply.id);

    const updates = collect(alice, 'messageUpdate');
    await bob.react(room('ops'), original.id, '👍', true);
    await bob.react(room('ops'), original.id, '👍', true); // a second time changes nothing
    await alice.react(room('ops'), original.id, '👍', true);
    const party = nextEvent(bob, 'messageUpdate', (u) => u.change.kind === 'react' && u.change.emoji === '🎉');
    await alice.react(room('ops'), original.id, '🎉', true);
    await party;
    expect(bob.reactions(original.id)).toEqual([
      { emoji: '👍', users: ['bob', 'alice'] },
      { emoji: '🎉', users: ['alice'] },
    ]);
    const removed = nextEvent(alice, 'messageUpdate', (u) => u.change.kind === 'react' && !u.change.on);
    await bob.react(room('ops'), original.id, '👍', false);
    await removed;
    expect(alice.reactions(original.id)).toEqual([
      { emoji: '👍', users: ['alice'] },
      { emoji: '🎉', users: ['alice'] },
    ]);
    expect(updates.filter((u) => u.by === 'bob' && u.change.kind === 'react')).toHaveLength(2); // the repeat was no change

    const edited = nextEvent(bob, 'messageUpdate', (u) => u.change.kind === 'edit');
    await alice.edit(room('ops'), original.id, 'lunch at one?');
    const [edit] = await edited;
    expect(edit.message).toMatchObject({ id: original.id, text: 'lunch at one?', edited: true, from: 'alice' });

    const deleted = nextEvent(bob, 'messageUpdate', (u) => u.change.kind === 'delete');
    await alice.delete(room('ops'), original.id);
    const [del] = await deleted;
    expect(del.message).toMatchObject({ id: original.id, text: '', deleted: true });
    expect(del.message.reactions).toBeUndefined();
    // The server forgot the text and the edit: only the delete says what happened.
    const stored = s.store.history({ room: 'ops' }, { limit: 50 }).messages;
    expect(JSON.stringify(stored)).not.toContain('lunch at');
    expect(s.store.roomMessage('ops', original.id)).toMatchObject({ text: '', deleted: true });

    // A client that only reads history sees the same state.
    const carol = await fx.user(s, 'carol');
    await carol.joinRoom('ops');
    const page = await carol.history(room('ops'));
    const texts = page.messages.map((m) => ({ id: m.id, text: m.text, deleted: m.deleted ?? false, replyTo: m.replyTo }));
    expect(texts).toEqual([
      { id: original.id, text: '', deleted: true, replyTo: undefined },
      { id: reply.id, text: 'yes!', deleted: false, replyTo: original.id },
    ]);
  });

  it("refuses editing or deleting someone else's message, and references to messages of another room or never stored", async () => {
    const { s, alice, bob } = await pair();
    const mine = await alice.send('ops', 'alice says');
    expect(await refusal(bob.edit(room('ops'), mine.id, 'bob rewrites'))).toBe('FORBIDDEN');
    expect(await refusal(bob.delete(room('ops'), mine.id))).toBe('FORBIDDEN');
    expect(alice.message(mine.id)?.text).toBe('alice says');

    // The room's owner (alice created it) may delete bob's message; bob may not edit it back.
    const bobs = await bob.send('ops', 'spam');
    const gone = nextEvent(bob, 'messageUpdate', (u) => u.msgId === bobs.id && u.change.kind === 'delete');
    await alice.delete(room('ops'), bobs.id);
    await gone;
    expect(await refusal(bob.edit(room('ops'), bobs.id, 'spam again'))).toBe('NOT_FOUND');

    // carol is not in #ops: she cannot see its messages, so she can neither react to them nor answer them from elsewhere.
    const carol = await fx.user(s, 'carol');
    expect(await refusal(carol.react(room('ops'), mine.id, '👍', true))).toBe('NOT_MEMBER');
    expect(await refusal(carol.reply(room('lobby'), mine.id, 'from lobby'))).toBe('NOT_FOUND');
    expect(await refusal(carol.react(room('lobby'), mine.id, '👍', true))).toBe('NOT_FOUND');
    expect(await refusal(alice.reply(room('ops'), '999999', 'to nothing'))).toBe('NOT_FOUND');
    // A reaction to a reaction is not a thing.
    const r = await alice.react(room('ops'), mine.id, '👍', true);
    expect(await refusal(bob.react(room('ops'), r.id, '👍', true))).toBe('NOT_FOUND');
    expect(await refusal(alice.react(room('ops'), mine.id, 'two words', true))).toBe('BAD_REQUEST');
    expect(s.store.roomMessage('ops', mine.id)?.text).toBe('alice says');
  });

  it('a thousand reactions on one message: one per person and emoji, at most MAX_DISTINCT_REACTIONS emoji', async () => {
    const { s, alice, bob } = await pair();
    const target = await alice.send('ops', 'react to me');
    const ts = Date.now();
    const emoji = Array.from({ length: MAX_DISTINCT_REACTIONS + 10 }, (_, i) => String.fromCodePoint(0x1f600 + i));
    const batch = Array.from({ length: 1000 }, (_, i) => ({
      kind: 'room' as const,
      ts,
      from: `user${i % 400}`,
      room: 'ops',
      text: '',
      action: false,
      ref: { kind: 'react' as const, msgId: target.id, emoji: emoji[i % emoji.length]!, on: true },
    }));
    s.store.appendMessages(batch);
    // Live too: bob's reaction goes through the server (acked once delivered, after the rows stored
    // behind the server's back, which its bus reads from the store as a gap before it).
    await bob.react(room('ops'), target.id, '👍', true);

    const carol = await fx.user(s, 'carol');
    await carol.joinRoom('ops');
    let before: string | undefined;
    for (;;) {
      const page = await carol.history(room('ops'), { limit: 500, ...(before ? { before } : {}) });
      if (!page.hasMore || page.messages.length === 0) break;
      before = page.messages[0]!.id;
    }
    const reactions = carol.reactions(target.id);
    expect(reactions).toHaveLength(MAX_DISTINCT_REACTIONS);
    // Distinct (user, emoji) pairs among the first MAX_DISTINCT_REACTIONS emoji: i and i+1000 never collide within 1000.
    const expected = new Map<string, Set<string>>();
    batch.forEach((m) => {
      if (emoji.indexOf(m.ref.emoji) >= MAX_DISTINCT_REACTIONS) return;
      const users = expected.get(m.ref.emoji) ?? new Set();
      users.add(m.from);
      expected.set(m.ref.emoji, users);
    });
    for (const r of reactions) expect(r.users.length).toBe(expected.get(r.emoji)!.size);
    expect(reactions.some((r) => r.emoji === '👍')).toBe(false); // bob's came after the cap was reached
  }, 30_000);

  it('edits racing a delete end in the same state on every client and in history', async () => {
    const { s, alice, bob } = await pair();
    const msg = await alice.send('ops', 'v0');
    const done = nextEvent(bob, 'messageUpdate', (u) => u.change.kind === 'delete');
    // Not awaited one by one: they go out back to back and the server orders them.
    const results = await Promise.allSettled([
      alice.edit(room('ops'), msg.id, 'v1'),
      alice.delete(room('ops'), msg.id),
      alice.edit(room('ops'), msg.id, 'v2'),
    ]);
    await done;
    expect(results[1]!.status).toBe('fulfilled');
    // Everything before it is in both hands once both see this.
    const synced = Promise.all([alice, bob].map((c) => nextEvent(c, 'message', (m) => m.text === 'sync')));
    await bob.send('ops', 'sync');
    await synced;
    for (const c of [alice, bob]) expect(c.message(msg.id)).toMatchObject({ text: '', deleted: true });
    const carol = await fx.user(s, 'carol');
    await carol.joinRoom('ops');
    const page = await carol.history(room('ops'));
    expect(page.messages.find((m) => m.id === msg.id)).toMatchObject({ text: '', deleted: true });
    expect(JSON.stringify(s.store.history({ room: 'ops' }, { limit: 50 }).messages)).not.toMatch(/"v[12]"/);
  });

  it('changes made while a client is away reach it on reconnect and after a restart', async () => {
    server = fx.stopAfter(await startTestServer({ dataDir: await fx.dir(), openRooms: ['ops'] }));
    const s = server;
    const alice = await fx.user(s, 'alice');
    await alice.joinRoom('ops');
    const bobPaths = await fx.paths();
    const bob = await fx.connect(s, { paths: bobPaths });
    await bob.register('bobby', 'pw-bobby-secret');
    await bob.joinRoom('ops');
    const a = await alice.send('ops', 'first');
    const b = await alice.send('ops', 'second');
    await bob.close();

    await alice.edit(room('ops'), a.id, 'first, edited');
    await alice.react(room('ops'), a.id, '🎉', true);
    await alice.delete(room('ops'), b.id);

    const again = await fx.connect(s, { paths: bobPaths });
    await again.login('bobby');
    const page = await again.history(room('ops'));
    expect(page.messages.find((m) => m.id === a.id)).toMatchObject({
      text: 'first, edited',
      edited: true,
      reactions: [{ emoji: '🎉', users: ['alice'] }],
    });
    expect(page.messages.find((m) => m.id === b.id)).toMatchObject({ deleted: true, text: '' });

    // Reconnect: the server goes away and comes back; what happened meanwhile is caught up in order.
    const dataDir = s.dataDir;
    const port = s.port;
    const down = nextEvent(again, 'state', (st) => st === 'reconnecting');
    const aliceDown = nextEvent(alice, 'state', (st) => st === 'reconnecting');
    await s.stop();
    await Promise.all([down, aliceDown]);
    const caught = nextEvent(again, 'messageUpdate', (u) => u.change.kind === 'edit', 20_000);
    const ready = nextEvent(again, 'state', (st) => st === 'ready', 20_000);
    server = fx.stopAfter(await startTestServer({ dataDir, port }));
    // Stored while both are away (before they can be back).
    server.store.appendMessages([
      {
        kind: 'room',
        ts: Date.now(),
        from: 'alice',
        room: 'ops',
        text: 'first, edited twice',
        action: false,
        ref: { kind: 'edit', msgId: a.id },
      },
    ]);
    await ready;
    const [u] = await caught;
    expect(u.message.text).toBe('first, edited twice');
  }, 45_000);

  it('in a direct conversation: the same kinds inside the sealed body; only the author edits or deletes', async () => {
    const { alice, bob, bobData } = await pair();
    const sent = nextEvent(bob, 'message', (m) => m.text === 'hi bob');
    const dm = await alice.sendDirect('bob', 'hi bob');
    await sent;
    const replied = nextEvent(alice, 'message', (m) => m.text === 'hi alice');
    await bob.reply({ user: 'alice' }, dm.id, 'hi alice');
    expect((await replied)[0].replyTo).toBe(dm.id);

    const reacted = nextEvent(alice, 'messageUpdate', (u) => u.change.kind === 'react');
    await bob.react({ user: 'alice' }, dm.id, '❤️', true);
    expect((await reacted)[0].message.reactions).toEqual([{ emoji: '❤️', users: ['bob'] }]);

    // bob "edits" alice's message: the server cannot tell (it is sealed), but neither end applies it.
    const bobUpdates = collect(bob, 'messageUpdate');
    await bob.edit({ user: 'alice' }, dm.id, 'forged');
    const edited = nextEvent(bob, 'messageUpdate', (u) => u.change.kind === 'edit');
    await alice.edit({ user: 'bob' }, dm.id, 'hi bob (edited)');
    await edited;
    expect(bobUpdates.filter((u) => u.change.kind === 'edit' && u.by === 'bob')).toHaveLength(0);
    expect(bob.message(dm.id)).toMatchObject({ text: 'hi bob (edited)', edited: true });
    expect(alice.message(dm.id)).toMatchObject({ text: 'hi bob (edited)', edited: true });

    await bob.delete({ user: 'alice' }, dm.id); // ignored too
    const deleted = nextEvent(bob, 'messageUpdate', (u) => u.change.kind === 'delete');
    await alice.delete({ user: 'bob' }, dm.id);
    const [del] = await deleted;
    expect(del.by).toBe('alice');
    expect(bob.message(dm.id)).toMatchObject({ deleted: true, text: '' });
    // Gone from bob's device too (the server still holds the sealed envelope: it cannot tell).
    await bob.close();
    const onDisk = await readFile(join(bobData, 'user-alice.jsonl'), 'utf8');
    expect(onDisk).not.toContain('hi bob');
    expect(onDisk).toContain('hi alice');
  });

  it('search: over the local history, latest text only, one conversation or all, after a restart, files 0600, deleted text forgotten', async () => {
    const { s, alice, bob } = await pair();
    const alicePaths = await fx.paths();
    const carol = await fx.connect(s, { paths: alicePaths });
    await carol.register('carol', 'pw-carol-secret');
    await carol.joinRoom('ops');
    const got = nextEvent(carol, 'message', (m) => m.text === 'the deploy key is in the vault');
    const m1 = await alice.send('ops', 'the deploy key is in the vault');
    await got;
    const dmGot = nextEvent(carol, 'message', (m) => m.text === 'Deploy tonight?');
    await bob.sendDirect('carol', 'Deploy tonight?');
    await dmGot;
    const typo = await alice.send('ops', 'teh dpeloy failed');
    const editSeen = nextEvent(carol, 'messageUpdate', (u) => u.change.kind === 'edit');
    await alice.edit(room('ops'), typo.id, 'the rollout failed');
    await editSeen;
    const deleteSeen = nextEvent(carol, 'messageUpdate', (u) => u.change.kind === 'delete');
    await alice.delete(room('ops'), m1.id);
    await deleteSeen;
    const kept = nextEvent(carol, 'message', (m) => m.text === 'deploy done');
    await alice.send('ops', 'deploy done');
    await kept;

    const here = await carol.search('DEPLOY', { target: room('ops') });
    expect(here.map((r) => r.message.text)).toEqual(['deploy done']); // not the deleted one, not the old typo
    const everywhere = await carol.search('deploy');
    expect(everywhere.map((r) => `${'room' in r.target ? `#${r.target.room}` : `@${r.target.user}`}:${r.message.text}`).sort()).toEqual([
      '#ops:deploy done',
      '@bob:Deploy tonight?',
    ]);
    expect((await carol.search('rollout')).map((r) => r.message.id)).toEqual([typo.id]);
    expect(await carol.search('   ')).toEqual([]);

    await carol.close();
    const again = await fx.connect(s, { paths: alicePaths });
    await again.login('carol');
    expect((await again.search('rollout failed')).map((r) => r.message.text)).toEqual(['the rollout failed']);
    const dir = join(homeOf(alicePaths.dataDir, s).history, 'carol');
    expect((await stat(join(dir, 'room-ops.jsonl'))).mode & 0o777).toBe(0o600);
    // The deleted message's text is gone from the device too; the rest is there.
    const onDisk = await readFile(join(dir, 'room-ops.jsonl'), 'utf8');
    expect(onDisk).not.toContain('vault');
    expect(onDisk).toContain('the rollout failed');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });
});
