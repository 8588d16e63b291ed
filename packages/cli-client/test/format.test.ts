import { describe, expect, it } from 'vitest';
import {
  devicesText,
  fitStatus,
  formatDay,
  formatFileLine,
  formatLine,
  formatLines,
  formatTime,
  GUTTER,
  moreBelowRow,
  shortWhen,
  NEW_MARKER_TEXT,
  NICK_MAX,
  nickColor,
  panelWidths,
  progressBar,
  rowsAddedAfter,
  scrollAfterRewrap,
  ruleRow,
  tailRows,
  unreadElsewhere,
  conversationListRow,
  SEALED_ROOM_MARK,
  type StatusItem,
} from '../src/format.js';
import { INVISIBLE_MARK } from '../src/sanitize.js';
import { initialState, type Conversation, type Line } from '../src/state.js';
import { displayWidth } from '../src/width.js';

/** Strip our own tags to measure what the terminal shows. */
function visible(tagged: string): string {
  return tagged.replace(/\{\/?[a-z-]+\}/g, (t) => (t === '{open}' ? '{' : t === '{close}' ? '}' : ''));
}
const ts = new Date(2024, 0, 1, 9, 5).getTime();
type MessageLine = Extract<Line, { kind: 'message' }>;
const msg = (text: string, extra: Partial<MessageLine> = {}): MessageLine => ({
  kind: 'message',
  id: '1',
  ts,
  from: 'bob',
  text,
  action: false,
  mine: false,
  mention: false,
  ...extra,
});
const notice = (text: string, at = ts): Line => ({ kind: 'notice', ts: at, level: 'info', text });
/** A row that a person would read as a line of its own: a time, a sender, a system mark or a rule at column 0. */
const LINE_START = /^(\d\d:\d\d |<|\* |\*\*\*|-[*!]-|!!!|──)/;
const rowsOf = (line: Line, width = 80) => formatLine(line, { width }).map(visible);

describe('format', () => {
  it('says when a device was added and last logged in: today, yesterday, else the date; only for your own', () => {
    const now = new Date(2026, 11, 8, 14, 30).getTime();
    expect(shortWhen(new Date(2026, 11, 8, 9, 5).getTime(), now)).toBe('today 09:05');
    expect(shortWhen(new Date(2026, 11, 7, 23, 59).getTime(), now)).toBe('yesterday 23:59');
    expect(shortWhen(new Date(2026, 10, 3, 12, 0).getTime(), now)).toBe('3 Nov 2026');
    const added = new Date(2026, 10, 3, 12, 0).getTime();
    const own = devicesText(
      'alice',
      true,
      [
        { id: 'DESK', thisDevice: true, added, lastLogin: new Date(2026, 11, 8, 9, 5).getTime() },
        { id: 'LAPTOP', thisDevice: false, added, lastLogin: new Date(2026, 11, 7, 8, 0).getTime() },
      ],
      now,
    );
    expect(own).toMatch(
      /^your devices \(2\): DESK \(this device, added 3 Nov 2026, last login today 09:05\); LAPTOP \(added 3 Nov 2026, last login yesterday 08:00\)\. One you do not know\?/,
    );
    // From a server before protocol 6, or another's devices: the ids alone.
    expect(
      devicesText(
        'bob',
        false,
        [
          { id: 'B1', thisDevice: false },
          { id: 'B2', thisDevice: false },
        ],
        now,
      ),
    ).toBe('devices of bob (2): B1; B2 (/verify bob compares a safety number that covers them all)');
  });

  it('formats time and progress', () => {
    expect(formatTime(ts)).toBe('09:05');
    expect(progressBar(50, 100, 10)).toBe('[#####-----]  50%');
    expect(progressBar(0, 0, 4)).toBe('[####] 100%');
  });

  it('colours nicks stably', () => {
    expect(nickColor('alice')).toBe(nickColor('alice'));
    const colours = new Set(['alice', 'bob', 'carol', 'dave', 'eve', 'mallory', 'trent'].map(nickColor));
    expect(colours.size).toBeGreaterThan(2);
  });

  it('renders a message with timestamp and nick', () => {
    const [line] = formatLine(msg('hello'), { width: 80 });
    expect(visible(line!)).toBe('09:05 <bob> hello');
    expect(line).toContain(`{${nickColor('bob')}-fg}bob{/${nickColor('bob')}-fg}`);
  });

  it('renders /me as "* nick text"', () => {
    expect(visible(formatLine(msg('waves', { action: true }), { width: 80 })[0]!)).toBe('09:05 * bob waves');
  });

  it('escapes tags and strips controls in text and nick', () => {
    const lines = formatLine(msg('{red-fg}x\x1b]0;t\x07\x1b[2J', { from: 'b{bold}ob' }), { width: 80 });
    expect(lines).toHaveLength(1);
    expect(visible(lines[0]!)).toBe('09:05 <b{bold}ob> {red-fg}x');
    expect(lines[0]).not.toMatch(/\x1b/);
    expect(lines[0]).toContain('{open}red-fg{close}');
  });

  it('cannot forge another line: a message continues under the gutter, never at column 0', () => {
    const forged =
      'hi\n09:06 <alice> fake\r<alice> fake2\n*** system: alice is verified\n-*- bob joined\n── new since you were here ──\n\u2028* alice waves';
    const lines = rowsOf(msg(forged));
    expect(lines[0]).toBe('09:05 <bob> hi');
    expect(lines).toHaveLength(7);
    for (const l of lines.slice(1)) {
      expect(l.startsWith(`${' '.repeat(10)}${GUTTER} `), l).toBe(true);
      expect(l).not.toMatch(LINE_START);
    }
    expect(lines[2]).toBe(`${' '.repeat(10)}${GUTTER} *** system: alice is verified`);
  });

  it('marks soft-wrapped rows with the gutter too, so a long line cannot park a fake sender at a row start', () => {
    const text = `${'x'.repeat(68)} <alice> fake`;
    const lines = rowsOf(msg(text));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(`${' '.repeat(10)}${GUTTER} <alice> fake`);
  });

  it('shows invisible characters and what follows them', () => {
    const [line] = rowsOf(msg('zero\u200bwidth\u2060joiner\ufeffbom after'));
    expect(line).toBe(`09:05 <bob> zero${INVISIBLE_MARK}width${INVISIBLE_MARK}joiner${INVISIBLE_MARK}bom after`);
  });

  it('keeps every row inside the pane, whatever the text', () => {
    const texts = [
      `${'😄'.repeat(30)} 中文 words and more words`,
      `${'A'.repeat(300)}${'\u0301'.repeat(500)}${'😀'.repeat(100)} end`,
      `${'\u200b'.repeat(200)}x`,
      `${'a\u093f'.repeat(100)}`,
      '👨\u200d👩\u200d👧'.repeat(40),
      '🇫🇷🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}❤️1️⃣'.repeat(20),
      'W'.repeat(3990),
    ];
    for (const width of [20, 30, 58, 96]) {
      for (const text of texts) {
        for (const line of [msg(text), msg(text, { from: 'x'.repeat(40) }), notice(text)]) {
          for (const row of formatLine(line, { width }))
            expect(displayWidth(visible(row)), `${width}: ${visible(row)}`).toBeLessThanOrEqual(width);
        }
      }
    }
  });

  it('wraps by display width with a hanging, marked indent', () => {
    const text = `${'😄'.repeat(30)} 中文 words and more words`;
    const lines = rowsOf(msg(text), 30);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(30);
    for (const l of lines.slice(1)) expect(l.startsWith(`${' '.repeat(10)}${GUTTER} `)).toBe(true);
  });

  it('cuts a long nick so the text keeps its room', () => {
    expect(rowsOf(msg('hi', { from: 'n'.repeat(40) }))[0]).toBe(`09:05 <${'n'.repeat(NICK_MAX - 1)}…> hi`);
    expect(rowsOf(msg('hi', { from: 'n'.repeat(40) }), 30)[0]).toBe(`09:05 <${'n'.repeat(9)}…> hi`);
  });

  it('highlights mentions', () => {
    expect(formatLine(msg('hi me', { mention: true }), { width: 80 })[0]).toContain('{yellow-bg}');
  });

  it('shows a pending line dimmed and a refused one with the reason under it', () => {
    expect(formatLine(msg('on its way', { pending: true, mine: true }), { width: 80 })[0]).toContain('{gray-fg}on its way{/gray-fg}');
    const rows = rowsOf(msg('too fast', { failed: 'RATE_LIMITED\n*** forged', mine: true }));
    expect(rows).toHaveLength(2);
    expect(rows[1]).toBe(`${' '.repeat(10)}${GUTTER} !!! not sent: RATE_LIMITED *** forged — /retry sends it again`);
    expect(formatLine(msg('too fast', { failed: 'x', mine: true }), { width: 80 })[1]).toContain('{red-fg}!!! not sent');
  });

  it('renders notices and file lines', () => {
    expect(visible(formatLine({ kind: 'notice', ts, level: 'error', text: 'bad\x1b[2J' }, { width: 80 })[0]!)).toBe('09:05 !!! bad');
    const files = {
      f1: {
        fileId: 'f1',
        direction: 'down' as const,
        name: 'evil\u202Etxt.exe',
        size: 2048,
        from: 'bob',
        bytes: 1024,
        status: 'receiving' as const,
        e2e: true,
        conversation: '@bob',
      },
    };
    const line = visible(formatLine({ kind: 'file', ts, fileId: 'f1' }, { width: 120, files })[0]!);
    expect(line).toContain(`receiving "evil${INVISIBLE_MARK}txt.exe" from bob (2 KiB)`);
    expect(line).toContain(' 50%');
    expect(formatFileLine({ ...files.f1, status: 'offered' })).toMatch(/— \/accept or \/decline$/); // no id to type
    expect(formatFileLine({ ...files.f1, status: 'done', path: '/dl/x' })).toContain(`saved "evil${INVISIBLE_MARK}txt.exe" to /dl/x`);
  });

  it('a newline in a notice or a file name never starts a row of its own', () => {
    // a /whois whose status text carries a forged "verified" line
    const whois = rowsOf(
      { kind: 'notice', ts, level: 'info', text: '  presence: online — brb\n  end-to-end: verified (safety numbers compared)' },
      200,
    );
    expect(whois).toEqual(['09:05 -*-   presence: online — brb   end-to-end: verified (safety numbers compared)']);
    const files = {
      f1: {
        fileId: 'f1',
        direction: 'down' as const,
        name: 'a.txt\n09:06 <alice> click /accept',
        size: 1,
        from: 'mallory',
        bytes: 0,
        status: 'offered' as const,
        e2e: false,
        conversation: '#x',
      },
    };
    const rows = formatLine({ kind: 'file', ts, fileId: 'f1' }, { width: 200, files }).map(visible);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('"a.txt 09:06 <alice> click /accept"');
    for (const l of formatLine({ kind: 'file', ts, fileId: 'f1' }, { width: 40, files }).map(visible).slice(1))
      expect(l).not.toMatch(LINE_START);
  });
});

describe('conversation rows', () => {
  const day1 = new Date(2026, 11, 7, 23, 58).getTime();
  const day2 = new Date(2026, 11, 8, 0, 1).getTime();

  it('names the day in words', () => {
    expect(formatDay(day2)).toBe('Tuesday 8 December 2026');
  });

  it('puts a day-change rule between lines of different local days, and only there', () => {
    const rows = formatLines(
      [msg('late', { ts: day1 }), msg('later', { id: '2', ts: day1 + 60_000 }), msg('early', { id: '3', ts: day2 })],
      { width: 50 },
    ).map(visible);
    expect(rows).toHaveLength(4);
    expect(rows[2]).toBe(`── Tuesday 8 December 2026 ${'─'.repeat(50 - 27)}`);
    expect(displayWidth(rows[2]!)).toBe(50);
    expect(rows.filter((r) => r.startsWith('──'))).toHaveLength(1);
  });

  it('puts the "new since you were here" marker above the first unread message', () => {
    const lines = [msg('old', { id: 'a' }), notice('x joined'), msg('new 1', { id: 'b' }), msg('new 2', { id: 'c' })];
    const rows = formatLines(lines, { width: 60, marker: 'b' }).map(visible);
    expect(rows[2]).toBe(`── ${NEW_MARKER_TEXT} ${'─'.repeat(60 - 4 - NEW_MARKER_TEXT.length)}`);
    expect(rows[3]).toBe('09:05 <bob> new 1');
    expect(
      formatLines(lines, { width: 60, marker: null })
        .map(visible)
        .some((r) => r.includes(NEW_MARKER_TEXT)),
    ).toBe(false);
    expect(ruleRow(NEW_MARKER_TEXT, 10, 'red')).toBe('{red-fg}── new si…{/red-fg}');
  });

  it('formats only the tail it needs', () => {
    const lines = Array.from({ length: 500 }, (_, i) => msg(`m${i}`, { id: String(i) }));
    const tail = tailRows(lines, { width: 40 }, 10);
    expect(tail.complete).toBe(false);
    expect(tail.rows.map(visible).at(-1)).toBe('09:05 <bob> m499');
    expect(tail.rows.length).toBeGreaterThanOrEqual(10);
    expect(tailRows(lines.slice(0, 3), { width: 40 }, 10).complete).toBe(true);
  });

  it('counts the rows that new lines add below a given one (with their day rule)', () => {
    const old = msg('old', { id: 'a', ts: new Date(2026, 11, 7, 23, 59).getTime() });
    const lines: Line[] = [msg('first', { id: '0' }), old];
    expect(rowsAddedAfter(lines, old, { width: 40 })).toBe(0);
    const more = [...lines, msg('x'.repeat(50), { id: 'b', ts: day2 }), notice('n', day2)];
    expect(rowsAddedAfter(more, old, { width: 40 })).toBe(1 + 2 + 1); // the day rule, a wrapped line, a notice
    expect(rowsAddedAfter(more, msg('gone'), { width: 40 })).toBeNull();
  });

  it('keeps the line at the foot of a scrolled-up view when a resize re-wraps the rows', () => {
    const lines = Array.from({ length: 60 }, (_, i) => msg(`line ${i} ${'word '.repeat(i % 7 === 0 ? 20 : 2)}`, { id: String(i) }));
    // The line whose row is at the view's foot (a wrapped line's continuation row holds no name: look up).
    const footLine = (scroll: number, width: number) => {
      const rows = formatLines(lines, { width }).map(visible);
      const head = rows.slice(0, rows.length - scroll).findLast((r) => /line \d+/.test(r)) ?? '';
      return /line \d+/.exec(head)?.[0];
    };
    for (const [from, to] of [
      [100, 40],
      [40, 100],
      [60, 33],
    ] as const) {
      for (const scroll of [1, 7, 30, 55]) {
        const moved = scrollAfterRewrap(lines, scroll, { width: from }, { width: to });
        expect([from, to, scroll, footLine(moved, to)]).toEqual([from, to, scroll, footLine(scroll, from)]);
      }
    }
    expect(scrollAfterRewrap(lines, 0, { width: 100 }, { width: 40 })).toBe(0);
  });

  it('says what is below while scrolled up', () => {
    expect(visible(moreBelowRow(0, 40))).toBe(`↓ more below (PageDown)${' '.repeat(17)}`);
    expect(visible(moreBelowRow(3, 40))).toContain('↓ more below: 3 new messages (PageDown)');
    expect(visible(moreBelowRow(1, 60))).toContain('1 new message (PageDown)');
  });
});

describe('narrow terminals', () => {
  it('shrinks the side panels below 120 columns and hides them below 100 and 80', () => {
    expect(panelWidths(160)).toEqual({ left: 22, right: 22 });
    expect(panelWidths(100)).toEqual({ left: 18, right: 18 });
    expect(panelWidths(99)).toEqual({ left: 16, right: 0 });
    expect(panelWidths(60)).toEqual({ left: 0, right: 0 });
  });

  const items: StatusItem[] = [
    { text: 'connected', tagged: '{green-fg}connected{/green-fg}', priority: 9 },
    { text: 'alice', tagged: 'alice', priority: 2 },
    { text: '#lobby', tagged: '#lobby', priority: 7 },
    { text: 'bob typing…', tagged: 'bob typing…', priority: 4 },
    {
      text: 'room messages: encrypted in transit, readable by the server',
      tagged: '{yellow-fg}room messages: encrypted in transit, readable by the server{/yellow-fg}',
      priority: 5,
    },
  ];

  it('drops whole status items, least important first, and keeps the order of the rest', () => {
    expect(visible(fitStatus(items, 200))).toBe(
      ' connected │ alice │ #lobby │ bob typing… │ room messages: encrypted in transit, readable by the server',
    );
    expect(visible(fitStatus(items, 60))).toBe(' connected │ alice │ #lobby │ bob typing…');
    expect(visible(fitStatus(items, 25))).toBe(' connected │ #lobby');
    expect(visible(fitStatus(items, 5))).toBe(' ');
    for (let width = 1; width <= 120; width++) {
      const shown = visible(fitStatus(items, width));
      expect(displayWidth(shown)).toBeLessThanOrEqual(Math.max(1, width));
      // every shown piece is a whole item
      for (const piece of shown
        .slice(1)
        .split(' │ ')
        .filter((p) => p !== ''))
        expect(items.map((i) => i.text)).toContain(piece);
    }
  });

  it('says an item in its short form where the whole one does not fit, before dropping it', () => {
    const open = { text: 'open room: readable by the server', tagged: 'open room: readable by the server' };
    const withShort = items.map((i) => (i.priority === 5 ? { ...i, short: open } : i));
    expect(visible(fitStatus(withShort, 200))).toContain('room messages: encrypted in transit, readable by the server');
    // 80 columns, as a terminal opens: the room stays said as readable by the server.
    expect(visible(fitStatus(withShort, 80))).toBe(' connected │ alice │ #lobby │ bob typing… │ open room: readable by the server');
    expect(visible(fitStatus(withShort, 25))).toBe(' connected │ #lobby');
  });
});

describe('unread elsewhere', () => {
  it('names the other conversations with unread lines, for the status bar when the list is hidden', () => {
    const base = initialState().conversations[0]!;
    const conv = (key: string, kind: Conversation['kind'], name: string, unread: number): Conversation => ({
      ...base,
      key,
      kind,
      name,
      unread,
    });
    const list = [
      conv('status', 'status', 'status', 0),
      conv('#lobby', 'room', 'lobby', 4),
      conv('#den', 'room', 'den', 0),
      conv('@bob', 'dm', 'bob\n<x>', 1),
    ];
    expect(unreadElsewhere(list, '#den')).toBe('unread: 2.#lobby(4) 4.@bob <x>(1)');
    expect(unreadElsewhere(list, '#lobby')).toBe('unread: 4.@bob <x>(1)');
    expect(unreadElsewhere(list.slice(0, 3), '#lobby')).toBe('');
  });
});

describe('conversation list row', () => {
  const base = initialState().conversations[0]!;
  const conv = (extra: Partial<Conversation>): Conversation => ({ ...base, ...extra });

  it('marks an end-to-end room with the lock, never an open room; the row keeps its width', () => {
    const sealed = conversationListRow(conv({ kind: 'room', name: 'vault', sealed: true }), 1, 14);
    const open = conversationListRow(conv({ kind: 'room', name: 'lobby', sealed: false }), 0, 14);
    expect(sealed).toBe(`2.#vault    ${SEALED_ROOM_MARK}`);
    expect(open).toBe('1.#lobby      ');
    expect(displayWidth(sealed)).toBe(14);
    expect(displayWidth(open)).toBe(14);
    expect(conversationListRow(conv({ kind: 'dm', name: 'bob', unread: 3, mentions: 1 }), 2, 14)).toBe('3.@bob      3@');
  });

  it('cuts a long name, never the lock or the unread count, and cleans what a remote name holds', () => {
    const row = conversationListRow(conv({ kind: 'room', name: `very-long-room-name\u001b[2J`, sealed: true, unread: 12 }), 0, 14);
    expect(row).toBe(`1.#very… ${SEALED_ROOM_MARK} 12`);
    expect(displayWidth(row)).toBe(14);
  });
});
