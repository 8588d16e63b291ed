import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../src/sdk.js';
import {
  MAX_MESSAGES,
  STATUS_KEY,
  TYPING_TTL_MS,
  activeConversation,
  dmKey,
  findConversation,
  initialState,
  latestOffer,
  mentions,
  newestFromOthers,
  reduce,
  roomKey,
  seenBy,
  shouldBell,
  typingUsers,
  type Action,
  type AppState,
} from '../src/state.js';

let seq = 0;
function roomMsg(from: string, text: string, room = 'lobby', extra: Partial<ChatMessage> = {}): ChatMessage {
  seq++;
  return { kind: 'room', id: `m${seq}`, ts: 1000 + seq, from, room, text, action: false, mine: from === 'me', ...extra };
}
function run(...actions: Action[]): AppState {
  return actions.reduce(reduce, initialState());
}
const base: Action[] = [
  { type: 'me', user: 'me' },
  { type: 'joined', room: 'lobby', topic: 'hi', activate: true },
  { type: 'joined', room: 'dev', activate: false },
];

describe('conversations', () => {
  it('starts with the status buffer active', () => {
    const s = initialState();
    expect(s.active).toBe(STATUS_KEY);
    expect(activeConversation(s).kind).toBe('status');
  });

  it('joins rooms, activates and keeps the topic', () => {
    const s = run(...base);
    expect(s.conversations.map((c) => c.key)).toEqual([STATUS_KEY, roomKey('lobby'), roomKey('dev')]);
    expect(s.active).toBe(roomKey('lobby'));
    expect(activeConversation(s).topic).toBe('hi');
  });

  it('counts unread in inactive conversations and clears on switch', () => {
    let s = run(
      ...base,
      { type: 'message', message: roomMsg('bob', 'x', 'dev'), now: 0 },
      { type: 'message', message: roomMsg('bob', 'y', 'dev'), now: 0 },
    );
    expect(findConversation(s, roomKey('dev'))!.unread).toBe(2);
    expect(findConversation(s, roomKey('dev'))!.mentions).toBe(0);
    s = reduce(s, { type: 'switch', key: roomKey('dev') });
    expect(findConversation(s, roomKey('dev'))!.unread).toBe(0);
  });

  it('does not count messages in the active conversation or my own', () => {
    const s = run(
      ...base,
      { type: 'message', message: roomMsg('bob', 'x'), now: 0 },
      { type: 'message', message: roomMsg('me', 'y', 'dev'), now: 0 },
    );
    expect(findConversation(s, roomKey('lobby'))!.unread).toBe(0);
    expect(findConversation(s, roomKey('dev'))!.unread).toBe(0);
  });

  it('highlights a whole-word mention of my nick', () => {
    const s = run(
      ...base,
      { type: 'message', message: roomMsg('bob', 'hey me: look', 'dev'), now: 0 },
      { type: 'message', message: roomMsg('bob', 'meme time', 'dev'), now: 0 },
    );
    const dev = findConversation(s, roomKey('dev'))!;
    expect(dev.mentions).toBe(1);
    expect(dev.lines.map((l) => l.kind === 'message' && l.mention)).toEqual([true, false]);
  });

  it('deduplicates messages by id (reconnect catch-up)', () => {
    const m = roomMsg('bob', 'x');
    const s = run(
      ...base,
      { type: 'message', message: m, now: 0 },
      { type: 'message', message: m, now: 0 },
      { type: 'history', key: roomKey('lobby'), messages: [m] },
    );
    expect(findConversation(s, roomKey('lobby'))!.lines).toHaveLength(1);
  });

  it('merges history in time order', () => {
    const older = roomMsg('bob', 'old', 'lobby', { ts: 1 });
    const newer = roomMsg('bob', 'new');
    const s = run(...base, { type: 'message', message: newer, now: 0 }, { type: 'history', key: roomKey('lobby'), messages: [older] });
    expect(findConversation(s, roomKey('lobby'))!.lines.map((l) => l.kind === 'message' && l.text)).toEqual(['old', 'new']);
  });

  it('bounds the messages kept', () => {
    let s = run(...base);
    for (let i = 0; i < MAX_MESSAGES + 10; i++) s = reduce(s, { type: 'message', message: roomMsg('bob', `n${i}`), now: 0 });
    const lines = findConversation(s, roomKey('lobby'))!.lines;
    expect(lines).toHaveLength(MAX_MESSAGES);
    expect(lines.at(-1)!.kind === 'message' && lines.at(-1)!.kind === 'message' ? (lines.at(-1) as { text: string }).text : '').toBe(
      `n${MAX_MESSAGES + 9}`,
    );
  });

  it('opens a DM conversation for an incoming direct message and counts it as a highlight', () => {
    const dm: ChatMessage = { kind: 'dm', id: 'd1', ts: 5, from: 'bob', peer: 'bob', text: 'psst', action: false, mine: false };
    const s = run(...base, { type: 'message', message: dm, now: 0 });
    const c = findConversation(s, dmKey('bob'))!;
    expect(c.kind).toBe('dm');
    expect(c.unread).toBe(1);
    expect(c.mentions).toBe(1);
    expect(shouldBell(dm, 'me')).toBe(true);
  });

  it('files my own DM under the peer', () => {
    const dm: ChatMessage = { kind: 'dm', id: 'd2', ts: 5, from: 'me', peer: 'bob', text: 'hi', action: false, mine: true };
    const s = run(...base, { type: 'message', message: dm, now: 0 });
    expect(findConversation(s, dmKey('bob'))!.lines).toHaveLength(1);
    expect(shouldBell(dm, 'me')).toBe(false);
  });

  it('switches by index and relatively with wrap-around', () => {
    let s = run(...base);
    s = reduce(s, { type: 'switchIndex', index: 2 });
    expect(s.active).toBe(roomKey('dev'));
    s = reduce(s, { type: 'switchRelative', delta: 1 });
    expect(s.active).toBe(STATUS_KEY);
    s = reduce(s, { type: 'switchRelative', delta: -1 });
    expect(s.active).toBe(roomKey('dev'));
    expect(reduce(s, { type: 'switchIndex', index: 9 })).toBe(s);
  });

  it('parting moves to the neighbour, read like any conversation switched to (a kick lands her there too)', () => {
    const s = run(
      ...base,
      { type: 'switch', key: roomKey('dev') },
      { type: 'message', message: roomMsg('bob', 'while she was in #dev'), now: 0 },
      { type: 'parted', room: 'dev' },
    );
    expect(s.active).toBe(roomKey('lobby'));
    expect(findConversation(s, roomKey('dev'))).toBeUndefined();
    expect(findConversation(s, roomKey('lobby'))).toMatchObject({ unread: 0 });
  });

  it('clamps scrolling and keeps unread while scrolled up', () => {
    let s = run(...base, { type: 'scroll', delta: 50, max: 10 });
    expect(activeConversation(s).scroll).toBe(10);
    s = reduce(s, { type: 'message', message: roomMsg('bob', 'x'), now: 0 });
    expect(activeConversation(s).unread).toBe(1);
    s = reduce(s, { type: 'scroll', delta: -100, max: 10 });
    expect(activeConversation(s).scroll).toBe(0);
    expect(activeConversation(s).unread).toBe(0);
  });

  it('notices go to the active conversation; clear empties it', () => {
    let s = run(...base, { type: 'notice', level: 'info', text: 'hello', now: 1 });
    expect(activeConversation(s).lines).toEqual([{ kind: 'notice', ts: 1, level: 'info', text: 'hello' }]);
    s = reduce(s, { type: 'clear' });
    expect(activeConversation(s).lines).toEqual([]);
  });
});

describe('members, presence, typing, e2e', () => {
  it('tracks members and presence', () => {
    let s = run(...base, {
      type: 'members',
      room: 'lobby',
      members: [
        { user: 'zed', role: 'member', state: 'online', status: '' },
        { user: 'amy', role: 'op', state: 'online', status: '' },
      ],
    });
    expect(findConversation(s, roomKey('lobby'))!.members.map((m) => m.user)).toEqual(['amy', 'zed']);
    s = reduce(s, { type: 'presence', user: 'zed', state: 'away', status: 'lunch' });
    expect(findConversation(s, roomKey('lobby'))!.members.find((m) => m.user === 'zed')).toMatchObject({ state: 'away', status: 'lunch' });
    s = reduce(s, { type: 'memberJoined', room: 'lobby', user: 'bob' });
    s = reduce(s, { type: 'memberLeft', room: 'lobby', user: 'zed' });
    expect(findConversation(s, roomKey('lobby'))!.members.map((m) => m.user)).toEqual(['amy', 'bob']);
  });

  it('typing indicators expire and end on a message', () => {
    let s = run(...base, { type: 'typing', from: 'bob', target: { room: 'lobby' }, active: true, now: 1000 });
    const lobby = () => findConversation(s, roomKey('lobby'))!;
    expect(typingUsers(lobby(), 1000)).toEqual(['bob']);
    expect(typingUsers(lobby(), 1000 + TYPING_TTL_MS + 1)).toEqual([]);
    s = reduce(s, { type: 'tick', now: 1000 + TYPING_TTL_MS + 1 });
    expect(lobby().typing).toEqual({});
    s = reduce(s, { type: 'typing', from: 'bob', target: { room: 'lobby' }, active: true, now: 2000 });
    s = reduce(s, { type: 'message', message: roomMsg('bob', 'done'), now: 2001 });
    expect(typingUsers(lobby(), 2001)).toEqual([]);
    expect(reduce(s, { type: 'typing', from: 'me', target: { room: 'lobby' }, active: true, now: 1 })).toBe(s);
  });

  it('nobody is shown typing while the connection is away', () => {
    let s = run(...base, { type: 'typing', from: 'bob', target: { room: 'lobby' }, active: true, now: 1000 });
    s = reduce(s, { type: 'connection', state: 'reconnecting' });
    expect(typingUsers(findConversation(s, roomKey('lobby'))!, 1001)).toEqual([]);
  });

  it('records E2E state per DM peer', () => {
    const s = run({ type: 'e2e', user: 'bob', state: 'changed' });
    expect(s.e2e.bob).toBe('changed');
  });

  it('mentions() matches whole words only', () => {
    expect(mentions('hi alice', 'alice')).toBe(true);
    expect(mentions('@alice!', 'alice')).toBe(true);
    expect(mentions('ALICE?', 'alice')).toBe(true);
    expect(mentions('malice', 'alice')).toBe(false);
    expect(mentions('alice_b', 'alice')).toBe(false);
    expect(mentions('x', null)).toBe(false);
  });
});

describe('read markers', () => {
  const dm = (id: string, from: string): ChatMessage => ({
    kind: 'dm',
    id,
    ts: Number(id.slice(1)),
    from,
    peer: 'bob',
    text: id,
    action: false,
    mine: from === 'me',
  });
  const open: Action[] = [
    { type: 'me', user: 'me' },
    { type: 'openDm', user: 'bob', activate: true },
  ];

  it("a peer's marker on my last message shows as seen; not once they answered or I wrote again", () => {
    let s = run(...open, { type: 'message', message: dm('d1', 'bob'), now: 1 }, { type: 'message', message: dm('d2', 'me'), now: 2 });
    const conv = () => findConversation(s, dmKey('bob'))!;
    expect(seenBy(s, conv())).toBeNull();
    s = reduce(s, { type: 'read', from: 'bob', target: { user: 'bob' }, msgId: 'd2' });
    expect(seenBy(s, conv())).toBe('bob');
    s = reduce(s, { type: 'message', message: dm('d3', 'me'), now: 3 });
    expect(seenBy(s, conv())).toBeNull();
    s = reduce(s, { type: 'read', from: 'bob', target: { user: 'bob' }, msgId: 'd3' });
    s = reduce(s, { type: 'message', message: dm('d4', 'bob'), now: 4 });
    expect(seenBy(s, conv())).toBeNull();
    expect(newestFromOthers(conv())?.id).toBe('d4');
    expect(seenBy(s, findConversation(s, STATUS_KEY)!)).toBeNull();
  });

  it('my own marker from another device leaves unread only what came after it there', () => {
    let s = run(
      ...base,
      { type: 'message', message: roomMsg('bob', 'a', 'dev'), now: 1 },
      { type: 'message', message: roomMsg('carol', 'me: look at this', 'dev'), now: 2 },
      { type: 'message', message: roomMsg('bob', 'c', 'dev'), now: 3 },
    );
    const dev = () => findConversation(s, roomKey('dev'))!;
    const ids = dev().lines.flatMap((l) => (l.kind === 'message' ? [l.id] : []));
    expect(ids).toHaveLength(3);
    expect([dev().unread, dev().mentions]).toEqual([3, 1]);
    // Older than every line held here: it says nothing about them.
    s = reduce(s, { type: 'read', from: 'me', target: { room: 'dev' }, msgId: 'm0' });
    expect([dev().unread, dev().mentions]).toEqual([3, 1]);
    s = reduce(s, { type: 'read', from: 'me', target: { room: 'dev' }, msgId: ids[0]! });
    expect([dev().unread, dev().mentions]).toEqual([2, 1]);
    s = reduce(s, { type: 'read', from: 'me', target: { room: 'dev' }, msgId: ids[1]! });
    expect([dev().unread, dev().mentions]).toEqual([1, 0]);
    s = reduce(s, { type: 'read', from: 'me', target: { room: 'dev' }, msgId: ids[2]! });
    expect([dev().unread, dev().mentions]).toEqual([0, 0]);
  });
});

describe('files', () => {
  it('follows an offer through progress to completion', () => {
    let s = run(...base, {
      type: 'fileOffer',
      offer: { fileId: 'f1', from: 'bob', target: { user: 'me' }, name: 'a.txt', size: 100, e2e: true, ts: 1 },
      now: 1,
    });
    expect(findConversation(s, dmKey('bob'))!.lines).toEqual([{ kind: 'file', ts: 1, fileId: 'f1' }]);
    expect(latestOffer(s)?.fileId).toBe('f1');
    s = reduce(s, { type: 'fileAccepted', fileId: 'f1', now: 2 });
    s = reduce(s, { type: 'fileProgress', fileId: 'f1', direction: 'down', bytes: 40, size: 100 });
    expect(s.files.f1).toMatchObject({ status: 'receiving', bytes: 40 });
    s = reduce(s, { type: 'fileComplete', fileId: 'f1', path: '/dl/a.txt' });
    expect(s.files.f1).toMatchObject({ status: 'done', bytes: 100, path: '/dl/a.txt' });
    expect(latestOffer(s)).toBeUndefined();
    // late progress does not resurrect a finished transfer
    expect(reduce(s, { type: 'fileProgress', fileId: 'f1', direction: 'down', bytes: 1, size: 100 })).toBe(s);
  });

  it('room offers land in the room; sending shows in the target', () => {
    let s = run(...base, {
      type: 'fileOffer',
      offer: { fileId: 'f2', from: 'bob', target: { room: 'dev' }, name: 'b', size: 1, e2e: false, ts: 1 },
      now: 1,
    });
    expect(findConversation(s, roomKey('dev'))!.lines).toHaveLength(1);
    expect(findConversation(s, roomKey('dev'))!.unread).toBe(1);
    s = reduce(s, { type: 'fileSending', fileId: 'u1', name: 'c', size: 10, target: { room: 'lobby' }, now: 2 });
    expect(s.files.u1).toMatchObject({ direction: 'up', status: 'sending', e2e: false });
    s = reduce(s, { type: 'fileCancelled', fileId: 'f2', status: 'declined' });
    expect(s.files.f2!.status).toBe('declined');
  });
});

describe('input history', () => {
  it('walks up and down and restores the draft', () => {
    let s = run(
      { type: 'inputSubmit', line: 'one' },
      { type: 'inputSubmit', line: 'two' },
      { type: 'inputSubmit', line: 'two' },
      { type: 'inputSubmit', line: ' ' },
    );
    expect(s.input.entries).toEqual(['one', 'two']);
    s = reduce(s, { type: 'inputPrev', current: 'draft' });
    expect(s.input.current).toBe('two');
    s = reduce(s, { type: 'inputPrev', current: 'two' });
    expect(s.input.current).toBe('one');
    s = reduce(s, { type: 'inputPrev', current: 'one' });
    expect(s.input.current).toBe('one');
    s = reduce(s, { type: 'inputNext', current: 'one' });
    expect(s.input.current).toBe('two');
    s = reduce(s, { type: 'inputNext', current: 'two' });
    expect(s.input.current).toBe('draft');
    expect(s.input.index).toBeNull();
  });
});

describe('the "new since you were here" marker', () => {
  it('is set on opening a conversation with unread messages, at the oldest unread one from others', () => {
    const read = roomMsg('bob', 'seen before', 'dev');
    const first = roomMsg('bob', 'new one', 'dev');
    const mine = roomMsg('me', 'my reply', 'dev');
    const second = roomMsg('carol', 'new two', 'dev');
    let s = run(...base, { type: 'history', key: roomKey('dev'), messages: [read] });
    for (const m of [first, mine, second]) s = reduce(s, { type: 'message', message: m, now: 0 });
    expect(findConversation(s, roomKey('dev'))!.unread).toBe(2);
    s = reduce(s, { type: 'switch', key: roomKey('dev') });
    expect(activeConversation(s).marker).toBe(first.id);
    // opened again with nothing unread: no marker
    s = reduce(reduce(s, { type: 'switch', key: roomKey('lobby') }), { type: 'switch', key: roomKey('dev') });
    expect(activeConversation(s).marker).toBeNull();
  });
});

describe('"new since you were here" after a restart', () => {
  const msg = (id: string, from: string, room = 'dev'): ChatMessage => ({
    kind: 'room',
    id,
    ts: Number(id),
    from,
    room,
    text: `text ${id}`,
    action: false,
    mine: from === 'me',
  });

  it('marks the oldest message from others after the one the last run saw, and counts what is new', () => {
    let s = run(...base, {
      type: 'history',
      key: roomKey('dev'),
      messages: [msg('8', 'bob'), msg('9', 'bob'), msg('10', 'me'), msg('11', 'carol'), msg('12', 'bob')],
    });
    s = reduce(s, { type: 'newSince', key: roomKey('dev'), after: '9' });
    const dev = findConversation(s, roomKey('dev'))!;
    expect(dev.marker).toBe('11'); // '10' is mine; ids compare as numbers ('10' > '9')
    expect(dev.unread).toBe(2);
  });

  it('sets nothing when nothing came after, and counts nothing unread in the open conversation', () => {
    let s = run(...base, { type: 'history', key: roomKey('lobby'), messages: [msg('5', 'bob', 'lobby'), msg('6', 'bob', 'lobby')] });
    expect(activeConversation(reduce(s, { type: 'newSince', key: roomKey('lobby'), after: '6' })).marker).toBeNull();
    s = reduce(s, { type: 'newSince', key: roomKey('lobby'), after: '5' });
    expect(activeConversation(s).marker).toBe('6');
    expect(activeConversation(s).unread).toBe(0);
  });
});

describe('reduce: our own lines', () => {
  const lobby = (s: AppState) =>
    findConversation(s, roomKey('lobby'))!.lines.flatMap((l) =>
      l.kind === 'message' ? [[l.id, l.text, l.pending === true, l.failed ?? null]] : [],
    );
  const out = (localId: string, text: string): Action => ({
    type: 'outgoing',
    key: roomKey('lobby'),
    localId,
    from: 'me',
    text,
    action: false,
    now: 5,
  });
  const mine = (id: string, text: string): Action => ({
    type: 'message',
    message: roomMsg('me', text, 'lobby', { id, mine: true }),
    now: 6,
  });

  it('a pending line is confirmed in place by its echo, and the later ack adds nothing', () => {
    const s = run(...base, out('local:1', 'a'), out('local:2', 'b'), mine('m1', 'a'), {
      type: 'sent',
      key: roomKey('lobby'),
      localId: 'local:1',
      id: 'm1',
      ts: 6,
    });
    expect(lobby(s)).toEqual([
      ['m1', 'a', false, null],
      ['local:2', 'b', true, null],
    ]);
  });

  it('an ack before the echo confirms the line; the echo then adds nothing', () => {
    const s = run(
      ...base,
      out('local:1', 'a'),
      { type: 'sent', key: roomKey('lobby'), localId: 'local:1', id: 'm1', ts: 6 },
      mine('m1', 'a'),
    );
    expect(lobby(s)).toEqual([['m1', 'a', false, null]]);
  });

  it("every pane shows the server's order: our line takes its place when acknowledged, pending ones stay below", () => {
    const other = (id: string, text: string): Action => ({ type: 'message', message: roomMsg('bob', text, 'lobby', { id }), now: 6 });
    let s = run(...base, out('local:1', 'a'), out('local:2', 'b'), other('x1', 'x'));
    expect(lobby(s).map((l) => l[1])).toEqual(['x', 'a', 'b']);
    s = reduce(s, other('x2', 'y')); // the server ordered y before our a too
    s = reduce(s, mine('m1', 'a'));
    s = reduce(s, other('x3', 'z'));
    expect(lobby(s)).toEqual([
      ['x1', 'x', false, null],
      ['x2', 'y', false, null],
      ['m1', 'a', false, null],
      ['x3', 'z', false, null],
      ['local:2', 'b', true, null],
    ]);
    s = reduce(s, { type: 'sent', key: roomKey('lobby'), localId: 'local:2', id: 'm2', ts: 7 }); // an ack before its echo
    expect(lobby(s).map((l) => l[0])).toEqual(['x1', 'x2', 'm1', 'x3', 'm2']);
  });

  it('a refused line keeps its text and says why; removeLine takes it away', () => {
    let s = run(...base, out('local:1', 'a'), { type: 'sendFailed', key: roomKey('lobby'), localId: 'local:1', reason: 'muted' });
    expect(lobby(s)).toEqual([['local:1', 'a', false, 'muted']]);
    s = reduce(s, { type: 'removeLine', key: roomKey('lobby'), id: 'local:1' });
    expect(lobby(s)).toEqual([]);
  });

  it('ignored users: their lines go, new ones and history stay out, ours stay', () => {
    let s = run(...base, { type: 'message', message: roomMsg('mallory', 'spam', 'lobby', { id: 'x1' }), now: 1 }, out('local:1', 'mine'));
    s = reduce(s, { type: 'ignored', users: ['mallory'] });
    s = reduce(s, { type: 'message', message: roomMsg('mallory', 'more', 'lobby', { id: 'x2' }), now: 2 });
    s = reduce(s, { type: 'history', key: roomKey('lobby'), messages: [roomMsg('mallory', 'old', 'lobby', { id: 'x0', ts: 0 })] });
    expect(lobby(s)).toEqual([['local:1', 'mine', true, null]]);
    expect(s.ignored).toEqual(['mallory']);
  });
});

describe('connection drops', () => {
  const drop = (kind: 'lost' | 'back', now: number): Action => ({
    type: 'notice',
    level: kind === 'lost' ? 'warn' : 'info',
    text: kind === 'lost' ? 'connection lost; reconnecting…' : 'reconnected',
    now,
    event: true,
    drop: kind,
  });
  const notices = (s: AppState) => activeConversation(s).lines.flatMap((l) => (l.kind === 'notice' ? [l.text] : []));

  it('how long is said in seconds, minutes or hours; drops hours apart with nothing between still take one line', () => {
    expect(notices(run(...base, drop('lost', 0), drop('back', 45_000)))).toEqual(['connection lost for 45 s; reconnected']);
    expect(notices(run(...base, drop('lost', 0), drop('back', 10 * 60_000)))).toEqual(['connection lost for 10 min; reconnected']);
    const night = run(...base, drop('lost', 0), drop('back', 2000), drop('lost', 8 * 3_600_000), drop('back', 8 * 3_600_000 + 2000));
    expect(notices(night)).toEqual(['connection lost 2 times in 8 h; reconnected each time']);
  });

  it('a line that came while away keeps the notices apart', () => {
    const s = run(...base, drop('lost', 0), { type: 'message', message: roomMsg('bob', 'caught up'), now: 1000 }, drop('back', 2000));
    expect(activeConversation(s).lines.map((l) => (l.kind === 'file' ? '' : l.text))).toEqual([
      'connection lost; reconnecting…',
      'caught up',
      'reconnected',
    ]);
  });
});
