// Keys and text go where the person means them: a refused private line never lands in another
// conversation's input, a question she did not ask (a file offer) never takes her typing, and
// what happens to a room or a person is said in the pane she is looking at.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/app.js';
import { ChatController } from '../src/controller.js';
import { dmKey, findConversation, roomKey, STATUS_KEY } from '../src/state.js';
import { FakeClient, quietUi } from './helpers/fake-client.js';
import { launchApp } from './helpers/fake-app.js';
import { waitFor } from './helpers/fake-terminal.js';

const running: ChatController[] = [];
let app: RunningApp | null = null;
afterEach(async () => {
  for (const ctl of running.splice(0)) ctl.stop();
  app?.quit();
  await app?.exited;
  app = null;
});

/** A started controller on a fake client; its questions are answered "later". */
async function started(): Promise<{ client: FakeClient; ctl: ChatController }> {
  const client = new FakeClient();
  const ui = quietUi();
  const ctl = new ChatController({ client, ui, downloadsDir: '/tmp/dl', now: () => 1_700_000_000_000, readMarkDelayMs: 1 });
  running.push(ctl);
  await ctl.start();
  return { client, ctl };
}

const settle = () => new Promise((r) => setTimeout(r, 10));
const texts = (ctl: ChatController, key: string): string[] =>
  findConversation(ctl.state, key)?.lines.flatMap((l) => (l.kind === 'notice' ? [l.text] : [])) ?? [];
const noUser = (user: string) => Object.assign(new Error(`no user ${user}`), { code: 'NOT_FOUND' });

describe('a refused line stays in its own conversation', () => {
  it('a direct message refused while she is in a room: not in the room input, said in the room, /retry sends it to the person', async () => {
    const { client, ctl } = await started();
    await ctl.submit('/msg bob first'); // the conversation with bob exists
    await settle();
    client.refuseSends = Object.assign(new Error("bob's device keys changed"), { code: 'E2E_KEY_CHANGED' });
    await ctl.submit('/msg bob private words');
    await settle();
    expect(ctl.state.active).toBe(roomKey('lobby'));
    expect(ctl.editor.text).toBe(''); // Enter here would post it to #lobby
    const said = `not sent to bob: "private words" — bob's device keys changed [E2E_KEY_CHANGED]. /verify bob, then /retry.`;
    expect(texts(ctl, roomKey('lobby')).at(-1)).toBe(said);
    // In bob's conversation the line itself says why, under it: no notice as well.
    expect(texts(ctl, dmKey('bob'))).not.toContain(said);
    expect(findConversation(ctl.state, dmKey('bob'))?.lines.at(-1)).toMatchObject({
      text: 'private words',
      failed: "bob's device keys changed [E2E_KEY_CHANGED] — /verify bob, then /retry",
    });
    // What she types next is hers alone.
    client.refuseSends = null;
    ctl.editor.set('hello room');
    await ctl.submitInput();
    await settle();
    expect(client.calls.filter((c) => c[0] === 'send')).toEqual([['send', 'lobby', 'hello room']]);
    await ctl.submit('/retry');
    await settle();
    expect(client.calls.filter((c) => c[0] === 'sendDirect').map((c) => c[2])).toEqual(['first', 'private words', 'private words']);
    expect(client.calls.filter((c) => c[0] === 'send')).toHaveLength(1);
  });

  it('/msg to nobody: no conversation stays, the pane she is in says the line was not sent, the input stays empty', async () => {
    const { client, ctl } = await started();
    const history = client.history.bind(client);
    client.history = async (target, opts) => {
      if ('user' in target && target.user === 'zed') throw noUser('zed');
      return history(target, opts);
    };
    await ctl.submit('/msg zed private words');
    await settle();
    expect(findConversation(ctl.state, dmKey('zed'))).toBeUndefined();
    expect(client.calls.some((c) => c[0] === 'sendDirect')).toBe(false);
    expect(ctl.state.active).toBe(roomKey('lobby'));
    expect(ctl.editor.text).toBe('');
    expect(texts(ctl, roomKey('lobby')).at(-1)).toBe('not sent to zed: "private words" — no user zed [NOT_FOUND]');
  });

  it('/query nobody: the conversation goes again and she is back where she was, told why', async () => {
    const { client, ctl } = await started();
    ctl.dispatch({ type: 'joined', room: 'dev', activate: false }); // a pane after #lobby
    const history = client.history.bind(client);
    client.history = async (target, opts) => {
      if ('user' in target && target.user === 'nosuchuser') throw noUser('nosuchuser');
      return history(target, opts);
    };
    await ctl.submit('/q nosuchuser');
    await settle();
    expect(ctl.state.conversations.map((c) => c.key)).toEqual([STATUS_KEY, roomKey('lobby'), roomKey('dev')]);
    expect(ctl.state.active).toBe(roomKey('lobby'));
    expect(texts(ctl, roomKey('lobby')).at(-1)).toBe('no user nosuchuser [NOT_FOUND]');
    // A person who exists keeps their conversation.
    await ctl.submit('/q bob');
    await settle();
    expect(ctl.state.active).toBe(dmKey('bob'));
  });
});

describe('what happens to a room is said where she looks', () => {
  it('kicked: the room closes and the pane she is left in says who and why, as does the status window', async () => {
    const { client, ctl } = await started();
    ctl.dispatch({ type: 'joined', room: 'dev', activate: true });
    client.emit('roomEvent', { room: 'dev', event: 'kick', user: 'me', by: 'alice', reason: 'too noisy', ts: 1 });
    expect(findConversation(ctl.state, roomKey('dev'))).toBeUndefined();
    const said = 'you were kicked from #dev by alice (too noisy)';
    expect(texts(ctl, ctl.state.active).at(-1)).toBe(said);
    expect(texts(ctl, STATUS_KEY).at(-1)).toBe(said);
    // Only server admins ban, from the whole server: said so in each room, and the banned
    // person's panes stay to read (the server's goodbye says the rest).
    client.emit('roomEvent', { room: 'lobby', event: 'ban', user: 'carol', by: 'alice', reason: 'spam', ts: 2 });
    expect(texts(ctl, roomKey('lobby')).at(-1)).toBe('carol was banned from the server by alice (spam)');
    client.emit('roomEvent', { room: 'lobby', event: 'ban', user: 'me', by: 'alice', ts: 3 });
    expect(findConversation(ctl.state, roomKey('lobby'))).toBeDefined();
    expect(texts(ctl, roomKey('lobby')).join('\n')).not.toContain('you were banned from #lobby');
  });

  it('the end-to-end join notice goes to the room it is about, once its pane is open', async () => {
    const { client, ctl } = await started();
    client.joinRoom = async (room: string) => {
      client.rooms.set(room, { room, topic: '', kind: 'e2e', members: 2, joined: true });
      client.emit('notice', {
        level: 'info',
        code: 'E2E_ROOM_JOINED',
        text: `#${room} is end-to-end encrypted: earlier messages stay closed to you`,
      });
    };
    await ctl.submit('/join #dev');
    await settle();
    expect(ctl.state.active).toBe(roomKey('dev'));
    expect(texts(ctl, roomKey('dev'))).toContain('#dev is end-to-end encrypted: earlier messages stay closed to you');
    expect(texts(ctl, STATUS_KEY).join('\n')).not.toContain('E2E_ROOM_JOINED');
    // A notice about nothing in particular stays in the status window.
    client.emit('notice', { level: 'warn', code: 'E2E_BAD_KEYS', text: 'ignored 1 invalid device key(s) of bob' });
    expect(texts(ctl, STATUS_KEY).at(-1)).toBe('ignored 1 invalid device key(s) of bob [E2E_BAD_KEYS]');
  });
});

describe('room events in words', () => {
  it('roles, mutes and a created room read as sentences', async () => {
    const { client, ctl } = await started();
    const lobby = roomKey('lobby');
    // bob is an operator of #lobby: made a member, he loses that role (not an invitation).
    client.emit('roomEvent', { room: 'lobby', event: 'role', user: 'bob', by: 'alice', role: 'member', ts: 1 });
    expect(texts(ctl, lobby).at(-1)).toBe("alice took back bob's operator role");
    client.emit('roomEvent', { room: 'lobby', event: 'role', user: 'zoe', by: 'alice', role: 'op', ts: 1 });
    expect(texts(ctl, lobby).at(-1)).toBe('alice made zoe an operator');
    client.emit('roomEvent', { room: 'lobby', event: 'role', user: 'me', by: 'alice', role: 'member', ts: 2 });
    expect(texts(ctl, lobby).at(-1)).toBe('me stays a member (alice set the role me already had)');
    client.emit('roomEvent', { room: 'lobby', event: 'mute', user: 'me', by: 'bob', ts: 3 });
    expect(texts(ctl, lobby).at(-1)).toBe(
      'you were muted in #lobby by bob: what you send there is refused, each time saying for how long yet',
    );
    client.createRoom = async (room: string) => {
      // As the SDK does: the event comes before the room is listed, and before its pane opens.
      client.emit('roomEvent', { room, event: 'create', user: 'me', role: 'owner', ts: 4 });
      client.rooms.set(room, { room, topic: '', kind: 'e2e', members: 1, joined: true });
    };
    await ctl.submit('/create #fresh');
    await settle();
    const fresh = texts(ctl, roomKey('fresh')).filter((t) => t.includes('you created'));
    expect(fresh).toEqual(['you created #fresh, end-to-end encrypted, and are its owner (/topic sets its topic)']);
    expect(texts(ctl, lobby).join('\n')).not.toContain('create');
    // Created with a topic: no hint to set one.
    await ctl.submit('/create #lit Lit topic');
    await settle();
    expect(texts(ctl, roomKey('lit')).filter((t) => t.includes('you created'))).toEqual([
      'you created #lit, end-to-end encrypted, and are its owner',
    ]);
  });
});

// ----------------------------------------------------------------------------------------------
// The file prompt in a (fake) terminal: real blessed, real key handling.

async function inLobby() {
  const launched = launchApp({ password: 'pw', autoLogin: true });
  app = launched.app;
  const { session } = launched;
  const t = {
    ...launched,
    offer: (fileId: string, name: string) =>
      session.emit('fileOffer', { fileId, from: 'bob', target: { room: 'lobby' }, name, size: 1, e2e: false, ts: Date.now() }),
    answers: () => session.calls.filter((c) => c[0] === 'acceptFile' || c[0] === 'declineFile'),
  };
  await t.shows('#lobby');
  return t;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the file prompt never takes typing', () => {
  it('it waits for a pause in typing, not only an empty input line', async () => {
    const t = await inLobby();
    await sleep(1600);
    t.type('x');
    t.type('\x7f'); // the input line is empty again, but she is typing
    t.offer('f1', 'a.bin');
    await t.shows('file offer from bob: "a.bin"');
    await sleep(700);
    expect(t.text()).not.toContain('bob offers');
    await t.shows('[a] accept'); // once she has paused
  }, 20_000);

  it('a typed "send" puts the prompt off and is typed; Enter sends it; the prompt comes back later', async () => {
    const t = await inLobby();
    t.offer('f1', 'a.bin');
    await t.shows('[d] decline');
    t.type('send'); // s is no answer: the prompt goes, and every key is the line's
    await waitFor(() => t.inputLine().includes('> send'), `"send" in the input line:\n${t.text()}`);
    expect(t.text()).not.toContain('bob offers');
    t.type('\r');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'send'), 'the line sent');
    expect(t.session.calls.filter((c) => c[0] === 'send')).toEqual([['send', 'lobby', 'send']]);
    await t.shows('[d] decline'); // asked again at the next pause
    expect(t.answers()).toEqual([]);
  }, 20_000);

  it('keys before it is armed put it off; Enter once armed closes it for later and does its usual work', async () => {
    const t = await inLobby();
    t.offer('f1', 'a.bin');
    await t.shows('bob offers "a.bin"');
    t.type('a'); // at paste speed, before it is armed: not an answer
    await waitFor(() => !t.text().includes('bob offers'), 'the prompt put off');
    await waitFor(() => t.inputLine().includes('> a'), 'the key in the input line');
    await sleep(2000);
    expect(t.text()).not.toContain('bob offers'); // not while the input line holds text
    t.type('\x7f');
    await t.shows('[a] accept');
    t.type('\r'); // not an answer: closes it for later
    await waitFor(() => !t.text().includes('bob offers'), 'the prompt closed by Enter');
    await t.shows('[a] accept'); // and back at the next pause
    t.type('a'); // armed: its own key answers
    await t.shows('into folder:');
    expect(t.answers()).toEqual([]);
  }, 30_000);

  it('typing that runs on past the accept key closes the folder question and goes to the input line', async () => {
    const t = await inLobby();
    t.offer('f1', 'a.bin');
    await t.shows('[a] accept');
    // "a" answers the armed prompt; the rest, typed on at a fast typist's pace, was meant for the chat.
    t.type('a');
    await t.shows('into folder:');
    for (const key of 'nd so on\r') {
      t.type(key);
      await sleep(20);
    }
    await waitFor(() => t.session.calls.some((c) => c[0] === 'send'), 'the rest of the line sent');
    expect(t.session.calls.filter((c) => c[0] === 'send')).toEqual([['send', 'lobby', 'nd so on']]);
    expect(t.text()).not.toContain('into folder:');
    await t.shows('"a.bin" not accepted yet: /accept when you want it');
    expect(t.answers()).toEqual([]); // nothing saved into a folder named by chat text
  }, 20_000);

  it('a queued prompt does not open while she types after answering the first', async () => {
    const t = await inLobby();
    t.offer('f1', 'a.bin');
    t.offer('f2', 'b.bin');
    await t.shows('[d] decline');
    const first = t.text().includes('"a.bin"') ? 'f1' : 'f2';
    t.type('d');
    t.type('hi'); // typed straight after the answer
    await waitFor(() => t.answers().length === 1, 'the first answered');
    await sleep(2200);
    expect(t.text()).not.toContain('bob offers');
    expect(t.inputLine()).toContain('> hi');
    expect(t.answers()).toEqual([['declineFile', first]]);
    t.type('\x15'); // Ctrl+U empties the line: the second asks at the next pause
    await t.shows('bob offers "');
    await t.shows('[d] decline');
  }, 30_000);
});
