// Terminal. A corpus of escape sequences and look-alike tricks sent by a raw client as room
// messages, /me actions, DMs, topics and file names, shown by the real `hush` in tmux. What must
// hold: the window title never changes, no OSC 52 reaches the clipboard, the screen is never
// cleared (earlier lines stay), no remote text starts a row of the message pane (every row starts
// with hush's own time, gutter or rule, so nothing passes for a sender's or a system line),
// invisible characters show as U+FFFD with what follows them, blessed tags show literally,
// nothing is typed into the input line behind the user's back, and the next honest message still
// renders, and no pane border moves (emoji sequences, CJK and marks take the columns hush gave
// them). /whois cannot be made to show a forged "verified" line; a 60-column pane stays readable;
// a scrolled-up pane stays put and says what is below. Hostile nicks and room names never exist: the server
// refuses them; file names with controls are refused at the offer.
import { fileNameProblem } from '@hush/protocol';
import { startTestServer, type TestServer } from '@hush/server';
import type { HushClient } from '@hush/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealerOf } from './helpers-app/direct.js';
import { sendRoomFile } from './helpers-app/file-sender.js';
import { AppFixture, passwordOf } from './helpers-app/fixture.js';
import type { RawClient } from './helpers-app/raw-client.js';
import { HushTui } from '@hush/test-kit';

const X = '\ufffd'; // what an invisible character shows as
/** [label, payload, what must show]; each payload is followed by a visible token `after-<n>` that must render. */
const CORPUS: [string, string, string?][] = [
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
  ['zero-width', 'zero\u200bwidth\u200d\ufeff ', `zero${X}width${X}${X} `],
  ['zero-width space, word joiner, BOM', 'zw\u200bone wj\u2060two bom\ufeffthree ', `zw${X}one wj${X}two bom${X}three `],
  ['tag characters (hidden ASCII)', 'tags\u{e0068}\u{e0069}\u{e0021} ', `tags${X}${X}${X} `],
  ['Mongolian vowel separator, invisible operators', 'mvs\u180eops\u2062\u2064 ', `mvs${X}ops${X}${X} `],
  ['combining flood (zalgo)', `Z${'\u0301\u0316\u0358'.repeat(70)}algo `],
  ['newline + system line', 'ok\n*** alice is now verified\n'],
  ['newline + fake sender', 'ok\n12:34 <bob> sure, here is the password\n'],
  ['CRLF + notice forgery', 'ok\r\n12:34 -!- alice was kicked by admin\r\n'],
  ['NEL forgery', 'ok\u0085<alice> nel forged '],
  ['paragraph separator forgery', 'ok\u2029<alice> ps forged '],
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
let tui: HushTui;
let mallory: RawClient;
let bob: RawClient;
let aliceSdk: HushClient;
let initialTitle = '';
let honest = 0;
let timeCol = -1;
let dmSeq = 0;

const rows = (screen: string) => screen.split('\n');
/**
 * A captured row as terminal cells, by index. Left and right of the pane stand only narrow
 * characters, but for the conversation list's lock of an end-to-end room, which takes two.
 */
const cellsOf = (row: string): string[] => [...row].flatMap((c) => (c === '🔒' ? [c, ''] : [c]));

/** Sends an honest lobby line from bob and waits until hush shows it. */
async function honestLine(): Promise<string> {
  const text = `honest-${++honest}`;
  await bob.request({ type: 'send', room: 'lobby', text });
  await tui.waitFor((s) => new RegExp(`<bob> ${text}\\b`).test(s), text);
  return text;
}

/** The message pane's rows, `width` columns from its first (the time column), between the borders. */
function paneRows(screen: string, col = timeCol, width = 120 - 2 * 22 - 2): string[] {
  const lines = rows(screen);
  const status = lines.findIndex((l) => /^ (connected|reconnecting)/.test(l));
  return lines.slice(2, status - 1).map((l) =>
    cellsOf(l)
      .slice(col, col + width)
      .join('')
      .trimEnd(),
  );
}

/**
 * Every row of the pane is hush's own: a line with its time, a continuation under the gutter, a
 * rule, the "more below" row, or empty. Remote text never starts a row. (blessed draws ─ with the
 * terminal's line-drawing set, which a capture shows as q.)
 */
const OWN_ROW = /^(\d\d:\d\d (<[a-z0-9_-]+(…)?>|\* [a-z0-9_-]+|-\*-|-!-|!!!|-F-)( |$)| +┆( |$)|(──|qq) |↓ more below|$)/;

/** The invariants that every hostile item must leave intact. */
function checkScreen(screen: string, label: string, opts: { previous?: string } = {}): void {
  expect(tui.title(), `${label}: window title`).toBe(initialTitle);
  expect(tui.title()).not.toContain(TITLE_TOKEN);
  expect(tui.buffers(), `${label}: clipboard`).not.toMatch(/rm -rf|cm0gLXJmIH4/);
  const lines = rows(screen);
  // the frame is intact: top bar, borders and the status bar are where blessed put them
  expect(lines[0], `${label}: top bar`).toMatch(/^ hush /);
  expect(
    lines.some((l) => /^ (connected|reconnecting)/.test(l)),
    `${label}: status bar`,
  ).toBe(true);
  if (opts.previous) expect(screen, `${label}: earlier line still visible (no clear screen)`).toContain(`<bob> ${opts.previous}`);
  // no row starts (in the message column) with a sender who never spoke, or with remote text
  const pane = paneRows(screen);
  expect(
    pane.filter((l) => /^(\d\d:\d\d )?(<alice>|\* alice\b)/.test(l)),
    `${label}: forged sender rows`,
  ).toEqual([]);
  expect(
    pane.filter((l) => !OWN_ROW.test(l)),
    `${label}: rows not started by hush`,
  ).toEqual([]);
  // No character drew wider or narrower than hush measured it: the pane's borders stay in their
  // columns, at fixed cells from either end of a captured row.
  const status = lines.findIndex((l) => /^ (connected|reconnecting)/.test(l));
  const border = (ch: string | undefined) => ch === 'x' || ch === '│';
  const shifted = lines.slice(2, status - 1).filter((l) => {
    const cells = cellsOf(l);
    return !(border(cells[timeCol - 1]) && border(cells.at(-23)) && border(cells.at(-22)) && border(cells.at(-1)));
  });
  expect(shifted, `${label}: rows whose pane borders moved`).toEqual([]);
  // nothing typed into the input line by a terminal reply (e.g. a cursor position report)
  const input = lines.find((l) => l.startsWith('>'));
  expect(input?.trim(), `${label}: input line`).toBe('>');
  expect(screen, `${label}: raw escape remnants`).not.toMatch(/\]0;|\]52;|\[2J|\[6n|PWNED/);
}

beforeAll(async () => {
  // mallory's raw client speaks clear text: the lobby and #news are open here (#den, mallory's, is end to end).
  server = await startTestServer({ openRooms: ['lobby', 'news'], limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } });
  aliceSdk = await fx.user(server, 'alice');
  mallory = await fx.rawUser(server, 'mallory');
  bob = await fx.rawUser(server, 'bob');
  await mallory.request({ type: 'room_create', room: 'den', topic: 'quiet' });
  await aliceSdk.joinRoom('den');
  await mallory.request({ type: 'room_join', room: 'news' });
  await aliceSdk.joinRoom('news');
  tui = HushTui.start({
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
  const list = (s: string) =>
    rows(s)
      .slice(1)
      .map((l) => l.slice(0, 22));
  const screen = await tui.waitFor((s) => list(s).some((l) => name.test(l)), `${name} in the chat list`);
  const entry = list(screen).find((l) => name.test(l))!;
  const index = /(\d)\./.exec(entry)![1]!;
  tui.keys(`M-${index}`);
  await tui.waitFor((s) => name.test(s.split('\n')[0] ?? ''), `${name} active`);
}

describe('terminal: hostile text in hush', () => {
  it(`room messages: ${CORPUS.length} hostile payloads are harmless`, async () => {
    let previous = await honestLine();
    for (const [i, [label, payload, shown]] of CORPUS.entries()) {
      const token = `after-m${i}`;
      await mallory.request({ type: 'send', room: 'lobby', text: `${payload}${token}` });
      await tui.waitFor((s) => s.includes(token), `${label} (${token})`);
      const screen = tui.capture();
      checkScreen(screen, label, { previous });
      if (shown) expect(screen, `${label}: shown`).toContain(`${shown}${token}`);
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
    for (const [i, [label, payload, shown]] of CORPUS.entries()) {
      const token = `after-a${i}`;
      await mallory.request({ type: 'send', room: 'lobby', text: `${payload}${token}`, action: true });
      await tui.waitFor((s) => s.includes(token), `${label} (${token})`);
      const screen = tui.capture();
      checkScreen(screen, `action ${label}`, { previous });
      if (shown) expect(screen, `action ${label}: shown`).toContain(`${shown}${token}`);
      previous = await honestLine();
    }
  });

  it(`file names: ${CORPUS.length} hostile names in file offers are refused or harmless`, async () => {
    let previous = await honestLine();
    let shownCount = 0;
    let refused = 0;
    for (const [i, [label, payload, shown]] of CORPUS.entries()) {
      const token = `after-f${i}`;
      const name = `${payload}${token}.txt`;
      const problem = fileNameProblem(name);
      if (problem) {
        // Names with controls never reach anyone: the server refuses the offer, in words (shown
        // once here; the server's error budget would close a connection refused at every name).
        if (refused++ === 0) await expect(sendRoomFile(mallory, 'lobby', name, Buffer.from(`file ${i}`)), label).rejects.toThrow(problem);
        continue;
      }
      await sendRoomFile(mallory, 'lobby', name, Buffer.from(`file ${i}`));
      // hush asks there and then; the question names the file on one row
      const prompt = await tui.waitFor((s) => /\[l\] later/.test(s) && s.includes(token), `${label} (${token}) prompt`);
      expect(
        rows(prompt).filter((l) => l.includes('offers "')),
        `file name ${label}: prompt`,
      ).toEqual([expect.stringContaining(token)]);
      if (shown) expect(prompt, `file name ${label}: shown in the prompt`).toContain(`${shown}${token}`);
      tui.keys('l');
      const screen = await tui.waitFor(
        (s) => !/\[l\] later/.test(s) && paneRows(s).some((l) => l.includes(token)),
        `${label} (${token}) in the pane`,
      );
      checkScreen(screen, `file name ${label}`, { previous });
      if (shown) expect(screen, `file name ${label}: shown`).toContain(`${shown}${token}`);
      shownCount++;
      previous = await honestLine();
    }
    expect(shownCount).toBeGreaterThanOrEqual(5); // zero-width, tags, zalgo, blessed tags... reach the screen
  });

  it(`direct messages: ${CORPUS.length} hostile payloads are harmless`, async () => {
    const bundles = await mallory.request({ type: 'prekey_bundle_get', user: 'alice' });
    const recipients = bundles.type === 'prekey_bundles' ? bundles.bundles : [];
    expect(recipients.length).toBeGreaterThanOrEqual(2); // the SDK's device and hush's
    const dm = async (text: string) => {
      const envelope = sealerOf(mallory.device).seal(recipients, { from: 'mallory', to: 'alice', seq: ++dmSeq, text });
      expect((await mallory.request({ type: 'dm_send', to: 'alice', envelope })).type).toBe('ack');
    };
    await dm('hello alice, dm-start');
    await switchTo(/mallory/);
    await tui.waitFor((s) => s.includes('dm-start'), 'dm-start');
    let previous = 'dm-start';
    for (const [i, [label, payload, shown]] of CORPUS.entries()) {
      const token = `after-d${i}`;
      await dm(`${payload}${token}`);
      await tui.waitFor((s) => s.includes(token), `${label} (${token})`);
      const screen = tui.capture();
      checkScreen(screen, `dm ${label}`);
      if (shown) expect(screen, `dm ${label}: shown`).toContain(`${shown}${token}`);
      expect(screen, `dm ${label}: earlier line still visible`).toContain(previous);
      previous = token;
    }
  });

  it(`topics: ${CORPUS.length} hostile topics are harmless`, async () => {
    await switchTo(/#den/);
    for (const [i, [label, payload, shown]] of CORPUS.entries()) {
      const token = `after-t${i}`;
      const topic = `${payload}${token}`.slice(-300);
      const reply = await mallory.request({ type: 'room_topic', room: 'den', topic });
      expect(reply.type).toBe('ok');
      await tui.waitFor((s) => (s.split('\n')[0] ?? '').includes(token), `${label} (${token}) in the top bar`);
      // the notice "topic of #den by mallory: ..." in the pane too
      const screen = await tui.waitFor((s) => paneRows(s).some((l) => l.includes(token)), `${label} (${token}) in the pane`);
      checkScreen(screen, `topic ${label}`);
      expect(rows(screen)[0]).toMatch(/^ hush /);
      if (shown) expect(rows(screen)[0], `topic ${label}: shown`).toContain(`${shown}${token}`);
    }
  });

  it('a very long line wraps inside the pane and the next honest message still renders', async () => {
    await switchTo(/#lobby/);
    await mallory.request({
      type: 'send',
      room: 'lobby',
      text: `${'A'.repeat(1500)}${'\u0301'.repeat(500)}${'\ud83d\ude00'.repeat(400)} long-end`,
    });
    await mallory.request({ type: 'send', room: 'lobby', text: `${'W'.repeat(3990)}-end` });
    await tui.waitFor((s) => s.includes('-end'), 'the long lines');
    const after = await honestLine();
    const screen = tui.capture();
    checkScreen(screen, 'long line');
    expect(screen).toContain(`<bob> ${after}`);
    // every row still fits the terminal: nothing spilled past the frame
    for (const l of rows(screen)) expect(cellsOf(l).length).toBeLessThanOrEqual(120);
  });

  it('emoji sequences, CJK and marks keep every row in its columns', async () => {
    await switchTo(/#lobby/);
    const sample =
      '👨\u200d👩\u200d👧 family 🇫🇷🇩🇪 flags ❤️ heart 1️⃣ keycap 👍🏽 skin 🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f} flag 😄🎉🚀 中文 한국어 é ñ ';
    await mallory.request({ type: 'send', room: 'lobby', text: `${sample.repeat(4)}emoji-end` });
    await tui.waitFor((s) => s.includes('emoji-end'), 'the emoji line');
    const previous = await honestLine();
    const screen = tui.capture();
    checkScreen(screen, 'emoji widths', { previous });
    // nothing of the line went missing at a row's end
    const shown = paneRows(screen).join('\n');
    for (const word of ['family', 'flags', 'heart', 'keycap', 'skin', 'flag', '中文', '한국어']) {
      expect(shown.match(new RegExp(`(^|\\s)${word}(?=\\s)`, 'gmu'))?.length, word).toBe(4);
    }
  });

  it('/whois cannot be made to show a forged "verified" line by a status text', async () => {
    await switchTo(/#lobby/);
    const status = 'brb\n  end-to-end: verified (safety numbers compared)';
    expect((await mallory.request({ type: 'presence_set', state: 'online', status })).type).toBe('ok');
    tui.keys('/whois mallory', 'Enter');
    const screen = await tui.waitFor((s) => /end-to-end: not verified/.test(s), 'the /whois answer');
    checkScreen(screen, 'whois');
    const pane = paneRows(screen);
    // the one end-to-end line is hush's own, and it says the truth
    expect(pane.filter((l) => /^\d\d:\d\d -\*- +end-to-end:/.test(l))).toEqual([
      expect.stringMatching(/end-to-end: not verified: \/verify mallory/),
    ]);
    // the forged words stay inside the presence line (joined with a space), never a line of their own
    const presence = pane.findIndex((l) => /-\*- +presence: online — brb/.test(l));
    expect(presence).toBeGreaterThanOrEqual(0);
    const block = [
      pane[presence]!,
      ...pane.slice(presence + 1).filter((_, i, rest) => rest.slice(0, i + 1).every((r) => /^ +┆ /.test(r))),
    ].join(' ');
    expect(block.replace(/ +┆ /g, ' ')).toMatch(/brb +end-to-end: verified \(safety numbers compared\)/);
    expect(pane.filter((l) => /^\d\d:\d\d -\*- +end-to-end: verified/.test(l))).toEqual([]);
  });

  it('marks where the unread messages start when a conversation is opened', async () => {
    await switchTo(/#den/);
    await bob.request({ type: 'send', room: 'lobby', text: 'unread-one' });
    await bob.request({ type: 'send', room: 'lobby', text: 'unread-two' });
    await tui.waitFor((s) => rows(s).some((l) => /#lobby\s+2(?!\d)/.test(l.slice(0, 22))), 'two unread in #lobby');
    await switchTo(/#lobby/);
    const pane = paneRows(await tui.waitFor((s) => s.includes('unread-two'), 'the unread lines'));
    const marker = pane.findIndex((l) => /^(──|qq) new since you were here (─|q)+$/.test(l));
    expect(marker).toBeGreaterThanOrEqual(0);
    expect(pane[marker + 1]).toMatch(/^\d\d:\d\d <bob> unread-one$/);
    expect(pane.filter((l) => l.includes('new since you were here'))).toHaveLength(1);
  });

  it('while scrolled up, the last row says more is below and counts what arrived', async () => {
    await switchTo(/#lobby/);
    for (let i = 0; i < 40; i++) await bob.request({ type: 'send', room: 'lobby', text: `filler-${i}` });
    await tui.waitFor((s) => s.includes('<bob> filler-39'), 'a screenful of lines');
    tui.keys('PPage');
    let screen = await tui.waitFor((s) => paneRows(s).some((l) => l.startsWith('↓ more below')), 'the more-below row');
    expect(
      paneRows(screen)
        .filter((l) => l !== '')
        .at(-1),
    ).toMatch(/^↓ more below \(PageDown\)/);
    const shownBefore = paneRows(screen).slice(0, -1);
    await bob.request({ type: 'send', room: 'lobby', text: 'while-scrolled' });
    await bob.request({ type: 'send', room: 'lobby', text: 'while-scrolled-2' });
    screen = await tui.waitFor((s) => s.includes('↓ more below: 2 new messages (PageDown)'), 'the count of new messages');
    expect(screen).not.toContain('while-scrolled'); // the view stayed up...
    expect(paneRows(screen).slice(0, -1)).toEqual(shownBefore); // ...on the very rows it showed
    checkScreen(screen, 'scrolled up');
    tui.keys('NPage', 'NPage'); // one page up plus the two held rows
    screen = await tui.waitFor((s) => s.includes('<bob> while-scrolled') && !s.includes('↓ more below'), 'back at the bottom');
    checkScreen(screen, 'back at the bottom');
  });

  it('a 60-column pane: no side panels, every row inside, messages readable, the status bar never cut mid-word', async () => {
    tui.tmux('resize-window', '-t', tui.name, '-x', '60', '-y', '24');
    try {
      await tui.waitFor((s) => rows(s).every((l) => [...l].length <= 60) && !s.includes(' people '), 'the 60-column layout');
      const words = `narrow-start ${Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ')} narrow-end`;
      await bob.request({ type: 'send', room: 'lobby', text: words });
      const screen = await tui.waitFor((s) => s.includes('narrow-end'), 'the long line at 60 columns');
      const lines = rows(screen);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(60);
      expect(screen).not.toContain(' chats ');
      // the pane starts at column 1 (its border at 0): the text column is the time column
      const pane = paneRows(screen, 1, 58);
      expect(pane.filter((l) => !OWN_ROW.test(l))).toEqual([]);
      const first = pane.findIndex((l) => /^\d\d:\d\d <bob> narrow-start/.test(l));
      expect(first).toBeGreaterThanOrEqual(0);
      const end = pane.findIndex((l) => l.includes('narrow-end'));
      const text = pane
        .slice(first, end + 1)
        .map((l, i) => (i === 0 ? l.replace(/^\d\d:\d\d <bob> /, '') : l.replace(/^ +┆ /, '')))
        .join(' ');
      expect(text).toBe(words);
      for (const l of pane.slice(first + 1, end + 1)) expect(l).toMatch(/^ {4,}┆ /);
      const status = lines.find((l) => /^ (connected|reconnecting)/.test(l))!.trimEnd();
      const items = [
        'connected',
        'alice',
        '#lobby',
        'room messages: encrypted in transit, readable by the server',
        'open room: readable by the server',
      ];
      const pieces = status.slice(1).split(/ [│x] /);
      for (const piece of pieces.filter((p) => !p.startsWith('unread: '))) expect(items).toContain(piece);
      expect(pieces).toEqual(expect.arrayContaining(['connected', '#lobby']));
      // with the conversation list hidden, the status bar names where unread lines wait
      await mallory.request({ type: 'send', room: 'news', text: 'news-line' });
      await tui.waitFor((s) => rows(s).some((l) => /^ connected .*unread: \d\.#news\(1\)/.test(l)), 'unread elsewhere in the status bar');
    } finally {
      tui.tmux('resize-window', '-t', tui.name, '-x', '120', '-y', '40');
    }
    await tui.waitFor((s) => s.includes(' people '), 'the wide layout again');
    const previous = await honestLine();
    checkScreen(tui.capture(), 'wide again', { previous });
  });

  it('hostile nicks never exist: the server refuses them at registration', async () => {
    const nicks = [
      ...CORPUS.map(([, p]) => `${p}nick`),
      '{red-fg}root',
      'al\u202eice',
      '<alice>',
      'alice>',
      'a b',
      '\u009b31m',
      'x'.repeat(25),
      '',
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
