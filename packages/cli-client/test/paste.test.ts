import { describe, expect, it } from 'vitest';
import { BracketedPasteParser, lineCount, normalizePaste, PASTE_END, PASTE_START, splitText, type InputPiece } from '../src/paste.js';
import { chatIntent, printable } from '../src/view/keys.js';

/** Feed `input` in the given chunk sizes and merge adjacent key pieces (chunking may split them). */
function run(input: string, chunk: (i: number) => number): InputPiece[] {
  const p = new BracketedPasteParser();
  const out: InputPiece[] = [];
  for (let i = 0, n = 0; i < input.length; i += n) {
    n = Math.max(1, chunk(i));
    for (const piece of p.feed(input.slice(i, i + n))) {
      const last = out.at(-1);
      if (piece.kind === 'keys' && last?.kind === 'keys') last.data += piece.data;
      else out.push({ ...piece });
    }
  }
  return out;
}

describe('BracketedPasteParser', () => {
  const input = `ab\r${PASTE_START}line 1\r\nline 2\x1b[A${PASTE_END}cd${PASTE_START}${PASTE_END}\x1b[200`;
  const expected: InputPiece[] = [
    { kind: 'keys', data: 'ab\r' },
    { kind: 'paste', text: 'line 1\r\nline 2\x1b[A' },
    { kind: 'keys', data: 'cd' },
    { kind: 'paste', text: '' },
  ];

  it('cuts pastes out of the key stream whole, one byte at a time and in random chunks', () => {
    expect(run(input, () => input.length)).toEqual(expected);
    expect(run(input, () => 1)).toEqual(expected);
    let seed = 7;
    for (let k = 0; k < 50; k++) expect(run(input, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 9)).toEqual(expected);
  });

  it('keeps an unfinished marker until the next chunk, and passes other escapes through', () => {
    const p = new BracketedPasteParser();
    expect(p.feed('x\x1b[20')).toEqual([{ kind: 'keys', data: 'x' }]);
    expect(p.feed('1~')).toEqual([{ kind: 'keys', data: '\x1b[201~' }]);
    expect(p.feed('\x1b[A')).toEqual([{ kind: 'keys', data: '\x1b[A' }]);
  });

  it('turns a paste into one intent; printable() flattens it for one-line fields', () => {
    expect(chatIntent(undefined, { full: 'paste', paste: 'a\nb' })).toEqual({ kind: 'paste', text: 'a\nb' });
    expect(printable(undefined, { full: 'paste', paste: 'a\r\nb\x1b' })).toBe('a b ');
  });
});

describe('pasted text', () => {
  it('normalises line ends and counts lines', () => {
    expect(normalizePaste('a\r\nb\rc\n\n')).toBe('a\nb\nc');
    expect(lineCount('a\nb\nc')).toBe(3);
    expect(lineCount('abc')).toBe(1);
  });

  it('splits long text at line ends, then spaces, then anywhere but inside a surrogate pair', () => {
    expect(splitText('short', 10)).toEqual(['short']);
    expect(splitText('aaaa\nbbbb\ncccc', 10)).toEqual(['aaaa\nbbbb', 'cccc']);
    expect(splitText('aaa bbb ccc ddd', 8)).toEqual(['aaa bbb', 'ccc ddd']);
    expect(splitText('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    const emoji = `a${'😄'.repeat(5)}`;
    const parts = splitText(emoji, 4);
    expect(parts.join('')).toBe(emoji);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(4);
      expect(p).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
    }
    const big = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ');
    const pieces = splitText(big, 4000);
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(p.length).toBeLessThanOrEqual(4000);
    expect(pieces.join(' ')).toBe(big);
  });
});

describe('BracketedPasteParser.flush', () => {
  it('lets an unfinished paste or marker through, so input is never swallowed', () => {
    const p = new BracketedPasteParser();
    expect(p.feed(`${PASTE_START}half a paste`)).toEqual([]);
    expect(p.open).toBe(true);
    expect(p.flush()).toEqual([{ kind: 'paste', text: 'half a paste' }]);
    expect(p.open).toBe(false);
    expect(p.feed('x\x1b[2')).toEqual([{ kind: 'keys', data: 'x' }]);
    expect(p.flush()).toEqual([{ kind: 'keys', data: '\x1b[2' }]);
    expect(p.feed('typed')).toEqual([{ kind: 'keys', data: 'typed' }]);
  });
});
