// Lines of the message pane as blessed-tagged strings. Tags come only from this file;
// every remote piece goes through stripControls() + escapeTags() (i.e. sanitize()).
import { escapeTags, splitLines, stripControls } from './sanitize.js';
import type { FileTransfer, Line } from './state.js';
import { displayWidth } from './width.js';
import { wrap } from './wrap.js';

const PALETTE = ['red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'light-red', 'light-green', 'light-yellow', 'light-blue', 'light-magenta', 'light-cyan'] as const;

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

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GiB`;
}

export function progressBar(bytes: number, size: number, width = 20): string {
  const ratio = size <= 0 ? 1 : Math.max(0, Math.min(1, bytes / size));
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export interface FormatOptions { width: number; files?: Readonly<Record<string, FileTransfer>> }

/**
 * Lay out: `prefix` (already tagged, `prefixWidth` columns) then the plain `body` lines,
 * wrapped by display width; continuation lines are indented under the text column, so
 * no remote text can ever start a line of its own.
 */
function layout(prefix: string, prefixWidth: number, body: string[], width: number, style?: (s: string) => string): string[] {
  const indent = Math.min(prefixWidth, Math.floor(width / 2));
  const textWidth = Math.max(1, width - indent);
  const out: string[] = [];
  const firstWidth = Math.max(1, width - prefixWidth);
  body.forEach((raw, i) => {
    const clean = stripControls(raw);
    const pieces = i === 0 ? wrapFirst(clean, firstWidth, textWidth) : wrap(clean, textWidth);
    pieces.forEach((p, j) => {
      const text = style ? style(escapeTags(p)) : escapeTags(p);
      out.push(i === 0 && j === 0 ? prefix + text : ' '.repeat(indent) + text);
    });
  });
  return out;
}

/** The first line may be narrower than the rest (it shares the row with the prefix). */
function wrapFirst(text: string, firstWidth: number, restWidth: number): string[] {
  const first = wrap(text, firstWidth)[0] ?? '';
  // wrap() only drops spaces at break points, so the first line is a prefix of the text.
  const rest = text.slice(first.length).replace(/^ +/, '');
  return rest === '' ? [first] : [first, ...wrap(rest, restWidth)];
}

export function formatFileLine(f: FileTransfer): string {
  const name = stripControls(f.name);
  const who = stripControls(f.from);
  const size = formatSize(f.size);
  const lock = f.e2e ? 'end-to-end encrypted' : 'room file: readable by the server';
  switch (f.status) {
    case 'offered': return `file offer from ${who}: "${name}" (${size}, ${lock}) — /accept ${f.fileId} or /decline ${f.fileId}`;
    case 'sending': return `sending "${name}" (${size}) ${progressBar(f.bytes, f.size)}`;
    case 'receiving': return `receiving "${name}" from ${who} (${size}) ${progressBar(f.bytes, f.size)}`;
    case 'done': return f.direction === 'up' ? `sent "${name}" (${size}) ${progressBar(f.size, f.size)}` : `saved "${name}" to ${stripControls(f.path ?? '?')} ${progressBar(f.size, f.size)}`;
    case 'declined': return `file "${name}" declined${f.reason ? `: ${stripControls(f.reason)}` : ''}`;
    case 'cancelled': return `file "${name}" cancelled${f.reason ? `: ${stripControls(f.reason)}` : ''}`;
    case 'failed': return `file "${name}" failed${f.reason ? `: ${stripControls(f.reason)}` : ''}`;
  }
}

/** One state line -> display lines (tagged) for a pane `width` columns wide. */
export function formatLine(line: Line, opts: FormatOptions): string[] {
  const time = formatTime(line.ts);
  switch (line.kind) {
    case 'message': {
      const nick = stripControls(line.from);
      const color = nickColor(line.from);
      const bodies = splitLines(line.text);
      const prefixPlain = line.action ? `${time} * ${nick} ` : `${time} <${nick}> `;
      const nickTag = line.mine ? `{bold}${escapeTags(nick)}{/bold}` : `{${color}-fg}${escapeTags(nick)}{/${color}-fg}`;
      const prefix = line.action ? `{gray-fg}${time}{/gray-fg} * ${nickTag} ` : `{gray-fg}${time}{/gray-fg} <${nickTag}> `;
      const style = line.mention ? (s: string) => `{yellow-bg}{black-fg}${s}{/black-fg}{/yellow-bg}` : undefined;
      return layout(prefix, displayWidth(prefixPlain), bodies, opts.width, style);
    }
    case 'notice': {
      const mark = line.level === 'error' ? '!!!' : line.level === 'warn' ? '-!-' : '-*-';
      const color = line.level === 'error' ? 'red' : line.level === 'warn' ? 'yellow' : 'cyan';
      const prefix = `{gray-fg}${time}{/gray-fg} {${color}-fg}${mark}{/${color}-fg} `;
      return layout(prefix, displayWidth(`${time} ${mark} `), splitLines(line.text), opts.width);
    }
    case 'file': {
      const f = opts.files?.[line.fileId];
      const text = f ? formatFileLine(f) : `file ${line.fileId}`;
      const prefix = `{gray-fg}${time}{/gray-fg} {magenta-fg}-F-{/magenta-fg} `;
      return layout(prefix, displayWidth(`${time} -F- `), [text], opts.width);
    }
  }
}

/** All display lines of a conversation. */
export function formatLines(lines: readonly Line[], opts: FormatOptions): string[] {
  return lines.flatMap((l) => formatLine(l, opts));
}
