// Item 8: terminal. A corpus of escape sequences and look-alike tricks sent by a raw client as room
// messages, /me actions, DMs, topics and file names, shown by the real `hush` in tmux. What must
// hold: the window title never changes, no OSC 52 reaches the clipboard, the screen is never
// cleared (earlier lines stay), no row starts with a forged sender, blessed tags show literally,
// nothing is typed into the input line behind the user's back, and the next honest message still
// renders. Hostile nicks never exist: the server refuses them.
import { startTestServer, type TestServer } from '@hush/server';
import type { HushClient } from '@hush/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealEnvelope } from './helpers-app/direct.js';
import { sendRoomFile } from './helpers-app/file-sender.js';
import { AppFixture, passwordOf } from './helpers-app/fixture.js';
import { unb64, type RawClient } from './helpers-app/raw-client.js';
import { Tui } from './helpers-app/tmux.js';

/** [label, payload]; each payload ends in a visible token `after-<n>` that must render. */
const CORPUS: [string, string][] = [
  ['OSC 0 title (BEL)', '\x1b]0;PWNED-TITLE\x07'],
  ['OSC 2 title (ST)', '\x1b]2;PWNED-TITLE\x1b\\'],
  ['OSC 52 clipboard', '\x1b]52;c;cm0gLXJmIH4=\x07'],
  ['CSI 2J clear screen', '\x1b[2J\x1b[H'],
  ['CSI 3J + RIS reset', '\x1b[3J\x1bc'],
  ['CSI cursor moves', '\x1b[10A\x1b[5;5Hmoved\x1b[2K\x1b[1G'],
  ['C1 CSI 0x9B', '\u009b2J\u009b1;1H'],
  ['C1 OSC 0x9D', '\u009d0;PWNED-TITLE\u0007'],
  ['bare CR line forgery', 'ok\r<alice> give me your password '],
  ['CR + time forgery', 'ok\r12:00 <alice> give me your password '],
  ['newline forgery', 'ok\n<alice> newline forged '],
  ['line separator forgery', 'ok\u2028<alice> ls forged '],
  ['bidi override', '\u202egnissim si yenom\u202c '],
  ['bidi isolate', '\u2067evil\u2069 '],
  ['zero-width', 'zero\u200bwidth\u200d\ufeff '],
  ['blessed tags', '{red-fg}RED{/red-fg} {bold}B{/bold} {/} '],
  ['blessed open/close tags', '{open}x{close} {center}c{/center} '],
  ['null bytes', 'nul\u0000byte\u0000 '],
  ['BEL and backspaces', 'bell\u0007\u0007\b\b\b\b'],
  ['DCS', '\x1bP1;2|secret\x1b\\'],
  ['SGR blink/reverse', '\x1b[5;7mblink\x1b[0m '],
  ['cursor report + mouse', '\x1b[6n\x1b[?1000h'],
  ['keypad/charset switch', '\x1b(0\x1b)0\x0e lqqk \x0f'],
  ['lone surrogate', 'sur\ud800rogate '],
];
const TITLE_TOKEN = 'PWNED-TITLE';

let server: TestServer;
const fx = new AppFixture();
let tui: Tui;
let mallory: RawClient;
let bob: RawClient;
let aliceSdk: HushClient;
let initialTitle = '';
let honest = 0;
let timeCol = -1;
let dmSeq = 0;

const rows = (screen: string) => screen.split('\n');

/** Sends an honest lobby line from bob and waits until hush shows it. */
async function honestLine(): Promise<string> {
  const text = `honest-${++honest}`;
  await bob.request({ type: 'send', room: 'lobby', text });
  await tui.waitFor((s) => new RegExp(`<bob> ${text}\\b`).test(s), text);
  return text;
}

/** The invariants that every hostile item must leave intact. */
function checkScreen(screen: string, label: string, opts: { previous?: string } = {}): void {
  expect(tui.title(), `${label}: window title`).toBe(initialTitle);
  expect(tui.title()).not.toContain(TITLE_TOKEN);
  expect(tui.buffers(), `${label}: clipboard`).not.toMatch(/rm -rf|cm0gLXJmIH4/);
  const lines = rows(screen);
  // the frame is intact: top bar, borders and the status bar are where blessed put them
  expect(lines[0], `${label}: top bar`).toMatch(/^ hush /);
  expect(lines.some((l) => /^ (connected|reconnecting)/.test(l)), `${label}: status bar`).toBe(true);
  if (opts.previous) expect(screen, `${label}: earlier line still visible (no clear screen)`).toContain(`<bob> ${opts.previous}`);
  // no row starts (in the message column) with a sender who never spoke
  const forged = lines.filter((l) => timeCol >= 0 && /^(\d\d:\d\d )?(<alice>|\* alice\b)/.test(l.slice(timeCol)));
  expect(forged, `${label}: forged sender rows`).toEqual([]);
  // nothing typed into the input line by a terminal reply (e.g. a cursor position report)
  const input = lines.find((l) => l.startsWith('>'));
  expect(input?.trim(), `${label}: input line`).toBe('>');
  expect(screen, `${label}: raw escape remnants`).not.toMatch(/\]0;|\]52;|\[2J|\[6n|PWNED/);
}

beforeAll(async () => {
  server = await startTestServer({ limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } });
  aliceSdk = await fx.user(server, 'alice');
  mallory = await fx.rawUser(server, 'mallory');
  bob = await fx.rawUser(server, 'bob');
  await mallory.request({ type: 'room_create', room: 'den', topic: 'quiet' });
  await aliceSdk.joinRoom('den');
  tui = Tui.start({
    args: ['--host', `${server.host}:${server.port}`, '--user', 'alice', '--fingerprint', server.fingerprint, '--login'],
    env: { HUSH_PASSWORD: passwordOf('alice') },
  });
  await tui.waitFor((s) => /#lobby/.test(s) && /connected/.test(s), 'the chat screen', 20_000);
  await switchTo(/#lobby/);
  const first = await honestLine();
  const screen = tui.capture();
  const row = rows(screen).find((l) => l.includes(`<bob> ${first}`))!;
  timeCol = row.indexOf(`<bob> ${first}`) - 6; // "HH:MM "
  expect(row.slice(timeCol)).toMatch(/^\d\d:\d\d <bob>/);
  initialTitle = tui.title();
  expect(initialTitle).not.toContain(TITLE_TOKEN);
}, 60_000);

afterAll(async () => {
  tui?.kill();
  await fx.cleanup();
  await server?.stop();
});

/** SGR attribute numbers in a captured row, colour arguments (38/48;5;n and ;2;r;g;b) skipped. */
function sgrAttributes(row: string): number[] {
  const out: number[] = [];
  for (const m of row.matchAll(/\x1b\[([0-9;]*)m/g)) {
    const ps = (m[1] ?? '').split(';').map(Number);
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (p === 38 || p === 48 || p === 58) i += ps[i + 1] === 2 ? 4 : 2;
      else out.push(p);
    }
  }
  return out;
}

/** Switches hush to the conversation whose list entry matches `name`. */
async function switchTo(name: RegExp): Promise<void> {
  const screen = await tui.waitFor((s) => rows(s).some((l) => name.test(l.slice(0, 22))), `${name} in the chat list`);
  const entry = rows(screen).map((l) => l.slice(0, 22)).find((l) => name.test(l))!;
  const index = /(\d)\./.exec(entry)![1]!;
  tui.keys(`M-${index}`);
  await tui.waitFor((s) => name.test(s.split('\n')[0] ?? ''), `${name} active`);
}

describe('terminal: hostile text in hush', () => {
  it(`room messages: ${CORPUS.length} hostile payloads are harmless`, async () => {
    let previous = await honestLine();
    for (const [i, [label, payload]] of CORPUS.entries()) {
      const token = `after-m${i}`;
      await mallory.request({ type: 'send', room: 'lobby', text: `${payload}${token}` });
      await tui.waitFor((s) => s.includes(token), `${label} (${token})`);
      const screen = tui.capture();
      checkScreen(screen, label, { previous });
      previous = await honestLine();
    }
    const screen = tui.capture();
    expect(screen).toContain('{red-fg}RED{/red-fg}'); // tags shown literally
  });

  it('SGR attributes from a message never reach the terminal cells', async () => {
    await mallory.request({ type: 'send', room: 'lobby', text: '\x1b[5;7;31mBLINKY\x1b[0m after-sgr' });
    await tui.waitFor((s) => s.includes('after-sgr'), 'after-sgr');
    const row = rows(tui.captureEscapes()).find((l) => l.includes('BLINKY'))!;
    // blessed never uses blink: a blink attribute on that row can only come from the payload
    expect(sgrAttributes(row)).not.toContain(5);
  });

  it(`/me actions: ${CORPUS.length} hostile payloads are harmless`, async () => {
    let previous = await honestLine();
    for (const [i, [label, payload]] of CORPUS.entries()) {
      const token = `after-a${i}`;
      await mallory.request({ type: 'send', room: 'lobby', text: `${payload}${token}`, action: true });
      await tui.waitFor((s) => s.includes(token), `${label} (${token})`);
      checkScreen(tui.capture(), `action ${label}`, { previous });
      previous = await honestLine();
    }
  });

  it(`file names: ${CORPUS.length} hostile names in file offers are harmless`, async () => {
    let previous = await honestLine();
    for (const [i, [label, payload]] of CORPUS.entries()) {
      const token = `after-f${i}`;
      await sendRoomFile(mallory, 'lobby', `${payload}${token}.txt`, Buffer.from(`file ${i}`));
      await tui.waitFor((s) => s.includes(token), `${label} (${token})`);
      checkScreen(tui.capture(), `file name ${label}`, { previous });
      previous = await honestLine();
    }
  });

  it(`direct messages: ${CORPUS.length} hostile payloads are harmless`, async () => {
    const keys = await mallory.request({ type: 'keys_get', user: 'alice' });
    const recipients = keys.type === 'keys'
      ? keys.devices.map((d) => ({ signKey: unb64(d.signKey), boxKey: unb64(d.boxKey), signature: unb64(d.signature) }))
      : [];
    expect(recipients.length).toBeGreaterThanOrEqual(2); // the SDK's device and hush's
    const dm = async (text: string) => {
      const envelope = sealEnvelope({ sender: mallory.device, recipients, from: 'mallory', to: 'alice', seq: ++dmSeq, text });
      expect((await mallory.request({ type: 'dm_send', to: 'alice', envelope })).type).toBe('ack');
    };
    await dm('hello alice, dm-start');
    await switchTo(/mallory/);
    await tui.waitFor((s) => s.includes('dm-start'), 'dm-start');
    let previous = 'dm-start';
    for (const [i, [label, payload]] of CORPUS.entries()) {
      const token = `after-d${i}`;
      await dm(`${payload}${token}`);
      await tui.waitFor((s) => s.includes(token), `${label} (${token})`);
      const screen = tui.capture();
      checkScreen(screen, `dm ${label}`);
      expect(screen, `dm ${label}: earlier line still visible`).toContain(previous);
      previous = token;
    }
  });

  it(`topics: ${CORPUS.length} hostile topics are harmless`, async () => {
    await switchTo(/#den/);
    for (const [i, [label, payload]] of CORPUS.entries()) {
      const token = `after-t${i}`;
      const reply = await mallory.request({ type: 'room_topic', room: 'den', topic: `${payload}${token}` });
      expect(reply.type).toBe('ok');
      await tui.waitFor((s) => (s.split('\n')[0] ?? '').includes(token), `${label} (${token}) in the top bar`);
      const screen = tui.capture();
      checkScreen(screen, `topic ${label}`);
      expect(rows(screen)[0]).toMatch(/^ hush /);
    }
  });

  it('a very long line wraps inside the pane and the next honest message still renders', async () => {
    await switchTo(/#lobby/);
    await mallory.request({ type: 'send', room: 'lobby', text: `${'A'.repeat(1500)}${'\u0301'.repeat(500)}${'\ud83d\ude00'.repeat(400)} long-end` });
    await mallory.request({ type: 'send', room: 'lobby', text: `${'W'.repeat(3990)}-end` });
    await tui.waitFor((s) => s.includes('-end'), 'the long lines');
    const after = await honestLine();
    const screen = tui.capture();
    checkScreen(screen, 'long line');
    expect(screen).toContain(`<bob> ${after}`);
    // every row still fits the terminal: nothing spilled past the frame
    for (const l of rows(screen)) expect([...l].length).toBeLessThanOrEqual(120);
  });

  it('hostile nicks never exist: the server refuses them at registration', async () => {
    const nicks = [
      ...CORPUS.map(([, p]) => `${p}nick`),
      '{red-fg}root', 'al\u202eice', '<alice>', 'alice>', 'a b', '\u009b31m', 'x'.repeat(25), '',
    ];
    const outcomes: string[] = [];
    for (const nick of nicks) {
      const raw = await fx.raw(server);
      const reply = await raw.register(nick, 'a-long-enough-password');
      outcomes.push(reply.type === 'error' ? reply.code : `${reply.type} ${JSON.stringify(nick)}`);
      await raw.close();
    }
    expect(outcomes.filter((o) => !/^(USERNAME_INVALID|USERNAME_TAKEN|SCHEMA_VIOLATION)$/.test(o))).toEqual([]);
    // room names are as strict
    const room = await mallory.request({ type: 'room_create', room: 'x\x1b[2J' });
    expect(room.type === 'error' && room.code).toBe('SCHEMA_VIOLATION');
    expect(outcomes).toHaveLength(nicks.length);
  });
});
