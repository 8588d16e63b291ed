import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatController, type Memory, type UiHooks } from '../src/controller.js';
import { activeConversation, dmKey, findConversation, roomKey, STATUS_KEY } from '../src/state.js';
import { FakeClient } from './helpers/fake-client.js';
import { helpLines } from '../src/help.js';
import { e2eText } from '../src/view/chat-view.js';

function setup(answers: { ask?: string | null; confirm?: boolean; choose?: string | null } = {}, memory?: Memory) {
  const client = new FakeClient();
  const ui: UiHooks & { bells: number; quits: number; asked: string[]; choices: string[][] } = {
    bells: 0,
    quits: 0,
    asked: [],
    choices: [],
    bell() {
      this.bells++;
    },
    async secrets() {
      return null;
    },
    async ask(q, initial) {
      this.asked.push(`${q}|${initial}`);
      return answers.ask === undefined ? initial : answers.ask;
    },
    async confirm(q) {
      this.asked.push(q);
      return answers.confirm ?? false;
    },
    async choose(title, lines, choices) {
      this.choices.push([title, ...lines, choices.map((c) => c.key).join('')]);
      return answers.choose === undefined ? 'l' : answers.choose;
    },
    quit() {
      this.quits++;
    },
  };
  const ctl = new ChatController({
    client,
    ui,
    memory,
    downloadsDir: '/home/me/Downloads',
    now: () => 1_700_000_000_000,
    fileSize: async () => 10,
    readMarkDelayMs: 1,
  });
  running.push(ctl);
  return { client, ui, ctl };
}
/** Every controller a test made, stopped after it (their timers and listeners). */
const running: ChatController[] = [];
afterEach(() => {
  for (const ctl of running.splice(0)) ctl.stop();
});
/** A controller that has started: rooms joined, history loaded. */
async function started(...args: Parameters<typeof setup>) {
  const made = setup(...args);
  await made.ctl.start();
  return made;
}
const settle = () => new Promise((r) => setTimeout(r, 10));
/** The controller's clock (an offer stamped earlier was left waiting before the run: it is listed, not asked). */
const NOW = 1_700_000_000_000;
const messages = (ctl: ChatController, key?: string) =>
  (key ? findConversation(ctl.state, key)! : activeConversation(ctl.state)).lines.flatMap((l) =>
    l.kind === 'message'
      ? [{ id: l.id, text: l.text, pending: l.pending === true, ...(l.failed !== undefined ? { failed: l.failed } : {}) }]
      : [],
  );
const texts = (ctl: ChatController, key?: string) =>
  (key ? findConversation(ctl.state, key)! : activeConversation(ctl.state)).lines.map((l) =>
    l.kind === 'file' ? `file:${l.fileId}` : l.text,
  );

describe('ChatController', () => {
  it('starts: joined rooms, members and history loaded, first room active', async () => {
    const { client, ctl } = setup();
    client.historyOf.lobby = [{ kind: 'room', id: 'h1', ts: 1, from: 'bob', room: 'lobby', text: 'earlier', action: false, mine: false }];
    await ctl.start();
    expect(ctl.state.me).toBe('me');
    expect(ctl.state.active).toBe(roomKey('lobby'));
    expect(activeConversation(ctl.state).members.map((m) => m.user)).toEqual(['bob', 'me']);
    // the room's history, then the hint where the person is
    expect(texts(ctl)).toEqual(['earlier', expect.stringContaining('Type /help for commands and keys.')]);
    ctl.stop();
    expect(client.listenerTotal()).toBe(0);
  });

  it('marks what arrived while hush was closed with the "new since you were here" line', async () => {
    const { client, ctl } = setup();
    client.historyOf.lobby = ['41', '42', '43'].map((id) => ({
      kind: 'room' as const,
      id,
      ts: Number(id),
      from: 'bob',
      room: 'lobby',
      text: `t${id}`,
      action: false,
      mine: false,
    }));
    client.lastRun.lobby = '41';
    await ctl.start();
    expect(activeConversation(ctl.state).marker).toBe('42');
  });

  it('counts unread at start only what came after the newest message the account read, on any device', async () => {
    const { client, ctl } = setup();
    client.rooms.set('dev', { room: 'dev', topic: '', kind: 'open', members: 2, joined: true });
    client.historyOf.dev = ['41', '42', '43', '44'].map((id) => ({
      kind: 'room' as const,
      id,
      ts: Number(id),
      from: 'bob',
      room: 'dev',
      text: `t${id}`,
      action: false,
      mine: false,
    }));
    client.lastRun.dev = '41'; // this device last saw 41; the laptop read up to 43 since
    client.lastReads['#dev'] = '43';
    await ctl.start();
    expect(findConversation(ctl.state, roomKey('dev'))!.unread).toBe(1);
  });

  it('sends room text with emoji shortcodes converted and shows it once', async () => {
    const { client, ctl } = await started();
    await ctl.submit('hi :smile: at 12:30:45');
    expect(client.calls).toContainEqual(['send', 'lobby', 'hi 😄 at 12:30:45']);
    // the server echo with the same id does not duplicate
    client.emit('message', {
      kind: 'room',
      id: 's1',
      ts: 5,
      from: 'me',
      room: 'lobby',
      text: 'hi 😄 at 12:30:45',
      action: false,
      mine: true,
    });
    expect(messages(ctl)).toEqual([{ id: 's1', text: 'hi 😄 at 12:30:45', pending: false }]);
    await ctl.submit('//etc is literal');
    expect(client.calls).toContainEqual(['send', 'lobby', '/etc is literal']);
  });

  it('refuses to send in the status window', async () => {
    const { client, ctl } = setup();
    client.rooms.clear();
    await ctl.start();
    expect(ctl.state.active).toBe(STATUS_KEY);
    await ctl.submit('hello');
    expect(texts(ctl).at(-1)).toMatch(/status window/);
  });

  it('shows parse errors with a suggestion', async () => {
    const { ctl } = await started();
    await ctl.submit('/jion #x');
    expect(texts(ctl).at(-1)).toMatch(/did you mean \/join/);
  });

  it('direct messages: /msg sends E2E, incoming opens a conversation and rings', async () => {
    const { client, ctl, ui } = await started();
    await ctl.submit('/msg bob secret :wink:');
    expect(client.calls).toContainEqual(['sendDirect', 'bob', 'secret 😉', undefined]);
    expect(texts(ctl, dmKey('bob'))).toEqual(['secret 😉']);
    expect(ctl.state.e2e.bob).toBe('unverified');
    // Sent from #lobby: said there, with the way to the conversation.
    const n = ctl.state.conversations.findIndex((c) => c.key === dmKey('bob')) + 1;
    expect(activeConversation(ctl.state).lines.at(-1)).toMatchObject({ kind: 'notice', text: `→ @bob: "secret 😉" (Alt+${n} opens it)` });
    client.emit('message', { kind: 'dm', id: 'd9', ts: 9, from: 'carol', peer: 'carol', text: 'yo', action: false, mine: false });
    expect(findConversation(ctl.state, dmKey('carol'))!.unread).toBe(1);
    expect(ui.bells).toBe(1);
    client.emit('message', { kind: 'room', id: 'r9', ts: 9, from: 'bob', room: 'lobby', text: 'hey me!', action: false, mine: false });
    expect(ui.bells).toBe(2);
    client.emit('message', { kind: 'room', id: 'r10', ts: 9, from: 'bob', room: 'lobby', text: 'nothing', action: false, mine: false });
    expect(ui.bells).toBe(2);
  });

  it('/me in a DM and in a room', async () => {
    const { client, ctl } = await started();
    await ctl.submit('/me waves');
    expect(client.calls).toContainEqual(['action', 'lobby', 'waves']);
    ctl.openDm('bob');
    expect(ctl.state.active).toBe(dmKey('bob'));
    await ctl.submit('/me nods');
    expect(client.calls).toContainEqual(['sendDirect', 'bob', 'nods', { action: true }]);
    await ctl.submit('/part');
    expect(findConversation(ctl.state, dmKey('bob'))).toBeUndefined();
  });

  it('join, part, topic, create', async () => {
    const { client, ctl } = await started();
    await ctl.submit('/join #dev');
    expect(ctl.state.active).toBe(roomKey('dev'));
    expect(activeConversation(ctl.state).topic).toBe('topic of dev');
    await ctl.submit('/topic');
    expect(texts(ctl).at(-1)).toBe('topic of #dev: topic of dev');
    await ctl.submit('/topic new one');
    expect(client.calls).toContainEqual(['setTopic', 'dev', 'new one']);
    await ctl.submit('/topic :tada: party');
    expect(client.calls).toContainEqual(['setTopic', 'dev', '🎉 party']); // shortcodes as in a line
    client.emit('roomEvent', { room: 'dev', event: 'topic', user: 'me', by: 'me', topic: 'new one', ts: 1 });
    expect(activeConversation(ctl.state).topic).toBe('new one');
    await ctl.submit('/part');
    expect(client.calls).toContainEqual(['partRoom', 'dev']);
    expect(ctl.state.active).toBe(roomKey('lobby'));
    await ctl.submit('/create #new Fresh');
    expect(client.calls).toContainEqual(['createRoom', 'new', 'Fresh', 'e2e']);
    expect(client.calls).toContainEqual(['joinRoom', 'new']);
  });

  it('/part of a room you own asks first: the owner role is given up for good', async () => {
    for (const [answer, parted] of [
      [false, false],
      [true, true],
    ] as const) {
      const { client, ctl, ui } = await started({ confirm: answer });
      await ctl.submit('/join #dev');
      ctl.dispatch({ type: 'members', room: 'dev', members: [{ user: 'me', role: 'owner', state: 'online', status: '' }] });
      await ctl.submit('/part');
      expect(ui.asked).toContain('leave #dev?');
      expect(client.calls.some((c) => c[0] === 'partRoom')).toBe(parted);
      expect(texts(ctl).at(-1)).toBe(parted ? 'you left #dev' : 'you stay in #dev');
    }
  });

  it('moderation goes to the active room', async () => {
    const { client, ctl } = await started();
    for (const line of ['/kick bob bye', '/mute bob 30', '/unmute bob', '/op bob', '/deop bob', '/ban bob spam']) await ctl.submit(line);
    expect(client.calls).toEqual(
      expect.arrayContaining([
        ['kick', 'lobby', 'bob', 'bye'],
        ['mute', 'lobby', 'bob', 30],
        ['unmute', 'lobby', 'bob'],
        ['setRole', 'lobby', 'bob', 'op'],
        ['setRole', 'lobby', 'bob', 'member'],
        ['ban', { user: 'bob', reason: 'spam' }],
      ]),
    );
  });

  it.each([
    ['kick', '/kick bob', 'you are not an operator', 'FORBIDDEN'],
    ['sendFile', '/file /tmp/x', 'file transfer is not implemented yet', 'NOT_IMPLEMENTED'],
  ] as const)('shows an SDK error from %s with its code', async (call, line, message, code) => {
    const { client, ctl } = await started();
    client.failWith[call] = Object.assign(new Error(message), { code });
    await ctl.submit(line);
    expect(texts(ctl).at(-1)).toBe(`${message} [${code}]`);
  });

  it('presence, typing and room events update state', async () => {
    const { client, ctl } = await started();
    client.emit('typing', { from: 'bob', target: { room: 'lobby' }, active: true });
    expect(activeConversation(ctl.state).typing.bob).toBeGreaterThan(0);
    client.emit('presence', { user: 'bob', state: 'away', status: 'brb' });
    expect(activeConversation(ctl.state).members.find((m) => m.user === 'bob')!.state).toBe('away');
    client.emit('roomEvent', { room: 'lobby', event: 'join', user: 'carol', ts: 1 });
    expect(activeConversation(ctl.state).members.map((m) => m.user)).toContain('carol');
    client.emit('roomEvent', { room: 'lobby', event: 'kick', user: 'me', by: 'bob', ts: 2 });
    expect(findConversation(ctl.state, roomKey('lobby'))).toBeUndefined();
  });

  it('key changes and DM warnings are loud', async () => {
    const { client, ctl } = await started();
    ctl.openDm('bob');
    client.emit('keyChange', { user: 'carol', verified: false });
    expect(ctl.state.e2e.carol).toBe('unverified');
    client.emit('keyChange', { user: 'bob', verified: true });
    expect(ctl.state.e2e.bob).toBe('changed');
    expect(texts(ctl).at(-1)).toMatch(/CHANGED.*blocked.*\/verify bob/);
    client.emit('dmWarning', { user: 'bob', kind: 'gap', missing: 2 });
    expect(texts(ctl).at(-1)).toMatch(/2 direct message\(s\) from bob are missing/);
  });

  it('/verify shows the safety number and marks verified on yes', async () => {
    const { client, ctl } = await started({ confirm: true });
    await ctl.submit('/verify bob');
    expect(texts(ctl).join('\n')).toContain('11111 22222 33333');
    expect(client.calls).toContainEqual(['verifyContact', 'bob']);
    expect(ctl.state.e2e.bob).toBe('verified');
  });

  it('typing notifications are throttled and stopped on submit', async () => {
    const { client, ctl } = await started();
    ctl.editor.insert('h');
    ctl.inputChanged();
    ctl.editor.insert('e');
    ctl.inputChanged();
    ctl.editor.set('/cmd');
    ctl.inputChanged();
    ctl.editor.set('he');
    await ctl.submitInput();
    expect(ctl.editor.text).toBe('');
    const typing = client.calls.filter((c) => c[0] === 'setTyping');
    expect(typing).toEqual([
      ['setTyping', { room: 'lobby' }, true],
      ['setTyping', { room: 'lobby' }, false],
    ]);
  });

  it('files: send with progress, accept asks for a folder, decline', async () => {
    const { client, ctl, ui } = await started();
    await ctl.submit('/file /tmp/x.txt');
    expect(client.calls).toContainEqual(['sendFile', { room: 'lobby' }, '/tmp/x.txt']);
    expect(ctl.state.files.up1).toMatchObject({ direction: 'up', status: 'done', name: 'x.txt' });
    // What the recipient did: 'downloaded' means saved and hash-checked.
    client.emit('fileStatus', { fileId: 'up1', user: 'bob', status: 'accepted' });
    client.emit('fileStatus', { fileId: 'up1', user: 'bob', status: 'accepted' });
    expect(texts(ctl).slice(-2)).toEqual(['bob accepted "x.txt"', 'bob accepted "x.txt" again: the first download did not finish']);
    client.emit('fileStatus', { fileId: 'up1', user: 'bob', status: 'downloaded' });
    expect(texts(ctl).at(-1)).toBe('bob saved "x.txt"');
    client.emit('fileStatus', { fileId: 'up1', user: 'cy', status: 'cancelled' });
    expect(texts(ctl).at(-1)).toBe('cy cancelled "x.txt"');
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { user: 'me' }, name: 'a.txt', size: 3, e2e: true, ts: NOW });
    expect(ui.bells).toBe(1);
    await ctl.submit('/accept');
    expect(ui.asked[0]).toBe('save "a.txt" (from bob) into folder:|/home/me/Downloads');
    expect(client.calls).toContainEqual(['acceptFile', 'f1', '/home/me/Downloads']);
    expect(ctl.state.files.f1).toMatchObject({ status: 'done', path: '/home/me/Downloads/saved.txt' });
    client.emit('fileOffer', { fileId: 'f2', from: 'bob', target: { room: 'lobby' }, name: 'b', size: 3, e2e: false, ts: NOW });
    await ctl.submit('/decline');
    expect(client.calls).toContainEqual(['declineFile', 'f2']);
    expect(ctl.state.files.f2!.status).toBe('declined');
  });

  it('/search, /users, /rooms, /history, /help, /clear, /quit', async () => {
    const { client, ctl, ui } = await started();
    await ctl.submit('needle in a haystack');
    client.searchResults = [
      {
        target: { room: 'lobby' },
        message: { kind: 'room', id: 'n1', ts: 5, from: 'me', room: 'lobby', text: 'needle in a haystack', action: false, mine: true },
      },
    ];
    await ctl.submit('/search NEEDLE');
    expect(texts(ctl).join('\n')).toMatch(/1 found[\s\S]*#lobby me: needle in a haystack/);
    await ctl.submit('/users');
    expect(texts(ctl).join('\n')).toContain('bob away — lunch');
    await ctl.submit('/rooms');
    expect(texts(ctl).join('\n')).toContain('#other [open: readable by the server] (3) x');
    await ctl.submit('/history 10');
    expect(client.calls).toContainEqual(['history', { room: 'lobby' }, { limit: 10, before: 's1' }]);
    await ctl.submit('/names');
    expect(texts(ctl).at(-1)).toBe('people in #lobby (2): me, @bob');
    await ctl.submit('/list');
    expect(texts(ctl).join('\n')).toContain('#other [open: readable by the server] (3) x');
    await ctl.submit('/help');
    expect(texts(ctl).join('\n')).toContain('Ctrl+E');
    await ctl.submit('/clear');
    expect(texts(ctl)).toEqual([]);
    await ctl.submit('/quit');
    expect(ui.quits).toBe(1);
  });

  it('tab completes nicks from the member list', async () => {
    const { ctl } = await started();
    const tab = (line: string): string => {
      ctl.editor.set(line);
      ctl.complete();
      return ctl.editor.text;
    };
    expect(tab('b')).toBe('bob: ');
    expect(tab('/jo')).toBe('/join ');
    expect(tab('/join #lo')).toBe('/join #lobby ');
    expect(tab('/join lo')).toBe('/join #lobby ');
    expect(tab('/whois b')).toBe('/whois bob ');
  });

  it('reconnect notices: a drop with nothing said meanwhile folds into one line once back, a run of them too', async () => {
    const lost = 'connection lost; reconnecting… (what you type is kept and sent once back)';
    const { client, ctl } = await started();
    const before = texts(ctl).length;
    client.emit('state', 'reconnecting');
    expect(ctl.state.connection).toBe('reconnecting');
    expect(texts(ctl).at(-1)).toBe(lost);
    client.emit('state', 'ready');
    expect(texts(ctl).slice(before)).toEqual(['connection lost for 1 s; reconnected']);
    for (let i = 0; i < 2; i++) {
      client.emit('state', 'reconnecting');
      client.emit('state', 'ready');
    }
    expect(texts(ctl).slice(before)).toEqual(['connection lost 3 times in 1 s; reconnected each time']);
    // Something came while away (a catch-up): the notices stay apart, around it.
    client.emit('state', 'reconnecting');
    client.emit('message', { kind: 'room', id: 'c1', ts: 9, from: 'bob', room: 'lobby', text: 'caught up', action: false, mine: false });
    client.emit('state', 'ready');
    await settle();
    expect(texts(ctl).slice(before + 1)).toEqual([lost, 'caught up', 'reconnected']);
    vi.clearAllMocks();
  });
});

describe('ChatController: read markers', () => {
  const reads = (client: { calls: Array<[string, ...unknown[]]> }) => client.calls.filter((c) => c[0] === 'markRead');
  const msg = (id: string, from: string, extra: Record<string, unknown> = {}) => ({
    kind: 'room' as const,
    id,
    ts: 10,
    from,
    room: 'lobby',
    text: `t${id}`,
    action: false,
    mine: from === 'me',
    ...extra,
  });

  it('marks the newest message of the viewed conversation once, never my own', async () => {
    const { client, ctl } = setup();
    client.historyOf.lobby = [msg('h1', 'bob'), msg('h2', 'me')];
    await ctl.start();
    await settle();
    expect(reads(client)).toEqual([['markRead', { room: 'lobby' }, 'h1']]);
    client.emit('message', msg('r1', 'bob'));
    client.emit('message', msg('r1', 'bob')); // the same message again
    client.emit('message', msg('r2', 'me'));
    client.emit('typing', { from: 'bob', target: { room: 'lobby' }, active: true }); // any other change
    await settle();
    expect(reads(client)).toEqual([
      ['markRead', { room: 'lobby' }, 'h1'],
      ['markRead', { room: 'lobby' }, 'r1'],
    ]);
  });

  it('not while scrolled up or in another conversation; on scrolling down and on switching', async () => {
    const { client, ctl } = await started();
    ctl.dispatch({ type: 'scroll', delta: 3, max: 10 });
    client.emit('message', msg('r1', 'bob'));
    await settle();
    expect(reads(client)).toEqual([]);
    ctl.dispatch({ type: 'scrollBottom' });
    await settle();
    expect(reads(client)).toEqual([['markRead', { room: 'lobby' }, 'r1']]);
    client.emit('message', { kind: 'dm', id: 'd1', ts: 11, from: 'carol', peer: 'carol', text: 'psst', action: false, mine: false });
    await settle();
    expect(reads(client)).toHaveLength(1);
    ctl.dispatch({ type: 'switch', key: dmKey('carol') });
    await settle();
    expect(reads(client).at(-1)).toEqual(['markRead', { user: 'carol' }, 'd1']);
    ctl.dispatch({ type: 'switch', key: roomKey('lobby') });
    ctl.dispatch({ type: 'switch', key: dmKey('carol') });
    await settle();
    expect(reads(client)).toHaveLength(2); // switching back marks nothing new
  });

  it('not while disconnected: the newest one when back', async () => {
    const { client } = await started();
    client.emit('state', 'reconnecting');
    client.emit('message', msg('r1', 'bob'));
    await settle();
    expect(reads(client)).toEqual([]);
    client.emit('state', 'ready');
    await settle();
    expect(reads(client)).toEqual([['markRead', { room: 'lobby' }, 'r1']]);
  });

  it("shows a peer's read marker on my last direct message", async () => {
    const { client, ctl } = await started();
    await ctl.submit('/msg bob are you there?');
    const sent = findConversation(ctl.state, dmKey('bob'))!.lines.at(-1)!;
    expect(sent.kind === 'message' && sent.mine).toBe(true);
    const id = sent.kind === 'message' ? sent.id : '';
    client.emit('read', { from: 'bob', target: { user: 'bob' }, msgId: id });
    expect(ctl.state.reads.bob).toBe(id);
    client.emit('read', { from: 'carol', target: { user: 'bob' }, msgId: 'x' }); // not bob's marker: ignored
    expect(ctl.state.reads.bob).toBe(id);
  });
});

describe('ChatController: /cancel, /whois, /unban', () => {
  it('/cancel stops the newest running transfer; the failed accept is not reported as an error', async () => {
    const { client, ctl } = await started();
    await ctl.submit('/cancel');
    expect(texts(ctl).at(-1)).toBe('no file transfer is running');
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { user: 'me' }, name: 'a.txt', size: 3, e2e: true, ts: NOW });
    let rejectAccept!: (e: Error) => void;
    client.acceptFile = (fileId: string) => {
      client.calls.push(['acceptFile', fileId]);
      return new Promise((_resolve, reject) => {
        rejectAccept = reject;
      });
    };
    const accepting = ctl.submit('/accept f1 /tmp/dl');
    await new Promise((r) => setImmediate(r));
    expect(ctl.state.files.f1!.status).toBe('receiving');
    await ctl.submit('/cancel');
    expect(client.calls).toContainEqual(['cancelFile', 'f1']);
    rejectAccept(Object.assign(new Error('cancelled'), { code: 'FILE_CANCELLED' }));
    await accepting;
    expect(ctl.state.files.f1).toMatchObject({ status: 'cancelled', reason: 'by you' });
    expect(texts(ctl).join('\n')).not.toMatch(/FILE_CANCELLED/);
    await ctl.submit('/cancel f1');
    expect(texts(ctl).at(-1)).toBe('"a.txt" is already cancelled');
    await ctl.submit('/cancel nope');
    expect(texts(ctl).at(-1)).toBe('no file nope');
  });

  it('/whois shows presence, status and the safety-number state', async () => {
    const { client, ctl } = await started();
    client.devices.bob = [{ id: 'b1', thisDevice: false }];
    await ctl.submit('/whois bob');
    expect(texts(ctl).slice(-3)).toEqual([
      'whois bob:',
      '  presence: away — lunch',
      '  end-to-end: not verified: /verify bob to compare safety numbers',
    ]);
    client.verified.add('bob');
    await ctl.submit('/whois BOB');
    expect(texts(ctl).at(-1)).toBe('  end-to-end: verified (safety numbers compared)');
    client.emit('keyChange', { user: 'bob', verified: true });
    await ctl.submit('/whois bob');
    expect(texts(ctl).at(-1)).toMatch(/KEY CHANGED/);
    client.failWith.listDevices = Object.assign(new Error('no user nobody'), { code: 'NOT_FOUND' });
    await ctl.submit('/whois nobody');
    expect(texts(ctl).at(-1)).toBe('no user nobody [NOT_FOUND]');
  });

  it('/unban a user or an address', async () => {
    const { client, ctl } = await started();
    await ctl.submit('/unban bob');
    await ctl.submit('/unban --address 203.0.113.7');
    expect(client.calls).toEqual(
      expect.arrayContaining([
        ['unban', { user: 'bob' }],
        ['unban', { address: '203.0.113.7' }],
      ]),
    );
    expect(texts(ctl).at(-1)).toBe('unbanned 203.0.113.7');
  });
});

describe('ChatController: direct conversations', () => {
  it('loads history when a DM conversation appears from an incoming message', async () => {
    const { client, ctl } = setup();
    client.historyOf['@carol'] = [
      { kind: 'dm', id: 'old', ts: 1, from: 'carol', peer: 'carol', text: 'earlier', action: false, mine: false },
    ];
    await ctl.start();
    client.emit('message', { kind: 'dm', id: 'new', ts: 2, from: 'carol', peer: 'carol', text: 'now', action: false, mine: false });
    await new Promise((r) => setImmediate(r));
    expect(texts(ctl, dmKey('carol'))).toEqual(['earlier', 'now']);
    expect(ctl.state.e2e.carol).toBe('unverified');
  });

  it('ignores the echo of my own room file offer', async () => {
    const { client, ctl, ui } = await started();
    client.emit('fileOffer', { fileId: 'mine', from: 'me', target: { room: 'lobby' }, name: 'x', size: 1, e2e: false, ts: NOW });
    expect(ctl.state.files.mine).toBeUndefined();
    expect(ui.bells).toBe(0);
  });
});

describe('ChatController: nothing typed is lost', () => {
  it('shows a line pending through an outage, then once when acknowledged', async () => {
    const { client, ctl } = await started();
    client.holdSends = true;
    client.emit('state', 'reconnecting');
    await ctl.submit('typed during the outage');
    expect(messages(ctl)).toEqual([{ id: 'local:1', text: 'typed during the outage', pending: true }]);
    client.emit('state', 'ready');
    client.release();
    await settle();
    expect(messages(ctl)).toEqual([{ id: 's1', text: 'typed during the outage', pending: false }]);
  });

  it('the acknowledgement may come before the echo or after it; either way one line', async () => {
    const { client, ctl } = await started();
    client.holdSends = true;
    await ctl.submit('ok');
    await ctl.submit('ok');
    // the echo of the first arrives before any promise settles
    client.emit('message', { kind: 'room', id: 's1', ts: 5, from: 'me', room: 'lobby', text: 'ok', action: false, mine: true });
    expect(messages(ctl)).toEqual([
      { id: 's1', text: 'ok', pending: false },
      { id: 'local:2', text: 'ok', pending: true },
    ]);
    client.release(); // acks s1 (echoed already) and s2
    await settle();
    expect(messages(ctl)).toEqual([
      { id: 's1', text: 'ok', pending: false },
      { id: 's2', text: 'ok', pending: false },
    ]);
  });

  it('a refused line says which, never comes back into the input by itself, and /retry sends it again', async () => {
    const { client, ctl } = await started();
    client.refuseSends = Object.assign(new Error('you are muted in #lobby'), { code: 'FORBIDDEN' });
    await ctl.submit('the line that matters');
    await settle();
    expect(messages(ctl)).toEqual([
      { id: 'local:1', text: 'the line that matters', pending: false, failed: 'you are muted in #lobby [FORBIDDEN]' },
    ]);
    expect(texts(ctl).at(-1)).toBe('the line that matters'); // said once: under the line, no notice as well
    expect(ctl.editor.text).toBe(''); // what she types next is hers alone
    await ctl.submit('second');
    await settle();
    expect(messages(ctl).at(-1)).toEqual({ id: 'local:2', text: 'second', pending: false, failed: 'you are muted in #lobby [FORBIDDEN]' });
    expect(texts(ctl).filter((t) => t.startsWith('not sent'))).toEqual([]);
    client.refuseSends = null;
    await ctl.submit('/retry');
    await settle();
    expect(messages(ctl).map((m) => [m.text, m.pending, m.failed])).toEqual([
      ['the line that matters', false, undefined],
      ['second', false, undefined],
    ]);
    await ctl.submit('/retry');
    expect(texts(ctl).at(-1)).toBe('no refused line to send again');
  });

  it('text over the limit goes as several messages, cut at line ends', async () => {
    const { client, ctl } = setup();
    client.limits.maxTextLength = 20;
    await ctl.start();
    await ctl.submit('first line here\nsecond line here\nthird');
    const sent = client.calls.filter((c) => c[0] === 'send').map((c) => c[2]);
    expect(sent).toEqual(['first line here', 'second line here', 'third']);
    expect(texts(ctl)).toContain('long text: sent as 3 messages');
  });
});

describe('ChatController: pastes', () => {
  it('up to 5 lines go into the input line; Enter sends them as one message', async () => {
    const { client, ctl, ui } = await started();
    await ctl.paste('one\r\ntwo\rthree\n');
    expect(ctl.editor.text).toBe('one\ntwo\nthree');
    expect(ui.choices).toEqual([]);
    await ctl.submitInput();
    expect(client.calls.filter((c) => c[0] === 'send')).toEqual([['send', 'lobby', 'one\ntwo\nthree']]);
  });

  it('more lines ask first: y sends one message, e edits, n drops', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    for (const [answer, sends, input] of [
      ['y', 1, ''],
      ['e', 0, lines],
      ['n', 0, ''],
      [null, 0, ''],
    ] as const) {
      const { client, ctl, ui } = await started({ choose: answer });
      await ctl.paste(lines);
      expect(ui.choices[0]).toEqual([
        'paste',
        'You pasted 20 lines (149 characters), starting "line 0".',
        'Send them to #lobby as one message?',
        'yen',
      ]);
      expect(client.calls.filter((c) => c[0] === 'send')).toEqual(sends ? [['send', 'lobby', lines]] : []);
      expect(ctl.editor.text).toBe(input);
    }
  });
});

describe('ChatController: rooms, ignores and file offers', () => {
  it('/join creates a room that does not exist, as IRC does', async () => {
    const { client, ctl } = await started();
    client.joinRoom = async (room: string) => {
      client.calls.push(['joinRoom', room]);
      if (!client.rooms.has(room)) throw Object.assign(new Error(`no room #${room}`), { code: 'NOT_FOUND' });
    };
    client.createRoom = async (room: string, _topic?: string, kind?: 'e2e' | 'open') => {
      client.calls.push(['createRoom', room, kind]);
      client.rooms.set(room, { room, topic: '', kind: kind ?? 'open', members: 1, joined: true });
    };
    await ctl.submit('/join #fresh');
    expect(client.calls.filter((c) => c[0] === 'joinRoom' || c[0] === 'createRoom')).toEqual([
      ['joinRoom', 'fresh'],
      ['createRoom', 'fresh', 'e2e'],
    ]);
    expect(ctl.state.active).toBe(roomKey('fresh'));
    expect(texts(ctl).at(-1)).toMatch(/#fresh did not exist: you created it/);
    // The create event that follows the reply says nothing more: said once.
    client.emit('roomEvent', { room: 'fresh', event: 'create', user: client.user!, role: 'owner', ts: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(texts(ctl).filter((t) => t.includes('created'))).toHaveLength(1);
  });

  it('/ignore hides a user (kept in memory), /unignore shows them again', async () => {
    const saved: Array<readonly string[] | undefined> = [];
    const memory: Memory = { ignored: ['carol'], bell: true, save: (c) => saved.push(c.ignored) };
    const { client, ctl, ui } = await started({}, memory);
    client.emit('message', { kind: 'room', id: 'c1', ts: 9, from: 'carol', room: 'lobby', text: 'hey me', action: false, mine: false });
    expect(messages(ctl)).toEqual([]);
    expect(ui.bells).toBe(0);
    client.emit('message', { kind: 'room', id: 'm1', ts: 9, from: 'mallory', room: 'lobby', text: 'spam', action: false, mine: false });
    await ctl.submit('/ignore Mallory');
    expect(messages(ctl)).toEqual([]);
    expect(saved.at(-1)).toEqual(['carol', 'mallory']);
    await ctl.submit('/ignore');
    expect(texts(ctl).at(-1)).toMatch(/^ignored: carol, mallory/);
    await ctl.submit('/unignore carol');
    expect(saved.at(-1)).toEqual(['mallory']);
    client.emit('message', { kind: 'room', id: 'c2', ts: 10, from: 'carol', room: 'lobby', text: 'back', action: false, mine: false });
    expect(messages(ctl).map((m) => m.text)).toEqual(['back']);
  });

  it('/accept and /decline name an offer by its file name, spaces and all', async () => {
    const { client, ctl } = await started({ choose: 'l' });
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { room: 'lobby' }, name: 'my notes.txt', size: 3, e2e: false, ts: NOW });
    client.emit('fileOffer', { fileId: 'f2', from: 'bob', target: { room: 'lobby' }, name: 'b.bin', size: 3, e2e: false, ts: NOW });
    await settle();
    await ctl.submit('/accept my notes.txt');
    expect(client.calls).toContainEqual(['acceptFile', 'f1', '/home/me/Downloads']);
    await ctl.submit('/accept b.bin /tmp/elsewhere');
    expect(client.calls).toContainEqual(['acceptFile', 'f2', '/tmp/elsewhere']);
  });

  it('a file offer says its size in the unit the transfer lines use', async () => {
    const { client, ui } = await started({ choose: 'l' });
    client.emit('fileOffer', { fileId: 'f9', from: 'bob', target: { user: 'bob' }, name: 'big.bin', size: 3_000_000, e2e: true, ts: NOW });
    await settle();
    expect(ui.choices[0]![1]).toBe('bob offers "big.bin" (2.9 MiB), to you, end-to-end encrypted.');
  });

  it('a file offer asks at once, once', async () => {
    const { client, ui } = await started({ choose: 'a' });
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { room: 'lobby' }, name: 'new.txt', size: 3, e2e: false, ts: NOW });
    await settle();
    expect(ui.choices[0]).toEqual(['file offer', 'bob offers "new.txt" (3 bytes), to #lobby, readable by the server.', 'adl']);
    expect(ui.asked).toEqual(['save "new.txt" (from bob) into folder:|/home/me/Downloads']);
    expect(client.calls).toContainEqual(['acceptFile', 'f1', '/home/me/Downloads']);
    client.emit('fileOffer', { fileId: 'f1', from: 'bob', target: { room: 'lobby' }, name: 'new.txt', size: 3, e2e: false, ts: NOW });
    await settle();
    expect(ui.choices).toHaveLength(1); // announced again (a reconnect): not asked again
  });
});

describe('ChatController: member lists', () => {
  it('a join or a presence change that arrives while the list loads is not lost to the older list', async () => {
    const { client, ctl } = setup();
    let answer!: () => void;
    const loaded = new Promise<void>((r) => {
      answer = r;
    });
    client.members = async (room: string) => {
      client.calls.push(['members', room]);
      await loaded;
      return [
        { user: 'me', role: 'member', state: 'online', status: '' },
        { user: 'bob', role: 'op', state: 'online', status: '' },
      ];
    };
    const started = ctl.start();
    await settle();
    client.emit('roomEvent', { room: 'lobby', event: 'join', user: 'eve', ts: 1 });
    client.emit('presence', { user: 'bob', state: 'away', status: 'lunch' });
    answer();
    await started;
    const members = findConversation(ctl.state, roomKey('lobby'))!.members;
    expect(members.map((m) => [m.user, m.state])).toEqual([
      ['bob', 'away'],
      ['eve', 'online'],
      ['me', 'online'],
    ]);
  });
});

describe('ChatController: room kinds', () => {
  it('marks an end-to-end room with a lock and says an open room is readable by the server, from the room list and on /join', async () => {
    const { client, ctl } = setup();
    client.rooms.set('vault', { room: 'vault', topic: '', kind: 'e2e', members: 2, joined: true });
    await ctl.start();
    const lobby = findConversation(ctl.state, roomKey('lobby'))!;
    const vault = findConversation(ctl.state, roomKey('vault'))!;
    expect(lobby.sealed).toBe(false);
    expect(vault.sealed).toBe(true);
    expect(e2eText(ctl.state, vault).text).toBe('🔒 end-to-end encrypted room');
    expect(e2eText(ctl.state, lobby).text).toBe('room messages: encrypted in transit, readable by the server');
    expect(e2eText(ctl.state, vault).text).not.toContain('readable by the server');
    client.joinRoom = async (room: string) => {
      client.rooms.set(room, { room, topic: '', kind: 'e2e', members: 3, joined: true });
    };
    await ctl.submit('/join #sealed');
    expect(findConversation(ctl.state, roomKey('sealed'))!.sealed).toBe(true);
  });

  it('/away and /back say what they did; /bell alone says the current setting', async () => {
    const memory: Memory = { ignored: [], bell: false, save: vi.fn() };
    const { client, ctl } = await started({}, memory);
    await ctl.submit('/away lunch');
    expect(client.calls).toContainEqual(['setPresence', 'away', 'lunch']);
    expect(texts(ctl).at(-1)).toBe('you are marked away: lunch (/back when you return)');
    await ctl.submit('/back');
    expect(texts(ctl).at(-1)).toBe('you are marked online (away text "lunch" cleared)');
    await ctl.submit('/bell');
    expect(texts(ctl).at(-1)).toBe('the bell is off');
    expect(memory.save).not.toHaveBeenCalled();
    await ctl.submit('/bell on');
    await ctl.submit('/bell');
    expect(texts(ctl).at(-1)).toBe('the bell rings on mentions and direct messages');
  });

  it('/help says what the server still sees', () => {
    const lines = helpLines();
    expect(lines).toContain('what the server sees:');
    expect(lines.join('\n')).toContain('who sends when');
  });
});
