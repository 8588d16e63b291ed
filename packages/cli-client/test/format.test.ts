import { describe, expect, it } from 'vitest';
import { formatFileLine, formatLine, formatSize, formatTime, nickColor, progressBar } from '../src/format.js';
import type { Line } from '../src/state.js';
import { displayWidth } from '../src/width.js';

/** Strip our own tags to measure what the terminal shows. */
function visible(tagged: string): string {
  return tagged.replace(/\{\/?[a-z-]+\}/g, (t) => (t === '{open}' ? '{' : t === '{close}' ? '}' : ''));
}
const ts = new Date(2024, 0, 1, 9, 5).getTime();
const msg = (text: string, extra: Partial<Extract<Line, { kind: 'message' }>> = {}): Line => ({ kind: 'message', id: '1', ts, from: 'bob', text, action: false, mine: false, mention: false, ...extra });

describe('format', () => {
  it('formats time, size and progress', () => {
    expect(formatTime(ts)).toBe('09:05');
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(10 * 1024 * 1024)).toBe('10.0 MiB');
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

  it('cannot forge another line: newlines become indented continuation lines, CR is dropped', () => {
    const lines = formatLine(msg('hi\n09:06 <alice> fake\r<alice> fake2'), { width: 80 }).map(visible);
    expect(lines[0]).toBe('09:05 <bob> hi');
    for (const l of lines.slice(1)) expect(l.startsWith(' '.repeat(12))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/^(\d\d:\d\d )?<alice>/m);
  });

  it('wraps by display width with a hanging indent', () => {
    const text = '😄'.repeat(30) + ' 中文 words and more words';
    const lines = formatLine(msg(text), { width: 30 }).map(visible);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(30);
    for (const l of lines.slice(1)) expect(l.startsWith(' '.repeat(12))).toBe(true);
  });

  it('highlights mentions', () => {
    expect(formatLine(msg('hi me', { mention: true }), { width: 80 })[0]).toContain('{yellow-bg}');
  });

  it('renders notices and file lines', () => {
    expect(visible(formatLine({ kind: 'notice', ts, level: 'error', text: 'bad\x1b[2J' }, { width: 80 })[0]!)).toBe('09:05 !!! bad');
    const files = { f1: { fileId: 'f1', direction: 'down' as const, name: 'evil\u202Etxt.exe', size: 2048, from: 'bob', bytes: 1024, status: 'receiving' as const, e2e: true, conversation: 'dm:bob' } };
    const line = visible(formatLine({ kind: 'file', ts, fileId: 'f1' }, { width: 120, files })[0]!);
    expect(line).toContain('receiving "eviltxt.exe" from bob (2.0 KiB)');
    expect(line).toContain(' 50%');
    expect(formatFileLine({ ...files.f1, status: 'offered' })).toContain('/accept f1');
    expect(formatFileLine({ ...files.f1, status: 'done', path: '/dl/x' })).toContain('saved "eviltxt.exe" to /dl/x');
  });
});
