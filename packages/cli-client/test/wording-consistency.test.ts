// The words hush uses for one thing are one: an unknown user, a user who never logged in, the one
// status text, notes to yourself, an open room's join, an edit's original, a cut name in the chat list.
import { afterEach, describe, expect, it } from 'vitest';
import { ChatController, type Memory } from '../src/controller.js';
import { conversationListRow } from '../src/format.js';
import { helpLines } from '../src/help.js';
import { dmKey, findConversation, initialState, roomKey, STATUS_KEY, type Conversation } from '../src/state.js';
import { e2eText } from '../src/view/chat-view.js';
import { displayWidth } from '../src/width.js';
import { FakeClient, quietUi } from './helpers/fake-client.js';

const running: ChatController[] = [];
afterEach(() => {
  for (const ctl of running.splice(0)) ctl.stop();
});

const ui = quietUi();

/** A started controller on a fake client whose server knows no `zed` (its NOT_FOUND, as the server words it). */
async function started(memory?: Memory, user = 'me'): Promise<{ client: FakeClient; ctl: ChatController }> {
  const client = new FakeClient();
  client.user = user;
  const unknown = (user: string) => Object.assign(new Error(`no user ${user}`), { code: 'NOT_FOUND' });
  const { history, listDevices, safetyNumber } = client;
  client.history = async (target, opts) => {
    if ('user' in target && target.user === 'zed') throw unknown('zed');
    return history.call(client, target, opts);
  };
  client.listDevices = async (user) => {
    if (user === 'zed') throw unknown('zed');
    return listDevices.call(client, user);
  };
  client.safetyNumber = async (user) => {
    if (user === 'zed') throw unknown('zed');
    return safetyNumber.call(client, user);
  };
  client.devices.bob = [{ id: 'b1', thisDevice: false }];
  const ctl = new ChatController({ client, ui, memory, downloadsDir: '/tmp/dl', now: () => 1_700_000_000_000, readMarkDelayMs: 1 });
  running.push(ctl);
  await ctl.start();
  return { client, ctl };
}

const settle = () => new Promise((r) => setTimeout(r, 10));
const texts = (ctl: ChatController, key = ctl.state.active): string[] =>
  findConversation(ctl.state, key)?.lines.flatMap((l) => (l.kind === 'notice' ? [l.text] : [])) ?? [];

describe('an unknown user', () => {
  it('/whois, /verify, /query, /msg and /ignore all say it in the server words', async () => {
    const { ctl } = await started();
    const said = 'no user zed [NOT_FOUND]';
    for (const line of ['/whois zed', '/verify zed', '/query zed', '/ignore zed']) {
      await ctl.submit(line);
      await settle();
      expect(texts(ctl).at(-1), line).toBe(said);
    }
    await ctl.submit('/msg zed hi');
    expect(texts(ctl).at(-1)).toBe(`not sent to zed: "hi" — ${said}`);
    expect(ctl.state.ignored).toEqual([]);
    expect(findConversation(ctl.state, dmKey('zed'))).toBeUndefined();
  });

  it('/ignore takes a user who exists, online or not, once; during an outage it does not wait for the server', async () => {
    const saved: (readonly string[] | undefined)[] = [];
    const { client, ctl } = await started({ ignored: [], bell: true, save: (c) => saved.push(c.ignored) });
    await ctl.submit('/ignore henry'); // an account that never logged in: no devices, still a user
    expect(texts(ctl).at(-1)).toBe('ignoring henry: their messages and file offers are hidden (/unignore henry to undo)');
    await ctl.submit('/ignore henry');
    expect(texts(ctl).at(-1)).toBe('henry is ignored already (/unignore henry to undo)');
    client.state = 'reconnecting';
    client.calls.length = 0;
    await ctl.submit('/ignore mallory');
    expect(client.calls.some((c) => c[0] === 'listDevices')).toBe(false);
    expect(ctl.state.ignored).toEqual(['henry', 'mallory']);
    expect(saved).toEqual([['henry'], ['henry', 'mallory']]);
  });
});

describe('a user who never logged in', () => {
  it('/whois says so and does not offer /verify; a user with devices is offered it', async () => {
    const { ctl } = await started();
    await ctl.submit('/whois henry');
    expect(texts(ctl).at(-1)).toBe('  end-to-end: henry has not logged in on any device yet: no safety number to compare until they have');
    expect(texts(ctl).join('\n')).not.toContain('/verify henry');
    await ctl.submit('/devices henry');
    expect(texts(ctl).at(-1)).toBe('henry has not logged in on any device yet');
    await ctl.submit('/whois bob');
    expect(texts(ctl).slice(-3)).toEqual([
      'whois bob:',
      '  presence: away — lunch',
      '  end-to-end: not verified: /verify bob to compare safety numbers',
    ]);
  });
});

describe('one status text', () => {
  it('/status while away replaces the away text and says so; she stays away; /back says what it cleared', async () => {
    const { client, ctl } = await started();
    await ctl.submit('/away lunch break');
    expect(texts(ctl).at(-1)).toBe('you are marked away: lunch break (/back when you return)');
    await ctl.submit('/status coding in rust 🦀');
    expect(client.calls.at(-1)).toEqual(['setPresence', 'away', 'coding in rust 🦀']);
    expect(texts(ctl).at(-1)).toBe(
      'status set: coding in rust 🦀; it replaces your away text "lunch break" (one status text shows at a time). You are still away: /back when you return',
    );
    // Set with /status: it stays after /back.
    await ctl.submit('/back');
    expect(client.calls.at(-1)).toEqual(['setPresence', 'online', undefined]);
    expect(texts(ctl).at(-1)).toBe('you are marked online; your status text stays: "coding in rust 🦀" (/status - clears it)');
    await ctl.submit('/status reviewing');
    expect(client.calls.at(-1)).toEqual(['setPresence', 'online', 'reviewing']);
    expect(texts(ctl).at(-1)).toBe('status set: reviewing');
  });

  it('/away with a text replaces a status text and says so; without one it keeps it', async () => {
    const { client, ctl } = await started();
    await ctl.submit('/status reviewing');
    await ctl.submit('/away');
    expect(client.calls.at(-1)).toEqual(['setPresence', 'away', undefined]); // the server keeps the text
    expect(texts(ctl).at(-1)).toBe('you are marked away: reviewing (/back when you return)');
    await ctl.submit('/away lunch');
    expect(texts(ctl).at(-1)).toBe(
      'you are marked away: lunch (/back when you return); it stands in for your status text "reviewing" until /back',
    );
    await ctl.submit('/back');
    expect(client.calls.at(-1)).toEqual(['setPresence', 'online', 'reviewing']);
    expect(texts(ctl).at(-1)).toBe('you are marked online (away text "lunch" cleared; your status text "reviewing" is back)');
  });

  it('/status alone says the status text, /status - clears it', async () => {
    const { client, ctl } = await started();
    await ctl.submit('/status');
    expect(texts(ctl).at(-1)).toBe('you are online; you have no status text (/status text sets one)');
    await ctl.submit('/status in a meeting until 3');
    await ctl.submit('/status');
    expect(texts(ctl).at(-1)).toBe('you are online; your status text is "in a meeting until 3" (/status - clears it)');
    await ctl.submit('/status -');
    expect(client.calls.at(-1)).toEqual(['setPresence', 'online', '']);
    expect(texts(ctl).at(-1)).toBe('status text cleared (it was "in a meeting until 3")');
  });

  it('knows its own presence from a member list before any presence event (set on another device)', async () => {
    const client = new FakeClient();
    client.membersOf.lobby = [{ user: 'me', role: 'member', state: 'away', status: 'on a train' }];
    const ctl = new ChatController({ client, ui, downloadsDir: '/tmp/dl', readMarkDelayMs: 1 });
    running.push(ctl);
    await ctl.start();
    await ctl.submit('/status reading');
    expect(client.calls.at(-1)).toEqual(['setPresence', 'away', 'reading']);
    expect(texts(ctl).at(-1)).toMatch(/it replaces your away text "on a train"/);
  });
});

describe('notes to yourself', () => {
  it('/msg and /query of yourself open one conversation that says what it is, here and on another device', async () => {
    const { client, ctl } = await started(undefined, 'eve');
    await ctl.submit('/msg eve buy milk');
    await settle();
    expect(client.calls).toContainEqual(['sendDirect', 'eve', 'buy milk', undefined]);
    const notes = findConversation(ctl.state, dmKey('eve'))!;
    expect(texts(ctl, notes.key)[0]).toBe(
      'notes to yourself: what you send here is end-to-end encrypted and reaches only your own devices',
    );
    expect(e2eText(ctl.state, notes).text).toBe('notes to yourself: end-to-end encrypted to your own devices');
    await ctl.submit('/query eve');
    expect(ctl.state.active).toBe(notes.key);
    expect(texts(ctl, notes.key).filter((t) => t.startsWith('notes to yourself'))).toHaveLength(1);

    // The same note arriving on another device opens the conversation there with the same words, above it.
    const other = await started(undefined, 'eve');
    other.client.emit('message', { kind: 'dm', id: 'n1', ts: 1, from: 'eve', peer: 'eve', text: 'buy milk', action: false, mine: true });
    const lines = findConversation(other.ctl.state, dmKey('eve'))!.lines.map((l) => ('text' in l ? l.text : l.kind));
    expect(lines[0]).toMatch(/^notes to yourself: /);
    expect(lines.indexOf('buy milk')).toBeGreaterThan(0);
  });
});

describe('joining an open room', () => {
  it('says it is open and readable by the server, in its pane', async () => {
    const { ctl } = await started();
    await ctl.submit('/join #announcements'); // the fake's rooms are open
    expect(ctl.state.active).toBe(roomKey('announcements'));
    expect(texts(ctl)).toContain(
      '#announcements is an open room: encrypted in transit, readable by the server (not end-to-end); you read its earlier messages too',
    );
    expect(texts(ctl, STATUS_KEY).join('\n')).not.toContain('#announcements is');
  });
});

describe('edits keep the original', () => {
  it('/help edit says so, and the first edit of a run says it once', async () => {
    expect(helpLines('edit')[0]).toContain('The original stays in the history of everyone who received it: /delete erases');
    const { ctl } = await started();
    const key = roomKey('lobby');
    ctl.dispatch({
      type: 'message',
      message: { kind: 'room', id: 'm1', ts: 1, from: 'me', room: 'lobby', text: 'my password is hunter2', action: false, mine: true },
      now: 1,
    });
    const hint = 'edited: the original text stays in the history of everyone who received it (only /delete erases a message)';
    await ctl.submit('/edit 1 my password is ********');
    expect(texts(ctl, key).at(-1)).toBe(hint);
    await ctl.submit('/edit 1 nothing to see');
    expect(texts(ctl, key).filter((t) => t === hint)).toHaveLength(1);
  });
});

describe('the chat list', () => {
  const base: Conversation = { ...initialState().conversations[0]!, kind: 'room', key: '#announcements', name: 'announcements' };
  it('a 13-character name leaves a blank column before the border at every panel width, cut with … where it must be', () => {
    for (const [width, row] of [
      [14, '3.#announcem… '], // 80 to 99 columns
      [16, '3.#announcemen… '], // 100 to 119
      [20, '3.#announcements    '], // 120 and more
    ] as const) {
      expect(conversationListRow(base, 2, width)).toBe(row);
      expect(displayWidth(row)).toBe(width);
    }
    expect(conversationListRow({ ...base, sealed: true, unread: 3 }, 2, 16)).toBe('3.#announc… 🔒 3');
  });
});
