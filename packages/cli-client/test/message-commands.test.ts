import { describe, expect, it } from 'vitest';
import { ChatController, type Memory, type UiHooks } from '../src/controller.js';
import { formatLines, reactionSummary } from '../src/format.js';
import { findCommand } from '../src/commands.js';
import {
  MEMBER_DELETE_REFUSED,
  NUMBERED_COMMANDS,
  numberAndRest,
  reactionEmoji,
  STILL_SENDING,
  wantsNumbers,
} from '../src/message-commands.js';
import type { ChatMessage } from '../src/sdk.js';
import { activeConversation } from '../src/state.js';
import { FakeClient } from './helpers/fake-client.js';

// Replies, reactions, edits, deletes, mentions, bell and search in hush's logic and formatting
// (the tmux tests drive the same through real processes).

function setup(memory?: Memory) {
  const client = new FakeClient();
  const ui: UiHooks & { bells: number } = {
    bells: 0,
    bell() {
      this.bells++;
    },
    async secrets() {
      return null;
    },
    async ask() {
      return null;
    },
    async confirm() {
      return true;
    },
    async choose() {
      return null;
    },
    quit() {},
  };
  const ctl = new ChatController({ client, ui, memory, downloadsDir: '/tmp', now: () => 1_700_000_000_000, readMarkDelayMs: 1 });
  return { client, ui, ctl };
}

const room = (id: string, from: string, text: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  kind: 'room',
  id,
  ts: 1_700_000_000_000,
  from,
  room: 'lobby',
  text,
  action: false,
  mine: from === 'me',
  ...extra,
});
const plain = (rows: string[]) => rows.map((r) => r.replace(/\{[^}]*\}/g, ''));

describe('message commands', () => {
  it('parses numbers, emoji and shortcodes', () => {
    expect(numberAndRest('2 hello there')).toEqual({ n: 2, rest: 'hello there' });
    expect(numberAndRest('hello 2')).toEqual({ rest: 'hello 2' });
    expect(numberAndRest('3')).toEqual({ n: 3, rest: '' });
    expect(reactionEmoji(':thumbsup:')).toBe('👍');
    expect(reactionEmoji('tada')).toBe('🎉');
    expect(reactionEmoji('🎉')).toBe('🎉');
    expect(reactionEmoji('two words')).toBeUndefined();
    expect(reactionEmoji(':nosuchcode:')).toBeUndefined();
    expect(wantsNumbers('/reply ')).toBe(true);
    expect(wantsNumbers('/react')).toBe(true);
    expect(wantsNumbers('/replyx')).toBe(false);
    expect(wantsNumbers('hello')).toBe(false);
    // The short forms too (/re, /del): every name of a command that names a message freezes the numbers.
    for (const name of NUMBERED_COMMANDS) {
      for (const alias of findCommand(name)?.aliases ?? []) expect([alias, wantsNumbers(`/${alias} 1 x`)]).toEqual([alias, true]);
    }
    expect(wantsNumbers('/re 1 ok')).toBe(true);
    expect(wantsNumbers('/del 2')).toBe(true);
  });

  it('/reply, /react (toggles), /edit (prefills), /delete name messages by number from the newest', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    client.emit('message', room('1', 'bob', 'first'));
    client.emit('message', room('2', 'me', 'mine'));
    client.emit('message', room('3', 'bob', 'newest'));
    await ctl.submit('/reply sure');
    expect(client.calls).toContainEqual(['reply', { room: 'lobby' }, '3', 'sure']);
    await ctl.submit('/reply 3 to the first :smile:');
    expect(client.calls).toContainEqual(['reply', { room: 'lobby' }, '1', 'to the first 😄']);
    await ctl.submit('/react 3 :thumbsup:');
    expect(client.calls).toContainEqual(['react', { room: 'lobby' }, '1', '👍', true]);
    client.emit('messageUpdate', {
      target: { room: 'lobby' },
      msgId: '1',
      by: 'me',
      change: { kind: 'react', emoji: '👍', on: true },
      message: room('1', 'bob', 'first', { reactions: [{ emoji: '👍', users: ['me'] }] }),
    });
    await ctl.submit('/react 3 👍');
    expect(client.calls).toContainEqual(['react', { room: 'lobby' }, '1', '👍', false]);

    await ctl.submit('/edit');
    expect(ctl.editor.text).toBe('/edit 2 mine');
    ctl.editor.set('');
    await ctl.submit('/edit 2 mine, fixed');
    expect(client.calls).toContainEqual(['edit', { room: 'lobby' }, '2', 'mine, fixed']);
    await ctl.submit('/edit 1 not mine');
    expect(client.calls.filter((c) => c[0] === 'edit')).toHaveLength(1);
    expect(activeConversation(ctl.state).lines.at(-1)).toMatchObject({ kind: 'notice', text: 'you can only edit your own messages' });
    await ctl.submit('/delete');
    expect(client.calls).toContainEqual(['delete', { room: 'lobby' }, '2']);
    // bob's line, and I am a plain member of this open room: refused in words, nothing sent.
    client.listUsers = async () => [{ user: 'me', state: 'online', status: '', role: 'user' }];
    await ctl.submit('/delete 1');
    expect(client.calls.filter((c) => c[0] === 'delete')).toHaveLength(1);
    expect(activeConversation(ctl.state).lines.at(-1)).toMatchObject({ kind: 'notice', text: MEMBER_DELETE_REFUSED });
    // A server admin may delete anyone's in an open room: asked, then deleted.
    client.listUsers = async () => [{ user: 'me', state: 'online', status: '', role: 'admin' }];
    await ctl.submit('/delete 1');
    expect(client.calls).toContainEqual(['delete', { room: 'lobby' }, '3']);
    await ctl.submit('/reply 9 nothing there');
    expect(activeConversation(ctl.state).lines.at(-1)).toMatchObject({
      kind: 'notice',
      text: expect.stringContaining('there is no message 9 here'),
    });
    ctl.stop();
  });

  it('/edit and /delete wait while a line of yours is still being sent: the newest would be the one before it', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    client.emit('message', room('1', 'me', 'an older line of mine'));
    ctl.dispatch({ type: 'outgoing', key: '#lobby', localId: 'l1', from: 'me', text: 'teh typo', action: false, now: 1 });
    for (const line of ['/edit the typo', '/edit 1 the typo', '/delete', '/delete 1']) {
      await ctl.submit(line);
      expect(activeConversation(ctl.state).lines.at(-1)).toMatchObject({ kind: 'notice', text: STILL_SENDING });
    }
    expect(client.calls.filter((c) => c[0] === 'edit' || c[0] === 'delete')).toEqual([]);
    // Once it is stored it is number 1 and the newest of yours.
    ctl.dispatch({ type: 'sent', key: '#lobby', localId: 'l1', id: '2', ts: 2 });
    await ctl.submit('/edit the typo');
    expect(client.calls).toContainEqual(['edit', { room: 'lobby' }, '2', 'the typo']);
    ctl.stop();
  });

  it('shows a reply quote, reactions, "(edited)" and "message deleted", all sanitised', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    client.emit('message', room('1', 'bob', 'original \x1b[31mtext\nsecond line'));
    client.emit('message', room('2', 'me', 'an answer', { replyTo: '1' }));
    client.emit('message', room('3', 'me', 'to something old', { replyTo: '0' }));
    client.emit('messageUpdate', {
      target: { room: 'lobby' },
      msgId: '2',
      by: 'me',
      change: { kind: 'edit', text: 'an answer!' },
      message: room('2', 'me', 'an answer!', {
        replyTo: '1',
        edited: true,
        reactions: [
          { emoji: '👍\x07', users: ['bob', 'carol'] },
          { emoji: '🎉', users: ['bob'] },
        ],
      }),
    });
    const lines = activeConversation(ctl.state).lines;
    let rows = plain(formatLines(lines, { width: 80 }));
    const at = rows.findIndex((r) => r.includes('an answer!'));
    expect(rows[at - 1]).toMatch(/↪ bob: original .*text second line/);
    expect(rows[at - 1]).not.toContain('\x1b');
    expect(rows[at]).toContain('an answer! (edited)');
    expect(rows[at + 1]).toContain('👍 2  🎉 1');
    expect(rows.join('\n')).not.toContain('\x07');
    expect(rows.some((r) => r.includes('↪ original not available'))).toBe(true);

    client.emit('messageUpdate', {
      target: { room: 'lobby' },
      msgId: '1',
      by: 'bob',
      change: { kind: 'delete' },
      message: room('1', 'bob', '', { deleted: true }),
    });
    rows = plain(formatLines(activeConversation(ctl.state).lines, { width: 80, numbered: true }));
    expect(rows.find((r) => r.includes('<bob>'))).toMatch(/^\[3\] \d\d:\d\d <bob> message deleted$/);
    expect(rows.some((r) => r.includes('↪ bob: message deleted'))).toBe(true);
    expect(reactionSummary([{ emoji: '\x1b]0;x\x07👍', users: ['a'] }])).not.toMatch(/[\x00-\x1f]/);
    ctl.stop();
  });

  it('/bell off stops the bell on mentions and DMs and is remembered; /mentions lists them', async () => {
    const saved: boolean[] = [];
    const memory: Memory = {
      ignored: [],
      bell: true,
      save: (c) => {
        if (c.bell !== undefined) saved.push(c.bell);
      },
    };
    const { client, ui, ctl } = setup(memory);
    await ctl.start();
    client.emit('message', room('1', 'bob', 'hey @me look'));
    expect(ui.bells).toBe(1);
    await ctl.submit('/bell off');
    client.emit('message', room('2', 'bob', 'me: again'));
    client.emit('message', { kind: 'dm', id: '3', ts: 1, from: 'bob', peer: 'bob', text: 'psst', action: false, mine: false });
    expect(ui.bells).toBe(1);
    expect(saved).toEqual([false]);
    await ctl.submit('/mentions');
    const shown = activeConversation(ctl.state)
      .lines.flatMap((l) => (l.kind === 'notice' ? [l.text] : []))
      .join('\n');
    expect(shown).toMatch(/mentions of you \(2\):\n.*bob: "hey @me look"\n.*bob: "me: again"/);
    await ctl.submit('/bell on');
    client.emit('message', room('4', 'bob', 'me?'));
    expect(ui.bells).toBe(2);
    expect(setup({ ignored: [], bell: false, save: () => {} }).ctl.bellOn).toBe(false);
    ctl.stop();
  });

  it('/search asks the SDK (here or everywhere) and /goto opens a result', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    client.searchResults = [
      {
        target: { user: 'bob' },
        message: { kind: 'dm', id: '7', ts: 5, from: 'bob', peer: 'bob', text: 'the deploy key', action: false, mine: false },
      },
    ];
    await ctl.submit('/search deploy');
    expect(client.calls).toContainEqual(['search', 'deploy', { target: { room: 'lobby' } }]);
    await ctl.submit('/search -a deploy key');
    expect(client.calls).toContainEqual(['search', 'deploy key', {}]);
    expect(activeConversation(ctl.state).lines.at(-1)).toMatchObject({ text: expect.stringContaining('1. ') });
    await ctl.submit('/goto 1');
    expect(ctl.state.active).toBe('@bob');
    await ctl.submit('/goto 2');
    expect(activeConversation(ctl.state).lines.at(-1)).toMatchObject({
      kind: 'notice',
      text: 'no search result 2: the last search found 1 (/goto 1)',
    });
    ctl.stop();
  });
});
