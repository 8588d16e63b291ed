import { createRequire } from 'node:module';
import blessed from 'blessed';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { createScreen } from '../src/view/screen.js';
import { clipRow, clipRowsByColumns, wideCharRegExp } from '../src/view/unicode-patch.js';
import { displayWidth, isWideCodePoint } from '../src/width.js';
import { WIDE_RANGES } from '../src/wide-ranges.js';
import { FakeInput, FakeOutput } from './helpers/fake-terminal.js';

describe('wide character table', () => {
  it('agrees with string-width at every range edge and around it', () => {
    for (const [a, b] of WIDE_RANGES) {
      for (const cp of [a, b, Math.floor((a + b) / 2)]) expect(stringWidth(String.fromCodePoint(cp)), cp.toString(16)).toBe(2);
      for (const cp of [a - 1, b + 1]) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        expect(isWideCodePoint(cp)).toBe(stringWidth(String.fromCodePoint(cp)) === 2);
      }
    }
  });
  it('covers emoji and CJK', () => {
    for (const ch of ['😄', '🎉', '中', '한', '👍', 'ｱ'.normalize('NFKC')])
      expect(isWideCodePoint(ch.codePointAt(0)!), ch).toBe(stringWidth(ch) === 2);
    expect(isWideCodePoint('a'.codePointAt(0)!)).toBe(false);
    expect('a😄b中'.replace(wideCharRegExp(), '$1|')).toBe('a😄|b中|');
  });
});

/** The cells of the first content row of a 30-column bordered box holding `content`, drawn by blessed. */
function drawnRow(content: string, clipped = false): string[] {
  return drawnRows(content, clipped)[0]!;
}

function drawnRows(content: string, clipped: boolean): string[][] {
  const screen = createScreen({ input: new FakeInput(), output: new FakeOutput(), terminal: 'xterm-256color' });
  try {
    const box = blessed.box({ parent: screen, top: 0, left: 0, width: 30, height: 4, border: { type: 'line' }, tags: true, wrap: false });
    if (clipped) clipRowsByColumns(box);
    box.setContent(content);
    screen.render();
    const lines = (screen as unknown as { lines: Array<Array<[number, string]>> }).lines;
    return [lines[1]!, lines[2]!].map((row) => row.slice(0, 30).map((c) => c[1]));
  } finally {
    screen.destroy();
  }
}

describe('patched blessed', () => {
  it('gives an emoji two cells so the rest of the row stays in its column', () => {
    const row = drawnRow('a😄b中c');
    // border, a, 😄 + placeholder, b, 中 + placeholder, c, spaces..., border at column 29
    expect(row.slice(1, 3)).toEqual(['a', '😄']);
    expect(row[4]).toBe('b');
    expect(row[5]).toBe('中');
    expect(row[7]).toBe('c');
    expect(row[29]).toBe('│');
  });

  it('stacks every mark and format character on the previous cell, as terminals do', () => {
    // U+1AB0 and U+1DE7 are marks blessed's own table (Unicode 5) does not know
    const content = 'a\u1ab0b\u1de7\u0301c\u093fd👨\u200d👩e';
    const row = drawnRow(content);
    // (a joiner after a wide emoji lands on blessed's placeholder cell, so the terminal draws the parts)
    expect(row.slice(1, 7)).toEqual(['a\u1ab0', 'b\u1de7\u0301', 'c', '\u093f', 'd', '👨']);
    expect(row[8]).toBe('👩');
    expect(row[10]).toBe('e');
    expect(row[29]).toBe('│');
    expect(displayWidth(content)).toBe(10);
  });

  it('keeps the whole of a row that fits its columns, however many UTF-16 units it has', () => {
    // 28 columns: astral emoji (2 units, 2 cells), marks and joiners (no cell), a subdivision flag
    const row = `😄🎉🚀 e\u0301\u0301 a\u200bb 🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f} {bold}x{/bold} pad-ing end`;
    expect(displayWidth(row.replace(/\{\/?bold\}/g, ''))).toBe(28);
    const text = (cells: string[]) => cells.slice(1, 29).join('').replace(/\x03/g, '');
    expect(text(drawnRow(row, true))).toContain(' end');
    expect(text(drawnRow(row, false))).not.toContain(' end'); // what blessed alone does: cuts by units
    // a row longer than the pane is cut at the border, never carried into the next row
    const [first, second] = drawnRows(`${'中'.repeat(20)}\nnext`, true);
    expect(first![29]).toBe('│');
    expect(second!.slice(1, 5).join('')).toBe('next');
  });

  it('cuts a row by cells: a wide character never half, attributes after the cut kept', () => {
    expect(clipRow('ab\x1b[1mcd\x1b[22m', 3)).toBe('ab\x1b[1mc\x1b[22m');
    expect(clipRow('a😄\x03b', 2)).toBe('a');
    expect(clipRow('a😄\x03b', 3)).toBe('a😄\x03');
    expect(clipRow('ae\u0301\u0301x', 2)).toBe('ae\u0301\u0301');
    expect(clipRow('short', 10)).toBe('short');
  });

  it('gives every code point the width our wrapping counts', () => {
    const unicode = createRequire(import.meta.url)('blessed/lib/unicode') as {
      charWidth(s: string, i?: number): number;
      combining: Record<number, boolean>;
    };
    createScreen({ input: new FakeInput(), output: new FakeOutput(), terminal: 'xterm-256color' }).destroy();
    const disagree: string[] = [];
    for (let cp = 0x20; cp <= 0x3ffff; cp++) {
      if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0x7f) continue;
      const ch = String.fromCodePoint(cp);
      const width = displayWidth(ch);
      if (unicode.charWidth(ch) !== width || (cp >= 0xa0 && (unicode.combining[cp] === true) !== (width === 0)))
        disagree.push(cp.toString(16));
    }
    expect(disagree).toEqual([]);
  });
});
