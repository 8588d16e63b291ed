// What a relaunch of hush brings back, and how it ends when the server closes it for good: the
// direct conversations of the last run (kept in the data directory), the file offers left waiting
// (listed once at their own time, never a prompt each), and a client banned or kicked off that
// says so once and never offers a /retry that cannot work.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningApp } from '../src/app.js';
import { ChatController, type UiHooks } from '../src/controller.js';
import { accountKey, type DirectConversation, DIRECTS_FILE, fileDirectList, parseDirects } from '../src/direct-list.js';
import { closedText, formatLine, waitingOffersText } from '../src/format.js';
import type { FileOffer } from '../src/sdk.js';
import { activeConversation, dmKey, findConversation, roomKey, STATUS_KEY, type Line } from '../src/state.js';
import { FakeClient } from './helpers/fake-client.js';
import { FakeSession, launchApp } from './helpers/fake-app.js';
import { screenText, waitFor } from './helpers/fake-terminal.js';

const NOW = new Date(2026, 11, 7, 15, 0).getTime();
const running: ChatController[] = [];
const dirs: string[] = [];
let app: RunningApp | null = null;
afterEach(async () => {
  for (const ctl of running.splice(0)) ctl.stop();
  app?.quit();
  await app?.exited;
  app = null;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hush-relaunch-'));
  dirs.push(dir);
  return dir;
}

function controller(client: FakeClient, directs?: DirectConversation[], loginAt?: number) {
  const ui: UiHooks & { bells: number; prompts: string[] } = {
    bells: 0,
    prompts: [],
    bell() {
      this.bells++;
    },
    ask: async (_q, initial) => initial,
    secrets: async () => null,
    confirm: async () => false,
    async choose(title, lines) {
      this.prompts.push([title, ...lines].join(' '));
      return 'l';
    },
    quit() {},
  };
  const ctl = new ChatController({ client, ui, downloadsDir: '/tmp/dl', now: () => NOW, directs, loginAt });
  running.push(ctl);
  return { ctl, ui };
}

const dm = (id: string, from: string, peer: string, text: string, ts: number) =>
  ({ kind: 'dm', id, ts, from, peer, text, action: false, mine: from === 'me' }) as const;

const texts = (ctl: ChatController, key: string) =>
  findConversation(ctl.state, key)!.lines.map((l) => (l.kind === 'message' ? l.text : l.kind === 'notice' ? l.text : `file:${l.fileId}`));

describe('relaunch: the direct conversations of the last run come back', () => {
  it('opens them after the rooms, in their last order, with their history, without switching to them', async () => {
    const client = new FakeClient();
    client.historyOf['@bob'] = [dm('d1', 'bob', 'bob', 'see you tomorrow', NOW - 3_600_000), dm('d2', 'me', 'bob', 'ok', NOW - 3_500_000)];
    client.historyOf['@carol'] = [dm('d3', 'carol', 'carol', 'ping', NOW - 7_200_000)];
    const { ctl } = controller(client, [{ user: 'carol' }, { user: 'bob' }]);
    await ctl.start();
    expect(ctl.state.conversations.map((c) => c.key)).toEqual([STATUS_KEY, roomKey('lobby'), dmKey('carol'), dmKey('bob')]);
    expect(ctl.state.active).toBe(roomKey('lobby'));
    expect(texts(ctl, dmKey('bob'))).toEqual(['see you tomorrow', 'ok']);
    expect(texts(ctl, dmKey('carol'))).toEqual(['ping']);
    expect(ctl.state.e2e).toEqual({ carol: 'unverified', bob: 'unverified' });
  });

  it('what came after the newest message the last run held is new: counted unread, marked "new since"', async () => {
    const client = new FakeClient();
    client.historyOf['@bob'] = [
      dm('101', 'bob', 'bob', 'seen last time', NOW - 7_200_000),
      dm('102', 'me', 'bob', 'my answer', NOW - 7_100_000),
      dm('105', 'bob', 'bob', 'while you were away', NOW - 600_000),
      dm('107', 'bob', 'bob', 'and again', NOW - 300_000),
    ];
    const { ctl } = controller(client, [{ user: 'bob', seen: '102' }]);
    await ctl.start();
    const bob = findConversation(ctl.state, dmKey('bob'))!;
    expect(bob.unread).toBe(2);
    expect(bob.marker).toBe('105');
  });

  it('the file keeps each account its list, 0600, and a damaged file costs the list, not the launch', () => {
    const dir = tempDir();
    const list = fileDirectList(dir);
    const alice = { server: 'SHA512:one', user: 'alice' };
    const bob = { server: 'SHA512:two', user: 'bob' };
    expect(list.load(alice)).toEqual([]);
    list.save(alice, [{ user: 'bob', seen: '812' }, { user: 'carol' }]);
    list.save(bob, [{ user: 'alice' }]);
    expect(list.load(alice)).toEqual([{ user: 'bob', seen: '812' }, { user: 'carol' }]);
    expect(list.load(bob)).toEqual([{ user: 'alice' }]);
    expect(accountKey(bob)).toBe('bob@SHA512:two');
    expect(statSync(join(dir, DIRECTS_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o077).toBe(0);

    writeFileSync(join(dir, DIRECTS_FILE), '{"alice@127.0.0.1:5555": [{"user": "bob"}]');
    expect(list.load(alice)).toEqual([]); // torn JSON
    const edited = {
      'alice@h:1': [
        { user: 'bob', seen: '9' },
        { user: '../../etc' },
        7,
        'carol',
        { user: 'bob', seen: '10' },
        { user: 'Evil\u001b' },
        { user: 'dave', seen: 'x1' },
      ],
      x: 'no',
      ['__proto__']: [{ user: 'zed' }],
    };
    expect(parseDirects(JSON.stringify(edited))).toEqual({
      'alice@h:1': [{ user: 'bob', seen: '9' }, { user: 'dave' }],
      ['__proto__']: [{ user: 'zed' }],
    });
    expect(parseDirects('[1,2]')).toEqual({});
  });

  it('a list an older hush kept under an address pinned to the same key is taken over; others are not', () => {
    const dir = tempDir();
    writeFileSync(join(dir, DIRECTS_FILE), JSON.stringify({ 'alice@h:1': [{ user: 'bob', seen: '7' }], 'alice@h:2': [{ user: 'eve' }] }));
    const list = fileDirectList(dir, (fingerprint) => (fingerprint === 'SHA512:one' ? ['h:9', 'h:1'] : ['h:2']));
    expect(list.load({ server: 'SHA512:one', user: 'alice' })).toEqual([{ user: 'bob', seen: '7' }]);
    expect(list.load({ server: 'SHA512:one', user: 'carol' })).toEqual([]);
    list.save({ server: 'SHA512:one', user: 'alice' }, [{ user: 'bob', seen: '8' }]);
    expect(list.load({ server: 'SHA512:one', user: 'alice' })).toEqual([{ user: 'bob', seen: '8' }]);
  });

  it('the app keeps the list as it changes and gives it back at the next launch of the same account', async () => {
    const dir = tempDir();
    const launch = (session: FakeSession) => {
      const t = launchApp({ session, password: 'pw', autoLogin: true, directs: fileDirectList(dir) });
      app = t.app;
      return t;
    };
    const first = new FakeSession();
    let t = launch(first);
    await t.shows('#lobby');
    first.emit('message', dm('101', 'bob', 'bob', 'hello from bob', NOW));
    await t.shows('@bob');
    t.type('/query carol\r');
    await t.shows('@carol');
    const saved = () => JSON.stringify(JSON.parse(readFileSync(join(dir, DIRECTS_FILE), 'utf8')));
    await waitFor(() => saved() === '{"mia@SHA512:fake":[{"user":"bob","seen":"101"},{"user":"carol"}]}', 'the list saved');
    t.type('/part\r'); // closes @carol, the active one
    await waitFor(() => saved() === '{"mia@SHA512:fake":[{"user":"bob","seen":"101"}]}', 'the closed one forgotten');
    app!.quit();
    await app!.exited;

    const second = new FakeSession();
    second.historyOf['@bob'] = [dm('101', 'bob', 'bob', 'hello from bob', NOW), dm('102', 'bob', 'bob', 'and more', NOW)];
    t = launch(second);
    await t.shows('3.@bob');
    await waitFor(() => /3\.@bob\s+1(?!\d)/.test(screenText(app!.screen)), 'the message after the one seen counted new');
    expect(second.calls).toContainEqual(['history', { user: 'bob' }, { limit: 50 }]);
  });
});

const offer = (fileId: string, ts: number, target: FileOffer['target'] = { user: 'me' }): FileOffer => ({
  fileId,
  from: 'bob',
  target,
  name: `${fileId}.txt`,
  size: 2048,
  e2e: 'user' in target,
  ts,
});

describe('relaunch: offers left waiting are listed once, at their own time', () => {
  it('no prompt and no bell for the offers made again at login; one list with each offer at its time', async () => {
    const client = new FakeClient();
    const earlier = [offer('a', NOW - 50 * 60_000), offer('b', NOW - 40 * 60_000), offer('c', NOW - 26 * 3_600_000, { room: 'lobby' })];
    client.pendingFiles = () => earlier.slice(0, 2);
    const { ctl, ui } = controller(client);
    const starting = ctl.start();
    client.emit('fileOffer', earlier[2]!); // the server's offers arrive while the rooms load
    await starting;
    client.emit('fileOffer', earlier[0]!); // offered again (a reconnect): listed once all the same
    await waitFor(() => texts(ctl, roomKey('lobby')).some((t) => t.includes('offered while you were away')), 'the list');
    expect(ui.prompts).toEqual([]);
    expect(ui.bells).toBe(0);
    const lobby = texts(ctl, roomKey('lobby'));
    const list = lobby.slice(lobby.indexOf(waitingOffersText(earlier, NOW)[0]!));
    expect(list).toEqual([
      "3 files offered while you were away: /accept or /decline, with the file's name",
      '  6 December 13:00 bob offered "c.txt" (2 KiB) in #lobby',
      '  14:10 bob offered "a.txt" (2 KiB) to you',
      '  14:20 bob offered "b.txt" (2 KiB) to you',
    ]);
    // Each file line carries the offer's time, not the login's.
    const fileLines = ctl.state.conversations.flatMap((c) =>
      c.lines.filter((l): l is Extract<Line, { kind: 'file' }> => l.kind === 'file'),
    );
    expect(Object.fromEntries(fileLines.map((l) => [l.fileId, l.ts]))).toEqual({ a: earlier[0]!.ts, b: earlier[1]!.ts, c: earlier[2]!.ts });
    expect(findConversation(ctl.state, dmKey('bob'))).toBeDefined();

    // A new offer, once started, still asks there and then.
    client.emit('fileOffer', offer('new', NOW));
    await waitFor(() => ui.prompts.length === 1, 'the prompt for the new offer');
    expect(ui.prompts[0]).toContain('bob offers "new.txt"');
    expect(ui.bells).toBe(1);
  });

  it('an offer made while the login was under way is asked, not listed', async () => {
    const client = new FakeClient();
    const { ctl, ui } = controller(client, undefined, NOW - 2_000);
    const starting = ctl.start();
    client.emit('fileOffer', offer('during', NOW - 1_000)); // after the login was asked for, before start
    client.emit('fileOffer', offer('before', NOW - 60_000));
    await starting;
    await waitFor(() => ui.prompts.length === 1, 'the prompt for the offer made during the login');
    expect(ui.prompts[0]).toContain('bob offers "during.txt"');
    await waitFor(() => texts(ctl, roomKey('lobby')).some((t) => t.includes('1 file offered while you were away')), 'the list');
    expect(texts(ctl, roomKey('lobby')).join('\n')).not.toContain('"during.txt"');
  });

  it('nothing waiting, nothing listed', async () => {
    const { ctl } = controller(new FakeClient());
    await ctl.start();
    await new Promise((r) => setTimeout(r, 400));
    expect(activeConversation(ctl.state).lines.some((l) => l.kind === 'notice' && l.text.includes('offered while you were away'))).toBe(
      false,
    );
  });
});

describe('closed for good: said once, plainly, and no /retry that cannot work', () => {
  it('a ban: one line with the reason; a line typed after is refused in those words; /retry says so too', async () => {
    const client = new FakeClient();
    const { ctl } = controller(client);
    await ctl.start();
    client.refuseSends = Object.assign(new Error('you are muted in #lobby'), { code: 'FORBIDDEN' });
    await ctl.submit('first try');
    await new Promise((r) => setTimeout(r, 0));
    client.state = 'closed';
    client.emit('state', 'closed');
    client.emit('closed', { code: 'BANNED', reason: 'spam' });
    const words =
      'you were banned from this server: spam. hush stays open to read; a restart connects again once the ban is lifted or has run out';
    expect(texts(ctl, roomKey('lobby')).filter((t) => t === words)).toHaveLength(1);

    const before = client.calls.length;
    await ctl.submit('hello?');
    await ctl.submit('/retry');
    expect(client.calls.length).toBe(before); // nothing went to the client
    const lobby = texts(ctl, roomKey('lobby'));
    expect(lobby.slice(-2)).toEqual([`not sent: ${words}`, `nothing can be sent: ${words}`]);
    expect(lobby.join('\n')).not.toContain('no refused line');

    // The line refused before the ban no longer offers /retry.
    const refused = findConversation(ctl.state, roomKey('lobby'))!.lines.find((l) => l.kind === 'message' && l.failed !== undefined)!;
    const rows = formatLine(refused, { width: 100, canRetry: ctl.state.connection !== 'closed' }).join('\n');
    expect(rows).toContain('!!! not sent: you are muted in #lobby [FORBIDDEN]');
    expect(rows).not.toContain('/retry');
    expect(formatLine(refused, { width: 100 }).join('\n')).toContain('— /retry sends it again');
  });

  it('says what closed it in words for each way', () => {
    expect(closedText({ code: 'BANNED', reason: 'banned' })).toBe(
      'you were banned from this server. hush stays open to read; a restart connects again once the ban is lifted or has run out',
    );
    expect(closedText({ code: 'KICKED', reason: 'flooding' })).toBe(
      'you were kicked off this server: flooding. hush stays open to read; restart it to connect again',
    );
    expect(closedText({ code: 'AUTH_FAILED', reason: 'invalid username or password' })).toBe(
      'the connection closed for good: invalid username or password [AUTH_FAILED]. hush stays open to read; restart it to connect again',
    );
  });
});
