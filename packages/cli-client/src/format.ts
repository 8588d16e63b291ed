// Lines of the message pane as blessed-tagged strings. Tags come only from this file;
// every remote piece goes through stripControls() (a field) or bodyLines() (a message body), then
// escapeTags(). Only a message body spans rows; its later rows carry the gutter mark.
import { bodyLines, escapeTags, stripControls } from './sanitize.js';
import { byteCount, formatSize, type FileOffer, type Target } from './sdk.js';
import { isNumbered, type Conversation, type FileTransfer, type Line, type Numbering } from './state.js';
import { displayWidth, padRight, truncate } from './width.js';
import { wrap } from './wrap.js';

const PALETTE = [
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'light-red',
  'light-green',
  'light-yellow',
  'light-blue',
  'light-magenta',
  'light-cyan',
] as const;

/** A stable colour per nick (FNV-1a over the name). */
export function nickColor(nick: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < nick.length; i++) {
    h ^= nick.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return PALETTE[h % PALETTE.length]!;
}

export function formatTime(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function progressBar(bytes: number, size: number, width = 20): string {
  const ratio = size <= 0 ? 1 : Math.max(0, Math.min(1, bytes / size));
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export interface FormatOptions {
  width: number;
  files?: Readonly<Record<string, FileTransfer>>;
  /** The first unread message when the conversation was opened: a marker row goes above it. */
  marker?: string | null;
  /**
   * Number the messages from the newest (1) up, for /reply N, /react N, /edit N, /delete N: true for
   * their numbers now, or numbers frozen while such a command is typed (messages that came since get none).
   */
  numbered?: boolean | Numbering;
  /** The id of the message picked with the keyboard: its rows are drawn inverse. */
  selected?: string;
  /** False once the client is closed for good: /retry can send no refused line, so none says it can. */
  canRetry?: boolean;
}

/** What formatLine knows of a message's surroundings (tailRows fills it in). */
export interface LineContext {
  /** The message's number from the newest, when numbering. */
  number?: number;
  /** The message a reply answers, when it is loaded. */
  original?: (id: string) => Extract<Line, { kind: 'message' }> | undefined;
}

export const DELETED_TEXT = 'message deleted';
export const EDITED_MARK = '(edited)';
export const ORIGINAL_MISSING = 'original not available';

/** `👍 3  🎉 1`: each emoji sanitised like any remote field. */
export function reactionSummary(reactions: readonly { emoji: string; users: readonly string[] }[]): string {
  return reactions.map((r) => `${stripControls(r.emoji)} ${r.users.length}`).join('  ');
}

/** The one-row quote above a reply: "↪ bob: original text…", cut to `width`. */
export function quoteRow(original: Extract<Line, { kind: 'message' }> | undefined, width: number): string {
  const said = !original
    ? ORIGINAL_MISSING
    : original.deleted
      ? `${stripControls(original.from)}: ${DELETED_TEXT}`
      : `${stripControls(original.from)}: ${bodyLines(original.text).join(' ')}`;
  return `{gray-fg}${escapeTags(truncate(`${' '.repeat(MIN_INDENT - 2)}↪ ${said}`, Math.max(1, width)))}{/gray-fg}`;
}

/** Marks every continuation row of a line, so it can never pass for a line of its own. */
export const GUTTER = '┆';
/** The widest a nick may show (a third of a narrow pane): a long one is cut. */
export const NICK_MAX = 16;
/** Time column plus a gap and the gutter: the least a continuation row is indented. */
const MIN_INDENT = 8;

type Style = ((text: string) => string) | undefined;

/**
 * Lay out: `prefix` (already tagged, `prefixWidth` columns) then the plain, clean `body` lines,
 * each in the style `styleOf` gives it, wrapped by display width. Every later row is indented and
 * marked with the gutter, so no remote text can ever start a row of its own or pass for a system
 * line.
 */
function layout(
  prefix: string,
  prefixWidth: number,
  body: string[],
  width: number,
  styleOf: (line: number) => Style = () => undefined,
  prose = false,
): string[] {
  const indent = Math.max(MIN_INDENT, Math.min(prefixWidth, Math.floor(width / 2)));
  const lead = `${' '.repeat(indent - 2)}{gray-fg}${GUTTER}{/gray-fg} `;
  const textWidth = Math.max(1, width - indent);
  const firstWidth = Math.max(1, width - prefixWidth);
  const out: string[] = [];
  body.forEach((clean, i) => {
    const wrapAt = (w: number): string[] => (i === 0 ? wrapFirst(clean, firstWidth, w) : wrap(clean, w));
    const pieces = prose ? wrapProse(wrapAt, textWidth) : wrapAt(textWidth);
    const style = styleOf(i);
    pieces.forEach((p, j) => {
      const text = style ? style(escapeTags(p)) : escapeTags(p);
      out.push(i === 0 && j === 0 ? prefix + text : lead + text);
    });
  });
  return out;
}

/**
 * A paragraph of ours should not end in a row of one word: its later rows are wrapped a little
 * narrower when that keeps the number of rows and gives the last word company.
 */
function wrapProse(wrapAt: (width: number) => string[], width: number): string[] {
  const pieces = wrapAt(width);
  if (pieces.length < 3 || pieces.at(-1)!.includes(' ')) return pieces;
  for (let w = width - 1; w >= Math.max(1, width - 12); w--) {
    const narrower = wrapAt(w);
    if (narrower.length > pieces.length) break;
    if (narrower.at(-1)!.includes(' ')) return narrower;
  }
  return pieces;
}

/** The first line may be narrower than the rest (it shares the row with the prefix). */
function wrapFirst(text: string, firstWidth: number, restWidth: number): string[] {
  const candidate = wrap(text, firstWidth)[0] ?? '';
  // A unit wider than the room beside the prefix starts on the next row instead.
  const first = displayWidth(candidate) > firstWidth ? '' : candidate;
  // wrap() only drops spaces at break points, so the first line is a prefix of the text.
  const rest = text.slice(first.length).replace(/^ +/, '');
  return rest === '' ? [first] : [first, ...wrap(rest, restWidth)];
}

/**
 * The offers that were waiting at login, listed once (not one prompt each), oldest first, each at
 * its own time (with the day when that was not today): notice lines, plain.
 */
export function waitingOffersText(offers: readonly FileOffer[], now: number): string[] {
  const when = (ts: number): string =>
    sameDay(ts, now) ? formatTime(ts) : `${new Date(ts).getDate()} ${MONTHS[new Date(ts).getMonth()]} ${formatTime(ts)}`;
  return [
    `${offers.length} file${offers.length === 1 ? '' : 's'} offered while you were away: /accept or /decline, with the file's name`,
    ...[...offers]
      .sort((a, b) => a.ts - b.ts)
      .map(
        (o) =>
          `  ${when(o.ts)} ${o.from} offered "${o.name}" (${formatSize(o.size)})${'room' in o.target ? ` in #${o.target.room}` : ' to you'}`,
      ),
  ];
}

/**
 * Why the client closed for good (banned, kicked off, refused when it reconnected), and what now:
 * the screen stays to read, a restart connects again.
 */
export function closedText(closed: { code?: string; reason?: string }): string {
  const code = closed.code ?? '';
  // A reason that only repeats the code ("banned" for BANNED) adds nothing.
  const reason = closed.reason && closed.reason.toLowerCase() !== code.toLowerCase().replace(/_/g, ' ') ? `: ${closed.reason}` : '';
  const what =
    code === 'BANNED'
      ? `you were banned from this server${reason}`
      : code === 'KICKED'
        ? `you were kicked off this server${reason}`
        : `the connection closed for good${reason}${code === '' ? '' : ` [${code}]`}`;
  const again = code === 'BANNED' ? 'a restart connects again once the ban is lifted or has run out' : 'restart it to connect again';
  return `${what}. hush stays open to read; ${again}`;
}

/** What hush says on the terminal when it quits with lines still waiting for the connection: each, to copy. */
export function unsentText(lines: readonly { target: Target; text: string }[]): string {
  const n = lines.length;
  return [
    `hush: ${n === 1 ? '1 line was' : `${n} lines were`} not sent (the server was out of reach when hush quit):`,
    ...lines.map(
      (l) => `  ${'room' in l.target ? `#${stripControls(l.target.room)}` : `@${stripControls(l.target.user)}`}: ${stripControls(l.text)}`,
    ),
  ].join('\n');
}

export function formatFileLine(f: FileTransfer): string {
  const name = stripControls(f.name);
  const who = stripControls(f.from);
  const size = formatSize(f.size);
  const lock = f.e2e ? 'end-to-end encrypted' : 'room file: readable by the server';
  switch (f.status) {
    case 'offered':
      return `file offer from ${who}: "${name}" (${size}, ${lock}) — /accept or /decline`;
    case 'sending':
      return `sending "${name}" (${size}) ${progressBar(f.bytes, f.size)}`;
    case 'receiving': {
      // The bar went back to the start: say why, or it looks like a fault.
      const again = f.restarted ? ' (started again: the connection came back)' : '';
      return `receiving "${name}" from ${who} (${size}) ${progressBar(f.bytes, f.size)}${again}`;
    }
    case 'done':
      return f.direction === 'up'
        ? `sent "${name}" (${size}) ${progressBar(f.size, f.size)}`
        : `saved "${name}" to ${stripControls(f.path ?? '?')} ${progressBar(f.size, f.size)}`;
    case 'declined':
      return `file "${name}" declined${f.reason ? `: ${stripControls(f.reason)}` : ''}`;
    case 'cancelled':
      return `file "${name}" cancelled${f.reason ? `: ${stripControls(f.reason)}` : ''}`;
    case 'failed':
      return `file "${name}" failed${f.reason ? `: ${stripControls(f.reason)}` : ''}`;
  }
}

/** One state line -> display lines (tagged) for a pane `width` columns wide. */
export function formatLine(line: Line, opts: FormatOptions, context: LineContext = {}): string[] {
  const time = context.number === undefined ? formatTime(line.ts) : `[${context.number}] ${formatTime(line.ts)}`;
  switch (line.kind) {
    case 'message': {
      const nick = truncate(stripControls(line.from), Math.max(3, Math.min(NICK_MAX, Math.floor(opts.width / 3))));
      const color = nickColor(line.from);
      const bodies = line.deleted
        ? [line.deletedBy === undefined ? DELETED_TEXT : `${DELETED_TEXT} by ${stripControls(line.deletedBy)} (a room operator)`]
        : bodyLines(line.text);
      if (line.edited && !line.deleted) bodies[bodies.length - 1] += ` ${EDITED_MARK}`;
      const text = bodies.length;
      if (line.reactions && line.reactions.length > 0 && !line.deleted) bodies.push(reactionSummary(line.reactions));
      if (line.pending) bodies.push('(sending…)'); // not acknowledged yet: said in words, not only dimmed
      // A refusal is ours to say, under the line it is about (one that needs a step before /retry says so itself).
      if (line.failed !== undefined)
        bodies.push(
          `!!! not sent: ${stripControls(line.failed)}${opts.canRetry === false || line.failed.includes('/retry') ? '' : ' — /retry sends it again'}`,
        );
      const prefixPlain = line.action ? `${time} * ${nick} ` : `${time} <${nick}> `;
      const nickTag = line.mine ? `{bold}${escapeTags(nick)}{/bold}` : `{${color}-fg}${escapeTags(nick)}{/${color}-fg}`;
      const prefix = line.action ? `{gray-fg}${time}{/gray-fg} * ${nickTag} ` : `{gray-fg}${time}{/gray-fg} <${nickTag}> `;
      const gray: Style = (s) => `{gray-fg}${s}{/gray-fg}`;
      const style: Style = line.mention
        ? (s) => `{yellow-bg}{black-fg}${s}{/black-fg}{/yellow-bg}`
        : line.pending || line.deleted
          ? gray
          : undefined;
      const below: Style = line.failed !== undefined ? (s) => `{red-fg}${s}{/red-fg}` : gray;
      const rows = layout(prefix, displayWidth(prefixPlain), bodies, opts.width, (i) => (i < text ? style : below));
      const all = line.replyTo === undefined ? rows : [quoteRow(context.original?.(line.replyTo), opts.width), ...rows];
      return opts.selected === line.id ? all.map((r) => `{inverse}${r}{/inverse}`) : all;
    }
    case 'notice': {
      const mark = line.level === 'error' ? '!!!' : line.level === 'warn' ? '-!-' : '-*-';
      const color = line.level === 'error' ? 'red' : line.level === 'warn' ? 'yellow' : 'cyan';
      const prefix = `{gray-fg}${time}{/gray-fg} {${color}-fg}${mark}{/${color}-fg} `;
      return layout(prefix, displayWidth(`${time} ${mark} `), [stripControls(line.text)], opts.width, undefined, true);
    }
    case 'file': {
      const f = opts.files?.[line.fileId];
      const text = f ? formatFileLine(f) : `file ${line.fileId}`;
      const prefix = `{gray-fg}${time}{/gray-fg} {magenta-fg}-F-{/magenta-fg} `;
      return layout(prefix, displayWidth(`${time} -F- `), [stripControls(text)], opts.width);
    }
  }
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/** "Tuesday 8 December 2026", in local time. */
export function formatDay(ts: number): string {
  const d = new Date(ts);
  return `${WEEKDAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

function sameDay(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate();
}

/** A full-width rule with a caption: `── caption ─────`. Starts at column 0, as no remote row can. */
export function ruleRow(caption: string, width: number, color: string): string {
  const text = truncate(`── ${caption} `, Math.max(1, width));
  return `{${color}-fg}${escapeTags(text)}${'─'.repeat(Math.max(0, width - displayWidth(text)))}{/${color}-fg}`;
}

export const NEW_MARKER_TEXT = 'new since you were here';

/** The last row of the pane while scrolled up. */
export function moreBelowRow(unread: number, width: number): string {
  const count = unread > 0 ? `: ${unread} new message${unread === 1 ? '' : 's'}` : '';
  return `{inverse}${escapeTags(padRight(`↓ more below${count} (PageDown)`, Math.max(1, width)))}{/inverse}`;
}

/**
 * Display rows of the newest lines of a conversation, newest last, with a day-change rule between
 * lines of different local days and the "new since" marker above opts.marker. Formats from the end
 * and stops once it has `want` rows (complete: every line was formatted).
 */
export function tailRows(lines: readonly Line[], opts: FormatOptions, want = Infinity): { rows: string[]; complete: boolean } {
  const chunks: string[][] = [];
  let count = 0;
  let number = 0;
  let byId: Map<string, Extract<Line, { kind: 'message' }>> | undefined;
  const original = (id: string) => {
    byId ??= new Map(lines.flatMap((l) => (l.kind === 'message' && !l.pending ? [[l.id, l] as const] : [])));
    return byId.get(id);
  };
  let i = lines.length - 1;
  for (; i >= 0 && count < want; i--) {
    const line = lines[i]!;
    const chunk: string[] = [];
    const previous = lines[i - 1];
    if (previous && !sameDay(previous.ts, line.ts)) chunk.push(ruleRow(formatDay(line.ts), opts.width, 'cyan'));
    if (line.kind === 'message' && opts.marker && line.id === opts.marker) chunk.push(ruleRow(NEW_MARKER_TEXT, opts.width, 'red'));
    const n = !isNumbered(line) || !opts.numbered ? undefined : opts.numbered === true ? ++number : opts.numbered.numbers.get(line.id);
    chunk.push(...formatLine(line, opts, { original, ...(n === undefined ? {} : { number: n }) }));
    chunks.push(chunk);
    count += chunk.length;
  }
  return { rows: chunks.reverse().flat(), complete: i < 0 };
}

/**
 * Rows that the lines after `last` add below it (their day rule and marker included): what a view
 * scrolled up must move by to stay where it is. Null when `last` is no longer among the lines.
 */
export function rowsAddedAfter(lines: readonly Line[], last: Line, opts: FormatOptions): number | null {
  const at = lines.lastIndexOf(last);
  if (at < 0) return null;
  if (at === lines.length - 1) return 0;
  return tailRows(lines.slice(at), opts).rows.length - tailRows([last], opts).rows.length;
}

/**
 * The scroll (rows below the view) that keeps the same line at the foot of a view scrolled up
 * `scroll` rows at `before` when its rows are laid out at `after` (a resize re-wraps them).
 */
export function scrollAfterRewrap(lines: readonly Line[], scroll: number, before: FormatOptions, after: FormatOptions): number {
  if (scroll <= 0 || lines.length === 0) return 0;
  const below = (j: number, opts: FormatOptions) => rowsAddedAfter(lines, lines[j]!, opts) ?? 0;
  // The foot line: the newest line j with at least `scroll` rows from its own to the end (rows below it fall with j).
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (below(mid, before) + tailRows([lines[mid]!], before).rows.length > scroll) lo = mid;
    else hi = mid - 1;
  }
  const hidden = Math.max(0, scroll - below(lo, before)); // the foot line's own rows below the view
  const own = tailRows([lines[lo]!], after).rows.length;
  return below(lo, after) + Math.min(hidden, own - 1);
}

/** All display rows of a conversation. */
export function formatLines(lines: readonly Line[], opts: FormatOptions): string[] {
  return tailRows(lines, opts).rows;
}

/** Side panel widths for a terminal `cols` wide: both shrink below 120 columns, then hide, people first. */
export function panelWidths(cols: number): { left: number; right: number } {
  if (cols >= 120) return { left: 22, right: 22 };
  if (cols >= 100) return { left: 18, right: 18 };
  if (cols >= 80) return { left: 16, right: 0 };
  return { left: 0, right: 0 };
}

/** One status bar item: its plain text (for measuring), its tagged form, and how long it stays. */
export interface StatusItem {
  text: string;
  tagged: string;
  priority: number;
  /** A shorter form, said where the whole one does not fit (what protects a conversation, at 80 columns). */
  short?: { text: string; tagged: string };
}

export const STATUS_SEPARATOR = ' │ ';

/**
 * The status bar for `width` columns: whole items only, in their order, the most important ones
 * that fit, each whole or in its short form (an item never shows cut in the middle of a word).
 */
export function fitStatus(items: readonly StatusItem[], width: number): string {
  const byPriority = items.map((item, i) => ({ item, i })).sort((a, b) => b.item.priority - a.item.priority || a.i - b.i);
  const kept = new Map<number, string>();
  let used = 1; // the leading space
  for (const { item, i } of byPriority) {
    const cost = (form: { text: string }) => displayWidth(form.text) + (kept.size > 0 ? STATUS_SEPARATOR.length : 0);
    const form = [item, item.short].find((f) => f !== undefined && used + cost(f) <= width);
    if (!form) continue;
    used += cost(form);
    kept.set(i, form.tagged);
  }
  return ` ${items.flatMap((_, i) => kept.get(i) ?? []).join(STATUS_SEPARATOR)}`;
}

/** A conversation's name as shown: #room, @user or (status), cleaned. */
export function conversationLabel(c: Pick<Conversation, 'kind' | 'name'>): string {
  return c.kind === 'room' ? `#${stripControls(c.name)}` : c.kind === 'dm' ? `@${stripControls(c.name)}` : '(status)';
}

/** Said when an open room's pane opens by /join (an end-to-end room's join is said by the SDK). */
export function openRoomJoinedText(room: string): string {
  return `#${room} is an open room: encrypted in transit, readable by the server (not end-to-end); you read its earlier messages too`;
}

/** Said when the conversation with oneself opens: the SDK seals it to this account's own devices. */
export const NOTES_TO_SELF = 'notes to yourself: what you send here is end-to-end encrypted and reaches only your own devices';

/** The lock an end-to-end room carries in the conversation list (the help and welcome line name it). */
export const SEALED_ROOM_MARK = '🔒';

/**
 * One row of the conversation list, `width` columns, plain (escape its tags before rendering):
 * its number and name, cut to fit what follows it; the lock of an end-to-end room; the unread
 * count and "@" for a mention or an unread direct message.
 */
export function conversationListRow(c: Conversation, index: number, width: number): string {
  const lock = c.kind === 'room' && c.sealed ? SEALED_ROOM_MARK : '';
  const count = `${c.unread > 0 ? ` ${c.unread}` : ''}${c.mentions > 0 ? '@' : ''}`;
  const tail = lock + count;
  // The name never runs into what follows it, nor into the border: one column stays blank.
  const room = Math.max(0, width - displayWidth(tail));
  return padRight(truncate(`${index + 1}.${conversationLabel(c)}`, room - 1), room) + tail;
}

/** "unread: 2.#den(3) 4.@bob(1)": the status bar's stand-in for a hidden conversation list. */
export function unreadElsewhere(conversations: readonly Conversation[], active: string): string {
  const parts = conversations.flatMap((c, i) => {
    if (c.key === active || c.unread === 0) return [];
    return [`${i + 1}.${conversationLabel(c)}(${c.unread})`];
  });
  return parts.length === 0 ? '' : `unread: ${parts.join(' ')}`;
}

/** A file's size as an offer says it: "3 bytes", "2.9 MiB" (3000000 bytes read as a number to count). */
export function offerSize(bytes: number): string {
  return bytes < 1024 ? byteCount(bytes) : formatSize(bytes);
}

/** "today 14:05", "yesterday 09:10", else "3 Dec 2026", in local time. */
export function shortWhen(ts: number, now: number): string {
  if (sameDay(ts, now)) return `today ${formatTime(ts)}`;
  if (sameDay(ts, now - 24 * 3600 * 1000)) return `yesterday ${formatTime(ts)}`;
  const d = new Date(ts);
  return `${d.getDate()} ${MONTHS[d.getMonth()]!.slice(0, 3)} ${d.getFullYear()}`;
}

/** One device of /devices; your own come with when each was added and last logged in (a server of protocol 6). */
export interface ListedDevice {
  id: string;
  thisDevice: boolean;
  added?: number;
  lastLogin?: number;
}

/** /devices: an account's devices by the ids a lost one is removed with (/devices remove, or the server's admin). */
export function devicesText(user: string, own: boolean, devices: readonly ListedDevice[], now: number): string {
  if (devices.length === 0) return `${user} has not logged in on any device yet`;
  const about = (d: ListedDevice) => [
    ...(d.thisDevice ? ['this device'] : []),
    ...(d.added === undefined ? [] : [`added ${shortWhen(d.added, now)}`]),
    ...(d.lastLogin === undefined ? [] : [`last login ${shortWhen(d.lastLogin, now)}`]),
  ];
  const list = devices.map((d) => (about(d).length === 0 ? d.id : `${d.id} (${about(d).join(', ')})`)).join('; ');
  return own
    ? `your devices (${devices.length}): ${list}. One you do not know? /devices remove <id> logs it out for good (asks your password); if it may know your password, change it too with /passwd (the server's admin can also run: hushd user remove-device ${user} <id>)`
    : `devices of ${user} (${devices.length}): ${list} (/verify ${user} compares a safety number that covers them all)`;
}
